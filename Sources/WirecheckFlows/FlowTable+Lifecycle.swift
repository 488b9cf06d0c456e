import WirecheckCore
import WirecheckDecoding

// Idle lists, eviction and the end of a flow.
extension FlowTable {
    /// Closed connections and unanswered handshakes linger briefly; live ones get the long timeout.
    func tcpTimeoutClass(_ flow: Flow, _ connection: TCPConnection) -> FlowTimeoutClass {
        if connection.isClosed { return .tcpClosed }
        if connection.handshakeComplete || flow.isMidstream { return .tcpEstablished }
        if connection.originator.state == .partial || connection.responder.state == .partial { return .tcpEstablished }
        return .tcpShort
    }

    func appendToList(_ flow: Flow) {
        let index = flow.timeoutClass.rawValue
        flow.listNext = nil
        flow.listPrevious = listTails[index]
        if let tail = listTails[index] {
            tail.listNext = flow
        } else {
            listHeads[index] = flow
        }
        listTails[index] = flow
        flow.isListed = true
    }

    func removeFromList(_ flow: Flow) {
        guard flow.isListed else { return }
        let index = flow.timeoutClass.rawValue
        if let previous = flow.listPrevious {
            previous.listNext = flow.listNext
        } else {
            listHeads[index] = flow.listNext
        }
        if let next = flow.listNext {
            next.listPrevious = flow.listPrevious
        } else {
            listTails[index] = flow.listPrevious
        }
        flow.listNext = nil
        flow.listPrevious = nil
        flow.isListed = false
    }

    /// Marks the flow as the most recently active of its class.
    func touch(_ flow: Flow) {
        guard listTails[flow.timeoutClass.rawValue] !== flow else { return }
        removeFromList(flow)
        appendToList(flow)
    }

    func moveToList(_ flow: Flow, class timeoutClass: FlowTimeoutClass) {
        guard flow.timeoutClass != timeoutClass else { return }
        removeFromList(flow)
        flow.timeoutClass = timeoutClass
        appendToList(flow)
    }

    /// Returns the flow with the oldest last activity among the heads of all idle lists.
    func leastRecentlyActiveFlow() -> Flow? {
        var oldest: Flow?
        for head in listHeads {
            guard let head else { continue }
            if oldest == nil || head.lastSeen < oldest!.lastSeen { oldest = head }
        }
        return oldest
    }

    /// Ends the least recently active flow to make room, and reports the first eviction.
    func evictOne(for packet: DecodedPacket) {
        guard let victim = leastRecentlyActiveFlow() else { return }
        statistics.flowsEvicted += 1
        if !flowLimitReported {
            flowLimitReported = true
            let context = victim.context
            let message = "The flow table reached its limit of \(configuration.maxFlows) flows, so it ended the least "
                + "recently active flow \(describe(context)) early; further evictions are counted in the flow statistics."
            sink.emit(Event.anomaly(FlowCatalogue.flowLimitReached, timestamp: packet.timestamp, flow: context,
                                    packets: [victim.firstPacket, packet.reference], message: message,
                                    details: ["max_flows": .int(configuration.maxFlows)]))
        }
        endFlow(victim, reason: .forced, at: packet.timestamp)
    }

    /// Flushes the flow's reassemblers, calls the consumer's `flowEnded`, emits the `flow` event
    /// and removes the flow from the table.
    func endFlow(_ flow: Flow, reason: FlowEndReason, at timestamp: Timestamp) {
        removeFromList(flow)
        if let key = flow.tableKey, flows[key] === flow { flows[key] = nil }
        flow.endReason = reason
        let endTime = max(timestamp, flow.lastSeen)

        if let connection = flow.tcp {
            flushReassembler(connection.reassemblerToServer, flow: flow, toServer: true, timestamp: endTime)
            flushReassembler(connection.reassemblerToClient, flow: flow, toServer: false, timestamp: endTime)
            connection.reassemblerToServer = nil
            connection.reassemblerToClient = nil
            flow.connState = connection.connState(of: flow)
        }
        consumer?.flowEnded(flow, timestamp: endTime)
        sink.emit(flowEvent(flow, reason: reason, end: endTime))

        statistics.flowsEnded += 1
        statistics.activeFlows = flows.count
        statistics.connStates[flow.connState, default: 0] += 1
    }

    private func flushReassembler(_ reassembler: StreamReassembler?, flow: Flow, toServer: Bool, timestamp: Timestamp) {
        guard let reassembler else { return }
        let consumer = self.consumer
        reassembler.flush { chunk in
            if case .gap = chunk { self.recordHistory(flow, UInt8(ascii: "G"), toServer: toServer) }
            consumer?.stream(flow, toServer: toServer, chunk: chunk, timestamp: timestamp)
        }
        reassembler.release()
    }
}
