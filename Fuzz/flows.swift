// libFuzzer target: PacketDecoder, FlowTable and ApplicationLayer with every registered protocol,
// fed a stream of frames.
//
// Input: link type selector (1 byte, index into fuzzLinkTypes), then records of
//   time step  1 byte   the clock advances by step * step * 10 ms, so flows can time out
//   length     2 bytes  big-endian
//   frame      `length` bytes, fewer when the input ends early
import WirecheckCore
import WirecheckDecoding
import WirecheckFlows
import WirecheckProtocols

/// Routes released payload to the application layer, as the engine does.
final class ApplicationRouter: FlowPayloadConsumer {
    let layer: ApplicationLayer

    init(layer: ApplicationLayer) { self.layer = layer }

    func stream(_ flow: Flow, toServer: Bool, chunk: StreamChunk, timestamp: Timestamp) {
        layer.stream(flow, direction: toServer ? .toServer : .toClient, chunk: chunk, timestamp: timestamp)
    }

    func datagram(_ flow: Flow, toServer: Bool, payload: UnsafeRawBufferPointer, packet: PacketReference,
                  timestamp: Timestamp) {
        layer.datagram(flow, direction: toServer ? .toServer : .toClient, payload: payload, packet: packet,
                       timestamp: timestamp)
    }

    func flowEnded(_ flow: Flow, timestamp: Timestamp) {
        layer.flowEnded(flow, timestamp: timestamp)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    guard let selector = input.readByte() else { return 0 }
    let linkType = fuzzLinkType(selector)

    let sink = SerializingSink()
    let decoder = PacketDecoder(sink: sink)
    let router = ApplicationRouter(layer: ApplicationLayer(sink: sink))
    var configuration = FlowConfiguration()
    // A small table and budget, so eviction and reassembly overruns are reachable from short inputs.
    configuration.maxFlows = 8
    configuration.reassemblyMaxTotalBytes = 64 << 10
    configuration.reassemblyLimits = ReassemblyLimits(maxBufferedBytesPerDirection: 4096, maxBufferedSegmentsPerDirection: 8,
                                                      gapAfterHeldSegments: 4, gapAfterHeldBytes: 2048,
                                                      deliveredHistoryBytes: 1024)
    let table = FlowTable(configuration: configuration, sink: sink, consumer: router)

    var nanoseconds: Int64 = 1_700_000_000 * 1_000_000_000
    var number: UInt64 = 1
    var decoded = DecodedPacket()
    while let step = input.readByte(), let length = input.readUInt16() {
        let frame = input.readBytes(upTo: Int(length))
        nanoseconds += Int64(step) * Int64(step) * 10_000_000
        let timestamp = Timestamp(nanoseconds: nanoseconds)
        let packet = CapturedPacket(timestamp: timestamp, linkType: linkType, bytes: frame, originalLength: frame.count,
                                    reference: PacketReference(source: 0, number: number))
        number += 1
        decoder.expireFragments(now: timestamp)
        if decoder.decode(packet, into: &decoded) {
            _ = table.process(decoded, payload: decoder.payload(of: decoded, packet: packet))
        }
    }
    table.finish(at: Timestamp(nanoseconds: nanoseconds))
    return 0
}
