import WirecheckCore

/// Lays out one event as an EVE JSON object: the common members first, in the order Suricata
/// writes them, then the evidence, then the event-specific body.
public enum EveRecord {
    public static func object(for event: Event, sources: CaptureSourceTable) -> JSONObject {
        var record = JSONObject()
        record.pairs.reserveCapacity(16 + event.body.pairs.count)
        record.pairs.append(("timestamp", .string(event.timestamp.iso8601)))
        if let flow = event.flow {
            record.pairs.append(("flow_id", .int(Int64(bitPattern: flow.flowID & 0x7fff_ffff_ffff_ffff))))
            record.pairs.append(("community_id", .string(flow.communityID)))
        }
        record.pairs.append(("event_type", .string(event.eventType)))
        if let flow = event.flow {
            if !flow.vlans.isEmpty { record.pairs.append(("vlan", .array(flow.vlans.map { .int($0) }))) }
            record.pairs.append(("src_ip", .string(flow.srcIP.description)))
            record.pairs.append(("src_port", .int(flow.srcPort)))
            record.pairs.append(("dest_ip", .string(flow.destIP.description)))
            record.pairs.append(("dest_port", .int(flow.destPort)))
            record.pairs.append(("proto", .string(IPProtocolNumber.name(flow.ipProtocol))))
            if let appProto = flow.appProto { record.pairs.append(("app_proto", .string(appProto))) }
        } else if let endpoints = event.endpoints {
            if let ip = endpoints.srcIP { record.pairs.append(("src_ip", .string(ip.description))) }
            if let port = endpoints.srcPort { record.pairs.append(("src_port", .int(port))) }
            if let ip = endpoints.destIP { record.pairs.append(("dest_ip", .string(ip.description))) }
            if let port = endpoints.destPort { record.pairs.append(("dest_port", .int(port))) }
            if let proto = endpoints.ipProtocol { record.pairs.append(("proto", .string(IPProtocolNumber.name(proto)))) }
            if let mac = endpoints.srcMAC { record.pairs.append(("src_mac", .string(mac.description))) }
            if let mac = endpoints.destMAC { record.pairs.append(("dest_mac", .string(mac.description))) }
        }
        if !event.packets.isEmpty {
            record.pairs.append(("capture", .object(captureObject(event.packets, sources: sources))))
        }
        if let message = event.message {
            record.pairs.append(("message", .string(message)))
        }
        record.pairs.append(contentsOf: event.body.pairs)
        return record
    }

    /// Groups packet references by capture source: `{"file": "a.pcap", "packets": [3, 9]}`, or
    /// a list of such groups when the evidence spans several files.
    static func captureObject(_ packets: [PacketReference], sources: CaptureSourceTable) -> JSONObject {
        let sorted = packets.sorted()
        var groups: [(UInt16, [JSONValue])] = []
        for packet in sorted {
            if let last = groups.last, last.0 == packet.source {
                if case .int(let previous)? = last.1.last, previous == Int64(packet.number) { continue }
                groups[groups.count - 1].1.append(.int(packet.number))
            } else {
                groups.append((packet.source, [.int(packet.number)]))
            }
        }
        if groups.count == 1 {
            return ["file": .string(sources.name(of: groups[0].0)), "packets": .array(groups[0].1)]
        }
        let files: [JSONValue] = groups.map { group in
            .object(["file": .string(sources.name(of: group.0)), "packets": .array(group.1)])
        }
        return ["files": .array(files)]
    }
}
