import WirecheckCore

/// Big-endian reads over wire bytes that return nil instead of trapping on short input.
enum S7Bytes {
    @inline(__always)
    static func u16(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt16? {
        guard offset >= 0, offset <= bytes.count - 2 else { return nil }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    @inline(__always)
    static func u32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32? {
        guard let high = u16(bytes, offset), let low = u16(bytes, offset + 2) else { return nil }
        return UInt32(high) << 16 | UInt32(low)
    }

    static func ascii(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ length: Int) -> String? {
        guard offset >= 0, length >= 0, offset <= bytes.count - length else { return nil }
        return String(wireBytes: bytes[offset ..< offset + length])
    }

    /// The exact bytes of a name field, for the record: `ascii` replaces invalid UTF-8 with
    /// U+FFFD, which would hide what a hostile peer sent.
    static func raw(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ length: Int) -> [UInt8]? {
        guard offset >= 0, length >= 0, offset <= bytes.count - length else { return nil }
        return Array(bytes[offset ..< offset + length])
    }

    /// A record value for wire text: a plain string when the bytes are valid UTF-8, else the
    /// bytes themselves, which the JSON writer keeps as escapes.
    static func text(_ bytes: [UInt8]) -> JSONValue {
        if let string = String(validating: bytes, as: UTF8.self) { return .string(string) }
        return .wire(bytes)
    }
}

/// COTP connection request or confirm parameters (ISO 8073): TSAPs and the TPDU size.
struct COTPConnection: Equatable {
    var sourceTSAP: [UInt8]?
    var destinationTSAP: [UInt8]?
    /// TPDU size in bytes (parameter 0xC0 is its base-2 logarithm).
    var tpduSize: Int?

    /// Parses the parameters of a CR or CC TPDU, `tpdu` starting at the length indicator.
    init(_ tpdu: UnsafeRawBufferPointer, headerEnd: Int) {
        var offset = 7
        while offset + 2 <= headerEnd {
            let code = tpdu[offset]
            let length = Int(tpdu[offset + 1])
            guard offset + 2 + length <= headerEnd else { break }
            let value = Array(tpdu[offset + 2 ..< offset + 2 + length])
            switch code {
            case 0xC0 where length == 1 && value[0] >= 7 && value[0] <= 13: tpduSize = 1 << Int(value[0])
            case 0xC1: sourceTSAP = value
            case 0xC2: destinationTSAP = value
            default: break
            }
            offset += 2 + length
        }
    }

    /// True when a TSAP is a text name such as `SIMATIC-ROOT-HMI`, which S7comm-plus uses in
    /// place of the two-byte connection type and rack/slot of classic S7comm.
    var hasTextTSAP: Bool {
        for tsap in [sourceTSAP, destinationTSAP] {
            if let tsap, tsap.count > 2, tsap.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return true }
        }
        return false
    }

    func record() -> JSONObject {
        var record = JSONObject()
        for (key, tsap) in [("src_tsap", sourceTSAP), ("dst_tsap", destinationTSAP)] {
            guard let tsap else { continue }
            if tsap.count == 2 {
                record.set(key, .string("0x" + S7Names.hex(UInt32(tsap[0]) << 8 | UInt32(tsap[1]), digits: 4)))
            } else {
                record.set(key, .wire(tsap))
            }
        }
        // Classic S7 encodes the PLC's position in the destination TSAP's second byte:
        // rack in the top three bits, slot in the low five.
        if let tsap = destinationTSAP, tsap.count == 2 {
            record.set("connection_type", .int(tsap[0]))
            record.set("rack", .int(tsap[1] >> 5))
            record.set("slot", .int(tsap[1] & 0x1F))
        }
        if let tpduSize { record.set("tpdu_size", .int(tpduSize)) }
        return record
    }
}

/// One variable address of a read_var or write_var job.
struct S7Item: Equatable {
    var syntaxID: UInt8
    var transportSize: UInt8 = 0
    var length: UInt16 = 0
    var db: UInt16 = 0
    var area: UInt8 = 0
    var byteAddress: Int = 0
    var bitAddress: Int = 0

    var isS7Any: Bool { syntaxID == 0x10 }

    /// Operand and byte.bit address, such as `DB1 4.0` or `Q 0.3`.
    var address: String { S7Names.operand(area: area, db: db) + " \(byteAddress).\(bitAddress)" }

    func record() -> JSONObject {
        guard isS7Any else { return ["syntax_id": .int(syntaxID)] }
        var record: JSONObject = ["area": .string(S7Names.area(area))]
        if area == 0x84 || area == 0x85 { record.set("db", .int(db)) }
        record.set("address", .string("\(byteAddress).\(bitAddress)"))
        record.set("transport_size", .string(S7Names.transportSize(transportSize)))
        record.set("length", .int(length))
        return record
    }
}

/// A program block named by an S7 file name such as `_0A00001P` (DB 1, passive file system).
struct S7Block: Equatable, Hashable {
    var type: String
    var number: Int
    var fileName: String
    /// `fileName` as sent, for the record.
    var fileNameBytes: [UInt8] = []

    var name: String { "\(type) \(number)" }

    /// Parses the 8 characters after the leading `_` of a file name, or the 8-character entries
    /// of a PI service parameter block: type (2 hex digits), number (5 digits), file system (1).
    static func parse(_ text: Substring, fileName: String) -> S7Block? {
        guard text.count >= 7, let number = Int(text.dropFirst(2).prefix(5)) else { return nil }
        return S7Block(type: S7Names.blockType(String(text.prefix(2))), number: number, fileName: fileName)
    }
}

struct S7Userdata: Equatable {
    var method: UInt8
    /// 0x0 push, 0x4 request, 0x8 response.
    var type: UInt8
    var group: UInt8
    var subfunction: UInt8
    var sequence: UInt8
    var errorCode: UInt16?
    var szlID: UInt16?
    var szlIndex: UInt16?

    var isRequest: Bool { type == 0x4 }
    var isResponse: Bool { type == 0x8 }
    var subfunctionName: String { S7Names.userdataSubfunction(group: group, subfunction) }
}

/// One S7comm PDU (header, parameter and data parts) as far as the parser reads it.
struct S7Message: Equatable {
    var rosctr: UInt8
    var pduReference: UInt16
    var parameterLength: Int
    var dataLength: Int
    var errorClass: UInt8?
    var errorCode: UInt8?
    var function: UInt8?
    var itemCount = 0
    var items: [S7Item] = []
    var returnCodes: [UInt8] = []
    var blocks: [S7Block] = []
    var piService: String?
    /// `piService` as sent, for the record.
    var piServiceBytes: [UInt8]?
    var piArgument: String?
    var setup: JSONObject?
    var userdata: S7Userdata?
    /// Reason the header lengths disagree with the PDU size, or nil when they agree.
    var lengthError: String?

    var isJob: Bool { rosctr == 0x01 }
    var isAcknowledgement: Bool { rosctr == 0x02 || rosctr == 0x03 }
}

enum S7PDUParser {
    /// Items recorded per read_var or write_var. A job may name up to 255, so the list is cut to
    /// keep the record and alert text readable.
    static let maxRecordedItems = 32
    /// Block names kept from one PI service parameter block.
    static let maxBlocks = 64

    /// Parses an S7comm PDU that starts with protocol id 0x32. Returns nil when the header is cut.
    static func parse(_ pdu: UnsafeRawBufferPointer) -> S7Message? {
        guard pdu.count >= 10, pdu[0] == 0x32, let reference = S7Bytes.u16(pdu, 4),
              let parameterLength = S7Bytes.u16(pdu, 6), let dataLength = S7Bytes.u16(pdu, 8) else { return nil }
        var message = S7Message(rosctr: pdu[1], pduReference: reference, parameterLength: Int(parameterLength), dataLength: Int(dataLength))
        var headerLength = 10
        if message.isAcknowledgement {
            guard pdu.count >= 12 else { return nil }
            message.errorClass = pdu[10]
            message.errorCode = pdu[11]
            headerLength = 12
        }
        let declared = headerLength + Int(parameterLength) + Int(dataLength)
        if declared != pdu.count {
            message.lengthError = "header \(headerLength) + parameter \(parameterLength) + data \(dataLength) bytes = \(declared), but the PDU has \(pdu.count) bytes"
        }
        let parameterEnd = min(pdu.count, headerLength + Int(parameterLength))
        let parameter = UnsafeRawBufferPointer(rebasing: pdu[headerLength ..< parameterEnd])
        let dataEnd = min(pdu.count, parameterEnd + Int(dataLength))
        let data = UnsafeRawBufferPointer(rebasing: pdu[parameterEnd ..< dataEnd])

        switch message.rosctr {
        case 0x01, 0x03:
            guard parameter.count >= 1 else { break }
            message.function = parameter[0]
            parseFunction(&message, parameter, data)
        case 0x07:
            parseUserdata(&message, parameter, data)
        default:
            break
        }
        return message
    }

    private static func parseFunction(_ message: inout S7Message, _ parameter: UnsafeRawBufferPointer, _ data: UnsafeRawBufferPointer) {
        switch parameter[0] {
        case 0xF0:
            // Setup communication: reserved byte, max AmQ calling, max AmQ called, PDU size.
            if let calling = S7Bytes.u16(parameter, 2), let called = S7Bytes.u16(parameter, 4), let size = S7Bytes.u16(parameter, 6) {
                message.setup = ["max_amq_calling": .int(calling), "max_amq_called": .int(called), "pdu_size": .int(size)]
            }
        case 0x04, 0x05:
            guard parameter.count >= 2 else { return }
            message.itemCount = Int(parameter[1])
            if message.isJob {
                message.items = parseItems(parameter, count: message.itemCount)
            } else {
                message.returnCodes = parseReturnCodes(data, count: message.itemCount, valuesFollow: parameter[0] == 0x04)
            }
        case 0x1A, 0x1B, 0x1C, 0x1D:
            // Function, status, two unknown bytes, a 4-byte id, then the file name with its length.
            if message.isJob, parameter.count > 9 {
                let length = Int(parameter[8])
                if let fileName = S7Bytes.ascii(parameter, 9, length), fileName.hasPrefix("_"),
                   var block = S7Block.parse(fileName.dropFirst(), fileName: fileName) {
                    block.fileNameBytes = S7Bytes.raw(parameter, 9, length) ?? []
                    message.blocks = [block]
                }
            }
        case 0x28:
            parsePIService(&message, parameter)
        case 0x29:
            // PLC stop: five unknown bytes, then the PI service name with its length.
            if parameter.count > 6 {
                message.piService = S7Bytes.ascii(parameter, 7, Int(parameter[6]))
                message.piServiceBytes = S7Bytes.raw(parameter, 7, Int(parameter[6]))
            }
        default:
            break
        }
    }

    /// Request items: 0x12, the length of the rest, the syntax id, then for S7ANY (0x10) the
    /// transport size, element count, DB number, area and a 3-byte bit address.
    private static func parseItems(_ parameter: UnsafeRawBufferPointer, count: Int) -> [S7Item] {
        var items: [S7Item] = []
        var offset = 2
        for _ in 0 ..< count {
            guard offset + 3 <= parameter.count, parameter[offset] == 0x12 else { break }
            let length = Int(parameter[offset + 1])
            guard offset + 2 + length <= parameter.count else { break }
            var item = S7Item(syntaxID: parameter[offset + 2])
            if item.isS7Any, length >= 10, let elements = S7Bytes.u16(parameter, offset + 4), let db = S7Bytes.u16(parameter, offset + 6) {
                item.transportSize = parameter[offset + 3]
                item.length = elements
                item.db = db
                item.area = parameter[offset + 8]
                let bits = Int(parameter[offset + 9]) << 16 | Int(parameter[offset + 10]) << 8 | Int(parameter[offset + 11])
                item.byteAddress = bits >> 3
                item.bitAddress = bits & 0x07
            }
            if items.count < maxRecordedItems { items.append(item) }
            offset += 2 + length
        }
        return items
    }

    /// Reply items: a return code per item, and for read_var the value after a transport size
    /// and length (in bits for the bit, byte and integer sizes), padded to even between items.
    private static func parseReturnCodes(_ data: UnsafeRawBufferPointer, count: Int, valuesFollow: Bool) -> [UInt8] {
        var codes: [UInt8] = []
        var offset = 0
        for index in 0 ..< count {
            guard offset < data.count else { break }
            if codes.count < maxRecordedItems { codes.append(data[offset]) }
            guard valuesFollow else { offset += 1; continue }
            guard let length = S7Bytes.u16(data, offset + 2) else { break }
            let size = data[offset + 1]
            var byteLength = Int(length)
            if size == 0x03 { byteLength = (Int(length) + 7) / 8 } else if (0x04...0x06).contains(size) { byteLength = Int(length) / 8 }
            offset += 4 + byteLength
            if byteLength % 2 == 1, index + 1 < count { offset += 1 }
        }
        return codes
    }

    /// PI service: seven unknown bytes, a parameter block with its 2-byte length, then the
    /// service name with its 1-byte length. `_INSE` and `_DELE` list blocks in the parameter
    /// block as a count byte, an unused byte and 8 characters per block.
    private static func parsePIService(_ message: inout S7Message, _ parameter: UnsafeRawBufferPointer) {
        guard message.isJob, let blockLength = S7Bytes.u16(parameter, 8) else { return }
        let blockStart = 10
        let nameAt = blockStart + Int(blockLength)
        guard nameAt < parameter.count else { return }
        guard let name = S7Bytes.ascii(parameter, nameAt + 1, Int(parameter[nameAt])) else { return }
        message.piService = name
        message.piServiceBytes = S7Bytes.raw(parameter, nameAt + 1, Int(parameter[nameAt]))
        let block = UnsafeRawBufferPointer(rebasing: parameter[blockStart ..< nameAt])
        if name == "_INSE" || name == "_DELE", block.count >= 2 {
            let count = Int(block[0])
            for index in 0 ..< min(count, maxBlocks) {
                guard let text = S7Bytes.ascii(block, 2 + 8 * index, 8),
                      var parsed = S7Block.parse(Substring(text), fileName: "_" + text) else { break }
                parsed.fileNameBytes = [UInt8(ascii: "_")] + (S7Bytes.raw(block, 2 + 8 * index, 8) ?? [])
                message.blocks.append(parsed)
            }
        } else if block.count > 0 {
            message.piArgument = S7Bytes.ascii(block, 0, block.count)
        }
    }

    /// Userdata parameter: head 00 01 12, parameter length, method, type and group (a nibble
    /// each), subfunction, sequence number, then for replies a data unit reference, last-unit
    /// flag and error code.
    private static func parseUserdata(_ message: inout S7Message, _ parameter: UnsafeRawBufferPointer, _ data: UnsafeRawBufferPointer) {
        guard parameter.count >= 8, parameter[0] == 0x00, parameter[1] == 0x01, parameter[2] == 0x12 else { return }
        var userdata = S7Userdata(method: parameter[4], type: parameter[5] >> 4, group: parameter[5] & 0x0F,
                                  subfunction: parameter[6], sequence: parameter[7])
        if parameter[3] >= 8 { userdata.errorCode = S7Bytes.u16(parameter, 10) }
        // Read SZL request data: return code, transport size, length, then SZL id and index.
        if userdata.group == 0x4, userdata.subfunction == 0x01, data.count >= 8 {
            userdata.szlID = S7Bytes.u16(data, 4)
            userdata.szlIndex = S7Bytes.u16(data, 6)
        }
        message.userdata = userdata
    }
}

/// The first bytes of an S7comm-plus PDU: protocol id 0x72, version, data length, and where the
/// layout allows, the opcode, function code and sequence number.
struct S7PlusMessage: Equatable {
    var version: UInt8
    var dataLength: UInt16
    var opcode: UInt8?
    var function: UInt16?
    var sequence: UInt16?

    static func parse(_ pdu: UnsafeRawBufferPointer) -> S7PlusMessage? {
        guard pdu.count >= 4, pdu[0] == 0x72, let length = S7Bytes.u16(pdu, 2) else { return nil }
        var message = S7PlusMessage(version: pdu[1], dataLength: length)
        var offset = 4
        // NOTE: the version 3 layout (a 32-byte integrity digest after its length byte 0x20, before
        // the data) is an assumption. When the byte found there is no known opcode, the opcode and
        // function are left out. Versions 1 and 2 start the data right after the header.
        if message.version == 0x03, pdu.count > 4, pdu[4] == 0x20 { offset = 4 + 1 + 32 }
        guard offset < pdu.count, S7Names.plusOpcode(pdu[offset]) != nil else { return message }
        message.opcode = pdu[offset]
        if pdu[offset] == 0x31 || pdu[offset] == 0x32 {
            // Request and response: opcode, two reserved bytes, function, two reserved bytes, sequence.
            message.function = S7Bytes.u16(pdu, offset + 3)
            message.sequence = S7Bytes.u16(pdu, offset + 7)
        }
        return message
    }

    func record() -> JSONObject {
        var record: JSONObject = ["version": .int(version), "data_length": .int(dataLength)]
        if let opcode {
            record.set("opcode", .int(opcode))
            record.set("opcode_name", .string(S7Names.plusOpcode(opcode) ?? "unknown"))
        }
        if let function {
            record.set("function", .int(function))
            record.set("function_name", .string(S7Names.plusFunction(function) ?? "function_0x" + S7Names.hex(UInt32(function), digits: 4)))
        }
        if let sequence { record.set("sequence", .int(sequence)) }
        return record
    }
}
