import WirecheckCore

/// Identifies the fragments of one datagram: RFC 791 uses source, destination, protocol and
/// identification; RFC 8200 uses source, destination and the 32-bit identification.
struct FragmentKey: Hashable {
    var source: IPAddress
    var destination: IPAddress
    var identification: UInt32
    /// The IPv4 protocol; 0 for IPv6, where it is not part of the key.
    var protocolNumber: UInt8
    var isIPv6: Bool
}

/// Collects IP fragments per datagram and joins them when the datagram is complete. Where
/// fragments overlap, the bytes that arrived first are kept, and differing bytes are reported.
final class FragmentReassembler {
    struct Datagram {
        var firstSeen: Timestamp
        /// Fragment payload bytes at their offsets; gaps are zero until filled.
        var data: [UInt8] = []
        /// Covered byte ranges, sorted and merged.
        var covered: [Range<Int>] = []
        /// The payload length, known once the fragment with "more fragments" clear arrived.
        var totalLength: Int?
        /// The upper-layer protocol, known once the fragment at offset 0 arrived.
        var upperProtocol: UInt8?
        var fragmentCount = 0
        /// True once an overlap with different data was reported, so an attack with many
        /// overlapping fragments raises one anomaly per datagram.
        var overlapReported = false
    }

    enum Outcome: Equatable {
        case incomplete
        /// The datagram is complete; its payload is in `output`.
        case complete(upperProtocol: UInt8, length: Int)
        /// The fragment was dropped because a limit was reached.
        case limitReached(String)
    }

    struct InsertResult {
        var outcome: Outcome
        /// True when the fragment overlapped earlier bytes of the datagram and disagreed, for the
        /// first such fragment of each datagram.
        var overlapDifferentData = false
        /// True when the fragment overlapped earlier bytes (with the same or different data).
        var overlapped = false
    }

    let limits: FragmentLimits
    private(set) var datagrams: [FragmentKey: Datagram] = [:]
    /// Payload bytes held over all datagrams in progress.
    private(set) var totalBytes = 0
    /// The last reassembled payload, valid until the next completed datagram.
    let output: UnsafeMutableRawBufferPointer

    init(limits: FragmentLimits) {
        self.limits = limits
        output = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, limits.maxDatagramBytes), alignment: 8)
    }

    deinit { output.deallocate() }

    var datagramsInProgress: Int { datagrams.count }

    /// Adds one fragment's payload. `upperProtocol` is used only from the fragment at offset 0.
    func insert(key: FragmentKey, offset: Int, payload: UnsafeRawBufferPointer, moreFragments: Bool,
                upperProtocol: UInt8, now: Timestamp) -> InsertResult {
        let end = offset + payload.count
        guard end <= limits.maxDatagramBytes else {
            if let dropped = datagrams.removeValue(forKey: key) { totalBytes -= dropped.data.count }
            return InsertResult(outcome: .limitReached("a fragment ends at byte \(end), past the \(limits.maxDatagramBytes)-byte datagram limit"))
        }
        if datagrams[key] == nil {
            if datagrams.count >= limits.maxDatagramsInProgress { expire(now: now) }
            guard datagrams.count < limits.maxDatagramsInProgress else {
                return InsertResult(outcome: .limitReached("\(datagrams.count) datagrams are already being reassembled"))
            }
            datagrams[key] = Datagram(firstSeen: now)
        }
        // Work on the datagram in place; the dictionary entry is written back below.
        guard var datagram = datagrams.removeValue(forKey: key) else { return InsertResult(outcome: .incomplete) }
        datagram.fragmentCount += 1
        guard datagram.fragmentCount <= limits.maxFragmentsPerDatagram else {
            totalBytes -= datagram.data.count
            return InsertResult(outcome: .limitReached("one datagram sent more than \(limits.maxFragmentsPerDatagram) fragments"))
        }
        if end > datagram.data.count {
            let growth = end - datagram.data.count
            guard totalBytes + growth <= limits.maxTotalBytes else {
                datagrams[key] = datagram
                return InsertResult(outcome: .limitReached("fragments in progress hold \(totalBytes) bytes, the limit is \(limits.maxTotalBytes)"))
            }
            datagram.data.append(contentsOf: repeatElement(0, count: growth))
            totalBytes += growth
        }

        var result = InsertResult(outcome: .incomplete)
        copyFirstWins(payload, at: offset, into: &datagram, result: &result)
        if result.overlapDifferentData {
            if datagram.overlapReported { result.overlapDifferentData = false }
            datagram.overlapReported = true
        }

        if !moreFragments, datagram.totalLength == nil { datagram.totalLength = end }
        if offset == 0, datagram.upperProtocol == nil { datagram.upperProtocol = upperProtocol }

        if let total = datagram.totalLength, let upper = datagram.upperProtocol,
           let first = datagram.covered.first, first.lowerBound == 0, first.upperBound >= total {
            datagram.data.withUnsafeBytes { source in
                output.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<total]))
            }
            totalBytes -= datagram.data.count
            result.outcome = .complete(upperProtocol: upper, length: total)
            return result
        }
        datagrams[key] = datagram
        return result
    }

    /// Writes the bytes of `payload` that no earlier fragment covered, and compares the rest.
    private func copyFirstWins(_ payload: UnsafeRawBufferPointer, at offset: Int, into datagram: inout Datagram,
                               result: inout InsertResult) {
        let end = offset + payload.count
        var position = offset
        for range in datagram.covered where range.upperBound > offset && range.lowerBound < end {
            if position < range.lowerBound { write(payload, from: position, to: range.lowerBound, offset: offset, into: &datagram) }
            let overlapStart = max(position, range.lowerBound), overlapEnd = min(end, range.upperBound)
            if overlapStart < overlapEnd {
                result.overlapped = true
                for index in overlapStart..<overlapEnd where datagram.data[index] != payload[index - offset] {
                    result.overlapDifferentData = true
                    break
                }
            }
            position = max(position, overlapEnd)
        }
        if position < end { write(payload, from: position, to: end, offset: offset, into: &datagram) }
        insertRange(offset..<end, into: &datagram.covered)
    }

    private func write(_ payload: UnsafeRawBufferPointer, from start: Int, to end: Int, offset: Int,
                       into datagram: inout Datagram) {
        for index in start..<end { datagram.data[index] = payload[index - offset] }
    }

    private func insertRange(_ range: Range<Int>, into covered: inout [Range<Int>]) {
        guard !range.isEmpty else { return }
        var merged = range
        var disjoint: [Range<Int>] = []
        disjoint.reserveCapacity(covered.count + 1)
        for existing in covered {
            if existing.upperBound < merged.lowerBound || existing.lowerBound > merged.upperBound {
                disjoint.append(existing)
            } else {
                merged = min(existing.lowerBound, merged.lowerBound)..<max(existing.upperBound, merged.upperBound)
            }
        }
        disjoint.append(merged)
        disjoint.sort { $0.lowerBound < $1.lowerBound }
        covered = disjoint
    }

    /// Drops datagrams whose first fragment is older than the timeout; returns how many.
    @discardableResult
    func expire(now: Timestamp) -> Int {
        let expired = datagrams.filter { now.interval(since: $0.value.firstSeen) > limits.timeoutSeconds }
        for (key, datagram) in expired {
            totalBytes -= datagram.data.count
            datagrams.removeValue(forKey: key)
        }
        return expired.count
    }
}
