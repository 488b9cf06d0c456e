/// Server ports used to decide which side of a flow is the responder when the handshake was
/// not seen. Ports below 1024 count as service ports too.
enum ServicePorts {
    /// Registered ports of ICS protocols and common services above 1023, with their protocol.
    static let named: [(port: UInt16, name: String)] = [
        (102, "S7comm / ISO-TSAP"),
        (502, "Modbus/TCP"),
        (1883, "MQTT"),
        (1911, "Niagara Fox"),
        (1962, "PCWorx"),
        (2222, "EtherNet/IP I/O"),
        (2404, "IEC 60870-5-104"),
        (2455, "CODESYS"),
        (4840, "OPC UA"),
        (5006, "MELSEC"),
        (5007, "MELSEC"),
        (5094, "HART-IP"),
        (8883, "MQTT over TLS"),
        (9600, "OMRON FINS"),
        (18245, "GE SRTP"),
        (20000, "DNP3"),
        (20547, "ProConOS"),
        (34962, "PROFINET RT"),
        (34963, "PROFINET RT"),
        (34964, "PROFINET CM"),
        (44818, "EtherNet/IP"),
        (47808, "BACnet/IP"),
    ]

    /// Lookup by port: one bit per port, filled once from `named`.
    private static let bitmap: [UInt64] = {
        var bits = [UInt64](repeating: 0, count: 1024)
        for entry in named {
            bits[Int(entry.port >> 6)] |= 1 << UInt64(entry.port & 63)
        }
        return bits
    }()

    static func isService(_ port: UInt16) -> Bool {
        if port != 0 && port < 1024 { return true }
        return bitmap[Int(port >> 6)] & (1 << UInt64(port & 63)) != 0
    }

    /// Decides whether the sender of a flow's first packet is the responder: true when its source
    /// port is a service port and the destination port is not, or both are service ports and the
    /// source port is the lower one.
    static func senderLooksLikeResponder(sourcePort: UInt16, destinationPort: UInt16) -> Bool {
        let sourceIsService = isService(sourcePort)
        let destinationIsService = isService(destinationPort)
        if sourceIsService && !destinationIsService { return true }
        if sourceIsService && destinationIsService { return sourcePort < destinationPort }
        return false
    }
}
