import Foundation
import Testing
import WirecheckCore
@testable import WirecheckHosts
import CPcap

private let engineering = IPAddress("10.0.0.5")!
private let plc = IPAddress("10.0.0.20")!
private let base = Timestamp(seconds: 1_700_000_000, nanoseconds: 0)

private func source(_ line: Int) -> TelemetrySource {
    TelemetrySource(file: "test", location: "line \(line)")
}

private func connection(at offset: Double, localPort: UInt16 = 50000, pid: Int = 4242, guid: String? = nil,
                        executable: String = "C:\\Tools\\modpoll.exe", host: String = "eng-ws",
                        direction: ConnectionDirection = .initiated, line: Int = 1) -> ConnectionRecord {
    ConnectionRecord(time: base.adding(seconds: offset), transport: .tcp,
                     localAddress: direction == .initiated ? engineering : plc,
                     localPort: direction == .initiated ? localPort : 502,
                     remoteAddress: direction == .initiated ? plc : engineering,
                     remotePort: direction == .initiated ? 502 : localPort,
                     direction: direction, hostName: host, pid: pid, processGUID: guid, executable: executable,
                     user: "PLANT\\engineer", source: source(line))
}

private func telemetry(connections: [ConnectionRecord], processes: [ProcessRecord] = [],
                       dns: [DNSQueryRecord] = []) -> HostTelemetryLoad {
    var load = HostTelemetryLoad()
    load.connections = connections
    load.processes = processes
    load.dnsQueries = dns
    return load
}

private func attribute(_ attributor: ProcessAttributor, at offset: Double, clientPort: UInt16 = 50000) -> Attribution? {
    attributor.attribute(transport: .tcp, clientIP: engineering, clientPort: clientPort, serverIP: plc, serverPort: 502,
                         start: base.adding(seconds: offset))
}

@Suite struct ProcessAttributionTests {
    @Test func exactMatch() throws {
        let parent = ProcessRecord(hostName: "eng-ws", pid: 100, executable: "C:\\Windows\\System32\\cmd.exe", source: source(1))
        let child = ProcessRecord(hostName: "eng-ws", pid: 4242, executable: "C:\\Tools\\modpoll.exe",
                                  commandLine: "modpoll -r 40 10.0.0.20", user: "PLANT\\engineer", parentPID: 100,
                                  start: base.adding(seconds: -2), source: source(2))
        let attributor = ProcessAttributor(telemetry: telemetry(connections: [connection(at: 0.4, line: 3)], processes: [parent, child]))
        let attribution = try #require(attribute(attributor, at: 0))
        #expect(attribution.method == .exact)
        #expect(attribution.pid == 4242)
        #expect(attribution.executable == "C:\\Tools\\modpoll.exe")
        #expect(attribution.commandLine == "modpoll -r 40 10.0.0.20")
        #expect(attribution.user == "PLANT\\engineer")
        #expect(attribution.parentPID == 100)
        #expect(attribution.parentExecutable == "C:\\Windows\\System32\\cmd.exe")
        #expect(attribution.hostName == "eng-ws")
        #expect(attribution.direction == .initiated)
        #expect(abs(attribution.deltaSeconds - 0.4) < 1e-9)
        #expect(attribution.connection.source.location == "line 3")
    }

    @Test func withinSkewTolerance() throws {
        let attributor = ProcessAttributor(telemetry: telemetry(connections: [connection(at: -3.5)]))
        let attribution = try #require(attribute(attributor, at: 0))
        #expect(attribution.method == .withinSkew)
        #expect(abs(attribution.deltaSeconds + 3.5) < 1e-9)
    }

    @Test func beyondSkewNoMatch() {
        let attributor = ProcessAttributor(telemetry: telemetry(connections: [connection(at: 5.5)]))
        #expect(attribute(attributor, at: 0) == nil)
        let wider = ProcessAttributor(telemetry: telemetry(connections: [connection(at: 5.5)]), clockSkewTolerance: 10)
        #expect(attribute(wider, at: 0)?.method == .withinSkew)
    }

    @Test func portReusePicksNearestRecord() throws {
        let first = connection(at: 0, pid: 1000, executable: "C:\\old.exe", line: 1)
        let second = connection(at: 4, pid: 2000, executable: "C:\\new.exe", line: 2)
        let attributor = ProcessAttributor(telemetry: telemetry(connections: [first, second]))
        #expect(attribute(attributor, at: 0.2)?.pid == 1000)
        #expect(attribute(attributor, at: 3.9)?.pid == 2000)
    }

    @Test func portReuseRespectsProcessLifetime() throws {
        // The nearer record's process had already exited when the flow started.
        let exited = ProcessRecord(hostName: "eng-ws", pid: 1000, processGUID: "{a}", start: base.adding(seconds: -100),
                                   end: base.adding(seconds: -20), source: source(1))
        let running = ProcessRecord(hostName: "eng-ws", pid: 2000, processGUID: "{b}", start: base.adding(seconds: -10), source: source(2))
        let attributor = ProcessAttributor(telemetry: telemetry(
            connections: [connection(at: 0.1, pid: 1000, guid: "{a}"), connection(at: 3, pid: 2000, guid: "{b}")],
            processes: [exited, running]))
        let attribution = try #require(attribute(attributor, at: 0))
        #expect(attribution.pid == 2000)
        #expect(attribution.method == .withinSkew)
    }

    @Test func unknownHostNoMatch() {
        let attributor = ProcessAttributor(telemetry: telemetry(connections: [connection(at: 0)]))
        let result = attributor.attribute(transport: .tcp, clientIP: IPAddress("10.0.0.99")!, clientPort: 50000,
                                          serverIP: plc, serverPort: 502, start: base)
        #expect(result == nil)
        // Same ports, other transport: no match either.
        let udp = attributor.attribute(transport: .udp, clientIP: engineering, clientPort: 50000, serverIP: plc, serverPort: 502, start: base)
        #expect(udp == nil)
    }

    @Test func serverEndFromAcceptedRecord() throws {
        let accepted = connection(at: 0.2, pid: 4, executable: "C:\\OPC\\server.exe", host: "plc-gw", direction: .accepted)
        let attributor = ProcessAttributor(telemetry: telemetry(connections: [accepted]))
        let attribution = try #require(attribute(attributor, at: 0))
        #expect(attribution.direction == .accepted)
        #expect(attribution.hostName == "plc-gw")
        #expect(attribution.executable == "C:\\OPC\\server.exe")
    }

    @Test func bothLoopbackEnds() throws {
        let loopback = IPAddress("127.0.0.1")!
        let client = ConnectionRecord(time: base, transport: .tcp, localAddress: loopback, localPort: 49675,
                                      remoteAddress: loopback, remotePort: 9299, direction: .initiated, hostName: "w10",
                                      pid: 7836, executable: "C:\\nc.exe", source: source(1))
        let server = ConnectionRecord(time: base.adding(seconds: 0.01), transport: .tcp, localAddress: loopback, localPort: 9299,
                                      remoteAddress: loopback, remotePort: 49675, direction: .accepted, hostName: "w10",
                                      pid: 5252, executable: "C:\\FXSSVC.exe", source: source(2))
        let attributor = ProcessAttributor(telemetry: telemetry(connections: [client, server]))
        let ends = attributor.attributeEnds(transport: .tcp, clientIP: loopback, clientPort: 49675,
                                            serverIP: loopback, serverPort: 9299, start: base)
        #expect(ends.client?.pid == 7836)
        #expect(ends.client?.direction == .initiated)
        #expect(ends.server?.pid == 5252)
        #expect(ends.server?.direction == .accepted)
        let single = attributor.attribute(transport: .tcp, clientIP: loopback, clientPort: 49675,
                                          serverIP: loopback, serverPort: 9299, start: base)
        #expect(single?.pid == 7836)
    }

    @Test func auditdRemoteEndpointMatch() throws {
        let record = ConnectionRecord(time: base.adding(seconds: 0.3), transport: .tcp, localAddress: nil, localPort: nil,
                                      remoteAddress: plc, remotePort: 502, direction: .initiated, hostName: "hist-01",
                                      pid: 3100, executable: "/usr/bin/python3.11", commandLine: "python3 poll.py",
                                      inProgress: true, source: source(9))
        let attributor = ProcessAttributor(telemetry: telemetry(connections: [record]))
        let attribution = try #require(attribute(attributor, at: 0, clientPort: 41234))
        #expect(attribution.method == .remoteEndpoint)
        #expect(attribution.pid == 3100)
        #expect(attribution.commandLine == "python3 poll.py")
        #expect(attribute(attributor, at: 9, clientPort: 41234) == nil)
    }

    @Test func dnsNameForRemoteAddress() throws {
        let query = DNSQueryRecord(time: base.adding(seconds: -1), hostName: "eng-ws", pid: 4242, processGUID: nil,
                                   executable: nil, queryName: "plc-line2.plant.local", addresses: [plc],
                                   canonicalNames: [], source: source(1))
        let otherProcess = DNSQueryRecord(time: base.adding(seconds: -0.5), hostName: "eng-ws", pid: 9, processGUID: nil,
                                          executable: nil, queryName: "wrong.plant.local", addresses: [plc],
                                          canonicalNames: [], source: source(2))
        let attributor = ProcessAttributor(telemetry: telemetry(connections: [connection(at: 0)], dns: [query, otherProcess]))
        #expect(attribute(attributor, at: 0)?.dnsQuery == "plc-line2.plant.local")
    }

    @Test func eveFieldsNested() throws {
        let process = ProcessRecord(hostName: "eng-ws", pid: 4242, commandLine: "modpoll -r 40", parentExecutable: "C:\\cmd.exe",
                                    start: base.adding(seconds: -5), source: source(1))
        let attributor = ProcessAttributor(telemetry: telemetry(connections: [connection(at: 1.5, guid: nil)], processes: [process]))
        let attribution = try #require(attribute(attributor, at: 0))
        let fields = attributor.eveFields(attribution)
        guard case .object(let processObject)? = fields["process"] else {
            Issue.record("process is not an object")
            return
        }
        #expect(processObject["pid"] == .int(4242))
        #expect(processObject["executable"] == .wire(Array("C:\\Tools\\modpoll.exe".utf8)))
        #expect(processObject["command_line"] == .wire(Array("modpoll -r 40".utf8)))
        #expect(processObject["user"] == .string("PLANT\\engineer"))
        #expect(processObject["parent"] == .object(["executable": .wire(Array("C:\\cmd.exe".utf8))]))
        guard case .object(let match)? = processObject["match"] else {
            Issue.record("process.match is not an object")
            return
        }
        #expect(match["method"] == .string("within_skew"))
        #expect(match["delta_seconds"] == .double(1.5))
        #expect(match["direction"] == .string("initiated"))
        #expect(match["record"] == .string("test line 1"))
        #expect(fields["host"] == .object(["name": .string("eng-ws")]))
        #expect(fields["dns"] == nil)
    }

    @Test func coverageSummary() {
        let attributor = ProcessAttributor(telemetry: telemetry(connections: [connection(at: 0)]))
        let hmi = IPAddress("10.0.0.7")!
        var flows: [(client: IPAddress, server: IPAddress, attributed: Bool, isICS: Bool)] = []
        flows.append((engineering, plc, true, true))
        for _ in 0..<5 { flows.append((engineering, plc, false, true)) }
        flows.append((hmi, plc, false, false))
        let coverage = attributor.coverage(flows: flows)
        #expect(coverage.hostsWithTelemetry == [engineering])
        #expect(coverage.hostsWithoutTelemetry == [hmi, plc])
        #expect(coverage.poorlyJoinedHosts == [TelemetryCoverage.HostJoinRate(address: engineering, flows: 6, attributedFlows: 1)])
        #expect(coverage.icsFlows == 6)
        #expect(coverage.attributedICSFlows == 1)
        #expect(coverage.attributedICSShare == 1.0 / 6.0)
    }

    @Test func clockDaysOffFlaggedInCoverage() {
        // A host whose clock is two days off logs every connection far outside the tolerance.
        let twoDays = 2 * 86_400.0
        let records = (0..<6).map { connection(at: twoDays + Double($0) * 10, localPort: UInt16(50000 + $0)) }
        let attributor = ProcessAttributor(telemetry: telemetry(connections: records))
        var flows: [(client: IPAddress, server: IPAddress, attributed: Bool, isICS: Bool)] = []
        for index in 0..<6 {
            let attribution = attribute(attributor, at: Double(index) * 10, clientPort: UInt16(50000 + index))
            #expect(attribution == nil)
            flows.append((engineering, plc, attribution != nil, true))
        }
        let coverage = attributor.coverage(flows: flows)
        #expect(coverage.poorlyJoinedHosts.map(\.address) == [engineering])
        #expect(coverage.attributedICSShare == 0)
    }

    @Test func coverageWellJoinedHostNotListed() {
        let attributor = ProcessAttributor(telemetry: telemetry(connections: [connection(at: 0)]))
        let flows = Array(repeating: (client: engineering, server: plc, attributed: true, isICS: false), count: 6)
        let coverage = attributor.coverage(flows: flows)
        #expect(coverage.poorlyJoinedHosts.isEmpty)
        #expect(coverage.attributedICSShare == nil)
    }

    @Test func joinScalesLinearly() {
        // 200,000 records on distinct ports; each lookup touches one dictionary bucket.
        let records = (0..<200_000).map { index in
            connection(at: Double(index % 100), localPort: UInt16(1024 + index % 60_000), pid: index, line: index)
        }
        let attributor = ProcessAttributor(telemetry: telemetry(connections: records))
        var matched = 0
        for index in 0..<200_000 where attribute(attributor, at: Double(index % 100), clientPort: UInt16(1024 + index % 60_000)) != nil {
            matched += 1
        }
        #expect(matched == 200_000)
    }
}

/// Joins the loopback capture made by Scripts/fixtures/paired_telemetry.py to the Sysmon XML and
/// audit log written alongside it, and checks each Modbus connection finds the true process.
@Suite struct PairedFixtureAttributionTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hosts")

    /// One TCP SYN from the capture: the flow's client and server and its start time.
    struct SYN {
        var client: IPAddress
        var clientPort: UInt16
        var server: IPAddress
        var serverPort: UInt16
        var time: Timestamp
    }

    /// Reads the SYN packets of an Ethernet/IPv4 capture by fixed offsets; a test helper only.
    static func synPackets(_ path: String) throws -> [SYN] {
        var errorBuffer = [CChar](repeating: 0, count: 256)
        let handle = try #require(pcap_open_offline(path, &errorBuffer))
        defer { pcap_close(handle) }
        #expect(pcap_datalink(handle) == 1, "expected an Ethernet capture")
        var result: [SYN] = []
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        while pcap_next_ex(handle, &header, &data) == 1 {
            guard let header, let data else { continue }
            let bytes = Array(UnsafeBufferPointer(start: data, count: Int(header.pointee.caplen)))
            guard bytes.count >= 54, bytes[12] == 0x08, bytes[13] == 0x00, bytes[23] == 6 else { continue }
            let ipHeaderLength = Int(bytes[14] & 0x0f) * 4
            let tcp = 14 + ipHeaderLength
            guard bytes.count >= tcp + 14, bytes[tcp + 13] & 0x12 == 0x02 else { continue }
            func address(_ offset: Int) -> IPAddress {
                .v4(UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3]))
            }
            func port(_ offset: Int) -> UInt16 { UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1]) }
            let time = Timestamp(seconds: Int64(header.pointee.ts.tv_sec), nanoseconds: Int64(header.pointee.ts.tv_usec) * 1000)
            result.append(SYN(client: address(26), clientPort: port(tcp), server: address(30), serverPort: port(tcp + 2), time: time))
        }
        return result
    }

    /// Expected owners from paired_expected.tsv: (local port, peer port) -> (pid, command line).
    static func expectedOwners() throws -> [String: (pid: Int, commandLine: String)] {
        let text = try String(contentsOf: fixtures.appendingPathComponent("paired_expected.tsv"), encoding: .utf8)
        var owners: [String: (Int, String)] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard columns.count == 5, let pid = Int(columns[0]) else { continue }
            owners["\(columns[1])>\(columns[2])"] = (pid, String(columns[4]))
        }
        return owners
    }

    @Test func sysmonJoinsEveryModbusConnection() throws {
        let syns = try Self.synPackets(Self.fixtures.appendingPathComponent("paired_loopback.pcap").path)
        #expect(syns.count == 4)
        let owners = try Self.expectedOwners()
        let load = HostTelemetry.load(paths: [Self.fixtures.appendingPathComponent("paired_sysmon.xml").path])
        #expect(load.problemCount == 0)
        let attributor = ProcessAttributor(telemetry: load)
        for syn in syns {
            let ends = attributor.attributeEnds(transport: .tcp, clientIP: syn.client, clientPort: syn.clientPort,
                                                serverIP: syn.server, serverPort: syn.serverPort, start: syn.time)
            let clientOwner = try #require(owners["\(syn.clientPort)>\(syn.serverPort)"])
            let serverOwner = try #require(owners["\(syn.serverPort)>\(syn.clientPort)"])
            #expect(ends.client?.pid == clientOwner.pid, "client port \(syn.clientPort)")
            #expect(ends.client?.method == .exact)
            // The expected table writes newlines inside `python3 -c` code as spaces.
            #expect(ends.client?.commandLine?.replacingOccurrences(of: "\n", with: " ") == clientOwner.commandLine)
            #expect(ends.client?.executable?.hasSuffix("python3.11") == true)
            #expect(ends.server?.pid == serverOwner.pid, "server side of client port \(syn.clientPort)")
            #expect(ends.server?.direction == .accepted)
        }
    }

    @Test func auditdJoinsEveryModbusConnection() throws {
        let syns = try Self.synPackets(Self.fixtures.appendingPathComponent("paired_loopback.pcap").path)
        let owners = try Self.expectedOwners()
        let load = HostTelemetry.load(paths: [Self.fixtures.appendingPathComponent("paired_audit.log").path])
        #expect(load.problemCount == 0)
        #expect(load.connections.count == 8)
        let attributor = ProcessAttributor(telemetry: load)
        for syn in syns {
            let ends = attributor.attributeEnds(transport: .tcp, clientIP: syn.client, clientPort: syn.clientPort,
                                                serverIP: syn.server, serverPort: syn.serverPort, start: syn.time)
            let clientOwner = try #require(owners["\(syn.clientPort)>\(syn.serverPort)"])
            let serverOwner = try #require(owners["\(syn.serverPort)>\(syn.clientPort)"])
            // connect() records name only the server, so the client end is found by time.
            #expect(ends.client?.pid == clientOwner.pid, "client port \(syn.clientPort)")
            #expect(ends.client?.method == .remoteEndpoint)
            #expect(ends.client?.hostName == "wirecheck-lab")
            #expect(ends.server?.pid == serverOwner.pid)
        }
    }
}

/// Joins the public paired captures to the telemetry recorded during the same runs, when the
/// samples kept outside the repository are present.
@Suite struct PairedSampleAttributionTests {
    struct Expectation {
        var clientPort: UInt16
        var serverPort: UInt16
        var clientExecutable: String?
        var serverExecutable: String?
    }

    /// Returns "client-executable | server-executable" names for each SYN, printing every join.
    static func join(capture: String, telemetry: [String]) throws -> [String: FlowAttribution] {
        let root = try #require(HostTelemetrySampleFileTests.samplesPath)
        let load = HostTelemetry.load(paths: telemetry.map { root + "/" + $0 })
        let attributor = ProcessAttributor(telemetry: load)
        var result: [String: FlowAttribution] = [:]
        for syn in try PairedFixtureAttributionTests.synPackets(root + "/" + capture) {
            let ends = attributor.attributeEnds(transport: .tcp, clientIP: syn.client, clientPort: syn.clientPort,
                                                serverIP: syn.server, serverPort: syn.serverPort, start: syn.time)
            func describe(_ attribution: Attribution?) -> String {
                guard let attribution else { return "none" }
                return "\(attribution.executable ?? "?") (\(attribution.method.rawValue), \(String(format: "%+.2f", attribution.deltaSeconds)) s)"
            }
            print("paired join \(capture): \(syn.client):\(syn.clientPort) -> \(syn.server):\(syn.serverPort): client \(describe(ends.client)), server \(describe(ends.server))")
            result["\(syn.clientPort)>\(syn.serverPort)"] = ends
        }
        return result
    }

    static func check(_ joins: [String: FlowAttribution], _ expectations: [Expectation]) {
        for expected in expectations {
            let ends = joins["\(expected.clientPort)>\(expected.serverPort)"]
            #expect(ends != nil, "no SYN for \(expected.clientPort) -> \(expected.serverPort)")
            if let name = expected.clientExecutable {
                #expect(ends?.client?.executable?.lowercased().hasSuffix(name.lowercased()) == true,
                        "client of \(expected.clientPort) -> \(expected.serverPort): \(ends?.client?.executable ?? "none")")
            }
            if let name = expected.serverExecutable {
                #expect(ends?.server?.executable?.lowercased().hasSuffix(name.lowercased()) == true,
                        "server of \(expected.clientPort) -> \(expected.serverPort): \(ends?.server?.executable ?? "none")")
            }
        }
    }

    @Test(.enabled(if: HostTelemetrySampleFileTests.samplesPresent)) func log4ShellTomcatAndPowerShell() throws {
        let joins = try Self.join(capture: "paired-captures/pcap_log4shell_cve2021_44228_java_serialized_2022-05-13045800.pcapng",
                                  telemetry: ["loganalytics-json/sysmon_log4shell_cve2021_44228_java_serialized_object_2022-05-13045800.json"])
        Self.check(joins, [
            Expectation(clientPort: 50452, serverPort: 8080, clientExecutable: nil, serverExecutable: "tomcat9.exe"),
            Expectation(clientPort: 54225, serverPort: 1389, clientExecutable: "tomcat9.exe", serverExecutable: nil),
            Expectation(clientPort: 54226, serverPort: 443, clientExecutable: "powershell.exe", serverExecutable: nil),
        ])
    }

    @Test(.enabled(if: HostTelemetrySampleFileTests.samplesPresent)) func covenantBothHostsWithSkew() throws {
        let joins = try Self.join(capture: "paired-captures/covenant_copy_smb_CreateRequest_2020-09-22145302.cap",
                                  telemetry: ["nxlog-json/covenant_copy_smb_CreateRequest_2020-09-22145302.json"])
        // The SMB session is logged by both hosts, whose clocks differ by about 1.9 s.
        Self.check(joins, [
            Expectation(clientPort: 62782, serverPort: 445, clientExecutable: "System", serverExecutable: "System"),
            Expectation(clientPort: 62783, serverPort: 88, clientExecutable: "lsass.exe", serverExecutable: nil),
        ])
        #expect(joins["62782>445"]?.server?.method == .withinSkew)
    }

    @Test(.enabled(if: HostTelemetrySampleFileTests.samplesPresent)) func psexecSourceAndTarget() throws {
        let telemetry = ["nxlog-json/empire_psexec_dcerpc_tcp_svcctl_2020-09-20121608.json.gz"]
        let source = try Self.join(capture: "paired-captures/empire_psexec_dcerpc_tcp_svcctl_WORKSTATION5_2020-09-20121608.cap",
                                   telemetry: telemetry)
        Self.check(source, [
            Expectation(clientPort: 56607, serverPort: 135, clientExecutable: "powershell.exe", serverExecutable: nil),
            Expectation(clientPort: 56608, serverPort: 49726, clientExecutable: "powershell.exe", serverExecutable: nil),
        ])
        // Sysmon logged the initiator 2.3 s after the first packet.
        #expect(source["56607>135"]?.client?.method == .withinSkew)
        _ = try Self.join(capture: "paired-captures/empire_psexec_dcerpc_tcp_svcctl_WORKSTATION6_2020-09-20121608.cap",
                          telemetry: telemetry)
    }
}
