import WirecheckCore

// NOTE: a stand-in for the stream reassembler built on its own branch. It delivers in-order
// bytes only, drops segments that start beyond the next expected byte and compares
// retransmissions with the last delivered segment only. Delete this file when the real
// `StreamReassembler` is merged.

/// Per-direction buffering limits for one TCP stream.
public struct ReassemblyLimits {
    public var maxBufferedBytesPerDirection: Int
    public var maxBufferedSegmentsPerDirection: Int

    public init(maxBufferedBytesPerDirection: Int = 1 << 20, maxBufferedSegmentsPerDirection: Int = 1024) {
        self.maxBufferedBytesPerDirection = maxBufferedBytesPerDirection
        self.maxBufferedSegmentsPerDirection = maxBufferedSegmentsPerDirection
    }
}

/// Memory shared by every flow's reassembler.
public final class ReassemblyBudget {
    public let maxTotalBytes: Int

    public init(maxTotalBytes: Int) {
        self.maxTotalBytes = maxTotalBytes
    }
}

/// Findings of one `add` call about the stream.
public struct ReassemblyObservations {
    /// Segments that repeated stream bytes with different contents: the later packet and the
    /// stream offset of the first byte that differs.
    public var overlapsWithDifferentData: [(PacketReference, Int)]
    /// True when the direction's buffer limit forced bytes to be released or dropped.
    public var bufferOverflow: Bool

    public init() {
        overlapsWithDifferentData = []
        bufferOverflow = false
    }
}

/// In-order-only stand-in with the reassembler's interface.
public final class StreamReassembler {
    private var nextSequence: UInt32 = 0
    private var initialSequence: UInt32 = 0
    /// Copy of the last delivered segment, to compare a retransmission of it with.
    private var lastDelivered: [UInt8] = []
    private var lastDeliveredStart: UInt32 = 0
    public private(set) var isInitialized = false
    public private(set) var bufferedBytes = 0

    public init(limits: ReassemblyLimits, budget: ReassemblyBudget) {}

    public func setInitialSequence(_ sequence: UInt32) {
        nextSequence = sequence
        initialSequence = sequence
        isInitialized = true
    }

    public func add(sequence: UInt32, payload: UnsafeRawBufferPointer, packet: PacketReference,
                    deliver: (StreamChunk) -> Void) -> ReassemblyObservations {
        if !isInitialized { setInitialSequence(sequence) }
        var observations = ReassemblyObservations()
        let startInLast = Int(Int32(bitPattern: sequence &- lastDeliveredStart))
        if startInLast >= 0 {
            var index = 0
            while startInLast + index < lastDelivered.count && index < payload.count {
                if lastDelivered[startInLast + index] != payload[index] {
                    let offset = Int(Int32(bitPattern: sequence &- initialSequence)) + index
                    observations.overlapsWithDifferentData.append((packet, offset))
                    break
                }
                index += 1
            }
        }

        let offset = Int(Int32(bitPattern: nextSequence &- sequence))
        // Bytes before `nextSequence` were delivered already; a segment that starts later waits
        // for a gap this stand-in cannot fill, so it is dropped.
        guard offset >= 0, offset < payload.count else { return observations }
        let fresh = UnsafeRawBufferPointer(rebasing: payload[offset...])
        lastDeliveredStart = nextSequence
        lastDelivered = Array(fresh)
        nextSequence = nextSequence &+ UInt32(truncatingIfNeeded: fresh.count)
        deliver(.data(fresh, packet))
        return observations
    }

    public func flush(deliver: (StreamChunk) -> Void) {}

    public func release() {}
}
