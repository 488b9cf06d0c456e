import Foundation
import Testing
import WirecheckCapture
import WirecheckCore
import WirecheckEngine
import WirecheckHosts
import WirecheckOutput
@testable import WirecheckProtocols
import WirecheckSynthesis

/// Feeds wire strings with control characters, U+2028, U+2029 and invalid UTF-8 through the
/// whole pipeline. Every EVE line must stay one line and parse as JSON, and the hostile bytes
/// must stay in it, as text or as `\xNN` escapes.
@Suite struct OutputSafetyTests {
    static let link = EthernetSpec(source: MACAddress(0x0200_0000_0001), destination: MACAddress(0x0200_0000_0002))
    static let client = IPAddress("10.0.0.5")!

    /// A name with a newline, a carriage return, a tab, NUL, ESC, U+2028, U+2029, a quote, a
    /// backslash and the invalid byte 0xFF.
    static let hostileName: [UInt8] = Array("plc\n".utf8) + [0x0D, 0x09, 0x00, 0x1B] + [0xE2, 0x80, 0xA8]
        + [0xE2, 0x80, 0xA9] + Array("\"\\".utf8) + [0xFF] + Array(".local".utf8)

    /// The string a JSON reader gets back for `hostileName`: valid parts as text and the invalid
    /// byte as the four characters `\xff`.
    static let hostileNameDecoded = "plc\n\r\t\u{0}\u{1B}\u{2028}\u{2029}\"\\\\xff.local"

    /// Builds a TLS 1.2 ClientHello record whose server_name extension carries `name`.
    static func clientHello(serverName name: [UInt8]) -> [UInt8] {
        func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        let serverNameList = [0x00] + u16(name.count) + name
        let serverNameExtension = u16(0x0000) + u16(serverNameList.count + 2) + u16(serverNameList.count) + serverNameList
        let extensions = serverNameExtension
        var body: [UInt8] = [0x03, 0x03] + [UInt8](repeating: 0x11, count: 32) + [0x00]
        body += u16(4) + [0x13, 0x01, 0xC0, 0x2F] + [0x01, 0x00]
        body += u16(extensions.count) + extensions
        let handshake: [UInt8] = [0x01, 0x00] + u16(body.count) + body
        return [0x16, 0x03, 0x01] + u16(handshake.count) + handshake
    }

    /// Builds a Modbus read device identification exchange whose vendor name is `name`.
    static func deviceIdentification(vendorName name: [UInt8]) -> (request: [UInt8], response: [UInt8]) {
        let requestPDU: [UInt8] = [0x2B, 0x0E, 0x01, 0x00]
        let responsePDU: [UInt8] = [0x2B, 0x0E, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, UInt8(name.count)] + name
        func adu(_ pdu: [UInt8]) -> [UInt8] {
            [0x00, 0x07, 0x00, 0x00, UInt8((pdu.count + 1) >> 8), UInt8((pdu.count + 1) & 0xFF), 0x01] + pdu
        }
        return (adu(requestPDU), adu(responsePDU))
    }

    /// Builds a CIP read_tag request over SendRRData whose symbolic segment is `symbol` (even length).
    static func readTag(symbol: [UInt8]) -> [UInt8] {
        let path: [UInt8] = [0x91, UInt8(symbol.count)] + symbol
        let cip: [UInt8] = [0x4C, UInt8(path.count / 2)] + path + [0x01, 0x00]
        return encapsulation(0x6F, session: 7, data: sendRRData(cip))
    }

    static func conversation(_ clientPort: UInt16, _ serverPort: UInt16, server: String,
                             exchanges: [(toServer: Bool, bytes: [UInt8])]) -> [[UInt8]] {
        var session = TCPConversation(link: link, client: client, clientPort: clientPort,
                                      server: IPAddress(server)!, serverPort: serverPort)
        var frames = session.handshake()
        for exchange in exchanges {
            frames.append(exchange.toServer ? session.clientSends(exchange.bytes) : session.serverSends(exchange.bytes))
        }
        frames += session.close()
        return frames
    }

    static func hostileCapture() throws -> String {
        var frames: [[UInt8]] = []
        frames += conversation(50_001, 443, server: "10.0.0.30", exchanges: [(true, clientHello(serverName: hostileName))])
        let identification = deviceIdentification(vendorName: hostileName)
        frames += conversation(50_002, 502, server: "10.0.0.20",
                               exchanges: [(true, identification.request), (false, identification.response)])
        // The symbol must have an even length, so a padding byte of the name is left off.
        let symbol = hostileName.count % 2 == 0 ? hostileName : Array(hostileName.dropLast())
        frames += conversation(50_003, 44_818, server: "10.0.0.40",
                               exchanges: [(true, readTag(symbol: symbol)),
                                           (false, encapsulation(0x6F, session: 7, data: sendRRData([0xCC, 0x00, 0x00, 0x00, 0xC4, 0x00, 1, 0, 0, 0])))])
        let path = TestPaths.temporaryDirectory().appendingPathComponent("hostile.pcap").path
        let writer = try CaptureFileWriter(path: path, linkType: .ethernet)
        for (index, frame) in frames.enumerated() {
            writer.write(frame, timestamp: Timestamp(nanoseconds: 1_000_000_000_000 + Int64(index) * 1_000_000))
        }
        writer.close()
        return path
    }

    /// Runs the capture through the pipeline into an `EveWriter` file, as `--eve` does, and returns the file's bytes.
    static func eveFile(for capture: String) throws -> [UInt8] {
        let directory = TestPaths.temporaryDirectory()
        let evePath = directory.appendingPathComponent("eve.json").path
        let sources = CaptureSourceTable()
        let input = try CaptureInput.openFiles([capture], options: CaptureOptions(), sources: sources)
        let writer = try EveWriter(path: evePath, sources: sources)
        let analyzer = Analyzer(sources: sources, outputs: [writer])
        input.run({ analyzer.process($0) }, idle: nil)
        analyzer.finish()
        var summary = RunSummary()
        analyzer.summarize(into: &summary)
        analyzer.emitStatistics(summary: summary)
        writer.close()
        return Array(try Data(contentsOf: URL(fileURLWithPath: evePath)))
    }

    static func parsedLines(_ bytes: [UInt8]) -> [[String: Any]?] {
        bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { line in
            try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
        }
    }

    @Test func everyLineParsesAsJSON() throws {
        let bytes = try Self.eveFile(for: Self.hostileCapture())
        #expect(bytes.last == 0x0A)
        let lines = Self.parsedLines(bytes)
        #expect(lines.count > 5)
        for (index, line) in lines.enumerated() {
            #expect(line != nil, "EVE line \(index + 1) does not parse")
        }
    }

    @Test func noRawControlOrSeparatorBytes() throws {
        let bytes = try Self.eveFile(for: Self.hostileCapture())
        let lines = bytes.split(separator: 0x0A)
        for line in lines {
            #expect(!line.contains { $0 < 0x20 }, "raw control byte in an EVE line")
            #expect(!line.contains(0xFF), "raw invalid byte in an EVE line")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains("\u{2028}"))
        #expect(!text.contains("\u{2029}"))
    }

    @Test func newlineInSNIStaysOneLine() throws {
        let bytes = try Self.eveFile(for: Self.hostileCapture())
        let tlsLines = Self.parsedLines(bytes).compactMap { $0 }.filter { $0["event_type"] as? String == "tls" }
        #expect(tlsLines.count == 1)
        let tls = tlsLines.first?["tls"] as? [String: Any]
        #expect(tls?["sni"] as? String == Self.hostileNameDecoded)
    }

    @Test func modbusDeviceNameKeptWhole() throws {
        let bytes = try Self.eveFile(for: Self.hostileCapture())
        let modbus = Self.parsedLines(bytes).compactMap { $0 }.first { $0["event_type"] as? String == "modbus" }
        let response = (modbus?["modbus"] as? [String: Any])?["response"] as? [String: Any]
        let objects = response?["objects"] as? [String: Any]
        #expect(objects?["vendor_name"] as? String == Self.hostileNameDecoded)
    }

    @Test func cipSymbolKeptWhole() throws {
        let bytes = try Self.eveFile(for: Self.hostileCapture())
        let text = String(decoding: bytes, as: UTF8.self)
        // The symbol is the name without its last byte; its escapes must appear verbatim.
        #expect(text.contains(#""symbol":"plc\n\r\t\u0000\u001b\u2028\u2029\"\\\\xff.loca""#))
    }

    /// Sysmon process-create and network-connection events for the Modbus connection of
    /// `hostileCapture` (10.0.0.5:50002 to 10.0.0.20:502 at 00:16:40 UTC on 1970-01-01), with a
    /// command line carrying a newline, a carriage return, a tab, U+2028, U+2029, a quote and a backslash.
    static let telemetry = """
    <Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID><Computer>eng-ws</Computer></System><EventData><Data Name='UtcTime'>1970-01-01 00:16:39.000</Data><Data Name='ProcessGuid'>{aaaa0000-0000-0000-0000-000000000001}</Data><Data Name='ProcessId'>4242</Data><Data Name='Image'>C:\\Tools\\modpoll.exe</Data><Data Name='CommandLine'>modpoll.exe&#10;-r&#13;40&#9;&#x2028;&#x2029;&quot;\\</Data><Data Name='User'>PLANT\\engineer</Data></EventData></Event>
    <Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>3</EventID><Computer>eng-ws</Computer></System><EventData><Data Name='UtcTime'>1970-01-01 00:16:40.000</Data><Data Name='ProcessGuid'>{aaaa0000-0000-0000-0000-000000000001}</Data><Data Name='ProcessId'>4242</Data><Data Name='Image'>C:\\Tools\\modpoll.exe</Data><Data Name='User'>PLANT\\engineer</Data><Data Name='Protocol'>tcp</Data><Data Name='Initiated'>true</Data><Data Name='SourceIsIpv6'>false</Data><Data Name='SourceIp'>10.0.0.5</Data><Data Name='SourcePort'>50002</Data><Data Name='DestinationIsIpv6'>false</Data><Data Name='DestinationIp'>10.0.0.20</Data><Data Name='DestinationPort'>502</Data></EventData></Event>
    """

    @Test func telemetryCommandLineEscaped() throws {
        var options = AnalysisOptions()
        options.hostTelemetry = HostTelemetry.load(text: Self.telemetry, name: "inline")
        #expect(options.hostTelemetry?.connections.count == 1)
        let result = try AnalysisHarness.analyze(Self.hostileCapture(), options: options)
        let lines = result.eveLines
        let withProcess = lines.filter { $0.contains("\"command_line\"") }
        #expect(!withProcess.isEmpty)
        for line in withProcess {
            #expect(!line.contains("\n"))
            #expect(!line.contains("\u{2028}"))
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let process = object?["process"] as? [String: Any]
            #expect(process?["command_line"] as? String == "modpoll.exe\n-r\r40\t\u{2028}\u{2029}\"\\")
        }
    }

    @Test func httpOnICSPortStaysOneLine() throws {
        let request = Array("GET /".utf8) + [0x0A, 0xE2, 0x80, 0xA8, 0xFF, 0x1B] + Array(" HTTP/1.1\r\nHost: a\nb\r\n\r\n".utf8)
        let frames = Self.conversation(50_010, 502, server: "10.0.0.21", exchanges: [(true, request)])
        let path = TestPaths.temporaryDirectory().appendingPathComponent("http.pcap").path
        let writer = try CaptureFileWriter(path: path, linkType: .ethernet)
        for (index, frame) in frames.enumerated() {
            writer.write(frame, timestamp: Timestamp(nanoseconds: 1_000_000_000_000 + Int64(index) * 1_000_000))
        }
        writer.close()
        let bytes = try Self.eveFile(for: path)
        let lines = Self.parsedLines(bytes)
        #expect(lines.count > 1)
        for line in lines {
            #expect(line != nil)
        }
        #expect(!bytes.contains(0xFF))
    }

    @Test func messagesKeepInvalidBytesAsEscapes() throws {
        let bytes = try Self.eveFile(for: Self.hostileCapture())
        let lines = Self.parsedLines(bytes).compactMap { $0 }
        let tlsMessage = lines.first { $0["event_type"] as? String == "tls" }?["message"] as? String
        #expect(tlsMessage?.contains("\\xff.local") == true)
        for line in lines {
            #expect((line["message"] as? String)?.contains("\u{FFFD}") != true)
        }
    }

    @Test func sentenceTextOfWireBytes() {
        #expect(String(wireBytes: [0x61, 0xFF, 0x62]) == "a\\xffb")
        #expect(String(wireBytes: [0xC3, 0xA9]) == "\u{E9}")
        // A truncated two-byte sequence and an overlong slash are invalid byte by byte.
        #expect(String(wireBytes: [0xC3]) == "\\xc3")
        #expect(String(wireBytes: [0xC0, 0xAF]) == "\\xc0\\xaf")
    }

    @Test func wireValueRoundTrips() throws {
        let line = JSONWriter.serialize(["name": .wire(Self.hostileName)])
        #expect(!line.contains("\n"))
        let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(parsed?["name"] as? String == Self.hostileNameDecoded)
    }
}

/// S7comm file and PI service names keep their bytes: valid UTF-8 as text, anything else as
/// wire bytes, instead of U+FFFD replacement characters.
@Suite struct S7NameBytesTests {
    @Test func validNameIsString() {
        let value = S7Bytes.text(Array("_0800001P".utf8))
        #expect(value == JSONValue.string("_0800001P"))
    }

    @Test func invalidNameKeepsBytes() {
        let bytes: [UInt8] = [0x5F, 0x30, 0x38, 0xFF, 0x0A]
        #expect(S7Bytes.text(bytes) == JSONValue.wire(bytes))
        #expect(JSONWriter.serialize(S7Bytes.text(bytes)) == #""_08\\xff\n""#)
    }
}
