import Foundation

/// A packet time: nanoseconds since the Unix epoch, UTC.
///
/// Nanoseconds cover both microsecond and nanosecond captures without loss, and an `Int64`
/// represents them until the year 2262.
public struct Timestamp: Comparable, Hashable, Sendable {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    public init(seconds: Int64, nanoseconds: Int64) {
        self.nanoseconds = seconds &* 1_000_000_000 &+ nanoseconds
    }

    public static let zero = Timestamp(nanoseconds: 0)

    public var seconds: Int64 { nanoseconds.floorDivided(by: 1_000_000_000) }
    public var secondsDouble: Double { Double(nanoseconds) / 1e9 }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public func adding(seconds: Double) -> Timestamp {
        Timestamp(nanoseconds: nanoseconds &+ Int64(seconds * 1e9))
    }

    /// Seconds from `other` to `self` (negative when `other` is later).
    public func interval(since other: Timestamp) -> Double {
        Double(nanoseconds &- other.nanoseconds) / 1e9
    }

    /// ISO 8601 with microseconds and a UTC offset, as EVE readers expect:
    /// `2024-03-01T12:00:00.123456+0000`.
    public var iso8601: String {
        let totalSeconds = seconds
        let micro = (nanoseconds - totalSeconds * 1_000_000_000) / 1000
        let (year, month, day, hour, minute, second) = Timestamp.civil(fromUnixSeconds: totalSeconds)
        guard (0...9999).contains(year) else {
            return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06d+0000",
                          year, month, day, hour, minute, second, Int(micro))
        }
        // Every event carries a timestamp, so the common four-digit year is written digit by
        // digit instead of through Foundation's String(format:), which parses the format each time.
        var text: [UInt8] = []
        text.reserveCapacity(31)
        Timestamp.appendDigits(year, count: 4, to: &text)
        text.append(UInt8(ascii: "-"))
        Timestamp.appendDigits(month, count: 2, to: &text)
        text.append(UInt8(ascii: "-"))
        Timestamp.appendDigits(day, count: 2, to: &text)
        text.append(UInt8(ascii: "T"))
        Timestamp.appendDigits(hour, count: 2, to: &text)
        text.append(UInt8(ascii: ":"))
        Timestamp.appendDigits(minute, count: 2, to: &text)
        text.append(UInt8(ascii: ":"))
        Timestamp.appendDigits(second, count: 2, to: &text)
        text.append(UInt8(ascii: "."))
        Timestamp.appendDigits(Int(micro), count: 6, to: &text)
        text.append(contentsOf: "+0000".utf8)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends the last `count` decimal digits of a non-negative `value`, zero-padded.
    private static func appendDigits(_ value: Int, count: Int, to text: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        var remaining = value
        while divisor > 0 {
            text.append(UInt8(ascii: "0") + UInt8((remaining / divisor) % 10))
            remaining %= divisor
            divisor /= 10
        }
    }

    /// Converts Unix seconds to a proleptic Gregorian UTC date without Foundation's calendar,
    /// which is slow and allocates (algorithm from Howard Hinnant's `civil_from_days`).
    static func civil(fromUnixSeconds value: Int64) -> (Int, Int, Int, Int, Int, Int) {
        let days = value.floorDivided(by: 86_400)
        let secondOfDay = Int(value - days * 86_400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day), secondOfDay / 3600, (secondOfDay % 3600) / 60, secondOfDay % 60)
    }
}

extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
