#if canImport(Glibc)
import Glibc
#endif
import WirecheckCore

/// Writes a pcapng file in pure Swift: one section header block, an interface description block
/// per interface, and enhanced packet blocks. Meant for tests that need several interfaces,
/// either byte order, or block types a reader must skip; libpcap cannot write those.
///
/// Block layouts follow the pcapng specification (draft-ietf-opsawg-pcapng).
public final class PcapngFileWriter {
    public let path: String
    public let bigEndian: Bool

    private var file: UnsafeMutablePointer<FILE>?
    /// Per interface: whether its timestamps are in nanoseconds (if_tsresol 9) or microseconds.
    private var interfaceNanosecond: [Bool] = []

    static let sectionHeaderType: UInt32 = 0x0A0D_0D0A
    static let interfaceDescriptionType: UInt32 = 0x0000_0001
    static let enhancedPacketType: UInt32 = 0x0000_0006
    static let byteOrderMagic: UInt32 = 0x1A2B_3C4D
    static let timestampResolutionOption: UInt16 = 9

    /// Creates the file and writes the section header block.
    public init(path: String, bigEndian: Bool = false) throws {
        self.path = path
        self.bigEndian = bigEndian
        guard let opened = fopen(path, "wb") else {
            throw CaptureError.writeFailed(path: path, message: String(cString: strerror(errno)))
        }
        file = opened

        var body: [UInt8] = []
        append32(Self.byteOrderMagic, to: &body)
        append16(1, to: &body)  // major version
        append16(0, to: &body)  // minor version
        append32(0xFFFF_FFFF, to: &body)  // section length -1: not given
        append32(0xFFFF_FFFF, to: &body)
        writeBlock(type: Self.sectionHeaderType, body: body)
    }

    deinit {
        close()
    }

    /// Writes an interface description block and returns the interface's id for `write`.
    @discardableResult
    public func addInterface(linkType: LinkType, snapshotLength: UInt32 = 262_144, nanosecond: Bool = false) -> UInt32 {
        var body: [UInt8] = []
        // The block stores the LINKTYPE_* value, which for raw IP is 101, not DLT_RAW.
        append16(UInt16(truncatingIfNeeded: linkType.rawValue), to: &body)
        append16(0, to: &body)  // reserved
        append32(snapshotLength, to: &body)
        if nanosecond {
            append16(Self.timestampResolutionOption, to: &body)
            append16(1, to: &body)
            body.append(contentsOf: [9, 0, 0, 0])  // 10^-9 seconds, padded to 4 bytes
            append16(0, to: &body)  // opt_endofopt
            append16(0, to: &body)
        }
        writeBlock(type: Self.interfaceDescriptionType, body: body)
        interfaceNanosecond.append(nanosecond)
        return UInt32(interfaceNanosecond.count - 1)
    }

    /// Writes an enhanced packet block on `interface`; an unknown interface id is written as
    /// given, so tests can produce that damage on purpose.
    public func write(_ bytes: [UInt8], interface: UInt32 = 0, timestamp: Timestamp, originalLength: Int? = nil) {
        let nanosecond = Int(interface) < interfaceNanosecond.count ? interfaceNanosecond[Int(interface)] : false
        let units = UInt64(bitPattern: nanosecond ? timestamp.nanoseconds : timestamp.nanoseconds.floorDivided(by: 1000))
        var body: [UInt8] = []
        append32(interface, to: &body)
        append32(UInt32(truncatingIfNeeded: units >> 32), to: &body)
        append32(UInt32(truncatingIfNeeded: units), to: &body)
        append32(UInt32(clamping: bytes.count), to: &body)
        append32(UInt32(clamping: originalLength ?? bytes.count), to: &body)
        body.append(contentsOf: bytes)
        writeBlock(type: Self.enhancedPacketType, body: body)
    }

    /// Writes a block of any type with `body` padded to 4 bytes, for example a block type that
    /// readers must skip.
    public func writeBlock(type: UInt32, body: [UInt8]) {
        guard let file else { return }
        let padding = (4 - body.count % 4) % 4
        let totalLength = UInt32(clamping: 12 + body.count + padding)
        var block: [UInt8] = []
        block.reserveCapacity(Int(totalLength))
        append32(type, to: &block)
        append32(totalLength, to: &block)
        block.append(contentsOf: body)
        block.append(contentsOf: [UInt8](repeating: 0, count: padding))
        append32(totalLength, to: &block)
        _ = block.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    }

    public func close() {
        if let file {
            fclose(file)
            self.file = nil
        }
    }

    private func append16(_ value: UInt16, to bytes: inout [UInt8]) {
        let ordered = bigEndian ? value.bigEndian : value.littleEndian
        withUnsafeBytes(of: ordered) { bytes.append(contentsOf: $0) }
    }

    private func append32(_ value: UInt32, to bytes: inout [UInt8]) {
        let ordered = bigEndian ? value.bigEndian : value.littleEndian
        withUnsafeBytes(of: ordered) { bytes.append(contentsOf: $0) }
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
