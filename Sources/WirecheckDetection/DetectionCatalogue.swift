import WirecheckCore

/// Every anomaly and alert that the cross-flow detectors (scans, ARP) can raise.
public enum DetectionCatalogue: EventCatalogue {
    // Both scan directions map to Remote System Discovery (T0846). Network Connection
    // Enumeration (T0840) is about listing the connections of a device the adversary already
    // controls, not about probing the ports of a remote one.
    public static let horizontalScan = AlertDefinition(
        "scan.horizontal", signatureID: 1100, signature: "Horizontal scan: one source probed many hosts",
        category: "Attempted Information Leak", severity: 2, technique: .remoteSystemDiscovery,
        summary: "One source sent TCP SYNs, UDP probes or ICMP echo requests to many hosts within the window, "
            + "and at least the threshold of them were not answered, rejected or left half-open. Check whether the source is an approved "
            + "asset-inventory or engineering tool.")

    public static let verticalScan = AlertDefinition(
        "scan.vertical", signatureID: 1101, signature: "Vertical scan: one source probed many ports of one host",
        category: "Attempted Information Leak", severity: 2, technique: .remoteSystemDiscovery,
        summary: "One source sent TCP SYNs or UDP probes to many ports of one host within the window, and at "
            + "least the threshold of them were not answered, rejected or left half-open. Check the source and what the target "
            + "exposes.")

    public static let gratuitousARP = AlertDefinition(
        "arp.gratuitous", signatureID: 1110, signature: "Gratuitous ARP announcement",
        category: "Potentially Bad Traffic", severity: 3, technique: .adversaryInTheMiddle,
        summary: "A host announced its own IP-to-MAC binding without being asked (sender IP equal to target IP, "
            + "or a reply sent to broadcast). Informational when the binding is unchanged, severity 1 when it "
            + "moves the IP address to another MAC address.")

    public static let ipMACChanged = AlertDefinition(
        "arp.ip_mac_changed", signatureID: 1111, signature: "ARP binding of an IP address moved to another MAC",
        category: "Potentially Bad Traffic", severity: 1, technique: .adversaryInTheMiddle,
        summary: "ARP traffic bound an IP address to a MAC address other than the one seen before, as ARP "
            + "spoofing does. Check which device owns the new MAC address; a replaced device or a failover "
            + "pair also causes this.")

    public static let unsolicitedReply = AlertDefinition(
        "arp.unsolicited_reply", signatureID: 1112, signature: "ARP reply without a request",
        category: "Potentially Bad Traffic", severity: 2, technique: .adversaryInTheMiddle,
        summary: "An ARP reply answered no request seen within the reply window. Severity 1 when it moves the "
            + "IP address to another MAC address.")

    public static let arpBindingLimitReached = AnomalyDefinition(
        "arp.binding_limit_reached", type: .stream, layer: "arp",
        summary: "The ARP monitor reached its limit of tracked IP-to-MAC bindings or pending requests, so "
            + "later addresses are not checked for rebinding. Raised once per run.")

    public static let scanSourceLimitReached = AnomalyDefinition(
        "scan.source_limit_reached", type: .stream,
        summary: "The scan detector reached its limit of tracked sources and began evicting the least recently "
            + "seen ones, so a slow scan from an evicted source can be missed. Raised once per run.")

    public static var anomalies: [AnomalyDefinition] { [arpBindingLimitReached, scanSourceLimitReached] }

    public static var alerts: [AlertDefinition] {
        [horizontalScan, verticalScan, gratuitousARP, ipMACChanged, unsolicitedReply]
    }
}
