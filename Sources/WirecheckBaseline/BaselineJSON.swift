import WirecheckCore

/// Why a baseline file could not be read: the file, the JSON path (or line and column for a
/// syntax error) and what is wrong.
public struct BaselineFileError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var location: String
    public var problem: String

    public var description: String { "\(file): \(location): \(problem)" }
}

/// Writes `JSONValue` as pretty-printed JSON with sorted keys and one member per line, so two
/// versions of a baseline file compare line by line in `git diff`. Arrays of numbers and
/// strings stay on one line while they are short.
enum PrettyJSON {
    static let inlineArrayWidth = 100

    static func format(_ value: JSONValue) -> String {
        var output = ""
        write(value, indent: 0, to: &output)
        output += "\n"
        return output
    }

    static func write(_ value: JSONValue, indent: Int, to output: inout String) {
        let padding = String(repeating: "  ", count: indent)
        switch value {
        case .object(let object):
            let pairs = object.pairs.sorted { $0.0 < $1.0 }
            if pairs.isEmpty { output += "{}"; return }
            output += "{\n"
            for (index, pair) in pairs.enumerated() {
                output += padding + "  " + JSONWriter.serialize(.string(pair.0)) + ": "
                write(pair.1, indent: indent + 1, to: &output)
                output += index == pairs.count - 1 ? "\n" : ",\n"
            }
            output += padding + "}"
        case .array(let items):
            if items.isEmpty { output += "[]"; return }
            if items.allSatisfy(isInline) {
                let line = inlineText(value)
                if line.count <= inlineArrayWidth { output += line; return }
            }
            output += "[\n"
            for (index, item) in items.enumerated() {
                output += padding + "  "
                write(item, indent: indent + 1, to: &output)
                output += index == items.count - 1 ? "\n" : ",\n"
            }
            output += padding + "]"
        default:
            output += JSONWriter.serialize(value)
        }
    }

    /// An array of scalars on one line, with a space after each comma: `[[40, 49], [60, 69]]`.
    static func inlineText(_ value: JSONValue) -> String {
        guard case .array(let items) = value else { return JSONWriter.serialize(value) }
        return "[" + items.map(inlineText).joined(separator: ", ") + "]"
    }

    /// Scalars, and arrays of scalars such as `[40, 49]` ranges and `[bin, count]` pairs.
    static func isInline(_ value: JSONValue) -> Bool {
        switch value {
        case .object: return false
        case .array(let items): return items.allSatisfy { if case .array = $0 { return false }; return isInline($0) }
        default: return true
        }
    }
}

/// A small strict JSON parser into `JSONValue`, reporting line and column on a syntax error.
/// Baseline files are written by hand as well as by Wirecheck, so errors must point at the spot.
struct JSONParser {
    /// Nesting a baseline never needs more than; deeper input is rejected instead of exhausting the stack.
    static let maxDepth = 64

    let bytes: [UInt8]
    var index = 0

    struct SyntaxError: Error {
        var offset: Int
        var problem: String
    }

    init(_ text: String) { bytes = Array(text.utf8) }

    static func parse(_ text: String, file: String) throws -> JSONValue {
        var parser = JSONParser(text)
        do {
            parser.skipWhitespace()
            let value = try parser.parseValue(depth: 0)
            parser.skipWhitespace()
            if parser.index < parser.bytes.count { throw SyntaxError(offset: parser.index, problem: "unexpected text after the JSON value") }
            return value
        } catch let error as SyntaxError {
            let (line, column) = parser.position(of: error.offset)
            throw BaselineFileError(file: file, location: "line \(line), column \(column)", problem: error.problem)
        }
    }

    func position(of offset: Int) -> (Int, Int) {
        var line = 1, column = 1
        for byte in bytes[0..<min(offset, bytes.count)] {
            if byte == 0x0A { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard depth < JSONParser.maxDepth else { throw SyntaxError(offset: index, problem: "nesting deeper than \(JSONParser.maxDepth) levels") }
        guard index < bytes.count else { throw SyntaxError(offset: index, problem: "unexpected end of file, expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw SyntaxError(offset: index, problem: "unexpected character '\(Character(Unicode.Scalar(bytes[index])))', expected a value")
        }
    }

    mutating func expectWord(_ word: String) throws {
        let expected = Array(word.utf8)
        guard index + expected.count <= bytes.count, Array(bytes[index..<index + expected.count]) == expected else {
            throw SyntaxError(offset: index, problem: "invalid literal, expected \(word)")
        }
        index += expected.count
    }

    mutating func parseObject(depth: Int) throws -> JSONValue {
        index += 1
        var object = JSONObject()
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") { index += 1; return .object(object) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw SyntaxError(offset: index, problem: "expected a quoted member name")
            }
            let keyOffset = index
            let key = try parseString()
            if object[key] != nil { throw SyntaxError(offset: keyOffset, problem: "duplicate member \"\(key)\"") }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw SyntaxError(offset: index, problem: "expected ':' after \"\(key)\"") }
            index += 1
            skipWhitespace()
            object.set(key, try parseValue(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw SyntaxError(offset: index, problem: "unexpected end of file inside an object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(object) }
            throw SyntaxError(offset: index, problem: "expected ',' or '}' after member \"\(key)\"")
        }
    }

    mutating func parseArray(depth: Int) throws -> JSONValue {
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw SyntaxError(offset: index, problem: "unexpected end of file inside an array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw SyntaxError(offset: index, problem: "expected ',' or ']' in an array")
        }
    }

    mutating func parseString() throws -> String {
        let start = index
        index += 1
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        func flushRaw() throws {
            guard !raw.isEmpty else { return }
            guard let text = String(validating: raw, as: UTF8.self) else {
                throw SyntaxError(offset: start, problem: "string is not valid UTF-8")
            }
            scalars.append(contentsOf: text.unicodeScalars)
            raw.removeAll()
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                try flushRaw()
                return String(scalars)
            }
            if byte < 0x20 { throw SyntaxError(offset: index, problem: "control character inside a string; write it as an escape") }
            if byte == UInt8(ascii: "\\") {
                try flushRaw()
                index += 1
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try parseHex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw SyntaxError(offset: index, problem: "unpaired surrogate escape")
                        }
                        index += 2
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw SyntaxError(offset: index, problem: "unpaired surrogate escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw SyntaxError(offset: index, problem: "invalid \\u escape") }
                    scalars.append(scalar)
                default:
                    throw SyntaxError(offset: index - 1, problem: "invalid escape '\\\(Character(Unicode.Scalar(escape)))'")
                }
                continue
            }
            raw.append(byte)
            index += 1
        }
        throw SyntaxError(offset: start, problem: "unterminated string")
    }

    mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
            throw SyntaxError(offset: index, problem: "expected four hex digits after \\u")
        }
        index += 4
        return value
    }

    mutating func parseNumber() throws -> JSONValue {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        while index < bytes.count {
            let byte = bytes[index]
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1; continue }
            if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "+")
                || byte == UInt8(ascii: "-") {
                isInteger = false
                index += 1
                continue
            }
            break
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let value = Int64(text) { return .int(value) }
        guard let value = Double(text), value.isFinite else { throw SyntaxError(offset: start, problem: "invalid number \(text)") }
        return .double(value)
    }
}

/// Reads typed members out of parsed JSON, naming the file and JSON path in every error.
struct JSONReader {
    let file: String
    let path: String
    let object: JSONObject

    init(file: String, path: String, value: JSONValue) throws {
        self.file = file
        self.path = path
        guard case .object(let object) = value else {
            throw BaselineFileError(file: file, location: path, problem: "expected an object, found \(JSONReader.kind(value))")
        }
        self.object = object
    }

    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string(let text): return "the string \"\(text)\""
        case .wire: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    func member(_ key: String) -> String { "\(path).\(key)" }

    func fail(_ key: String, _ problem: String) -> BaselineFileError {
        BaselineFileError(file: file, location: member(key), problem: problem)
    }

    func optionalString(_ key: String) throws -> String? {
        guard let value = object[key], value != .null else { return nil }
        guard case .string(let text) = value else { throw fail(key, "expected a string, found \(JSONReader.kind(value))") }
        return text
    }

    func string(_ key: String) throws -> String {
        guard let text = try optionalString(key) else { throw fail(key, "missing; add this required member") }
        return text
    }

    func optionalInt(_ key: String, in range: ClosedRange<Int64> = Int64.min...Int64.max) throws -> Int64? {
        guard let value = object[key], value != .null else { return nil }
        guard case .int(let number) = value else { throw fail(key, "expected an integer, found \(JSONReader.kind(value))") }
        guard range.contains(number) else {
            throw fail(key, "value \(number) is out of range; expected \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func int(_ key: String, in range: ClosedRange<Int64> = Int64.min...Int64.max) throws -> Int64 {
        guard let number = try optionalInt(key, in: range) else { throw fail(key, "missing; add this required member") }
        return number
    }

    func count(_ key: String) throws -> UInt64 {
        UInt64(try optionalInt(key, in: 0...Int64.max) ?? 0)
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = object[key], value != .null else { return fallback }
        guard case .bool(let flag) = value else { throw fail(key, "expected true or false, found \(JSONReader.kind(value))") }
        return flag
    }

    func optionalTime(_ key: String) throws -> Timestamp? {
        guard let text = try optionalString(key) else { return nil }
        guard let time = UTCTime.parse(text) else {
            throw fail(key, "invalid time \"\(text)\"; expected UTC such as 2026-12-04T08:00:00Z")
        }
        return time
    }

    func time(_ key: String) throws -> Timestamp {
        guard let time = try optionalTime(key) else { throw fail(key, "missing; add this required member") }
        return time
    }

    func ip(_ key: String) throws -> IPAddress {
        let text = try string(key)
        guard let address = IPAddress(text) else { throw fail(key, "invalid IP address \"\(text)\"") }
        return address
    }

    func optionalNetwork(_ key: String) throws -> IPNetwork? {
        guard let text = try optionalString(key) else { return nil }
        guard let network = IPNetwork(text) else {
            throw fail(key, "invalid address or network \"\(text)\"; expected 10.0.0.5 or 10.0.0.0/24")
        }
        return network
    }

    func array(_ key: String) throws -> [JSONValue] {
        guard let value = object[key], value != .null else { return [] }
        guard case .array(let items) = value else { throw fail(key, "expected an array, found \(JSONReader.kind(value))") }
        return items
    }

    /// Readers for each object of an array member, with paths such as `assets[3]`.
    func objects(_ key: String) throws -> [JSONReader] {
        try array(key).enumerated().map { try JSONReader(file: file, path: "\(member(key))[\($0.offset)]", value: $0.element) }
    }

    func optionalObject(_ key: String) throws -> JSONReader? {
        guard let value = object[key], value != .null else { return nil }
        return try JSONReader(file: file, path: member(key), value: value)
    }

    func review() throws -> Review {
        Review(approved: try bool("approved", default: false), note: try optionalString("note"))
    }
}
