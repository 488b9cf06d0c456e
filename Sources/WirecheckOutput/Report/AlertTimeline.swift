/// The alert timeline: alert counts per time bin as stacked SVG bars, one colour per severity.
struct AlertTimeline {
    /// Bin widths in minutes, from finest to coarsest. The chart uses the finest width that gives
    /// at most `maximumBins` bins, so a week of alerts still draws readable bars.
    static let binMinutes: [Int64] = [1, 5, 15, 60, 360, 1440, 10_080]
    static let maximumBins: Int64 = 180
    static let chartWidth = 1200.0
    static let chartHeight = 150.0
    static let leftMargin = 40.0
    static let bottomMargin = 24.0

    /// Alert times in nanoseconds with their severity.
    let alerts: [(time: Int64, severity: Int)]

    func write(to html: inout HTMLText) {
        guard let first = alerts.map(\.time).min(), let last = alerts.map(\.time).max() else {
            html.raw("<p class=\"empty\">No alerts were raised.</p>\n")
            return
        }
        let minuteNanoseconds: Int64 = 60_000_000_000
        let startMinute = first / minuteNanoseconds
        let spanMinutes = last / minuteNanoseconds - startMinute + 1
        let binWidth = AlertTimeline.binMinutes.first { (spanMinutes + $0 - 1) / $0 <= AlertTimeline.maximumBins }
            ?? AlertTimeline.binMinutes[AlertTimeline.binMinutes.count - 1]
        let binCount = Int((spanMinutes + binWidth - 1) / binWidth)

        // counts[bin][severity - 1]. Severities outside 1...3 count as low.
        var counts = Array(repeating: [0, 0, 0], count: max(binCount, 1))
        for alert in alerts {
            let bin = Int((alert.time / minuteNanoseconds - startMinute) / binWidth)
            guard bin >= 0, bin < counts.count else { continue }
            counts[bin][min(max(alert.severity, 1), 3) - 1] += 1
        }
        let peak = max(counts.map { $0.reduce(0, +) }.max() ?? 1, 1)

        let plotWidth = AlertTimeline.chartWidth - AlertTimeline.leftMargin - 10
        let plotHeight = AlertTimeline.chartHeight - AlertTimeline.bottomMargin - 10
        let barWidth = plotWidth / Double(counts.count)
        html.raw("<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Alerts per \(binWidth) minutes\" ")
        html.raw("width=\"\(Int(AlertTimeline.chartWidth))\" height=\"\(Int(AlertTimeline.chartHeight))\">\n")
        let baseline = 10 + plotHeight
        html.raw("<line class=\"axis\" x1=\"\(format(AlertTimeline.leftMargin))\" y1=\"\(format(baseline))\" ")
        html.raw("x2=\"\(format(AlertTimeline.leftMargin + plotWidth))\" y2=\"\(format(baseline))\"/>\n")
        html.raw("<text class=\"tick\" x=\"\(format(AlertTimeline.leftMargin - 6))\" y=\"16\" text-anchor=\"end\">\(peak)</text>\n")
        html.raw("<text class=\"tick\" x=\"\(format(AlertTimeline.leftMargin - 6))\" y=\"\(format(baseline))\" text-anchor=\"end\">0</text>\n")

        for (bin, severities) in counts.enumerated() {
            var top = baseline
            let x = AlertTimeline.leftMargin + Double(bin) * barWidth
            let binStart = (startMinute + Int64(bin) * binWidth) * minuteNanoseconds
            for (index, count) in severities.enumerated() where count > 0 {
                let severity = index + 1
                let barHeight = plotHeight * Double(count) / Double(peak)
                top -= barHeight
                html.raw("<rect x=\"\(format(x + 0.5))\" y=\"\(format(top))\" width=\"\(format(max(barWidth - 1, 1)))\" ")
                html.raw("height=\"\(format(barHeight))\" fill=\"\(ReportPalette.severity[severity] ?? "#888")\"><title>")
                html.text("\(reportTime(binStart)): \(count) \(ReportPalette.severityNames[severity] ?? "") severity")
                html.raw("</title></rect>\n")
            }
        }
        html.raw("<text class=\"tick\" x=\"\(format(AlertTimeline.leftMargin))\" y=\"\(format(AlertTimeline.chartHeight - 6))\">")
        html.text(reportTime(startMinute * minuteNanoseconds))
        html.raw("</text>\n<text class=\"tick\" x=\"\(format(AlertTimeline.leftMargin + plotWidth))\" ")
        html.raw("y=\"\(format(AlertTimeline.chartHeight - 6))\" text-anchor=\"end\">")
        html.text(reportTime((startMinute + Int64(counts.count) * binWidth) * minuteNanoseconds))
        html.raw("</text>\n</svg>\n")
        html.raw("<p class=\"note\">Alerts per \(binWidth) minute\(binWidth == 1 ? "" : "s"); ")
        for severity in 1...3 {
            html.raw("<span class=\"swatch\" style=\"background:\(ReportPalette.severity[severity] ?? "#888")\"></span>")
            html.raw("\(ReportPalette.severityNames[severity] ?? "") ")
        }
        html.raw("</p>\n")
    }
}
