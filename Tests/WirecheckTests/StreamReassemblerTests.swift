import Testing
import WirecheckCore
@testable import WirecheckFlows

/// Records what a reassembler delivers: data chunks with their packets, and gaps.
private final class DeliveryLog {
    enum Item: Equatable {
        case data([UInt8], UInt64)
        case gap(Int)
    }

    var items: [Item] = []

    func receive(_ chunk: StreamChunk) {
        switch chunk {
        case .data(let bytes, let packet): items.append(.data([UInt8](bytes), packet.number))
        case .gap(let length): items.append(.gap(length))
        }
    }

    /// All delivered bytes, with each gap written as that many 0x00 bytes.
    var stream: [UInt8] {
        items.flatMap { item -> [UInt8] in
            switch item {
            case .data(let bytes, _): return bytes
            case .gap(let length): return [UInt8](repeating: 0, count: length)
            }
        }
    }

    var gaps: [Int] {
        items.compactMap { if case .gap(let length) = $0 { return length } else { return nil } }
    }
}

private func packet(_ number: UInt64) -> PacketReference {
    PacketReference(source: 0, number: number)
}

/// Feeds one segment to the reassembler.
@discardableResult
private func add(_ reassembler: StreamReassembler, _ sequence: UInt32, _ bytes: [UInt8], packet number: UInt64,
                 to log: DeliveryLog) -> ReassemblyObservations {
    bytes.withUnsafeBytes { buffer in
        reassembler.add(sequence: sequence, payload: buffer, packet: packet(number), deliver: log.receive)
    }
}

private func makeReassembler(limits: ReassemblyLimits = .init(), budget: ReassemblyBudget = .init(),
                             initialSequence: UInt32 = 1000) -> StreamReassembler {
    let reassembler = StreamReassembler(limits: limits, budget: budget)
    reassembler.setInitialSequence(initialSequence)
    return reassembler
}

/// A Modbus/TCP read holding registers request (transaction 1, unit 1, address 0, 10 registers).
private let modbusRequest: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A]

@Suite struct StreamReassemblerTests {
    @Test func inOrderDeliveredDirectly() {
        let log = DeliveryLog()
        let reassembler = makeReassembler()
        let first = add(reassembler, 1000, [1, 2, 3], packet: 1, to: log)
        add(reassembler, 1003, [4, 5], packet: 2, to: log)
        #expect(log.items == [.data([1, 2, 3], 1), .data([4, 5], 2)])
        #expect(reassembler.bufferedBytes == 0)
        #expect(first.overlapsWithDifferentData.isEmpty)
        #expect(first.bufferOverflow == false)
    }

    @Test func messageSplitAcrossThreeSegments() {
        let whole = DeliveryLog()
        add(makeReassembler(), 1000, modbusRequest, packet: 1, to: whole)

        let split = DeliveryLog()
        let reassembler = makeReassembler()
        add(reassembler, 1000, Array(modbusRequest[0..<5]), packet: 1, to: split)
        add(reassembler, 1005, Array(modbusRequest[5..<7]), packet: 2, to: split)
        add(reassembler, 1007, Array(modbusRequest[7...]), packet: 3, to: split)
        #expect(split.stream == whole.stream)
        #expect(split.stream == modbusRequest)
        #expect(split.gaps.isEmpty)
    }

    @Test func severalMessagesInOneSegment() {
        let log = DeliveryLog()
        let reassembler = makeReassembler()
        add(reassembler, 1000, modbusRequest + modbusRequest + modbusRequest, packet: 1, to: log)
        #expect(log.items.count == 1)
        #expect(log.stream == modbusRequest + modbusRequest + modbusRequest)
    }

    @Test func outOfOrderHeldThenReleased() {
        let log = DeliveryLog()
        let reassembler = makeReassembler()
        add(reassembler, 1005, [6, 7, 8], packet: 2, to: log)
        add(reassembler, 1008, [9, 10], packet: 3, to: log)
        #expect(log.items.isEmpty)
        #expect(reassembler.bufferedBytes == 5)

        add(reassembler, 1000, [1, 2, 3, 4, 5], packet: 1, to: log)
        #expect(log.stream == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        #expect(log.items.first == .data([1, 2, 3, 4, 5], 1))
        #expect(log.items.last == .data([9, 10], 3))
        #expect(reassembler.bufferedBytes == 0)
    }

    @Test func duplicatesIgnored() {
        let log = DeliveryLog()
        let reassembler = makeReassembler()
        add(reassembler, 1000, [1, 2, 3], packet: 1, to: log)
        let delivered = add(reassembler, 1000, [1, 2, 3], packet: 2, to: log)
        add(reassembler, 1010, [11, 12], packet: 3, to: log)
        let held = add(reassembler, 1010, [11, 12], packet: 4, to: log)
        #expect(log.stream == [1, 2, 3])
        #expect(delivered.overlapsWithDifferentData.isEmpty)
        #expect(held.overlapsWithDifferentData.isEmpty)
        #expect(reassembler.bufferedBytes == 2)
    }

    @Test func exactOverlapDifferentDataReported() {
        let log = DeliveryLog()
        let reassembler = makeReassembler()
        add(reassembler, 1000, [1, 2, 3, 4], packet: 1, to: log)
        let observations = add(reassembler, 1000, [1, 2, 9, 4], packet: 2, to: log)
        #expect(observations.overlapsWithDifferentData.count == 1)
        #expect(observations.overlapsWithDifferentData.first?.0 == packet(2))
        #expect(observations.overlapsWithDifferentData.first?.1 == 2)
        // The first copy wins.
        #expect(log.stream == [1, 2, 3, 4])
    }

    @Test func partialOverlapReportedAndNewBytesDelivered() {
        let log = DeliveryLog()
        let reassembler = makeReassembler()
        add(reassembler, 1000, [1, 2, 3, 4], packet: 1, to: log)
        let observations = add(reassembler, 1002, [3, 7, 5, 6], packet: 2, to: log)
        #expect(observations.overlapsWithDifferentData.count == 1)
        #expect(observations.overlapsWithDifferentData.first?.1 == 3)
        #expect(log.stream == [1, 2, 3, 4, 5, 6])
    }

    @Test func overlapOfHeldSegmentsReported() {
        let log = DeliveryLog()
        let reassembler = makeReassembler()
        add(reassembler, 1004, [5, 6, 7], packet: 2, to: log)
        let held = add(reassembler, 1005, [0xEE, 7, 8], packet: 3, to: log)
        #expect(held.overlapsWithDifferentData.count == 1)
        #expect(held.overlapsWithDifferentData.first?.0 == packet(3))
        #expect(held.overlapsWithDifferentData.first?.1 == 5)

        // The in-order segment also disagrees with the held bytes it covers.
        let filling = add(reassembler, 1000, [1, 2, 3, 4, 5, 0xDD], packet: 1, to: log)
        #expect(filling.overlapsWithDifferentData.count == 1)
        #expect(filling.overlapsWithDifferentData.first?.1 == 5)
        #expect(log.stream == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(reassembler.bufferedBytes == 0)
    }

    @Test func overlapNamesPacketOfFirstCopy() {
        let log = DeliveryLog()
        let reassembler = makeReassembler()
        add(reassembler, 1000, [1, 2, 3, 4], packet: 1, to: log)
        add(reassembler, 1004, [5, 6, 7, 8], packet: 2, to: log)
        let observations = add(reassembler, 1004, [5, 9, 7, 8], packet: 3, to: log)
        #expect(observations.firstCopies.count == 1)
        #expect(observations.firstCopies.first?.later == packet(3))
        #expect(observations.firstCopies.first?.first == packet(2))
    }

    @Test func heldOverlapNamesPacketOfFirstCopy() {
        let log = DeliveryLog()
        let reassembler = makeReassembler()
        add(reassembler, 1004, [5, 6, 7], packet: 2, to: log)
        let held = add(reassembler, 1005, [0xEE, 7, 8], packet: 3, to: log)
        #expect(held.firstCopies.count == 1)
        #expect(held.firstCopies.first?.later == packet(3))
        #expect(held.firstCopies.first?.first == packet(2))
    }

    @Test func forgottenDeliveryNamesNoFirstCopy() {
        let log = DeliveryLog()
        let reassembler = makeReassembler()
        // One byte per packet, more deliveries than the packet ring remembers.
        for index in 0..<(DeliveredPackets.capacity + 2) {
            add(reassembler, 1000 + UInt32(index), [UInt8(index)], packet: UInt64(index + 1), to: log)
        }
        let observations = add(reassembler, 1000, [0xEE], packet: 99, to: log)
        #expect(observations.overlapsWithDifferentData.count == 1)
        #expect(observations.firstCopies.isEmpty)
    }

    @Test func sequenceWrapAroundAt2Pow32() {
        let log = DeliveryLog()
        let reassembler = makeReassembler(initialSequence: 0xFFFF_FFFD)
        // The second segment crosses zero and arrives first.
        add(reassembler, 0xFFFF_FFFF, [3, 4, 5], packet: 2, to: log)
        #expect(log.items.isEmpty)
        add(reassembler, 0xFFFF_FFFD, [1, 2], packet: 1, to: log)
        add(reassembler, 2, [6], packet: 3, to: log)
        let repeated = add(reassembler, 0xFFFF_FFFE, [2, 3, 9], packet: 4, to: log)
        #expect(log.stream == [1, 2, 3, 4, 5, 6])
        #expect(repeated.overlapsWithDifferentData.first?.1 == 3)
    }

    @Test func gapFlushThenResume() {
        let log = DeliveryLog()
        let reassembler = makeReassembler()
        add(reassembler, 1000, [1, 2], packet: 1, to: log)
        add(reassembler, 1010, [11, 12], packet: 3, to: log)
        reassembler.flush(deliver: log.receive)
        #expect(log.items == [.data([1, 2], 1), .gap(8), .data([11, 12], 3)])
        #expect(reassembler.bufferedBytes == 0)

        add(reassembler, 1012, [13], packet: 4, to: log)
        #expect(log.items.last == .data([13], 4))
        // A late copy of the missing bytes is neither delivered nor compared.
        let late = add(reassembler, 1002, [3, 4, 5], packet: 5, to: log)
        #expect(late.overlapsWithDifferentData.isEmpty)
        #expect(log.items.count == 4)
    }

    @Test func persistentHoleBecomesGap() {
        let log = DeliveryLog()
        let limits = ReassemblyLimits(gapAfterHeldSegments: 3)
        let reassembler = makeReassembler(limits: limits)
        for index in 0..<3 {
            add(reassembler, 1010 + UInt32(index) * 2, [UInt8(index), UInt8(index)], packet: UInt64(index + 1), to: log)
        }
        #expect(log.items.isEmpty)
        add(reassembler, 1016, [3, 3], packet: 4, to: log)
        #expect(log.gaps == [10])
        #expect(log.stream.count == 18)
        #expect(reassembler.bufferedBytes == 0)
    }

    @Test func perDirectionLimitBoundsMemory() {
        let log = DeliveryLog()
        let budget = ReassemblyBudget()
        let limits = ReassemblyLimits(maxBufferedBytesPerDirection: 100, maxBufferedSegmentsPerDirection: 8,
                                      gapAfterHeldSegments: 1000, gapAfterHeldBytes: 1 << 20)
        let reassembler = makeReassembler(limits: limits, budget: budget)
        var overflows = 0
        // Every segment leaves a one-byte hole before it, so nothing is ever in order.
        for index in 0..<200 {
            let sequence = 1001 + UInt32(index) * 11
            let observations = add(reassembler, sequence, [UInt8](repeating: UInt8(index & 0xFF), count: 10),
                                   packet: UInt64(index + 1), to: log)
            if observations.bufferOverflow { overflows += 1 }
            #expect(reassembler.bufferedBytes <= 100)
            #expect(budget.usedBytes - budget.historyBytes == reassembler.bufferedBytes)
        }
        #expect(overflows > 0)
        #expect(budget.overruns == overflows)
        #expect(!log.gaps.isEmpty)
        reassembler.release()
        #expect(budget.usedBytes == 0)
    }

    @Test func sharedBudgetBoundsMemory() {
        let budget = ReassemblyBudget(maxTotalBytes: 64)
        let limits = ReassemblyLimits(gapAfterHeldSegments: 1000, gapAfterHeldBytes: 1 << 20)
        let first = makeReassembler(limits: limits, budget: budget)
        let second = makeReassembler(limits: limits, budget: budget)
        let log = DeliveryLog()
        add(first, 1010, [UInt8](repeating: 1, count: 40), packet: 1, to: log)
        #expect(budget.usedBytes == 40)
        let overflow = add(second, 1010, [UInt8](repeating: 2, count: 40), packet: 2, to: log)
        #expect(overflow.bufferOverflow)
        #expect(budget.overruns == 1)
        #expect(budget.usedBytes == 40)
        #expect(second.bufferedBytes == 0)
        // The segment that did not fit was delivered after a gap instead of being held.
        #expect(log.items == [.gap(10), .data([UInt8](repeating: 2, count: 40), 2)])
        first.release()
        #expect(budget.usedBytes == 0)
    }

    @Test func midstreamStartsAtFirstSegment() {
        let log = DeliveryLog()
        let reassembler = StreamReassembler(limits: .init(), budget: .init())
        #expect(reassembler.isInitialized == false)
        add(reassembler, 5000, [1, 2], packet: 1, to: log)
        #expect(reassembler.isInitialized)
        #expect(log.stream == [1, 2])
    }

    @Test func historyKeepsOnlyRecentBytes() {
        let log = DeliveryLog()
        let limits = ReassemblyLimits(deliveredHistoryBytes: 16)
        let reassembler = makeReassembler(limits: limits, initialSequence: 0)
        add(reassembler, 0, [UInt8](repeating: 7, count: 32), packet: 1, to: log)
        // Bytes 0..<16 are no longer kept, so a different copy of them is not reported.
        let old = add(reassembler, 0, [UInt8](repeating: 9, count: 4), packet: 2, to: log)
        #expect(old.overlapsWithDifferentData.isEmpty)
        let recent = add(reassembler, 20, [7, 7, 9], packet: 3, to: log)
        #expect(recent.overlapsWithDifferentData.first?.1 == 22)
    }

    @Test func shuffledSegmentsRebuildStream() {
        // A fixed linear congruential generator keeps the case reproducible.
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func nextRandom(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let original = (0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for round in 0..<20 {
            var segments: [(Int, Int)] = []
            var start = 0
            while start < original.count {
                let length = min(original.count - start, 1 + nextRandom(300))
                segments.append((start, length))
                start += length
            }
            // Swap neighbours and repeat some segments, as reordering and retransmission do.
            for index in stride(from: 1, to: segments.count, by: 2) where nextRandom(3) == 0 {
                segments.swapAt(index - 1, index)
            }
            segments += segments.filter { _ in nextRandom(5) == 0 }

            let log = DeliveryLog()
            let initial = UInt32.max &- UInt32(round * 97)
            let reassembler = makeReassembler(initialSequence: initial)
            var differences = 0
            for (number, segment) in segments.enumerated() {
                let bytes = Array(original[segment.0..<(segment.0 + segment.1)])
                let observations = add(reassembler, initial &+ UInt32(segment.0), bytes, packet: UInt64(number + 1),
                                       to: log)
                differences += observations.overlapsWithDifferentData.count
            }
            reassembler.flush(deliver: log.receive)
            #expect(log.stream == original)
            #expect(differences == 0)
            #expect(reassembler.bufferedBytes == 0)
        }
    }

    @Test func hostileSegmentsStayBounded() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func nextRandom(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let budget = ReassemblyBudget(maxTotalBytes: 48 << 10)
        let limits = ReassemblyLimits(maxBufferedBytesPerDirection: 32 << 10, maxBufferedSegmentsPerDirection: 64,
                                      gapAfterHeldSegments: 48, gapAfterHeldBytes: 40 << 10,
                                      deliveredHistoryBytes: 8 << 10)
        let reassemblers = (0..<3).map { _ in makeReassembler(limits: limits, budget: budget, initialSequence: 0) }
        var deliveredLength = [0, 0, 0]
        let payload = [UInt8](repeating: 0xAB, count: 3000)
        for number in 0..<5000 {
            let which = nextRandom(3)
            let reassembler = reassemblers[which]
            // Sequence numbers anywhere in the space, and near the stream position.
            let sequence = nextRandom(4) == 0 ? UInt32(truncatingIfNeeded: state) : UInt32(nextRandom(200_000))
            let length = 1 + nextRandom(payload.count)
            var bytes = Array(payload[0..<length])
            bytes[0] = UInt8(truncatingIfNeeded: number)
            _ = bytes.withUnsafeBytes { buffer in
                reassembler.add(sequence: sequence, payload: buffer, packet: packet(UInt64(number + 1))) { chunk in
                    switch chunk {
                    case .data(let data, _): deliveredLength[which] += data.count
                    case .gap(let length): deliveredLength[which] += length
                    }
                }
            }
            #expect(reassembler.bufferedBytes <= limits.maxBufferedBytesPerDirection)
            #expect(budget.usedBytes - budget.historyBytes == reassemblers.reduce(0) { $0 + $1.bufferedBytes })
            #expect(budget.usedBytes <= budget.maxTotalBytes)
        }
        for reassembler in reassemblers {
            reassembler.flush { _ in }
            reassembler.release()
        }
        #expect(budget.usedBytes == 0)
        #expect(deliveredLength.allSatisfy { $0 > 0 })
    }

    @Test func gapsKeepBytesAtTheirOffsets() {
        var state: UInt64 = 0x1234_5678_9ABC_DEF1
        func nextRandom(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let original = (0..<60_000).map { UInt8(truncatingIfNeeded: ($0 &* 7) ^ ($0 >> 8)) }
        // Tight limits force every early-release path: gap rule, per-direction limits, budget.
        let limits = ReassemblyLimits(maxBufferedBytesPerDirection: 2000, maxBufferedSegmentsPerDirection: 6,
                                      gapAfterHeldSegments: 5, gapAfterHeldBytes: 1500,
                                      deliveredHistoryBytes: 1024)
        for round in 0..<10 {
            let budget = ReassemblyBudget(maxTotalBytes: 1200)
            let initial = UInt32.max &- UInt32(round * 5000)
            let reassembler = makeReassembler(limits: limits, budget: budget, initialSequence: initial)
            var offset = 0
            var mismatches = 0
            let deliver: (StreamChunk) -> Void = { chunk in
                switch chunk {
                case .data(let bytes, _):
                    if offset + bytes.count > original.count || !bytes.elementsEqual(original[offset..<(offset + bytes.count)]) {
                        mismatches += 1
                    }
                    offset += bytes.count
                case .gap(let length):
                    offset += length
                }
            }
            var differences = 0
            for number in 0..<3000 {
                // Segments near the stream position, some behind it and some far ahead.
                let start = max(0, min(original.count - 1, offset - 500 + nextRandom(4000)))
                let length = min(original.count - start, 1 + nextRandom(400))
                let observations = original[start..<(start + length)].withUnsafeBytes { buffer in
                    reassembler.add(sequence: initial &+ UInt32(start), payload: buffer,
                                    packet: packet(UInt64(number + 1)), deliver: deliver)
                }
                differences += observations.overlapsWithDifferentData.count
            }
            reassembler.flush(deliver: deliver)
            #expect(mismatches == 0)
            #expect(differences == 0)
            #expect(budget.overruns > 0)
            #expect(budget.usedBytes == 0)
        }
    }

    @Test func historyGrowsWithinHalfTheBudget() {
        let budget = ReassemblyBudget(maxTotalBytes: 16 << 10)
        let first = makeReassembler(budget: budget, initialSequence: 0)
        let second = makeReassembler(budget: budget, initialSequence: 0)
        let log = DeliveryLog()
        let block = [UInt8](repeating: 5, count: 1000)
        for index in 0..<20 {
            add(first, UInt32(index * 1000), block, packet: UInt64(index + 1), to: log)
            add(second, UInt32(index * 1000), block, packet: UInt64(index + 100), to: log)
        }
        #expect(budget.historyBytes <= 8 << 10)
        #expect(budget.historyBytes > 0)
        #expect(budget.usedBytes == budget.historyBytes)

        // The history that did grow still catches a changed retransmission.
        var changed = block
        changed[999] = 6
        let firstCheck = add(first, 19_000, changed, packet: 200, to: log)
        let secondCheck = add(second, 19_000, changed, packet: 201, to: log)
        #expect(firstCheck.overlapsWithDifferentData.count + secondCheck.overlapsWithDifferentData.count >= 1)

        first.release()
        second.release()
        #expect(budget.usedBytes == 0)
        #expect(budget.historyBytes == 0)
    }
}
