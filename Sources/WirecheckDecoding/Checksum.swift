import WirecheckCore

/// The Internet checksum (RFC 1071): a ones'-complement sum of 16-bit big-endian words.
public enum InternetChecksum {
    /// Adds `bytes` to a running 32-bit sum; an odd final byte is padded with zero.
    @inline(__always)
    public static func add(_ bytes: UnsafeRawBufferPointer, to sum: UInt32) -> UInt32 {
        var total = UInt64(sum)
        var index = 0
        let count = bytes.count
        while index + 1 < count {
            total &+= UInt64(bytes[index]) << 8 | UInt64(bytes[index + 1])
            index += 2
        }
        if index < count { total &+= UInt64(bytes[index]) << 8 }
        return fold64(total)
    }

    /// Adds an IP address to a running sum, as the TCP and UDP pseudo-header needs.
    @inline(__always)
    public static func add(_ address: IPAddress, to sum: UInt32) -> UInt32 {
        var total = UInt64(sum)
        switch address {
        case .v4(let value):
            total &+= UInt64(value >> 16) &+ UInt64(value & 0xffff)
        case .v6(let high, let low):
            total &+= (high >> 48) &+ ((high >> 32) & 0xffff) &+ ((high >> 16) & 0xffff) &+ (high & 0xffff)
            total &+= (low >> 48) &+ ((low >> 32) & 0xffff) &+ ((low >> 16) & 0xffff) &+ (low & 0xffff)
        }
        return fold64(total)
    }

    /// Folds a sum to 16 bits and complements it: the value to store in a checksum field, or
    /// 0 when verifying a buffer that already contains a correct checksum.
    @inline(__always)
    public static func finish(_ sum: UInt32) -> UInt16 {
        var folded = sum
        while folded > 0xffff { folded = (folded & 0xffff) &+ (folded >> 16) }
        return ~UInt16(folded)
    }

    /// Returns the starting sum of a TCP or UDP checksum: the pseudo-header of source,
    /// destination, protocol and transport length (RFC 793 for IPv4, RFC 8200 section 8.1).
    @inline(__always)
    public static func pseudoHeaderSum(source: IPAddress, destination: IPAddress, protocol number: UInt8,
                                       length: Int) -> UInt32 {
        var sum = add(source, to: 0)
        sum = add(destination, to: sum)
        let length64 = UInt64(truncatingIfNeeded: length)
        return fold64(UInt64(sum) &+ UInt64(number) &+ (length64 >> 16) &+ (length64 & 0xffff))
    }

    @inline(__always)
    static func fold64(_ value: UInt64) -> UInt32 {
        var folded = value
        while folded > 0xffff_ffff { folded = (folded & 0xffff_ffff) &+ (folded >> 32) }
        return UInt32(folded)
    }
}
