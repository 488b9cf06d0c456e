import WirecheckCore
import WirecheckProtocols

/// Counts failed TLS handshakes per client, server and port across flows and raises one
/// `tls.repeated_handshake_failure` alert when a pair reaches `threshold` failures.
final class RepeatedFailureTracker {
    /// Failures between one pair that make a pattern rather than an accident.
    static let threshold = 3
    /// Pairs tracked; past this, failures of new pairs are not counted (bounded memory).
    static let maxPairs = 65_536

    private struct Pair: Hashable {
        var client: IPAddress
        var server: IPAddress
        var port: UInt16
    }

    private struct Failures {
        var count = 0
        var packets: [PacketReference] = []
        var alerted = false
    }

    private var pairs: [Pair: Failures] = [:]
    private(set) var untrackedFailures: UInt64 = 0

    /// Looks at an event on its way out and returns the alert to raise, if this event completes
    /// a pattern.
    func observe(_ event: Event) -> Event? {
        guard event.eventType == "alert", let rule = event.alertRule,
              rule == TLSCatalogue.handshakeIncomplete.name || rule == TLSCatalogue.serverAlert.name,
              let flow = event.flow else { return nil }
        let pair = Pair(client: flow.srcIP, server: flow.destIP, port: flow.destPort)
        if pairs[pair] == nil && pairs.count >= RepeatedFailureTracker.maxPairs {
            untrackedFailures += 1
            return nil
        }
        var failures = pairs[pair] ?? Failures()
        failures.count += 1
        if failures.packets.count < 8 { failures.packets.append(contentsOf: event.packets.prefix(2)) }
        defer { pairs[pair] = failures }
        guard failures.count >= RepeatedFailureTracker.threshold, !failures.alerted else { return nil }
        failures.alerted = true
        return .alert(TLSCatalogue.repeatedHandshakeFailure, timestamp: event.timestamp, flow: flow,
                      packets: failures.packets,
                      message: "\(flow.srcIP) failed \(failures.count) TLS handshakes with \(flow.destIP) port \(flow.destPort) (no ServerHello or a fatal server alert each time).",
                      details: ["failures": .int(failures.count)])
    }
}
