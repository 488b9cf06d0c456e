import Foundation
import Testing
import WirecheckCore
@testable import WirecheckOutput

@Suite struct HTMLReportTests {
    static let scriptPayload = "<script>alert(1)</script>"
    static let attributePayload = "\"onmouseover=alert(2) x=\""

    /// Builds a store whose wire-derived fields all carry markup: an SNI in an alert message and
    /// host name, a Modbus device name, a process command line, a capture file name and a protocol name.
    static func hostileStore() throws -> FindingStore {
        let store = try FindingStore(path: StoreFixtures.temporaryPath("hostile.db"))
        let payload = scriptPayload + attributePayload
        try store.beginRun(sources: ["capture\(payload).pcap"])
        let tls = StoreFixtures.flowContext(1, "10.0.0.7", 50000, "192.168.1.10", 443, appProto: "tls")
        var tlsAlert = StoreFixtures.alert(StoreFixtures.writeRule, at: 1, flow: tls,
                                           message: "10.0.0.7 sent a ClientHello with SNI \(payload)")
        tlsAlert.body.set("tls", .object(["sni": .wire(Array(payload.utf8))]))
        tlsAlert.body.set("process", .object(["executable": .string("/tmp/\(payload)"),
                                              "command_line": .string("curl --resolve \(payload)"),
                                              "user": .string(payload), "pid": 7]))
        tlsAlert.body.set("host", .object(["name": .string(payload)]))
        store.emit(tlsAlert)
        store.emit(StoreFixtures.flowEvent(tls, at: 2))

        let modbus = StoreFixtures.flowContext(2, "10.0.0.5", 50001, "10.0.0.20", 502)
        store.emit(StoreFixtures.modbusOperation(modbus, at: 3, name: "read_device_identification\(payload)",
                                                 operationClass: payload, code: 43,
                                                 record: ["vendor_name": .wire(Array(payload.utf8))]))
        let odd = StoreFixtures.flowContext(3, "10.0.0.5", 50002, "10.0.0.21", 1234, appProto: payload)
        store.emit(StoreFixtures.flowEvent(odd, at: 4))
        store.emit(StoreFixtures.alert(StoreFixtures.restartRule, at: 5, flow: odd, message: payload))
        try store.finishRun(stats: ["capture": .object(["kernel_drops": 0])])
        return store
    }

    @Test func escapesWireFields() throws {
        let store = try HTMLReportTests.hostileStore()
        let inputs = HTMLReportInputs(baseline: [BaselineEntryView(entry: HTMLReportTests.scriptPayload,
                                                                   evidence: HTMLReportTests.attributePayload,
                                                                   approved: false)],
                                      hostsWithTelemetry: [HTMLReportTests.scriptPayload],
                                      title: "Report \(HTMLReportTests.scriptPayload)")
        let page = try HTMLReport.render(store: store, runID: nil, inputs: inputs)

        #expect(!page.contains(HTMLReportTests.scriptPayload))
        #expect(!page.contains("\"onmouseover="))
        #expect(!page.contains("<script>alert"))
        #expect(page.components(separatedBy: "<script").count == 2, "only the report's own script tag")
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(page.contains("&quot;onmouseover=alert(2)"))
        #expect(page.contains("curl --resolve &lt;script&gt;"))
    }

    @Test func escapesEveryMarkupCharacter() {
        #expect(HTMLText.escape("<a href='x'>&\"</a>") == "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;")
        #expect(HTMLText.escape("bell\u{07}nul\u{00}") == "bell\u{FFFD}nul\u{FFFD}")
        #expect(HTMLText.escape("tab\tline\n") == "tab\tline\n")
    }

    @Test func addressCellSortsNumerically() {
        var html = HTMLText()
        ReportSections.writeAddressCell("10.0.0.5", port: 502, to: &html)
        ReportSections.writeAddressCell("2001:db8::1", port: nil, to: &html)
        #expect(html.output == "<td class=\"address\" data-sort=\"40a000005-100502\">10.0.0.5:502</td>"
                + "<td class=\"address\" data-sort=\"620010db8000000000000000000000001\">2001:db8::1</td>")
    }

    @Test func pageIsSelfContained() throws {
        let store = try StoreFixtures.populatedStore(path: StoreFixtures.temporaryPath("report.db"))
        let page = try HTMLReport.render(store: store)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(!page.contains("src="))
        #expect(!page.contains("http://") || page.components(separatedBy: "http://").count == 3,
                "only the two SVG namespace declarations")
        #expect(!page.contains("https://"))
        #expect(!page.contains("@import"))
        #expect(!page.contains("url("))
        #expect(page.contains("Content-Security-Policy"))
    }

    @Test func pageHasEverySection() throws {
        let store = try StoreFixtures.populatedStore(path: StoreFixtures.temporaryPath("sections.db"))
        let page = try HTMLReport.render(store: store)
        for id in ["map", "timeline", "alerts", "operations", "assets", "baseline", "coverage"] {
            #expect(page.contains("<section id=\"\(id)\">"), "section \(id)")
        }
        #expect(page.contains("10.0.0.5 sent a DNP3 cold restart to 10.0.1.30"))
        #expect(page.contains("plant.pcap #4"))
        #expect(page.contains("T0816"))
        #expect(page.contains("write_single_register \u{00D7}1"))
        #expect(page.contains("No baseline entries were supplied"))
        #expect(page.contains("66 of 1300 packets dropped by the kernel (5.1%)"))
        #expect(page.contains("1 of 4 flows (25.0%) (only one direction seen"))
        #expect(page.contains("not checked: no host telemetry source was given"))
    }

    @Test func singleRunReport() throws {
        let store = try StoreFixtures.populatedStore(path: StoreFixtures.temporaryPath("single.db"))
        let page = try HTMLReport.render(store: store, runID: 2)
        #expect(page.contains("10.0.0.9 wrote register 41"))
        #expect(!page.contains("cold restart"))
        #expect(!page.contains("10.0.1.30"))
    }

    @Test func unknownRunIsRejected() throws {
        let path = StoreFixtures.temporaryPath("unknown-run.db")
        let store = try StoreFixtures.populatedStore(path: path)
        #expect(throws: FindingStoreError.runNotFound(path: path, runID: 7)) {
            _ = try HTMLReport.render(store: store, runID: 7)
        }
    }

    @Test func mapMarksAlertedNodesAndEdges() throws {
        let store = try StoreFixtures.populatedStore(path: StoreFixtures.temporaryPath("map.db"))
        let page = try HTMLReport.render(store: store, runID: 1)
        #expect(page.contains("<g class=\"node alerted\"><title>10.0.1.30 (dnp3 server), 1 alerts</title>"))
        #expect(page.contains("<path class=\"edge alerted\""))
        #expect(page.contains("stroke=\"\(ReportPalette.protocolColours["dnp3"]!)\""))
        #expect(page.contains("10.0.0.0/24"))
        #expect(page.contains("10.0.1.0/24"))
    }

    @Test func largeMapIsDeterministic() throws {
        let store = try FindingStore(path: StoreFixtures.temporaryPath("large.db"))
        try store.beginRun(sources: ["big.pcap"])
        for index in 0..<200 {
            let client = "10.\(index % 4).\(index / 50).\(index % 50 + 1)"
            let server = "10.9.0.\(index % 20 + 1)"
            let context = StoreFixtures.flowContext(UInt64(index), client, 40000, server, 502,
                                                    appProto: ["modbus", "dnp3", "enip"][index % 3])
            store.emit(StoreFixtures.flowEvent(context, at: Int64(index)))
        }
        try store.finishRun()
        let first = try HTMLReport.render(store: store)
        let second = try HTMLReport.render(store: store)
        #expect(first == second)
        #expect(first.components(separatedBy: "<g class=\"node").count - 1 == 220)
        let map = CommunicationMap(assets: try store.assets(), conversations: try store.conversations(), alertCounts: [:])
        #expect(map.height < 1700)
        #expect(map.nodes.values.allSatisfy { $0.y + CommunicationMap.nodeHeight <= map.height })
    }

    @Test func mapOmitsExcessConversations() throws {
        let store = try FindingStore(path: StoreFixtures.temporaryPath("edges.db"))
        store.batchSize = 5000
        try store.beginRun(sources: ["dense.pcap"])
        for index in 0..<1600 {
            let context = StoreFixtures.flowContext(UInt64(index), "10.1.0.\(index / 40 + 1)", 40000,
                                                    "10.2.0.\(index % 40 + 1)", 502)
            store.emit(StoreFixtures.flowEvent(context, at: Int64(index), bytes: Int64(index + 100)))
        }
        // The alerted conversation has the fewest bytes but must still be drawn.
        store.emit(StoreFixtures.alert(StoreFixtures.writeRule, at: 1,
                                       flow: StoreFixtures.flowContext(0, "10.1.0.1", 40000, "10.2.0.1", 502), message: "m"))
        try store.finishRun()

        let page = try HTMLReport.render(store: store)
        #expect(page.components(separatedBy: "<path class=\"edge").count - 1 == CommunicationMap.maximumEdges)
        #expect(page.contains("<path class=\"edge alerted\""))
        #expect(page.contains("100 conversations without alerts and with the fewest bytes are not drawn."))
    }

    @Test func alertTableIsCapped() throws {
        let store = try FindingStore(path: StoreFixtures.temporaryPath("many-alerts.db"))
        store.batchSize = 10_000
        let context = StoreFixtures.flowContext(1, "10.0.0.5", 40000, "10.0.0.20", 502)
        for index in 0...HTMLReport.maximumAlertRows {
            store.emit(StoreFixtures.alert(StoreFixtures.writeRule, at: Int64(index), flow: context, message: "alert \(index)"))
        }
        try store.flush()
        let page = try HTMLReport.render(store: store)
        #expect(page.contains("The table shows the newest 5000 of 5001 alerts."))
        #expect(page.contains(">alert 5000<"))
        #expect(!page.contains(">alert 0<"))
    }

    @Test func emptyStoreRenders() throws {
        let store = try FindingStore(path: StoreFixtures.temporaryPath("empty.db"))
        let page = try HTMLReport.render(store: store)
        #expect(page.contains("No flows or assets were recorded."))
        #expect(page.contains("No alerts were raised."))
        #expect(page.contains("no flows recorded"))
    }

    @Test func timelineBinsWideSpans() {
        var html = HTMLText()
        let week: Int64 = 7 * 86_400 * 1_000_000_000
        AlertTimeline(alerts: [(0, 1), (week, 2), (week / 2, 3)]).write(to: &html)
        #expect(html.output.contains("Alerts per 60 minutes"))
        #expect(html.output.components(separatedBy: "<rect").count - 1 == 3)
    }

    // MARK: Headless Chromium

    static func executablePath(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs Chromium and returns its standard output and standard error, or nil on timeout.
    static func runChromium(_ executable: String, _ arguments: [String]) throws -> (String, String)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // Output goes to files, not pipes, so a full pipe buffer cannot stall Chromium while this loop waits.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wirecheck-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let outputURL = directory.appendingPathComponent("stdout"), errorURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorURL)
        try process.run()
        let deadline = Date().addingTimeInterval(90)
        while process.isRunning && Date() < deadline { usleep(100_000) }
        if process.isRunning {
            process.terminate()
            return nil
        }
        let collectedOutput = (try? Data(contentsOf: outputURL)) ?? Data()
        let collectedErrors = (try? Data(contentsOf: errorURL)) ?? Data()
        return (String(decoding: collectedOutput, as: UTF8.self), String(decoding: collectedErrors, as: UTF8.self))
    }

    @Test(.enabled(if: HTMLReportTests.executablePath("chromium") != nil, "chromium is not on PATH"))
    func chromiumRendersReport() throws {
        let chromium = try #require(HTMLReportTests.executablePath("chromium"))
        let store = try StoreFixtures.populatedStore(path: StoreFixtures.temporaryPath("chromium.db"))
        let directory = URL(fileURLWithPath: StoreFixtures.temporaryPath("page")).deletingLastPathComponent()
        let pagePath = directory.appendingPathComponent("report.html").path
        let screenshotPath = directory.appendingPathComponent("report.png").path
        try HTMLReport.render(store: store).write(toFile: pagePath, atomically: true, encoding: .utf8)
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                      "--user-data-dir=\(directory.appendingPathComponent("profile").path)"]

        let shot = try #require(try HTMLReportTests.runChromium(
            chromium, common + ["--screenshot=\(screenshotPath)", "--window-size=1400,2400", "file://\(pagePath)"]))
        let attributes = try FileManager.default.attributesOfItem(atPath: screenshotPath)
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        #expect(size > 20_000, "screenshot of \(size) bytes; stderr: \(shot.1.suffix(500))")
        let png = try Data(contentsOf: URL(fileURLWithPath: screenshotPath))
        #expect(png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))

        let dump = try #require(try HTMLReportTests.runChromium(
            chromium, common + ["--enable-logging=stderr", "--v=0", "--dump-dom", "file://\(pagePath)"]))
        #expect(dump.0.contains("data-script-ready=\"1\""), "the inline script did not run")
        #expect(!dump.1.contains("Uncaught"), "JavaScript error: \(dump.1)")
        #expect(!dump.1.contains("Content Security Policy"), "CSP violation: \(dump.1)")
    }

    /// Clicks the severity header twice and sets the filters from a script appended to the page,
    /// then reads the outcome Chromium wrote into the DOM.
    @Test(.enabled(if: HTMLReportTests.executablePath("chromium") != nil, "chromium is not on PATH"))
    func chromiumSortsAndFilters() throws {
        let chromium = try #require(HTMLReportTests.executablePath("chromium"))
        let store = try StoreFixtures.populatedStore(path: StoreFixtures.temporaryPath("sorting.db"))
        let directory = URL(fileURLWithPath: StoreFixtures.temporaryPath("page")).deletingLastPathComponent()
        let pagePath = directory.appendingPathComponent("sorting.html").path
        let probe = """
            <script>
            (function () {
              var table = document.getElementById("alerts-table");
              var rows = function () { return Array.prototype.slice.call(table.tBodies[0].rows); };
              var header = table.tHead.rows[0].cells[1];
              header.click();
              var ascending = rows()[0].getAttribute("data-severity");
              header.click();
              var descending = rows()[0].getAttribute("data-severity");
              var severity = document.querySelector("select[data-severity-filter]");
              severity.value = "1";
              severity.dispatchEvent(new Event("change"));
              var highOnly = rows().filter(function (row) { return !row.hidden; }).length;
              severity.value = "3";
              var text = document.querySelector("input[data-filter]");
              text.value = "cold restart";
              text.dispatchEvent(new Event("input"));
              var matching = rows().filter(function (row) { return !row.hidden; }).length;
              document.body.setAttribute("data-probe", [ascending, descending, highOnly, matching].join(","));
            }());
            </script>
            """
        let page = try HTMLReport.render(store: store).replacingOccurrences(of: "</body>", with: probe + "</body>")
        try page.write(toFile: pagePath, atomically: true, encoding: .utf8)

        let dump = try #require(try HTMLReportTests.runChromium(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--user-data-dir=\(directory.appendingPathComponent("profile").path)", "--dump-dom", "file://\(pagePath)",
        ]))
        #expect(dump.0.contains("data-probe=\"1,3,1,1\""), "probe result missing: \(dump.0.suffix(300))")
    }
}
