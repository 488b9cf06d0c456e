import CCrypto

/// A fingerprint string and its digest, as EVE writes `ja3` and `ja3s`.
public struct TLSFingerprint: Sendable, Equatable {
    public var hash: String
    public var string: String
}

/// JA3, JA3S and JA4 client and server fingerprints.
///
/// JA3 and JA3S follow the salesforce/ja3 README: decimal values joined by `-`, fields joined
/// by `,`, GREASE values removed, MD5 of the string. JA4 follows FoxIO's
/// technical_details/JA4.md (the `ja4` form with sorted lists, not `ja4_o`).
public enum TLSFingerprints {
    /// JA3: `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`.
    public static func ja3(_ hello: TLSClientHello) -> TLSFingerprint {
        let fields = [
            String(hello.legacyVersion),
            decimalList(hello.cipherSuites),
            decimalList(hello.extensions),
            decimalList(hello.supportedGroups),
            hello.ecPointFormats.map { String($0) }.joined(separator: "-"),
        ]
        let text = fields.joined(separator: ",")
        return TLSFingerprint(hash: md5Hex(text), string: text)
    }

    /// JA3S: `SSLVersion,Cipher,Extensions` of the ServerHello.
    public static func ja3s(_ hello: TLSServerHello) -> TLSFingerprint {
        let text = [String(hello.legacyVersion), String(hello.cipherSuite), decimalList(hello.extensions)]
            .joined(separator: ",")
        return TLSFingerprint(hash: md5Hex(text), string: text)
    }

    /// JA4 of a ClientHello carried over TCP (`t` prefix).
    public static func ja4(_ hello: TLSClientHello) -> String {
        let ciphers = hello.cipherSuites.filter { !TLSNames.isGREASE($0) }
        let extensions = hello.extensions.filter { !TLSNames.isGREASE($0) }
        let signatureAlgorithms = hello.signatureAlgorithms.filter { !TLSNames.isGREASE($0) }

        // An SSLv2-compatible hello carries the client's highest version (0x0301 for TLS 1.0)
        // like any other hello, so only a real SSL 2.0 hello (0x0002) yields `s2`.
        var prefix = "t" + ja4Version(hello.highestVersion)
        prefix += hello.extensions.contains(TLSExtension.serverName) ? "d" : "i"
        prefix += twoDigits(ciphers.count) + twoDigits(extensions.count)
        prefix += ja4ALPN(hello.alpn.first)

        let cipherText = ciphers.sorted().map(TLSHex.code).joined(separator: ",")
        var extensionText = extensions
            .filter { $0 != TLSExtension.serverName && $0 != TLSExtension.alpn }
            .sorted().map(TLSHex.code).joined(separator: ",")
        if !signatureAlgorithms.isEmpty {
            extensionText += "_" + signatureAlgorithms.map(TLSHex.code).joined(separator: ",")
        }
        return prefix + "_" + truncatedSHA256(cipherText, empty: ciphers.isEmpty)
            + "_" + truncatedSHA256(extensionText, empty: extensions.isEmpty)
    }

    /// JA4's two-character version: `13`, `12`, `11`, `10`, `s3`, `s2`, or `00` when unknown.
    static func ja4Version(_ version: UInt16) -> String {
        switch version {
        case 0x0304: return "13"
        case 0x0303: return "12"
        case 0x0302: return "11"
        case 0x0301: return "10"
        case 0x0300: return "s3"
        case 0x0002: return "s2"
        // TLS 1.3 drafts negotiate TLS 1.3.
        case 0x7f00...0x7f1c: return "13"
        default: return "00"
        }
    }

    /// Returns the first and last characters of the first ALPN value, or `00` when there is
    /// none. When either character is not an ASCII letter or digit, it returns the first and
    /// last hex digits of the value instead.
    static func ja4ALPN(_ value: [UInt8]?) -> String {
        guard let value, let first = value.first, let last = value.last else { return "00" }
        if isAlphanumeric(first) && isAlphanumeric(last) {
            return String(decoding: [first, last], as: UTF8.self)
        }
        let hex = Array(TLSHex.string(value).utf8)
        return String(decoding: [hex[0], hex[hex.count - 1]], as: UTF8.self)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
    }

    private static func twoDigits(_ count: Int) -> String {
        let capped = min(count, 99)
        return capped < 10 ? "0\(capped)" : String(capped)
    }

    private static func decimalList(_ values: [UInt16]) -> String {
        values.filter { !TLSNames.isGREASE($0) }.map { String($0) }.joined(separator: "-")
    }

    private static func truncatedSHA256(_ text: String, empty: Bool) -> String {
        if empty { return "000000000000" }
        return String(sha256Hex(Array(text.utf8)).prefix(12))
    }

    static func md5Hex(_ text: String) -> String {
        TLSHex.string(digest(Array(text.utf8), EVP_md5()))
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        TLSHex.string(digest(bytes, EVP_sha256()))
    }

    /// Digests bytes with libcrypto's one-shot EVP_Digest.
    static func digest(_ bytes: [UInt8], _ algorithm: OpaquePointer?) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let status = bytes.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &output, &length, algorithm, nil)
        }
        // NOTE: when EVP_Digest fails (an OpenSSL build without MD5, for example), the
        // fingerprint is empty rather than wrong.
        guard status == 1 else { return [] }
        return Array(output.prefix(Int(length)))
    }
}
