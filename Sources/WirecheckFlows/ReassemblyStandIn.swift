import WirecheckCore

// NOTE: a stand-in for the stream reassembler built on its own branch. It delivers in-order
// bytes only, drops segments that start beyond the next expected byte and never reports
// overlaps. Delete this file when the real `StreamReassembler` is merged.

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
    /// Retransmitted bytes that differ from the bytes first seen, with the stream offset.
    public var overlapsWithDifferentData: [(PacketReference, Int)]
    /// True when the direction's buffer limit forced bytes to be released or dropped.
    public var bufferOverflow: Bool

    init(overlapsWithDifferentData: [(PacketReference, Int)] = [], bufferOverflow: Bool = false) {
        self.overlapsWithDifferentData = overlapsWithDifferentData
        self.bufferOverflow = bufferOverflow
    }
}

/// In-order-only stand-in with the reassembler's interface.
public final class StreamReassembler {
    private var nextSequence: UInt32 = 0
    public private(set) var isInitialized = false
    public private(set) var bufferedBytes = 0

    public init(limits: ReassemblyLimits, budget: ReassemblyBudget) {}

    public func setInitialSequence(_ sequence: UInt32) {
        nextSequence = sequence
        isInitialized = true
    }

    public func add(sequence: UInt32, payload: UnsafeRawBufferPointer, packet: PacketReference,
                    deliver: (StreamChunk) -> Void) -> ReassemblyObservations {
        if !isInitialized { setInitialSequence(sequence) }
        let offset = Int(Int32(bitPattern: nextSequence &- sequence))
        // Bytes before `nextSequence` were delivered already; a segment that starts later waits
        // for a gap this stand-in cannot fill, so it is dropped.
        guard offset >= 0, offset < payload.count else { return ReassemblyObservations() }
        let fresh = UnsafeRawBufferPointer(rebasing: payload[offset...])
        nextSequence = nextSequence &+ UInt32(truncatingIfNeeded: fresh.count)
        deliver(.data(fresh, packet))
        return ReassemblyObservations()
    }

    public func flush(deliver: (StreamChunk) -> Void) {}

    public func release() {}
}
