import WirecheckCore

/// Byte counts of one TLS flow, for the run's encrypted share.
///
/// Each parser keeps its own counts in `TLSParser.statistics`. The engine reads them when it
/// closes the flow (`(parser as? TLSParser)?.statistics`) and sums them with `add(_:)`.
/// Nothing is shared or global.
public struct TLSStatistics: Sendable, Equatable {
    /// Records read, in both directions.
    public var records = 0
    /// Record payload bytes sent in cleartext: hellos, certificates, alerts, ChangeCipherSpec.
    public var cleartextBytesToServer = 0
    public var cleartextBytesToClient = 0
    /// Record payload bytes that are encrypted: application data and, after
    /// ChangeCipherSpec or a TLS 1.3 ServerHello, handshake and alert records.
    public var encryptedBytesToServer = 0
    public var encryptedBytesToClient = 0
    /// ClientHello messages seen (a HelloRetryRequest makes two in one flow).
    public var clientHellos = 0

    public init() {}

    public var encryptedBytes: Int { encryptedBytesToServer + encryptedBytesToClient }
    public var cleartextBytes: Int { cleartextBytesToServer + cleartextBytesToClient }

    public mutating func add(_ other: TLSStatistics) {
        records += other.records
        cleartextBytesToServer += other.cleartextBytesToServer
        cleartextBytesToClient += other.cleartextBytesToClient
        encryptedBytesToServer += other.encryptedBytesToServer
        encryptedBytesToClient += other.encryptedBytesToClient
        clientHellos += other.clientHellos
    }
}

/// The per-flow TLS parser: the record layer, the handshake layer reassembled across
/// records, and the findings of one handshake.
///
/// `parse` consumes whole records only, so the caller must keep up to one partial record per
/// direction: 5 header bytes plus `maxRecordLength`, 18 437 bytes in all.
public final class TLSParser: ApplicationParser {
    /// Largest record payload accepted: 2^14 plus the 2048 bytes of expansion that
    /// RFC 5246 section 6.2.3 allows for a ciphertext.
    static let maxRecordLength = 16_384 + 2048
    /// Largest handshake message reassembled per direction. Real certificate chains stay
    /// well under it, and it caps the memory a peer can make the parser hold.
    static let maxHandshakeMessageLength = 65_536
    /// Certificates parsed per Certificate message; the rest are counted in `chain_length`.
    static let maxCertificates = 10
    /// Packet references kept as the handshake's evidence.
    static let maxEvidencePackets = 16
    /// Cleartext alerts kept for the event.
    static let maxAlerts = 8
    /// Handshake message types kept for the event; a full TLS 1.2 handshake has about ten.
    static let maxHandshakeMessages = 16
    /// Weak cipher suites named in one `tls.weak_cipher_offered` alert, because a hostile
    /// ClientHello can list thousands.
    static let maxListedWeakCiphers = 16

    final class DirectionState {
        /// Handshake bytes waiting for the rest of their message.
        var handshakeBuffer: [UInt8] = []
        /// After ChangeCipherSpec (TLS 1.2 and older) or a TLS 1.3 ServerHello, records are
        /// only counted.
        var isEncrypted = false
        /// Set after an invalid record header: the stream cannot be resynchronised.
        var isStopped = false
        /// Set after an oversized or invalid handshake message: records are still counted.
        var skipsHandshake = false
        var hasSeenData = false
    }

    public private(set) var statistics = TLSStatistics()

    let client = DirectionState()
    let server = DirectionState()
    var clientHello: TLSClientHello?
    var helloRetryRequest: TLSServerHello?
    var serverHello: TLSServerHello?
    /// The version in the server's SSLv2 SERVER-HELLO, when the whole session is SSLv2.
    var sslv2ServerHello: UInt16?
    var certificates: [TLSCertificateInfo] = []
    /// The server's own certificate, when the first entry of its chain parsed.
    var leafCertificate: TLSCertificateInfo?
    var chainLength = 0
    var alerts: [JSONValue] = []
    var serverSentFatalAlert = false
    /// Length of the client's last heartbeat record, to compare with the server's response.
    var lastHeartbeatRequestLength: Int?
    var evidence: [PacketReference] = []
    /// The server sent a CertificateRequest, so the client is expected to send a Certificate.
    var serverRequestedClientCertificate = false
    /// The client's first certificate, when it sent one that parsed.
    var clientCertificate: TLSCertificateInfo?
    /// Certificates in the client's Certificate message, nil until the message arrives.
    var clientCertificateCount: Int?
    /// Cleartext handshake message types in arrival order, both directions.
    var handshakeMessages: [UInt8] = []
    var hasEmittedEvent = false
    /// Rule names already raised in this flow, so each finding is raised once.
    var raised: Set<String> = []

    public init() {}

    public func parse(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) -> Int {
        let state = direction == .toServer ? client : server
        if state.isStopped { return bytes.count }

        if sslv2ServerHello != nil {
            // An SSLv2 session: after the hellos everything but the record headers is encrypted,
            // so the bytes are counted without reading SSLv2 record boundaries.
            countBytes(bytes.count, encrypted: true, direction: direction)
            return bytes.count
        }

        var offset = 0
        if direction == .toClient, !state.hasSeenData, clientHello?.isSSLv2Format == true, let first = bytes.first,
           first & 0x80 != 0 {
            guard bytes.count >= 2 else { return 0 }
            let length = Int(first & 0x7f) << 8 | Int(bytes[1])
            guard bytes.count >= 2 + length else { return 0 }
            state.hasSeenData = true
            handleSSLv2ServerRecord(UnsafeRawBufferPointer(rebasing: bytes[2..<(2 + length)]), context: context)
            return 2 + length
        }
        if direction == .toServer, !state.hasSeenData, let first = bytes.first, first & 0x80 != 0 {
            guard bytes.count >= 2 else { return 0 }
            let length = Int(first & 0x7f) << 8 | Int(bytes[1])
            guard bytes.count >= 2 + length else { return 0 }
            state.hasSeenData = true
            handleSSLv2Record(UnsafeRawBufferPointer(rebasing: bytes[2..<(2 + length)]), context: context)
            offset = 2 + length
        }

        while bytes.count - offset >= 5 {
            let contentType = bytes[offset]
            let major = bytes[offset + 1]
            let minor = bytes[offset + 2]
            let length = Int(bytes[offset + 3]) << 8 | Int(bytes[offset + 4])
            guard (TLSContentType.changeCipherSpec...TLSContentType.heartbeat).contains(contentType), major == 3, minor <= 4,
                  length <= TLSParser.maxRecordLength else {
                reportInvalidRecord(contentType: contentType, version: UInt16(major) << 8 | UInt16(minor), length: length,
                                    direction: direction, context: context)
                state.isStopped = true
                return bytes.count
            }
            guard bytes.count - offset - 5 >= length else { break }
            state.hasSeenData = true
            let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + 5)..<(offset + 5 + length)])
            handleRecord(contentType: contentType, body: body, direction: direction, state: state, context: context)
            offset += 5 + length
        }
        return offset
    }

    public func gap(direction: StreamDirection, length: Int, context: ApplicationContext) {
        // A lost segment leaves no record boundary to resume from; stop this direction
        // rather than read record headers out of ciphertext.
        let state = direction == .toServer ? client : server
        state.isStopped = true
        state.handshakeBuffer = []
    }

    public func close(context: ApplicationContext) {
        if clientHello != nil, serverHello == nil, sslv2ServerHello == nil, helloRetryRequest == nil, !serverSentFatalAlert {
            reportHandshakeIncomplete(context: context)
        }
        if clientHello != nil || serverHello != nil { emitEventOnce(context: context) }
    }

    // MARK: Record layer

    private func handleRecord(contentType: UInt8, body: UnsafeRawBufferPointer, direction: StreamDirection,
                              state: DirectionState, context: ApplicationContext) {
        statistics.records += 1
        if contentType == TLSContentType.heartbeat {
            handleHeartbeat(body, direction: direction, encrypted: state.isEncrypted, context: context)
        }
        if contentType == TLSContentType.applicationData || (state.isEncrypted && contentType != TLSContentType.changeCipherSpec) {
            countBytes(body.count, encrypted: true, direction: direction)
            return
        }
        countBytes(body.count, encrypted: false, direction: direction)

        switch contentType {
        case TLSContentType.changeCipherSpec:
            noteEvidence(context.packet)
            // TLS 1.2 and older encrypt after ChangeCipherSpec, which follows the ServerHello.
            // TLS 1.3 peers send it only for middlebox compatibility, also after a
            // HelloRetryRequest, before any ServerHello.
            if let hello = serverHello, !hello.isTLS13 { state.isEncrypted = true }
            // The client's ChangeCipherSpec ends the wait for a requested client Certificate.
            if direction == .toClient || serverHello?.isTLS13 == false { emitEventOnce(context: context) }
        case TLSContentType.alert:
            handleAlert(body, direction: direction, context: context)
        case TLSContentType.handshake:
            guard !state.skipsHandshake else { return }
            state.handshakeBuffer.append(contentsOf: body)
            drainHandshakeMessages(direction: direction, state: state, context: context)
        default:
            // Heartbeat records carry no handshake state.
            break
        }
    }

    private func countBytes(_ count: Int, encrypted: Bool, direction: StreamDirection) {
        switch (encrypted, direction) {
        case (true, .toServer): statistics.encryptedBytesToServer += count
        case (true, .toClient): statistics.encryptedBytesToClient += count
        case (false, .toServer): statistics.cleartextBytesToServer += count
        case (false, .toClient): statistics.cleartextBytesToClient += count
        }
    }

    private func handleAlert(_ body: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) {
        var reader = TLSByteReader(body)
        while let level = reader.u8(), let description = reader.u8() {
            noteEvidence(context.packet)
            if alerts.count < TLSParser.maxAlerts {
                alerts.append(.object([
                    "direction": .string(direction == .toServer ? "to_server" : "to_client"),
                    "level": .string(level == 2 ? "fatal" : level == 1 ? "warning" : "unknown_\(level)"),
                    "description": .string(TLSNames.alertDescription(description)),
                ]))
            }
            if direction == .toClient, level == 2 {
                serverSentFatalAlert = true
                reportServerAlert(description: description, context: context)
                emitEventOnce(context: context)
            }
        }
    }

    private func handleSSLv2Record(_ record: UnsafeRawBufferPointer, context: ApplicationContext) {
        statistics.records += 1
        countBytes(record.count, encrypted: false, direction: .toServer)
        guard record.first == 1 else { return }
        noteEvidence(context.packet)
        do {
            let hello = try TLSClientHello.parseSSLv2(UnsafeRawBufferPointer(rebasing: record[1...]))
            acceptClientHello(hello, context: context)
        } catch let error as TLSDecodeError {
            reportInvalidHandshake(error, context: context)
        } catch {}
    }

    /// Reads an SSLv2 SERVER-HELLO: type 4, session_id_hit, certificate_type, version,
    /// then the lengths of the certificate, the cipher specs and the connection id.
    private func handleSSLv2ServerRecord(_ record: UnsafeRawBufferPointer, context: ApplicationContext) {
        statistics.records += 1
        countBytes(record.count, encrypted: false, direction: .toClient)
        var reader = TLSByteReader(record)
        guard reader.u8() == 4 else { return }
        noteEvidence(context.packet)
        guard reader.u8() != nil, reader.u8() != nil, let version = reader.u16(), let certificateLength = reader.u16(),
              reader.u16() != nil, reader.u16() != nil, let der = reader.view(Int(certificateLength)) else {
            reportInvalidHandshake(TLSDecodeError("SSLv2 SERVER-HELLO is truncated"), context: context)
            return
        }
        sslv2ServerHello = version
        checkDeprecatedVersion(version, context: context)
        guard !der.isEmpty else { return }
        chainLength = 1
        if let certificate = TLSCertificateInfo.parse(der: der) {
            certificates = [certificate]
            leafCertificate = certificate
            checkCertificate(certificate, context: context)
        } else {
            context.anomaly(TLSCatalogue.certificateInvalid,
                            message: "\(context.flow.destIP) sent an SSLv2 certificate (\(der.count) bytes) to \(context.flow.srcIP), and it is not valid DER X.509.",
                            details: ["chain_index": .int(0), "length": .int(der.count)])
        }
        emitEventOnce(context: context)
    }

    // MARK: Handshake layer

    private func drainHandshakeMessages(direction: StreamDirection, state: DirectionState, context: ApplicationContext) {
        var consumed = 0
        while state.handshakeBuffer.count - consumed >= 4, !state.isEncrypted, !state.skipsHandshake {
            let type = state.handshakeBuffer[consumed]
            let length = Int(state.handshakeBuffer[consumed + 1]) << 16 | Int(state.handshakeBuffer[consumed + 2]) << 8
                | Int(state.handshakeBuffer[consumed + 3])
            guard length <= TLSParser.maxHandshakeMessageLength else {
                context.anomaly(TLSCatalogue.handshakeTooLong,
                                message: "\(sender(direction, context)) sent a TLS \(TLSNames.handshakeType(type)) of \(length) bytes, over the \(TLSParser.maxHandshakeMessageLength)-byte reassembly limit; the rest of its handshake is skipped.",
                                details: ["handshake_type": .int(type), "length": .int(length)])
                state.skipsHandshake = true
                break
            }
            guard state.handshakeBuffer.count - consumed - 4 >= length else { break }
            let start = consumed + 4
            consumed = start + length
            state.handshakeBuffer.withUnsafeBytes { buffer in
                let body = UnsafeRawBufferPointer(rebasing: buffer[start..<(start + length)])
                handleHandshakeMessage(type: type, body: body, direction: direction, context: context)
            }
        }
        if state.isEncrypted || state.skipsHandshake {
            state.handshakeBuffer = []
        } else if consumed > 0 {
            state.handshakeBuffer.removeFirst(consumed)
        }
    }

    private func handleHandshakeMessage(type: UInt8, body: UnsafeRawBufferPointer, direction: StreamDirection,
                                        context: ApplicationContext) {
        noteEvidence(context.packet)
        if handshakeMessages.count < TLSParser.maxHandshakeMessages { handshakeMessages.append(type) }
        do {
            switch (type, direction) {
            case (1, .toServer):
                acceptClientHello(try TLSClientHello.parse(body), context: context)
            case (2, .toClient):
                acceptServerHello(try TLSServerHello.parse(body), context: context)
            case (11, .toClient):
                try acceptCertificates(body, context: context)
            case (13, .toClient):
                serverRequestedClientCertificate = true
            case (14, .toClient):
                // With mutual authentication the event waits for the client's Certificate.
                if !serverRequestedClientCertificate { emitEventOnce(context: context) }
            case (11, .toServer):
                try acceptClientCertificate(body, context: context)
                emitEventOnce(context: context)
            default:
                // ServerKeyExchange, ClientKeyExchange, CertificateVerify and NewSessionTicket
                // carry nothing the event reports.
                break
            }
        } catch let error as TLSDecodeError {
            reportInvalidHandshake(error, context: context)
        } catch {}
    }

    private func acceptClientHello(_ hello: TLSClientHello, context: ApplicationContext) {
        statistics.clientHellos += 1
        // The first ClientHello fingerprints the client. A second one follows a
        // HelloRetryRequest and comes from the same client.
        guard clientHello == nil else { return }
        clientHello = hello
        checkOfferedCiphers(hello, context: context)
    }

    private func acceptServerHello(_ hello: TLSServerHello, context: ApplicationContext) {
        if hello.isHelloRetryRequest {
            helloRetryRequest = hello
            return
        }
        guard serverHello == nil else { return }
        serverHello = hello
        checkNegotiation(hello, context: context)
        if hello.isTLS13 {
            // Everything after a TLS 1.3 ServerHello is encrypted, the certificate included.
            client.isEncrypted = true
            server.isEncrypted = true
            emitEventOnce(context: context)
        }
    }

    /// Reads a TLS 1.2-and-older Certificate message: a 24-bit list of 24-bit DER entries.
    private func acceptCertificates(_ body: UnsafeRawBufferPointer, context: ApplicationContext) throws {
        guard certificates.isEmpty, chainLength == 0 else { return }
        var reader = TLSByteReader(body)
        guard let list = reader.vector24() else { throw TLSDecodeError("Certificate message certificate_list is truncated") }
        var entries = TLSByteReader(list)
        var leaf: TLSCertificateInfo?
        while !entries.isAtEnd {
            guard let der = entries.vector24() else {
                throw TLSDecodeError("certificate \(chainLength) of the Certificate message is truncated")
            }
            chainLength += 1
            guard certificates.count < TLSParser.maxCertificates else { continue }
            if let certificate = TLSCertificateInfo.parse(der: der) {
                certificates.append(certificate)
                if chainLength == 1 { leaf = certificate }
            } else {
                context.anomaly(TLSCatalogue.certificateInvalid,
                                message: "\(context.flow.destIP) sent certificate \(chainLength - 1) of its chain (\(der.count) bytes) to \(context.flow.srcIP), and it is not valid DER X.509.",
                                details: ["chain_index": .int(chainLength - 1), "length": .int(der.count)])
            }
        }
        // Findings describe the server's own (leaf) certificate. CA certificates in the
        // chain are reported in the event only.
        leafCertificate = leaf
        if let leaf { checkCertificate(leaf, context: context) }
    }

    /// Reads the client's Certificate message of a mutually authenticated TLS 1.2 handshake.
    /// Only its first certificate is kept, and no finding is raised on it: the server, not
    /// the network, decides whether to trust a client.
    private func acceptClientCertificate(_ body: UnsafeRawBufferPointer, context: ApplicationContext) throws {
        guard clientCertificateCount == nil else { return }
        var reader = TLSByteReader(body)
        guard let list = reader.vector24() else { throw TLSDecodeError("client Certificate message certificate_list is truncated") }
        var entries = TLSByteReader(list)
        var count = 0
        while !entries.isAtEnd {
            guard let der = entries.vector24() else {
                throw TLSDecodeError("certificate \(count) of the client's Certificate message is truncated")
            }
            count += 1
            guard count == 1 else { continue }
            clientCertificate = TLSCertificateInfo.parse(der: der)
            if clientCertificate == nil {
                context.anomaly(TLSCatalogue.certificateInvalid,
                                message: "\(context.flow.srcIP) sent a client certificate (\(der.count) bytes) to \(context.flow.destIP), and it is not valid DER X.509.",
                                details: ["chain_index": .int(0), "length": .int(der.count), "sender": "client"])
            }
        }
        clientCertificateCount = count
    }

    func noteEvidence(_ packet: PacketReference) {
        guard evidence.last != packet, evidence.count < TLSParser.maxEvidencePackets else { return }
        evidence.append(packet)
    }

    func sender(_ direction: StreamDirection, _ context: ApplicationContext) -> String {
        direction == .toServer ? "\(context.flow.srcIP)" : "\(context.flow.destIP)"
    }
}
