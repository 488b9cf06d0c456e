import WirecheckCore
import WirecheckDecoding

// Anomaly, alert and flow events of the flow table.
extension FlowTable {
    /// Counts an anomaly and emits it the first time it happens in the flow.
    func raise(_ anomaly: FlowAnomaly, flow: Flow, packet: DecodedPacket, message: @autoclosure () -> String,
               details: @autoclosure () -> JSONObject = JSONObject()) {
        raise(anomaly, flow: flow, packets: [packet.reference], timestamp: packet.timestamp, message: message(),
              details: details())
    }

    /// Counts an anomaly and emits it the first time. The message and details are built only
    /// then, so repeats cost no allocation.
    func raise(_ anomaly: FlowAnomaly, flow: Flow, packets: @autoclosure () -> [PacketReference], timestamp: Timestamp,
               message: @autoclosure () -> String, details: @autoclosure () -> JSONObject = JSONObject()) {
        if flow.anomalyOccurrences == nil {
            flow.anomalyOccurrences = [UInt32](repeating: 0, count: FlowAnomaly.allCases.count)
        }
        flow.anomalyOccurrences?[anomaly.rawValue] &+= 1
        let bit: UInt32 = 1 << UInt32(anomaly.rawValue)
        guard flow.anomalyBits & bit == 0 else { return }
        flow.anomalyBits |= bit
        sink.emit(Event.anomaly(anomaly.definition, timestamp: timestamp, flow: flow.context, packets: packets(),
                                message: message(), details: details()))
    }

    /// Emits an alert at most once per flow and rule; the rule's bit is its signature id minus 1000.
    func raiseAlert(_ definition: AlertDefinition, flow: Flow, packet: DecodedPacket, message: @autoclosure () -> String,
                    details: @autoclosure () -> JSONObject = JSONObject()) {
        let index = definition.signatureID - FlowCatalogue.firstSignatureID
        guard index >= 0, index < 32 else { return }
        let bit: UInt32 = 1 << UInt32(index)
        guard flow.alertBits & bit == 0 else { return }
        flow.alertBits |= bit
        sink.emit(Event.alert(definition, timestamp: packet.timestamp, flow: flow.context,
                              packets: [packet.reference], message: message(), details: details()))
    }

    /// "10.0.0.5:50000" for the packet's source or destination.
    func endpoint(_ packet: DecodedPacket, source: Bool) -> String {
        let address = source ? packet.sourceIP : packet.destinationIP
        let port = source ? packet.sourcePort : packet.destinationPort
        if case .v6 = address { return "[\(address)]:\(port)" }
        return "\(address):\(port)"
    }

    /// "10.0.0.5:50000 -> 10.0.0.20:502 (TCP)" for a flow.
    func describe(_ context: FlowContext) -> String {
        let name = IPProtocolNumber.name(context.ipProtocol)
        if context.ipProtocol == IPProtocolNumber.tcp || context.ipProtocol == IPProtocolNumber.udp {
            return "\(context.srcIP):\(context.srcPort) -> \(context.destIP):\(context.destPort) (\(name))"
        }
        return "\(context.srcIP) -> \(context.destIP) (\(name))"
    }

    /// EVE `flow.state`: closed after FIN or RST, established once both sides took part, else new.
    func flowState(_ flow: Flow) -> String {
        if let connection = flow.tcp {
            if connection.isClosed { return "closed" }
            if connection.handshakeComplete { return "established" }
            if flow.isMidstream && flow.packetsToServer > 0 && flow.packetsToClient > 0 { return "established" }
            return "new"
        }
        return flow.packetsToServer > 0 && flow.packetsToClient > 0 ? "established" : "new"
    }

    /// Builds the EVE `flow` event written when a flow ends.
    func flowEvent(_ flow: Flow, reason: FlowEndReason, end: Timestamp) -> Event {
        var body: JSONObject = [
            "pkts_toserver": .int(flow.packetsToServer),
            "pkts_toclient": .int(flow.packetsToClient),
            "bytes_toserver": .int(flow.bytesToServer),
            "bytes_toclient": .int(flow.bytesToClient),
            "start": .string(flow.firstSeen.iso8601),
            "end": .string(end.iso8601),
            "age": .int(Int(max(end.seconds - flow.firstSeen.seconds, 0))),
            "state": .string(flowState(flow)),
            "reason": .string(reason.rawValue),
            "alerted": false,
            "conn_state": .string(flow.connState.rawValue),
            "history": .string(flow.history),
            "midstream": .bool(flow.isMidstream),
        ]
        if flow.synDataPackets > 0 { body.set("syn_with_data", .int(flow.synDataPackets)) }
        if let connection = flow.tcp { body.set("tcp", .object(tcpSummary(connection))) }
        let counts = flow.anomalyCounts
        if !counts.isEmpty {
            body.set("anomalies", .object(JSONObject(counts.map { ($0.name, JSONValue.int($0.count)) })))
        }
        let message = "Flow \(describe(flow.context)) ended (\(reason.rawValue)) after \(flow.packetsToServer) packets "
            + "to the server and \(flow.packetsToClient) to the client, conn_state \(flow.connState.rawValue)."
        return Event(eventType: "flow", timestamp: end, flow: flow.context, packets: [flow.firstPacket],
                     message: message, body: ["flow": .object(body)])
    }
}

extension FlowTable {
    /// Builds the TCP flags summary Suricata writes in its flow records: the union of all flags
    /// as two hex digits, per direction and overall, and one boolean per common flag.
    func tcpSummary(_ connection: TCPConnection) -> JSONObject {
        let all = connection.flagsToServer.union(connection.flagsToClient)
        return [
            "tcp_flags": .string(hexByte(all)),
            "tcp_flags_ts": .string(hexByte(connection.flagsToServer)),
            "tcp_flags_tc": .string(hexByte(connection.flagsToClient)),
            "syn": .bool(all.contains(.syn)),
            "fin": .bool(all.contains(.fin)),
            "rst": .bool(all.contains(.rst)),
            "psh": .bool(all.contains(.psh)),
            "ack": .bool(all.contains(.ack)),
        ]
    }

    private func hexByte(_ flags: TCPFlags) -> String {
        let value = UInt8(truncatingIfNeeded: flags.rawValue)
        let digits = String(value, radix: 16)
        return value < 16 ? "0" + digits : digits
    }
}

extension Flow {
    /// Occurrences of each flow anomaly in this flow, including the first one that was emitted.
    public var anomalyCounts: [(name: String, count: Int)] {
        guard let occurrences = anomalyOccurrences else { return [] }
        return FlowAnomaly.allCases.compactMap { anomaly in
            let count = occurrences[anomaly.rawValue]
            return count > 0 ? (anomaly.definition.name, Int(count)) : nil
        }
    }
}
