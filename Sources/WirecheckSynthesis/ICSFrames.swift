/// Application frames for the protocols that had no builder before the benchmark workload:
/// IEC 60870-5-104, EtherNet/IP with CIP, S7comm, BACnet/IP, OPC UA binary and TLS 1.3 hellos.
/// Each builder writes one well-formed message with only the fields a normal session needs.

/// IEC 60870-5-104 APDUs (IEC 60870-5-104 clause 5): start byte 0x68, length, four control
/// octets, then for I-format frames an ASDU with a two-octet cause and common address and
/// three-octet information object addresses, all little-endian.
public enum IEC104Frames {
    /// Builds STARTDT act (0x07) or con (0x0B).
    public static func startDataTransfer(confirm: Bool) -> [UInt8] {
        [0x68, 0x04, confirm ? 0x0B : 0x07, 0x00, 0x00, 0x00]
    }

    /// Builds an S-format frame acknowledging every I-frame before `receiveSequence`.
    public static func supervisory(receiveSequence: UInt16) -> [UInt8] {
        let value = (receiveSequence & 0x7fff) << 1
        return [0x68, 0x04, 0x01, 0x00, UInt8(value & 0xff), UInt8(value >> 8)]
    }

    /// Builds a general interrogation (type 100, C_IC_NA_1), as activation (cause 6) or confirmation
    /// (cause 7), with qualifier 20 (station interrogation).
    public static func interrogation(sendSequence: UInt16, receiveSequence: UInt16, commonAddress: UInt16,
                                     confirm: Bool) -> [UInt8] {
        let asdu: [UInt8] = [100, 0x01, confirm ? 7 : 6, 0x00, UInt8(commonAddress & 0xff), UInt8(commonAddress >> 8),
                             0x00, 0x00, 0x00, 20]
        return information(sendSequence: sendSequence, receiveSequence: receiveSequence, asdu: asdu)
    }

    /// Builds a short floating-point measurement (type 13, M_ME_NC_1), cause 20 (interrogated by
    /// station), with quality descriptor 0 (good).
    public static func floatMeasurement(sendSequence: UInt16, receiveSequence: UInt16, commonAddress: UInt16,
                                        objectAddress: UInt32, value: Float) -> [UInt8] {
        let bits = value.bitPattern
        let asdu: [UInt8] = [13, 0x01, 20, 0x00, UInt8(commonAddress & 0xff), UInt8(commonAddress >> 8),
                             UInt8(objectAddress & 0xff), UInt8((objectAddress >> 8) & 0xff), UInt8((objectAddress >> 16) & 0xff),
                             UInt8(bits & 0xff), UInt8((bits >> 8) & 0xff), UInt8((bits >> 16) & 0xff), UInt8(bits >> 24),
                             0x00]
        return information(sendSequence: sendSequence, receiveSequence: receiveSequence, asdu: asdu)
    }

    static func information(sendSequence: UInt16, receiveSequence: UInt16, asdu: [UInt8]) -> [UInt8] {
        let send = (sendSequence & 0x7fff) << 1
        let receive = (receiveSequence & 0x7fff) << 1
        return [0x68, UInt8(4 + asdu.count), UInt8(send & 0xff), UInt8(send >> 8), UInt8(receive & 0xff), UInt8(receive >> 8)]
            + asdu
    }
}

/// EtherNet/IP encapsulation (ODVA Volume 2, little-endian 24-byte header) and the explicit CIP
/// requests carried in SendRRData.
public enum ENIPFrames {
    static func header(command: UInt16, length: Int, session: UInt32, context: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24 + length)
        appendLittle16(command, to: &bytes)
        appendLittle16(UInt16(truncatingIfNeeded: length), to: &bytes)
        appendLittle32(session, to: &bytes)
        appendLittle32(0, to: &bytes)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: context >> UInt64(shift))) }
        appendLittle32(0, to: &bytes)
        return bytes
    }

    /// Builds RegisterSession (0x0065), protocol version 1. The target's reply carries the session
    /// handle it assigned.
    public static func registerSession(session: UInt32, context: UInt64) -> [UInt8] {
        header(command: 0x0065, length: 4, session: session, context: context) + [0x01, 0x00, 0x00, 0x00]
    }

    /// Builds SendRRData (0x006F) with a null address item and an unconnected data item holding `cip`.
    public static func sendRRData(session: UInt32, context: UInt64, cip: [UInt8]) -> [UInt8] {
        var body: [UInt8] = [0, 0, 0, 0, 0x0A, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xB2, 0x00]
        appendLittle16(UInt16(truncatingIfNeeded: cip.count), to: &body)
        body += cip
        return header(command: 0x006F, length: body.count, session: session, context: context) + body
    }

    /// Builds CIP Get_Attribute_Single (service 0x0E) on class, instance 1, attribute, with 8-bit
    /// logical segments.
    public static func getAttributeSingle(classID: UInt8, attribute: UInt8) -> [UInt8] {
        [0x0E, 0x03, 0x20, classID, 0x24, 0x01, 0x30, attribute]
    }

    /// Builds the success reply (service 0x8E, general status 0) carrying `data`.
    public static func getAttributeSingleReply(data: [UInt8]) -> [UInt8] {
        [0x8E, 0x00, 0x00, 0x00] + data
    }

    static func appendLittle16(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(value & 0xff))
        bytes.append(UInt8(value >> 8))
    }

    static func appendLittle32(_ value: UInt32, to bytes: inout [UInt8]) {
        appendLittle16(UInt16(value & 0xffff), to: &bytes)
        appendLittle16(UInt16(value >> 16), to: &bytes)
    }
}

/// S7comm over ISO-on-TCP (RFC 1006 TPKT, ISO 8073 COTP class 0), big-endian.
public enum S7commFrames {
    static func tpkt(_ body: [UInt8]) -> [UInt8] {
        let length = body.count + 4
        return [0x03, 0x00, UInt8(length >> 8), UInt8(length & 0xff)] + body
    }

    /// Builds a COTP connection request (0xE0) or confirm (0xD0) with TPDU size 1024 and the
    /// rack 0 slot 2 transport selectors the S7-300 family uses.
    public static func connection(confirm: Bool, reference: UInt16) -> [UInt8] {
        let destination: UInt16 = confirm ? 0x0001 : 0x0000
        let source: UInt16 = confirm ? reference : 0x0001
        let cotp: [UInt8] = [0x11, confirm ? 0xD0 : 0xE0, UInt8(destination >> 8), UInt8(destination & 0xff),
                             UInt8(source >> 8), UInt8(source & 0xff), 0x00,
                             0xC0, 0x01, 0x0A, 0xC1, 0x02, 0x01, 0x00, 0xC2, 0x02, 0x01, 0x02]
        return tpkt(cotp)
    }

    /// Builds one S7 PDU in a COTP data TPDU. Acknowledgements (ROSCTR 2 and 3) carry the error class
    /// and code, which are zero here.
    static func pdu(rosctr: UInt8, reference: UInt16, parameters: [UInt8], data: [UInt8]) -> [UInt8] {
        var header: [UInt8] = [0x02, 0xF0, 0x80, 0x32, rosctr, 0x00, 0x00, UInt8(reference >> 8), UInt8(reference & 0xff),
                               UInt8(parameters.count >> 8), UInt8(parameters.count & 0xff),
                               UInt8(data.count >> 8), UInt8(data.count & 0xff)]
        if rosctr == 2 || rosctr == 3 { header += [0x00, 0x00] }
        return tpkt(header + parameters + data)
    }

    /// Builds setup communication (function 0xF0) with one calling and one called job and PDU size 480.
    public static func setupCommunication(reference: UInt16, acknowledge: Bool) -> [UInt8] {
        pdu(rosctr: acknowledge ? 3 : 1, reference: reference,
            parameters: [0xF0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xE0], data: [])
    }

    /// Builds read variable (function 0x04) of `count` bytes from data block `block` at byte `byteOffset`.
    public static func readDataBlock(reference: UInt16, block: UInt16, byteOffset: UInt32, count: UInt16) -> [UInt8] {
        let bitAddress = byteOffset << 3
        let item: [UInt8] = [0x12, 0x0A, 0x10, 0x02, UInt8(count >> 8), UInt8(count & 0xff), UInt8(block >> 8), UInt8(block & 0xff),
                             0x84, UInt8((bitAddress >> 16) & 0xff), UInt8((bitAddress >> 8) & 0xff), UInt8(bitAddress & 0xff)]
        return pdu(rosctr: 1, reference: reference, parameters: [0x04, 0x01] + item, data: [])
    }

    /// Builds the acknowledgement of one read item: return code 0xFF (success), transport size 4
    /// (length in bits) and the bytes.
    public static func readDataBlockResponse(reference: UInt16, bytes: [UInt8]) -> [UInt8] {
        let bits = bytes.count * 8
        let data: [UInt8] = [0xFF, 0x04, UInt8((bits >> 8) & 0xff), UInt8(bits & 0xff)] + bytes
        return pdu(rosctr: 3, reference: reference, parameters: [0x04, 0x01], data: data)
    }
}

/// BACnet/IP (ASHRAE 135 Annex J): BVLC Original-Unicast-NPDU, NPDU version 1, then the APDU.
public enum BACnetFrames {
    static func unicast(expectingReply: Bool, apdu: [UInt8]) -> [UInt8] {
        let length = 4 + 2 + apdu.count
        return [0x81, 0x0A, UInt8(length >> 8), UInt8(length & 0xff), 0x01, expectingReply ? 0x04 : 0x00] + apdu
    }

    /// Encodes the context-tagged object identifier (tag 0) of an analog-input object.
    static func analogInput(_ instance: UInt32) -> [UInt8] {
        let identifier = instance & 0x3f_ffff
        return [0x0C, UInt8(identifier >> 24), UInt8((identifier >> 16) & 0xff), UInt8((identifier >> 8) & 0xff),
                UInt8(identifier & 0xff)]
    }

    /// Builds a confirmed ReadProperty (service 12) of present-value (property 85) of an analog input.
    public static func readPresentValue(invokeID: UInt8, instance: UInt32) -> [UInt8] {
        unicast(expectingReply: true, apdu: [0x00, 0x05, invokeID, 0x0C] + analogInput(instance) + [0x19, 0x55])
    }

    /// Builds the ComplexACK to `readPresentValue`, with the value as an application-tagged REAL.
    public static func readPresentValueAck(invokeID: UInt8, instance: UInt32, value: Float) -> [UInt8] {
        let bits = value.bitPattern
        let apdu: [UInt8] = [0x30, invokeID, 0x0C] + analogInput(instance)
            + [0x19, 0x55, 0x3E, 0x44, UInt8(bits >> 24), UInt8((bits >> 16) & 0xff), UInt8((bits >> 8) & 0xff),
               UInt8(bits & 0xff), 0x3F]
        return unicast(expectingReply: false, apdu: apdu)
    }
}

/// OPC UA binary (OPC 10000-6), security policy None, little-endian.
public enum OPCUAFrames {
    static let policyNone = Array("http://opcfoundation.org/UA/SecurityPolicy#None".utf8)

    static func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        var bytes = Array(type.utf8) + [UInt8(ascii: "F")]
        ENIPFrames.appendLittle32(UInt32(8 + body.count), to: &bytes)
        return bytes + body
    }

    static func little32(_ value: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        ENIPFrames.appendLittle32(value, to: &bytes)
        return bytes
    }

    static func string(_ bytes: [UInt8]) -> [UInt8] { little32(UInt32(bytes.count)) + bytes }

    /// Builds a Hello with 64 KiB buffers and no message or chunk limit.
    public static func hello(endpoint: String) -> [UInt8] {
        chunk("HEL", little32(0) + little32(65_536) + little32(65_536) + little32(0) + little32(0)
            + string(Array(endpoint.utf8)))
    }

    public static func acknowledge() -> [UInt8] {
        chunk("ACK", little32(0) + little32(65_536) + little32(65_536) + little32(0) + little32(0))
    }

    /// Builds an OpenSecureChannel request (type 446) or response (449) under policy None, with an empty
    /// request or response header.
    public static func openSecureChannel(response: Bool, channel: UInt32, sequence: UInt32, request: UInt32) -> [UInt8] {
        var body = little32(response ? channel : 0) + string(policyNone) + little32(0xFFFF_FFFF) + little32(0xFFFF_FFFF)
            + little32(sequence) + little32(request)
        if response {
            // ResponseHeader: timestamp, handle, service result Good, no diagnostics, empty
            // string table, no additional header.
            body += [0x01, 0x00, 0xC1, 0x01] + [UInt8](repeating: 0, count: 17) + little32(0) + [0x00, 0x00, 0x00]
            // Server protocol version, then the security token: channel, token id, creation
            // time, revised lifetime of one hour, and a null server nonce.
            body += little32(0) + little32(channel) + little32(1) + [UInt8](repeating: 0, count: 8) + little32(3_600_000)
            body += little32(0xFFFF_FFFF)
        } else {
            // RequestHeader: null authentication token, timestamp, handle, diagnostics mask,
            // null audit entry id, timeout hint, no additional header.
            body += [0x01, 0x00, 0xBE, 0x01, 0x00, 0x00] + [UInt8](repeating: 0, count: 16) + little32(0xFFFF_FFFF)
                + little32(0) + [0x00, 0x00, 0x00]
            // Client protocol version, request type Issue, security mode None, null client
            // nonce, requested lifetime of one hour.
            body += little32(0) + little32(0) + little32(1) + little32(0xFFFF_FFFF) + little32(3_600_000)
        }
        return chunk("OPN", body)
    }

    /// Builds a single-chunk MSG carrying a ReadRequest (type 631) or ReadResponse (634) type id and
    /// `body` after it.
    public static func read(response: Bool, channel: UInt32, sequence: UInt32, request: UInt32, body: [UInt8]) -> [UInt8] {
        let typeID: [UInt8] = response ? [0x01, 0x00, 0x7A, 0x02] : [0x01, 0x00, 0x77, 0x02]
        return chunk("MSG", little32(channel) + little32(1) + little32(sequence) + little32(request) + typeID + body)
    }
}

/// TLS 1.3 hellos (RFC 8446) and records, enough for a sensor to see a TLS session and its
/// fingerprint. Key shares and randoms are filler bytes, because the benchmark never decrypts the session.
public enum TLSFrames {
    static func record(type: UInt8, version: UInt16, _ body: [UInt8]) -> [UInt8] {
        [type, UInt8(version >> 8), UInt8(version & 0xff), UInt8(body.count >> 8), UInt8(body.count & 0xff)] + body
    }

    static func handshake(type: UInt8, _ body: [UInt8]) -> [UInt8] {
        [type, UInt8(body.count >> 16), UInt8((body.count >> 8) & 0xff), UInt8(body.count & 0xff)] + body
    }

    static func extensionBlock(_ type: UInt16, _ data: [UInt8]) -> [UInt8] {
        [UInt8(type >> 8), UInt8(type & 0xff), UInt8(data.count >> 8), UInt8(data.count & 0xff)] + data
    }

    /// Builds a ClientHello offering TLS 1.3 with SNI `serverName`, x25519 and the three TLS 1.3
    /// cipher suites.
    public static func clientHello(serverName: String, random: UInt8) -> [UInt8] {
        let name = Array(serverName.utf8)
        var serverNameList: [UInt8] = [0x00, UInt8(name.count >> 8), UInt8(name.count & 0xff)] + name
        serverNameList = [UInt8(serverNameList.count >> 8), UInt8(serverNameList.count & 0xff)] + serverNameList
        var extensions = extensionBlock(0x0000, serverNameList)
        extensions += extensionBlock(0x000A, [0x00, 0x04, 0x00, 0x1D, 0x00, 0x17])
        extensions += extensionBlock(0x000D, [0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01])
        extensions += extensionBlock(0x002B, [0x04, 0x03, 0x04, 0x03, 0x03])
        extensions += extensionBlock(0x0033, [0x00, 0x24, 0x00, 0x1D, 0x00, 0x20] + [UInt8](repeating: random, count: 32))
        var body: [UInt8] = [0x03, 0x03] + [UInt8](repeating: random, count: 32) + [0x00]
        body += [0x00, 0x06, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0x01, 0x00]
        body += [UInt8(extensions.count >> 8), UInt8(extensions.count & 0xff)] + extensions
        return record(type: 0x16, version: 0x0301, handshake(type: 0x01, body))
    }

    /// Builds a ServerHello selecting TLS 1.3 and TLS_AES_128_GCM_SHA256, followed by the
    /// ChangeCipherSpec record that middlebox compatibility mode sends.
    public static func serverHello(random: UInt8) -> [UInt8] {
        var extensions = extensionBlock(0x002B, [0x03, 0x04])
        extensions += extensionBlock(0x0033, [0x00, 0x1D, 0x00, 0x20] + [UInt8](repeating: random, count: 32))
        var body: [UInt8] = [0x03, 0x03] + [UInt8](repeating: random &+ 1, count: 32) + [0x00, 0x13, 0x01, 0x00]
        body += [UInt8(extensions.count >> 8), UInt8(extensions.count & 0xff)] + extensions
        return record(type: 0x16, version: 0x0303, handshake(type: 0x02, body)) + record(type: 0x14, version: 0x0303, [0x01])
    }

    /// Builds an application_data record of `length` opaque bytes.
    public static func applicationData(length: Int, fill: UInt8) -> [UInt8] {
        record(type: 0x17, version: 0x0303, [UInt8](repeating: fill, count: length))
    }
}
