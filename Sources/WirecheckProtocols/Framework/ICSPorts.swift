/// Ports of each ICS protocol, for the protocol/port mismatch findings.
///
/// The table is the registry's `registeredPorts` plus the well-known ports below, so a port is
/// treated as an ICS port even before its parser exists.
struct ICSPortTable {
    /// Well-known ICS ports and the `app_proto` names used for them in Wirecheck.
    static let wellKnown: [(port: UInt16, transport: Transport, name: String)] = [
        (502, .tcp, "modbus"), (502, .udp, "modbus"),
        (20000, .tcp, "dnp3"), (20000, .udp, "dnp3"),
        (2404, .tcp, "iec104"),
        (44818, .tcp, "enip"), (44818, .udp, "enip"), (2222, .udp, "enip"),
        (102, .tcp, "s7comm"),
        (47808, .udp, "bacnet"),
        (4840, .tcp, "opcua"),
    ]

    private var namesByPort: [Transport: [UInt16: Set<String>]] = [:]
    private var industrialNames: Set<String> = []

    init(protocols: [ApplicationProtocol.Type]) {
        for entry in ICSPortTable.wellKnown {
            namesByPort[entry.transport, default: [:]][entry.port, default: []].insert(entry.name)
            industrialNames.insert(entry.name)
        }
        for type in protocols where type.isIndustrial {
            industrialNames.insert(type.name)
            for (transport, ports) in type.registeredPorts {
                for port in ports {
                    namesByPort[transport, default: [:]][port, default: []].insert(type.name)
                }
            }
        }
    }

    /// Returns the ICS protocols registered on `port`, or nil when it is not an ICS port.
    func protocols(on port: UInt16, transport: Transport) -> Set<String>? {
        namesByPort[transport]?[port]
    }

    func isIndustrial(_ name: String) -> Bool { industrialNames.contains(name) }

    /// Returns the port the flow's service listens on. That is the responder's port when it is
    /// an ICS port, else the originator's when that one is, because a flow picked up mid-stream
    /// may be oriented backwards. Otherwise it is the responder's port.
    func servicePort(source: UInt16, destination: UInt16, transport: Transport) -> UInt16 {
        if protocols(on: destination, transport: transport) != nil { return destination }
        if protocols(on: source, transport: transport) != nil { return source }
        return destination
    }
}
