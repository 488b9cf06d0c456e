/// An IPv4 or IPv6 address held inline, so flow keys and events need no heap storage for it.
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// IPv4 address in host byte order (`0x0A000001` is 10.0.0.1).
    case v4(UInt32)
    /// IPv6 address as its high and low 64 bits in host byte order.
    case v6(UInt64, UInt64)

    public var isV4: Bool {
        if case .v4 = self { return true }
        return false
    }

    /// Network-order bytes: 4 for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value):
            return [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
        case .v6(let high, let low):
            var result = [UInt8]()
            result.reserveCapacity(16)
            for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8((high >> UInt64(shift)) & 0xff)) }
            for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8((low >> UInt64(shift)) & 0xff)) }
            return result
        }
    }

    /// Dotted quad for IPv4; RFC 5952 text (lowercase, longest zero run compressed) for IPv6.
    public var description: String {
        switch self {
        case .v4(let value):
            // Every event names its addresses, so the digits go into a stack buffer. Interpolating
            // four integers cost several thousand instructions per address.
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 15) { buffer in
                var count = 0
                for shift in stride(from: 24, through: 0, by: -8) {
                    let octet = Int((value >> UInt32(shift)) & 0xff)
                    if octet >= 100 { buffer[count] = UInt8(48 + octet / 100); count += 1 }
                    if octet >= 10 { buffer[count] = UInt8(48 + octet / 10 % 10); count += 1 }
                    buffer[count] = UInt8(48 + octet % 10)
                    count += 1
                    if shift > 0 { buffer[count] = UInt8(ascii: "."); count += 1 }
                }
                return String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<count]), as: UTF8.self)
            }
        case .v6(let high, let low):
            var groups = [UInt16](repeating: 0, count: 8)
            for index in 0..<4 {
                groups[index] = UInt16((high >> UInt64(48 - 16 * index)) & 0xffff)
                groups[index + 4] = UInt16((low >> UInt64(48 - 16 * index)) & 0xffff)
            }
            // Find the longest run of two or more zero groups to compress as "::".
            var bestStart = -1, bestLength = 0, runStart = -1
            for index in 0...8 {
                if index < 8 && groups[index] == 0 {
                    if runStart < 0 { runStart = index }
                } else if runStart >= 0 {
                    let length = index - runStart
                    if length > bestLength && length >= 2 { bestStart = runStart; bestLength = length }
                    runStart = -1
                }
            }
            if bestStart == 0 && bestLength == 5 && groups[5] == 0xffff {
                // IPv4-mapped address, written with its IPv4 tail.
                let v4 = UInt32(groups[6]) << 16 | UInt32(groups[7])
                return "::ffff:" + IPAddress.v4(v4).description
            }
            var text = ""
            var index = 0
            while index < 8 {
                if index == bestStart {
                    text += index == 0 ? "::" : ":"
                    index += bestLength
                    continue
                }
                text += String(groups[index], radix: 16)
                if index < 7 { text += ":" }
                index += 1
            }
            return text
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): return a < b
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        case (.v6(let ah, let al), .v6(let bh, let bl)): return ah != bh ? ah < bh : al < bl
        }
    }

    /// Parses dotted-quad IPv4 or colon-separated IPv6 text; returns nil for anything else.
    public init?(_ text: String) {
        if text.contains(":") {
            guard let value = IPAddress.parseV6(text) else { return nil }
            self = value
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var value: UInt32 = 0
            for part in parts {
                guard let octet = UInt8(part) else { return nil }
                value = value << 8 | UInt32(octet)
            }
            self = .v4(value)
        }
    }

    private static func parseV6(_ text: String) -> IPAddress? {
        var head: [UInt16] = [], tail: [UInt16] = []
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains("."), case .v4(let v4)? = IPAddress(String(piece)) {
                    result.append(UInt16(v4 >> 16))
                    result.append(UInt16(v4 & 0xffff))
                } else {
                    guard piece.count <= 4, let group = UInt16(piece, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        guard let first = groups(halves[0]) else { return nil }
        head = first
        if halves.count == 2 {
            guard let second = groups(halves[1]) else { return nil }
            tail = second
            guard head.count + tail.count <= 7 else { return nil }
        } else {
            guard head.count == 8 else { return nil }
        }
        let all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        var high: UInt64 = 0, low: UInt64 = 0
        for index in 0..<4 { high = high << 16 | UInt64(all[index]) }
        for index in 4..<8 { low = low << 16 | UInt64(all[index]) }
        return .v6(high, low)
    }
}

/// A 48-bit Ethernet MAC address held in the low bits of a `UInt64`.
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value & 0xffff_ffff_ffff }

    public static let broadcast = MACAddress(0xffff_ffff_ffff)
    public static let zero = MACAddress(0)

    public var description: String {
        (0..<6).map { index -> String in
            let byte = UInt8((value >> UInt64(40 - 8 * index)) & 0xff)
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }

    /// The 24-bit organisationally unique identifier that names the vendor.
    public var oui: UInt32 { UInt32(value >> 24) }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.value < rhs.value }
}
