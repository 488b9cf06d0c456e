import Foundation
import Testing
import WirecheckCore
@testable import WirecheckHosts

private func loadText(_ text: String) -> HostTelemetryLoad {
    HostTelemetry.load(text: text, name: "inline")
}

private func time(_ text: String) -> Timestamp {
    TimeParser.parse(text)!
}

@Suite struct SysmonXMLTests {
    static let networkAccepted = """
    <Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/><EventID>3</EventID><TimeCreated SystemTime='2019-03-18T16:57:38.1234567Z'/><EventRecordID>7</EventRecordID><Computer>hmi-01</Computer></System><EventData><Data Name='RuleName'></Data><Data Name='UtcTime'>2019-03-18 16:57:37.500</Data><Data Name='ProcessGuid'>{42F11C3B-0BAD-5C8C-0000-0010DFBC0000}</Data><Data Name='ProcessId'>924</Data><Data Name='Image'>C:\\Windows\\System32\\svchost.exe</Data><Data Name='User'>NT AUTHORITY\\NETWORK SERVICE</Data><Data Name='Protocol'>tcp</Data><Data Name='Initiated'>false</Data><Data Name='SourceIsIpv6'>false</Data><Data Name='SourceIp'>10.0.0.20</Data><Data Name='SourceHostname'></Data><Data Name='SourcePort'>50452</Data><Data Name='DestinationIsIpv6'>false</Data><Data Name='DestinationIp'>10.0.0.5</Data><Data Name='DestinationPort'>502</Data></EventData></Event>
    """

    @Test func networkConnectionAcceptedFields() throws {
        let load = loadText(Self.networkAccepted)
        #expect(load.files.first?.format == .sysmonXML)
        #expect(load.connections.count == 1)
        let record = try #require(load.connections.first)
        #expect(record.time == time("2019-03-18 16:57:37.500"))
        #expect(record.transport == .tcp)
        #expect(record.direction == .accepted)
        // Initiated=false: Source is the remote side, Destination the local one.
        #expect(record.localAddress == IPAddress("10.0.0.5"))
        #expect(record.localPort == 502)
        #expect(record.remoteAddress == IPAddress("10.0.0.20"))
        #expect(record.remotePort == 50452)
        #expect(record.hostName == "hmi-01")
        #expect(record.pid == 924)
        #expect(record.processGUID == "{42f11c3b-0bad-5c8c-0000-0010dfbc0000}")
        #expect(record.executable == "C:\\Windows\\System32\\svchost.exe")
        #expect(record.user == "NT AUTHORITY\\NETWORK SERVICE")
        #expect(record.source.location == "line 1")
    }

    @Test func processCreateInEventsDocument() throws {
        let document = """
        <?xml version="1.0" encoding="utf-8"?>
        <Events>
        <Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Sysmon"/><EventID>1</EventID><Computer>eng-ws</Computer></System><EventData><Data Name="UtcTime">2024-05-01 08:00:01.250</Data><Data Name="ProcessGuid">{aaaa0000-0000-0000-0000-000000000001}</Data><Data Name="ProcessId">4242</Data><Data Name="Image">C:\\Tools\\modpoll.exe</Data><Data Name="CommandLine">modpoll.exe -r 40 &quot;10.0.0.20&quot; &amp;&amp; echo &lt;done&gt; &#x41;&#66;</Data><Data Name="User">PLANT\\engineer</Data><Data Name="ParentProcessGuid">{aaaa0000-0000-0000-0000-000000000002}</Data><Data Name="ParentProcessId">100</Data><Data Name="ParentImage">C:\\Windows\\System32\\cmd.exe</Data><Data Name="ParentCommandLine">cmd.exe /c run.bat</Data></EventData></Event>
        <Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Sysmon"/><EventID>5</EventID><Computer>eng-ws</Computer></System><EventData><Data Name="UtcTime">2024-05-01 08:00:09.000</Data><Data Name="ProcessGuid">{aaaa0000-0000-0000-0000-000000000001}</Data><Data Name="ProcessId">4242</Data><Data Name="Image">C:\\Tools\\modpoll.exe</Data></EventData></Event>
        </Events>
        """
        let load = loadText(document)
        #expect(load.processes.count == 2)
        let created = try #require(load.processes.first)
        #expect(created.hostName == "eng-ws")
        #expect(created.pid == 4242)
        #expect(created.processGUID == "{aaaa0000-0000-0000-0000-000000000001}")
        #expect(created.executable == "C:\\Tools\\modpoll.exe")
        #expect(created.commandLine == "modpoll.exe -r 40 \"10.0.0.20\" && echo <done> AB")
        #expect(created.user == "PLANT\\engineer")
        #expect(created.parentPID == 100)
        #expect(created.parentExecutable == "C:\\Windows\\System32\\cmd.exe")
        #expect(created.parentCommandLine == "cmd.exe /c run.bat")
        #expect(created.start == time("2024-05-01 08:00:01.250"))
        #expect(created.source.location == "line 3")
        let ended = load.processes[1]
        #expect(ended.end == time("2024-05-01 08:00:09.000"))
        #expect(ended.start == nil)
        #expect(load.files.first?.processRecords == 1)
        #expect(load.files.first?.processEndRecords == 1)
    }

    @Test func dnsQueryResults() throws {
        let event = """
        <Event><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>22</EventID><Computer>ws5</Computer></System><EventData><Data Name='UtcTime'>2020-10-22 06:21:37.328</Data><Data Name='ProcessGuid'>{00000000-0000-0000-0000-000000000000}</Data><Data Name='ProcessId'>10076</Data><Data Name='QueryName'>raw.githubusercontent.com</Data><Data Name='QueryStatus'>0</Data><Data Name='QueryResults'>type:  5 github.map.fastly.net;::ffff:151.101.248.133;2a04:4e42::133;</Data><Data Name='Image'>&lt;unknown process&gt;</Data></EventData></Event>
        """
        let load = loadText(event)
        let query = try #require(load.dnsQueries.first)
        #expect(query.queryName == "raw.githubusercontent.com")
        #expect(query.addresses == [IPAddress("151.101.248.133")!, IPAddress("2a04:4e42::133")!])
        #expect(query.canonicalNames == ["github.map.fastly.net"])
        #expect(query.pid == 10076)
        #expect(query.processGUID == nil)
        #expect(query.executable == nil)
        #expect(query.hostName == "ws5")
    }

    @Test func otherProvidersAndEventsSkipped() {
        let events = """
        <Event><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>1</EventID></System><EventData><Data Name='ProcessId'>1</Data></EventData></Event>
        <Event><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>7</EventID></System><EventData/></Event>
        """
        let load = loadText(events)
        #expect(load.processes.isEmpty)
        #expect(load.files.first?.otherRecords == 2)
        #expect(load.problemCount == 0)
    }

    @Test func truncatedEventReported() {
        let load = loadText("<Event><System><EventID>3</EventID></System><EventData><Data Name='UtcTime'>2020")
        #expect(load.problemCount == 1)
        #expect(load.problems.first?.reason.contains("truncated") == true)
        #expect(load.problems.first?.location == "line 1")
    }

    @Test func invalidAddressNamesValue() {
        let event = "<Event><System><EventID>3</EventID></System><EventData><Data Name='UtcTime'>2020-01-01 00:00:00.000</Data><Data Name='Protocol'>tcp</Data><Data Name='SourceIp'>10.0.0.300</Data><Data Name='SourcePort'>1</Data><Data Name='DestinationIp'>10.0.0.1</Data><Data Name='DestinationPort'>2</Data></EventData></Event>"
        let load = loadText(event)
        #expect(load.connections.isEmpty)
        #expect(load.problems.first?.reason == "network connection with invalid SourceIp '10.0.0.300'")
    }
}

@Suite struct SysmonQuirkTests {
    private static func connection(sourceIP: String, sourceIsIPv6: String, destinationIP: String, destinationIsIPv6: String,
                                   image: String = "C:\\x.exe", user: String = "U") -> String {
        "<Event><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>3</EventID><Computer>vagrant</Computer></System><EventData><Data Name='UtcTime'>2019-03-18 16:57:47.847</Data><Data Name='ProcessId'>924</Data><Data Name='Image'>\(image)</Data><Data Name='User'>\(user)</Data><Data Name='Protocol'>udp</Data><Data Name='Initiated'>true</Data><Data Name='SourceIsIpv6'>\(sourceIsIPv6)</Data><Data Name='SourceIp'>\(sourceIP)</Data><Data Name='SourcePort'>62141</Data><Data Name='DestinationIsIpv6'>\(destinationIsIPv6)</Data><Data Name='DestinationIp'>\(destinationIP)</Data><Data Name='DestinationPort'>53</Data></EventData></Event>"
    }

    @Test func malformedIPv6RepairedToIPv4() throws {
        let load = loadText(Self.connection(sourceIP: "a00:20f:0:0:18a2:6e00:e0:ffff", sourceIsIPv6: "true",
                                            destinationIP: "e000:fc:4300:6800:ffff:ffff:0:0", destinationIsIPv6: "true"))
        let record = try #require(load.connections.first)
        #expect(record.localAddress == IPAddress("10.0.2.15"))
        #expect(record.remoteAddress == IPAddress("224.0.0.252"))
        #expect(record.transport == .udp)
    }

    @Test func realIPv6KeptIncludingUncompressed() throws {
        let load = loadText(Self.connection(sourceIP: "0:0:0:0:0:0:0:1", sourceIsIPv6: "true",
                                            destinationIP: "fe80:0:0:0:8d5f:1a2b:3c4d:5e6f", destinationIsIPv6: "true"))
        let record = try #require(load.connections.first)
        #expect(record.localAddress == IPAddress("::1"))
        #expect(record.remoteAddress == IPAddress("fe80::8d5f:1a2b:3c4d:5e6f"))
    }

    @Test func unknownProcessAndDashUser() throws {
        let load = loadText(Self.connection(sourceIP: "192.168.2.5", sourceIsIPv6: "false", destinationIP: "151.101.248.133",
                                            destinationIsIPv6: "false", image: "&lt;unknown process&gt;", user: "-"))
        let record = try #require(load.connections.first)
        #expect(record.executable == nil)
        #expect(record.user == nil)
        #expect(record.pid == 924)
    }

    @Test func allZeroAddressesKept() throws {
        let load = loadText(Self.connection(sourceIP: "0.0.0.0", sourceIsIPv6: "false", destinationIP: "0.0.0.0", destinationIsIPv6: "false"))
        let record = try #require(load.connections.first)
        #expect(record.localAddress == IPAddress("0.0.0.0"))
        #expect(load.problemCount == 0)
    }

    @Test func bothLoopbackEndsLogged() throws {
        let initiator = "<Event><System><EventID>3</EventID><Computer>w10</Computer></System><EventData><Data Name='UtcTime'>2020-01-01 10:00:00.000</Data><Data Name='ProcessId'>7836</Data><Data Name='Image'>C:\\nc.exe</Data><Data Name='Protocol'>tcp</Data><Data Name='Initiated'>true</Data><Data Name='SourceIp'>127.0.0.1</Data><Data Name='SourcePort'>49675</Data><Data Name='DestinationIp'>127.0.0.1</Data><Data Name='DestinationPort'>9299</Data></EventData></Event>"
        let listener = "<Event><System><EventID>3</EventID><Computer>w10</Computer></System><EventData><Data Name='UtcTime'>2020-01-01 10:00:00.010</Data><Data Name='ProcessId'>5252</Data><Data Name='Image'>C:\\FXSSVC.exe</Data><Data Name='Protocol'>tcp</Data><Data Name='Initiated'>false</Data><Data Name='SourceIp'>127.0.0.1</Data><Data Name='SourcePort'>49675</Data><Data Name='DestinationIp'>127.0.0.1</Data><Data Name='DestinationPort'>9299</Data></EventData></Event>"
        let load = loadText(initiator + "\n" + listener)
        #expect(load.connections.count == 2)
        #expect(load.connections[0].localPort == 49675)
        #expect(load.connections[0].direction == .initiated)
        #expect(load.connections[1].localPort == 9299)
        #expect(load.connections[1].remotePort == 49675)
        #expect(load.connections[1].direction == .accepted)
    }

    @Test func nxlogGUIDWithoutProcessID() throws {
        let line = #"{"EventID": 3, "SourceName": "Microsoft-Windows-Sysmon", "Hostname": "WORKSTATION6.theshire.local", "ProcessGuid": "{d273d0f0-63ce-5f69-940c-000000000800}", "Image": "C:\\Users\\sbeavers\\Desktop\\Rubeus.exe", "User": "THESHIRE\\wardog", "Protocol": "tcp", "Initiated": "true", "SourceIsIpv6": "false", "SourceIp": "172.18.39.6", "SourcePort": "53409", "DestinationIsIpv6": "false", "DestinationIp": "172.18.38.5", "DestinationPort": "88", "UtcTime": "2020-09-22 02:39:12.251", "EventTime": "2020-09-21 22:39:14", "RuleName": "-"}"#
        let load = loadText(line)
        #expect(load.files.first?.format == .flatJSON)
        let record = try #require(load.connections.first)
        #expect(record.pid == nil)
        #expect(record.processGUID == "{d273d0f0-63ce-5f69-940c-000000000800}")
        #expect(record.hostName == "WORKSTATION6.theshire.local")
        #expect(record.executable == "C:\\Users\\sbeavers\\Desktop\\Rubeus.exe")
        #expect(record.localAddress == IPAddress("172.18.39.6"))
        #expect(record.localPort == 53409)
        #expect(record.remoteAddress == IPAddress("172.18.38.5"))
        #expect(record.remotePort == 88)
        // UtcTime, not the local-time EventTime, sets the record time.
        #expect(record.time == time("2020-09-22 02:39:12.251"))
    }
}

@Suite struct SysmonJSONTests {
    @Test func ecsNetworkConnection() throws {
        let line = #"{"@timestamp":"2019-03-18T16:57:47.847Z","destination":{"ip":"40.77.226.250","port":443},"event":{"code":3,"module":"sysmon"},"host":{"name":"vagrant-2012-r2"},"network":{"direction":"egress","transport":"tcp"},"process":{"entity_id":"{42f11c3b-0bad-5c8c-0000-0010dfbc0000}","executable":"C:\\chrome.exe","pid":1600},"source":{"ip":"10.0.2.15","port":1138},"user":{"domain":"VAGRANT-2012-R2","name":"vagrant"},"winlog":{"computer_name":"vagrant-2012-r2","event_id":3,"provider_name":"Microsoft-Windows-Sysmon"}}"#
        let load = loadText(line)
        #expect(load.files.first?.format == .ecsJSON)
        let record = try #require(load.connections.first)
        #expect(record.time == time("2019-03-18T16:57:47.847Z"))
        #expect(record.pid == 1600)
        #expect(record.processGUID == "{42f11c3b-0bad-5c8c-0000-0010dfbc0000}")
        #expect(record.executable == "C:\\chrome.exe")
        #expect(record.user == "VAGRANT-2012-R2\\vagrant")
        #expect(record.direction == .initiated)
        #expect(record.localAddress == IPAddress("10.0.2.15"))
        #expect(record.localPort == 1138)
        #expect(record.remoteAddress == IPAddress("40.77.226.250"))
        #expect(record.remotePort == 443)
        #expect(record.hostName == "vagrant-2012-r2")
    }

    @Test func ecsProcessCreateInArray() throws {
        let document = #"""
        [
          {"@timestamp": "2019-03-18T16:57:37.949Z", "process": {"command_line": "C:\\Windows\\Sysmon.exe", "entity_id": "{42f11c3b-ce01-5c8f-0000-0010c73e2a00}", "executable": "C:\\Windows\\Sysmon.exe", "parent": {"command_line": "C:\\Windows\\system32\\services.exe", "executable": "C:\\Windows\\System32\\services.exe", "pid": 488}, "pid": 4860},
           "user": {"domain": "NT AUTHORITY", "name": "SYSTEM"}, "winlog": {"computer_name": "vagrant-2012-r2", "event_id": 1, "provider_name": "Microsoft-Windows-Sysmon", "event_data": {"LogonId": "0x3e7"}}}
        ]
        """#
        let load = loadText(document)
        let record = try #require(load.processes.first)
        #expect(record.pid == 4860)
        #expect(record.commandLine == "C:\\Windows\\Sysmon.exe")
        #expect(record.parentPID == 488)
        #expect(record.parentExecutable == "C:\\Windows\\System32\\services.exe")
        #expect(record.parentCommandLine == "C:\\Windows\\system32\\services.exe")
        #expect(record.user == "NT AUTHORITY\\SYSTEM")
        #expect(record.start == time("2019-03-18T16:57:37.949Z"))
        #expect(record.source.location == "element 0")
    }

    @Test func ecsIngressIsAccepted() throws {
        let line = #"{"@timestamp":"2019-03-18T16:57:47.847Z","destination":{"ip":"10.0.0.5","port":502},"network":{"direction":"ingress","transport":"tcp"},"process":{"pid":4},"source":{"ip":"10.0.0.20","port":40000},"winlog":{"event_id":3,"provider_name":"Microsoft-Windows-Sysmon"}}"#
        let record = try #require(loadText(line).connections.first)
        #expect(record.direction == .accepted)
        #expect(record.localAddress == IPAddress("10.0.0.5"))
        #expect(record.localPort == 502)
    }

    @Test func winlogbeat6NetworkConnection() throws {
        let line = #"{"@timestamp": "2019-05-18T20:36:46.254Z", "source_name": "Microsoft-Windows-Sysmon", "log_name": "Microsoft-Windows-Sysmon/Operational", "event_id": 3, "computer_name": "HFDC01.shire.com", "event_data": {"ProcessGuid": "{905CC552-2045-5CC5-0000-00105B2A0100}", "ProcessId": "292", "Initiated": "true", "SourceIp": "172.18.39.5", "User": "NT AUTHORITY\\NETWORK SERVICE", "Image": "C:\\Windows\\System32\\svchost.exe", "DestinationIp": "172.18.39.102", "SourcePort": "57638", "DestinationPort": "5985", "UtcTime": "2019-05-18 20:35:52.569", "Protocol": "tcp", "SourceIsIpv6": "false", "DestinationIsIpv6": "false"}, "host": {"name": "WECserver"}}"#
        let load = loadText(line)
        #expect(load.files.first?.format == .winlogbeat6JSON)
        let record = try #require(load.connections.first)
        #expect(record.hostName == "HFDC01.shire.com")
        #expect(record.pid == 292)
        #expect(record.processGUID == "{905cc552-2045-5cc5-0000-00105b2a0100}")
        #expect(record.localPort == 57638)
        #expect(record.remoteAddress == IPAddress("172.18.39.102"))
        #expect(record.remotePort == 5985)
        #expect(record.time == time("2019-05-18 20:35:52.569"))
    }

    @Test func logAnalyticsEmbeddedEventData() throws {
        let line = #"{"TenantId":"redacted","TimeGenerated":"2022-05-13T08:54:06.347Z","Provider":"Microsoft-Windows-Sysmon","Computer":"WORKSTATION5","EventData":"{\"UtcTime\":\"2022-05-13T08:54:05.1230000Z\",\"ProcessId\":\"3936\",\"Image\":\"C:\\\\tomcat9.exe\",\"User\":\"NT AUTHORITY\\\\LOCAL SERVICE\",\"Protocol\":\"tcp\",\"Initiated\":\"false\",\"SourceIp\":\"192.168.3.5\",\"SourcePort\":\"50452\",\"DestinationIp\":\"192.168.2.5\",\"DestinationPort\":\"8080\"}","EventID":3}"#
        let load = loadText(line)
        #expect(load.files.first?.format == .logAnalyticsJSON)
        let record = try #require(load.connections.first)
        #expect(record.time == time("2022-05-13T08:54:05.123Z"))
        #expect(record.executable == "C:\\tomcat9.exe")
        #expect(record.direction == .accepted)
        #expect(record.localAddress == IPAddress("192.168.2.5"))
        #expect(record.localPort == 8080)
        #expect(record.remotePort == 50452)
        #expect(record.hostName == "WORKSTATION5")
    }

    @Test func flatDNSQueryWithUnknownProcess() throws {
        let line = #"{"EventID": 22, "SourceName": "Microsoft-Windows-Sysmon", "Hostname": "WORKSTATION5", "UtcTime": "2020-10-22 06:21:37.328", "ProcessGuid": "{00000000-0000-0000-0000-000000000000}", "ProcessId": "10076", "Image": "<unknown process>", "QueryName": "raw.githubusercontent.com", "QueryResults": "type:  5 github.map.fastly.net;::ffff:151.101.248.133;"}"#
        let query = try #require(loadText(line).dnsQueries.first)
        #expect(query.addresses == [IPAddress("151.101.248.133")!])
        #expect(query.canonicalNames == ["github.map.fastly.net"])
        #expect(query.executable == nil)
        #expect(query.pid == 10076)
    }

    @Test func badLinesCountedNotFatal() {
        let good = #"{"EventID": 5, "SourceName": "Microsoft-Windows-Sysmon", "UtcTime": "2020-01-01 00:00:00.000", "ProcessId": "1"}"#
        let load = loadText(good + "\n{\"EventID\": 5, \"Utc\n" + #"{"EventID": "five"}"# + "\r\n" + good + "\r\n")
        #expect(load.processes.count == 2)
        #expect(load.problemCount == 2)
        #expect(load.problems.map(\.location) == ["line 2", "line 3"])
        #expect(load.problems.first?.reason == "not a JSON object; the line may be truncated")
        #expect(load.problems.last?.reason == "record with an invalid EventID 'five'")
    }

    @Test func storedProblemsBounded() {
        let lines = [#"{"EventID": 5, "SourceName": "Microsoft-Windows-Sysmon", "ProcessId": "1", "UtcTime": "2020-01-01 00:00:00"}"#]
            + Array(repeating: "{broken", count: 300)
        let load = loadText(lines.joined(separator: "\n"))
        #expect(load.problemCount == 300)
        #expect(load.problems.count == HostTelemetryLoad.maxStoredProblems)
        #expect(load.files.first?.problems == 300)
    }
}

@Suite struct AuditdTests {
    static let connectEvent = """
    node=plc-gw type=SYSCALL msg=audit(1492037289.295:58): arch=c000003e syscall=42 success=no exit=-115 a0=6 a1=7ffed2893080 a2=10 a3=fe items=0 ppid=1 pid=1172 auid=4294967295 uid=0 gid=0 euid=0 tty=(none) ses=4294967295 comm="google_accounts" exe=2F7573722F62696E2F707974686F6E322E373B3538643163636662202864656C6574656429 key=(null)
    node=plc-gw type=SOCKADDR msg=audit(1492037289.295:58): saddr=02000050A9FEA9FE0000000000000000
    node=plc-gw type=PROCTITLE msg=audit(1492037289.295:58): proctitle=2F7573722F62696E2F707974686F6E0073637269707420312E7079
    node=plc-gw type=EOE msg=audit(1492037289.295:58):
    """

    @Test func connectWithHexFields() throws {
        let load = loadText(Self.connectEvent)
        #expect(load.files.first?.format == .auditd)
        let record = try #require(load.connections.first)
        #expect(record.time == Timestamp(seconds: 1_492_037_289, nanoseconds: 295_000_000))
        #expect(record.hostName == "plc-gw")
        #expect(record.pid == 1172)
        #expect(record.parentPID == 1)
        #expect(record.executable == "/usr/bin/python2.7;58d1ccfb (deleted)")
        #expect(record.commandLine == "/usr/bin/python script 1.py")
        #expect(record.user == "0")
        #expect(record.remoteAddress == IPAddress("169.254.169.254"))
        #expect(record.remotePort == 80)
        #expect(record.localAddress == nil)
        #expect(record.localPort == nil)
        #expect(record.direction == .initiated)
        // EINPROGRESS: the SYN went out, so the attempt counts.
        #expect(record.inProgress)
        #expect(record.source.location == "line 1")
    }

    @Test func execveArgumentsIncludingHex() throws {
        let log = """
        type=SYSCALL msg=audit(1490816924.990:90): arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=12041 pid=13393 auid=1000 uid=1000 comm="jq" exe="/usr/bin/jq"
        type=EXECVE msg=audit(1490816924.990:90): argc=3 a0="jq" a1=7B2261223A317D a2="-c"
        type=CWD msg=audit(1490816924.990:90): cwd="/home/op"
        type=PATH msg=audit(1490816924.990:90): item=0 name="/usr/bin/jq" inode=2512
        """
        let record = try #require(loadText(log).processes.first)
        #expect(record.pid == 13393)
        #expect(record.parentPID == 12041)
        #expect(record.executable == "/usr/bin/jq")
        #expect(record.commandLine == "jq {\"a\":1} -c")
        #expect(record.user == "1000")
        #expect(record.start == Timestamp(seconds: 1_490_816_924, nanoseconds: 990_000_000))
    }

    @Test func ipv6AndUnixSocketAddresses() throws {
        let log = """
        type=SYSCALL msg=audit(100.000:1): arch=c000003e syscall=connect success=yes exit=0 pid=10 exe="/usr/bin/curl"
        type=SOCKADDR msg=audit(100.000:1): saddr=0A0001F60000000020010DB8000000000000000000000001
        type=SYSCALL msg=audit(100.100:2): arch=c000003e syscall=42 success=yes exit=0 pid=11 exe="/usr/libexec/postfix/master"
        type=SOCKADDR msg=audit(100.100:2): saddr=01007075626C69632F7069636B757000
        """
        let load = loadText(log)
        #expect(load.connections.count == 1)
        let record = try #require(load.connections.first)
        #expect(record.remoteAddress == IPAddress("2001:db8::1"))
        #expect(record.remotePort == 502)
        #expect(load.files.first?.otherRecords == 1)
        #expect(load.problemCount == 0)
    }

    @Test func acceptAndArchitectures() {
        let log = """
        type=SYSCALL msg=audit(200.000:5): arch=c000003e syscall=288 success=yes exit=4 pid=20 exe="/usr/sbin/modbusd"
        type=SOCKADDR msg=audit(200.000:5): saddr=0200C35A0A0000140000000000000000
        type=SYSCALL msg=audit(200.500:6): arch=c00000b7 syscall=203 success=yes exit=0 pid=21 exe="/usr/bin/python3"
        type=SOCKADDR msg=audit(200.500:6): saddr=020001F60A0000140000000000000000
        type=SYSCALL msg=audit(201.000:7): arch=c00000b7 syscall=42 success=yes exit=0 pid=22 exe="/usr/bin/other"
        type=SOCKADDR msg=audit(201.000:7): saddr=020001F60A0000140000000000000000
        """
        let load = loadText(log)
        #expect(load.connections.count == 2)
        #expect(load.connections.first?.direction == .accepted)
        #expect(load.connections.first?.remoteAddress == IPAddress("10.0.0.20"))
        #expect(load.connections.first?.remotePort == 50010)
        #expect(load.connections.last?.pid == 21)
        #expect(load.connections.last?.remotePort == 502)
    }

    @Test func outOfOrderRecordsGrouped() throws {
        let log = """
        type=SYSCALL msg=audit(300.000:10): arch=c000003e syscall=42 success=yes exit=0 pid=30 exe="/a"
        type=SYSCALL msg=audit(300.001:11): arch=c000003e syscall=42 success=yes exit=0 pid=31 exe="/b"
        type=SOCKADDR msg=audit(300.001:11): saddr=020001F60A0000160000000000000000
        type=SOCKADDR msg=audit(300.000:10): saddr=020001F60A0000150000000000000000
        """
        let load = loadText(log)
        #expect(load.connections.count == 2)
        let byPID = Dictionary(uniqueKeysWithValues: load.connections.map { ($0.pid ?? 0, $0.remoteAddress) })
        #expect(byPID[30] == IPAddress("10.0.0.21"))
        #expect(byPID[31] == IPAddress("10.0.0.22"))
    }

    @Test func serialRolloverKeepsEventsApart() {
        let log = """
        type=SYSCALL msg=audit(400.000:4294967295): arch=c000003e syscall=42 success=yes exit=0 pid=40 exe="/a"
        type=SOCKADDR msg=audit(400.000:4294967295): saddr=020001F60A0000150000000000000000
        type=SYSCALL msg=audit(400.001:0): arch=c000003e syscall=42 success=yes exit=0 pid=41 exe="/b"
        type=SOCKADDR msg=audit(400.001:0): saddr=020001F60A0000160000000000000000
        """
        #expect(loadText(log).connections.count == 2)
    }

    @Test func truncatedUnknownAndLostRecords() {
        let log = """
        type=UNKNOWN[1329] msg=?
        type=SYSCALL msg=audit(500.000:1): arch=c000003e syscall=42 success=yes exit=0 pid=50 exe="/lost-sockaddr"
        type=NEW_TYPE_2031 msg=audit(500.100:2): something=1
        type=SOCKADDR msg=audit(500.200:3): saddr=0200
        type=SYSCALL msg=audit(500.200:3): arch=c000003e syscall=42 success=yes exit=0 pid=51 exe="/short"
        type=SYSCALL msg=audit(500.300:4): arch=c000003e syscall=42 success=no exit=-13 pid=52 exe="/denied"
        type=SOCKADDR msg=audit(500.300:4): saddr=020001F60A0000160000000000000000
        """
        let load = loadText(log)
        #expect(load.connections.isEmpty)
        #expect(load.problemCount == 3)
        #expect(load.problems.map(\.location) == ["line 1", "audit event 1 (lines 2)", "audit event 3 (lines 4,5)"])
        #expect(load.problems[0].reason == "UNKNOWN[1329] record without a msg=audit(seconds:serial) stamp")
        #expect(load.problems[1].reason == "connect by pid 50 without a SOCKADDR record; the peer address is unknown")
        #expect(load.problems[2].reason == "AF_INET SOCKADDR of 2 bytes; expected at least 8")
        // The unknown record type and the EACCES connect (no packet sent) are skipped, not problems.
        #expect(load.files.first?.otherRecords == 2)
    }
}

@Suite struct HostTelemetryFileTests {
    private static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wirecheck-hosts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("nested"), withIntermediateDirectories: true)
        return folder
    }

    private static func gzip(_ path: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-f", path]
        try process.run()
        process.waitUntilExit()
    }

    @Test func foldersGzipAndFormatsFromContent() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Names deliberately mismatch the content: detection reads the bytes.
        try SysmonXMLTests.networkAccepted.write(to: folder.appendingPathComponent("nested/events.json"), atomically: true, encoding: .utf8)
        try AuditdTests.connectEvent.write(to: folder.appendingPathComponent("audit.xml"), atomically: true, encoding: .utf8)
        try AuditdTests.connectEvent.write(to: folder.appendingPathComponent("rotated.log"), atomically: true, encoding: .utf8)
        try Self.gzip(folder.appendingPathComponent("rotated.log").path)
        try "hello\n".write(to: folder.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        try Data([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]).write(to: folder.appendingPathComponent("capture.pcap"))

        let load = HostTelemetry.load(paths: [folder.path, folder.appendingPathComponent("missing.evtx").path])
        let byName = Dictionary(uniqueKeysWithValues: load.files.map { (($0.file as NSString).lastPathComponent, $0) })
        #expect(byName["events.json"]?.format == .sysmonXML)
        #expect(byName["audit.xml"]?.format == .auditd)
        #expect(byName["rotated.log.gz"]?.format == .auditd)
        #expect(byName["rotated.log.gz"]?.connectionRecords == 1)
        #expect(byName["notes.txt"]?.error?.hasPrefix("not a recognised telemetry format") == true)
        #expect(byName["missing.evtx"]?.error == "file not found; check the path")
        #expect(byName["capture.pcap"]?.error?.hasPrefix("packet capture, not host telemetry") == true)
        #expect(load.connections.count == 3)
    }

    @Test func truncatedGzipStillRead() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let lines = (0..<2000).map { index in
            #"{"EventID": 5, "SourceName": "Microsoft-Windows-Sysmon", "UtcTime": "2020-01-01 00:00:00.000", "ProcessId": "\#(index)"}"#
        }
        let path = folder.appendingPathComponent("cut.json")
        try lines.joined(separator: "\n").write(to: path, atomically: true, encoding: .utf8)
        try Self.gzip(path.path)
        let gzPath = path.path + ".gz"
        let full = try Data(contentsOf: URL(fileURLWithPath: gzPath))
        try full.prefix(full.count - 200).write(to: URL(fileURLWithPath: gzPath))

        let load = HostTelemetry.load(paths: [gzPath])
        #expect(load.processes.count > 100)
        #expect(load.problems.first?.location == "gzip")
        #expect(load.problems.first?.reason.contains("unexpected end of file") == true)
    }

    @Test func timeParserForms() {
        #expect(TimeParser.parse("1970-01-01 00:00:01.500") == Timestamp(seconds: 1, nanoseconds: 500_000_000))
        #expect(TimeParser.parse("2022-05-13T08:54:05.1230000Z") == Timestamp(seconds: 1_652_432_045, nanoseconds: 123_000_000))
        #expect(TimeParser.parse("2020-02-29T00:00:00Z") == Timestamp(seconds: 1_582_934_400, nanoseconds: 0))
        #expect(TimeParser.parse("2020-13-01 00:00:00") == nil)
        #expect(TimeParser.parse("2020-01-01 00:00:00+02:00") == nil)
        #expect(TimeParser.parse("yesterday") == nil)
    }
}

/// Reads the public telemetry samples kept outside the repository, when they are present, and
/// compares record counts with the event-id counts their manifest lists.
@Suite struct HostTelemetrySampleFileTests {
    /// The first `shared/telemetry` folder beside the package root or one of its ancestors, so
    /// the tests find the samples from the main checkout and from a worktree below it.
    static let samplesPath: String? = {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        while folder.path != "/" {
            folder = folder.deletingLastPathComponent()
            let candidate = folder.appendingPathComponent("shared/telemetry").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return nil
    }()

    static var samplesPresent: Bool { samplesPath != nil }

    /// Sysmon event-id counts per file from the manifest's `event_ids_or_record_types_present` column.
    static func manifestCounts(_ root: String) -> [String: [Int: Int]] {
        guard let text = try? String(contentsOfFile: root + "/MANIFEST.tsv", encoding: .utf8) else { return [:] }
        var result: [String: [Int: Int]] = [:]
        let rows = text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        guard let header = rows.first,
              let pathColumn = header.firstIndex(of: "local_path"),
              let countColumn = header.firstIndex(of: "event_ids_or_record_types_present") else { return [:] }
        for row in rows.dropFirst() where row.count > max(pathColumn, countColumn) {
            var counts: [Int: Int] = [:]
            for item in row[countColumn].split(separator: ";") {
                let entry = item.trimmingCharacters(in: .whitespaces)
                guard entry.hasPrefix("Sysmon:") else { continue }
                let parts = entry.dropFirst(7).split(separator: "=")
                if parts.count == 2, let id = Int(parts[0]), let count = Int(parts[1]) { counts[id] = count }
            }
            if !counts.isEmpty { result[String(row[pathColumn])] = counts }
        }
        return result
    }

    @Test(.enabled(if: samplesPresent)) func everySampleReadWithoutCrash() throws {
        let root = try #require(Self.samplesPath)
        let load = HostTelemetry.load(paths: [root])
        let telemetryFiles = load.files.filter { !$0.file.contains("/paired-captures/") && !$0.file.hasSuffix(".md") && !$0.file.hasSuffix(".tsv") }
        #expect(telemetryFiles.count >= 50)
        for file in telemetryFiles {
            let name = (file.file as NSString).lastPathComponent
            print("telemetry sample \(name): format \(file.format.rawValue), processes \(file.processRecords), ends \(file.processEndRecords), connections \(file.connectionRecords), dns \(file.dnsQueryRecords), other \(file.otherRecords), problems \(file.problems), recovered used \(file.recoveredRecordsUsed) skipped \(file.skippedRecoveredRecords)\(file.error.map { ", error: " + $0 } ?? "")")
        }
        // Every file in these folders contains telemetry the reader supports.
        for file in telemetryFiles where ["/evtx/", "/xml/", "/ecs-json/", "/nxlog-json/", "/flat-json/", "/winlogbeat6-json/", "/loganalytics-json/"].contains(where: file.file.contains) {
            #expect(file.error == nil, "\(file.file): \(file.error ?? "")")
        }
        #expect(load.connections.count > 500)
        #expect(load.processes.count > 600)
    }

    @Test(.enabled(if: samplesPresent)) func recordCountsMatchManifest() throws {
        let root = try #require(Self.samplesPath)
        let expected = Self.manifestCounts(root)
        #expect(!expected.isEmpty)
        var agreeing = 0
        for (relative, counts) in expected.sorted(by: { $0.key < $1.key }) {
            let load = HostTelemetry.load(paths: [root + "/" + relative])
            let summary = try #require(load.files.first)
            let recovered = summary.recoveredRecordsUsed
            let pairs: [(Int, Int)] = [
                (SysmonEventID.processCreate, summary.processRecords),
                (SysmonEventID.networkConnect, summary.connectionRecords),
                (SysmonEventID.processTerminate, summary.processEndRecords),
                (SysmonEventID.dnsQuery, summary.dnsQueryRecords),
            ]
            var fileAgrees = true
            for (id, actual) in pairs {
                guard let want = counts[id] else { continue }
                // Records recovered from free space come on top of the manifest's live counts.
                let ok = actual >= want && actual - recovered <= want
                #expect(ok, "\(relative): Sysmon EID \(id) manifest \(want), read \(actual) (\(recovered) recovered)")
                fileAgrees = fileAgrees && ok
            }
            if fileAgrees { agreeing += 1 }
        }
        print("telemetry manifest agreement: \(agreeing) of \(expected.count) files")
    }

    @Test(.enabled(if: samplesPresent)) func xmlAndECSCopiesAgree() throws {
        // The same 32 Sysmon 9.01 events exported as event XML and as Winlogbeat ECS JSON.
        let root = try #require(Self.samplesPath)
        let xml = HostTelemetry.load(paths: [root + "/xml/beats__sysmon-9.01.xml"])
        let ecs = HostTelemetry.load(paths: [root + "/ecs-json/beats__sysmon-9.01.evtx.golden.json"])
        func key(_ record: ConnectionRecord) -> String {
            "\(record.pid ?? -1) \(record.transport) \(record.localAddress.map(String.init(describing:)) ?? "-"):\(record.localPort ?? 0) \(record.remoteAddress):\(record.remotePort) \(record.direction)"
        }
        let xmlKeys = xml.connections.map(key).sorted()
        let ecsKeys = ecs.connections.map(key).sorted()
        #expect(xmlKeys.count == 16)
        #expect(xmlKeys == ecsKeys)
        // Sysmon 9.01's malformed IPv6 for 10.0.2.15 is repaired in both copies.
        let repaired = xml.connections.filter { $0.localAddress == IPAddress("10.0.2.15") }
        #expect(repaired.contains { $0.transport == .udp })
        #expect(!xml.connections.contains { $0.localAddress == IPAddress("a00:20f:0:0:18a2:6e00:e0:ffff") })
        #expect(xml.processes.count == ecs.processes.count)
    }

    @Test(.enabled(if: samplesPresent)) func pairedCaptureJoinsRubeusKerberos() throws {
        let root = try #require(Self.samplesPath)
        let load = HostTelemetry.load(paths: [root + "/nxlog-json/empire_shell_rubeus_asktgt_ptt_2020-09-21223848.json"])
        let attributor = ProcessAttributor(telemetry: load)
        // The capture's Kerberos flow starts at 02:39:13.126, 0.87 s after Sysmon's UtcTime.
        let attribution = try #require(attributor.attribute(
            transport: .tcp, clientIP: IPAddress("172.18.39.6")!, clientPort: 53409,
            serverIP: IPAddress("172.18.38.5")!, serverPort: 88, start: TimeParser.parse("2020-09-22 02:39:13.126")!))
        #expect(attribution.executable == "C:\\Users\\sbeavers\\Desktop\\Rubeus.exe")
        #expect(attribution.method == .exact)
        #expect(attribution.dnsQuery == "MORDORDC.theshire.local")
        #expect(attribution.parentExecutable == "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe")
        #expect(attribution.commandLine?.contains("asktgt") == true)
    }
}

@Suite struct HostTelemetryHostileInputTests {
    /// Small deterministic generator, so a failure reproduces.
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var value = state
            value = (value ^ (value >> 30)) &* 0xbf58_476d_1ce4_e5b9
            value = (value ^ (value >> 27)) &* 0x94d0_49bb_1331_11eb
            return value ^ (value >> 31)
        }
    }

    static let samples: [String] = [
        SysmonXMLTests.networkAccepted,
        AuditdTests.connectEvent,
        #"{"EventID": 3, "SourceName": "Microsoft-Windows-Sysmon", "UtcTime": "2020-09-22 02:39:12.251", "Protocol": "tcp", "SourceIp": "172.18.39.6", "SourcePort": "53409", "DestinationIp": "172.18.38.5", "DestinationPort": "88"}"#,
        #"{"TenantId":"x","TimeGenerated":"2022-05-13T08:54:06.347Z","Provider":"Microsoft-Windows-Sysmon","EventData":"{\"UtcTime\":\"2022-05-13T08:54:05Z\",\"Protocol\":\"tcp\"}","EventID":3}"#,
    ]

    @Test func truncatedAtEveryPosition() {
        for sample in Self.samples {
            let bytes = Array(sample.utf8)
            for length in 0..<bytes.count {
                let load = HostTelemetry.load(text: String(decoding: bytes[0..<length], as: UTF8.self), name: "cut")
                #expect(load.connections.count <= 1)
            }
        }
    }

    @Test func randomByteChanges() {
        var random = SplitMix(state: 42)
        let alphabet = Array("<>/='\"{}[]:,;=.-0123456789abcdefx \n\u{1d}&#".utf8)
        for sample in Self.samples {
            for _ in 0..<500 {
                var bytes = Array(sample.utf8)
                for _ in 0..<(1 + Int(random.next() % 6)) {
                    let position = Int(random.next() % UInt64(bytes.count))
                    bytes[position] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                }
                let load = HostTelemetry.load(text: String(decoding: bytes, as: UTF8.self), name: "mutated")
                #expect(load.connections.count <= 2)
            }
        }
    }

    @Test func garbageEvtxFileReported() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wirecheck-garbage-\(UUID().uuidString).evtx")
        defer { try? FileManager.default.removeItem(at: path) }
        var random = SplitMix(state: 7)
        let bytes = Array("ElfFile".utf8) + [0] + (0..<70_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        try Data(bytes).write(to: path)
        let load = HostTelemetry.load(paths: [path.path])
        let summary = try #require(load.files.first)
        #expect(summary.format == .evtx)
        #expect(summary.error == "libevtx found no event records; the file is empty or not a valid .evtx file")
        #expect(load.connections.isEmpty)
    }

    @Test func enrichedAuditFormat() throws {
        let log = "type=SYSCALL msg=audit(600.000:1): arch=c000003e syscall=42 success=yes exit=0 pid=60 uid=0 exe=\"/usr/bin/nc\"\u{1d}ARCH=x86_64 SYSCALL=connect UID=\"root\"\ntype=SOCKADDR msg=audit(600.000:1): saddr=020001F60A0000140000000000000000\u{1d}SADDR={ saddr_fam=inet laddr=10.0.0.20 lport=502 }\n"
        let record = try #require(HostTelemetry.load(text: log, name: "enriched").connections.first)
        #expect(record.user == "root")
        #expect(record.remotePort == 502)
        #expect(record.executable == "/usr/bin/nc")
    }
}
