/// Recognisers for common IT protocols, so that their use on an ICS port can be named. They only
/// identify; no parser follows them here.
enum CommonProtocol: String, CaseIterable {
    case http
    case tls
    case ssh

    /// Protocol name as an analyst reads it in a message.
    var displayName: String {
        switch self {
        case .http: return "HTTP"
        case .tls: return "TLS"
        case .ssh: return "SSH"
        }
    }

    func probe(_ bytes: UnsafeRawBufferPointer) -> ProbeResult {
        switch self {
        case .http: return CommonProtocol.probeHTTP(bytes)
        case .tls: return CommonProtocol.probeTLS(bytes)
        case .ssh: return CommonProtocol.matchPrefix(CommonProtocol.sshPrefix, bytes)
        }
    }

    /// Request methods of RFC 9110 plus PATCH, each followed by a space, and the status-line prefix.
    private static let httpPrefixes: [[UInt8]] = [
        "GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "CONNECT ", "TRACE ", "PATCH ", "HTTP/1.",
    ].map { Array($0.utf8) }
    private static let sshPrefix: [UInt8] = Array("SSH-".utf8)

    private static func probeHTTP(_ bytes: UnsafeRawBufferPointer) -> ProbeResult {
        var result = ProbeResult.noMatch
        for prefix in httpPrefixes {
            switch matchPrefix(prefix, bytes) {
            case .match: return .match
            case .needMoreData: result = .needMoreData
            case .noMatch: break
            }
        }
        return result
    }

    /// A TLS handshake record (content type 22, version 3.0 to 1.3, length within the 2^14 + 2048
    /// ceiling of RFC 8446 section 5.2) whose first message is a ClientHello or ServerHello.
    private static func probeTLS(_ bytes: UnsafeRawBufferPointer) -> ProbeResult {
        let contentTypeHandshake: UInt8 = 0x16
        let maximumRecordLength = 16384 + 2048
        if bytes.count >= 1, bytes[0] != contentTypeHandshake { return .noMatch }
        if bytes.count >= 2, bytes[1] != 0x03 { return .noMatch }
        if bytes.count >= 3, bytes[2] > 0x04 { return .noMatch }
        guard bytes.count >= 6 else { return .needMoreData }
        let recordLength = Int(bytes[3]) << 8 | Int(bytes[4])
        guard recordLength >= 4, recordLength <= maximumRecordLength else { return .noMatch }
        let handshakeType = bytes[5]
        return handshakeType == 1 || handshakeType == 2 ? .match : .noMatch
    }

    private static func matchPrefix(_ prefix: [UInt8], _ bytes: UnsafeRawBufferPointer) -> ProbeResult {
        let compared = min(prefix.count, bytes.count)
        for index in 0..<compared where bytes[index] != prefix[index] {
            return .noMatch
        }
        return compared == prefix.count ? .match : .needMoreData
    }
}
