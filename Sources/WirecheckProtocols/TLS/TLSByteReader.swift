/// A bounds-checked big-endian reader over a byte view. Every read returns nil instead of
/// trapping when the input is too short, and a failed read leaves the position unchanged.
struct TLSByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset >= bytes.count }

    mutating func u8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u24() -> Int? {
        guard remaining >= 3 else { return nil }
        defer { offset += 3 }
        return Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
    }

    /// Returns the next `count` bytes as a view into the same memory.
    mutating func view(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, remaining >= count else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    /// Reads a vector whose length is given by a one-byte prefix.
    mutating func vector8() -> UnsafeRawBufferPointer? {
        let start = offset
        guard let length = u8() else { return nil }
        guard let body = view(Int(length)) else { offset = start; return nil }
        return body
    }

    /// Reads a vector whose length is given by a two-byte prefix.
    mutating func vector16() -> UnsafeRawBufferPointer? {
        let start = offset
        guard let length = u16() else { return nil }
        guard let body = view(Int(length)) else { offset = start; return nil }
        return body
    }

    /// Reads a vector whose length is given by a three-byte prefix.
    mutating func vector24() -> UnsafeRawBufferPointer? {
        let start = offset
        guard let length = u24() else { return nil }
        guard let body = view(length) else { offset = start; return nil }
        return body
    }

    /// Reads a whole view as a list of big-endian 16-bit values; nil when its length is odd.
    static func u16List(_ view: UnsafeRawBufferPointer) -> [UInt16]? {
        guard view.count % 2 == 0 else { return nil }
        var values: [UInt16] = []
        values.reserveCapacity(view.count / 2)
        var index = 0
        while index + 1 < view.count {
            values.append(UInt16(view[index]) << 8 | UInt16(view[index + 1]))
            index += 2
        }
        return values
    }
}

/// Lowercase hexadecimal text without Foundation's formatter.
enum TLSHex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)
    private static let upperDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Hex of the bytes, optionally with a separator between bytes (`ab:cd`).
    static func string<C: Collection>(_ bytes: C, separator: UInt8? = nil, uppercase: Bool = false) -> String
        where C.Element == UInt8 {
        let table = uppercase ? upperDigits : digits
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 3)
        for byte in bytes {
            if let separator, !text.isEmpty { text.append(separator) }
            text.append(table[Int(byte >> 4)])
            text.append(table[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Four lowercase hex digits of a 16-bit code point (`002f`), as JA4 writes them.
    static func code(_ value: UInt16) -> String {
        string([UInt8(value >> 8), UInt8(value & 0xff)])
    }
}
