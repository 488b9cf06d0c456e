/// EtherType numbers: the ones the decoder follows, and the ones it recognises but leaves to
/// other tools, so that only unfamiliar types raise `decoder.ethernet.unknown_ethertype`.
public enum EtherType {
    public static let ipv4: UInt16 = 0x0800
    public static let arp: UInt16 = 0x0806
    public static let vlan: UInt16 = 0x8100
    public static let ipv6: UInt16 = 0x86DD
    public static let serviceVLAN: UInt16 = 0x88A8
    /// The pre-standard QinQ tag protocol identifier some switches still send.
    public static let legacyServiceVLAN: UInt16 = 0x9100
    /// Bridged Ethernet inside GRE or Geneve.
    public static let transparentEthernetBridging: UInt16 = 0x6558

    /// EtherTypes of common link and industrial protocols that are not decoded but are normal
    /// on an ICS network.
    public static let knownUndecoded: Set<UInt16> = [
        0x0842, // Wake-on-LAN
        0x22F0, // AVTP (IEEE 1722)
        0x22F3, // TRILL
        0x6002, // DEC MOP remote console
        0x8035, // RARP
        0x809B, // AppleTalk
        0x80F3, // AppleTalk ARP
        0x8137, // IPX
        0x8808, // Ethernet flow control (PAUSE)
        0x8809, // Slow protocols (LACP, marker)
        0x8847, // MPLS unicast
        0x8848, // MPLS multicast
        0x8863, // PPPoE discovery
        0x8864, // PPPoE session
        0x886F, // Microsoft NLB heartbeat
        0x887B, // HomePlug
        0x888E, // EAPOL (802.1X)
        0x8892, // PROFINET real-time
        0x889A, // HyperSCSI
        0x88A2, // ATA over Ethernet
        0x88A4, // EtherCAT
        0x88AB, // Ethernet POWERLINK
        0x88B8, // IEC 61850 GOOSE
        0x88B9, // IEC 61850 GSE management
        0x88BA, // IEC 61850 sampled values
        0x88CC, // LLDP
        0x88CD, // SERCOS III
        0x88E1, // HomePlug AV
        0x88E3, // Media redundancy protocol (MRP)
        0x88E5, // MACsec
        0x88E7, // Provider backbone bridging
        0x88F7, // Precision time protocol (PTP)
        0x88F8, // NC-SI
        0x88FB, // Parallel redundancy protocol (PRP)
        0x8902, // Connectivity fault management (CFM)
        0x8906, // Fibre Channel over Ethernet
        0x8914, // FCoE initialization
        0x892F, // High-availability seamless redundancy (HSR)
        0x893A, // IEEE 1905.1
        0x9000, // Ethernet configuration testing (loopback)
    ]
}
