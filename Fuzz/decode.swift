// libFuzzer target: PacketDecoder on one frame of any link type.
//
// Input: link type selector (1 byte, index into fuzzLinkTypes), bytes cut by the snapshot
// length (1 byte, added to the original length), then the frame.
import WirecheckCore
import WirecheckDecoding

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    guard let selector = input.readByte(), let cut = input.readByte() else { return 0 }
    let frame = input.readRest()

    let decoder = PacketDecoder(sink: SerializingSink())
    let packet = CapturedPacket(timestamp: Timestamp(seconds: 1_700_000_000, nanoseconds: 0),
                                linkType: fuzzLinkType(selector), bytes: frame,
                                originalLength: frame.count + Int(cut), reference: PacketReference(source: 0, number: 1))
    var decoded = DecodedPacket()
    if decoder.decode(packet, into: &decoded) {
        let payload = decoder.payload(of: decoded, packet: packet)
        // Touch both ends so a payload view outside the frame shows up under the sanitizer.
        if let first = payload.first, let last = payload.last, first == last { decoded.ttl &+= 1 }
    }
    return 0
}
