import Foundation
import WirecheckCore

/// UTC calendar arithmetic for baseline files, messages and maintenance windows, kept apart
/// from Foundation's calendar so results never depend on the host's time zone.
enum UTCTime {
    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Year, month and day of a day number (Howard Hinnant's `civil_from_days`).
    static func civil(days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0)), Int(month), Int(day))
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    /// Day of week of a time, 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday).
    static func weekday(_ time: Timestamp) -> Int {
        let days = floorDivide(time.seconds, 86_400)
        return Int(((days + 3) % 7 + 7) % 7)
    }

    /// Seconds since midnight UTC.
    static func secondOfDay(_ time: Timestamp) -> Int {
        Int(time.seconds - floorDivide(time.seconds, 86_400) * 86_400)
    }

    static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// `2026-12-04T08:00:00Z`: the form baseline files use, accurate to the second.
    static func format(_ time: Timestamp) -> String {
        let days = floorDivide(time.seconds, 86_400)
        let (year, month, day) = civil(days: days)
        let second = secondOfDay(time)
        return "\(year)-\(twoDigits(month))-\(twoDigits(day))T\(twoDigits(second / 3600)):"
            + "\(twoDigits(second % 3600 / 60)):\(twoDigits(second % 60))Z"
    }

    /// `2026-12-04 08:00` for operator messages.
    static func formatMinute(_ time: Timestamp) -> String {
        let text = format(time)
        return String(text.prefix(16)).replacingOccurrences(of: "T", with: " ")
    }

    /// `08:00` for the second end of a range in a message.
    static func formatClock(_ time: Timestamp) -> String {
        let second = secondOfDay(time)
        return "\(twoDigits(second / 3600)):\(twoDigits(second % 3600 / 60))"
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fraction]]` with an optional `Z`, `+0000` or
    /// `+00:00` suffix. Other offsets are rejected because every time in a baseline is UTC.
    static func parse(_ text: String) -> Timestamp? {
        var body = Substring(text)
        for suffix in ["Z", "+0000", "+00:00"] where body.hasSuffix(suffix) {
            body = body.dropLast(suffix.count)
            break
        }
        let halves = body.split(separator: "T", omittingEmptySubsequences: false)
        guard halves.count == 1 || halves.count == 2 else { return nil }
        let dateParts = halves[0].split(separator: "-", omittingEmptySubsequences: false)
        guard dateParts.count == 3, dateParts[0].count == 4, dateParts[1].count == 2, dateParts[2].count == 2,
              let year = Int(dateParts[0]), let month = Int(dateParts[1]), let day = Int(dateParts[2]),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var seconds = days(year: year, month: month, day: day) * 86_400
        var nanoseconds: Int64 = 0
        if halves.count == 2 {
            let timeParts = halves[1].split(separator: ".", omittingEmptySubsequences: false)
            guard timeParts.count <= 2, let clock = parseClock(timeParts[0], allowSeconds: true) else { return nil }
            seconds += Int64(clock)
            if timeParts.count == 2 {
                let digits = timeParts[1]
                guard !digits.isEmpty, digits.count <= 9, let fraction = Int64(digits) else { return nil }
                var scale: Int64 = 1
                for _ in digits.count..<9 { scale *= 10 }
                nanoseconds = fraction * scale
            }
        }
        return Timestamp(seconds: seconds, nanoseconds: nanoseconds)
    }

    /// Parses `HH:MM` or `HH:MM:SS` into seconds since midnight; `24:00` is allowed as the end of a day.
    static func parseClock<S: StringProtocol>(_ text: S, allowSeconds: Bool) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || (allowSeconds && parts.count == 3),
              parts.allSatisfy({ $0.count == 2 }),
              let hour = Int(parts[0]), let minute = Int(parts[1]) else { return nil }
        let second = parts.count == 3 ? Int(parts[2]) : 0
        guard let second, (0...59).contains(minute), (0...59).contains(second) else { return nil }
        if hour == 24 && minute == 0 && second == 0 { return 86_400 }
        guard (0...23).contains(hour) else { return nil }
        return hour * 3600 + minute * 60 + second
    }
}

/// Human wording for durations and periods in messages.
enum DurationText {
    /// "about once a second", "about every 2.5 s", "about every 5 min".
    static func period(_ seconds: Double) -> String {
        if seconds > 0.9 && seconds < 1.1 { return "about once a second" }
        if seconds > 55 && seconds < 65 { return "about once a minute" }
        return "about every " + duration(seconds)
    }

    /// "250 ms", "2.5 s", "5 min", "2.0 h".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return String(seconds) + " s" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
        if seconds < 120 { return trimmed(seconds) + " s" }
        if seconds < 7200 { return trimmed(seconds / 60) + " min" }
        return trimmed(seconds / 3600) + " h"
    }

    /// One decimal place, without a trailing ".0".
    static func trimmed(_ value: Double) -> String {
        // Int64 conversion traps on infinity and on values beyond its range.
        guard value.isFinite && abs(value) < 1e15 else { return String(value) }
        let tenths = Int64((value * 10).rounded())
        return tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(abs(tenths % 10))"
    }
}
