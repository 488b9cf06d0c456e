/// Every application protocol Wirecheck can identify, in the order probes are tried.
/// Stricter probes come first so a loose one cannot claim another protocol's bytes.
public enum ProtocolRegistry {
    public static let all: [ApplicationProtocol.Type] = [
        TLSProtocol.self,
    ]
}
