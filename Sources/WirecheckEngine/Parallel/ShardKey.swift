import WirecheckCore
import WirecheckDecoding

/// Picks the worker of a packet from the IP address pair of its outermost IP header, read with a
/// light parse of the link layer. Both directions, every fragment and every tunnelled packet of
/// one host pair get the same worker, so reassembly, conversations, vertical scans and the
/// per-conversation detector state all stay inside one worker.
enum ShardKey {
    /// Returns a hash of the unordered address pair, or nil for a packet without a readable IPv4
    /// or IPv6 header (ARP, other link protocols, truncated frames).
    static func hash(linkType: LinkType, bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard let offset = networkOffset(linkType: linkType, bytes: bytes), offset < bytes.count else { return nil }
        switch bytes[offset] >> 4 {
        case 4:
            guard let source = bytes.shardUInt32(at: offset + 12),
                  let destination = bytes.shardUInt32(at: offset + 16) else { return nil }
            let low = UInt64(min(source, destination))
            let high = UInt64(max(source, destination))
            return mix(low << 32 | high)
        case 6:
            guard let sourceHigh = bytes.shardUInt64(at: offset + 8), let sourceLow = bytes.shardUInt64(at: offset + 16),
                  let destinationHigh = bytes.shardUInt64(at: offset + 24),
                  let destinationLow = bytes.shardUInt64(at: offset + 32) else { return nil }
            let sourceFirst = (sourceHigh, sourceLow) < (destinationHigh, destinationLow)
            let first = sourceFirst ? (sourceHigh, sourceLow) : (destinationHigh, destinationLow)
            let second = sourceFirst ? (destinationHigh, destinationLow) : (sourceHigh, sourceLow)
            return mix(mix(mix(first.0) ^ first.1) ^ mix(second.0 ^ mix(second.1)))
        default:
            return nil
        }
    }

    /// Returns the offset of the IP header, or nil when the link layer carries something else.
    static func networkOffset(linkType: LinkType, bytes: UnsafeRawBufferPointer) -> Int? {
        switch linkType {
        case .ethernet:
            var offset = 12
            var etherType = bytes.shardUInt16(at: offset)
            // An IEEE 802.3 length (1500 or less) with an 802.2 LLC/SNAP header (AA AA 03 and
            // organization code 0) carries the EtherType 6 bytes further on, as the decoder reads it.
            if let type = etherType, type <= 1500, offset + 10 <= bytes.count, bytes[14] == 0xAA, bytes[15] == 0xAA,
               bytes[17] == 0, bytes[18] == 0, bytes[19] == 0 {
                offset = 20
                etherType = bytes.shardUInt16(at: offset)
            }
            // 802.1Q and 802.1ad tags, at most `maxVLANTags` deep so a frame of tags ends the loop early.
            var tags = 0
            while let type = etherType, type == EtherType.vlan || type == EtherType.serviceVLAN
                    || type == EtherType.legacyServiceVLAN, tags < maxVLANTags {
                offset += 4
                tags += 1
                etherType = bytes.shardUInt16(at: offset)
            }
            return ipOffset(etherType: etherType, at: offset + 2)
        case .linuxSLL:
            return ipOffset(etherType: bytes.shardUInt16(at: 14), at: 16)
        case .linuxSLL2:
            return ipOffset(etherType: bytes.shardUInt16(at: 0), at: 20)
        case .null, .loop:
            // The address family is in the capturing host's byte order for `null`, so both orders
            // are accepted. AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30 by platform.
            guard let family = bytes.shardUInt32(at: 0) else { return nil }
            let value = family > 0xFFFF ? family.byteSwapped : family
            return [2, 10, 24, 28, 30].contains(value) ? 4 : nil
        case .raw, .ipv4, .ipv6:
            return 0
        default:
            return nil
        }
    }

    /// Deepest VLAN tag stack the light parse walks through; deeper frames go to worker 0.
    static let maxVLANTags = 8

    private static func ipOffset(etherType: UInt16?, at offset: Int) -> Int? {
        guard let etherType, etherType == EtherType.ipv4 || etherType == EtherType.ipv6 else { return nil }
        return offset
    }

    /// SplitMix64's finaliser, which spreads nearby addresses over all workers.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// Bounds-checked big-endian reads for the light parse; each returns nil past the end.
extension UnsafeRawBufferPointer {
    fileprivate func shardUInt16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset <= count &- 2 else { return nil }
        return UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    fileprivate func shardUInt32(at offset: Int) -> UInt32? {
        guard let high = shardUInt16(at: offset), let low = shardUInt16(at: offset &+ 2) else { return nil }
        return UInt32(high) << 16 | UInt32(low)
    }

    fileprivate func shardUInt64(at offset: Int) -> UInt64? {
        guard let high = shardUInt32(at: offset), let low = shardUInt32(at: offset &+ 4) else { return nil }
        return UInt64(high) << 32 | UInt64(low)
    }
}
