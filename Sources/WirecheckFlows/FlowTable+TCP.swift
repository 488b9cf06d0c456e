import WirecheckCore
import WirecheckDecoding

// TCP endpoint tracking, Zeek history letters and the TCP flow anomalies.
extension FlowTable {
    /// Updates the connection with one segment and returns whether its payload belongs to the
    /// stream (false for RSTs, out-of-window segments, an invalid handshake ACK and data after a
    /// close).
    func trackTCP(_ flow: Flow, _ connection: TCPConnection, tcp: TCPFields, packet: DecodedPacket,
                  payloadCount: Int, toServer: Bool) -> Bool {
        if toServer {
            return trackSegment(flow, connection, sender: &connection.originator, receiver: &connection.responder,
                                tcp: tcp, packet: packet, payloadCount: payloadCount, toServer: true)
        }
        return trackSegment(flow, connection, sender: &connection.responder, receiver: &connection.originator,
                            tcp: tcp, packet: packet, payloadCount: payloadCount, toServer: false)
    }

    private func trackSegment(_ flow: Flow, _ connection: TCPConnection, sender: inout TCPEndpoint,
                              receiver: inout TCPEndpoint, tcp: TCPFields, packet: DecodedPacket,
                              payloadCount: Int, toServer: Bool) -> Bool {
        let flags = tcp.flags
        let syn = flags.contains(.syn)
        let ack = flags.contains(.ack)
        let fin = flags.contains(.fin)
        let rst = flags.contains(.rst)
        let length = UInt32(truncatingIfNeeded: payloadCount)

        if toServer {
            connection.flagsToServer.formUnion(flags)
        } else {
            connection.flagsToClient.formUnion(flags)
        }
        if syn && fin { recordHistory(flow, UInt8(ascii: "Q"), toServer: toServer) }
        if syn && rst { recordHistory(flow, UInt8(ascii: "I"), toServer: toServer) }
        if tcp.window == 0 && !syn && !rst {
            recordScaledHistory(flow, UInt8(ascii: "W"), counter: toServer ? \.zeroWindowsToServer : \.zeroWindowsToClient,
                                toServer: toServer)
        }

        if rst {
            return trackReset(flow, sender: &sender, receiver: receiver, tcp: tcp, packet: packet,
                              toServer: toServer)
        }

        if syn {
            trackSyn(flow, sender: &sender, receiver: receiver, tcp: tcp, packet: packet, payloadCount: payloadCount,
                     toServer: toServer)
            updateWindow(&sender, receiver: receiver, rawWindow: tcp.window, isSyn: true)
            return payloadCount > 0
        }

        var handshakeAckRejected = false
        if !connection.handshakeComplete && ack && sender.sentSyn && receiver.state == .synAckSent {
            // The ACK that should complete the handshake: RFC 9293 requires SEG.ACK = the peer's
            // ISN + 1 and SEG.SEQ = this side's ISN + 1. Data on a SYN or SYN-ACK moves either
            // number further, or not when the peer rejected that data (TCP Fast Open fallback).
            let expectedAck = (receiver.initialSequence ?? 0) &+ 1
            let expectedSequence = (sender.initialSequence ?? 0) &+ 1
            let ackValid = tcp.acknowledgement == expectedAck || tcp.acknowledgement == receiver.nextSequence
            let sequenceValid = tcp.sequence == expectedSequence || tcp.sequence == sender.nextSequence
            if ackValid && sequenceValid {
                connection.handshakeComplete = true
                sender.state = .established
                receiver.state = .established
            } else {
                // The flow stays tracked, so a crafted handshake cannot hide the data that follows.
                handshakeAckRejected = true
                raise(.handshakeInvalidAck, flow: flow, packet: packet,
                      message: "\(endpoint(packet, source: true)) completed the TCP handshake with "
                        + "\(endpoint(packet, source: false)) using sequence \(tcp.sequence) and acknowledgement "
                        + "\(tcp.acknowledgement), but \(expectedSequence) and \(expectedAck) were expected.",
                      details: ["sequence": .int(tcp.sequence), "acknowledgement": .int(tcp.acknowledgement),
                                "expected_sequence": .int(expectedSequence), "expected_acknowledgement": .int(expectedAck)])
            }
        } else if !connection.handshakeComplete && ack && sender.sentSynAck && receiver.sentSyn
                    && tcp.acknowledgement == (receiver.initialSequence ?? 0) &+ 1
                    && tcp.sequence == (sender.initialSequence ?? 0) &+ 1 {
            // The responder sends only after the originator's final ACK arrived, so a segment from
            // it that matches both ISNs means the capture missed that ACK.
            connection.handshakeComplete = true
            sender.state = .established
            receiver.state = .established
        }

        // NOTE: a connection idle for longer than `tcpEstablishedTimeout` that then resumes, and a
        // capture filtered down to payload packets, both look like data without a handshake here.
        if !connection.handshakeComplete && !flow.isMidstream && !handshakeAckRejected && (payloadCount > 0 || (ack && !fin)) {
            let activity = payloadCount > 0 ? "sent \(payloadCount) bytes of data" : "sent a bare ACK"
            raise(.noHandshakeData, flow: flow, packet: packet,
                  message: "\(endpoint(packet, source: true)) \(activity) to \(endpoint(packet, source: false)) on a TCP "
                    + "connection that started after the capture began but never completed a handshake.",
                  details: ["payload_length": .int(payloadCount)])
        }

        if sender.state == .inactive { sender.state = .partial }
        let nextBeforeSegment = sender.nextSequence
        if sender.nextSequence == nil { sender.nextSequence = tcp.sequence }
        updateWindow(&sender, receiver: receiver, rawWindow: tcp.window, isSyn: false)
        if ack {
            sender.highestAcknowledgement = later(sender.highestAcknowledgement, tcp.acknowledgement)
            sender.maxRightEdge = later(sender.maxRightEdge, tcp.acknowledgement &+ (sender.window ?? 0))
        }

        var deliver = false
        if payloadCount > 0 {
            deliver = checkData(flow, sender: &sender, receiver: receiver, tcp: tcp, packet: packet,
                                length: length, toServer: toServer)
            if deliver { recordHistory(flow, UInt8(ascii: "D"), toServer: toServer) }
        } else if ack && !fin {
            recordHistory(flow, UInt8(ascii: "A"), toServer: toServer)
        }

        if fin {
            recordHistory(flow, UInt8(ascii: "F"), toServer: toServer)
            if payloadCount == 0, let previous = nextBeforeSegment, sequenceDistance(tcp.sequence, from: previous) > 0 {
                // The FIN comes after bytes that were never captured: a content gap, as Zeek's `g`.
                recordHistory(flow, UInt8(ascii: "G"), toServer: toServer)
            }
            let finSequence = tcp.sequence &+ length
            if sender.finSequence == nil { sender.finSequence = finSequence }
            if sender.state != .reset { sender.state = .closed }
            advance(&sender, to: finSequence &+ 1)
        }
        return deliver
    }

    private func trackSyn(_ flow: Flow, sender: inout TCPEndpoint, receiver: TCPEndpoint, tcp: TCPFields,
                          packet: DecodedPacket, payloadCount: Int, toServer: Bool) {
        let isSynAck = tcp.flags.contains(.ack)
        if isSynAck {
            recordHistory(flow, UInt8(ascii: "H"), toServer: toServer)
            if sender.sentSyn {
                raise(.synAckFromOriginator, flow: flow, packet: packet,
                      message: "\(endpoint(packet, source: true)) sent a SYN and then a SYN-ACK to "
                        + "\(endpoint(packet, source: false)), as in a split handshake or a simultaneous open.")
            } else if !receiver.sentSyn && !flow.isMidstream {
                raise(.synAckWithoutSyn, flow: flow, packet: packet,
                      message: "\(endpoint(packet, source: true)) sent a SYN-ACK to \(endpoint(packet, source: false)) "
                        + "although no SYN from \(packet.destinationIP) was seen while the capture was running.")
            }
            sender.sentSynAck = true
            if sender.state == .inactive || sender.state == .synSent {
                sender.state = .synAckSent
            } else if sender.state == .reset || sender.state == .closed || sender.state == .partial {
                // A SYN-ACK after this side's RST or FIN starts its sequence space again, so the
                // earlier close no longer applies to the data that follows.
                sender.state = .synAckSent
                sender.finSequence = nil
            }
        } else {
            recordHistory(flow, UInt8(ascii: "S"), toServer: toServer)
            sender.sentSyn = true
            if sender.state == .inactive { sender.state = .synSent }
        }
        if payloadCount > 0 {
            // TCP Fast Open (RFC 7413) carries data on the SYN; it is legal, so only counted.
            flow.synDataPackets &+= 1
            statistics.synWithData += 1
        }
        sender.initialSequence = tcp.sequence
        sender.nextSequence = tcp.sequence &+ 1 &+ UInt32(truncatingIfNeeded: payloadCount)
        sender.windowScaleOption = tcp.windowScale
    }

    /// Applies an RST that lies in the receiver's window; reports and ignores one that does not.
    private func trackReset(_ flow: Flow, sender: inout TCPEndpoint,
                            receiver: TCPEndpoint, tcp: TCPFields, packet: DecodedPacket, toServer: Bool) -> Bool {
        if sender.nextSequence == nil && receiver.state == .synSent, let initial = receiver.initialSequence,
           let receiverNext = receiver.nextSequence {
            // RFC 9293 section 3.10.7.3: a SYN-SENT endpoint accepts a RST only when its ACK
            // acknowledges the SYN (ISS < SEG.ACK <= SND.NXT); any other RST is dropped.
            let acknowledgesSyn = tcp.flags.contains(.ack) && sequenceDistance(tcp.acknowledgement, from: initial) > 0
                && sequenceDistance(tcp.acknowledgement, from: receiverNext) <= 0
            if !acknowledgesSyn {
                let message = {
                    "\(self.endpoint(packet, source: true)) sent a RST to \(self.endpoint(packet, source: false)) "
                        + "with acknowledgement \(tcp.acknowledgement), but a reset answering the SYN with sequence "
                        + "\(initial) must acknowledge \(initial &+ 1), so the connection attempt stays tracked."
                }
                raise(.rstOutOfWindow, flow: flow, packet: packet, message: message(),
                      details: ["acknowledgement": .int(tcp.acknowledgement), "syn_sequence": .int(initial)])
                raiseAlert(FlowCatalogue.rstInjection, flow: flow, packet: packet, message: message(),
                           details: ["acknowledgement": .int(tcp.acknowledgement)])
                return false
            }
        }
        // RFC 5961 section 3.2: a RST is acceptable when RCV.NXT <= SEG.SEQ < RCV.NXT + RCV.WND.
        // RCV.NXT lies between the receiver's last ACK and the sender's next byte, and one byte of
        // slack below covers stacks that reset with the sequence number of their FIN.
        if let next = sender.nextSequence, let window = receiver.window {
            let low = earlier(next, receiver.highestAcknowledgement ?? next) &- 1
            let high = receiveWindowEdge(next: next, window: max(window, 1), receiver: receiver)
            if sequenceDistance(tcp.sequence, from: low) < 0 || sequenceDistance(tcp.sequence, from: high) > 0 {
                let message = {
                    "\(self.endpoint(packet, source: true)) sent a RST to \(self.endpoint(packet, source: false)) with "
                        + "sequence \(tcp.sequence), outside the receiver's window \(low) to \(high), so the "
                        + "connection stays tracked."
                }
                raise(.rstOutOfWindow, flow: flow, packet: packet, message: message(),
                      details: ["sequence": .int(tcp.sequence), "window_start": .int(low), "window_end": .int(high)])
                raiseAlert(FlowCatalogue.rstInjection, flow: flow, packet: packet, message: message(),
                           details: ["sequence": .int(tcp.sequence)])
                return false
            }
        }
        recordHistory(flow, UInt8(ascii: "R"), toServer: toServer)
        if sender.state != .reset { sender.stateBeforeReset = sender.state }
        sender.state = .reset
        return false
    }

    /// Checks a data segment against the close state and the receiver's window, and advances
    /// the sender's next sequence number. Returns whether the data belongs to the stream.
    private func checkData(_ flow: Flow, sender: inout TCPEndpoint,
                           receiver: TCPEndpoint, tcp: TCPFields, packet: DecodedPacket, length: UInt32,
                           toServer: Bool) -> Bool {
        let end = tcp.sequence &+ length
        let isNewData = sender.nextSequence.map { sequenceDistance(end, from: $0) > 0 } ?? true

        if (sender.state == .reset || receiver.state == .reset) && isNewData {
            let resetBySender = sender.state == .reset
            raise(.dataAfterRst, flow: flow, packet: packet,
                  message: "\(endpoint(packet, source: true)) sent \(length) bytes of new data to "
                    + "\(endpoint(packet, source: false)) after the connection was reset by "
                    + "\(resetBySender ? "the sender itself" : "the receiver").",
                  details: ["payload_length": .int(length), "reset_by_sender": .bool(resetBySender)])
            // The bytes are still delivered: dropping them would leave a hole in the stream that
            // stalls reassembly, and the parsers judge the bytes on their own.
            if resetBySender {
                // The host that supposedly reset the connection keeps talking, so the RST did not
                // come from its stack: a forged reset. Resume tracking the real conversation.
                raiseAlert(FlowCatalogue.rstInjection, flow: flow, packet: packet,
                           message: "\(packet.sourceIP) kept sending data to \(packet.destinationIP) after a RST in its "
                            + "name, so the RST was probably forged by another host.",
                           details: ["payload_length": .int(length)])
                sender.state = sender.stateBeforeReset == .inactive ? .partial : sender.stateBeforeReset
            }
        }

        if let finSequence = sender.finSequence, sequenceDistance(end, from: finSequence) > 0 {
            raise(.dataAfterFin, flow: flow, packet: packet,
                  message: "\(endpoint(packet, source: true)) sent \(length) bytes of new data to "
                    + "\(endpoint(packet, source: false)) after its own FIN at sequence \(finSequence).",
                  details: ["payload_length": .int(length), "fin_sequence": .int(finSequence)])
            return false
        }

        if let next = sender.nextSequence, let window = receiver.window {
            let rightEdge = receiveWindowEdge(next: next, window: window, receiver: receiver)
            let ahead = sequenceDistance(tcp.sequence, from: rightEdge)
            // A sender only retransmits unacknowledged bytes, so a segment ending more than one
            // window behind the bytes already sent cannot be a retransmission.
            let behindLimit = Int64(max(receiver.maxWindow, TCPLimits.minBehindWindow))
            let behind = sequenceDistance(next, from: end)
            if ahead > 0 || behind > behindLimit {
                let position = ahead > 0 ? "\(ahead) bytes beyond the receiver's window" : "\(behind) bytes behind the data already sent"
                raise(.segmentOutOfWindow, flow: flow, packet: packet,
                      message: "\(endpoint(packet, source: true)) sent a \(length)-byte segment at sequence "
                        + "\(tcp.sequence) to \(endpoint(packet, source: false)), \(position).",
                      details: ["sequence": .int(tcp.sequence), "payload_length": .int(length),
                                "expected_sequence": .int(next), "window": .int(window)])
                return false
            }
            if sequenceDistance(tcp.sequence, from: next) < 0 {
                recordScaledHistory(flow, UInt8(ascii: "T"),
                                    counter: toServer ? \.retransmissionsToServer : \.retransmissionsToClient,
                                    toServer: toServer)
            }
        }
        advance(&sender, to: end)
        return true
    }

    /// Returns the right edge of the receiver's window: the furthest of its advertised edges
    /// (acknowledgement plus window) and the sender's next byte plus the current window. Taking
    /// the furthest keeps a shrunk window or a missed ACK from flagging valid segments.
    private func receiveWindowEdge(next: UInt32, window: UInt32, receiver: TCPEndpoint) -> UInt32 {
        later(receiver.maxRightEdge, next &+ window)
    }

    private func later(_ current: UInt32?, _ candidate: UInt32) -> UInt32 {
        guard let current, sequenceDistance(candidate, from: current) <= 0 else { return candidate }
        return current
    }

    private func earlier(_ first: UInt32, _ second: UInt32) -> UInt32 {
        sequenceDistance(second, from: first) < 0 ? second : first
    }

    private func advance(_ endpoint: inout TCPEndpoint, to sequence: UInt32) {
        if let next = endpoint.nextSequence, sequenceDistance(sequence, from: next) <= 0 { return }
        endpoint.nextSequence = sequence
    }

    private func updateWindow(_ endpoint: inout TCPEndpoint, receiver: TCPEndpoint, rawWindow: UInt16, isSyn: Bool) {
        // RFC 7323: the window field of a SYN is never scaled.
        let shift = isSyn ? 0 : TCPConnection.windowShift(sender: endpoint, receiver: receiver)
        let window = UInt32(rawWindow) << shift
        endpoint.window = window
        endpoint.maxWindow = max(endpoint.maxWindow, window)
    }

    /// Feeds the segment's payload to the direction's reassembler and forwards what it releases.
    func deliverStream(_ flow: Flow, _ connection: TCPConnection, tcp: TCPFields, payload: UnsafeRawBufferPointer,
                       packet: DecodedPacket, toServer: Bool) {
        let sender = toServer ? connection.originator : connection.responder
        let reassembler: StreamReassembler
        if let existing = toServer ? connection.reassemblerToServer : connection.reassemblerToClient {
            reassembler = existing
        } else {
            reassembler = StreamReassembler(limits: configuration.reassemblyLimits, budget: reassemblyBudget)
            if toServer { connection.reassemblerToServer = reassembler } else { connection.reassemblerToClient = reassembler }
        }
        if !reassembler.isInitialized {
            // The first stream byte follows the SYN; without a seen SYN, this segment starts it.
            let start = sender.initialSequence.map { $0 &+ 1 } ?? tcp.sequence
            reassembler.setInitialSequence(start)
        }
        // A SYN's data starts after the SYN's own sequence number.
        let sequence = tcp.flags.contains(.syn) ? tcp.sequence &+ 1 : tcp.sequence
        let consumer = self.consumer
        let timestamp = packet.timestamp
        let observations = reassembler.add(sequence: sequence, payload: payload, packet: packet.reference) { chunk in
            if case .gap = chunk { self.recordHistory(flow, UInt8(ascii: "G"), toServer: toServer) }
            consumer?.stream(flow, toServer: toServer, chunk: chunk, timestamp: timestamp)
        }
        handle(observations, flow: flow, packet: packet)
    }

    /// Raises the anomalies and alerts for what the reassembler noticed.
    func handle(_ observations: ReassemblyObservations, flow: Flow, packet: DecodedPacket) {
        for (reference, offset) in observations.overlapsWithDifferentData {
            // The evidence shows both copies: the packet that carried the bytes first and the one
            // that repeated them differently, plus the current packet when it released them.
            var packets = [reference]
            if let first = observations.firstCopies.first(where: { $0.later == reference })?.first {
                packets.append(first)
            }
            if !packets.contains(packet.reference) { packets.append(packet.reference) }
            packets.sort()
            let message = {
                "\(self.endpoint(packet, source: true)) retransmitted bytes at stream offset \(offset) to "
                    + "\(self.endpoint(packet, source: false)) with data that differs from the first copy."
            }
            raise(.retransmissionDifferentData, flow: flow, packets: packets,
                  timestamp: packet.timestamp, message: message(), details: ["stream_offset": .int(offset)])
            raiseAlert(FlowCatalogue.overlapEvasion, flow: flow, packet: packet, message: message(),
                       details: ["stream_offset": .int(offset)])
        }
        if observations.bufferOverflow {
            raise(.reassemblyOverflow, flow: flow, packet: packet,
                  message: "Out-of-order data from \(endpoint(packet, source: true)) to "
                    + "\(endpoint(packet, source: false)) exceeded the reassembly limits, so some bytes were "
                    + "released with gaps or dropped.")
        }
    }
}
