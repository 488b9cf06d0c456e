/// Little-endian readers for the OPC UA binary encoding (IEC 62541-6 clause 5.2). Every read
/// returns nil on short input instead of trapping, and leaves the cursor where it was.

/// The 8-byte header that starts every OPC UA Connection Protocol and Secure Conversation chunk.
struct OPCUAChunkHeader {
    static let length = 8

    let messageType: OPCUAMessageType?
    /// The three type bytes as sent, for naming an unknown type.
    let rawType: UInt32
    let chunkType: UInt8
    let size: Int

    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= OPCUAChunkHeader.length else { return nil }
        rawType = UInt32(bytes[0]) << 16 | UInt32(bytes[1]) << 8 | UInt32(bytes[2])
        messageType = OPCUAMessageType(bytes[0], bytes[1], bytes[2])
        chunkType = bytes[3]
        size = Int(UInt32(bytes[4]) | UInt32(bytes[5]) << 8 | UInt32(bytes[6]) << 16 | UInt32(bytes[7]) << 24)
    }

    var isKnownChunkType: Bool { chunkType == UInt8(ascii: "F") || chunkType == UInt8(ascii: "C") || chunkType == UInt8(ascii: "A") }

    var rawTypeText: String {
        let bytes = [UInt8(rawType >> 16 & 0xFF), UInt8(rawType >> 8 & 0xFF), UInt8(rawType & 0xFF)]
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return String(decoding: bytes, as: UTF8.self) }
        return "0x" + bytes.map { $0 < 0x10 ? "0" + String($0, radix: 16, uppercase: true) : String($0, radix: 16, uppercase: true) }.joined()
    }
}

enum OPCUAMessageType: String {
    case hello = "HEL"
    case acknowledge = "ACK"
    case error = "ERR"
    case reverseHello = "RHE"
    case openSecureChannel = "OPN"
    case message = "MSG"
    case closeSecureChannel = "CLO"

    init?(_ first: UInt8, _ second: UInt8, _ third: UInt8) {
        switch (first, second, third) {
        case (0x48, 0x45, 0x4C): self = .hello
        case (0x41, 0x43, 0x4B): self = .acknowledge
        case (0x45, 0x52, 0x52): self = .error
        case (0x52, 0x48, 0x45): self = .reverseHello
        case (0x4F, 0x50, 0x4E): self = .openSecureChannel
        case (0x4D, 0x53, 0x47): self = .message
        case (0x43, 0x4C, 0x4F): self = .closeSecureChannel
        default: return nil
        }
    }

    /// Secure Conversation messages carry a secure channel id after the header.
    var isSecureConversation: Bool { self == .openSecureChannel || self == .message || self == .closeSecureChannel }
}

/// The parts of a NodeId the parser reports: namespace and identifier.
struct OPCUANodeID: Hashable {
    enum Identifier: Hashable {
        case numeric(UInt32)
        case string([UInt8])
        case guid([UInt8])
        case opaque([UInt8])
    }

    let namespace: UInt16
    let identifier: Identifier

    var numericValue: UInt32? {
        if case .numeric(let value) = identifier { return value }
        return nil
    }

    /// The NodeId in the standard string form (`ns=2;s=the.answer`, `i=2258`).
    var text: String {
        let prefix = namespace == 0 ? "" : "ns=\(namespace);"
        switch identifier {
        case .numeric(let value): return prefix + "i=\(value)"
        case .string(let bytes): return prefix + "s=" + String(wireBytes: bytes)
        case .guid(let bytes): return prefix + "g=" + bytes.map { String($0, radix: 16) }.joined()
        case .opaque(let bytes): return prefix + "b=\(bytes.count) bytes"
        }
    }
}

struct OPCUAReader {
    /// Limits the bytes copied from a string or opaque NodeId identifier. Longer ones are cut,
    /// because they only serve to name a node in an event.
    static let maxCopiedIdentifier = 256
    /// Limits DiagnosticInfo nesting; the encoding allows recursion and hostile input could
    /// nest it up to the chunk size.
    static let maxDiagnosticDepth = 8

    let bytes: UnsafeRawBufferPointer
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func uint8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    mutating func uint32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        defer { offset += 4 }
        return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }

    mutating func int32() -> Int32? {
        uint32().map { Int32(bitPattern: $0) }
    }

    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, remaining >= count else { return false }
        offset += count
        return true
    }

    /// Reads a String or ByteString and returns the range of its bytes; an empty range for a
    /// null (-1) value. Nil when the length is negative otherwise or runs past the end.
    mutating func byteStringRange() -> Range<Int>? {
        let start = offset
        guard let length = int32() else { return nil }
        if length == -1 { return offset..<offset }
        guard length >= 0, Int(length) <= remaining else {
            offset = start
            return nil
        }
        defer { offset += Int(length) }
        return offset..<(offset + Int(length))
    }

    /// Reads a String or ByteString and returns its length, -1 for null.
    mutating func byteStringLength() -> Int? {
        let start = offset
        guard let length = int32() else { return nil }
        if length == -1 { return -1 }
        guard length >= 0, Int(length) <= remaining else {
            offset = start
            return nil
        }
        offset += Int(length)
        return Int(length)
    }

    func copy(_ range: Range<Int>, limit: Int = Int.max) -> [UInt8] {
        // `lowerBound + limit` would overflow for the default limit, so clamp the count instead.
        let end = range.lowerBound + min(range.count, max(0, limit))
        return Array(UnsafeRawBufferPointer(rebasing: bytes[range.lowerBound..<end]))
    }

    /// Reads a NodeId or ExpandedNodeId (the flag bits 0x80 and 0x40 add a namespace URI and a
    /// server index). String, GUID and opaque identifiers are copied only when `copyIdentifier`.
    mutating func nodeID(copyIdentifier: Bool = false) -> OPCUANodeID? {
        let start = offset
        guard let result = readNodeID(copyIdentifier: copyIdentifier) else {
            offset = start
            return nil
        }
        return result
    }

    private mutating func readNodeID(copyIdentifier: Bool) -> OPCUANodeID? {
        guard let encoding = uint8() else { return nil }
        let node: OPCUANodeID
        switch encoding & 0x3F {
        case 0:
            guard let value = uint8() else { return nil }
            node = OPCUANodeID(namespace: 0, identifier: .numeric(UInt32(value)))
        case 1:
            guard let namespace = uint8(), let value = uint16() else { return nil }
            node = OPCUANodeID(namespace: UInt16(namespace), identifier: .numeric(UInt32(value)))
        case 2:
            guard let namespace = uint16(), let value = uint32() else { return nil }
            node = OPCUANodeID(namespace: namespace, identifier: .numeric(value))
        case 3, 5:
            guard let namespace = uint16(), let range = byteStringRange() else { return nil }
            let identifier = copyIdentifier ? copy(range, limit: OPCUAReader.maxCopiedIdentifier) : []
            node = OPCUANodeID(namespace: namespace, identifier: encoding & 0x3F == 3 ? .string(identifier) : .opaque(identifier))
        case 4:
            guard let namespace = uint16(), remaining >= 16 else { return nil }
            let identifier = copyIdentifier ? copy(offset..<(offset + 16)) : []
            offset += 16
            node = OPCUANodeID(namespace: namespace, identifier: .guid(identifier))
        default:
            return nil
        }
        if encoding & 0x80 != 0 {
            guard byteStringLength() != nil else { return nil }
        }
        if encoding & 0x40 != 0 {
            guard uint32() != nil else { return nil }
        }
        return node
    }

    /// Skips an ExtensionObject: its type NodeId, an encoding byte, and a body for encodings 1 and 2.
    mutating func skipExtensionObject() -> Bool {
        guard nodeID() != nil, let encoding = uint8() else { return false }
        if encoding == 0 { return true }
        return byteStringLength() != nil
    }

    /// Skips a RequestHeader (IEC 62541-4 clause 7.28).
    mutating func skipRequestHeader() -> Bool {
        guard nodeID() != nil, skip(8 + 4 + 4), byteStringLength() != nil, skip(4) else { return false }
        return skipExtensionObject()
    }

    /// Reads a ResponseHeader (IEC 62541-4 clause 7.29) and returns its service result.
    mutating func responseHeader() -> UInt32? {
        guard skip(8 + 4), let serviceResult = uint32(), skipDiagnosticInfo(depth: 0) else { return nil }
        guard let stringCount = int32() else { return nil }
        if stringCount > 0 {
            for _ in 0..<stringCount {
                guard byteStringLength() != nil else { return nil }
            }
        }
        guard skipExtensionObject() else { return nil }
        return serviceResult
    }

    mutating func skipDiagnosticInfo(depth: Int) -> Bool {
        guard depth < OPCUAReader.maxDiagnosticDepth, let mask = uint8() else { return false }
        // Symbolic id, namespace URI, localized text and locale are Int32 indexes.
        for bit: UInt8 in [0x01, 0x02, 0x04, 0x08] where mask & bit != 0 {
            guard skip(4) else { return false }
        }
        if mask & 0x10 != 0 { guard byteStringLength() != nil else { return false } }
        if mask & 0x20 != 0 { guard skip(4) else { return false } }
        if mask & 0x40 != 0 { return skipDiagnosticInfo(depth: depth + 1) }
        return true
    }
}
