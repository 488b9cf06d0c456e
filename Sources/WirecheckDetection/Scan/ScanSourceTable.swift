import WirecheckCore

/// One probed service: host, port and transport protocol.
struct ScanTarget: Hashable {
    var host: IPAddress
    var port: UInt16
    var ipProtocol: UInt8
}

/// The outcome of one connection attempt so far.
enum AttemptOutcome {
    /// No reply from the target yet.
    case pending
    /// The target sent a SYN-ACK, but the source has not completed the handshake.
    case halfOpen
    /// The handshake completed, or the UDP service replied.
    case established
    /// The target sent a RST, or an ICMP destination unreachable came back.
    case rejected
}

struct ScanAttempt {
    var firstSeen: Timestamp
    var packet: PacketReference
    var outcome: AttemptOutcome
}

/// The attempts of one source inside the window, in the order the source first probed them.
final class ScanSource {
    let address: IPAddress
    var lastSeen: Timestamp
    var attempts: [ScanTarget: ScanAttempt] = [:]
    /// Targets in first-probe order; entries before `orderHead` were already removed.
    var order: [ScanTarget] = []
    var orderHead = 0
    /// Attempts that became half-open and did not change since. Removing an attempt does not
    /// lower it, so it can only overcount, which costs a lookup and never misses a handshake.
    var halfOpenAttempts = 0
    var alertedHorizontal = false
    var alertedVertical = false
    /// Set when an attempt was added or changed since the last evaluation.
    var changed = false
    // Links of the least-recently-seen list, as slot numbers (-1 for none).
    var newer = -1
    var older = -1

    init(address: IPAddress, lastSeen: Timestamp) {
        self.address = address
        self.lastSeen = lastSeen
    }

    /// Removes the oldest target and returns it, or nil when there is none.
    @discardableResult
    func removeOldest() -> ScanTarget? {
        while orderHead < order.count {
            let target = order[orderHead]
            orderHead += 1
            if attempts.removeValue(forKey: target) != nil {
                compactOrderIfNeeded()
                return target
            }
        }
        return nil
    }

    /// Removes targets first probed before `cutoff`.
    func removeAttempts(before cutoff: Timestamp) {
        while orderHead < order.count {
            let target = order[orderHead]
            if let attempt = attempts[target], attempt.firstSeen >= cutoff { break }
            attempts.removeValue(forKey: target)
            orderHead += 1
        }
        compactOrderIfNeeded()
        if attempts.isEmpty {
            // A source that stayed quiet for a whole window starts a new scan episode.
            alertedHorizontal = false
            alertedVertical = false
        }
    }

    /// Drops removed entries from the front of `order` once they are the larger part, so the
    /// array contains at most twice the live targets plus 64 removed entries.
    private func compactOrderIfNeeded() {
        if orderHead == order.count {
            order.removeAll(keepingCapacity: true)
            orderHead = 0
        } else if orderHead > 64 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }
}

/// Sources indexed by address, with a least-recently-seen list over integer slots so lookups
/// and touches of a known source do not allocate.
struct ScanSourceTable {
    private(set) var slots: [ScanSource?] = []
    private var slotByAddress: [IPAddress: Int] = [:]
    private var freeSlots: [Int] = []
    /// Most and least recently seen slots (-1 when empty).
    private var newest = -1
    private var oldest = -1

    var count: Int { slotByAddress.count }

    func source(for address: IPAddress) -> ScanSource? {
        guard let slot = slotByAddress[address] else { return nil }
        return slots[slot]
    }

    /// Returns the source for `address`, creating it when needed, and marks it most recently
    /// seen. The evicted source, if the table was full, is returned too.
    mutating func touch(_ address: IPAddress, at time: Timestamp, capacity: Int) -> (ScanSource, evicted: ScanSource?) {
        if let slot = slotByAddress[address], let source = slots[slot] {
            source.lastSeen = time
            unlink(slot)
            linkAsNewest(slot)
            return (source, nil)
        }

        var evicted: ScanSource?
        if slotByAddress.count >= capacity, oldest >= 0, let victim = slots[oldest] {
            evicted = victim
            remove(victim.address)
        }
        let source = ScanSource(address: address, lastSeen: time)
        let slot: Int
        if let reused = freeSlots.popLast() {
            slot = reused
            slots[slot] = source
        } else {
            slot = slots.count
            slots.append(source)
        }
        slotByAddress[address] = slot
        linkAsNewest(slot)
        return (source, evicted)
    }

    mutating func remove(_ address: IPAddress) {
        guard let slot = slotByAddress.removeValue(forKey: address) else { return }
        unlink(slot)
        slots[slot] = nil
        freeSlots.append(slot)
    }

    private mutating func unlink(_ slot: Int) {
        guard let source = slots[slot] else { return }
        if source.newer >= 0 { slots[source.newer]?.older = source.older } else { newest = source.older }
        if source.older >= 0 { slots[source.older]?.newer = source.newer } else { oldest = source.newer }
        source.newer = -1
        source.older = -1
    }

    private mutating func linkAsNewest(_ slot: Int) {
        guard let source = slots[slot] else { return }
        source.older = newest
        source.newer = -1
        if newest >= 0 { slots[newest]?.newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }
}
