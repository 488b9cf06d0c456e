import Foundation
import Testing
import WirecheckCore
@testable import WirecheckOutput

/// Builders of events and temporary stores shared by the store and report tests.
enum StoreFixtures {
    static let baseTime = Timestamp(seconds: 1_764_842_400, nanoseconds: 0) // 2025-12-04T10:00:00Z

    static func temporaryPath(_ name: String) -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("wirecheck-store-\(UUID().uuidString)", isDirectory: true)
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name).path
    }

    static func flowContext(_ id: UInt64, _ src: String, _ srcPort: UInt16, _ dest: String, _ destPort: UInt16,
                            appProto: String? = "modbus") -> FlowContext {
        FlowContext(flowID: id, communityID: "1:test\(id)=", srcIP: IPAddress(src)!, srcPort: srcPort,
                    destIP: IPAddress(dest)!, destPort: destPort, ipProtocol: IPProtocolNumber.tcp, appProto: appProto)
    }

    static let writeRule = AlertDefinition("modbus.write_request", signatureID: 9_100_001, signature: "Modbus write request",
                                           category: "ICS write", severity: 2, technique: .modifyParameter,
                                           summary: "A Modbus client wrote to a server.")
    static let restartRule = AlertDefinition("dnp3.cold_restart", signatureID: 9_100_002, signature: "DNP3 cold restart",
                                             category: "ICS restart", severity: 1, technique: .deviceRestartShutdown,
                                             summary: "A DNP3 master restarted an outstation.")
    static let badProtocolID = AnomalyDefinition("applayer.modbus.invalid_protocol_id", type: .applayer, layer: "modbus",
                                                 summary: "The MBAP protocol identifier is not 0.")

    static func alert(_ rule: AlertDefinition, at seconds: Int64, flow: FlowContext, message: String,
                      severity: Int? = nil, packets: [PacketReference] = [PacketReference(source: 0, number: 4)]) -> Event {
        Event.alert(rule, timestamp: Timestamp(seconds: baseTime.seconds + seconds, nanoseconds: 0), flow: flow,
                    packets: packets, message: message, severity: severity)
    }

    static func flowEvent(_ flow: FlowContext, at seconds: Int64, history: String = "ShADadFf", midstream: Bool = false,
                          bytes: Int64 = 1000, alerted: Bool = false) -> Event {
        let record: JSONObject = [
            "pkts_toserver": 6, "pkts_toclient": 5, "bytes_toserver": .int(Int(bytes)), "bytes_toclient": .int(Int(bytes / 2)),
            "start": .string(Timestamp(seconds: baseTime.seconds + seconds - 10, nanoseconds: 0).iso8601),
            "end": .string(Timestamp(seconds: baseTime.seconds + seconds, nanoseconds: 0).iso8601),
            "age": 10, "state": "closed", "reason": "timeout", "alerted": .bool(alerted),
            "conn_state": "SF", "history": .string(history), "midstream": .bool(midstream),
        ]
        return Event(eventType: "flow", timestamp: Timestamp(seconds: baseTime.seconds + seconds, nanoseconds: 0),
                     flow: flow, body: ["app_proto": .string(flow.appProto ?? "failed"), "flow": .object(record)])
    }

    static func modbusOperation(_ flow: FlowContext, at seconds: Int64, name: String, operationClass: String,
                                code: Int64, record: JSONObject = JSONObject()) -> Event {
        var modbus = record
        modbus.set("function_code", .int(code))
        return Event(eventType: "modbus", timestamp: Timestamp(seconds: baseTime.seconds + seconds, nanoseconds: 0),
                     flow: flow, packets: [PacketReference(source: 0, number: 7)],
                     body: ["modbus": .object(modbus),
                            "operation": .object(["name": .string(name), "class": .string(operationClass),
                                                  "code": .int(code), "unit": 1, "range_start": 40, "range_end": 49])])
    }

    /// Builds a store with two runs: Modbus writes and a DNP3 restart from 10.0.0.5, and a TLS flow.
    static func populatedStore(path: String) throws -> FindingStore {
        let store = try FindingStore(path: path)
        try store.beginRun(sources: ["plant.pcap"], started: baseTime)
        let modbus = flowContext(1, "10.0.0.5", 50100, "10.0.0.20", 502)
        let dnp3 = flowContext(2, "10.0.0.5", 50200, "10.0.1.30", 20000, appProto: "dnp3")
        let tls = flowContext(3, "10.0.0.7", 50300, "192.168.1.10", 443, appProto: "tls")
        store.emit(modbusOperation(modbus, at: 1, name: "write_single_register", operationClass: "write", code: 6))
        store.emit(modbusOperation(modbus, at: 2, name: "read_holding_registers", operationClass: "read", code: 3))
        store.emit(alert(writeRule, at: 1, flow: modbus, message: "10.0.0.5 wrote register 40 on 10.0.0.20 unit 1"))
        store.emit(alert(restartRule, at: 65, flow: dnp3, message: "10.0.0.5 sent a DNP3 cold restart to 10.0.1.30"))
        store.emit(Event.anomaly(badProtocolID, timestamp: Timestamp(seconds: baseTime.seconds + 3, nanoseconds: 0),
                                 flow: modbus, packets: [PacketReference(source: 0, number: 9)],
                                 message: "10.0.0.5 sent a Modbus frame with protocol id 7 to 10.0.0.20"))
        store.emit(flowEvent(modbus, at: 30, alerted: true))
        store.emit(flowEvent(dnp3, at: 70, history: "SAD", midstream: true, alerted: true))
        store.emit(flowEvent(tls, at: 80, bytes: 9000))
        try store.finishRun(stats: ["decoder": .object(["pkts": 1234]),
                                    "capture": .object(["kernel_packets": 1300, "kernel_drops": 66])],
                            finished: Timestamp(seconds: baseTime.seconds + 90, nanoseconds: 0))

        try store.beginRun(sources: ["second.pcap"], started: Timestamp(seconds: baseTime.seconds + 7200, nanoseconds: 0))
        let later = flowContext(4, "10.0.0.9", 50400, "10.0.0.20", 502)
        store.emit(alert(writeRule, at: 7300, flow: later, message: "10.0.0.9 wrote register 41 on 10.0.0.20 unit 1",
                         severity: 3))
        store.emit(flowEvent(later, at: 7310, alerted: true))
        try store.finishRun()
        return store
    }
}

@Suite struct FindingStoreRoundTripTests {
    @Test func alertFieldsRoundTrip() throws {
        let path = StoreFixtures.temporaryPath("alerts.db")
        let store = try FindingStore(path: path)
        try store.beginRun(sources: ["a.pcap", "b.pcap"])
        var event = StoreFixtures.alert(StoreFixtures.writeRule, at: 5, flow: StoreFixtures.flowContext(11, "10.0.0.5", 1234, "10.0.0.20", 502),
                                        message: "10.0.0.5 wrote register 40",
                                        packets: [PacketReference(source: 1, number: 9), PacketReference(source: 0, number: 3)])
        event.body.set("process", .object(["pid": 4242, "executable": "/usr/bin/python3",
                                           "command_line": "python3 write.py --unit 1", "user": "operator",
                                           "parent": .object(["executable": "/bin/bash"])]))
        event.body.set("host", .object(["name": "eng-ws-01"]))
        store.emit(event)
        try store.flush()

        let alerts = try store.alerts(matching: FindingQuery())
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert.rule == "modbus.write_request")
        #expect(alert.signatureID == 9_100_001)
        #expect(alert.signature == "Modbus write request")
        #expect(alert.category == "ICS write")
        #expect(alert.severity == 2)
        #expect(alert.techniqueID == "T0836")
        #expect(alert.techniqueName == "Modify Parameter")
        #expect(alert.flowID == 11)
        #expect(alert.srcIP == "10.0.0.5")
        #expect(alert.srcPort == 1234)
        #expect(alert.destIP == "10.0.0.20")
        #expect(alert.destPort == 502)
        #expect(alert.appProto == "modbus")
        #expect(alert.message == "10.0.0.5 wrote register 40")
        #expect(alert.evidence == [EvidenceReference(file: "a.pcap", packet: 3), EvidenceReference(file: "b.pcap", packet: 9)])
        #expect(alert.processPID == 4242)
        #expect(alert.processExecutable == "/usr/bin/python3")
        #expect(alert.processCommandLine == "python3 write.py --unit 1")
        #expect(alert.processUser == "operator")
        #expect(alert.hostName == "eng-ws-01")
        #expect(alert.suppressed == false)
        #expect(alert.time == Timestamp(seconds: StoreFixtures.baseTime.seconds + 5, nanoseconds: 0))
        try store.close()
    }

    @Test func anomalyFieldsRoundTrip() throws {
        let store = try FindingStore(path: StoreFixtures.temporaryPath("anomalies.db"))
        try store.beginRun(sources: ["a.pcap"])
        let endpoints = Endpoints(srcIP: IPAddress("10.0.0.8"), destIP: IPAddress("10.0.0.9"), ipProtocol: 6,
                                  srcMAC: MACAddress(0x0002_0300_0001))
        store.emit(Event.anomaly(StoreFixtures.badProtocolID, timestamp: StoreFixtures.baseTime, endpoints: endpoints,
                                 packets: [PacketReference(source: 0, number: 2)], message: "protocol id 7",
                                 details: ["protocol_id": 7]))
        try store.flush()

        let anomaly = try #require(try store.anomalies(matching: FindingQuery()).first)
        #expect(anomaly.name == "applayer.modbus.invalid_protocol_id")
        #expect(anomaly.type == "applayer")
        #expect(anomaly.layer == "modbus")
        #expect(anomaly.flowID == nil)
        #expect(anomaly.srcIP == "10.0.0.8")
        #expect(anomaly.destIP == "10.0.0.9")
        #expect(anomaly.message == "protocol id 7")
        #expect(anomaly.evidence == [EvidenceReference(file: "a.pcap", packet: 2)])
        let asset = try #require(try store.assets().first { $0.ip == "10.0.0.8" })
        #expect(asset.mac == "00:02:03:00:00:01")
    }

    @Test func flowFieldsRoundTrip() throws {
        let store = try FindingStore(path: StoreFixtures.temporaryPath("flows.db"))
        try store.beginRun(sources: ["a.pcap"])
        let context = StoreFixtures.flowContext(21, "10.0.0.5", 50100, "10.0.0.20", 502)
        store.emit(StoreFixtures.flowEvent(context, at: 30, history: "ShADadFf", midstream: true, bytes: 2000, alerted: true))
        try store.flush()

        let flow = try #require(try store.flows(matching: FindingQuery()).first)
        #expect(flow.flowID == 21)
        #expect(flow.communityID == "1:test21=")
        #expect(flow.srcIP == "10.0.0.5")
        #expect(flow.srcPort == 50100)
        #expect(flow.destIP == "10.0.0.20")
        #expect(flow.destPort == 502)
        #expect(flow.proto == "TCP")
        #expect(flow.appProto == "modbus")
        #expect(flow.start == Timestamp(seconds: StoreFixtures.baseTime.seconds + 20, nanoseconds: 0))
        #expect(flow.end == Timestamp(seconds: StoreFixtures.baseTime.seconds + 30, nanoseconds: 0))
        #expect(flow.packetsToServer == 6)
        #expect(flow.packetsToClient == 5)
        #expect(flow.bytesToServer == 2000)
        #expect(flow.bytesToClient == 1000)
        #expect(flow.state == "closed")
        #expect(flow.reason == "timeout")
        #expect(flow.connState == "SF")
        #expect(flow.history == "ShADadFf")
        #expect(flow.midstream == true)
        #expect(flow.alerted == true)
    }

    @Test func flowWithoutTimesUsesAge() throws {
        let store = try FindingStore(path: StoreFixtures.temporaryPath("age.db"))
        let context = StoreFixtures.flowContext(22, "10.0.0.5", 50100, "10.0.0.20", 502)
        store.emit(Event(eventType: "flow", timestamp: StoreFixtures.baseTime, flow: context,
                         body: ["flow": .object(["age": 30])]))
        let flow = try #require(try store.flows(matching: FindingQuery()).first)
        #expect(flow.end == StoreFixtures.baseTime)
        #expect(flow.start == Timestamp(seconds: StoreFixtures.baseTime.seconds - 30, nanoseconds: 0))
        // Assets of the open batch are visible to the writer before the batch commits.
        #expect(try store.assets().map(\.ip) == ["10.0.0.5", "10.0.0.20"])
    }

    @Test func operationsAndAssetsRoundTrip() throws {
        let store = try FindingStore(path: StoreFixtures.temporaryPath("operations.db"))
        try store.beginRun(sources: ["a.pcap"])
        let context = StoreFixtures.flowContext(31, "10.0.0.5", 50100, "10.0.0.20", 502)
        store.emit(StoreFixtures.modbusOperation(context, at: 1, name: "write_single_register", operationClass: "write",
                                                 code: 6, record: ["vendor_name": .wire(Array("Schneider Electric".utf8))]))
        store.emit(StoreFixtures.modbusOperation(context, at: 2, name: "write_single_register", operationClass: "write", code: 6))
        try store.flush()

        let counts = try store.operationCounts()
        #expect(counts == [OperationCountRecord(proto: "modbus", srcIP: "10.0.0.5", destIP: "10.0.0.20",
                                                operationClass: "write", name: "write_single_register", count: 2)])
        let assets = try store.assets()
        #expect(assets.map(\.ip) == ["10.0.0.5", "10.0.0.20"])
        #expect(assets[0].roles == ["modbus client"])
        #expect(assets[1].roles == ["modbus server"])
        #expect(assets[1].vendor == "Schneider Electric")
        #expect(assets[1].firstSeen == Timestamp(seconds: StoreFixtures.baseTime.seconds + 1, nanoseconds: 0))
        #expect(assets[1].lastSeen == Timestamp(seconds: StoreFixtures.baseTime.seconds + 2, nanoseconds: 0))
    }

    @Test func runsRecordStatsAndPackets() throws {
        let path = StoreFixtures.temporaryPath("runs.db")
        let store = try StoreFixtures.populatedStore(path: path)
        let runs = try store.runs()
        #expect(runs.count == 2)
        #expect(runs[0].sources == ["plant.pcap"])
        #expect(runs[0].packets == 1234)
        #expect(runs[0].started == StoreFixtures.baseTime)
        #expect(runs[0].finished == Timestamp(seconds: StoreFixtures.baseTime.seconds + 90, nanoseconds: 0))
        #expect(JSONText.object(runs[0].stats["capture"])?["kernel_drops"] == .int(66))
        #expect(runs[1].sources == ["second.pcap"])
        #expect(runs[1].packets == nil)
    }

    @Test func statsEventStoredOnRun() throws {
        let store = try FindingStore(path: StoreFixtures.temporaryPath("stats.db"))
        let runID = try store.beginRun(sources: ["a.pcap"])
        store.emit(Event(eventType: "stats", timestamp: StoreFixtures.baseTime,
                         body: ["stats": .object(["uptime": 5, "decoder": .object(["pkts": 10])])]))
        try store.finishRun()
        let run = try #require(try store.runs().first { $0.id == runID })
        #expect(run.stats["uptime"] == .int(5))
        #expect(store.failedEventCount == 0)
    }

    @Test func assetsPersistAcrossReopen() throws {
        let path = StoreFixtures.temporaryPath("reopen.db")
        try StoreFixtures.populatedStore(path: path).close()
        let reopened = try FindingStore(path: path)
        try reopened.beginRun(sources: ["third.pcap"])
        reopened.emit(StoreFixtures.flowEvent(StoreFixtures.flowContext(9, "10.0.0.5", 1, "10.0.0.20", 502, appProto: "enip"),
                                              at: 9000))
        try reopened.finishRun()
        let asset = try #require(try reopened.assets().first { $0.ip == "10.0.0.20" })
        #expect(asset.roles == ["enip server", "modbus server"])
        #expect(asset.firstSeen == Timestamp(seconds: StoreFixtures.baseTime.seconds + 1, nanoseconds: 0))
    }
}

@Suite struct FindingStoreSchemaTests {
    @Test func newStoreHasCurrentVersion() throws {
        let path = StoreFixtures.temporaryPath("new.db")
        let store = try FindingStore(path: path)
        #expect(try store.connection.scalarInt("SELECT version FROM schema_version") == 2)
        #expect(try store.connection.scalarInt("PRAGMA application_id") == FindingStoreSchema.applicationID)
        let journal = try store.connection.prepare("PRAGMA journal_mode")
        #expect(try journal.step())
        #expect(journal.text(0) == "wal")
        journal.finalize()
    }

    @Test func migratesVersionOneStore() throws {
        let path = StoreFixtures.temporaryPath("v1.db")
        do {
            let raw = try SQLiteConnection(path: path, readOnly: false)
            try raw.execute("PRAGMA application_id = \(FindingStoreSchema.applicationID)")
            try raw.execute(FindingStoreSchema.version1)
            try raw.execute("INSERT INTO runs (id, started, sources) VALUES (1, 0, '[\"old.pcap\"]')")
            try raw.execute("""
                INSERT INTO alerts (run, time, rule, signature_id, signature, severity, src_ip, dest_ip, evidence)
                VALUES (1, 5, 'modbus.write_request', 9100001, 'Modbus write request', 2, '10.0.0.5', '10.0.0.20', '[]')
                """)
            raw.close()
        }

        let store = try FindingStore(path: path)
        #expect(try store.connection.scalarInt("SELECT version FROM schema_version") == 2)
        let old = try #require(try store.alerts(matching: FindingQuery()).first)
        #expect(old.rule == "modbus.write_request")
        #expect(old.processExecutable == nil)

        var event = StoreFixtures.alert(StoreFixtures.writeRule, at: 1,
                                        flow: StoreFixtures.flowContext(1, "10.0.0.6", 1, "10.0.0.20", 502), message: "new")
        event.body.set("process", .object(["executable": "/opt/hmi/hmi", "pid": 77]))
        try store.beginRun(sources: ["new.pcap"])
        store.emit(event)
        try store.flush()
        let new = try #require(try store.alerts(matching: FindingQuery(host: "10.0.0.6")).first)
        #expect(new.processExecutable == "/opt/hmi/hmi")
        #expect(new.processPID == 77)
    }

    @Test func rejectsNewerSchema() throws {
        let path = StoreFixtures.temporaryPath("newer.db")
        let store = try FindingStore(path: path)
        try store.connection.execute("UPDATE schema_version SET version = 99")
        try store.close()
        #expect(throws: FindingStoreError.newerSchema(path: path, found: 99, supported: 2)) {
            _ = try FindingStore(path: path)
        }
    }

    @Test func rejectsTextFile() throws {
        let path = StoreFixtures.temporaryPath("notes.txt")
        try "these are not findings\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: FindingStoreError.notAFindingStore(path: path)) {
            _ = try FindingStore(path: path)
        }
    }

    @Test func rejectsOtherSQLiteDatabase() throws {
        let path = StoreFixtures.temporaryPath("other.db")
        let raw = try SQLiteConnection(path: path, readOnly: false)
        try raw.execute("CREATE TABLE inventory (item TEXT)")
        raw.close()
        #expect(throws: FindingStoreError.notAFindingStore(path: path)) {
            _ = try FindingStore(path: path)
        }
    }

    @Test func rejectsUnwritablePath() {
        let path = "/nonexistent-wirecheck-directory/findings.db"
        do {
            _ = try FindingStore(path: path)
            Issue.record("opening \(path) should fail")
        } catch let error as FindingStoreError {
            guard case .cannotOpen(let failedPath, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(failedPath == path)
            #expect(error.description.contains("check that the directory exists"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func closedStoreRejectsRuns() throws {
        let path = StoreFixtures.temporaryPath("closed.db")
        let store = try FindingStore(path: path)
        try store.close()
        #expect(throws: FindingStoreError.notWritable(path: path)) {
            try store.beginRun(sources: [])
        }
        store.emit(StoreFixtures.flowEvent(StoreFixtures.flowContext(1, "10.0.0.5", 1, "10.0.0.20", 502), at: 1))
        #expect(store.failedEventCount == 1)
        #expect(store.lastError as? FindingStoreError == .notWritable(path: path))
    }
}

@Suite struct FindingStoreBatchTests {
    @Test func readerSeesOnlyCommittedBatches() throws {
        let path = StoreFixtures.temporaryPath("concurrent.db")
        let writer = try FindingStore(path: path)
        writer.batchSize = 100
        writer.batchInterval = 3600
        try writer.beginRun(sources: ["live"])
        let reader = try FindingStore(path: path, mode: .readOnly)

        let context = StoreFixtures.flowContext(1, "10.0.0.5", 1, "10.0.0.20", 502)
        for second in 0..<250 {
            writer.emit(StoreFixtures.flowEvent(context, at: Int64(second)))
            if second == 99 {
                // The first batch of 100 committed inside emit.
                #expect(try reader.flows(matching: FindingQuery()).count == 100)
            }
        }
        #expect(try reader.flows(matching: FindingQuery()).count == 200)
        try writer.flush()
        #expect(try reader.flows(matching: FindingQuery()).count == 250)
        #expect(writer.failedEventCount == 0)
        try writer.close()
    }

    @Test func intervalCommitsSmallBatch() throws {
        let path = StoreFixtures.temporaryPath("interval.db")
        let writer = try FindingStore(path: path)
        writer.batchInterval = 0
        let reader = try FindingStore(path: path, mode: .readOnly)
        writer.emit(StoreFixtures.flowEvent(StoreFixtures.flowContext(1, "10.0.0.5", 1, "10.0.0.20", 502), at: 1))
        #expect(try reader.flows(matching: FindingQuery()).count == 1)
    }

    @Test func crashLosesOnlyOpenBatch() throws {
        let path = StoreFixtures.temporaryPath("crash.db")
        let writer = try FindingStore(path: path)
        writer.batchSize = 50
        writer.batchInterval = 3600
        try writer.beginRun(sources: ["crash.pcap"])
        let context = StoreFixtures.flowContext(1, "10.0.0.5", 1, "10.0.0.20", 502)
        for second in 0..<120 {
            writer.emit(StoreFixtures.flowEvent(context, at: Int64(second)))
        }
        writer.emit(StoreFixtures.alert(StoreFixtures.writeRule, at: 200, flow: context, message: "uncommitted"))
        writer.abandonWithoutCommit()

        let reopened = try FindingStore(path: path)
        #expect(try reopened.flows(matching: FindingQuery()).count == 100)
        #expect(try reopened.alerts(matching: FindingQuery()).isEmpty)
        let check = try reopened.connection.prepare("PRAGMA integrity_check")
        #expect(try check.step())
        #expect(check.text(0) == "ok")
        check.finalize()
        #expect(try reopened.runs().map(\.sources) == [["crash.pcap"]])
    }

    @Test func emitWithoutRunStartsOne() throws {
        let store = try FindingStore(path: StoreFixtures.temporaryPath("autorun.db"))
        store.emit(StoreFixtures.flowEvent(StoreFixtures.flowContext(1, "10.0.0.5", 1, "10.0.0.20", 502), at: 1))
        try store.flush()
        #expect(try store.runs().count == 1)
        #expect(store.currentRunID != nil)
    }
}

@Suite struct FindingQueryTests {
    let store: FindingStore
    let base = StoreFixtures.baseTime.seconds

    init() throws {
        store = try StoreFixtures.populatedStore(path: StoreFixtures.temporaryPath("query.db"))
    }

    private func at(_ offset: Int64) -> Timestamp { Timestamp(seconds: base + offset, nanoseconds: 0) }

    @Test func alertsNewestFirst() throws {
        let rules = try store.alerts(matching: FindingQuery()).map(\.message)
        #expect(rules == ["10.0.0.9 wrote register 41 on 10.0.0.20 unit 1",
                          "10.0.0.5 sent a DNP3 cold restart to 10.0.1.30",
                          "10.0.0.5 wrote register 40 on 10.0.0.20 unit 1"])
    }

    @Test func alertsByTimeRange() throws {
        let since = try store.alerts(matching: FindingQuery(since: at(60))).count
        #expect(since == 2)
        let between = try store.alerts(matching: FindingQuery(since: at(0), until: at(60))).count
        #expect(between == 1)
    }

    @Test func alertsByHost() throws {
        #expect(try store.alerts(matching: FindingQuery(host: "10.0.0.20")).count == 2)
        #expect(try store.alerts(matching: FindingQuery(host: "10.0.1.30")).count == 1)
        #expect(try store.alerts(matching: FindingQuery(host: "10.9.9.9")).isEmpty)
    }

    @Test func alertsByProtocol() throws {
        #expect(try store.alerts(matching: FindingQuery(appProto: "dnp3")).map(\.rule) == ["dnp3.cold_restart"])
        #expect(try store.alerts(matching: FindingQuery(appProto: "modbus")).count == 2)
    }

    @Test func alertsBySeverity() throws {
        #expect(try store.alerts(matching: FindingQuery(maxSeverity: 1)).map(\.rule) == ["dnp3.cold_restart"])
        #expect(try store.alerts(matching: FindingQuery(maxSeverity: 2)).count == 2)
        #expect(try store.alerts(matching: FindingQuery(maxSeverity: 3)).count == 3)
    }

    @Test func alertsByRuleName() throws {
        #expect(try store.alerts(matching: FindingQuery(name: "modbus.write_request")).count == 2)
        #expect(try store.alerts(matching: FindingQuery(name: "no.such_rule")).isEmpty)
    }

    @Test func alertsByRunAndLimit() throws {
        #expect(try store.alerts(matching: FindingQuery(runID: 2)).count == 1)
        #expect(try store.alerts(matching: FindingQuery(limit: 2)).count == 2)
    }

    @Test func alertsCombinedFilters() throws {
        let rows = try store.alerts(matching: FindingQuery(host: "10.0.0.20", appProto: "modbus", maxSeverity: 2))
        #expect(rows.map(\.message) == ["10.0.0.5 wrote register 40 on 10.0.0.20 unit 1"])
    }

    @Test func flowsByFilters() throws {
        #expect(try store.flows(matching: FindingQuery()).count == 4)
        #expect(try store.flows(matching: FindingQuery(host: "192.168.1.10")).map(\.appProto) == ["tls"])
        #expect(try store.flows(matching: FindingQuery(appProto: "modbus")).count == 2)
        #expect(try store.flows(matching: FindingQuery(maxSeverity: 1)).map(\.appProto) == ["dnp3"])
        #expect(try store.flows(matching: FindingQuery(name: "modbus.write_request")).count == 2)
        // The DNP3 flow runs from +60 s to +70 s and the TLS flow from +70 s, so only DNP3 overlaps.
        let overlapping = try store.flows(matching: FindingQuery(since: at(65), until: at(69)))
        #expect(overlapping.map(\.appProto) == ["dnp3"])
    }

    @Test func anomaliesByFilters() throws {
        #expect(try store.anomalies(matching: FindingQuery(name: "applayer.modbus.invalid_protocol_id")).count == 1)
        #expect(try store.anomalies(matching: FindingQuery(host: "10.0.0.5", appProto: "modbus")).count == 1)
        #expect(try store.anomalies(matching: FindingQuery(since: at(4))).isEmpty)
        #expect(throws: FindingStoreError.self) {
            _ = try store.anomalies(matching: FindingQuery(maxSeverity: 1))
        }
    }

    @Test func textFiltersParse() throws {
        let now = at(3600)
        let query = try FindingQuery.parse(since: "1h", until: "2025-12-04T10:30:00Z", host: "10.0.0.20", appProto: "modbus",
                                     maxSeverity: "2", now: now)
        #expect(query.since == at(0))
        #expect(query.until == at(1800))
        #expect(query.host == "10.0.0.20")
        #expect(query.maxSeverity == 2)
        #expect(throws: FindingStoreError.self) { _ = try FindingQuery.parse(host: "plc-1") }
        #expect(throws: FindingStoreError.self) { _ = try FindingQuery.parse(maxSeverity: "4") }
        #expect(throws: FindingStoreError.self) { _ = try FindingQuery.parse(since: "yesterday") }
    }

    @Test func hostFilterUsesIndexes() throws {
        let plan = try store.alertQueryPlan(FindingQuery(host: "10.0.0.20", appProto: "modbus", maxSeverity: 2))
        #expect(plan.contains { $0.contains("alerts_src") })
        #expect(plan.contains { $0.contains("alerts_dest") })
        #expect(!plan.contains { $0.hasPrefix("SCAN alerts") })
    }

    @Test func tableRendering() throws {
        let rows = try store.alerts(matching: FindingQuery(runID: 2))
        let table = render(rows, format: .table)
        let lines = table.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("time"))
        #expect(lines[1].contains("10.0.0.9:50400"))
        #expect(lines[1].contains("modbus.write_request"))
    }

    @Test func tableHidesControlCharacters() {
        var record = AnomalyRecord(run: 1, time: .zero, name: "x", type: nil, layer: nil, flowID: nil, srcIP: nil,
                                   srcPort: nil, destIP: nil, destPort: nil, appProto: nil,
                                   message: "name \u{1B}[31mred\u{1B}[0m", evidence: [])
        #expect(!render([record], format: .table).contains("\u{1B}"))
        record.message = String(repeating: "m", count: 200)
        #expect(render([record], format: .table).contains(String(repeating: "m", count: 77) + "..."))
    }

    @Test func jsonLinesRendering() throws {
        let rows = try store.flows(matching: FindingQuery(appProto: "tls"))
        let output = render(rows, format: .jsonLines)
        #expect(output.hasSuffix("}\n"))
        #expect(output.contains("\"dest_ip\":\"192.168.1.10\""))
        #expect(output.contains("\"app_proto\":\"tls\""))
        #expect(output.split(separator: "\n").count == 1)
    }
}

@Suite struct TimeFilterParserTests {
    @Test func parsesDate() throws {
        #expect(try TimeFilterParser.parseISO8601("2025-12-04") == Timestamp(seconds: 1_764_806_400, nanoseconds: 0))
    }

    @Test func parsesOffsetAndFraction() throws {
        let stamp = try TimeFilterParser.parseISO8601("2025-12-04T11:00:00.25+01:00")
        #expect(stamp == Timestamp(seconds: 1_764_842_400, nanoseconds: 250_000_000))
    }

    @Test func parsesRelative() throws {
        let now = Timestamp(seconds: 1_000_000, nanoseconds: 0)
        #expect(try TimeFilterParser.parse("24h", now: now) == Timestamp(seconds: 1_000_000 - 86_400, nanoseconds: 0))
        #expect(try TimeFilterParser.parse("30m", now: now) == Timestamp(seconds: 1_000_000 - 1800, nanoseconds: 0))
        #expect(try TimeFilterParser.parse("2w", now: now) == Timestamp(seconds: 1_000_000 - 1_209_600, nanoseconds: 0))
    }

    @Test func rejectsMalformed() {
        for text in ["", "2025-13-01", "2025-12-04T25:00", "24x", "2025-12-04Tjunk", "-5h"] {
            #expect(throws: FindingStoreError.self, "\(text)") { _ = try TimeFilterParser.parse(text, now: .zero) }
        }
    }
}

@Suite struct FindingStoreScaleTests {
    /// A store of moderate size, checked against a filter computed in memory. The same data
    /// shape at 1M flows is timed by Scripts/benchmarks/store_query.sh, not here.
    @Test func filteredQueryMatchesBruteForce() throws {
        let store = try FindingStore(path: StoreFixtures.temporaryPath("scale.db"))
        store.batchSize = 5000
        try store.beginRun(sources: ["week.pcap"])
        let protocols = ["modbus", "dnp3", "enip", "s7comm", "tls"]
        var expected = 0
        for index in 0..<20_000 {
            let source = "10.1.\(index % 7).\(index % 200 + 1)"
            let destination = "10.2.0.\(index % 50 + 1)"
            let proto = protocols[index % protocols.count]
            let context = StoreFixtures.flowContext(UInt64(index), source, UInt16(40_000 + index % 1000), destination, 502,
                                                    appProto: proto)
            store.emit(StoreFixtures.flowEvent(context, at: Int64(index)))
            if index % 10 == 0 {
                let severity = index % 3 + 1
                store.emit(StoreFixtures.alert(StoreFixtures.writeRule, at: Int64(index), flow: context, message: "m",
                                               severity: severity))
                if (source == "10.2.0.7" || destination == "10.2.0.7") && proto == "modbus" && severity <= 2 { expected += 1 }
            }
        }
        try store.finishRun()
        let rows = try store.alerts(matching: FindingQuery(host: "10.2.0.7", appProto: "modbus", maxSeverity: 2))
        #expect(rows.count == expected)
        #expect(rows.allSatisfy { $0.destIP == "10.2.0.7" })
        #expect(rows.allSatisfy { $0.appProto == "modbus" })
        #expect(rows.allSatisfy { $0.severity <= 2 })
        #expect(try store.flows(matching: FindingQuery(host: "10.2.0.7", appProto: "modbus")).count
                == (0..<20_000).filter { $0 % 50 == 6 && $0 % 5 == 0 }.count)
    }
}

/// Times a host + protocol + severity query on a week-sized store and prints the timings.
/// Runs only when `WIRECHECK_STORE_BENCHMARK` is set to a flow count (for example 1000000),
/// because building the store takes minutes. It asserts correctness, never durations.
@Suite struct FindingStoreBenchmark {
    static let flowCount = Int(ProcessInfo.processInfo.environment["WIRECHECK_STORE_BENCHMARK"] ?? "")

    @Test(.enabled(if: FindingStoreBenchmark.flowCount != nil, "set WIRECHECK_STORE_BENCHMARK to a flow count"))
    func weekOfFlows() throws {
        let flowCount = try #require(FindingStoreBenchmark.flowCount)
        let alertEvery = 10
        let path = StoreFixtures.temporaryPath("benchmark.db")
        let store = try FindingStore(path: path)
        store.batchSize = 10_000
        let protocols = ["modbus", "dnp3", "enip", "s7comm", "iec104", "bacnet", "opcua", "tls"]
        let secondsPerWeek = 7 * 86_400
        let insertStart = Date()
        try store.beginRun(sources: ["week.pcap"])
        var expected = 0, expectedFlows = 0, alertCount = 0
        for index in 0..<flowCount {
            // A multiplicative hash spreads hosts, protocols and severities independently of one
            // another: 2000 clients, 200 servers and 8 protocols over a week.
            let mixed = (UInt64(index) &* 2_654_435_761) & 0xFFFF_FFFF
            let source = "10.\(1 + mixed % 4).\(mixed / 4 % 50).\(1 + mixed / 200 % 10)"
            let destination = "10.50.0.\(1 + (mixed >> 8) % 200)"
            let proto = protocols[Int((mixed >> 16) % UInt64(protocols.count))]
            let second = Int64(index) * Int64(secondsPerWeek) / Int64(flowCount)
            let context = StoreFixtures.flowContext(UInt64(index), source, UInt16(1024 + index % 60_000), destination, 502,
                                                    appProto: proto)
            store.emit(StoreFixtures.flowEvent(context, at: second))
            if (mixed >> 20) % UInt64(alertEvery) == 0 {
                let severity = Int((mixed >> 24) % 3) + 1
                store.emit(StoreFixtures.alert(StoreFixtures.writeRule, at: second, flow: context, message: "benchmark",
                                               severity: severity))
                alertCount += 1
                if destination == "10.50.0.42" && proto == "modbus" && severity <= 2 { expected += 1 }
            }
            if destination == "10.50.0.42" && proto == "modbus" { expectedFlows += 1 }
        }
        try store.finishRun()
        let insertSeconds = Date().timeIntervalSince(insertStart)

        let queryStart = Date()
        let rows = try store.alerts(matching: FindingQuery(host: "10.50.0.42", appProto: "modbus", maxSeverity: 2))
        let querySeconds = Date().timeIntervalSince(queryStart)
        let flowQueryStart = Date()
        let flows = try store.flows(matching: FindingQuery(host: "10.50.0.42", appProto: "modbus"))
        let flowQuerySeconds = Date().timeIntervalSince(flowQueryStart)
        let reportStart = Date()
        _ = try store.alerts(matching: FindingQuery(since: StoreFixtures.baseTime.adding(seconds: 86_400),
                                                    until: StoreFixtures.baseTime.adding(seconds: 90_000)))
        let rangeSeconds = Date().timeIntervalSince(reportStart)
        print("store benchmark: \(flowCount) flows, \(alertCount) alerts; insert \(insertSeconds) s; "
              + "alert host+proto+severity query \(querySeconds) s (\(rows.count) rows); "
              + "flow host+proto query \(flowQuerySeconds) s (\(flows.count) rows); alert 1 h range \(rangeSeconds) s")
        #expect(rows.count == expected)
        #expect(flows.count == expectedFlows)
        #expect(store.failedEventCount == 0)
    }
}
