import WirecheckCore

/// Memory limits for one direction of one TCP stream.
public struct ReassemblyLimits: Sendable {
    /// Out-of-order bytes held before the reassembler gives up on the hole and reports a gap,
    /// so a lost segment cannot make one flow hold memory without bound.
    public var maxBufferedBytesPerDirection: Int
    /// Out-of-order segments held before the same resolution, bounding the per-segment overhead
    /// when a peer sends many tiny segments past a hole.
    public var maxBufferedSegmentsPerDirection: Int
    /// A hole that stays open while more than this many segments are held is treated as lost:
    /// the reassembler reports a gap and releases what it holds. Reordering usually spans a few
    /// segments (an estimate, not measured here). A retransmission of the missing bytes that
    /// arrives after the gap is dropped unchecked.
    public var gapAfterHeldSegments: Int
    /// The same rule for held bytes. It is larger than one loopback segment (up to 64 KiB), so a
    /// single reordered segment of a loopback capture does not force a gap.
    public var gapAfterHeldBytes: Int
    /// Most recently delivered bytes kept per direction to compare retransmissions with, so an
    /// overlap with different data is found. Allocated on the first delivery and grown on demand
    /// while the shared budget allows it.
    public var deliveredHistoryBytes: Int

    public init(maxBufferedBytesPerDirection: Int = 1 << 20, maxBufferedSegmentsPerDirection: Int = 1024,
                gapAfterHeldSegments: Int = 16, gapAfterHeldBytes: Int = 256 << 10,
                deliveredHistoryBytes: Int = 64 << 10) {
        self.maxBufferedBytesPerDirection = max(0, maxBufferedBytesPerDirection)
        self.maxBufferedSegmentsPerDirection = max(0, maxBufferedSegmentsPerDirection)
        self.gapAfterHeldSegments = max(0, gapAfterHeldSegments)
        self.gapAfterHeldBytes = max(0, gapAfterHeldBytes)
        self.deliveredHistoryBytes = max(0, deliveredHistoryBytes)
    }
}

/// The memory that all reassemblers of a run may use together: held out-of-order bytes and the
/// delivered-byte histories. One instance is shared by every flow, and it is not thread-safe,
/// like the flow table that owns it.
public final class ReassemblyBudget {
    public let maxTotalBytes: Int
    /// Bytes currently used by all reassemblers that share this budget, histories included.
    public private(set) var usedBytes: Int = 0
    /// The part of `usedBytes` taken by delivered-byte histories. Histories may grow only while
    /// the budget is less than half used, so out-of-order data always has room.
    public private(set) var historyBytes: Int = 0
    /// Times a reassembler had to release held data early because a per-direction limit or this
    /// budget was exhausted.
    public private(set) var overruns: Int = 0

    public init(maxTotalBytes: Int = 256 << 20) {
        self.maxTotalBytes = max(0, maxTotalBytes)
    }

    /// Takes `count` bytes from the budget, or returns false and takes nothing when they do not fit.
    func reserve(_ count: Int) -> Bool {
        guard count <= maxTotalBytes - usedBytes else { return false }
        usedBytes += count
        return true
    }

    func giveBack(_ count: Int) {
        usedBytes = max(0, usedBytes - count)
    }

    /// Takes `count` bytes for a history, or returns false when the budget is half used.
    func reserveHistory(_ count: Int) -> Bool {
        guard count <= maxTotalBytes / 2 - usedBytes else { return false }
        usedBytes += count
        historyBytes += count
        return true
    }

    func giveBackHistory(_ count: Int) {
        usedBytes = max(0, usedBytes - count)
        historyBytes = max(0, historyBytes - count)
    }

    func recordOverrun() {
        overruns += 1
    }
}

/// Findings of one `add` call besides the bytes it delivered.
public struct ReassemblyObservations {
    /// Segments that repeated stream bytes with different contents: the later packet and the
    /// stream offset (bytes from the first byte after the SYN) of the first byte that differs.
    /// The first copy is what was, or will be, delivered.
    public var overlapsWithDifferentData: [(PacketReference, Int)]
    /// For entries of `overlapsWithDifferentData`, the packet that carried the first copy of
    /// the differing bytes, when the reassembler still remembers it.
    public var firstCopies: [(later: PacketReference, first: PacketReference)]
    /// True when held data had to be released early because a per-direction limit or the shared
    /// budget was exhausted, so the consumer saw a gap.
    public var bufferOverflow: Bool

    public init() {
        overlapsWithDifferentData = []
        firstCopies = []
        bufferOverflow = false
    }
}
