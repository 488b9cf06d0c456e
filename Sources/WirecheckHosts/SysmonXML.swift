import WirecheckCore

/// Reads Windows event XML as wevtutil, Get-WinEvent and libevtx write it: one `<Event>` per
/// line or several inside an `<Events>` document, with single- or double-quoted attributes.
///
/// A dedicated scanner rather than a general XML parser, because only `System/EventID`,
/// `Provider/@Name`, `Computer`, `TimeCreated/@SystemTime` and `EventData/Data` are needed and a
/// broken event must not stop the events around it.
enum SysmonXML {
    /// An `<Event>` element found in a document, with the line it starts on.
    struct EventText {
        var text: String
        var line: Int
    }

    /// Splits a document into its `<Event>` elements. An `<Event>` without `</Event>` is returned
    /// up to the end of the document so the caller can report it as truncated.
    static func events(in document: String) -> [EventText] {
        let bytes = Array(document.utf8)
        var result: [EventText] = []
        var index = 0
        var line = 1
        var lineCountedUpTo = 0
        let openTag = Array("<Event".utf8)
        let closeTag = Array("</Event>".utf8)
        while let start = find(openTag, in: bytes, from: index) {
            let after = start + openTag.count
            guard after < bytes.count else { break }
            let next = bytes[after]
            // `<Events>`, `<EventID>`, `<EventData>` share the prefix; only `<Event>` or `<Event ...>` count.
            guard next == UInt8(ascii: ">") || next == UInt8(ascii: " ") || next == UInt8(ascii: "\t")
                    || next == UInt8(ascii: "\n") || next == UInt8(ascii: "\r") else {
                index = after
                continue
            }
            for position in lineCountedUpTo..<start where bytes[position] == UInt8(ascii: "\n") { line += 1 }
            lineCountedUpTo = start
            let end = find(closeTag, in: bytes, from: after).map { $0 + closeTag.count } ?? bytes.count
            let text = String(decoding: bytes[start..<end], as: UTF8.self)
            result.append(EventText(text: text, line: line))
            index = end
        }
        return result
    }

    /// Parses one `<Event>` element; returns a reason when it has no usable EventID.
    static func parse(_ element: String, location: String) -> Result<SysmonEvent, TelemetryReadError> {
        let bytes = Array(element.utf8)
        guard find(Array("</Event>".utf8), in: bytes, from: 0) != nil else {
            return .failure(TelemetryReadError(reason: "truncated event: no closing </Event> tag"))
        }
        guard let idText = elementText(named: "EventID", in: bytes) else {
            return .failure(TelemetryReadError(reason: "event without an <EventID> element"))
        }
        guard let eventID = Int(idText.trimmingWhitespace()) else {
            return .failure(TelemetryReadError(reason: "invalid EventID '\(idText)'"))
        }
        var fields: [String: String] = [:]
        var searchFrom = 0
        let dataTag = Array("<Data".utf8)
        while let start = find(dataTag, in: bytes, from: searchFrom) {
            guard let tagEnd = find([UInt8(ascii: ">")], in: bytes, from: start) else { break }
            let tag = bytes[start..<tagEnd]
            searchFrom = tagEnd + 1
            guard let name = attribute("Name", in: Array(tag)) else { continue }
            if bytes[tagEnd - 1] == UInt8(ascii: "/") {
                fields[name] = ""
                continue
            }
            guard let close = find(Array("</Data>".utf8), in: bytes, from: tagEnd + 1) else { break }
            fields[name] = decodeEntities(bytes[(tagEnd + 1)..<close])
            searchFrom = close + 7
        }
        let provider = openingTag(named: "Provider", in: bytes).flatMap { attribute("Name", in: $0) }
        let systemTime = openingTag(named: "TimeCreated", in: bytes).flatMap { attribute("SystemTime", in: $0) }
        let computer = elementText(named: "Computer", in: bytes)
        return .success(SysmonEvent(eventID: eventID, provider: provider, computer: computer,
                                    systemTime: systemTime, fields: fields, location: location))
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == needle[0] {
                var matched = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }

    /// Returns the bytes of the opening tag `<name ...>` (without the angle brackets' content after `>`).
    static func openingTag(named name: String, in bytes: [UInt8]) -> [UInt8]? {
        let needle = Array("<\(name)".utf8)
        var from = 0
        while let start = find(needle, in: bytes, from: from) {
            let after = start + needle.count
            guard after < bytes.count else { return nil }
            let next = bytes[after]
            if next == UInt8(ascii: " ") || next == UInt8(ascii: ">") || next == UInt8(ascii: "/") {
                guard let end = find([UInt8(ascii: ">")], in: bytes, from: after) else { return nil }
                return Array(bytes[start...end])
            }
            from = after
        }
        return nil
    }

    /// Returns the decoded text of the first `<name>text</name>` element (attributes allowed).
    static func elementText(named name: String, in bytes: [UInt8]) -> String? {
        guard let tag = openingTag(named: name, in: bytes),
              let tagStart = find(tag, in: bytes, from: 0) else { return nil }
        if tag.count >= 2, tag[tag.count - 2] == UInt8(ascii: "/") { return "" }
        let contentStart = tagStart + tag.count
        guard let close = find(Array("</\(name)>".utf8), in: bytes, from: contentStart) else { return nil }
        return decodeEntities(bytes[contentStart..<close])
    }

    /// Returns the decoded value of `name='...'` or `name="..."` inside a tag.
    static func attribute(_ name: String, in tag: [UInt8]) -> String? {
        let needle = Array(" \(name)=".utf8)
        guard let start = find(needle, in: tag, from: 0) else { return nil }
        let quoteIndex = start + needle.count
        guard quoteIndex < tag.count else { return nil }
        let quote = tag[quoteIndex]
        guard quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else { return nil }
        guard let end = find([quote], in: tag, from: quoteIndex + 1) else { return nil }
        return decodeEntities(tag[(quoteIndex + 1)..<end])
    }

    /// Replaces the five predefined XML entities and numeric character references.
    /// An unknown or malformed entity is kept as written.
    static func decodeEntities(_ bytes: ArraySlice<UInt8>) -> String {
        guard bytes.contains(UInt8(ascii: "&")) else { return String(wireBytes: bytes) }
        let text = String(wireBytes: bytes)
        var result = ""
        var rest = Substring(text)
        while let ampersand = rest.firstIndex(of: "&") {
            result += rest[rest.startIndex..<ampersand]
            let afterAmpersand = rest.index(after: ampersand)
            guard let semicolon = rest[afterAmpersand...].firstIndex(of: ";"),
                  rest.distance(from: afterAmpersand, to: semicolon) <= 10 else {
                result += "&"
                rest = rest[afterAmpersand...]
                continue
            }
            let entity = rest[afterAmpersand..<semicolon]
            var replacement: String?
            switch entity {
            case "lt": replacement = "<"
            case "gt": replacement = ">"
            case "amp": replacement = "&"
            case "quot": replacement = "\""
            case "apos": replacement = "'"
            default:
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    replacement = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
                } else if entity.hasPrefix("#") {
                    replacement = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init).map { String($0) }
                }
            }
            if let replacement {
                result += replacement
                rest = rest[rest.index(after: semicolon)...]
            } else {
                result += "&"
                rest = rest[afterAmpersand...]
            }
        }
        result += rest
        return result
    }
}
