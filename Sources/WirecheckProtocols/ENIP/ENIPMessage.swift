import WirecheckCore

/// Little-endian reads over wire bytes that return nil instead of trapping on short input.
enum ENIPBytes {
    @inline(__always)
    static func u8(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt8? {
        offset >= 0 && offset < bytes.count ? bytes[offset] : nil
    }

    @inline(__always)
    static func u16(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt16? {
        guard offset >= 0, offset <= bytes.count - 2 else { return nil }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    @inline(__always)
    static func u32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32? {
        guard let low = u16(bytes, offset), let high = u16(bytes, offset + 2) else { return nil }
        return UInt32(low) | UInt32(high) << 16
    }

    @inline(__always)
    static func u64(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64? {
        guard let low = u32(bytes, offset), let high = u32(bytes, offset + 4) else { return nil }
        return UInt64(low) | UInt64(high) << 32
    }

    /// Copies `length` bytes at `offset`, or nil when they run past the end.
    static func slice(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ length: Int) -> [UInt8]? {
        guard offset >= 0, length >= 0, offset <= bytes.count - length else { return nil }
        return Array(bytes[offset ..< offset + length])
    }
}

/// The 24-byte encapsulation header that starts every EtherNet/IP message on TCP and UDP 44818.
struct ENIPHeader: Equatable {
    static let size = 24

    var command: UInt16
    /// Bytes of command data after the header.
    var length: UInt16
    var session: UInt32
    var status: UInt32
    var senderContext: UInt64
    var options: UInt32

    init?(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0) {
        guard let command = ENIPBytes.u16(bytes, offset), let length = ENIPBytes.u16(bytes, offset + 2),
              let session = ENIPBytes.u32(bytes, offset + 4), let status = ENIPBytes.u32(bytes, offset + 8),
              let context = ENIPBytes.u64(bytes, offset + 12), let options = ENIPBytes.u32(bytes, offset + 20)
        else { return nil }
        self.command = command
        self.length = length
        self.session = session
        self.status = status
        self.senderContext = context
        self.options = options
    }
}

/// One Common Packet Format item: its type id and where its data lies in the buffer.
struct CPFItem: Equatable {
    var type: UInt16
    var offset: Int
    var length: Int
}

enum CommonPacketFormat {
    /// More items than any EtherNet/IP command uses; a larger count is treated as invalid so a
    /// hostile count cannot make the walk allocate without bound.
    static let maxItems = 16

    /// Walks the item list in `start..<end`. Returns the items and, when the count or a length
    /// disagrees with the data, a sentence saying which.
    static func parse(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> (items: [CPFItem], error: String?) {
        guard let count = ENIPBytes.u16(bytes, start), start + 2 <= end else {
            return ([], "the item count is missing")
        }
        if Int(count) > maxItems {
            return ([], "item count \(count) exceeds \(maxItems)")
        }
        var items: [CPFItem] = []
        items.reserveCapacity(Int(count))
        var offset = start + 2
        for index in 0 ..< Int(count) {
            guard offset + 4 <= end, let type = ENIPBytes.u16(bytes, offset), let length = ENIPBytes.u16(bytes, offset + 2) else {
                return (items, "item \(index + 1) of \(count) is missing its type and length")
            }
            guard offset + 4 + Int(length) <= end else {
                return (items, "item \(index + 1) (\(ENIPNames.cpfItem(type))) declares \(length) bytes but only \(end - offset - 4) remain")
            }
            items.append(CPFItem(type: type, offset: offset + 4, length: Int(length)))
            offset += 4 + Int(length)
        }
        if offset != end {
            return (items, "\(end - offset) bytes follow the \(count) declared items")
        }
        return (items, nil)
    }
}

/// The parts of a CIP EPATH that name a target: the logical segments, the symbol names of a
/// Logix tag, and a leading port segment when the path routes through a backplane.
struct CIPPath: Equatable {
    var classID: UInt32?
    var instance: UInt32?
    var attribute: UInt32?
    var member: UInt32?
    var connectionPoint: UInt32?
    /// Symbol names (ANSI extended symbol segments), joined with "." when there are several.
    var symbol: [UInt8]?
    var port: UInt16?
    var linkAddress: [UInt8]?

    var isEmpty: Bool { self == CIPPath() }

    /// A short text such as `class 0x04 (assembly) instance 100 attribute 3` or `tag Motor.Speed`.
    var summary: String {
        var parts: [String] = []
        if let symbol { parts.append("tag " + String(wireBytes: symbol)) }
        if let classID { parts.append("class 0x" + ENIPNames.hex(classID, digits: 2) + " (" + CIPNames.objectClassName(classID) + ")") }
        if let instance { parts.append("instance \(instance)") }
        if let attribute { parts.append("attribute \(attribute)") }
        if let member { parts.append("member \(member)") }
        return parts.isEmpty ? "an empty path" : parts.joined(separator: " ")
    }
}

enum EPATH {
    /// Maximum symbol bytes kept from one path. Longer names are cut, so one request cannot make
    /// the record grow without bound. An EPATH is at most 510 bytes.
    static let maxSymbolBytes = 256

    /// Parses a padded EPATH of `length` bytes at `start`. Returns what it could read and, when a
    /// segment is malformed, a sentence naming the segment and the fault.
    static func parse(_ bytes: UnsafeRawBufferPointer, start: Int, length: Int) -> (path: CIPPath, error: String?) {
        var path = CIPPath()
        let end = start + length
        guard length >= 0, end <= bytes.count else { return (path, "the path runs past the end of the message") }
        var offset = start
        while offset < end {
            let segment = bytes[offset]
            let kind = segment & 0xE0
            switch kind {
            case 0x00:
                // Port segment: port id in the low nibble (15 = 16-bit id follows), bit 4 = the link
                // address is longer than one byte and its size follows.
                var cursor = offset + 1
                var linkLength = 1
                if segment & 0x10 != 0 {
                    guard cursor < end else { return (path, truncated(segment, offset, start)) }
                    linkLength = Int(bytes[cursor])
                    cursor += 1
                }
                var port = UInt16(segment & 0x0F)
                if port == 0x0F {
                    guard cursor + 2 <= end, let extended = ENIPBytes.u16(bytes, cursor) else { return (path, truncated(segment, offset, start)) }
                    port = extended
                    cursor += 2
                }
                guard cursor + linkLength <= end else { return (path, truncated(segment, offset, start)) }
                if path.port == nil {
                    path.port = port
                    path.linkAddress = Array(bytes[cursor ..< cursor + linkLength])
                }
                cursor += linkLength
                if (cursor - offset) % 2 == 1 { cursor += 1 }
                guard cursor <= end else { return (path, truncated(segment, offset, start)) }
                offset = cursor
            case 0x20:
                let logicalType = (segment >> 2) & 0x07
                let format = segment & 0x03
                if logicalType == 5 {
                    // Electronic key: key format 4 takes 10 bytes after the format byte.
                    guard offset + 2 <= end else { return (path, truncated(segment, offset, start)) }
                    let keyLength = bytes[offset + 1] == 4 ? 10 : 0
                    guard keyLength > 0 else {
                        return (path, "electronic key format \(bytes[offset + 1]) at path byte \(offset - start) is not defined")
                    }
                    guard offset + 2 + keyLength <= end else { return (path, truncated(segment, offset, start)) }
                    offset += 2 + keyLength
                    continue
                }
                let value: UInt32
                switch format {
                case 0:
                    guard offset + 2 <= end else { return (path, truncated(segment, offset, start)) }
                    value = UInt32(bytes[offset + 1])
                    offset += 2
                case 1:
                    guard offset + 4 <= end, let word = ENIPBytes.u16(bytes, offset + 2) else { return (path, truncated(segment, offset, start)) }
                    value = UInt32(word)
                    offset += 4
                case 2:
                    guard offset + 6 <= end, let long = ENIPBytes.u32(bytes, offset + 2) else { return (path, truncated(segment, offset, start)) }
                    value = long
                    offset += 6
                default:
                    return (path, "logical segment 0x\(ENIPNames.hex(UInt32(segment), digits: 2)) at path byte \(offset - start) uses the reserved format 3")
                }
                switch logicalType {
                case 0: path.classID = value
                case 1: path.instance = value
                case 2: path.member = value
                case 3: path.connectionPoint = value
                case 4: path.attribute = value
                default: break // service id and extended logical segments do not name the target.
                }
            case 0x40:
                // Network segment: most carry one data byte; 0x50 (extended) carries a word count.
                guard offset + 2 <= end else { return (path, truncated(segment, offset, start)) }
                if segment == 0x50 {
                    let size = 2 + 2 * Int(bytes[offset + 1])
                    guard offset + size <= end else { return (path, truncated(segment, offset, start)) }
                    offset += size
                } else {
                    offset += 2
                }
            case 0x60:
                // Symbolic segment: the low five bits give the name size (0 = extended formats).
                let size = Int(segment & 0x1F)
                guard size > 0 else {
                    return (path, "extended symbolic segment at path byte \(offset - start) is not supported")
                }
                var cursor = offset + 1 + size
                if (cursor - offset) % 2 == 1 { cursor += 1 }
                guard cursor <= end else { return (path, truncated(segment, offset, start)) }
                appendSymbol(&path, bytes, offset + 1, size)
                offset = cursor
            case 0x80:
                guard offset + 2 <= end else { return (path, truncated(segment, offset, start)) }
                if segment == 0x91 {
                    // ANSI extended symbol: length byte, the name, one pad byte when the name is odd.
                    let size = Int(bytes[offset + 1])
                    var cursor = offset + 2 + size
                    if size % 2 == 1 { cursor += 1 }
                    guard cursor <= end else { return (path, truncated(segment, offset, start)) }
                    appendSymbol(&path, bytes, offset + 2, size)
                    offset = cursor
                } else if segment == 0x80 {
                    let size = 2 + 2 * Int(bytes[offset + 1])
                    guard offset + size <= end else { return (path, truncated(segment, offset, start)) }
                    offset += size
                } else {
                    return (path, "data segment 0x\(ENIPNames.hex(UInt32(segment), digits: 2)) at path byte \(offset - start) is not defined")
                }
            default:
                // Data type segments (0xA0-0xDF) describe values, not targets, and 0xE0-0xFF are
                // reserved; neither belongs in a request path.
                return (path, "segment type 0x\(ENIPNames.hex(UInt32(segment), digits: 2)) at path byte \(offset - start) does not belong in a request path")
            }
        }
        return (path, nil)
    }

    private static func truncated(_ segment: UInt8, _ offset: Int, _ start: Int) -> String {
        "segment 0x\(ENIPNames.hex(UInt32(segment), digits: 2)) at path byte \(offset - start) is truncated by the path size"
    }

    private static func appendSymbol(_ path: inout CIPPath, _ bytes: UnsafeRawBufferPointer, _ offset: Int, _ size: Int) {
        var symbol = path.symbol ?? []
        if !symbol.isEmpty { symbol.append(UInt8(ascii: ".")) }
        let room = max(0, maxSymbolBytes - symbol.count)
        symbol.append(contentsOf: bytes[offset ..< offset + min(size, room)])
        path.symbol = symbol
    }
}
