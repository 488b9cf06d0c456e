import WirecheckCore

extension PacketDecoder {
    /// Emits a decoder anomaly for the packet being decoded, with the endpoints decoded so far.
    func raise(_ definition: AnomalyDefinition, _ message: String, details: JSONObject = JSONObject()) {
        statistics.anomalies[definition.name, default: 0] += 1
        var endpoints = Endpoints(srcMAC: work.sourceMAC, destMAC: work.destinationMAC)
        if addressesKnown {
            endpoints.srcIP = work.sourceIP
            endpoints.destIP = work.destinationIP
            endpoints.ipProtocol = work.ipProtocol
        }
        if portsKnown {
            endpoints.srcPort = work.sourcePort
            endpoints.destPort = work.destinationPort
        }
        sink.emit(Event.anomaly(definition, timestamp: work.timestamp, endpoints: endpoints,
                                packets: [work.reference], message: message, details: details))
    }

    /// Reports a header that does not fit in the bytes from `offset`. When the length fields
    /// (`end`) leave room for it and only the snapshot length cut it off, the capture is at
    /// fault, so the packet is counted and not flagged. Otherwise the packet itself is short.
    func reportTruncated(_ definition: AnomalyDefinition, header: String, minimum: Int, at offset: Int, end: Int,
                         in bytes: UnsafeRawBufferPointer) {
        if offset + minimum <= end, offset + minimum > bytes.count {
            noteSnapshotCut()
            return
        }
        let available = max(0, min(end, bytes.count) - offset)
        raise(definition,
              "\(header) header needs \(minimum) bytes but only \(available) remain in packet \(work.reference.number)\(describeOrigin())",
              details: ["available": .int(available), "required": .int(minimum)])
    }

    /// Counts the packet once in `statistics.snapshotTruncated`, however many layers it cuts.
    func noteSnapshotCut() {
        guard !snapshotCutCounted else { return }
        snapshotCutCounted = true
        statistics.snapshotTruncated += 1
    }

    /// Returns the sender as far as it is known: the IP address, else the MAC address.
    func describeSource() -> String {
        if addressesKnown { return work.sourceIP.description }
        if let mac = work.sourceMAC { return mac.description }
        return "A host"
    }

    private func describeOrigin() -> String {
        if addressesKnown { return " from \(work.sourceIP)" }
        if let mac = work.sourceMAC { return " from \(mac)" }
        return ""
    }

    func hex(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
