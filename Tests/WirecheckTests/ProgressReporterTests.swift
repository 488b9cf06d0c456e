import Testing
@testable import WirecheckOutput

/// A clock the test advances by hand, in nanoseconds.
final class ManualClock {
    var now: UInt64 = 1_000_000_000
}

@Suite struct ProgressReporterTests {
    @Test func disabledWritesNothing() {
        var written: [String] = []
        let reporter = ProgressReporter(totalBytes: 100, enabled: false, output: { written.append($0) }, clock: { 0 })
        reporter.update(bytesRead: 50, packets: 10, alerts: 1)
        reporter.finish()
        #expect(written.isEmpty)
    }

    @Test func redrawsAtMostFourTimesPerSecond() {
        var written: [String] = []
        let clock = ManualClock()
        let reporter = ProgressReporter(totalBytes: 1000, enabled: true, output: { written.append($0) },
                                        clock: { clock.now })
        for step in 0..<100 {
            clock.now += 10_000_000 // 10 ms, so 100 updates span one second
            reporter.update(bytesRead: Int64(step * 10), packets: Int64(step), alerts: 0)
        }
        #expect(written.count == 4)
        #expect(written.allSatisfy { $0.hasPrefix("\r") })
    }

    @Test func finishClearsLine() {
        var written: [String] = []
        let clock = ManualClock()
        let reporter = ProgressReporter(totalBytes: nil, enabled: true, output: { written.append($0) }, clock: { clock.now })
        clock.now += 1_000_000_000
        reporter.update(bytesRead: 2_097_152, packets: 500, alerts: 2)
        let drawn = reporter.lastLine
        reporter.finish()
        #expect(written.last == "\r" + String(repeating: " ", count: drawn.count) + "\r")
    }

    @Test func lineShowsProgressRateAndEstimate() {
        let line = ProgressReporter.line(bytesRead: 26_214_400, totalBytes: 104_857_600, packets: 30_000, alerts: 3,
                                         elapsedSeconds: 10)
        #expect(line == "25.0 MiB of 100.0 MiB (25.0%)  3000 pkt/s  3 alerts  ETA 0:30")
    }

    @Test func lineWithoutTotal() {
        let line = ProgressReporter.line(bytesRead: 1_048_576, totalBytes: nil, packets: 10, alerts: 1, elapsedSeconds: 2)
        #expect(line == "1.0 MiB read  5 pkt/s  1 alert")
    }

    @Test func longEstimateHasHours() {
        let line = ProgressReporter.line(bytesRead: 1, totalBytes: 7201, packets: 0, alerts: 0, elapsedSeconds: 1)
        #expect(line.hasSuffix("ETA 2:00:00"))
    }
}
