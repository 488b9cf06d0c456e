// Bounds-checked reads over borrowed packet bytes. Every read returns nil when the requested
// bytes lie outside the buffer, so a short or lying length field can never trap.
extension UnsafeRawBufferPointer {
    @inline(__always)
    func byte(at offset: Int) -> UInt8? {
        guard offset >= 0, offset < count else { return nil }
        return self[offset]
    }

    @inline(__always)
    func bigEndianUInt16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset <= count &- 2 else { return nil }
        return UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    @inline(__always)
    func bigEndianUInt24(at offset: Int) -> UInt32? {
        guard offset >= 0, offset <= count &- 3 else { return nil }
        return UInt32(self[offset]) << 16 | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2])
    }

    @inline(__always)
    func bigEndianUInt32(at offset: Int) -> UInt32? {
        guard offset >= 0, offset <= count &- 4 else { return nil }
        return UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16
            | UInt32(self[offset + 2]) << 8 | UInt32(self[offset + 3])
    }

    @inline(__always)
    func littleEndianUInt32(at offset: Int) -> UInt32? {
        guard offset >= 0, offset <= count &- 4 else { return nil }
        return UInt32(self[offset + 3]) << 24 | UInt32(self[offset + 2]) << 16
            | UInt32(self[offset + 1]) << 8 | UInt32(self[offset])
    }

    @inline(__always)
    func bigEndianUInt64(at offset: Int) -> UInt64? {
        guard let high = bigEndianUInt32(at: offset), let low = bigEndianUInt32(at: offset &+ 4) else { return nil }
        return UInt64(high) << 32 | UInt64(low)
    }

    /// Reads the 48-bit MAC address at `offset`.
    @inline(__always)
    func macAddress(at offset: Int) -> MACAddressBits? {
        guard let high = bigEndianUInt16(at: offset), let low = bigEndianUInt32(at: offset &+ 2) else { return nil }
        return UInt64(high) << 32 | UInt64(low)
    }

    /// Returns the bytes from `start` up to `end`, both clamped to the buffer.
    @inline(__always)
    func clampedSlice(from start: Int, to end: Int) -> UnsafeRawBufferPointer {
        let lower = Swift.max(0, Swift.min(start, count))
        let upper = Swift.max(lower, Swift.min(end, count))
        guard let base = baseAddress else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + lower, count: upper - lower)
    }
}

/// A MAC address as the low 48 bits of an integer, before it becomes a `MACAddress`.
typealias MACAddressBits = UInt64
