/// Colours of the report, kept apart from the drawing code.
enum ReportPalette {
    /// Edge colours of the application protocols the sensor parses, chosen to stay distinct.
    static let protocolColours: [String: String] = [
        "modbus": "#1f77b4", "dnp3": "#2ca02c", "enip": "#9467bd", "s7comm": "#8c564b",
        "iec104": "#e377c2", "bacnet": "#17becf", "opcua": "#bcbd22", "tls": "#ff7f0e",
        "http": "#7f7f7f", "dns": "#aec7e8", "ssh": "#ffbb78",
    ]
    /// Colours for other protocols, handed out in sorted protocol-name order.
    static let spareColours = ["#98df8a", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5", "#393b79", "#637939"]
    /// Edges whose protocol was not identified.
    static let unidentified = "#b0b0b0"
    static let alertStroke = "#d62728"

    /// Bar colours of severity 1 (high), 2 (medium) and 3 (low).
    static let severity = [1: "#d62728", 2: "#ff7f0e", 3: "#1f77b4"]
    static let severityNames = [1: "high", 2: "medium", 3: "low"]

    /// Assigns a colour to every protocol in `protocols`, deterministically.
    static func colours(for protocols: [String]) -> [String: String] {
        var result: [String: String] = [:]
        var spareIndex = 0
        for name in Set(protocols).sorted() {
            if let colour = protocolColours[name] {
                result[name] = colour
            } else {
                result[name] = spareColours[spareIndex % spareColours.count]
                spareIndex += 1
            }
        }
        return result
    }
}
