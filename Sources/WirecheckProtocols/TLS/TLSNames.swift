/// Names for TLS code points, kept apart from the parser so the tables can grow without
/// touching logic. Cipher suite and alert names are the IANA registry names (TLS Parameters).
public enum TLSNames {
    /// A protocol version as Suricata writes it in `tls.version` (`TLS 1.2`, `TLSv1`, `SSLv3`).
    public static func version(_ code: UInt16) -> String {
        switch code {
        case 0x0002: return "SSLv2"
        case 0x0300: return "SSLv3"
        case 0x0301: return "TLSv1"
        case 0x0302: return "TLS 1.1"
        case 0x0303: return "TLS 1.2"
        case 0x0304: return "TLS 1.3"
        case 0x7f00...0x7f1c: return "TLS 1.3 draft-\(code & 0xff)"
        default: return "0x" + TLSHex.code(code)
        }
    }

    public static func handshakeType(_ code: UInt8) -> String {
        switch code {
        case 0: return "hello_request"
        case 1: return "client_hello"
        case 2: return "server_hello"
        case 4: return "new_session_ticket"
        case 5: return "end_of_early_data"
        case 8: return "encrypted_extensions"
        case 11: return "certificate"
        case 12: return "server_key_exchange"
        case 13: return "certificate_request"
        case 14: return "server_hello_done"
        case 15: return "certificate_verify"
        case 16: return "client_key_exchange"
        case 20: return "finished"
        case 22: return "certificate_status"
        case 24: return "key_update"
        default: return "unknown_\(code)"
        }
    }

    public static func alertDescription(_ code: UInt8) -> String {
        switch code {
        case 0: return "close_notify"
        case 10: return "unexpected_message"
        case 20: return "bad_record_mac"
        case 21: return "decryption_failed"
        case 22: return "record_overflow"
        case 30: return "decompression_failure"
        case 40: return "handshake_failure"
        case 41: return "no_certificate"
        case 42: return "bad_certificate"
        case 43: return "unsupported_certificate"
        case 44: return "certificate_revoked"
        case 45: return "certificate_expired"
        case 46: return "certificate_unknown"
        case 47: return "illegal_parameter"
        case 48: return "unknown_ca"
        case 49: return "access_denied"
        case 50: return "decode_error"
        case 51: return "decrypt_error"
        case 60: return "export_restriction"
        case 70: return "protocol_version"
        case 71: return "insufficient_security"
        case 80: return "internal_error"
        case 86: return "inappropriate_fallback"
        case 90: return "user_canceled"
        case 100: return "no_renegotiation"
        case 109: return "missing_extension"
        case 110: return "unsupported_extension"
        case 111: return "certificate_unobtainable"
        case 112: return "unrecognized_name"
        case 113: return "bad_certificate_status_response"
        case 114: return "bad_certificate_hash_value"
        case 115: return "unknown_psk_identity"
        case 116: return "certificate_required"
        case 120: return "no_application_protocol"
        default: return "unknown_\(code)"
        }
    }

    /// Returns the IANA name of a cipher suite, or its hex code when the table lacks it.
    public static func cipherSuite(_ code: UInt16) -> String {
        if let entry = cipherSuites[code] { return entry.name }
        return "0x" + TLSHex.code(code).uppercased()
    }

    /// Returns the weakness class of a cipher suite, or nil when it has none.
    public static func cipherWeakness(_ code: UInt16) -> CipherWeakness? {
        cipherSuites[code]?.weakness
    }

    /// GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa, which clients send to keep
    /// servers tolerant of unknown values and which fingerprints ignore.
    public static func isGREASE(_ value: UInt16) -> Bool {
        (value & 0x0f0f) == 0x0a0a && (value >> 8) == (value & 0xff)
    }
}

/// A class of cipher suite that gives no or little protection.
public enum CipherWeakness: String, Sendable {
    /// No encryption at all (`*_WITH_NULL_*`).
    case null
    /// Export-grade keys of 40 or 56 bits.
    case export
    /// RC4, prohibited by RFC 7465.
    case rc4
    /// No server authentication (`DH_anon`, `ECDH_anon`), so anyone in the path can
    /// stand in for the server.
    case anonymous
    /// Single DES, 56-bit keys.
    case des
}

struct CipherSuiteEntry {
    let name: String
    let weakness: CipherWeakness?

    init(_ name: String, _ weakness: CipherWeakness? = nil) {
        self.name = name
        self.weakness = weakness
    }
}

/// IANA cipher suites: every NULL, EXPORT, RC4, DES and anonymous suite of the registry's
/// TLS 1.0-1.2 range, and the common modern suites.
let cipherSuites: [UInt16: CipherSuiteEntry] = [
    0x0000: .init("TLS_NULL_WITH_NULL_NULL", .null),
    0x0001: .init("TLS_RSA_WITH_NULL_MD5", .null),
    0x0002: .init("TLS_RSA_WITH_NULL_SHA", .null),
    0x0003: .init("TLS_RSA_EXPORT_WITH_RC4_40_MD5", .export),
    0x0004: .init("TLS_RSA_WITH_RC4_128_MD5", .rc4),
    0x0005: .init("TLS_RSA_WITH_RC4_128_SHA", .rc4),
    0x0006: .init("TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", .export),
    0x0007: .init("TLS_RSA_WITH_IDEA_CBC_SHA"),
    0x0008: .init("TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", .export),
    0x0009: .init("TLS_RSA_WITH_DES_CBC_SHA", .des),
    0x000A: .init("TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    0x000B: .init("TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA", .export),
    0x000C: .init("TLS_DH_DSS_WITH_DES_CBC_SHA", .des),
    0x000D: .init("TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA"),
    0x000E: .init("TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA", .export),
    0x000F: .init("TLS_DH_RSA_WITH_DES_CBC_SHA", .des),
    0x0010: .init("TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA"),
    0x0011: .init("TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA", .export),
    0x0012: .init("TLS_DHE_DSS_WITH_DES_CBC_SHA", .des),
    0x0013: .init("TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA"),
    0x0014: .init("TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", .export),
    0x0015: .init("TLS_DHE_RSA_WITH_DES_CBC_SHA", .des),
    0x0016: .init("TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    0x0017: .init("TLS_DH_anon_EXPORT_WITH_RC4_40_MD5", .export),
    0x0018: .init("TLS_DH_anon_WITH_RC4_128_MD5", .anonymous),
    0x0019: .init("TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA", .export),
    0x001A: .init("TLS_DH_anon_WITH_DES_CBC_SHA", .anonymous),
    0x001B: .init("TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", .anonymous),
    0x001E: .init("TLS_KRB5_WITH_DES_CBC_SHA", .des),
    0x0020: .init("TLS_KRB5_WITH_RC4_128_SHA", .rc4),
    0x0022: .init("TLS_KRB5_WITH_DES_CBC_MD5", .des),
    0x0024: .init("TLS_KRB5_WITH_RC4_128_MD5", .rc4),
    0x0026: .init("TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA", .export),
    0x0027: .init("TLS_KRB5_EXPORT_WITH_RC2_CBC_40_SHA", .export),
    0x0028: .init("TLS_KRB5_EXPORT_WITH_RC4_40_SHA", .export),
    0x0029: .init("TLS_KRB5_EXPORT_WITH_DES_CBC_40_MD5", .export),
    0x002A: .init("TLS_KRB5_EXPORT_WITH_RC2_CBC_40_MD5", .export),
    0x002B: .init("TLS_KRB5_EXPORT_WITH_RC4_40_MD5", .export),
    0x002C: .init("TLS_PSK_WITH_NULL_SHA", .null),
    0x002D: .init("TLS_DHE_PSK_WITH_NULL_SHA", .null),
    0x002E: .init("TLS_RSA_PSK_WITH_NULL_SHA", .null),
    0x002F: .init("TLS_RSA_WITH_AES_128_CBC_SHA"),
    0x0032: .init("TLS_DHE_DSS_WITH_AES_128_CBC_SHA"),
    0x0033: .init("TLS_DHE_RSA_WITH_AES_128_CBC_SHA"),
    0x0034: .init("TLS_DH_anon_WITH_AES_128_CBC_SHA", .anonymous),
    0x0035: .init("TLS_RSA_WITH_AES_256_CBC_SHA"),
    0x0038: .init("TLS_DHE_DSS_WITH_AES_256_CBC_SHA"),
    0x0039: .init("TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
    0x003A: .init("TLS_DH_anon_WITH_AES_256_CBC_SHA", .anonymous),
    0x003B: .init("TLS_RSA_WITH_NULL_SHA256", .null),
    0x003C: .init("TLS_RSA_WITH_AES_128_CBC_SHA256"),
    0x003D: .init("TLS_RSA_WITH_AES_256_CBC_SHA256"),
    0x0040: .init("TLS_DHE_DSS_WITH_AES_128_CBC_SHA256"),
    0x0046: .init("TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA", .anonymous),
    0x0067: .init("TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"),
    0x006A: .init("TLS_DHE_DSS_WITH_AES_256_CBC_SHA256"),
    0x006B: .init("TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"),
    0x006C: .init("TLS_DH_anon_WITH_AES_128_CBC_SHA256", .anonymous),
    0x006D: .init("TLS_DH_anon_WITH_AES_256_CBC_SHA256", .anonymous),
    0x0089: .init("TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA", .anonymous),
    0x008A: .init("TLS_PSK_WITH_RC4_128_SHA", .rc4),
    0x008E: .init("TLS_DHE_PSK_WITH_RC4_128_SHA", .rc4),
    0x0092: .init("TLS_RSA_PSK_WITH_RC4_128_SHA", .rc4),
    0x009B: .init("TLS_DH_anon_WITH_SEED_CBC_SHA", .anonymous),
    0x009C: .init("TLS_RSA_WITH_AES_128_GCM_SHA256"),
    0x009D: .init("TLS_RSA_WITH_AES_256_GCM_SHA384"),
    0x009E: .init("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
    0x009F: .init("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
    0x00A2: .init("TLS_DHE_DSS_WITH_AES_128_GCM_SHA256"),
    0x00A3: .init("TLS_DHE_DSS_WITH_AES_256_GCM_SHA384"),
    0x00A6: .init("TLS_DH_anon_WITH_AES_128_GCM_SHA256", .anonymous),
    0x00A7: .init("TLS_DH_anon_WITH_AES_256_GCM_SHA384", .anonymous),
    0x00B0: .init("TLS_PSK_WITH_NULL_SHA256", .null),
    0x00B1: .init("TLS_PSK_WITH_NULL_SHA384", .null),
    0x00B4: .init("TLS_DHE_PSK_WITH_NULL_SHA256", .null),
    0x00B5: .init("TLS_DHE_PSK_WITH_NULL_SHA384", .null),
    0x00B8: .init("TLS_RSA_PSK_WITH_NULL_SHA256", .null),
    0x00B9: .init("TLS_RSA_PSK_WITH_NULL_SHA384", .null),
    0x00BF: .init("TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256", .anonymous),
    0x00C5: .init("TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256", .anonymous),
    0x00FF: .init("TLS_EMPTY_RENEGOTIATION_INFO_SCSV"),
    0x1301: .init("TLS_AES_128_GCM_SHA256"),
    0x1302: .init("TLS_AES_256_GCM_SHA384"),
    0x1303: .init("TLS_CHACHA20_POLY1305_SHA256"),
    0x1304: .init("TLS_AES_128_CCM_SHA256"),
    0x1305: .init("TLS_AES_128_CCM_8_SHA256"),
    0x5600: .init("TLS_FALLBACK_SCSV"),
    0xC001: .init("TLS_ECDH_ECDSA_WITH_NULL_SHA", .null),
    0xC002: .init("TLS_ECDH_ECDSA_WITH_RC4_128_SHA", .rc4),
    0xC003: .init("TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA"),
    0xC004: .init("TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA"),
    0xC005: .init("TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA"),
    0xC006: .init("TLS_ECDHE_ECDSA_WITH_NULL_SHA", .null),
    0xC007: .init("TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", .rc4),
    0xC008: .init("TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"),
    0xC009: .init("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    0xC00A: .init("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
    0xC00B: .init("TLS_ECDH_RSA_WITH_NULL_SHA", .null),
    0xC00C: .init("TLS_ECDH_RSA_WITH_RC4_128_SHA", .rc4),
    0xC00D: .init("TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA"),
    0xC00E: .init("TLS_ECDH_RSA_WITH_AES_128_CBC_SHA"),
    0xC00F: .init("TLS_ECDH_RSA_WITH_AES_256_CBC_SHA"),
    0xC010: .init("TLS_ECDHE_RSA_WITH_NULL_SHA", .null),
    0xC011: .init("TLS_ECDHE_RSA_WITH_RC4_128_SHA", .rc4),
    0xC012: .init("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    0xC013: .init("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    0xC014: .init("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    0xC015: .init("TLS_ECDH_anon_WITH_NULL_SHA", .null),
    0xC016: .init("TLS_ECDH_anon_WITH_RC4_128_SHA", .rc4),
    0xC017: .init("TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", .anonymous),
    0xC018: .init("TLS_ECDH_anon_WITH_AES_128_CBC_SHA", .anonymous),
    0xC019: .init("TLS_ECDH_anon_WITH_AES_256_CBC_SHA", .anonymous),
    0xC023: .init("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
    0xC024: .init("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"),
    0xC027: .init("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
    0xC028: .init("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
    0xC02B: .init("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    0xC02C: .init("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    0xC02F: .init("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    0xC030: .init("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    0xC033: .init("TLS_ECDHE_PSK_WITH_RC4_128_SHA", .rc4),
    0xC039: .init("TLS_ECDHE_PSK_WITH_NULL_SHA", .null),
    0xC03A: .init("TLS_ECDHE_PSK_WITH_NULL_SHA256", .null),
    0xC03B: .init("TLS_ECDHE_PSK_WITH_NULL_SHA384", .null),
    0xC046: .init("TLS_DH_anon_WITH_ARIA_128_CBC_SHA256", .anonymous),
    0xC047: .init("TLS_DH_anon_WITH_ARIA_256_CBC_SHA384", .anonymous),
    0xC05A: .init("TLS_DH_anon_WITH_ARIA_128_GCM_SHA256", .anonymous),
    0xC05B: .init("TLS_DH_anon_WITH_ARIA_256_GCM_SHA384", .anonymous),
    0xC084: .init("TLS_DH_anon_WITH_CAMELLIA_128_GCM_SHA256", .anonymous),
    0xC085: .init("TLS_DH_anon_WITH_CAMELLIA_256_GCM_SHA384", .anonymous),
    0xC09C: .init("TLS_RSA_WITH_AES_128_CCM"),
    0xC09D: .init("TLS_RSA_WITH_AES_256_CCM"),
    0xC0AC: .init("TLS_ECDHE_ECDSA_WITH_AES_128_CCM"),
    0xC0AD: .init("TLS_ECDHE_ECDSA_WITH_AES_256_CCM"),
    0xCCA8: .init("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    0xCCA9: .init("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    0xCCAA: .init("TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    0xCCAB: .init("TLS_PSK_WITH_CHACHA20_POLY1305_SHA256"),
    0xCCAC: .init("TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"),
]
