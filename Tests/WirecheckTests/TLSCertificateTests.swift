import Testing
import WirecheckCore
@testable import WirecheckProtocols

@Suite struct TLSCertificateTests {
    /// A self-signed P-256 certificate made with `openssl req -x509 -newkey ec` for
    /// `/O=Wirecheck Test/CN=rtu.example.test`, SANs DNS:rtu.example.test and IP:10.0.0.7,
    /// serial 0x1234, valid 2026-12-04T20:29:23 to 2027-12-04T20:29:23.
    static let selfSignedEC: [UInt8] = hexBytes(
        "308201cd30820174a00302010202021234300a06082a8648ce3d040302303431173015060355040a0c0e576972656368"
        + "65636b20546573743119301706035504030c107274752e6578616d706c652e74657374301e170d323631323034323032"
        + "3932335a170d3237313230343230323932335a303431173015060355040a0c0e57697265636865636b20546573743119"
        + "301706035504030c107274752e6578616d706c652e746573743059301306072a8648ce3d020106082a8648ce3d030107"
        + "03420004f25dcf9da61e79ec9616b4bf549c945dfd0b9e8eca6bc1683b5d8d659e27a84cbdf913726d30511f96a0392a"
        + "bd4fc6d70fb8eea995eddd61eba19e0b9cb3d06fa3763074301d0603551d0e04160414c12877c068154b95965b883027"
        + "8356064f3eb73f301f0603551d23041830168014c12877c068154b95965b8830278356064f3eb73f300f0603551d1301"
        + "01ff040530030101ff30210603551d11041a301882107274752e6578616d706c652e7465737487040a000007300a0608"
        + "2a8648ce3d0403020347003044022057cf63ba50e4154d94152607ede8cdbda5c19fdd379407ee469ddd0289ca06d402"
        + "2077852efb90eea5b30bbb909867f2b784c668008d14dfdbdef0f9b72dda3db495")

    static func hexBytes(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    static func parse(_ der: [UInt8]) -> TLSCertificateInfo? {
        der.withUnsafeBytes { TLSCertificateInfo.parse(der: $0) }
    }

    @Test func selfSignedECFields() throws {
        let info = try #require(Self.parse(Self.selfSignedEC))
        #expect(String(decoding: info.subject, as: UTF8.self) == "O=Wirecheck Test, CN=rtu.example.test")
        #expect(String(decoding: info.issuer, as: UTF8.self) == "O=Wirecheck Test, CN=rtu.example.test")
        #expect(info.serial == "12:34")
        #expect(TLSCertificateInfo.isoDate(info.notBefore) == "2026-12-04T20:29:23")
        #expect(TLSCertificateInfo.isoDate(info.notAfter) == "2027-12-04T20:29:23")
        #expect(info.keyType == "EC")
        #expect(info.keyBits == 256)
        #expect(info.signatureAlgorithm == "ecdsa-with-SHA256")
        #expect(info.signatureDigest == "SHA256")
        #expect(info.dnsNames == [Array("rtu.example.test".utf8)])
        #expect(info.ipAddresses == ["10.0.0.7"])
        #expect(info.commonName == Array("rtu.example.test".utf8))
        // `openssl x509 -fingerprint -sha256` printed the same digest in uppercase.
        #expect(info.fingerprint == "e5:c6:a6:2c:f5:8f:26:ae:56:ec:1c:b3:b6:82:1c:06:76:3d:d6:34:6b:a3:11:9c:42:c7:83:c0:10:c1:88:d7")
        #expect(info.isSelfSigned)
    }

    @Test func malformedDERReturnsNil() {
        #expect(Self.parse([]) == nil)
        #expect(Self.parse([0x30, 0x82, 0xff, 0xff, 0x01]) == nil)
        #expect(Self.parse(Array(Self.selfSignedEC.prefix(200))) == nil)
        #expect(Self.parse([UInt8](repeating: 0x41, count: 64)) == nil)
    }

    @Test func tamperedSignatureIsNotSelfSigned() throws {
        var der = Self.selfSignedEC
        // The last byte belongs to the ECDSA signature; changing it keeps the DER valid.
        der[der.count - 1] ^= 0x01
        let info = try #require(Self.parse(der))
        #expect(!info.isSelfSigned)
    }

    @Test func chainFromFixture() throws {
        let connection = try #require(TLSTestCapture.fixture("tls12_valid_chain").first)
        let harness = TLSTestHarness.run(connection)
        #expect(harness.parser.certificates.count == 2)
        // `openssl ca` orders the subject by its policy section: commonName, then organizationName.
        #expect(harness.string("subject") == "CN=plc.example.test, O=Wirecheck Test")
        #expect(harness.string("issuerdn") == "O=Wirecheck Test, CN=Wirecheck Test CA")
        #expect(harness.string("serial") == "10:00")
        #expect(harness.string("notbefore") == "2025-01-01T00:00:00")
        #expect(harness.string("notafter") == "2035-12-31T00:00:00")
        #expect(harness.object("key")?["type"] == .string("RSA"))
        #expect(harness.object("key")?["bits"] == .int(2048))
        #expect(harness.string("signature_algorithm") == "sha256WithRSAEncryption")
        #expect(harness.record?["sans"] == .array([.wire(Array("plc.example.test".utf8)),
                                                   .wire(Array("*.plant.example.test".utf8)), .string("127.0.0.1")]))
        #expect(harness.record?["self_signed"] == .bool(false))
        #expect(harness.record?["chain_length"] == .int(2))
        #expect(harness.parser.certificates.last?.isSelfSigned == true)
        #expect(harness.record?["handshake_messages"] == .array(["client_hello", "server_hello", "certificate",
                                                                 "server_key_exchange", "server_hello_done"]))
    }

    @Test func clientCertificateOfMutualAuth() throws {
        let connection = try #require(TLSTestCapture.fixture("tls12_mutual_auth").first)
        let harness = TLSTestHarness.run(connection)
        #expect(harness.tlsEvents.count == 1)
        #expect(harness.string("subject") == "CN=plc.example.test, O=Wirecheck Test")
        let client = try #require(harness.object("client_certificate"))
        #expect(client["subject"] == .wire(Array("CN=scada-client.example.test, O=Wirecheck Test".utf8)))
        #expect(client["issuerdn"] == .wire(Array("O=Wirecheck Test, CN=Wirecheck Test CA".utf8)))
        #expect(client["chain_length"] == .int(1))
        #expect(harness.record?["handshake_messages"] == .array(["client_hello", "server_hello", "certificate",
                                                                 "server_key_exchange", "certificate_request",
                                                                 "server_hello_done", "certificate"]))
    }

    @Test func wildcardMatchesOneLabel() {
        let pattern = Array("*.example.com".utf8)
        #expect(TLSCertificateInfo.nameMatches(pattern: pattern, hostName: Array("plc.example.com".utf8)))
        #expect(TLSCertificateInfo.nameMatches(pattern: pattern, hostName: Array("PLC.Example.COM.".utf8)))
        #expect(!TLSCertificateInfo.nameMatches(pattern: pattern, hostName: Array("example.com".utf8)))
        #expect(!TLSCertificateInfo.nameMatches(pattern: pattern, hostName: Array("a.b.example.com".utf8)))
        #expect(!TLSCertificateInfo.nameMatches(pattern: pattern, hostName: Array("plc.example.org".utf8)))
        #expect(TLSCertificateInfo.nameMatches(pattern: Array("hmi.plant".utf8), hostName: Array("HMI.plant".utf8)))
    }

    @Test func commonNameUsedOnlyWithoutDNSNames() throws {
        var info = try #require(Self.parse(Self.selfSignedEC))
        info.commonName = Array("other.example.test".utf8)
        #expect(info.matches(hostName: Array("rtu.example.test".utf8)))
        #expect(!info.matches(hostName: Array("other.example.test".utf8)))
        info.dnsNames = []
        #expect(info.matches(hostName: Array("other.example.test".utf8)))
    }

    @Test func datesBeforeEpochAndAfter2038() {
        let before = TLSCertificateInfo.unixSeconds(year: 1969, month: 12, day: 31, hour: 0, minute: 0, second: 0)
        #expect(before == -86_400)
        #expect(TLSCertificateInfo.isoDate(before) == "1969-12-31T00:00:00")
        let late = TLSCertificateInfo.unixSeconds(year: 2049, month: 12, day: 31, hour: 23, minute: 59, second: 59)
        #expect(late == 2_524_607_999)
        #expect(TLSCertificateInfo.isoDate(late) == "2049-12-31T23:59:59")
        #expect(TLSCertificateInfo.isoDate(0) == "1970-01-01T00:00:00")
    }
}
