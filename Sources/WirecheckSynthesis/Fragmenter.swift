import WirecheckCore

/// Splits IP packets into fragments, for reassembly tests and captures.
public enum Fragmenter {
    /// Splits an IPv4 packet (starting at its header) into fragments whose payloads hold at most
    /// `maxPayloadPerFragment` bytes, rounded down to a multiple of 8 as the offset field
    /// requires. Every fragment repeats the header with its options.
    /// NOTE: RFC 791 copies only options with the "copied" bit into later fragments; this
    /// helper copies all of them, which decoders accept.
    public static func fragmentIPv4(_ packet: [UInt8], maxPayloadPerFragment: Int) -> [[UInt8]] {
        guard packet.count >= 20 else { return [packet] }
        let headerLength = Int(packet[0] & 0x0f) * 4
        guard headerLength >= 20, headerLength <= packet.count else { return [packet] }
        let step = max(8, maxPayloadPerFragment / 8 * 8)
        let payload = packet[headerLength...]
        var fragments: [[UInt8]] = []
        var offset = 0
        while offset < payload.count {
            let length = min(step, payload.count - offset)
            let more = offset + length < payload.count
            fragments.append(ipv4Fragment(header: Array(packet[0..<headerLength]), offset: offset, more: more,
                                          payload: Array(payload[(headerLength + offset)..<(headerLength + offset + length)])))
            offset += length
        }
        return fragments
    }

    /// Builds one IPv4 fragment from a header template: total length, flags, offset and
    /// checksum are rewritten. `offset` is in bytes and must be a multiple of 8.
    public static func ipv4Fragment(header: [UInt8], offset: Int, more: Bool, payload: [UInt8]) -> [UInt8] {
        var fragment = header
        let total = header.count + payload.count
        fragment[2] = UInt8(truncatingIfNeeded: total >> 8)
        fragment[3] = UInt8(truncatingIfNeeded: total)
        let flags: UInt16 = (UInt16(header[6] & 0x40) << 8) | (more ? 0x2000 : 0) | UInt16(truncatingIfNeeded: offset / 8) & 0x1fff
        fragment[6] = UInt8(flags >> 8)
        fragment[7] = UInt8(flags & 0xff)
        fragment[10] = 0
        fragment[11] = 0
        let sum = fragment.withUnsafeBytes { PacketChecksum.finish(PacketChecksum.add(UnsafeRawBufferPointer(rebasing: $0[0..<header.count]), to: 0)) }
        fragment[10] = UInt8(sum >> 8)
        fragment[11] = UInt8(sum & 0xff)
        fragment.append(contentsOf: payload)
        return fragment
    }

    /// Splits an IPv6 packet (starting at its fixed header) into fragments with a fragment
    /// header after the fixed header. Extension headers already in the packet are treated as
    /// part of the fragmentable payload.
    public static func fragmentIPv6(_ packet: [UInt8], maxPayloadPerFragment: Int, identification: UInt32) -> [[UInt8]] {
        guard packet.count >= 40 else { return [packet] }
        let step = max(8, maxPayloadPerFragment / 8 * 8)
        let nextHeader = packet[6]
        let payload = Array(packet[40...])
        var fragments: [[UInt8]] = []
        var offset = 0
        while offset < payload.count {
            let length = min(step, payload.count - offset)
            let more = offset + length < payload.count
            fragments.append(ipv6Fragment(header: Array(packet[0..<40]), nextHeader: nextHeader, offset: offset, more: more,
                                          identification: identification,
                                          payload: Array(payload[offset..<(offset + length)])))
            offset += length
        }
        return fragments
    }

    /// Builds one IPv6 fragment from a fixed-header template. `offset` is in bytes and must be
    /// a multiple of 8, and `nextHeader` is the protocol of the fragmentable part.
    public static func ipv6Fragment(header: [UInt8], nextHeader: UInt8, offset: Int, more: Bool, identification: UInt32,
                                    payload: [UInt8]) -> [UInt8] {
        var fragment = Array(header.prefix(40))
        let payloadLength = 8 + payload.count
        fragment[4] = UInt8(truncatingIfNeeded: payloadLength >> 8)
        fragment[5] = UInt8(truncatingIfNeeded: payloadLength)
        fragment[6] = 44
        let offsetField = UInt16(truncatingIfNeeded: offset / 8) << 3 | (more ? 1 : 0)
        fragment.append(contentsOf: [nextHeader, 0, UInt8(offsetField >> 8), UInt8(offsetField & 0xff),
                                     UInt8(identification >> 24), UInt8((identification >> 16) & 0xff),
                                     UInt8((identification >> 8) & 0xff), UInt8(identification & 0xff)])
        fragment.append(contentsOf: payload)
        return fragment
    }
}
