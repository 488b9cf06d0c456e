import WirecheckCore
import WirecheckFlows
import WirecheckOutput

/// Bytes, packets and flows per IP address, accumulated from ended flows for the summary's
/// top talkers. Bounded so a spoofed-source flood cannot grow it without limit.
final class TalkerTable {
    /// Hosts tracked; later hosts are counted only in `untrackedFlows`.
    static let maxHosts = 65_536

    private var hosts: [IPAddress: RunSummary.Talker] = [:]
    private(set) var untrackedFlows: UInt64 = 0

    func record(_ flow: Flow) {
        let bytes = flow.bytesToServer + flow.bytesToClient
        let packets = flow.packetsToServer + flow.packetsToClient
        // A flow between two sockets of one host (loopback) counts once for that host.
        let addresses = flow.context.srcIP == flow.context.destIP ? [flow.context.srcIP] : [flow.context.srcIP, flow.context.destIP]
        for address in addresses {
            if var talker = hosts[address] {
                talker.bytes += bytes
                talker.packets += packets
                talker.flows += 1
                hosts[address] = talker
            } else if hosts.count < TalkerTable.maxHosts {
                hosts[address] = RunSummary.Talker(address: address, bytes: bytes, packets: packets, flows: 1)
            } else {
                untrackedFlows += 1
            }
        }
    }

    /// Adds another table's hosts to this one, summing the counts of an address both contain.
    func merge(_ other: TalkerTable) {
        untrackedFlows += other.untrackedFlows
        for (address, talker) in other.hosts {
            if var existing = hosts[address] {
                existing.bytes += talker.bytes
                existing.packets += talker.packets
                existing.flows += talker.flows
                hosts[address] = existing
            } else if hosts.count < TalkerTable.maxHosts {
                hosts[address] = talker
            } else {
                untrackedFlows += talker.flows
            }
        }
    }

    func top(_ count: Int) -> [RunSummary.Talker] {
        Array(hosts.values.sorted { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.address < $1.address }.prefix(count))
    }
}
