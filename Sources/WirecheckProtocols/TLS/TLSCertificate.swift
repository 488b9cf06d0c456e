import CCrypto

/// The fields Wirecheck reads from one X.509 certificate of a Certificate message.
public struct TLSCertificateInfo: Sendable, Equatable {
    /// Subject and issuer as one line, in certificate order (`O=Plant, CN=plc.example`).
    public var subject: [UInt8]
    public var issuer: [UInt8]
    /// Serial number as uppercase colon-separated hex bytes, as Suricata writes `tls.serial`.
    public var serial: String
    /// Validity bounds as Unix seconds (UTC).
    public var notBefore: Int64
    public var notAfter: Int64
    /// `RSA`, `EC`, `DSA`, `Ed25519`, `Ed448`, `RSA-PSS`, or libcrypto's short name.
    public var keyType: String
    public var keyBits: Int
    /// libcrypto's long name of the signature algorithm (`sha256WithRSAEncryption`).
    public var signatureAlgorithm: String
    /// The digest inside the signature algorithm (`SHA1`, `MD5`, `SHA256`), if any.
    public var signatureDigest: String?
    public var dnsNames: [[UInt8]]
    public var ipAddresses: [String]
    /// The subject's last commonName, for name matching when there are no DNS names.
    public var commonName: [UInt8]?
    /// SHA-256 of the DER, lowercase colon-separated hex.
    public var fingerprint: String
    /// Subject equals issuer and the signature verifies with the certificate's own key.
    public var isSelfSigned: Bool

    /// Parses one DER certificate with libcrypto. Returns nil when `d2i_X509` rejects it.
    public static func parse(der: UnsafeRawBufferPointer) -> TLSCertificateInfo? {
        guard let base = der.baseAddress, der.count > 0 else { return nil }
        var cursor: UnsafePointer<UInt8>? = base.assumingMemoryBound(to: UInt8.self)
        guard let certificate = d2i_X509(nil, &cursor, der.count) else {
            ERR_clear_error()
            return nil
        }
        defer { X509_free(certificate) }

        let subjectName = X509_get_subject_name(certificate)
        let issuerName = X509_get_issuer_name(certificate)
        let key = X509_get0_pubkey(certificate)
        var info = TLSCertificateInfo(
            subject: oneLine(subjectName),
            issuer: oneLine(issuerName),
            serial: serialText(certificate),
            notBefore: unixTime(X509_get0_notBefore(certificate)) ?? 0,
            notAfter: unixTime(X509_get0_notAfter(certificate)) ?? 0,
            keyType: key.map { keyTypeName(EVP_PKEY_get_base_id($0)) } ?? "unknown",
            keyBits: key.map { Int(EVP_PKEY_get_bits($0)) } ?? 0,
            signatureAlgorithm: objectName(X509_get_signature_nid(certificate)),
            signatureDigest: nil,
            dnsNames: [],
            ipAddresses: [],
            commonName: commonName(subjectName),
            fingerprint: TLSHex.string(TLSFingerprints.digest(Array(der), EVP_sha256()), separator: UInt8(ascii: ":")),
            isSelfSigned: false
        )

        var digestNID: Int32 = 0
        var keyNID: Int32 = 0
        if OBJ_find_sigid_algs(X509_get_signature_nid(certificate), &digestNID, &keyNID) == 1, digestNID != NID_undef {
            info.signatureDigest = OBJ_nid2sn(digestNID).map { String(cString: $0) }
        }
        readSubjectAltNames(certificate, into: &info)
        if X509_NAME_cmp(subjectName, issuerName) == 0, let key {
            info.isSelfSigned = X509_verify(certificate, key) == 1
        }
        ERR_clear_error()
        return info
    }

    /// True when the host name matches a DNS name, or the common name when the certificate
    /// has no DNS names (RFC 6125 section 6.4.4). Comparison ignores ASCII case.
    public func matches(hostName: [UInt8]) -> Bool {
        let patterns = dnsNames.isEmpty ? (commonName.map { [$0] } ?? []) : dnsNames
        return patterns.contains { TLSCertificateInfo.nameMatches(pattern: $0, hostName: hostName) }
    }

    /// Matches one certificate name: exact, or `*.` followed by a suffix that matches the
    /// host's name after its first label. A wildcard covers exactly one label, so
    /// `*.example.com` matches `a.example.com` but neither `example.com` nor `a.b.example.com`.
    static func nameMatches(pattern: [UInt8], hostName: [UInt8]) -> Bool {
        let pattern = lowercasedWithoutTrailingDot(pattern)
        let host = lowercasedWithoutTrailingDot(hostName)
        guard !pattern.isEmpty, !host.isEmpty else { return false }
        if pattern.count > 2, pattern[0] == UInt8(ascii: "*"), pattern[1] == UInt8(ascii: ".") {
            guard let firstDot = host.firstIndex(of: UInt8(ascii: ".")), firstDot > 0 else { return false }
            return Array(host[firstDot...]) == Array(pattern[1...])
        }
        return pattern == host
    }

    private static func lowercasedWithoutTrailingDot(_ name: [UInt8]) -> [UInt8] {
        var lowered = name.map { (0x41...0x5a).contains($0) ? $0 | 0x20 : $0 }
        if lowered.last == UInt8(ascii: ".") { lowered.removeLast() }
        return lowered
    }
}

// MARK: - libcrypto helpers

extension TLSCertificateInfo {
    /// Prints an X509_NAME as `C=US, O=Example, CN=host`: certificate order, short field
    /// names, ", " between entries, UTF-8 kept, control characters escaped.
    static func oneLine(_ name: OpaquePointer?) -> [UInt8] {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return [] }
        defer { BIO_free(bio) }
        let flags = UInt(XN_FLAG_SEP_CPLUS_SPC) | UInt(XN_FLAG_FN_SN) | UInt(XN_FLAG_DUMP_UNKNOWN_FIELDS)
            | UInt(ASN1_STRFLGS_UTF8_CONVERT) | UInt(ASN1_STRFLGS_ESC_CTRL)
        guard X509_NAME_print_ex(bio, name, 0, flags) >= 0 else { return [] }
        return readAll(bio)
    }

    private static func readAll(_ bio: OpaquePointer) -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while true {
            let count = chunk.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32($0.count)) }
            if count <= 0 { break }
            output.append(contentsOf: chunk[0..<Int(count)])
        }
        return output
    }

    static func serialText(_ certificate: OpaquePointer) -> String {
        guard let serial = X509_get0_serialNumber(certificate) else { return "" }
        let length = Int(ASN1_STRING_length(serial))
        guard length > 0, let data = ASN1_STRING_get0_data(serial) else { return "" }
        return TLSHex.string(UnsafeBufferPointer(start: data, count: length), separator: UInt8(ascii: ":"), uppercase: true)
    }

    /// Converts an ASN1_TIME (UTCTime or GeneralizedTime) to Unix seconds.
    static func unixTime(_ time: UnsafePointer<ASN1_TIME>?) -> Int64? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return unixSeconds(year: Int64(parts.tm_year) + 1900, month: Int64(parts.tm_mon) + 1, day: Int64(parts.tm_mday),
                           hour: Int64(parts.tm_hour), minute: Int64(parts.tm_min), second: Int64(parts.tm_sec))
    }

    /// Days-from-civil for the proleptic Gregorian calendar (Howard Hinnant's algorithm), so
    /// dates before 1970 and after 2038 convert without the C library's time zone state.
    static func unixSeconds(year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86_400 + hour * 3600 + minute * 60 + second
    }

    /// Unix seconds as `2024-03-01T12:00:00`, the form Suricata writes in `tls.notbefore`.
    public static func isoDate(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad((secondOfDay % 3600) / 60, 2)):\(pad(secondOfDay % 60, 2))"
    }

    static func keyTypeName(_ id: Int32) -> String {
        switch id {
        case NID_rsaEncryption: return "RSA"
        case NID_rsassaPss: return "RSA-PSS"
        case NID_X9_62_id_ecPublicKey: return "EC"
        case NID_dsa: return "DSA"
        case NID_ED25519: return "Ed25519"
        case NID_ED448: return "Ed448"
        case NID_dhKeyAgreement: return "DH"
        default: return objectName(id)
        }
    }

    static func objectName(_ nid: Int32) -> String {
        guard nid != NID_undef, let name = OBJ_nid2ln(nid) else { return "unknown" }
        return String(cString: name)
    }

    /// Returns the last commonName entry of a name, which is the one TLS clients match.
    static func commonName(_ name: OpaquePointer?) -> [UInt8]? {
        guard let name else { return nil }
        var index: Int32 = -1
        var last: Int32 = -1
        repeat {
            index = X509_NAME_get_index_by_NID(name, NID_commonName, index)
            if index >= 0 { last = index }
        } while index >= 0
        guard last >= 0, let entry = X509_NAME_get_entry(name, last), let data = X509_NAME_ENTRY_get_data(entry) else {
            return nil
        }
        return stringBytes(data)
    }

    static func stringBytes(_ string: UnsafePointer<ASN1_STRING>) -> [UInt8] {
        let length = Int(ASN1_STRING_length(string))
        guard length > 0, let data = ASN1_STRING_get0_data(string) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: length))
    }

    /// Subject alternative names kept per certificate, because one certificate can carry
    /// thousands and each becomes part of the event.
    static let maxSubjectAltNames = 100

    static func readSubjectAltNames(_ certificate: OpaquePointer, into info: inout TLSCertificateInfo) {
        guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return }
        let names = OpaquePointer(raw)
        defer { GENERAL_NAMES_free(names) }
        let count = OPENSSL_sk_num(names)
        guard count > 0 else { return }
        for index in 0..<count where info.dnsNames.count + info.ipAddresses.count < maxSubjectAltNames {
            guard let entry = OPENSSL_sk_value(names, index) else { continue }
            let name = entry.assumingMemoryBound(to: GENERAL_NAME.self).pointee
            switch name.type {
            case GEN_DNS:
                if let value = name.d.dNSName { info.dnsNames.append(stringBytes(value)) }
            case GEN_IPADD:
                if let value = name.d.iPAddress { info.ipAddresses.append(ipText(stringBytes(value))) }
            default:
                break
            }
        }
    }

    /// Writes a 4- or 16-byte address in its usual text form, and other lengths as hex.
    static func ipText(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map { String($0) }.joined(separator: ".") }
        if bytes.count == 16 {
            var groups: [String] = []
            for index in stride(from: 0, to: 16, by: 2) {
                groups.append(String(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]), radix: 16))
            }
            return groups.joined(separator: ":")
        }
        return TLSHex.string(bytes)
    }
}
