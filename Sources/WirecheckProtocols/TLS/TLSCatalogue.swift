import WirecheckCore

/// The anomalies and alerts of the TLS parser. Alert signature ids are 3000-3099.
public enum TLSCatalogue: EventCatalogue {
    // MARK: Anomalies

    public static let invalidRecord = AnomalyDefinition(
        "applayer.tls.invalid_record", type: .applayer, layer: "tls",
        summary: "A TLS record header has an unknown content type, a version whose major byte is not 3, or a length over 2^14+2048; parsing of that direction stops.")
    public static let invalidHandshake = AnomalyDefinition(
        "applayer.tls.invalid_handshake", type: .applayer, layer: "tls",
        summary: "A cleartext handshake message (ClientHello, ServerHello, Certificate) is truncated or has inconsistent lengths.")
    public static let handshakeTooLong = AnomalyDefinition(
        "applayer.tls.handshake_too_long", type: .applayer, layer: "tls",
        summary: "A handshake message declares a length over the 64 KiB reassembly limit; the rest of that direction's handshake is skipped.")
    public static let certificateInvalid = AnomalyDefinition(
        "applayer.tls.certificate_invalid", type: .applayer, layer: "tls",
        summary: "A certificate in a Certificate message is not valid DER X.509 (libcrypto's d2i_X509 rejected it).")

    // MARK: Alerts

    public static let deprecatedVersion = AlertDefinition(
        "tls.deprecated_version", signatureID: 3000, signature: "TLS deprecated protocol version negotiated",
        category: "Weak Cryptography", severity: 2, technique: .adversaryInTheMiddle,
        summary: "Client and server negotiated SSL 3.0, TLS 1.0 or TLS 1.1, which RFC 8996 deprecates; upgrade the device or its TLS library.")
    public static let weakCipherOffered = AlertDefinition(
        "tls.weak_cipher_offered", signatureID: 3001, signature: "TLS client offered a weak cipher suite",
        category: "Weak Cryptography", severity: 3, technique: .adversaryInTheMiddle,
        summary: "The ClientHello lists a NULL, EXPORT, RC4, single-DES or anonymous cipher suite; a server that accepts it gives no real protection.")
    public static let weakCipherChosen = AlertDefinition(
        "tls.weak_cipher_chosen", signatureID: 3002, signature: "TLS server chose a weak cipher suite",
        category: "Weak Cryptography", severity: 1, technique: .adversaryInTheMiddle,
        summary: "The ServerHello selected a NULL, EXPORT, RC4, single-DES or anonymous cipher suite, so the session is readable or open to an adversary in the middle.")
    public static let certificateExpired = AlertDefinition(
        "tls.certificate_expired", signatureID: 3003, signature: "TLS server certificate expired",
        category: "Certificate", severity: 2, technique: .adversaryInTheMiddle,
        summary: "The server's certificate notAfter is before the packet time; clients that accept it do not check validity.")
    public static let certificateNotYetValid = AlertDefinition(
        "tls.certificate_not_yet_valid", signatureID: 3004, signature: "TLS server certificate not yet valid",
        category: "Certificate", severity: 2, technique: .adversaryInTheMiddle,
        summary: "The server's certificate notBefore is after the packet time: a wrong device clock or a freshly forged certificate.")
    public static let certificateSelfSigned = AlertDefinition(
        "tls.certificate_self_signed", signatureID: 3005, signature: "TLS server certificate is self-signed",
        category: "Certificate", severity: 3, technique: .adversaryInTheMiddle,
        summary: "The server's certificate is signed by its own key, so clients can only trust it by pinning; check that the fingerprint is the expected one.")
    public static let certificateShortKey = AlertDefinition(
        "tls.certificate_short_key", signatureID: 3006, signature: "TLS server certificate key too short",
        category: "Weak Cryptography", severity: 2, technique: .adversaryInTheMiddle,
        summary: "The server's certificate key is RSA or DSA under 2048 bits or EC under 224 bits.")
    public static let certificateSHA1Signature = AlertDefinition(
        "tls.certificate_sha1_signature", signatureID: 3007, signature: "TLS server certificate signed with SHA-1",
        category: "Weak Cryptography", severity: 2, technique: .adversaryInTheMiddle,
        summary: "The server's certificate signature uses SHA-1, for which chosen-prefix collisions are practical.")
    public static let certificateMD5Signature = AlertDefinition(
        "tls.certificate_md5_signature", signatureID: 3008, signature: "TLS server certificate signed with MD5",
        category: "Weak Cryptography", severity: 1, technique: .adversaryInTheMiddle,
        summary: "The server's certificate signature uses MD5, for which forged certificates have been shown.")
    public static let sniMismatch = AlertDefinition(
        "tls.sni_mismatch", signatureID: 3009, signature: "TLS certificate does not match the requested server name",
        category: "Certificate", severity: 2, technique: .adversaryInTheMiddle,
        summary: "The SNI in the ClientHello matches no DNS name of the server's certificate (nor its CN when it has none): a misconfigured server or an interception proxy.")
    public static let handshakeIncomplete = AlertDefinition(
        "tls.handshake_incomplete", signatureID: 3010, signature: "TLS ClientHello without a ServerHello",
        category: "Protocol", severity: 3, technique: nil,
        summary: "A client sent a ClientHello and the flow ended without a ServerHello or a server alert; repeated, it suggests probing or a failing service.")
    public static let serverAlert = AlertDefinition(
        "tls.server_alert", signatureID: 3011, signature: "TLS server sent a fatal alert",
        category: "Protocol", severity: 3, technique: nil,
        summary: "The server ended the handshake with a fatal cleartext alert (handshake_failure, protocol_version, ...); repeated, it suggests version or cipher probing.")
    /// Raised by the dispatcher, not by this parser, because only the dispatcher tracks that no
    /// probe matched a flow on a port in `TLSProtocol.cleartextCheckedPorts`.
    public static let cleartextOnTLSPort = AlertDefinition(
        "tls.cleartext_on_tls_port", signatureID: 3012, signature: "Cleartext traffic on a TLS port",
        category: "Protocol", severity: 2, technique: .commonlyUsedPort,
        summary: "A flow on a port reserved for TLS (443, 4843, 802, 8883) carries bytes that are not TLS, so the protocol runs unprotected or the port hides another service.")

    /// Raised by the engine, which observes every flow, when handshakes between the same client and
    /// server keep failing.
    public static let repeatedHandshakeFailure = AlertDefinition(
        "tls.repeated_handshake_failure", signatureID: 3013, signature: "Repeated TLS handshake failures between the same hosts",
        category: "Protocol", severity: 2, technique: .networkConnectionEnumeration,
        summary: "Several TLS handshakes from one client to one server port ended without completing or with a fatal server alert: version or cipher probing, a scanner, or a client the server rejects.")

    /// Exploiting a service over the network (ATT&CK for ICS T0866).
    static let exploitationOfRemoteServices = AttackTechnique(id: "T0866", name: "Exploitation of Remote Services",
                                                              tactic: "Lateral Movement")

    public static let heartbleed = AlertDefinition(
        "tls.heartbleed", signatureID: 3014, signature: "TLS heartbeat over-read (Heartbleed, CVE-2014-0160)",
        category: "Attempted Information Leak", severity: 1, technique: exploitationOfRemoteServices,
        summary: "A heartbeat request claims a longer payload than it carries, or the server answers a heartbeat with far more bytes than the request held: an attempt to read the server's memory, or a vulnerable server leaking it.")

    public static var anomalies: [AnomalyDefinition] {
        [invalidRecord, invalidHandshake, handshakeTooLong, certificateInvalid]
    }

    public static var alerts: [AlertDefinition] {
        [deprecatedVersion, weakCipherOffered, weakCipherChosen, certificateExpired, certificateNotYetValid,
         certificateSelfSigned, certificateShortKey, certificateSHA1Signature, certificateMD5Signature, sniMismatch,
         handshakeIncomplete, serverAlert, cleartextOnTLSPort, repeatedHandshakeFailure, heartbleed]
    }
}
