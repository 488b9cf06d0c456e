import WirecheckCore

/// Holds back checksum anomalies until it is clear whether a host's bad checksums are real.
///
/// A capture taken on a host whose network card computes checksums after capture (checksum
/// offload) shows every packet that host sends with a placeholder checksum. Raising an anomaly
/// for each would bury real findings, so the filter counts, per source address, the packets
/// decoded and the checksum anomalies. Once a host has sent `decisionPackets` packets, or at the
/// end of the run, a host with bad checksums on at least `offloadShare` of them (and at least
/// `minimumOffloadPackets`) is taken as offloading: its checksum anomalies are counted, not
/// written. Any other host's held anomalies are written, and later ones pass straight through.
final class ChecksumOffloadFilter: EventSink {
    static let decisionPackets = 200
    static let offloadShare = 0.5
    static let minimumOffloadPackets = 10
    /// Held anomalies per undecided host; further ones are only counted.
    static let maxHeldPerHost = 32
    /// Undecided hosts; past this, a new host's checksum anomalies pass through undecided.
    static let maxPendingHosts = 4096

    private struct HostState {
        var packets = 0
        var badPackets = 0
        var held: [Event] = []
        var lastPacket: PacketReference?
    }

    private let downstream: EventSink
    private var pending: [IPAddress: HostState] = [:]
    /// Hosts already judged: true when their bad checksums are taken as offload.
    private var decided: [IPAddress: Bool] = [:]
    /// Checksum anomalies not written because their host offloads checksums, per host.
    private(set) var suppressedByHost: [IPAddress: UInt64] = [:]

    init(downstream: EventSink) {
        self.downstream = downstream
    }

    var hasPendingHosts: Bool { !pending.isEmpty }

    func emit(_ event: Event) {
        guard let name = event.anomalyName, name.hasSuffix(".checksum_invalid"), let source = event.endpoints?.srcIP ?? event.flow?.srcIP else {
            downstream.emit(event)
            return
        }
        if let offloads = decided[source] {
            if offloads { suppressedByHost[source, default: 0] += 1 } else { downstream.emit(event) }
            return
        }
        if pending[source] == nil && pending.count >= ChecksumOffloadFilter.maxPendingHosts {
            downstream.emit(event)
            return
        }
        var state = pending[source] ?? HostState()
        // Several checksums (IPv4 and TCP) of one packet count as one bad packet.
        if state.lastPacket != event.packets.first {
            state.badPackets += 1
            state.lastPacket = event.packets.first
        }
        if state.held.count < ChecksumOffloadFilter.maxHeldPerHost { state.held.append(event) }
        pending[source] = state
    }

    /// Counts one decoded packet from `source`; call only while `hasPendingHosts` is true.
    func packetDecoded(from source: IPAddress) {
        guard var state = pending[source] else { return }
        state.packets += 1
        if state.packets >= ChecksumOffloadFilter.decisionPackets {
            pending[source] = nil
            decide(source, state)
        } else {
            pending[source] = state
        }
    }

    /// Judges every undecided host; call at the end of the run.
    func finish() {
        for (source, state) in pending.sorted(by: { $0.key < $1.key }) {
            decide(source, state)
        }
        pending.removeAll()
    }

    private func decide(_ source: IPAddress, _ state: HostState) {
        let packets = max(state.packets, state.badPackets)
        let offloads = state.badPackets >= ChecksumOffloadFilter.minimumOffloadPackets
            && Double(state.badPackets) >= ChecksumOffloadFilter.offloadShare * Double(packets)
        decided[source] = offloads
        if offloads {
            suppressedByHost[source, default: 0] += UInt64(state.badPackets)
        } else {
            for event in state.held { downstream.emit(event) }
        }
    }
}
