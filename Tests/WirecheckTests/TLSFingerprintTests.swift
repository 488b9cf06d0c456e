import Foundation
import Testing
import WirecheckCore
@testable import WirecheckProtocols

@Suite struct TLSFingerprintTests {
    /// The client of FoxIO's JA4.md example, with GREASE values added to every list.
    static let ja4SpecHello = TLSClientHello(
        legacyVersion: 0x0303,
        cipherSuites: [0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
                       0x009c, 0x009d, 0x002f, 0x0035],
        extensions: [0x2a2a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
                     0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0x3a3a],
        serverName: Array("example.com".utf8),
        alpn: [Array("h2".utf8), Array("http/1.1".utf8)],
        supportedVersions: [0x7a7a, 0x0304, 0x0303],
        signatureAlgorithms: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
    )

    @Test func ja4MatchesSpecExample() {
        #expect(TLSFingerprints.ja4(Self.ja4SpecHello) == "t13d1516h2_8daaf6152771_e5627efa2ab1")
    }

    @Test func ja4WithoutSignatureAlgorithms() {
        var hello = Self.ja4SpecHello
        hello.signatureAlgorithms = []
        // The spec hashes the sorted extensions with no trailing underscore: 6d807ffa2a79.
        #expect(TLSFingerprints.ja4(hello).hasSuffix("_6d807ffa2a79"))
    }

    @Test func ja4WithoutSNIOrCiphers() {
        var hello = Self.ja4SpecHello
        hello.extensions.removeAll { $0 == 0x0000 }
        hello.cipherSuites = [0x1a1a]
        let ja4 = TLSFingerprints.ja4(hello)
        #expect(ja4.hasPrefix("t13i0015h2_000000000000_"))
    }

    @Test func ja4VersionFromLegacyWhenNoSupportedVersions() {
        var hello = Self.ja4SpecHello
        hello.supportedVersions = []
        hello.legacyVersion = 0x0301
        #expect(TLSFingerprints.ja4(hello).hasPrefix("t10d"))
    }

    @Test func ja4ALPNRules() {
        #expect(TLSFingerprints.ja4ALPN(nil) == "00")
        #expect(TLSFingerprints.ja4ALPN([]) == "00")
        #expect(TLSFingerprints.ja4ALPN(Array("h2".utf8)) == "h2")
        #expect(TLSFingerprints.ja4ALPN(Array("http/1.1".utf8)) == "h1")
        #expect(TLSFingerprints.ja4ALPN([0x68]) == "hh")
        // Hex examples from JA4.md.
        #expect(TLSFingerprints.ja4ALPN([0xab]) == "ab")
        #expect(TLSFingerprints.ja4ALPN([0xab, 0xcd]) == "ad")
        #expect(TLSFingerprints.ja4ALPN([0x30, 0xab]) == "3b")
        #expect(TLSFingerprints.ja4ALPN([0x30, 0x31, 0xab, 0xcd]) == "3d")
        #expect(TLSFingerprints.ja4ALPN([0x30, 0xab, 0xcd, 0x31]) == "01")
    }

    @Test func ja3MatchesReadmeExamples() {
        let full = TLSClientHello(legacyVersion: 769,
                                  cipherSuites: [47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4],
                                  extensions: [0, 10, 11], supportedGroups: [23, 24, 25], ecPointFormats: [0])
        let ja3 = TLSFingerprints.ja3(full)
        #expect(ja3.string == "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0")
        #expect(ja3.hash == "ada70206e40642a3e4461f35503241d5")

        let bare = TLSClientHello(legacyVersion: 769, cipherSuites: [4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99])
        #expect(TLSFingerprints.ja3(bare).string == "769,4-5-10-9-100-98-3-6-19-18-99,,,")
        #expect(TLSFingerprints.ja3(bare).hash == "de350869b8c85de67a350c8d186f11e6")
    }

    @Test func ja3RemovesGREASE() {
        let hello = TLSClientHello(legacyVersion: 771, cipherSuites: [0xdada, 4865, 4866], extensions: [0x0a0a, 0, 43],
                                   supportedGroups: [0xfafa, 29], ecPointFormats: [0])
        #expect(TLSFingerprints.ja3(hello).string == "771,4865-4866,0-43,29,0")
    }

    @Test func greaseValues() {
        #expect(TLSNames.isGREASE(0x0a0a))
        #expect(TLSNames.isGREASE(0xfafa))
        #expect(!TLSNames.isGREASE(0x0a1a))
        #expect(!TLSNames.isGREASE(0x1301))
    }

    @Test func ja3sOfServerHello() {
        let hello = TLSServerHello(legacyVersion: 771, cipherSuite: 49200, extensions: [65281, 11, 35, 23])
        #expect(TLSFingerprints.ja3s(hello).string == "771,49200,65281-11-35-23")
        #expect(TLSFingerprints.ja3s(hello).hash.count == 32)
    }

    @Test func fixtureFingerprints() throws {
        let connection = try #require(TLSTestCapture.fixture("tls12_null_cipher").first)
        let harness = TLSTestHarness.run(connection)
        let ja3 = try #require(harness.object("ja3"))
        #expect(ja3["string"] == .string("771,59-255,0-35-22-23-13,,"))
        // MD5 of the string above, computed with Python's hashlib.
        #expect(ja3["hash"] == .string("867f68e6f517f5e44f1ddca5d805366c"))
        #expect(harness.string("ja4")?.hasPrefix("t12d020500_") == true)
        #expect(harness.object("ja3s")?["string"] == .string("771,59,65281-35-22-23"))
    }

    /// Compares with the JA3 and JA4 values that suricata-verify's test.yaml files list for
    /// the public captures, when those captures are present beside the repository.
    @Test func sharedCapturesAgreeWithSuricata() throws {
        let directory = TLSTestCapture.sharedDirectory
        guard FileManager.default.fileExists(atPath: directory.path) else { return }
        let expectedJA3: [(String, Set<String>)] = [
            ("sv-tls13-draft14.pcap", ["65825469c473e48f3ee2571129256ab0"]),
            ("sv-tls13-draft28.pcap", ["d00857e0c8e7a7f35e446508c6233460", "43202faa1c8c1760d6f7f4bd9adde4ab"]),
        ]
        for (file, hashes) in expectedJA3 {
            let path = directory.appendingPathComponent(file).path
            guard FileManager.default.fileExists(atPath: path) else { continue }
            var seen: Set<String> = []
            for connection in TLSTestCapture.connections(path: path) {
                if case .string(let hash)? = TLSTestHarness.run(connection).object("ja3")?["hash"] { seen.insert(hash) }
            }
            #expect(seen == hashes, "JA3 of \(file)")
        }

        let c2 = directory.appendingPathComponent("sv-tlsv1-clienthello-only-c2.pcap").path
        if let connection = TLSTestCapture.connections(path: c2).first {
            let ja4 = TLSTestHarness.run(connection).string("ja4") ?? ""
            // Suricata lists t10i070600_c50f5591e341_ce66f3b797c1: it hashes the extension list
            // with a trailing underscore when there are no signature algorithms, where JA4.md
            // specifies that the string ends without one. The first two parts must agree.
            #expect(ja4.hasPrefix("t10i070600_c50f5591e341_"))
            #expect(ja4 == "t10i070600_c50f5591e341_c39ab67fec8e")
        }
    }
}

/// Checks the `tls` fields against what suricata-verify's test.yaml files expect for the
/// public captures, and that every public TLS capture parses, when the captures are present.
@Suite struct TLSSharedCaptureTests {
    static let suricataFields: [(file: String, key: String, value: String)] = [
        ("sv-sslv2-tls-upgrade.pcap", "version", "TLSv1"),
        ("sv-sslv2-tls-upgrade.pcap", "notbefore", "2003-03-29T00:57:44"),
        ("sv-tls-altname-zero.pcap", "version", "TLSv1"),
        ("sv-tls-altname-zero.pcap", "subject", "CN=xn--j1ahhq.xn--p1ai"),
        ("sv-tls-altname-zero.pcap", "notbefore", "2022-12-01T06:47:31"),
        ("sv-tls-pre-1970.pcap", "version", "TLSv1"),
        ("sv-tls-pre-1970.pcap", "sni", "fkp.samsungcloudsolution.com"),
        ("sv-tls-pre-1970.pcap", "subject", "OU=vd, CN=fkp.samsungcloudsolution.com"),
        ("sv-tls-pre-1970.pcap", "notbefore", "1969-12-31T00:00:00"),
        ("sv-tls13-tfo-syn-data.pcap", "sni", "icloud.com"),
        ("sv-tls13-tfo-syn-data.pcap", "version", "TLS 1.3"),
        ("sv-tls-3whs-ack-with-data.pcap", "sni", "raw.githubusercontent.com"),
        ("sv-tls13-draft28.pcap", "version", "TLS 1.3 draft-28"),
        ("sv-tls13-draft28.pcap", "sni", "localhost"),
    ]

    @Test func fieldsAgreeWithSuricata() {
        let directory = TLSTestCapture.sharedDirectory
        guard FileManager.default.fileExists(atPath: directory.path) else { return }
        for expected in Self.suricataFields {
            let path = directory.appendingPathComponent(expected.file).path
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let values = TLSTestCapture.connections(path: path).compactMap { TLSTestHarness.run($0).string(expected.key) }
            #expect(values.contains(expected.value), "\(expected.file) \(expected.key): \(values)")
        }
    }

    @Test func everyCaptureParses() throws {
        let directory = TLSTestCapture.sharedDirectory
        guard FileManager.default.fileExists(atPath: directory.path) else { return }
        // DTLS runs over UDP, which this parser does not read.
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".pcap") && !$0.contains("dtls") }
        for file in files {
            let connections = TLSTestCapture.connections(path: directory.appendingPathComponent(file).path)
            let events = connections.map { TLSTestHarness.run($0).tlsEvents.count }.reduce(0, +)
            // The damaged DER captures still carry a ClientHello, so every file yields an event.
            #expect(events > 0, "\(file)")
        }
    }
}
