/// Names the baseline prints for protocols, codes and roles, kept apart from the logic.
enum ProtocolNames {
    /// Client and server roles per `app_proto`, in each protocol's own terms.
    static let roles: [String: (client: String, server: String)] = [
        "modbus": ("client", "server"),
        "dnp3": ("master", "outstation"),
        "iec104": ("controlling station", "controlled station"),
        "s7comm": ("client", "PLC"),
        "enip": ("scanner", "adapter"),
        "cip": ("scanner", "adapter"),
        "bacnet": ("client", "device"),
        "opcua": ("client", "server"),
    ]

    /// Display names for messages.
    static let displayNames: [String: String] = [
        "modbus": "Modbus", "dnp3": "DNP3", "iec104": "IEC 104", "s7comm": "S7comm",
        "enip": "EtherNet/IP", "cip": "CIP", "bacnet": "BACnet", "opcua": "OPC UA",
    ]

    /// The word each protocol uses for an operation's number (`fc` for Modbus).
    static let codeLabels: [String: String] = [
        "modbus": "fc", "dnp3": "function", "iec104": "type", "s7comm": "function",
        "enip": "command", "cip": "service", "bacnet": "service", "opcua": "service",
    ]

    static func display(_ proto: String?) -> String {
        guard let proto else { return "unidentified" }
        return displayNames[proto] ?? proto
    }

    static func codeLabel(_ proto: String) -> String { codeLabels[proto] ?? "code" }

    static func transport(_ ipProtocol: UInt8) -> String {
        switch ipProtocol {
        case 6: return "tcp"
        case 17: return "udp"
        case 1: return "icmp"
        case 58: return "icmpv6"
        default: return String(ipProtocol)
        }
    }

    static func ipProtocol(transport: String) -> UInt8? {
        switch transport {
        case "tcp": return 6
        case "udp": return 17
        case "icmp": return 1
        case "icmpv6": return 58
        default: return UInt8(transport)
        }
    }
}
