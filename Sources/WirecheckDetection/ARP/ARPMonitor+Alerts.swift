import WirecheckCore
import WirecheckDecoding

extension ARPMonitor {
    func endpoints(_ arp: ARPFields) -> Endpoints {
        Endpoints(srcIP: .v4(arp.senderIP), destIP: .v4(arp.targetIP), srcMAC: arp.senderMAC, destMAC: arp.targetMAC)
    }

    static func operationName(_ operation: UInt16) -> String {
        operation == 1 ? "request" : "reply"
    }

    /// Builds the `arp` details member shared by the ARP alerts.
    func details(_ arp: ARPFields, previousMAC: MACAddress?) -> JSONObject {
        var details: JSONObject = [
            "operation": .string(Self.operationName(arp.operation)),
            "sender_ip": .string(IPAddress.v4(arp.senderIP).description),
            "sender_mac": .string(arp.senderMAC.description),
            "target_ip": .string(IPAddress.v4(arp.targetIP).description),
            "target_mac": .string(arp.targetMAC.description),
        ]
        if let previousMAC { details.set("previous_mac", .string(previousMAC.description)) }
        return details
    }
}
