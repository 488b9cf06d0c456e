/// Every application protocol Wirecheck can identify, in the order probes are tried.
/// Stricter probes come first so a loose one cannot claim another protocol's bytes.
public enum ProtocolRegistry {
    public static let all: [ApplicationProtocol.Type] = [
        // DNP3 checks start octets, a length and a header CRC before it matches.
        DNP3Protocol.self,
        // OPC UA checks a three-letter message type, a chunk type and a size.
        OPCUAProtocol.self,
        // S7comm and S7comm-plus check TPKT version 3, a COTP type and the first data unit's
        // protocol id (0x32 or 0x72).
        S7commProtocol.self,
        S7commPlusProtocol.self,
        // EtherNet/IP checks a known encapsulation command and a length that fits.
        ENIPProtocol.self,
        // BACnet/IP checks the BVLC type 0x81, a known function and the NPDU version; UDP only.
        BACnetProtocol.self,
        // IEC 104 checks its start octet, an APDU length and defined type ids and causes.
        IEC104Protocol.self,
        ModbusProtocol.self,
        // TLS checks a handshake record header and a ClientHello or ServerHello inside it.
        TLSProtocol.self,
    ]
}
