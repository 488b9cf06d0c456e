import Testing
@testable import WirecheckFlows

/// Checks that the delivered-bytes ring keeps the newest bytes in order across wrap-around and growth.
@Suite struct DeliveredHistoryTests {
    static func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) } }

    static func append(_ bytes: [UInt8], to history: inout DeliveredHistory) {
        bytes.withUnsafeBytes { history.append($0) }
    }

    @Test func growKeepsWrappedBytesInOrder() {
        let bytes = Self.pattern(3_000)
        var history = DeliveredHistory(limit: 8_192)
        history.grow(to: 2_048)
        Self.append(bytes, to: &history)
        #expect(history.count == 2_048)

        history.grow(to: 4_096)
        #expect(history.capacity == 4_096)
        #expect(history.count == 2_048)
        let kept = (1...2_048).compactMap { history.byte(before: $0) }
        #expect(kept == (1...2_048).map { bytes[3_000 - $0] })

        let more = Self.pattern(100).map { $0 ^ 0x5A }
        Self.append(more, to: &history)
        #expect(history.count == 2_148)
        #expect(history.byte(before: 1) == more[99])
        #expect(history.byte(before: 101) == bytes[2_999])
        #expect(history.byte(before: 2_148) == bytes[3_000 - 2_048])
    }

    @Test func growOfEmptyRingKeepsNothing() {
        var history = DeliveredHistory(limit: 8_192)
        history.grow(to: 2_048)
        #expect(history.count == 0)
        #expect(history.byte(before: 1) == nil)
    }
}
