#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// A one-line progress display for long runs on standard error: bytes read of the total,
/// packets per second, alerts so far and the estimated time left. It draws only when standard
/// error is a terminal, so logs and pipes get nothing, and redraws at most `maximumRedrawsPerSecond`.
/// Not thread-safe: call it from the thread that reads packets.
public final class ProgressReporter {
    /// Redraws per second; more would cost terminal time without showing anything new.
    public static let maximumRedrawsPerSecond = 4.0

    /// Input size in bytes, or nil when unknown (standard input, a live interface).
    public let totalBytes: Int64?
    public let isEnabled: Bool

    private let output: (String) -> Void
    private let clock: () -> UInt64
    private let startNanoseconds: UInt64
    private var lastDrawNanoseconds: UInt64?
    private var lineWidth = 0
    /// The most recent line drawn, for tests.
    private(set) var lastLine = ""

    /// Creates a reporter that writes to standard error when it is a terminal.
    public convenience init(totalBytes: Int64?) {
        self.init(totalBytes: totalBytes, enabled: isatty(2) == 1,
                  output: { text in
                      _ = text.withCString { fputs($0, stderr) }
                      fflush(stderr)
                  },
                  clock: { DispatchTime.now().uptimeNanoseconds })
    }

    /// Creates a reporter with its output and clock replaced, for tests.
    init(totalBytes: Int64?, enabled: Bool, output: @escaping (String) -> Void, clock: @escaping () -> UInt64) {
        self.totalBytes = totalBytes.flatMap { $0 > 0 ? $0 : nil }
        isEnabled = enabled
        self.output = output
        self.clock = clock
        startNanoseconds = clock()
    }

    /// Reports the current totals. Cheap to call per packet: it returns at once unless a redraw is due.
    public func update(bytesRead: Int64, packets: Int64, alerts: Int64) {
        guard isEnabled else { return }
        let now = clock()
        let interval = UInt64(1e9 / ProgressReporter.maximumRedrawsPerSecond)
        if let lastDrawNanoseconds, now &- lastDrawNanoseconds < interval { return }
        lastDrawNanoseconds = now
        draw(ProgressReporter.line(bytesRead: bytesRead, totalBytes: totalBytes, packets: packets, alerts: alerts,
                                   elapsedSeconds: Double(now &- startNanoseconds) / 1e9))
    }

    /// Clears the line, so the next output starts on a clean line.
    public func finish() {
        guard isEnabled, lineWidth > 0 else { return }
        output("\r" + String(repeating: " ", count: lineWidth) + "\r")
        lineWidth = 0
    }

    private func draw(_ line: String) {
        // Pad with spaces to cover a longer previous line.
        let padding = max(0, lineWidth - line.count)
        output("\r" + line + String(repeating: " ", count: padding))
        lineWidth = line.count
        lastLine = line
    }

    /// Formats one progress line, for example
    /// `41.9 MiB of 100.0 MiB (41.9%)  12345 pkt/s  3 alerts  ETA 0:07`.
    static func line(bytesRead: Int64, totalBytes: Int64?, packets: Int64, alerts: Int64, elapsedSeconds: Double) -> String {
        var parts: [String] = []
        if let totalBytes {
            let fraction = min(max(Double(bytesRead) / Double(totalBytes), 0), 1)
            parts.append("\(mebibytes(bytesRead)) of \(mebibytes(totalBytes)) (\(oneDecimal(fraction * 100))%)")
        } else {
            parts.append("\(mebibytes(bytesRead)) read")
        }
        let rate = elapsedSeconds > 0 ? Double(packets) / elapsedSeconds : 0
        parts.append("\(Int(rate.rounded())) pkt/s")
        parts.append("\(alerts) alert\(alerts == 1 ? "" : "s")")
        if let totalBytes, bytesRead > 0, elapsedSeconds > 0 {
            let remaining = Double(max(totalBytes - bytesRead, 0)) * elapsedSeconds / Double(bytesRead)
            parts.append("ETA \(duration(remaining))")
        }
        return parts.joined(separator: "  ")
    }

    private static func mebibytes(_ bytes: Int64) -> String {
        oneDecimal(Double(bytes) / 1_048_576) + " MiB"
    }

    private static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// `m:ss` below an hour, `h:mm:ss` above.
    private static func duration(_ seconds: Double) -> String {
        let total = seconds.isFinite ? Int(seconds.rounded()) : 0
        let hours = total / 3600, minutes = (total % 3600) / 60, secondsPart = total % 60
        let paddedSeconds = secondsPart < 10 ? "0\(secondsPart)" : "\(secondsPart)"
        if hours > 0 {
            return "\(hours):\(minutes < 10 ? "0" : "")\(minutes):\(paddedSeconds)"
        }
        return "\(minutes):\(paddedSeconds)"
    }
}
