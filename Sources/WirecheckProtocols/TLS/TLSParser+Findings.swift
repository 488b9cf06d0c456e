import WirecheckCore

/// Findings and the `tls` event of one handshake.
///
/// Each finding is raised at most once per flow. "Repeated between the same hosts" is a
/// cross-flow question, so every alert carries `repeat_key` (client ip, server ip, server
/// port) for the detection stage to count, and this parser keeps no state across flows.
extension TLSParser {
    /// RSA and DSA keys below this many bits are short (NIST SP 800-131A, 112-bit security).
    static let minimumRSABits = 2048
    /// EC keys below this many bits are short (NIST SP 800-131A, 112-bit security).
    static let minimumECBits = 224

    // MARK: Checks

    func checkOfferedCiphers(_ hello: TLSClientHello, context: ApplicationContext) {
        let weak = hello.cipherSuites.compactMap { suite in TLSNames.cipherWeakness(suite).map { (suite, $0) } }
        guard !weak.isEmpty else { return }
        let names = weak.map { "\(TLSNames.cipherSuite($0.0)) (\($0.1.rawValue))" }
        raise(TLSCatalogue.weakCipherOffered,
              message: "\(context.flow.srcIP) offered \(weak.count) weak cipher suite\(weak.count == 1 ? "" : "s") to \(serverText(context)): \(names.prefix(5).joined(separator: ", "))\(weak.count > 5 ? ", ..." : "").",
              details: ["weak_ciphers": .array(weak.prefix(TLSParser.maxListedWeakCiphers).map { .string(TLSNames.cipherSuite($0.0)) }),
                        "weak_cipher_count": .int(weak.count)],
              context: context)
    }

    func checkNegotiation(_ hello: TLSServerHello, context: ApplicationContext) {
        checkDeprecatedVersion(hello.negotiatedVersion, context: context)
        if let weakness = TLSNames.cipherWeakness(hello.cipherSuite) {
            raise(TLSCatalogue.weakCipherChosen,
                  message: "\(serverText(context)) chose the weak cipher suite \(TLSNames.cipherSuite(hello.cipherSuite)) (\(weakness.rawValue)) for \(context.flow.srcIP).",
                  details: ["cipher_suite": .string(TLSNames.cipherSuite(hello.cipherSuite)), "weakness": .string(weakness.rawValue)],
                  context: context)
        }
    }

    func checkDeprecatedVersion(_ version: UInt16, context: ApplicationContext) {
        guard version == 0x0002 || (0x0300...0x0302).contains(version) else { return }
        raise(TLSCatalogue.deprecatedVersion,
              message: "\(serverText(context)) negotiated \(TLSNames.version(version)) with \(context.flow.srcIP); SSL 2.0, SSL 3.0, TLS 1.0 and TLS 1.1 are deprecated (RFC 6176, RFC 7568, RFC 8996).",
              details: ["version": .string(TLSNames.version(version))], context: context)
    }

    func checkCertificate(_ certificate: TLSCertificateInfo, context: ApplicationContext) {
        let now = context.timestamp.seconds
        let subject = String(wireBytes: certificate.subject)
        let base: JSONObject = ["subject": .wire(certificate.subject), "fingerprint": .string(certificate.fingerprint)]

        if certificate.notAfter < now {
            raise(TLSCatalogue.certificateExpired,
                  message: "\(serverText(context)) presented the certificate \"\(subject)\", which expired on \(TLSCertificateInfo.isoDate(certificate.notAfter)).",
                  details: merged(base, ["notafter": .string(TLSCertificateInfo.isoDate(certificate.notAfter))]), context: context)
        }
        if certificate.notBefore > now {
            raise(TLSCatalogue.certificateNotYetValid,
                  message: "\(serverText(context)) presented the certificate \"\(subject)\", which is not valid before \(TLSCertificateInfo.isoDate(certificate.notBefore)).",
                  details: merged(base, ["notbefore": .string(TLSCertificateInfo.isoDate(certificate.notBefore))]), context: context)
        }
        if certificate.isSelfSigned {
            raise(TLSCatalogue.certificateSelfSigned,
                  message: "\(serverText(context)) presented the self-signed certificate \"\(subject)\" (SHA-256 \(certificate.fingerprint)).",
                  details: base, context: context)
        }
        let minimumBits: Int? = switch certificate.keyType {
        case "RSA", "RSA-PSS", "DSA": TLSParser.minimumRSABits
        case "EC": TLSParser.minimumECBits
        default: nil
        }
        if let minimumBits, certificate.keyBits < minimumBits {
            raise(TLSCatalogue.certificateShortKey,
                  message: "\(serverText(context)) presented the certificate \"\(subject)\" with a \(certificate.keyBits)-bit \(certificate.keyType) key; the minimum is \(minimumBits) bits.",
                  details: merged(base, ["key": .object(["type": .string(certificate.keyType), "bits": .int(certificate.keyBits)])]),
                  context: context)
        }
        switch certificate.signatureDigest?.uppercased() {
        case "SHA1":
            raise(TLSCatalogue.certificateSHA1Signature,
                  message: "\(serverText(context)) presented the certificate \"\(subject)\" signed with \(certificate.signatureAlgorithm).",
                  details: merged(base, ["signature_algorithm": .string(certificate.signatureAlgorithm)]), context: context)
        case "MD5":
            raise(TLSCatalogue.certificateMD5Signature,
                  message: "\(serverText(context)) presented the certificate \"\(subject)\" signed with \(certificate.signatureAlgorithm).",
                  details: merged(base, ["signature_algorithm": .string(certificate.signatureAlgorithm)]), context: context)
        default:
            break
        }
        if let serverName = clientHello?.serverName, !serverName.isEmpty, !certificate.matches(hostName: serverName) {
            let names = certificate.dnsNames.isEmpty ? (certificate.commonName.map { [$0] } ?? []) : certificate.dnsNames
            raise(TLSCatalogue.sniMismatch,
                  message: "\(context.flow.srcIP) asked \(serverText(context)) for \(String(wireBytes: serverName)), but the certificate names \(names.isEmpty ? "no host" : names.map { String(wireBytes: $0) }.joined(separator: ", ")).",
                  details: merged(base, ["sni": .wire(serverName), "certificate_names": .array(names.map { .wire($0) })]),
                  context: context)
        }
    }

    func reportServerAlert(description: UInt8, context: ApplicationContext) {
        let name = TLSNames.alertDescription(description)
        raise(TLSCatalogue.serverAlert,
              message: "\(serverText(context)) ended the TLS handshake with \(context.flow.srcIP) with the fatal alert \(name) (\(description)).",
              details: ["description": .string(name), "code": .int(description)], context: context)
    }

    func reportHandshakeIncomplete(context: ApplicationContext) {
        let sni = clientHello?.serverName.map { " for \(String(wireBytes: $0))" } ?? ""
        raise(TLSCatalogue.handshakeIncomplete,
              message: "\(context.flow.srcIP) sent a TLS ClientHello\(sni) to \(serverText(context)), and the flow ended without a ServerHello.",
              details: JSONObject(), context: context)
    }

    func reportInvalidRecord(contentType: UInt8, version: UInt16, length: Int, direction: StreamDirection,
                             context: ApplicationContext) {
        context.anomaly(TLSCatalogue.invalidRecord,
                        message: "\(sender(direction, context)) sent a TLS record header with content type \(contentType), version 0x\(TLSHex.code(version)) and length \(length), which is not a valid record; the rest of this direction is not parsed.",
                        details: ["content_type": .int(contentType), "version": .int(version), "length": .int(length)])
    }

    func reportInvalidHandshake(_ error: TLSDecodeError, context: ApplicationContext) {
        context.anomaly(TLSCatalogue.invalidHandshake,
                        message: "TLS handshake between \(context.flow.srcIP) and \(serverText(context)) is malformed: \(error.message).",
                        details: ["reason": .string(error.message)])
    }

    // MARK: Helpers

    /// Minimum heartbeat padding (RFC 6520): a message shorter than type, length, payload and
    /// 16 bytes of padding claims more payload than it carries.
    static let heartbeatPadding = 16
    /// Extra bytes in a server's heartbeat record, beyond the request's length, that show memory
    /// leaking: an honest response echoes the request's payload, so its record is no longer.
    static let heartbeatLeakMargin = 64

    /// Checks a heartbeat record for the Heartbleed over-read: a cleartext request whose payload
    /// length exceeds what it carries, or (also when encrypted) a server record far longer than
    /// the client's request.
    func handleHeartbeat(_ body: UnsafeRawBufferPointer, direction: StreamDirection, encrypted: Bool,
                         context: ApplicationContext) {
        noteEvidence(context.packet)
        if direction == .toServer {
            lastHeartbeatRequestLength = body.count
            guard !encrypted, body.count >= 3, body[0] == 1 else { return }
            let claimed = Int(body[1]) << 8 | Int(body[2])
            guard claimed + 3 + TLSParser.heartbeatPadding > body.count else { return }
            raise(TLSCatalogue.heartbleed,
                  message: "\(context.flow.srcIP) sent \(context.flow.destIP) port \(context.flow.destPort) a TLS heartbeat request claiming a \(claimed)-byte payload in a \(body.count)-byte message, the Heartbleed over-read.",
                  details: ["claimed_payload_length": .int(claimed), "record_length": .int(body.count)], context: context)
        } else if let request = lastHeartbeatRequestLength, body.count > request + TLSParser.heartbeatLeakMargin {
            raise(TLSCatalogue.heartbleed,
                  message: "\(context.flow.destIP) responded to a \(request)-byte TLS heartbeat from \(context.flow.srcIP) with \(body.count) bytes: the server is leaking memory (Heartbleed).",
                  details: ["request_record_length": .int(request), "response_record_length": .int(body.count)], context: context)
        }
    }

    private func raise(_ definition: AlertDefinition, message: String, details: JSONObject, context: ApplicationContext) {
        guard raised.insert(definition.name).inserted else { return }
        var all = details
        all.set("repeat_key", .object([
            "client_ip": .string("\(context.flow.srcIP)"),
            "server_ip": .string("\(context.flow.destIP)"),
            "server_port": .int(context.flow.destPort),
        ]))
        context.alert(definition, message: message, packets: evidenceOrCurrent(context), details: all)
    }

    private func merged(_ first: JSONObject, _ second: JSONObject) -> JSONObject {
        var result = first
        for (key, value) in second.pairs { result.set(key, value) }
        return result
    }

    private func serverText(_ context: ApplicationContext) -> String {
        "\(context.flow.destIP) port \(context.flow.destPort)"
    }

    private func evidenceOrCurrent(_ context: ApplicationContext) -> [PacketReference] {
        evidence.isEmpty ? [context.packet] : evidence
    }

    // MARK: Event

    func emitEventOnce(context: ApplicationContext) {
        guard !hasEmittedEvent else { return }
        hasEmittedEvent = true
        context.transaction(protocolName: TLSProtocol.name, record: eventRecord(), operation: nil,
                            packets: evidenceOrCurrent(context), message: eventMessage(context))
    }

    /// Builds the `tls` record, with Suricata's field names where Suricata has them.
    func eventRecord() -> JSONObject {
        var record = JSONObject()
        let negotiated = serverHello?.negotiatedVersion ?? sslv2ServerHello
        record.set("version", .string(negotiated.map { TLSNames.version($0) } ?? "UNDETERMINED"))
        if let serverName = clientHello?.serverName { record.set("sni", .wire(serverName)) }
        if let hello = clientHello {
            let ja3 = TLSFingerprints.ja3(hello)
            record.set("ja3", .object(["hash": .string(ja3.hash), "string": .string(ja3.string)]))
            record.set("ja4", .string(TLSFingerprints.ja4(hello)))
            record.set("client_version", .string(TLSNames.version(hello.highestVersion)))
            record.set("client_cipher_suites", .int(hello.cipherSuites.count))
        }
        if let hello = serverHello {
            let ja3s = TLSFingerprints.ja3s(hello)
            record.set("ja3s", .object(["hash": .string(ja3s.hash), "string": .string(ja3s.string)]))
            record.set("cipher_suite", .string(TLSNames.cipherSuite(hello.cipherSuite)))
        }
        if helloRetryRequest != nil { record.set("hello_retry_request", true) }
        var alpn = JSONObject()
        if let offered = clientHello?.alpn, !offered.isEmpty { alpn.set("offered", .array(offered.map { .wire($0) })) }
        if let chosen = serverHello?.alpn { alpn.set("chosen", .wire(chosen)) }
        if !alpn.isEmpty { record.set("alpn", .object(alpn)) }

        if serverHello?.isTLS13 == true {
            record.set("certificate", "encrypted (TLS 1.3)")
        } else if let leaf = leafCertificate {
            record.set("subject", .wire(leaf.subject))
            record.set("issuerdn", .wire(leaf.issuer))
            record.set("serial", .string(leaf.serial))
            record.set("notbefore", .string(TLSCertificateInfo.isoDate(leaf.notBefore)))
            record.set("notafter", .string(TLSCertificateInfo.isoDate(leaf.notAfter)))
            record.set("fingerprint", .string(leaf.fingerprint))
            record.set("key", .object(["type": .string(leaf.keyType), "bits": .int(leaf.keyBits)]))
            record.set("signature_algorithm", .string(leaf.signatureAlgorithm))
            record.set("sans", .array(leaf.dnsNames.map { .wire($0) } + leaf.ipAddresses.map { .string($0) }))
            record.set("self_signed", .bool(leaf.isSelfSigned))
        }
        if chainLength > 0 { record.set("chain_length", .int(chainLength)) }
        if let count = clientCertificateCount {
            var client: JSONObject = ["chain_length": .int(count)]
            if let certificate = clientCertificate {
                client.set("subject", .wire(certificate.subject))
                client.set("issuerdn", .wire(certificate.issuer))
                client.set("serial", .string(certificate.serial))
                client.set("notbefore", .string(TLSCertificateInfo.isoDate(certificate.notBefore)))
                client.set("notafter", .string(TLSCertificateInfo.isoDate(certificate.notAfter)))
                client.set("fingerprint", .string(certificate.fingerprint))
            }
            record.set("client_certificate", .object(client))
        } else if serverRequestedClientCertificate {
            record.set("client_certificate_requested", true)
        }
        if !handshakeMessages.isEmpty {
            record.set("handshake_messages", .array(handshakeMessages.map { .string(TLSNames.handshakeType($0)) }))
        }
        if !alerts.isEmpty { record.set("alerts", .array(alerts)) }
        return record
    }

    private func eventMessage(_ context: ApplicationContext) -> String {
        var text = "\(context.flow.srcIP) "
        if let version = serverHello?.negotiatedVersion ?? sslv2ServerHello {
            text += "opened \(TLSNames.version(version)) to \(serverText(context))"
        } else {
            text += "started a TLS handshake with \(serverText(context))"
        }
        if let serverName = clientHello?.serverName { text += " for \(String(wireBytes: serverName))" }
        if let hello = serverHello { text += " using \(TLSNames.cipherSuite(hello.cipherSuite))" }
        if let leaf = leafCertificate {
            text += "; the server presented \"\(String(wireBytes: leaf.subject))\" issued by \"\(String(wireBytes: leaf.issuer))\""
        } else if serverHello?.isTLS13 == true {
            text += "; the certificate is encrypted (TLS 1.3)"
        } else if serverHello == nil && sslv2ServerHello == nil {
            text += ", and no ServerHello was seen"
        }
        return text + "."
    }
}
