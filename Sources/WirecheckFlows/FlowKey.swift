import WirecheckCore
import WirecheckDecoding

/// The flow table's hash key: VLANs, protocol and the two (address, port) endpoints in a fixed
/// order, so both directions of a conversation produce the same key. Integers only, so hashing
/// and comparing it allocate nothing.
struct FlowKey: Hashable {
    /// Endpoint A is the lower (address, port) pair, endpoint B the higher.
    var addressAHigh: UInt64
    var addressALow: UInt64
    var addressBHigh: UInt64
    var addressBLow: UInt64
    var portA: UInt16
    var portB: UInt16
    var ipProtocol: UInt8
    var isIPv6: Bool
    var vlan0: UInt16
    var vlan1: UInt16

    /// Builds the key of a packet and reports whether the packet travels from A to B.
    /// ICMP uses the type mapped like Community ID ports, so an echo request and its reply share
    /// a key. Protocols other than TCP, UDP and ICMP use the address pair and protocol alone.
    static func make(_ packet: DecodedPacket) -> (key: FlowKey, fromA: Bool) {
        let (sourceHigh, sourceLow) = FlowKey.words(packet.sourceIP)
        let (destinationHigh, destinationLow) = FlowKey.words(packet.destinationIP)
        var sourcePort: UInt16 = 0
        var destinationPort: UInt16 = 0
        switch packet.ipProtocol {
        case IPProtocolNumber.tcp, IPProtocolNumber.udp:
            sourcePort = packet.sourcePort
            destinationPort = packet.destinationPort
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            let ports = CommunityID.icmpPorts(type: packet.icmpType, code: packet.icmpCode,
                                              isICMPv6: packet.ipProtocol == IPProtocolNumber.icmpv6)
            sourcePort = ports.source
            destinationPort = ports.destination
        default:
            break
        }
        let sourceFirst = (sourceHigh, sourceLow, sourcePort) <= (destinationHigh, destinationLow, destinationPort)
        let vlan0 = packet.vlanCount > 0 ? packet.vlan0 : 0
        let vlan1 = packet.vlanCount > 1 ? packet.vlan1 : 0
        let isIPv6: Bool
        if case .v6 = packet.sourceIP { isIPv6 = true } else { isIPv6 = false }
        if sourceFirst {
            return (FlowKey(addressAHigh: sourceHigh, addressALow: sourceLow, addressBHigh: destinationHigh,
                            addressBLow: destinationLow, portA: sourcePort, portB: destinationPort,
                            ipProtocol: packet.ipProtocol, isIPv6: isIPv6, vlan0: vlan0, vlan1: vlan1), true)
        }
        return (FlowKey(addressAHigh: destinationHigh, addressALow: destinationLow, addressBHigh: sourceHigh,
                        addressBLow: sourceLow, portA: destinationPort, portB: sourcePort,
                        ipProtocol: packet.ipProtocol, isIPv6: isIPv6, vlan0: vlan0, vlan1: vlan1), false)
    }

    static func words(_ address: IPAddress) -> (UInt64, UInt64) {
        switch address {
        case .v4(let value): return (0, UInt64(value))
        case .v6(let high, let low): return (high, low)
        }
    }

    /// Mixes the key and a timestamp into 64 bits with the splitmix64 finaliser. Unlike
    /// `hashValue` the result is the same in every run, so flow ids repeat when a capture is read again.
    func stableHash(with timestamp: Timestamp) -> UInt64 {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func mix(_ value: UInt64) {
            state = (state ^ value) &* 0xBF58_476D_1CE4_E5B9
            state ^= state >> 31
            state = state &* 0x94D0_49BB_1331_11EB
            state ^= state >> 29
        }
        mix(addressAHigh)
        mix(addressALow)
        mix(addressBHigh)
        mix(addressBLow)
        mix(UInt64(portA) << 32 | UInt64(portB) << 16 | UInt64(ipProtocol))
        mix(UInt64(vlan0) << 16 | UInt64(vlan1))
        mix(UInt64(bitPattern: timestamp.nanoseconds))
        return state
    }
}
