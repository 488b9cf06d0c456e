import WirecheckCore

extension PacketBuilder {
    mutating func appendUInt16(_ value: UInt16) {
        buffer.append(UInt8(value >> 8))
        buffer.append(UInt8(value & 0xff))
    }

    mutating func appendUInt32(_ value: UInt32) {
        appendUInt16(UInt16(value >> 16))
        appendUInt16(UInt16(value & 0xffff))
    }

    mutating func appendMAC(_ address: MACAddress) {
        for shift in stride(from: 40, through: 0, by: -8) { buffer.append(UInt8((address.value >> UInt64(shift)) & 0xff)) }
    }

    /// Appends an address in network order without building an intermediate array.
    mutating func appendAddress(_ address: IPAddress) {
        switch address {
        case .v4(let value):
            appendUInt32(value)
        case .v6(let high, let low):
            appendUInt32(UInt32(high >> 32))
            appendUInt32(UInt32(high & 0xffff_ffff))
            appendUInt32(UInt32(low >> 32))
            appendUInt32(UInt32(low & 0xffff_ffff))
        }
    }

    mutating func writeUInt16(_ value: UInt16, at offset: Int) {
        buffer[offset] = UInt8(value >> 8)
        buffer[offset + 1] = UInt8(value & 0xff)
    }

    mutating func writeEthernet(_ link: EthernetSpec, etherType: UInt16) {
        appendMAC(link.destination)
        appendMAC(link.source)
        for (index, vlan) in link.vlans.enumerated() {
            let isOuterOfSeveral = index == 0 && link.vlans.count > 1
            appendUInt16(isOuterOfSeveral ? PacketBuilder.tpidServiceVLAN : PacketBuilder.tpidCustomerVLAN)
            appendUInt16(vlan & 0x0fff)
        }
        appendUInt16(etherType)
    }

    /// Writes the link and IP headers for an upper layer of `upperLength` bytes and returns the
    /// offset of the IP header.
    mutating func writeIP(_ link: EthernetSpec?, _ ip: IPSpec, protocolNumber: UInt8, upperLength: Int) -> Int {
        let isV6 = !ip.source.isV4
        if let link { writeEthernet(link, etherType: isV6 ? PacketBuilder.etherTypeIPv6 : PacketBuilder.etherTypeIPv4) }
        let start = buffer.count
        if isV6 {
            writeIPv6(ip, protocolNumber: protocolNumber, upperLength: upperLength)
        } else {
            writeIPv4(ip, protocolNumber: protocolNumber, upperLength: upperLength)
        }
        return start
    }

    private mutating func writeIPv4(_ ip: IPSpec, protocolNumber: UInt8, upperLength: Int) {
        let optionsLength = (ip.options.count + 3) / 4 * 4
        let headerLength = 20 + optionsLength
        let start = buffer.count
        buffer.append(0x40 | UInt8(headerLength / 4))
        buffer.append(ip.typeOfService)
        appendUInt16(UInt16(truncatingIfNeeded: headerLength + upperLength))
        appendUInt16(ip.identification)
        appendUInt16(ip.dontFragment ? 0x4000 : 0)
        buffer.append(ip.ttl)
        buffer.append(protocolNumber)
        appendUInt16(0)
        appendAddress(ip.source)
        appendAddress(ip.destination)
        buffer.append(contentsOf: ip.options)
        buffer.append(contentsOf: repeatElement(0, count: optionsLength - ip.options.count))
        storeChecksum(at: start + 10, over: start..<buffer.count, initial: 0)
    }

    private mutating func writeIPv6(_ ip: IPSpec, protocolNumber: UInt8, upperLength: Int) {
        let extensionLength = ip.extensionHeaders.reduce(0) { $0 + PacketBuilder.paddedLength(of: $1) }
        appendUInt32(0x6000_0000 | UInt32(ip.typeOfService) << 20)
        appendUInt16(UInt16(truncatingIfNeeded: extensionLength + upperLength))
        buffer.append(ip.extensionHeaders.first?.headerNumber ?? protocolNumber)
        buffer.append(ip.ttl)
        appendAddress(ip.source)
        appendAddress(ip.destination)
        for (index, header) in ip.extensionHeaders.enumerated() {
            let next = index + 1 < ip.extensionHeaders.count ? ip.extensionHeaders[index + 1].headerNumber : protocolNumber
            let length = PacketBuilder.paddedLength(of: header)
            buffer.append(next)
            // The authentication header counts 4-byte units minus 2, the others 8-byte units minus 1.
            buffer.append(UInt8(truncatingIfNeeded: header.headerNumber == 51 ? length / 4 - 2 : length / 8 - 1))
            buffer.append(contentsOf: header.body)
            buffer.append(contentsOf: repeatElement(0, count: length - 2 - header.body.count))
        }
    }

    static func paddedLength(of header: IPv6ExtensionSpec) -> Int {
        let unit = header.headerNumber == 51 ? 4 : 8
        return max(8, (2 + header.body.count + unit - 1) / unit * unit)
    }

    static func paddedLength(of options: [TCPOptionSpec]) -> Int {
        var length = 0
        for option in options {
            switch option {
            case .endOfOptionList, .noOperation: length += 1
            case .maximumSegmentSize: length += 4
            case .windowScale: length += 3
            case .sackPermitted: length += 2
            case .sack(let blocks): length += 2 + 8 * blocks.count
            case .timestamps: length += 10
            case .fastOpen(let cookie): length += 2 + cookie.count
            case .raw(let bytes): length += bytes.count
            }
        }
        return (length + 3) / 4 * 4
    }

    mutating func writeOptions(_ options: [TCPOptionSpec], paddedTo length: Int) {
        let start = buffer.count
        for option in options {
            switch option {
            case .endOfOptionList:
                buffer.append(0)
            case .noOperation:
                buffer.append(1)
            case .maximumSegmentSize(let size):
                buffer.append(contentsOf: [2, 4])
                appendUInt16(size)
            case .windowScale(let shift):
                buffer.append(contentsOf: [3, 3, shift])
            case .sackPermitted:
                buffer.append(contentsOf: [4, 2])
            case .sack(let blocks):
                buffer.append(5)
                buffer.append(UInt8(truncatingIfNeeded: 2 + 8 * blocks.count))
                for (left, right) in blocks {
                    appendUInt32(left)
                    appendUInt32(right)
                }
            case .timestamps(let value, let echo):
                buffer.append(contentsOf: [8, 10])
                appendUInt32(value)
                appendUInt32(echo)
            case .fastOpen(let cookie):
                buffer.append(34)
                buffer.append(UInt8(truncatingIfNeeded: 2 + cookie.count))
                buffer.append(contentsOf: cookie)
            case .raw(let bytes):
                buffer.append(contentsOf: bytes)
            }
        }
        buffer.append(contentsOf: repeatElement(0, count: length - (buffer.count - start)))
    }

    /// Stores the Internet checksum of `range` (plus `initial`) at `offset`. The checksum field
    /// must be zero beforehand.
    mutating func storeChecksum(at offset: Int, over range: Range<Int>, initial: UInt32) {
        let sum = buffer.withUnsafeBytes { bytes in
            PacketChecksum.add(UnsafeRawBufferPointer(rebasing: bytes[range]), to: initial)
        }
        writeUInt16(PacketChecksum.finish(sum), at: offset)
    }

    /// Stores a TCP, UDP or ICMPv6 checksum over the upper layer from `start` to the end.
    mutating func storeTransportChecksum(_ ip: IPSpec, protocolNumber: UInt8, start: Int, checksumOffset: Int) {
        let length = buffer.count - start
        var pseudo = PacketChecksum.add(ip.source, to: 0)
        pseudo = PacketChecksum.add(ip.destination, to: pseudo)
        pseudo = PacketChecksum.fold(UInt64(pseudo) + UInt64(protocolNumber) + UInt64(length >> 16) + UInt64(length & 0xffff))
        storeChecksum(at: start + checksumOffset, over: start..<buffer.count, initial: pseudo)
    }
}

/// The Internet checksum (RFC 1071), kept here because synthesis does not depend on decoding.
enum PacketChecksum {
    static func add(_ bytes: UnsafeRawBufferPointer, to sum: UInt32) -> UInt32 {
        var total = UInt64(sum)
        var index = 0
        while index + 1 < bytes.count {
            total += UInt64(bytes[index]) << 8 | UInt64(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { total += UInt64(bytes[index]) << 8 }
        return fold(total)
    }

    static func add(_ address: IPAddress, to sum: UInt32) -> UInt32 {
        var total = UInt64(sum)
        switch address {
        case .v4(let value):
            total += UInt64(value >> 16) + UInt64(value & 0xffff)
        case .v6(let high, let low):
            total += (high >> 48) + ((high >> 32) & 0xffff) + ((high >> 16) & 0xffff) + (high & 0xffff)
            total += (low >> 48) + ((low >> 32) & 0xffff) + ((low >> 16) & 0xffff) + (low & 0xffff)
        }
        return fold(total)
    }

    static func fold(_ value: UInt64) -> UInt32 {
        var folded = value
        while folded > 0xffff_ffff { folded = (folded & 0xffff_ffff) + (folded >> 32) }
        return UInt32(folded)
    }

    static func finish(_ sum: UInt32) -> UInt16 {
        var folded = sum
        while folded > 0xffff { folded = (folded & 0xffff) + (folded >> 16) }
        return ~UInt16(folded)
    }
}
