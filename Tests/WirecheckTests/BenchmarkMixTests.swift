import Testing
import WirecheckCore
@testable import WirecheckSynthesis

@Suite struct BenchmarkMixTests {
    /// Collects a mix's frames and timestamps in memory.
    private func generate(packets: Int, flows: Int, seed: UInt64) -> (frames: [[UInt8]], times: [Timestamp], summary: BenchmarkMix.Summary) {
        var mix = BenchmarkMix(BenchmarkMix.Parameters(packets: packets, flows: flows, seed: seed))
        var frames: [[UInt8]] = []
        var times: [Timestamp] = []
        mix.generate { bytes, timestamp in
            frames.append(Array(bytes))
            times.append(timestamp)
        }
        return (frames, times, mix.summary)
    }

    @Test func sameSeedSameMix() {
        let first = generate(packets: 3_000, flows: 50, seed: 5)
        let second = generate(packets: 3_000, flows: 50, seed: 5)
        #expect(first.frames == second.frames)
        #expect(first.times == second.times)
    }

    @Test func otherSeedOtherMix() {
        let first = generate(packets: 3_000, flows: 50, seed: 5)
        let other = generate(packets: 3_000, flows: 50, seed: 6)
        #expect(first.frames != other.frames)
    }

    @Test func mixCountsAndOrder() {
        let mix = generate(packets: 20_000, flows: 200, seed: 1)
        #expect(mix.frames.count == 20_000)
        #expect(mix.summary.packets == 20_000)
        #expect(mix.summary.bytes == mix.frames.reduce(0) { $0 + $1.count })
        #expect(zip(mix.times, mix.times.dropFirst()).allSatisfy { $0 < $1 })
        for kind in SessionKind.allCases {
            #expect((mix.summary.sessionsByProtocol[kind.name] ?? 0) > 0, "no \(kind.name) session")
        }
    }

    @Test func iec104ControlFrames() {
        #expect(IEC104Frames.startDataTransfer(confirm: false) == [0x68, 0x04, 0x07, 0x00, 0x00, 0x00])
        #expect(IEC104Frames.startDataTransfer(confirm: true) == [0x68, 0x04, 0x0B, 0x00, 0x00, 0x00])
        #expect(IEC104Frames.supervisory(receiveSequence: 3) == [0x68, 0x04, 0x01, 0x00, 0x06, 0x00])
    }

    @Test func iec104Interrogation() {
        let frame = IEC104Frames.interrogation(sendSequence: 1, receiveSequence: 2, commonAddress: 0x0102, confirm: false)
        #expect(frame == [0x68, 0x0E, 0x02, 0x00, 0x04, 0x00, 100, 0x01, 6, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 20])
    }

    @Test func bacnetReadProperty() {
        let frame = BACnetFrames.readPresentValue(invokeID: 7, instance: 3)
        #expect(frame == [0x81, 0x0A, 0x00, 0x11, 0x01, 0x04, 0x00, 0x05, 0x07, 0x0C, 0x0C, 0x00, 0x00, 0x00, 0x03, 0x19, 0x55])
    }

    @Test func enipRegisterSession() {
        let frame = ENIPFrames.registerSession(session: 0, context: 0)
        #expect(frame.count == 28)
        #expect(Array(frame[0..<4]) == [0x65, 0x00, 0x04, 0x00])
        #expect(Array(frame[24..<28]) == [0x01, 0x00, 0x00, 0x00])
    }

    @Test func s7ConnectionRequest() {
        let frame = S7commFrames.connection(confirm: false, reference: 1)
        #expect(Array(frame[0..<4]) == [0x03, 0x00, 0x00, 0x16])
        #expect(frame.count == 0x16)
        #expect(frame[5] == 0xE0)
    }

    @Test func opcuaHelloLength() {
        let frame = OPCUAFrames.hello(endpoint: "opc.tcp://a/")
        #expect(Array(frame[0..<4]) == Array("HELF".utf8))
        #expect(Int(frame[4]) | Int(frame[5]) << 8 == frame.count)
    }
}
