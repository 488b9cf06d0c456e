/// A TCP header (RFC 9293) with its options.
public struct TCPHeader {
    enum Field {
        static let sourcePort = 0
        static let destinationPort = 2
        static let sequence = 4
        static let acknowledgement = 8
        static let dataOffsetAndFlags = 12
        static let window = 14
        static let checksum = 16
        static let urgentPointer = 18
        static let options = 20
    }
    public static let minimumLength = 20

    public let bytes: UnsafeRawBufferPointer

    /// Returns nil when `bytes` is shorter than the 20-byte fixed header. The data offset is
    /// not checked here; compare `headerLength` with the bytes before reading options.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= TCPHeader.minimumLength else { return nil }
        self.bytes = bytes
    }

    public var sourcePort: UInt16 { bytes.bigEndianUInt16(at: Field.sourcePort) ?? 0 }
    public var destinationPort: UInt16 { bytes.bigEndianUInt16(at: Field.destinationPort) ?? 0 }
    public var sequence: UInt32 { bytes.bigEndianUInt32(at: Field.sequence) ?? 0 }
    public var acknowledgement: UInt32 { bytes.bigEndianUInt32(at: Field.acknowledgement) ?? 0 }
    /// The data offset field in 32-bit words.
    public var dataOffsetWords: UInt8 { bytes[Field.dataOffsetAndFlags] >> 4 }
    public var headerLength: Int { Int(dataOffsetWords) * 4 }
    /// The nine flag bits, NS included.
    public var flags: TCPFlags {
        TCPFlags(rawValue: (bytes.bigEndianUInt16(at: Field.dataOffsetAndFlags) ?? 0) & 0x01ff)
    }
    public var window: UInt16 { bytes.bigEndianUInt16(at: Field.window) ?? 0 }
    public var checksum: UInt16 { bytes.bigEndianUInt16(at: Field.checksum) ?? 0 }
    public var urgentPointer: UInt16 { bytes.bigEndianUInt16(at: Field.urgentPointer) ?? 0 }
    /// The option bytes, clamped to what was captured.
    public var options: TCPOptionIterator {
        TCPOptionIterator(bytes.clampedSlice(from: Field.options, to: headerLength))
    }
}

/// One TCP option.
public enum TCPOption: Equatable {
    case endOfOptionList
    case noOperation
    case maximumSegmentSize(UInt16)
    case windowScale(UInt8)
    case sackPermitted
    /// Selective acknowledgement with this many blocks; zero blocks is valid and seen in
    /// the wild.
    case sack(blockCount: Int)
    case timestamps(value: UInt32, echo: UInt32)
    /// TCP Fast Open (RFC 7413), with the cookie length (0 on a cookie request).
    case fastOpen(cookieLength: Int)
    /// A kind Wirecheck does not interpret, skipped by its length byte.
    case unknown(kind: UInt8, length: Int)
    /// An option whose length byte is missing, below 2, beyond the header, or wrong for its
    /// kind. The iterator stops after it.
    case invalidLength(kind: UInt8, length: Int)
}

/// Walks the options of a TCP header without allocating.
public struct TCPOptionIterator: IteratorProtocol, Sequence {
    public enum Kind {
        public static let endOfOptionList: UInt8 = 0
        public static let noOperation: UInt8 = 1
        public static let maximumSegmentSize: UInt8 = 2
        public static let windowScale: UInt8 = 3
        public static let sackPermitted: UInt8 = 4
        public static let sack: UInt8 = 5
        public static let timestamps: UInt8 = 8
        public static let fastOpen: UInt8 = 34
    }

    let bytes: UnsafeRawBufferPointer
    var offset = 0
    var finished = false

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public mutating func next() -> TCPOption? {
        guard !finished, offset < bytes.count else { return nil }
        let kind = bytes[offset]
        switch kind {
        case Kind.endOfOptionList:
            finished = true
            return .endOfOptionList
        case Kind.noOperation:
            offset += 1
            return .noOperation
        default:
            break
        }
        guard let lengthByte = bytes.byte(at: offset + 1) else {
            finished = true
            return .invalidLength(kind: kind, length: 0)
        }
        let length = Int(lengthByte)
        guard length >= 2, offset + length <= bytes.count else {
            finished = true
            return .invalidLength(kind: kind, length: length)
        }
        let start = offset
        offset += length
        guard let option = TCPOptionIterator.interpret(kind: kind, length: length, bytes: bytes, at: start) else {
            finished = true
            return .invalidLength(kind: kind, length: length)
        }
        return option
    }

    /// Checks the length a known kind requires and reads its value; nil when the length is wrong.
    static func interpret(kind: UInt8, length: Int, bytes: UnsafeRawBufferPointer, at start: Int) -> TCPOption? {
        switch kind {
        case Kind.maximumSegmentSize:
            guard length == 4, let value = bytes.bigEndianUInt16(at: start + 2) else { return nil }
            return .maximumSegmentSize(value)
        case Kind.windowScale:
            guard length == 3, let shift = bytes.byte(at: start + 2) else { return nil }
            return .windowScale(shift)
        case Kind.sackPermitted:
            return length == 2 ? .sackPermitted : nil
        case Kind.sack:
            guard (length - 2) % 8 == 0 else { return nil }
            return .sack(blockCount: (length - 2) / 8)
        case Kind.timestamps:
            guard length == 10, let value = bytes.bigEndianUInt32(at: start + 2),
                  let echo = bytes.bigEndianUInt32(at: start + 6) else { return nil }
            return .timestamps(value: value, echo: echo)
        case Kind.fastOpen:
            // RFC 7413 section 4.1.1: an empty cookie requests one, otherwise 4 to 16 bytes.
            let cookieLength = length - 2
            guard cookieLength == 0 || (4...16).contains(cookieLength) else { return nil }
            return .fastOpen(cookieLength: cookieLength)
        default:
            return .unknown(kind: kind, length: length)
        }
    }
}
