// libFuzzer target: CaptureInput.openFiles on the input written to a temporary file, so the
// pcap and pcapng readers (libpcap and Wirecheck's wrapper around it) see it as a capture file.
#if canImport(Glibc)
import Glibc
#endif
import WirecheckCapture
import WirecheckCore
import WirecheckDecoding

/// One file per fuzzer process, rewritten for every input and removed when the process exits
/// normally. A crashed run leaves its file behind.
let capturePath: String = {
    atexit { unlink(capturePath) }
    return "/tmp/wirecheck-fuzz-capture-\(getpid()).pcap"
}()

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
