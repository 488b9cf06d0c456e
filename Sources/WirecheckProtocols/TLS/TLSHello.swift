/// TLS extension code points the parser reads (IANA TLS ExtensionType Values).
enum TLSExtension {
    static let serverName: UInt16 = 0x0000
    static let supportedGroups: UInt16 = 0x000a
    static let ecPointFormats: UInt16 = 0x000b
    static let signatureAlgorithms: UInt16 = 0x000d
    static let alpn: UInt16 = 0x0010
    static let recordSizeLimit: UInt16 = 0x001c
    static let supportedVersions: UInt16 = 0x002b
    static let pskKeyExchangeModes: UInt16 = 0x002d
    static let keyShare: UInt16 = 0x0033
}

/// A handshake message that could not be read, with the field that failed.
struct TLSDecodeError: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The fields of a ClientHello that the event, the fingerprints and the findings use.
public struct TLSClientHello: Sendable, Equatable {
    /// `legacy_version`, or the SSLv2 record's version for an SSLv2-compatible hello.
    public var legacyVersion: UInt16
    public var sessionIDLength: Int
    /// Cipher suites in offered order, GREASE included. SSLv2 specs (3 bytes) whose first
    /// byte is zero are kept as their 16-bit TLS code; other SSLv2-only specs are dropped.
    public var cipherSuites: [UInt16]
    public var compressionMethods: [UInt8]
    /// Extension types in wire order, GREASE included.
    public var extensions: [UInt16]
    /// The first `host_name` of the server_name extension, as sent.
    public var serverName: [UInt8]?
    public var alpn: [[UInt8]]
    public var supportedVersions: [UInt16]
    public var supportedGroups: [UInt16]
    public var ecPointFormats: [UInt8]
    public var signatureAlgorithms: [UInt16]
    public var keyShareGroups: [UInt16]
    public var pskKeyExchangeModes: [UInt8]
    public var recordSizeLimit: UInt16?
    /// True for the SSLv2-compatible form (RFC 5246 appendix E.2).
    public var isSSLv2Format: Bool

    public init(legacyVersion: UInt16 = 0x0303, sessionIDLength: Int = 0, cipherSuites: [UInt16] = [],
                compressionMethods: [UInt8] = [0], extensions: [UInt16] = [], serverName: [UInt8]? = nil,
                alpn: [[UInt8]] = [], supportedVersions: [UInt16] = [], supportedGroups: [UInt16] = [],
                ecPointFormats: [UInt8] = [], signatureAlgorithms: [UInt16] = [], keyShareGroups: [UInt16] = [],
                pskKeyExchangeModes: [UInt8] = [], recordSizeLimit: UInt16? = nil, isSSLv2Format: Bool = false) {
        self.legacyVersion = legacyVersion
        self.sessionIDLength = sessionIDLength
        self.cipherSuites = cipherSuites
        self.compressionMethods = compressionMethods
        self.extensions = extensions
        self.serverName = serverName
        self.alpn = alpn
        self.supportedVersions = supportedVersions
        self.supportedGroups = supportedGroups
        self.ecPointFormats = ecPointFormats
        self.signatureAlgorithms = signatureAlgorithms
        self.keyShareGroups = keyShareGroups
        self.pskKeyExchangeModes = pskKeyExchangeModes
        self.recordSizeLimit = recordSizeLimit
        self.isSSLv2Format = isSSLv2Format
    }

    /// The highest version the client offers: the largest non-GREASE supported_versions
    /// entry, else `legacy_version`.
    public var highestVersion: UInt16 {
        supportedVersions.filter { !TLSNames.isGREASE($0) }.max() ?? legacyVersion
    }

    /// Parses the body of a ClientHello handshake message (after the 4-byte header).
    static func parse(_ body: UnsafeRawBufferPointer) throws -> TLSClientHello {
        var reader = TLSByteReader(body)
        var hello = TLSClientHello()
        guard let version = reader.u16() else { throw TLSDecodeError("ClientHello is shorter than its version field") }
        hello.legacyVersion = version
        guard reader.view(32) != nil else { throw TLSDecodeError("ClientHello random is truncated") }
        guard let sessionID = reader.vector8(), sessionID.count <= 32 else {
            throw TLSDecodeError("ClientHello session_id is truncated or longer than 32 bytes")
        }
        hello.sessionIDLength = sessionID.count
        guard let suites = reader.vector16(), let suiteList = TLSByteReader.u16List(suites) else {
            throw TLSDecodeError("ClientHello cipher_suites is truncated or has an odd length")
        }
        hello.cipherSuites = suiteList
        guard let compression = reader.vector8() else { throw TLSDecodeError("ClientHello compression_methods is truncated") }
        hello.compressionMethods = Array(compression)
        if reader.isAtEnd { return hello }

        guard let extensionBlock = reader.vector16() else { throw TLSDecodeError("ClientHello extensions block is truncated") }
        var extensions = TLSByteReader(extensionBlock)
        while !extensions.isAtEnd {
            guard let type = extensions.u16(), let data = extensions.vector16() else {
                throw TLSDecodeError("ClientHello extension at offset \(extensions.offset) is truncated")
            }
            hello.extensions.append(type)
            try hello.readExtension(type, data)
        }
        return hello
    }

    private mutating func readExtension(_ type: UInt16, _ data: UnsafeRawBufferPointer) throws {
        var reader = TLSByteReader(data)
        switch type {
        case TLSExtension.serverName:
            // An empty server_name is legal in a ServerHello echo but carries no name here.
            guard !data.isEmpty else { return }
            guard let list = reader.vector16() else { throw TLSDecodeError("server_name list is truncated") }
            var names = TLSByteReader(list)
            while !names.isAtEnd {
                guard let nameType = names.u8(), let name = names.vector16() else {
                    throw TLSDecodeError("server_name entry is truncated")
                }
                if nameType == 0, serverName == nil { serverName = Array(name) }
            }
        case TLSExtension.alpn:
            guard let list = reader.vector16() else { throw TLSDecodeError("ALPN protocol_name_list is truncated") }
            var names = TLSByteReader(list)
            while !names.isAtEnd {
                guard let name = names.vector8() else { throw TLSDecodeError("ALPN protocol name is truncated") }
                alpn.append(Array(name))
            }
        case TLSExtension.supportedVersions:
            guard let list = reader.vector8(), let versions = TLSByteReader.u16List(list) else {
                throw TLSDecodeError("supported_versions list is truncated or has an odd length")
            }
            supportedVersions = versions
        case TLSExtension.supportedGroups:
            guard let list = reader.vector16(), let groups = TLSByteReader.u16List(list) else {
                throw TLSDecodeError("supported_groups list is truncated or has an odd length")
            }
            supportedGroups = groups
        case TLSExtension.ecPointFormats:
            guard let list = reader.vector8() else { throw TLSDecodeError("ec_point_formats list is truncated") }
            ecPointFormats = Array(list)
        case TLSExtension.signatureAlgorithms:
            guard let list = reader.vector16(), let algorithms = TLSByteReader.u16List(list) else {
                throw TLSDecodeError("signature_algorithms list is truncated or has an odd length")
            }
            signatureAlgorithms = algorithms
        case TLSExtension.keyShare:
            guard let list = reader.vector16() else { throw TLSDecodeError("key_share client_shares is truncated") }
            var shares = TLSByteReader(list)
            while !shares.isAtEnd {
                guard let group = shares.u16(), shares.vector16() != nil else {
                    throw TLSDecodeError("key_share entry is truncated")
                }
                keyShareGroups.append(group)
            }
        case TLSExtension.pskKeyExchangeModes:
            guard let list = reader.vector8() else { throw TLSDecodeError("psk_key_exchange_modes list is truncated") }
            pskKeyExchangeModes = Array(list)
        case TLSExtension.recordSizeLimit:
            guard let limit = reader.u16() else { throw TLSDecodeError("record_size_limit value is truncated") }
            recordSizeLimit = limit
        default:
            break
        }
    }

    /// Parses an SSLv2-compatible ClientHello body: the bytes after the 2-byte record header
    /// and the message type byte (RFC 5246 appendix E.2).
    static func parseSSLv2(_ body: UnsafeRawBufferPointer) throws -> TLSClientHello {
        var reader = TLSByteReader(body)
        guard let version = reader.u16(), let specLength = reader.u16(), let sessionIDLength = reader.u16(),
              let challengeLength = reader.u16() else {
            throw TLSDecodeError("SSLv2 ClientHello header is truncated")
        }
        guard specLength % 3 == 0, let specs = reader.view(Int(specLength)) else {
            throw TLSDecodeError("SSLv2 ClientHello cipher_specs length \(specLength) is not a multiple of 3 or exceeds the record")
        }
        guard reader.view(Int(sessionIDLength)) != nil, reader.view(Int(challengeLength)) != nil else {
            throw TLSDecodeError("SSLv2 ClientHello session_id or challenge is truncated")
        }
        var hello = TLSClientHello(legacyVersion: version, sessionIDLength: Int(sessionIDLength), compressionMethods: [],
                                   isSSLv2Format: true)
        var index = 0
        while index + 2 < specs.count {
            if specs[index] == 0 { hello.cipherSuites.append(UInt16(specs[index + 1]) << 8 | UInt16(specs[index + 2])) }
            index += 3
        }
        return hello
    }
}

/// The fields of a ServerHello (or HelloRetryRequest) that the event and findings use.
public struct TLSServerHello: Sendable, Equatable {
    public var legacyVersion: UInt16
    public var cipherSuite: UInt16
    public var compressionMethod: UInt8
    /// Extension types in wire order.
    public var extensions: [UInt16]
    /// The supported_versions selection, present when TLS 1.3 is negotiated.
    public var selectedVersion: UInt16?
    public var alpn: [UInt8]?
    public var keyShareGroup: UInt16?
    /// A HelloRetryRequest is a ServerHello with a fixed random (RFC 8446 section 4.1.3).
    public var isHelloRetryRequest: Bool

    public init(legacyVersion: UInt16 = 0x0303, cipherSuite: UInt16 = 0, compressionMethod: UInt8 = 0,
                extensions: [UInt16] = [], selectedVersion: UInt16? = nil, alpn: [UInt8]? = nil,
                keyShareGroup: UInt16? = nil, isHelloRetryRequest: Bool = false) {
        self.legacyVersion = legacyVersion
        self.cipherSuite = cipherSuite
        self.compressionMethod = compressionMethod
        self.extensions = extensions
        self.selectedVersion = selectedVersion
        self.alpn = alpn
        self.keyShareGroup = keyShareGroup
        self.isHelloRetryRequest = isHelloRetryRequest
    }

    /// The version the server chose: supported_versions when present, else `legacy_version`.
    public var negotiatedVersion: UInt16 { selectedVersion ?? legacyVersion }

    /// True when the rest of the handshake is encrypted: TLS 1.3 and its drafts.
    public var isTLS13: Bool {
        let version = negotiatedVersion
        return version == 0x0304 || (version >= 0x7f00 && version <= 0x7f1c)
    }

    /// SHA-256 of "HelloRetryRequest", the random that marks a HelloRetryRequest.
    static let helloRetryRequestRandom: [UInt8] = [
        0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
        0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
    ]

    /// Parses the body of a ServerHello handshake message (after the 4-byte header).
    static func parse(_ body: UnsafeRawBufferPointer) throws -> TLSServerHello {
        var reader = TLSByteReader(body)
        var hello = TLSServerHello()
        guard let version = reader.u16() else { throw TLSDecodeError("ServerHello is shorter than its version field") }
        hello.legacyVersion = version
        guard let random = reader.view(32) else { throw TLSDecodeError("ServerHello random is truncated") }
        hello.isHelloRetryRequest = random.elementsEqual(helloRetryRequestRandom)
        // TLS 1.3 drafts before 22 dropped the session_id and compression fields and put
        // the negotiated version here: a draft number, or 0x0304, which RFC 8446 servers
        // never write in this field (they write 0x0303 and use supported_versions).
        let isEarlyDraft = (version >= 0x7f00 && version < 0x7f16) || version == 0x0304
        if !isEarlyDraft {
            guard let sessionID = reader.vector8(), sessionID.count <= 32 else {
                throw TLSDecodeError("ServerHello session_id is truncated or longer than 32 bytes")
            }
        }
        guard let suite = reader.u16() else { throw TLSDecodeError("ServerHello cipher_suite is truncated") }
        hello.cipherSuite = suite
        if !isEarlyDraft {
            guard let compression = reader.u8() else { throw TLSDecodeError("ServerHello compression_method is truncated") }
            hello.compressionMethod = compression
        }
        if reader.isAtEnd { return hello }

        guard let extensionBlock = reader.vector16() else { throw TLSDecodeError("ServerHello extensions block is truncated") }
        var extensions = TLSByteReader(extensionBlock)
        while !extensions.isAtEnd {
            guard let type = extensions.u16(), let data = extensions.vector16() else {
                throw TLSDecodeError("ServerHello extension at offset \(extensions.offset) is truncated")
            }
            hello.extensions.append(type)
            var field = TLSByteReader(data)
            switch type {
            case TLSExtension.supportedVersions:
                guard let selected = field.u16() else { throw TLSDecodeError("ServerHello supported_versions is truncated") }
                hello.selectedVersion = selected
            case TLSExtension.alpn:
                guard let list = field.vector16() else { throw TLSDecodeError("ServerHello ALPN list is truncated") }
                var names = TLSByteReader(list)
                hello.alpn = names.vector8().map { Array($0) }
            case TLSExtension.keyShare:
                // A HelloRetryRequest carries only the group; a ServerHello carries group and key.
                hello.keyShareGroup = field.u16()
            default:
                break
            }
        }
        return hello
    }
}
