import WirecheckCore

/// Optional inputs of the HTML report that do not come from the findings store.
public struct HTMLReportInputs: Sendable {
    /// Baseline entries to review. When empty, the section states that none were supplied.
    public var baseline: [BaselineEntryView]
    /// Addresses of hosts that send host telemetry (process data). Nil means no telemetry
    /// source was given, and the coverage panel states that instead of listing every host.
    public var hostsWithTelemetry: Set<String>?
    /// The page title.
    public var title: String

    public init(baseline: [BaselineEntryView] = [], hostsWithTelemetry: Set<String>? = nil,
                title: String = "Wirecheck report") {
        self.baseline = baseline
        self.hostsWithTelemetry = hostsWithTelemetry
        self.title = title
    }
}

/// Renders a findings store as one self-contained HTML page: inline CSS, inline SVG and a
/// small inline script, with no external scripts, fonts, images or requests. A Content
/// Security Policy in the page blocks any request that escaping might have missed. Every value
/// from the store is HTML-escaped; the page works without JavaScript, only unsorted.
public enum HTMLReport {
    /// Rows of the alert table, newest first. Larger tables make the page slow to load and sort,
    /// and `FindingStore.alerts(matching:)` lists every alert.
    public static let maximumAlertRows = 5000

    /// Renders the report of one run, or of every run in the store when `runID` is nil.
    public static func render(store: FindingStore, runID: Int? = nil) throws -> String {
        try render(store: store, runID: runID, inputs: HTMLReportInputs())
    }

    /// Renders the report with a baseline review list and the host telemetry coverage input.
    /// Throws `FindingStoreError.runNotFound` when `runID` names no run.
    public static func render(store: FindingStore, runID: Int?, inputs: HTMLReportInputs) throws -> String {
        let runs = try store.runs().filter { runID == nil || $0.id == runID }
        if let runID, runs.isEmpty { throw FindingStoreError.runNotFound(path: store.path, runID: runID) }
        let alerts = try store.alerts(matching: FindingQuery(runID: runID))
        let assets = try store.assets(runID: runID)
        // NOTE: every conversation is loaded before the map keeps `CommunicationMap.maximumEdges`
        // of them, which takes seconds and memory when a store holds hundreds of thousands.
        let conversations = try store.conversations(runID: runID)
        let operations = try store.operationCounts(runID: runID)
        let coverage = ReportCoverage(flows: try store.flowCoverage(runID: runID), stats: runs.map(\.stats),
                                      assetAddresses: assets.map(\.ip), hostsWithTelemetry: inputs.hostsWithTelemetry)

        var alertCounts: [String: Int] = [:]
        for alert in alerts {
            if let source = alert.srcIP { alertCounts[source, default: 0] += 1 }
            if let destination = alert.destIP, destination != alert.srcIP { alertCounts[destination, default: 0] += 1 }
        }

        var html = HTMLText()
        writeHead(title: inputs.title, to: &html)
        writeSummary(runs: runs, runID: runID, alerts: alerts, assets: assets, conversations: conversations, to: &html)

        html.raw("<section id=\"map\"><h2>Communication map</h2>\n")
        CommunicationMap(assets: assets, conversations: conversations, alertCounts: alertCounts).write(to: &html)
        html.raw("</section>\n<section id=\"timeline\"><h2>Alert timeline</h2>\n")
        AlertTimeline(alerts: alerts.map { ($0.time.nanoseconds, $0.severity) }).write(to: &html)
        html.raw("</section>\n<section id=\"alerts\"><h2>Alerts</h2>\n")
        if alerts.count > maximumAlertRows {
            html.raw("<p class=\"note\">The table shows the newest \(maximumAlertRows) of \(alerts.count) alerts. ")
            html.raw("Query the store for the rest.</p>\n")
        }
        ReportSections.writeAlerts(Array(alerts.prefix(maximumAlertRows)), to: &html)
        html.raw("</section>\n<section id=\"operations\"><h2>Operations by protocol</h2>\n")
        ReportSections.writeOperations(operations, to: &html)
        html.raw("</section>\n<section id=\"assets\"><h2>Asset inventory</h2>\n")
        ReportSections.writeAssets(assets, alertCounts: alertCounts, to: &html)
        html.raw("</section>\n<section id=\"baseline\"><h2>Baseline review</h2>\n")
        ReportSections.writeBaseline(inputs.baseline, to: &html)
        html.raw("</section>\n<section id=\"coverage\"><h2>Coverage</h2>\n")
        ReportSections.writeCoverage(coverage, to: &html)
        html.raw("</section>\n</main>\n<script>\(script)</script>\n</body>\n</html>\n")
        return html.output
    }

    private static func writeHead(title: String, to html: inout HTMLText) {
        html.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        html.raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ")
        html.raw("style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n")
        html.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
        html.text(title)
        html.raw("</title>\n<style>\(stylesheet)</style>\n</head>\n<body>\n<header><h1>")
        html.text(title)
        html.raw("</h1><nav><a href=\"#map\">Map</a><a href=\"#timeline\">Timeline</a><a href=\"#alerts\">Alerts</a>")
        html.raw("<a href=\"#operations\">Operations</a><a href=\"#assets\">Assets</a><a href=\"#baseline\">Baseline</a>")
        html.raw("<a href=\"#coverage\">Coverage</a></nav></header>\n<main>\n")
    }

    private static func writeSummary(runs: [RunRecord], runID: Int?, alerts: [AlertRecord], assets: [AssetRecord],
                                     conversations: [ConversationRecord], to html: inout HTMLText) {
        html.raw("<section id=\"summary\"><p>")
        if let runID {
            html.text("Run \(runID)")
        } else {
            html.text("\(runs.count) run\(runs.count == 1 ? "" : "s")")
        }
        if let first = runs.first {
            html.text(", started \(reportTime(first.started.nanoseconds))")
        }
        let sources = runs.flatMap(\.sources)
        if !sources.isEmpty {
            html.text(", sources: " + sources.joined(separator: ", "))
        }
        html.raw("</p>\n<ul class=\"counts\">")
        let high = alerts.filter { $0.severity <= 1 }.count
        for (label, value) in [("alerts", alerts.count), ("high severity", high), ("assets", assets.count),
                               ("conversations", conversations.count)] {
            html.raw("<li><strong>\(value)</strong> ")
            html.text(label)
            html.raw("</li>")
        }
        html.raw("</ul></section>\n")
    }

    /// Sorts tables when a header is clicked, and shows the filter controls. The script reads
    /// only the page's own DOM and sets `data-script-ready` on `<html>` so a test can tell it ran.
    static let script = """
        (function () {
          "use strict";
          function cellKey(row, column) {
            var cell = row.cells[column];
            if (!cell) { return ""; }
            var key = cell.getAttribute("data-sort");
            return key !== null ? key : cell.textContent.trim().toLowerCase();
          }
          function sortBy(table, column, header) {
            var ascending = header.getAttribute("aria-sort") !== "ascending";
            Array.prototype.forEach.call(header.parentNode.cells, function (cell) { cell.removeAttribute("aria-sort"); });
            header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
            var numeric = header.getAttribute("data-type") === "number";
            var body = table.tBodies[0];
            var rows = Array.prototype.slice.call(body.rows);
            rows.sort(function (a, b) {
              var x = cellKey(a, column), y = cellKey(b, column);
              var order = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : (x < y ? -1 : (x > y ? 1 : 0));
              return ascending ? order : -order;
            });
            rows.forEach(function (row) { body.appendChild(row); });
          }
          Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
            if (!table.tHead || !table.tBodies.length) { return; }
            Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, column) {
              header.tabIndex = 0;
              header.classList.add("sort-key");
              header.addEventListener("click", function () { sortBy(table, column, header); });
              header.addEventListener("keydown", function (event) {
                if (event.key === "Enter") { sortBy(table, column, header); }
              });
            });
          });
          function applyFilters(table) {
            var text = document.querySelector("input[data-filter='" + table.id + "']");
            var severity = document.querySelector("select[data-severity-filter='" + table.id + "']");
            var query = text ? text.value.toLowerCase() : "";
            var maximum = severity ? parseInt(severity.value, 10) : 3;
            Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
              var level = parseInt(row.getAttribute("data-severity") || "3", 10);
              row.hidden = level > maximum || (query !== "" && row.textContent.toLowerCase().indexOf(query) < 0);
            });
          }
          Array.prototype.forEach.call(document.querySelectorAll("[data-filter], [data-severity-filter]"), function (control) {
            var table = document.getElementById(control.getAttribute("data-filter") || control.getAttribute("data-severity-filter"));
            if (!table) { return; }
            control.hidden = false;
            control.addEventListener("input", function () { applyFilters(table); });
            control.addEventListener("change", function () { applyFilters(table); });
          });
          document.documentElement.setAttribute("data-script-ready", "1");
        }());
        """

    static let stylesheet = """
        :root { color-scheme: light; --ink: #1d2329; --muted: #5b6570; --line: #d5dbe1; --alert: #d62728; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f8fa; }
        header { background: #15212e; color: #fff; padding: 12px 24px; display: flex; align-items: baseline; gap: 24px; flex-wrap: wrap; }
        header h1 { font-size: 20px; margin: 0; }
        nav a { color: #cfe3ff; margin-right: 14px; text-decoration: none; }
        main { padding: 8px 24px 40px; }
        section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 16px 16px; margin: 16px 0; }
        h2 { font-size: 17px; margin: 8px 0 12px; }
        h3 { font-size: 15px; margin: 16px 0 6px; }
        .counts { list-style: none; display: flex; gap: 24px; padding: 0; margin: 4px 0; }
        .counts strong { font-size: 20px; }
        .empty, .note { color: var(--muted); }
        table { border-collapse: collapse; width: 100%; font-size: 13px; }
        th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
        th { background: #eef2f6; position: sticky; top: 0; }
        th.sort-key { cursor: pointer; }
        th[aria-sort="ascending"]::after { content: " \\25B2"; }
        th[aria-sort="descending"]::after { content: " \\25BC"; }
        td code { font-size: 12px; overflow-wrap: anywhere; }
        td.time, td.address, code.rule { white-space: nowrap; }
        tr.suppressed { opacity: 0.55; }
        tr.alerted td:first-child { border-left: 3px solid var(--alert); }
        td.active { font-weight: 600; color: #8a3b00; }
        td.approved { color: #1a7f37; } td.pending { color: #8a3b00; }
        .sev { display: inline-block; padding: 0 6px; border-radius: 3px; color: #fff; white-space: nowrap; }
        .sev1 { background: #d62728; } .sev2 { background: #e06c00; } .sev3 { background: #1f77b4; }
        .label { color: var(--muted); font-size: 12px; }
        .filters { margin: 0 0 8px; display: flex; gap: 8px; }
        .filters input { width: 320px; padding: 4px 6px; }
        .map-scroll { overflow-x: auto; }
        svg text { font-family: system-ui, sans-serif; }
        .map .edge { fill: none; opacity: 0.75; }
        .map .edge.alerted { opacity: 0.95; }
        .map .node rect { fill: #fff; stroke: #7a8794; stroke-width: 1.2; }
        .map .node.alerted rect { stroke: var(--alert); stroke-width: 3; }
        .map .address { font-size: 12px; font-weight: 600; fill: var(--ink); }
        .map .detail { font-size: 11px; fill: var(--muted); }
        .map .subnet { font-size: 12px; font-weight: 600; fill: var(--muted); }
        .map .badge, .map .edge-count circle { fill: var(--alert); }
        .map .badge-text, .map .edge-count text { fill: #fff; font-size: 10px; font-weight: 700; text-anchor: middle; }
        .legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 14px; margin: 8px 0 0; }
        .swatch { display: inline-block; width: 14px; height: 10px; margin-right: 5px; border-radius: 2px; vertical-align: middle; }
        .swatch.alerted { border: 2px solid var(--alert); background: #fff; }
        .timeline .axis { stroke: #7a8794; }
        .timeline .tick { font-size: 11px; fill: var(--muted); }
        dl.coverage { display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; margin: 0; }
        dl.coverage dt { font-weight: 600; }
        dl.coverage dd { margin: 0; }
        """
}
