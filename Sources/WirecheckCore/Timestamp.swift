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
        // digit into a stack buffer instead of through Foundation's String(format:), which parses
        // the format each time.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 31) { buffer in
            var count = 0
            func put(_ value: Int, digits: Int, then separator: Unicode.Scalar) {
                var divisor = 1
                for _ in 1..<digits { divisor *= 10 }
                while divisor > 0 {
                    buffer[count] = UInt8(ascii: "0") + UInt8((value / divisor) % 10)
                    count += 1
                    divisor /= 10
                }
                buffer[count] = UInt8(ascii: separator)
                count += 1
            }
            put(year, digits: 4, then: "-")
            put(month, digits: 2, then: "-")
            put(day, digits: 2, then: "T")
            put(hour, digits: 2, then: ":")
            put(minute, digits: 2, then: ":")
            put(second, digits: 2, then: ".")
            put(Int(micro), digits: 6, then: "+")
            for character in "0000".utf8 {
                buffer[count] = character
                count += 1
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<count]), as: UTF8.self)
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
