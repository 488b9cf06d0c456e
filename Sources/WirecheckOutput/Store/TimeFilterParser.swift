import WirecheckCore

/// Parses the time bounds of a query: ISO 8601 (`2026-12-04`, `2026-12-04T10:00:00Z`,
/// `2026-12-04T10:00:00.5+01:00`) or a duration before now (`90s`, `30m`, `24h`, `7d`, `2w`).
public enum TimeFilterParser {
    /// Seconds per unit letter of a relative time.
    static let unitSeconds: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    /// Returns the instant `text` names; a duration counts back from `now`.
    public static func parse(_ text: String, now: Timestamp) throws -> Timestamp {
        let trimmed = text.trimmingSpaces()
        if let unit = trimmed.last, let seconds = unitSeconds[unit],
           let amount = Int64(trimmed.dropLast()), amount >= 0, amount <= 100 * 365 * 86_400 {
            return Timestamp(nanoseconds: now.nanoseconds &- amount &* seconds &* 1_000_000_000)
        }
        return try parseISO8601(trimmed)
    }

    /// Parses an ISO 8601 date or date and time. A time without an offset is UTC.
    public static func parseISO8601(_ text: String) throws -> Timestamp {
        let invalid = FindingStoreError.invalidFilter(
            name: "time", value: text,
            expected: "ISO 8601 such as 2026-12-04T10:00:00Z, or a duration such as 30m, 24h or 7d")
        var scanner = DigitScanner(Array(text.utf8))
        guard let year = scanner.digits(4), scanner.skip("-"), let month = scanner.digits(2), scanner.skip("-"),
              let day = scanner.digits(2), (1...12).contains(month), (1...31).contains(day) else { throw invalid }
        var seconds = daysFromCivil(year: year, month: month, day: day) * 86_400
        var fraction: Int64 = 0

        if !scanner.atEnd {
            guard scanner.skip("T") || scanner.skip(" ") || scanner.skip("t"),
                  let hour = scanner.digits(2), scanner.skip(":"), let minute = scanner.digits(2),
                  hour < 24, minute < 60 else { throw invalid }
            seconds += Int64(hour * 3600 + minute * 60)
            if scanner.skip(":") {
                guard let second = scanner.digits(2), second < 61 else { throw invalid }
                seconds += Int64(second)
                if scanner.skip(".") || scanner.skip(",") {
                    guard let (value, count) = scanner.fraction() else { throw invalid }
                    fraction = value
                    for _ in count..<9 { fraction *= 10 }
                }
            }
            if scanner.skip("Z") || scanner.skip("z") {
                // UTC.
            } else if let sign = scanner.sign() {
                guard let offsetHours = scanner.digits(2) else { throw invalid }
                _ = scanner.skip(":")
                let offsetMinutes = scanner.digits(2) ?? 0
                seconds -= sign * Int64(offsetHours * 3600 + offsetMinutes * 60)
            }
        }
        guard scanner.atEnd else { throw invalid }
        return Timestamp(seconds: seconds, nanoseconds: fraction)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let shiftedYear = Int64(month <= 2 ? year - 1 : year)
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let shiftedMonth = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

private struct DigitScanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    mutating func digits(_ count: Int) -> Int? {
        guard index + count <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[index..<index + count] {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        index += count
        return value
    }

    /// Up to nine fraction digits as (value, digit count); further digits are read and dropped.
    mutating func fraction() -> (Int64, Int)? {
        var value: Int64 = 0, count = 0
        while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
            if count < 9 {
                value = value * 10 + Int64(bytes[index] - 0x30)
                count += 1
            }
            index += 1
        }
        return count == 0 ? nil : (value, count)
    }

    mutating func sign() -> Int64? {
        if skip("+") { return 1 }
        if skip("-") { return -1 }
        return nil
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
