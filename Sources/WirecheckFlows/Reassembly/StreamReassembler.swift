import WirecheckCore

/// Puts the bytes of one TCP direction back in order.
///
/// In-order data is delivered straight from the caller's buffer without a copy. A segment that
/// starts past the next expected byte is copied and held, sorted by sequence number, and
/// delivered as soon as the hole before it fills. Bytes that repeat delivered or held bytes are
/// compared with the first copy, which wins, and a difference is reported.
///
/// A hole is given up on, and reported as a `.gap`, when:
/// - more than `gapAfterHeldSegments` segments or `gapAfterHeldBytes` bytes are held behind it;
/// - holding another segment would exceed `maxBufferedBytesPerDirection`,
///   `maxBufferedSegmentsPerDirection` or the shared budget (this also sets `bufferOverflow`
///   and counts an overrun in the budget);
/// - the caller calls `flush`, at flow end.
///
/// Sequence arithmetic wraps at 2^32: positions are compared by the signed 32-bit distance from
/// the next expected byte.
///
/// Each `.data` chunk carries the packet that carried its bytes: the current packet for its own
/// bytes, and the original packet for held bytes released by a later one.
public final class StreamReassembler {
    private struct HeldSegment {
        var sequence: UInt32
        var bytes: [UInt8]
        var packet: PacketReference
        var end: UInt32 { sequence &+ UInt32(truncatingIfNeeded: bytes.count) }
    }

    private let limits: ReassemblyLimits
    private let budget: ReassemblyBudget
    /// Sequence number of the next byte to deliver.
    private var nextSequence: UInt32 = 0
    /// Stream offset of `nextSequence`: bytes delivered plus gap lengths since initialisation.
    private var nextOffset = 0
    public private(set) var isInitialized = false
    /// Out-of-order segments, sorted by distance from `nextSequence`, never overlapping each
    /// other and all starting after `nextSequence`.
    private var held: [HeldSegment] = []
    public private(set) var bufferedBytes = 0
    private var history: DeliveredHistory
    private var deliveredPackets = DeliveredPackets()

    public init(limits: ReassemblyLimits, budget: ReassemblyBudget) {
        self.limits = limits
        self.budget = budget
        self.history = DeliveredHistory(limit: limits.deliveredHistoryBytes)
    }

    /// Sets the next expected sequence number (the SYN's sequence number plus one) and drops
    /// any state from before.
    public func setInitialSequence(_ sequence: UInt32) {
        dropHeld()
        history.reset()
        deliveredPackets.reset(keepingCapacity: true)
        nextSequence = sequence
        nextOffset = 0
        isInitialized = true
    }

    /// Adds one segment's payload and delivers every byte that became contiguous.
    ///
    /// When no initial sequence was set (the capture began mid-stream), the first segment's
    /// sequence number becomes the start of the stream.
    public func add(sequence: UInt32, payload: UnsafeRawBufferPointer, packet: PacketReference,
                    deliver: (StreamChunk) -> Void) -> ReassemblyObservations {
        var observations = ReassemblyObservations()
        guard payload.count > 0 else { return observations }
        if !isInitialized {
            setInitialSequence(sequence)
        }

        // Trim bytes that were already delivered, after comparing them with what was delivered.
        var sequence = sequence
        var payload = payload
        let distance = signedDistance(sequence)
        if distance < 0 {
            let repeated = min(payload.count, -distance)
            compareWithDelivered(sequence: sequence, bytes: UnsafeRawBufferPointer(rebasing: payload[0..<repeated]),
                                 packet: packet, observations: &observations)
            payload = UnsafeRawBufferPointer(rebasing: payload[repeated...])
            sequence = sequence &+ UInt32(truncatingIfNeeded: repeated)
            if payload.isEmpty { return observations }
        }

        if sequence == nextSequence {
            deliverInOrder(payload, packet: packet, deliver: deliver, observations: &observations)
        } else {
            hold(sequence: sequence, payload: payload, packet: packet, deliver: deliver, observations: &observations)
        }
        return observations
    }

    /// Releases everything held: each missing range is reported as a `.gap` before the bytes
    /// that follow it.
    public func flush(deliver: (StreamChunk) -> Void) {
        var observations = ReassemblyObservations()
        flushHeld(before: nil, deliver: deliver, observations: &observations)
    }

    /// Releases held data that the peer has already acknowledged. An acknowledgement past a
    /// hole proves the receiver got the missing bytes and only the capture lost them. Waiting
    /// for them would only delay what follows, so the hole is reported as a `.gap` at once.
    public func acknowledged(_ acknowledgement: UInt32, deliver: (StreamChunk) -> Void) {
        guard !held.isEmpty, signedDistance(acknowledgement) > 0 else { return }
        var observations = ReassemblyObservations()
        flushHeld(before: acknowledgement, deliver: deliver, observations: &observations)
    }

    /// Gives held bytes back to the budget and frees the history, at flow end. Held bytes are
    /// dropped, so call `flush` first to deliver them.
    public func release() {
        dropHeld()
        budget.giveBackHistory(history.capacity)
        history.release()
        deliveredPackets.reset(keepingCapacity: false)
    }

    /// Frees the delivered history once the connection is closed. Held bytes stay, so a late
    /// segment can still fill a hole. A retransmission after the close is no longer compared
    /// with what was delivered, because both peers have closed the stream.
    public func releaseHistory() {
        guard history.capacity > 0 else { return }
        budget.giveBackHistory(history.capacity)
        history.release()
        deliveredPackets.reset(keepingCapacity: false)
    }

    // MARK: - Delivery

    /// Delivers `payload`, which starts at `nextSequence`, then every held segment that became
    /// contiguous. Where a held segment overlaps the payload, the held bytes arrived first and win.
    private func deliverInOrder(_ payload: UnsafeRawBufferPointer, packet: PacketReference,
                                deliver: (StreamChunk) -> Void, observations: inout ReassemblyObservations) {
        var remaining = payload
        while !remaining.isEmpty {
            guard let first = held.first, signedDistance(first.sequence) < remaining.count else {
                emit(remaining, packet: packet, deliver: deliver)
                break
            }
            let before = max(0, signedDistance(first.sequence))
            if before > 0 {
                emit(UnsafeRawBufferPointer(rebasing: remaining[0..<before]), packet: packet, deliver: deliver)
            }
            let overlap = min(remaining.count - before, first.bytes.count)
            compareHeld(first, with: UnsafeRawBufferPointer(rebasing: remaining[before..<(before + overlap)]),
                        packet: packet, observations: &observations)
            remaining = UnsafeRawBufferPointer(rebasing: remaining[(before + overlap)...])
            deliverFirstHeld(deliver: deliver, observations: &observations)
        }
        deliverContiguousHeld(deliver: deliver, observations: &observations)
    }

    /// Delivers held segments while the first one starts at (or before) the next expected byte.
    private func deliverContiguousHeld(deliver: (StreamChunk) -> Void, observations: inout ReassemblyObservations) {
        while let first = held.first, signedDistance(first.sequence) <= 0 {
            deliverFirstHeld(deliver: deliver, observations: &observations)
        }
    }

    /// Removes the first held segment and delivers the part of it past `nextSequence`. A part
    /// before `nextSequence` is compared with the delivered history instead.
    private func deliverFirstHeld(deliver: (StreamChunk) -> Void, observations: inout ReassemblyObservations) {
        let segment = held.removeFirst()
        bufferedBytes -= segment.bytes.count
        budget.giveBack(segment.bytes.count)
        let distance = signedDistance(segment.sequence)
        segment.bytes.withUnsafeBytes { bytes in
            if distance < 0 {
                let repeated = min(bytes.count, -distance)
                compareWithDelivered(sequence: segment.sequence,
                                     bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<repeated]),
                                     packet: segment.packet, observations: &observations)
                if repeated < bytes.count {
                    emit(UnsafeRawBufferPointer(rebasing: bytes[repeated...]), packet: segment.packet, deliver: deliver)
                }
            } else {
                // Only `flushHeld` calls this with a hole before the segment, and it reports the gap first.
                emit(bytes, packet: segment.packet, deliver: deliver)
            }
        }
    }

    /// Hands contiguous bytes to the consumer and advances the stream position.
    private func emit(_ bytes: UnsafeRawBufferPointer, packet: PacketReference, deliver: (StreamChunk) -> Void) {
        guard !bytes.isEmpty else { return }
        let neededCapacity = history.requiredCapacity(adding: bytes.count)
        if neededCapacity > history.capacity && budget.reserveHistory(neededCapacity - history.capacity) {
            history.grow(to: neededCapacity)
        }
        history.append(bytes)
        deliveredPackets.record(start: nextOffset, packet: packet)
        nextSequence = nextSequence &+ UInt32(truncatingIfNeeded: bytes.count)
        nextOffset += bytes.count
        deliver(.data(bytes, packet))
    }

    /// Reports the bytes up to `sequence` as missing and moves past them.
    private func emitGap(upTo sequence: UInt32, deliver: (StreamChunk) -> Void) {
        let length = signedDistance(sequence)
        guard length > 0 else { return }
        history.reset()
        nextSequence = sequence
        nextOffset += length
        deliver(.gap(length: length))
    }

    /// Delivers held segments that start before `limit` (all of them when nil), with a gap for
    /// each hole.
    private func flushHeld(before limit: UInt32?, deliver: (StreamChunk) -> Void,
                           observations: inout ReassemblyObservations) {
        while let first = held.first {
            if let limit, signedDistance(first.sequence) >= signedDistance(limit) { break }
            emitGap(upTo: first.sequence, deliver: deliver)
            deliverFirstHeld(deliver: deliver, observations: &observations)
            deliverContiguousHeld(deliver: deliver, observations: &observations)
        }
    }

    private func dropHeld() {
        budget.giveBack(bufferedBytes)
        held.removeAll()
        bufferedBytes = 0
    }

    // MARK: - Holding

    /// Copies a segment that starts past `nextSequence`, keeping only the bytes no held segment
    /// already covers, then applies the gap and limit rules.
    private func hold(sequence: UInt32, payload: UnsafeRawBufferPointer, packet: PacketReference,
                      deliver: (StreamChunk) -> Void, observations: inout ReassemblyObservations) {
        // Cut the segment into the pieces that fall between held segments.
        var pieces: [(offset: Int, count: Int)] = []
        let start = signedDistance(sequence)
        let end = start + payload.count
        var cursor = start
        var insertAt = 0
        for (index, segment) in held.enumerated() {
            let segmentStart = signedDistance(segment.sequence)
            let segmentEnd = segmentStart + segment.bytes.count
            if segmentEnd <= cursor { insertAt = index + 1; continue }
            if segmentStart >= end { break }
            if segmentStart > cursor {
                pieces.append((cursor - start, segmentStart - cursor))
            }
            let overlapStart = max(cursor, segmentStart)
            let overlapEnd = min(end, segmentEnd)
            let newBytes = UnsafeRawBufferPointer(rebasing: payload[(overlapStart - start)..<(overlapEnd - start)])
            compareHeld(segment, with: newBytes, at: overlapStart - segmentStart, packet: packet,
                        observations: &observations)
            cursor = overlapEnd
            insertAt = index + 1
        }
        if cursor < end {
            pieces.append((cursor - start, end - cursor))
        }
        let newBytes = pieces.reduce(0) { $0 + $1.count }
        guard newBytes > 0 else { return }

        let fitsDirection = bufferedBytes + newBytes <= limits.maxBufferedBytesPerDirection
            && held.count + pieces.count <= limits.maxBufferedSegmentsPerDirection
        if !fitsDirection || !budget.reserve(newBytes) {
            resolveOverflow(sequence: sequence, payload: payload, packet: packet, deliver: deliver,
                            observations: &observations)
            return
        }

        insertPieces(pieces, of: payload, startingAt: sequence, packet: packet, near: insertAt)
        bufferedBytes += newBytes
        if held.count > limits.gapAfterHeldSegments || bufferedBytes > limits.gapAfterHeldBytes {
            flushHeld(before: nil, deliver: deliver, observations: &observations)
        }
    }

    private func insertPieces(_ pieces: [(offset: Int, count: Int)], of payload: UnsafeRawBufferPointer,
                              startingAt sequence: UInt32, packet: PacketReference, near hint: Int) {
        for piece in pieces {
            let pieceSequence = sequence &+ UInt32(truncatingIfNeeded: piece.offset)
            let bytes = [UInt8](UnsafeRawBufferPointer(rebasing: payload[piece.offset..<(piece.offset + piece.count)]))
            let distance = signedDistance(pieceSequence)
            var index = min(hint, held.count)
            while index > 0 && signedDistance(held[index - 1].sequence) > distance { index -= 1 }
            while index < held.count && signedDistance(held[index].sequence) < distance { index += 1 }
            held.insert(HeldSegment(sequence: pieceSequence, bytes: bytes, packet: packet), at: index)
        }
    }

    /// Releases held data when a segment does not fit: held segments before it are delivered
    /// with their gaps, then the segment itself straight from the caller's buffer, so memory use
    /// never grows past the limits. Held segments after it stay held.
    private func resolveOverflow(sequence: UInt32, payload: UnsafeRawBufferPointer, packet: PacketReference,
                                 deliver: (StreamChunk) -> Void, observations: inout ReassemblyObservations) {
        observations.bufferOverflow = true
        budget.recordOverrun()
        flushHeld(before: sequence, deliver: deliver, observations: &observations)

        var sequence = sequence
        var payload = payload
        let distance = signedDistance(sequence)
        if distance < 0 {
            // The last flushed segment reached into this one, and its bytes were delivered first.
            let repeated = min(payload.count, -distance)
            compareWithDelivered(sequence: sequence, bytes: UnsafeRawBufferPointer(rebasing: payload[0..<repeated]),
                                 packet: packet, observations: &observations)
            payload = UnsafeRawBufferPointer(rebasing: payload[repeated...])
            sequence = sequence &+ UInt32(truncatingIfNeeded: repeated)
        }
        guard !payload.isEmpty else { return }
        emitGap(upTo: sequence, deliver: deliver)
        deliverInOrder(payload, packet: packet, deliver: deliver, observations: &observations)
    }

    // MARK: - Overlap checks

    /// Compares bytes before `nextSequence` with the delivered history and records the first
    /// difference. Bytes older than the history, or from before a gap, are not checked.
    private func compareWithDelivered(sequence: UInt32, bytes: UnsafeRawBufferPointer, packet: PacketReference,
                                      observations: inout ReassemblyObservations) {
        let start = signedDistance(sequence)
        // Skip straight to the bytes the history still contains.
        let firstKept = max(0, -start - history.count)
        var index = firstKept
        while index < bytes.count {
            let position = start + index
            guard position < 0, let delivered = history.byte(before: -position) else { break }
            if delivered != bytes[index] {
                let offset = nextOffset + position
                record(packet: packet, offset: offset, firstCopy: deliveredPackets.packet(at: offset),
                       in: &observations)
                return
            }
            index += 1
        }
    }

    /// Compares a later copy of bytes with a held segment, starting `offset` bytes into it, and
    /// records the first difference.
    private func compareHeld(_ segment: HeldSegment, with bytes: UnsafeRawBufferPointer, at offset: Int = 0,
                             packet: PacketReference, observations: inout ReassemblyObservations) {
        for index in 0..<bytes.count where offset + index < segment.bytes.count {
            if segment.bytes[offset + index] != bytes[index] {
                let position = signedDistance(segment.sequence) + offset + index
                record(packet: packet, offset: nextOffset + position, firstCopy: segment.packet, in: &observations)
                return
            }
        }
    }

    /// Records one differing overlap per packet, so a segment that overlaps several held
    /// segments is reported once, at its first differing byte. `firstCopy` is the packet that
    /// carried the bytes first, when it is still known.
    private func record(packet: PacketReference, offset: Int, firstCopy: PacketReference?,
                        in observations: inout ReassemblyObservations) {
        guard !observations.overlapsWithDifferentData.contains(where: { $0.0 == packet }) else { return }
        observations.overlapsWithDifferentData.append((packet, offset))
        if let firstCopy, firstCopy != packet {
            observations.firstCopies.append((later: packet, first: firstCopy))
        }
    }

    /// Signed distance from the next expected byte to `sequence`, correct across the 2^32 wrap
    /// for distances under 2^31.
    private func signedDistance(_ sequence: UInt32) -> Int {
        Int(Int32(bitPattern: sequence &- nextSequence))
    }
}
