import WirecheckCore

/// Builds HTML text. `text` escapes everything it is given, so values from the wire or the
/// store can only ever become character data or quoted attribute values, never markup.
struct HTMLText {
    private(set) var output = ""

    /// Appends trusted markup written in this module. Never pass stored or wire values here.
    mutating func raw(_ markup: String) {
        output += markup
    }

    /// Appends escaped text, safe in element content and in double- or single-quoted attributes.
    mutating func text(_ value: String) {
        output += HTMLText.escape(value)
    }

    /// Escapes `&`, `<`, `>`, `"` and `'` as character references, and replaces control characters
    /// other than tab and newline with U+FFFD, because HTML and SVG forbid them in documents.
    /// The same escaping is correct in HTML text, quoted attributes and inline SVG text.
    static func escape(_ value: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            case "\t", "\n": escaped.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                    escaped += "\u{FFFD}"
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped
    }

    /// Cuts `value` to `limit` characters with a trailing ellipsis, before escaping, so an
    /// entity is never split.
    static func truncated(_ value: String, to limit: Int) -> String {
        value.count <= limit ? value : String(value.prefix(max(0, limit - 1))) + "\u{2026}"
    }
}

/// Formats report times as `2026-12-04 10:15:02 UTC`.
func reportTime(_ nanoseconds: Int64) -> String {
    let iso = Timestamp(nanoseconds: nanoseconds).iso8601
    return iso.prefix(10) + " " + iso.dropFirst(11).prefix(8) + " UTC"
}
