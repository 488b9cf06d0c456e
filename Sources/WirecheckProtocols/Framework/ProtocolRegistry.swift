/// Every application protocol Wirecheck can identify, in the order probes are tried.
/// Stricter probes come first so a loose one cannot claim another protocol's bytes.
public enum ProtocolRegistry {
    public static let all: [ApplicationProtocol.Type] = [
        // DNP3 checks start octets, a length and a header CRC before it matches.
        DNP3Protocol.self,
        // IEC 104 checks its start octet, an APDU length and defined type ids and causes.
        IEC104Protocol.self,
        ModbusProtocol.self,
    ]
}
