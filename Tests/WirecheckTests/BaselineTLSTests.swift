import Foundation
import Testing
import WirecheckBaseline
import WirecheckCore
import WirecheckEngine

/// TLS values in the communication baseline: learning JA3, JA4, JA3S, certificates and SNI per
/// conversation from the TLS fixtures, and the three alerts when a handshake shows a new one.
///
/// The fixtures on port 8443 share client 127.0.0.1 and server 127.0.0.1:8443, so they are one
/// conversation: `tls12_valid_chain` (SNI plc.example.test, the valid certificate, ALPN offered),
/// `tls12_null_cipher` (same SNI and certificate, other cipher list), `tls12_wildcard` (other SNI,
/// no ALPN) and `tls12_short_key` (other certificate, SNI and cipher list).
@Suite struct BaselineTLSTests {
    static func fixture(_ name: String) -> String {
        TLSTestCapture.fixtureDirectory.appendingPathComponent(name + ".pcap").path
    }

    static let tlsRules: Set<String> = ["baseline.new_tls_fingerprint", "baseline.new_certificate", "baseline.new_sni"]

    static let conversationKey = ConversationKey(client: IPAddress("127.0.0.1")!, server: IPAddress("127.0.0.1")!,
                                                 ipProtocol: 6, port: 8443, appProto: "tls")

    static func learn(_ name: String) throws -> Baseline {
        var options = AnalysisOptions()
        options.baseline = .learn(Baseline())
        let result = try AnalysisHarness.analyze([fixture(name)], options: options)
        return try #require(result.learnedBaseline)
    }

    static func detect(_ name: String, with baseline: Baseline) throws -> AnalysisResult {
        var options = AnalysisOptions()
        options.baseline = .detect(baseline)
        return try AnalysisHarness.analyze([fixture(name)], options: options)
    }

    static func tlsRecord(_ name: String) throws -> JSONObject {
        let result = try AnalysisHarness.analyze(fixture(name))
        let event = try #require(result.events(ofType: "tls").first)
        guard case .object(let record)? = event.body["tls"] else {
            Issue.record("the tls event of \(name) has no tls record")
            return JSONObject()
        }
        return record
    }

    // MARK: Learning

    @Test func learnsEveryKindOnce() throws {
        let baseline = try Self.learn("tls12_valid_chain")
        let conversation = try #require(baseline.conversations[Self.conversationKey])
        let observation = TLSObservation(record: try Self.tlsRecord("tls12_valid_chain"))
        for kind in TLSValueKind.allCases {
            let set = try #require(conversation.tls[kind], "no \(kind.label) learned")
            #expect(set.entries.count == 1, "\(kind.label)")
            #expect(set.overflowed == false, "\(kind.label)")
            let value = try #require(observation.value(kind))
            #expect(set.entries[value]?.observation.count == 1, "\(kind.label)")
        }
        #expect(conversation.tls[.sni]?.entries["plc.example.test"] != nil)
        let certificate = try #require(conversation.tls[.certificate]?.sortedEntries.first)
        #expect(certificate.subject == observation.certificateSubject)
        #expect(certificate.value.count == 95)
    }

    @Test func tls13LearnsNoCertificate() throws {
        let baseline = try Self.learn("tls13_valid_443")
        let key = ConversationKey(client: IPAddress("127.0.0.1")!, server: IPAddress("127.0.0.1")!,
                                  ipProtocol: 6, port: 443, appProto: "tls")
        let conversation = try #require(baseline.conversations[key])
        #expect(conversation.tls[.ja3]?.entries.count == 1)
        #expect(conversation.tls[.sni]?.entries["plc.example.test"] != nil)
        #expect(conversation.tls[.certificate] == nil)
    }

    @Test func relearningAddsCounts() throws {
        let baseline = try Self.learn("tls12_valid_chain")
        var options = AnalysisOptions()
        options.baseline = .learn(baseline)
        let result = try AnalysisHarness.analyze([Self.fixture("tls12_wildcard")], options: options)
        let relearned = try #require(result.learnedBaseline)
        let conversation = try #require(relearned.conversations[Self.conversationKey])
        #expect(conversation.tls[.sni]?.entries.keys.sorted() == ["hmi.plant.example.test", "plc.example.test"])
        #expect(conversation.tls[.sni]?.entries["plc.example.test"]?.observation.count == 1)
        #expect(conversation.tls[.certificate]?.entries.count == 1)
        #expect(conversation.tls[.ja3]?.entries.count == 2)
    }

    // MARK: Detection

    @Test func sameCaptureRaisesNoTLSAlert() throws {
        let baseline = try Self.learn("tls12_valid_chain")
        let result = try Self.detect("tls12_valid_chain", with: baseline)
        #expect(result.events(ofType: "tls").count == 1)
        #expect(result.alertRules.isDisjoint(with: Self.tlsRules), "\(result.alertRules)")
    }

    @Test func otherClientRaisesNewFingerprint() throws {
        let baseline = try Self.learn("tls12_valid_chain")
        let result = try Self.detect("tls12_null_cipher", with: baseline)
        let alerts = result.alerts("baseline.new_tls_fingerprint")
        #expect(alerts.count == 1)
        #expect(result.alerts("baseline.new_certificate").isEmpty)
        #expect(result.alerts("baseline.new_sni").isEmpty)
        let seen = TLSObservation(record: try Self.tlsRecord("tls12_null_cipher"))
        let learned = TLSObservation(record: try Self.tlsRecord("tls12_valid_chain"))
        let message = try #require(alerts.first?.message)
        #expect(message.hasPrefix("127.0.0.1 → 127.0.0.1:8443 made a TLS handshake with JA3 "))
        #expect(message.contains(try #require(seen.ja3)))
        #expect(message.contains(try #require(seen.ja4)))
        #expect(message.contains(try #require(learned.ja3)))
        #expect(alerts.first?.flow?.destPort == 8443)
        #expect(alerts.first?.packets.isEmpty == false)
    }

    @Test func otherCertificateRaisesNewCertificate() throws {
        let baseline = try Self.learn("tls12_valid_chain")
        let result = try Self.detect("tls12_short_key", with: baseline)
        let alerts = result.alerts("baseline.new_certificate")
        #expect(alerts.count == 1)
        let seen = TLSObservation(record: try Self.tlsRecord("tls12_short_key"))
        let learned = TLSObservation(record: try Self.tlsRecord("tls12_valid_chain"))
        let message = try #require(alerts.first?.message)
        #expect(message.hasPrefix("127.0.0.1:8443 presented certificate "))
        #expect(message.contains(try #require(seen.certificateSubject)))
        #expect(message.contains(String(try #require(seen.certificateFingerprint).prefix(23))))
        #expect(message.contains("the baseline has certificate " + (try #require(learned.certificateSubject))))
    }

    @Test func otherServerNameRaisesNewSNI() throws {
        let baseline = try Self.learn("tls12_valid_chain")
        let result = try Self.detect("tls12_wildcard", with: baseline)
        let alerts = result.alerts("baseline.new_sni")
        #expect(alerts.count == 1)
        #expect(result.alerts("baseline.new_certificate").isEmpty)
        #expect(alerts.first?.message == "127.0.0.1 asked 127.0.0.1:8443 for server name hmi.plant.example.test, never seen "
            + "on this conversation; the baseline has SNI plc.example.test")
    }

    @Test func repeatedValueAlertsOnce() throws {
        let baseline = try Self.learn("tls12_valid_chain")
        let collector = EventCollector()
        let detector = BaselineDetector(baseline: baseline, sink: collector)
        let learned = TLSObservation(record: try Self.tlsRecord("tls12_valid_chain"))
        var changed = learned
        changed.sni = "scada.other.test"
        for (index, port) in [UInt16(50_001), 50_002].enumerated() {
            var flow = FlowContext(flowID: UInt64(index + 1), communityID: "", srcIP: IPAddress("127.0.0.1")!, srcPort: port,
                                   destIP: IPAddress("127.0.0.1")!, destPort: 8443, ipProtocol: 6, appProto: "tls")
            flow.start = Timestamp(seconds: 1_900_000_000 + Int64(index), nanoseconds: 0)
            detector.observe(tls: changed, flow: flow, timestamp: flow.start, packets: [])
        }
        let alerts = collector.events.filter { $0.alertRule == "baseline.new_sni" }
        #expect(alerts.count == 1)
        #expect(collector.events.count == 1)
    }

    @Test func newConversationRaisesNoTLSAlert() throws {
        let baseline = try Self.learn("tls12_valid_chain")
        // Port 8883 is another service of the same hosts, so it is a conversation the baseline lacks.
        let result = try Self.detect("tls12_expired", with: baseline)
        #expect(result.alertRules.isDisjoint(with: Self.tlsRules), "\(result.alertRules)")
        // Client and server are both 127.0.0.1, so the detector may report the new service as the
        // server initiating a conversation. Both are conversation alerts.
        #expect(!result.alertRules.isDisjoint(with: ["baseline.new_protocol_or_port", "baseline.server_initiates"]))
    }

    @Test func conversationWithoutTLSValuesIsNotChecked() throws {
        let baseline = try Self.learn("tls12_valid_chain")
        baseline.conversations[Self.conversationKey]?.tls = [:]
        let result = try Self.detect("tls12_short_key", with: baseline)
        #expect(result.alertRules.isDisjoint(with: Self.tlsRules), "\(result.alertRules)")
    }

    @Test func overflowedKindIsNotChecked() throws {
        let baseline = try Self.learn("tls12_valid_chain")
        baseline.conversations[Self.conversationKey]?.tls[.sni]?.overflowed = true
        let result = try Self.detect("tls12_wildcard", with: baseline)
        #expect(result.alerts("baseline.new_sni").isEmpty)
    }

    @Test func learnFirstDetectsAfterCutoff() throws {
        var options = AnalysisOptions()
        // The cut-off falls just before the wildcard handshake, which was recorded after the valid
        // chain one. So the valid chain capture is learned and the wildcard capture is checked.
        let chain = try AnalysisHarness.analyze(Self.fixture("tls12_valid_chain"))
        let wildcard = try AnalysisHarness.analyze(Self.fixture("tls12_wildcard"))
        let chainStart = try #require(chain.events(ofType: "tls").first?.timestamp)
        let wildcardStart = try #require(wildcard.events(ofType: "tls").first?.timestamp)
        try #require(chainStart < wildcardStart)
        options.baseline = .learnFirst(duration: wildcardStart.interval(since: chainStart) - 0.001, baseline: Baseline())
        let result = try AnalysisHarness.analyze([Self.fixture("tls12_valid_chain"), Self.fixture("tls12_wildcard")],
                                                 options: options)
        #expect(result.alerts("baseline.new_sni").count == 1)
    }

    // MARK: File, show and diff

    @Test func fileRoundTripKeepsSets() throws {
        let baseline = try Self.learn("tls12_valid_chain")
        baseline.conversations[Self.conversationKey]?.tls[.ja3]?.overflowed = true
        let text = baseline.serialized()
        let reloaded = try Baseline.parse(text, file: "tls.json")
        let original = try #require(baseline.conversations[Self.conversationKey])
        let loaded = try #require(reloaded.conversations[Self.conversationKey])
        // The file keeps times to the second, so the sets are compared by value, subject and count.
        for kind in TLSValueKind.allCases {
            let before = try #require(original.tls[kind]), after = try #require(loaded.tls[kind], "\(kind.label)")
            #expect(after.entries.keys.sorted() == before.entries.keys.sorted(), "\(kind.label)")
            #expect(after.sortedEntries.map(\.subject) == before.sortedEntries.map(\.subject), "\(kind.label)")
            #expect(after.sortedEntries.map(\.observation.count) == before.sortedEntries.map(\.observation.count))
            #expect(after.overflowed == before.overflowed, "\(kind.label)")
        }
        #expect(reloaded.serialized() == text)
        #expect(text.contains("\"overflowed\": [\"ja3\"]") || text.contains("\"overflowed\":[\"ja3\"]"))
    }

    @Test func fileRejectsUnknownKind() throws {
        let baseline = try Self.learn("tls12_valid_chain")
        let text = baseline.serialized().replacingOccurrences(of: "\"ja3s\": [", with: "\"overflowed\": [\"ja5\"], \"ja3s\": [")
        #expect(text != baseline.serialized())
        #expect(throws: BaselineFileError.self) { try Baseline.parse(text, file: "tls.json") }
    }

    @Test func showListsTLSValues() throws {
        let baseline = try Self.learn("tls12_valid_chain")
        let observation = TLSObservation(record: try Self.tlsRecord("tls12_valid_chain"))
        let text = BaselineReport.show(baseline)
        #expect(text.contains("\nTLS\n"))
        // One asset, one conversation and one value of each of the five TLS kinds.
        #expect(text.contains("; 7 entries pending review"))
        for kind in TLSValueKind.allCases {
            #expect(text.contains(try #require(observation.value(kind))), "\(kind.label)")
        }
        #expect(text.contains(try #require(observation.certificateSubject)))
    }

    @Test func diffNamesNewValues() throws {
        let old = try Self.learn("tls12_valid_chain")
        var options = AnalysisOptions()
        options.baseline = .learn(try Self.learn("tls12_valid_chain"))
        let new = try #require(try AnalysisHarness.analyze([Self.fixture("tls12_wildcard")], options: options).learnedBaseline)
        let text = BaselineDiff.diff(old: old, new: new)
        #expect(text.contains("+ 127.0.0.1 → 127.0.0.1 tcp/8443 tls: SNI hmi.plant.example.test"))
        #expect(text.contains("tls\n"))
    }

    @Test func mergeJoinsSets() throws {
        let first = try Self.learn("tls12_valid_chain")
        let second = try Self.learn("tls12_short_key")
        first.merge(second)
        let conversation = try #require(first.conversations[Self.conversationKey])
        #expect(conversation.tls[.certificate]?.entries.count == 2)
        #expect(conversation.tls[.sni]?.entries.count == 2)
    }

    // MARK: Values

    @Test func observationReadsTLSRecord() {
        let record: JSONObject = [
            "version": .string("TLS 1.2"), "sni": .wire(Array("plc.example.test".utf8)),
            "ja3": .object(["hash": .string("6734f37431670b3ab4292b8f60f29984"), "string": .string("771,4865,0,,")]),
            "ja4": .string("t12d1312h2_8b80da21ef18_77989cba1f4a"),
            "ja3s": .object(["hash": .string("ae4edc6faf64d08308082ad26be60767"), "string": .string("771,49199,")]),
            "subject": .wire(Array("CN=plc.example.test".utf8)), "fingerprint": .string("ab:cd:ef"),
        ]
        let observation = TLSObservation(record: record)
        #expect(observation.sni == "plc.example.test")
        #expect(observation.ja3 == "6734f37431670b3ab4292b8f60f29984")
        #expect(observation.ja4 == "t12d1312h2_8b80da21ef18_77989cba1f4a")
        #expect(observation.ja3s == "ae4edc6faf64d08308082ad26be60767")
        #expect(observation.certificateSubject == "CN=plc.example.test")
        #expect(observation.certificateFingerprint == "ab:cd:ef")
    }

    @Test func observationOfEmptyRecordIsEmpty() {
        let observation = TLSObservation(record: ["ja3": .string("not an object"), "sni": .int(3)])
        #expect(observation == TLSObservation())
    }

    @Test func printableReplacesControlCharacters() {
        #expect(TLSValueEntry.printable("plc\r\nX-Injected: 1") == "plc??X-Injected: 1")
        #expect(TLSValueEntry.printable("plc.example.test") == "plc.example.test")
        let entry = TLSValueEntry(value: "ab:cd", subject: "CN=a\nb", observation: Observation(firstSeen: .zero, lastSeen: .zero, count: 1))
        #expect(entry.display == "CN=a?b (sha256 ab:cd...)")
    }

    @Test func valueSetStopsAtLimit() {
        let learner = BaselineLearner()
        let flow = FlowContext(flowID: 1, communityID: "", srcIP: IPAddress("10.0.0.5")!, srcPort: 50_000,
                               destIP: IPAddress("10.0.0.20")!, destPort: 443, ipProtocol: 6, appProto: "tls")
        for index in 0..<(TLSValueSet.maxValues + 3) {
            learner.observe(tls: TLSObservation(sni: "host\(index).example.test"), flow: flow,
                            timestamp: Timestamp(seconds: 1_000 + Int64(index), nanoseconds: 0), packets: [])
        }
        let key = ConversationKey(flow: flow, appProto: "tls")
        let set = learner.baseline.conversations[key]?.tls[.sni]
        #expect(set?.entries.count == TLSValueSet.maxValues)
        #expect(set?.overflowed == true)
        #expect(learner.baseline.droppedEntries == 3)
    }
}
