import WirecheckCore

/// In-order bytes of one TCP direction, as the reassembler releases them.
public enum StreamChunk {
    /// Contiguous bytes, valid only during the call that receives them, and the packet that
    /// completed them.
    case data(UnsafeRawBufferPointer, PacketReference)
    /// Bytes that were never seen (lost or not captured); the consumer must resynchronise.
    case gap(length: Int)
}

/// Receives what the flow table releases for the application layer: in-order TCP bytes,
/// UDP datagrams and flow ends. The engine implements it and routes to the protocol parsers.
public protocol FlowPayloadConsumer: AnyObject {
    /// In-order bytes or a gap for one direction of a TCP flow.
    func stream(_ flow: Flow, toServer: Bool, chunk: StreamChunk, timestamp: Timestamp)
    /// Receives one UDP datagram's payload.
    func datagram(_ flow: Flow, toServer: Bool, payload: UnsafeRawBufferPointer, packet: PacketReference,
                  timestamp: Timestamp)
    /// Reports that the flow ended (FIN/RST close, idle timeout, eviction or end of input).
    func flowEnded(_ flow: Flow, timestamp: Timestamp)
}
