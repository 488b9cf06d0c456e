// libFuzzer target: CaptureInput.openFiles on the input written to a temporary file, so the
// pcap and pcapng readers (libpcap and Wirecheck's wrapper around it) see it as a capture file.
#if canImport(Glibc)
import Glibc
#endif
import WirecheckCapture
import WirecheckCore
import WirecheckDecoding

let capturePath = temporaryInputPath(kind: "capture", suffix: ".pcap")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    writeInput(start, count, to: capturePath, kind: "capture")

    let sources = CaptureSourceTable()
    guard let capture = try? CaptureInput.openFiles([capturePath], options: CaptureOptions(), sources: sources) else {
        return 0
    }
    let decoder = PacketDecoder(sink: SerializingSink())
    var decoded = DecodedPacket()
    capture.run { packet in
        if decoder.decode(packet, into: &decoded) {
            _ = decoder.payload(of: decoded, packet: packet)
        }
    }
    _ = capture.statistics
    return 0
}
