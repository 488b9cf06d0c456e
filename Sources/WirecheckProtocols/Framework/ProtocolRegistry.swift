/// Every application protocol Wirecheck can identify, in the order probes are tried.
/// Stricter probes come first so a loose one cannot claim another protocol's bytes.
public enum ProtocolRegistry {
    public static let all: [ApplicationProtocol.Type] = [
        // Both check a start octet and a length or CRC before they match.
        DNP3Protocol.self,
        IEC104Protocol.self,
    ]
}
