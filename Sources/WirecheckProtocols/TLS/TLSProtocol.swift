/// TLS (and SSL 3.0 with the SSLv2-compatible ClientHello) over TCP, inspected without
/// decryption: the cleartext handshake, the server certificate chain up to TLS 1.2, the
/// fingerprints, and the count of encrypted bytes.
public enum TLSProtocol: ApplicationProtocol {
    public static let name = "tls"
    /// TLS carries many protocols, so TLS on a port of its own is not an ICS protocol out of place.
    public static let isIndustrial = false

    /// TLS ports from the IANA registry, with the ICS ones: OPC UA over TLS (4843),
    /// Modbus/TCP Security (802), MQTT over TLS (8883), IEC 60870-5-104 over TLS (19998)
    /// and DNP3 over TLS (19999).
    public static let registeredPorts: [Transport: Set<UInt16>] = [
        .tcp: [443, 465, 563, 636, 802, 853, 989, 990, 992, 993, 995, 3269, 4843, 5061, 5671, 8883, 19998, 19999],
    ]

    /// Ports where anything that is not TLS is worth an alert (`tls.cleartext_on_tls_port`).
    /// The dispatcher raises it, because only the dispatcher tracks whether any probe matched.
    public static let cleartextCheckedPorts: Set<UInt16> = [443, 4843, 802, 8883]

    /// Bytes the probe needs: a record header and the handshake type.
    static let probeLength = 6

    public static func probe(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, transport: Transport) -> ProbeResult {
        guard transport == .tcp, let first = bytes.first else { return .noMatch }

        // SSLv2-compatible ClientHello: 2-byte length with the high bit set, message type 1,
        // then version 0x0002 or 3.x.
        if direction == .toServer, first & 0x80 != 0 {
            guard bytes.count >= 5 else { return .needMoreData }
            let length = Int(first & 0x7f) << 8 | Int(bytes[1])
            let isVersionKnown = (bytes[3] == 0x00 && bytes[4] == 0x02) || (bytes[3] == 0x03 && bytes[4] <= 0x04)
            return bytes[2] == 1 && isVersionKnown && length >= 9 ? .match : .noMatch
        }

        guard first == TLSContentType.handshake || first == TLSContentType.alert else { return .noMatch }
        if bytes.count >= 2, bytes[1] != 3 { return .noMatch }
        if bytes.count >= 3, bytes[2] > 4 { return .noMatch }
        guard bytes.count >= probeLength else { return .needMoreData }
        let length = Int(bytes[3]) << 8 | Int(bytes[4])
        guard length > 0, length <= TLSParser.maxRecordLength else { return .noMatch }

        if first == TLSContentType.alert {
            // A server that rejects a ClientHello may reply with only an alert of level 1 or 2.
            return direction == .toClient && length == 2 && (bytes[5] == 1 || bytes[5] == 2) ? .match : .noMatch
        }
        let expectedType: UInt8 = direction == .toServer ? 1 : 2
        return bytes[5] == expectedType ? .match : .noMatch
    }

    public static func makeParser(transport: Transport) -> ApplicationParser {
        TLSParser()
    }
}

/// TLS record content types (RFC 8446 section 5.1, RFC 6520 for heartbeat).
enum TLSContentType {
    static let changeCipherSpec: UInt8 = 20
    static let alert: UInt8 = 21
    static let handshake: UInt8 = 22
    static let applicationData: UInt8 = 23
    static let heartbeat: UInt8 = 24
}
