/// Serialises `JSONValue` into compact UTF-8 bytes with no whitespace, for one-line-per-event
/// output. It appends to a caller-owned buffer so a writer can reuse one allocation.
public enum JSONWriter {
    public static func append(_ value: JSONValue, to output: inout [UInt8]) {
        switch value {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let flag):
            output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number):
            appendInteger(number, to: &output)
        case .double(let number):
            if number.isFinite {
                output.append(contentsOf: String(number).utf8)
            } else {
                // JSON has no NaN or infinity; null keeps the line parseable.
                output.append(contentsOf: "null".utf8)
            }
        case .string(let text):
            appendString(text, to: &output)
        case .wire(let bytes):
            appendWireBytes(bytes, to: &output)
        case .array(let items):
            output.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                append(item, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            append(object, to: &output)
        }
    }

    public static func append(_ object: JSONObject, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        for (index, pair) in object.pairs.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            appendString(pair.0, to: &output)
            output.append(UInt8(ascii: ":"))
            append(pair.1, to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    public static func serialize(_ value: JSONValue) -> String {
        var bytes: [UInt8] = []
        append(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func serialize(_ object: JSONObject) -> String {
        serialize(.object(object))
    }

    public static func appendInteger(_ number: Int64, to output: inout [UInt8]) {
        if number == 0 {
            output.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = number.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
        }
        if number < 0 { output.append(UInt8(ascii: "-")) }
        withUnsafeBytes(of: &digits) { buffer in
            for index in stride(from: count - 1, through: 0, by: -1) { output.append(buffer[index]) }
        }
    }

    /// Writes a Swift string (always valid Unicode) with JSON escapes for quotes, backslashes
    /// and every control character, plus U+2028 and U+2029, which break JavaScript readers.
    public static func appendString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        // Keys, names and most messages need no escape, so copy them in one step when the
        // string's UTF-8 is contiguous and contains no byte that could need one.
        let copied: Bool? = text.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes where byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F || byte == 0xE2 {
                return false
            }
            output.append(contentsOf: bytes)
            return true
        }
        if copied == true {
            output.append(UInt8(ascii: "\""))
            return
        }
        var utf8 = text.utf8.makeIterator()
        var pending: [UInt8] = []
        while let byte = utf8.next() {
            pending.removeAll(keepingCapacity: true)
            if byte == 0xE2 {
                // Possible U+2028 / U+2029 (E2 80 A8 / E2 80 A9).
                let second = utf8.next(), third = second == nil ? nil : utf8.next()
                if second == 0x80, let third, third == 0xA8 || third == 0xA9 {
                    output.append(contentsOf: (third == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                } else {
                    output.append(byte)
                    if let second { output.append(second) }
                    if let third { appendEscapedASCII(third, to: &output) }
                }
                continue
            }
            appendEscapedASCII(byte, to: &output)
        }
        output.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    static func appendEscapedASCII(_ byte: UInt8, to output: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        case 0x00..<0x20, 0x7F:
            output.append(contentsOf: "\\u00".utf8)
            output.append(hexDigit(byte >> 4))
            output.append(hexDigit(byte & 0x0F))
        default:
            output.append(byte)
        }
    }

    /// Writes untrusted bytes: valid UTF-8 sequences as text, and each byte that is not part of
    /// one as the six characters `\\xNN` (a literal backslash, `x` and two hex digits), so the
    /// original bytes can be recovered and no raw invalid byte reaches the output.
    public static func appendWireBytes(_ bytes: [UInt8], to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let length = utf8SequenceLength(bytes, at: index)
            if length == 0 {
                output.append(contentsOf: "\\\\x".utf8)
                output.append(hexDigit(byte >> 4))
                output.append(hexDigit(byte & 0x0F))
                index += 1
            } else if length == 1 {
                appendEscapedASCII(byte, to: &output)
                index += 1
            } else {
                let scalarStart = index
                if length == 3, bytes[scalarStart] == 0xE2, bytes[scalarStart + 1] == 0x80,
                   bytes[scalarStart + 2] == 0xA8 || bytes[scalarStart + 2] == 0xA9 {
                    output.append(contentsOf: (bytes[scalarStart + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                } else {
                    output.append(contentsOf: bytes[scalarStart..<scalarStart + length])
                }
                index += length
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Length of the well-formed UTF-8 sequence starting at `index`, or 0 when it is not one
    /// (overlong forms, surrogates and code points above U+10FFFF are rejected).
    static func utf8SequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let first = bytes[index]
        if first < 0x80 { return 1 }
        let count: Int
        var lower: UInt8 = 0x80, upper: UInt8 = 0xBF
        switch first {
        case 0xC2...0xDF: count = 2
        case 0xE0: count = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: count = 3
        case 0xED: count = 3; upper = 0x9F
        case 0xF0: count = 4; lower = 0x90
        case 0xF1...0xF3: count = 4
        case 0xF4: count = 4; upper = 0x8F
        default: return 0
        }
        guard index + count <= bytes.count else { return 0 }
        let second = bytes[index + 1]
        guard second >= lower && second <= upper else { return 0 }
        for offset in 2..<max(2, count) where offset < count {
            guard bytes[index + offset] & 0xC0 == 0x80 else { return 0 }
        }
        return count
    }

    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
