/// Zero-copy readers for the BACnet/IP layers: BVLC (Annex J), NPDU (clause 6), APDU header
/// (clause 20.1) and the tagged encoding of service parameters (clause 20.2). Every read
/// returns nil on short input instead of trapping.

extension UnsafeRawBufferPointer {
    func bacnetByte(_ offset: Int) -> UInt8? {
        offset >= 0 && offset < count ? self[offset] : nil
    }

    func bacnetUInt16(_ offset: Int) -> UInt16? {
        guard offset >= 0, offset + 2 <= count else { return nil }
        return UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    /// Reads an unsigned big-endian integer of 1 to 4 bytes, the encoding of BACnet unsigned and
    /// enumerated values.
    func bacnetUnsigned(_ offset: Int, length: Int) -> UInt32? {
        guard length >= 1, length <= 4, offset >= 0, offset + length <= count else { return nil }
        var value: UInt32 = 0
        for index in offset..<(offset + length) {
            value = value << 8 | UInt32(self[index])
        }
        return value
    }
}

/// The BACnet Virtual Link Control header that starts every BACnet/IP datagram.
struct BVLCHeader {
    static let type: UInt8 = 0x81
    static let length = 4
    /// The BBMD prepends the original source's IPv4 address and port to a forwarded NPDU.
    static let forwardedAddressLength = 6

    let function: UInt8
    /// The datagram length the header declares, header included.
    let declaredLength: Int

    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.bacnetByte(0) == BVLCHeader.type, let function = bytes.bacnetByte(1),
              let length = bytes.bacnetUInt16(2) else { return nil }
        self.function = function
        self.declaredLength = Int(length)
    }

    /// The offset of the NPDU for functions that carry one, or nil for link-control functions.
    var npduOffset: Int? {
        switch function {
        case 0x04: return BVLCHeader.length + BVLCHeader.forwardedAddressLength
        case 0x09, 0x0A, 0x0B: return BVLCHeader.length
        default: return nil
        }
    }
}

/// The network-layer header (NPCI) that precedes every APDU or network-layer message.
struct NPDUHeader {
    static let version: UInt8 = 1

    let version: UInt8
    let control: UInt8
    let destinationNetwork: UInt16?
    let sourceNetwork: UInt16?
    let hopCount: UInt8?
    /// Network-layer message type, present when control bit 7 is set.
    let messageType: UInt8?
    /// Offset of the APDU or of the network-layer message's parameters.
    let payloadOffset: Int

    var isNetworkMessage: Bool { control & 0x80 != 0 }
    var expectingReply: Bool { control & 0x04 != 0 }
    var priority: UInt8 { control & 0x03 }

    /// Parses the NPCI at the start of `bytes`; nil when it is cut short.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard let version = bytes.bacnetByte(0), let control = bytes.bacnetByte(1) else { return nil }
        self.version = version
        self.control = control
        var offset = 2

        if control & 0x20 != 0 {
            guard let network = bytes.bacnetUInt16(offset), let addressLength = bytes.bacnetByte(offset + 2) else { return nil }
            destinationNetwork = network
            offset += 3 + Int(addressLength)
        } else {
            destinationNetwork = nil
        }

        if control & 0x08 != 0 {
            guard let network = bytes.bacnetUInt16(offset), let addressLength = bytes.bacnetByte(offset + 2) else { return nil }
            sourceNetwork = network
            offset += 3 + Int(addressLength)
        } else {
            sourceNetwork = nil
        }

        if destinationNetwork != nil {
            guard let hops = bytes.bacnetByte(offset) else { return nil }
            hopCount = hops
            offset += 1
        } else {
            hopCount = nil
        }

        if control & 0x80 != 0 {
            guard let type = bytes.bacnetByte(offset) else { return nil }
            messageType = type
            offset += 1
            // Proprietary network messages (0x80-0xFF) carry a 2-byte vendor id.
            if type >= 0x80 { offset += 2 }
        } else {
            messageType = nil
        }
        guard offset <= bytes.count else { return nil }
        payloadOffset = offset
    }
}

/// The fixed part of an APDU: its type, invoke id, segmentation fields and service choice.
struct APDUHeader {
    let type: UInt8
    let flags: UInt8
    let invokeID: UInt8?
    let serviceChoice: UInt8?
    let sequenceNumber: UInt8?
    /// Reject or abort reason.
    let reason: UInt8?
    /// Offset of the service parameters.
    let parametersOffset: Int

    var segmented: Bool { flags & 0x08 != 0 }
    var moreFollows: Bool { flags & 0x04 != 0 }

    /// Parses the APDU header; nil when it is cut short. Types above 7 return a header with no
    /// fields so the caller can name the unknown type.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.bacnetByte(0) else { return nil }
        type = first >> 4
        flags = first & 0x0F
        var invokeID: UInt8?
        var serviceChoice: UInt8?
        var sequenceNumber: UInt8?
        var reason: UInt8?
        var offset: Int

        switch type {
        case 0:
            // Octet 1 packs max segments and max APDU; octet 2 is the invoke id.
            guard let invoke = bytes.bacnetByte(2) else { return nil }
            invokeID = invoke
            offset = 3
            if first & 0x08 != 0 {
                guard let sequence = bytes.bacnetByte(3) else { return nil }
                sequenceNumber = sequence
                offset = 5
            }
            guard let choice = bytes.bacnetByte(offset) else { return nil }
            serviceChoice = choice
            offset += 1
        case 1:
            guard let choice = bytes.bacnetByte(1) else { return nil }
            serviceChoice = choice
            offset = 2
        case 2:
            guard let invoke = bytes.bacnetByte(1), let choice = bytes.bacnetByte(2) else { return nil }
            invokeID = invoke
            serviceChoice = choice
            offset = 3
        case 3:
            guard let invoke = bytes.bacnetByte(1) else { return nil }
            invokeID = invoke
            offset = 2
            if first & 0x08 != 0 {
                guard let sequence = bytes.bacnetByte(2) else { return nil }
                sequenceNumber = sequence
                offset = 4
            }
            guard let choice = bytes.bacnetByte(offset) else { return nil }
            serviceChoice = choice
            offset += 1
        case 4:
            guard let invoke = bytes.bacnetByte(1), let sequence = bytes.bacnetByte(2), bytes.count >= 4 else { return nil }
            invokeID = invoke
            sequenceNumber = sequence
            offset = 4
        case 5:
            guard let invoke = bytes.bacnetByte(1), let choice = bytes.bacnetByte(2) else { return nil }
            invokeID = invoke
            serviceChoice = choice
            offset = 3
        case 6, 7:
            guard let invoke = bytes.bacnetByte(1), let code = bytes.bacnetByte(2) else { return nil }
            invokeID = invoke
            reason = code
            offset = 3
        default:
            offset = 1
        }
        self.invokeID = invokeID
        self.serviceChoice = serviceChoice
        self.sequenceNumber = sequenceNumber
        self.reason = reason
        self.parametersOffset = offset
    }
}

/// One tag of the BACnet tagged encoding (clause 20.2.1).
struct BACnetTag {
    enum Kind: Equatable {
        case application
        case context
        case opening
        case closing
    }

    let number: UInt8
    let kind: Kind
    /// Length of the content; 0 for opening and closing tags. For an application boolean the
    /// value sits in the tag itself, so the length is 0 and `booleanValue` carries it.
    let length: Int
    let booleanValue: Bool?
    /// Offset of the content, just after the tag and its extended fields.
    let contentOffset: Int

    static let applicationBoolean: UInt8 = 1
    static let applicationUnsigned: UInt8 = 2
    static let applicationEnumerated: UInt8 = 9
    static let applicationObjectIdentifier: UInt8 = 12

    var endOffset: Int { contentOffset + length }

    /// Parses the tag at `offset`; nil when the tag or its content runs past the end.
    init?(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        guard let first = bytes.bacnetByte(offset) else { return nil }
        var cursor = offset + 1
        var number = first >> 4
        if number == 0x0F {
            guard let extended = bytes.bacnetByte(cursor) else { return nil }
            number = extended
            cursor += 1
        }
        let isContext = first & 0x08 != 0
        let lengthValueType = first & 0x07
        var length = Int(lengthValueType)
        var kind: Kind = isContext ? .context : .application
        var booleanValue: Bool?

        if isContext && lengthValueType == 6 {
            kind = .opening
            length = 0
        } else if isContext && lengthValueType == 7 {
            kind = .closing
            length = 0
        } else if !isContext && number == BACnetTag.applicationBoolean {
            booleanValue = lengthValueType != 0
            length = 0
        } else if lengthValueType == 5 {
            guard let extended = bytes.bacnetByte(cursor) else { return nil }
            cursor += 1
            switch extended {
            case 254:
                guard let value = bytes.bacnetUInt16(cursor) else { return nil }
                length = Int(value)
                cursor += 2
            case 255:
                guard let value = bytes.bacnetUnsigned(cursor, length: 4) else { return nil }
                length = Int(value)
                cursor += 4
            default:
                length = Int(extended)
            }
        }
        guard cursor + length <= bytes.count else { return nil }
        self.number = number
        self.kind = kind
        self.length = length
        self.booleanValue = booleanValue
        self.contentOffset = cursor
    }

    /// Returns the content as an unsigned or enumerated value, when it is 1 to 4 bytes long.
    func unsigned(in bytes: UnsafeRawBufferPointer) -> UInt32? {
        bytes.bacnetUnsigned(contentOffset, length: length)
    }
}

/// A BACnetObjectIdentifier: a 10-bit object type and a 22-bit instance number.
struct BACnetObjectIdentifier: Hashable {
    let type: UInt32
    let instance: UInt32

    init(_ raw: UInt32) {
        type = raw >> 22
        instance = raw & 0x3F_FFFF
    }

    init?(tag: BACnetTag, in bytes: UnsafeRawBufferPointer) {
        guard tag.length == 4, let raw = tag.unsigned(in: bytes) else { return nil }
        self.init(raw)
    }

    var typeName: String { BACnetNames.objectType(type) ?? "object-type-\(type)" }
    var description: String { "\(typeName) \(instance)" }
}

/// Walks the tags of a service's parameters, one after the other.
struct BACnetTagCursor {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    /// Reads the next tag and moves past its content; nil at the end or on a cut-short tag.
    mutating func next() -> BACnetTag? {
        guard let tag = BACnetTag(bytes, at: offset) else { return nil }
        offset = tag.endOffset
        return tag
    }

    /// Returns the next tag without moving.
    func peek() -> BACnetTag? {
        BACnetTag(bytes, at: offset)
    }
}
