import WirecheckCore
import WirecheckDecoding

/// Detects one source probing many hosts (horizontal scan) or many ports of one host (vertical
/// scan) within a sliding window.
///
/// A TCP SYN without ACK, a UDP datagram that is not a reply, or an ICMP echo request is a
/// connection attempt. An attempt fails when the target rejects it (RST, ICMP destination
/// unreachable) or when it is not completed within `answerTimeoutSeconds`: no SYN-ACK, a SYN-ACK
/// the source never acknowledged (a half-open SYN scan), no UDP reply or no echo reply. Only
/// failed attempts count toward the thresholds, so a master that polls many outstations over
/// working connections is not a scanner.
///
/// Sources are checked against the thresholds once per second of packet time (and by `expire`
/// and `finish`), not per packet, so a flood of rejections costs one lookup per packet. Each
/// source raises at most one alert of each kind per scan episode. An episode ends when the source
/// has probed nothing for a whole window.
///
/// NOTE: a master that keeps retrying 20 or more outstations that are switched off looks like a
/// horizontal scan, because the detector does not remember which peers used to reply.
public final class ScanDetector {
    let configuration: ScanConfiguration
    let sink: EventSink
    private var sources = ScanSourceTable()
    private var lastSweep: Timestamp?
    private var reportedSourceLimit = false
    var counters = ScanStatistics()

    /// Packet-time interval between sweeps that expire old attempts and check timed-out ones.
    private static let sweepIntervalSeconds = 1.0

    public init(configuration: ScanConfiguration = .init(), sink: EventSink) {
        self.configuration = configuration
        self.sink = sink
    }

    public var statistics: ScanStatistics {
        var result = counters
        result.trackedSources = sources.count
        return result
    }

    /// Records one decoded packet. Pass every TCP, UDP and ICMP packet; others are ignored.
    public func observe(_ packet: DecodedPacket) {
        guard packet.hasTransport, packet.network == .ipv4 || packet.network == .ipv6 else { return }
        sweepIfDue(packet.timestamp)

        if let tcp = packet.tcp, packet.ipProtocol == IPProtocolNumber.tcp {
            observeTCP(packet, flags: tcp.flags)
        } else if packet.ipProtocol == IPProtocolNumber.udp {
            observeUDP(packet)
        } else if packet.ipProtocol == IPProtocolNumber.icmp || packet.ipProtocol == IPProtocolNumber.icmpv6 {
            observeICMP(packet)
        }
    }

    /// Expires attempts older than the window and raises alerts for attempts that timed out.
    /// The engine calls this periodically; `observe` also does it once per second of packet time.
    public func expire(now: Timestamp) {
        lastSweep = now
        let cutoff = now.adding(seconds: -configuration.windowSeconds)
        for case let source? in sources.slots {
            source.removeAttempts(before: cutoff)
            if source.attempts.isEmpty && source.lastSeen < cutoff {
                sources.remove(source.address)
                continue
            }
            evaluate(source, now: now, endOfInput: false)
        }
    }

    /// Raises alerts at the end of input. Attempts still unanswered count as failed, because a
    /// capture often ends before a scan's last probes time out.
    public func finish(at time: Timestamp) {
        for case let source? in sources.slots {
            evaluate(source, now: time, endOfInput: true)
        }
    }

    // MARK: - Packet handling

    private func observeTCP(_ packet: DecodedPacket, flags: TCPFlags) {
        if flags.contains(.syn) && !flags.contains(.ack) {
            let target = ScanTarget(host: packet.destinationIP, port: packet.destinationPort,
                                    ipProtocol: IPProtocolNumber.tcp)
            recordAttempt(from: packet.sourceIP, to: target, packet: packet)
            return
        }

        // A reply from the target (a SYN-ACK or a RST): look up the attempt from the other side.
        // Data and pure ACKs skip the lookup, because they are most packets and change no attempt.
        let reverse = ScanTarget(host: packet.sourceIP, port: packet.sourcePort, ipProtocol: IPProtocolNumber.tcp)
        if flags.contains(.syn) || flags.contains(.rst), let source = sources.source(for: packet.destinationIP),
           let attempt = source.attempts[reverse] {
            if flags.contains(.syn) && flags.contains(.ack) && attempt.outcome == .pending {
                update(source, reverse, to: .halfOpen)
                return
            }
            if flags.contains(.rst) && (attempt.outcome == .pending || attempt.outcome == .halfOpen) {
                update(source, reverse, to: .rejected)
                return
            }
        }

        // The source's ACK that completes a handshake. A RST from the source after a SYN-ACK
        // leaves the attempt half-open, which is the half-open pattern of a SYN scan.
        if flags.contains(.ack) && !flags.contains(.rst) && !flags.contains(.syn) {
            let forward = ScanTarget(host: packet.destinationIP, port: packet.destinationPort,
                                     ipProtocol: IPProtocolNumber.tcp)
            if let source = sources.source(for: packet.sourceIP), source.halfOpenAttempts > 0,
               source.attempts[forward]?.outcome == .halfOpen {
                update(source, forward, to: .established)
            }
        }
    }

    private func observeUDP(_ packet: DecodedPacket) {
        let reverse = ScanTarget(host: packet.sourceIP, port: packet.sourcePort, ipProtocol: IPProtocolNumber.udp)
        if let source = sources.source(for: packet.destinationIP), source.attempts[reverse] != nil {
            update(source, reverse, to: .established)
            return
        }
        guard !Self.isGroupAddress(packet.destinationIP) else { return }
        let target = ScanTarget(host: packet.destinationIP, port: packet.destinationPort,
                                ipProtocol: IPProtocolNumber.udp)
        recordAttempt(from: packet.sourceIP, to: target, packet: packet)
    }

    /// Records echo requests as attempts (a ping sweep), echo replies as their replies, and
    /// destination unreachable messages as rejections of pending attempts from the message's
    /// destination to its sender.
    ///
    /// NOTE: the decoded packet does not carry the header quoted inside the ICMP message, so the
    /// match is by host only. A port unreachable rejects every pending UDP attempt to that host,
    /// and an unreachable that a router sends on the target's behalf is not matched.
    private func observeICMP(_ packet: DecodedPacket) {
        let isV4 = packet.ipProtocol == IPProtocolNumber.icmp
        let echoRequest: UInt8 = isV4 ? 8 : 128
        let echoReply: UInt8 = isV4 ? 0 : 129
        if packet.icmpType == echoRequest {
            guard !Self.isGroupAddress(packet.destinationIP) else { return }
            let target = ScanTarget(host: packet.destinationIP, port: 0, ipProtocol: packet.ipProtocol)
            recordAttempt(from: packet.sourceIP, to: target, packet: packet)
            return
        }
        if packet.icmpType == echoReply {
            let reverse = ScanTarget(host: packet.sourceIP, port: 0, ipProtocol: packet.ipProtocol)
            if let source = sources.source(for: packet.destinationIP), source.attempts[reverse] != nil {
                update(source, reverse, to: .established)
            }
            return
        }

        let isV4Unreachable = packet.ipProtocol == IPProtocolNumber.icmp && packet.icmpType == 3
        let isV6Unreachable = packet.ipProtocol == IPProtocolNumber.icmpv6 && packet.icmpType == 1
        guard isV4Unreachable || isV6Unreachable else { return }
        let portUnreachable = (isV4Unreachable && packet.icmpCode == 3) || (isV6Unreachable && packet.icmpCode == 4)
        guard let source = sources.source(for: packet.destinationIP) else { return }

        // An echo request is settled by its echo reply, not by an unreachable.
        for (target, attempt) in source.attempts where target.host == packet.sourceIP && attempt.outcome == .pending {
            if Self.isICMP(target.ipProtocol) { continue }
            if portUnreachable && target.ipProtocol != IPProtocolNumber.udp { continue }
            update(source, target, to: .rejected)
        }
    }

    private func recordAttempt(from address: IPAddress, to target: ScanTarget, packet: DecodedPacket) {
        counters.attempts &+= 1
        let (source, evicted) = sources.touch(address, at: packet.timestamp, capacity: configuration.maxSources)
        if evicted != nil {
            counters.evictedSources &+= 1
            reportSourceLimit(at: packet)
        }
        // A repeated attempt (a SYN retransmission, a reconnect) keeps its first time and outcome.
        guard source.attempts[target] == nil else { return }

        if source.attempts.count >= configuration.maxTargetsPerSource, source.removeOldest() != nil {
            counters.evictedTargets &+= 1
        }
        source.attempts[target] = ScanAttempt(firstSeen: packet.timestamp, packet: packet.reference, outcome: .pending)
        source.order.append(target)
        source.changed = true
    }

    private func update(_ source: ScanSource, _ target: ScanTarget, to outcome: AttemptOutcome) {
        let previous = source.attempts[target]?.outcome
        source.attempts[target]?.outcome = outcome
        if outcome == .halfOpen && previous != .halfOpen { source.halfOpenAttempts += 1 }
        if previous == .halfOpen && outcome != .halfOpen { source.halfOpenAttempts -= 1 }
        source.changed = true
    }

    private func sweepIfDue(_ time: Timestamp) {
        guard let last = lastSweep else {
            lastSweep = time
            return
        }
        if time.interval(since: last) >= Self.sweepIntervalSeconds {
            expire(now: time)
        }
    }

    private func reportSourceLimit(at packet: DecodedPacket) {
        guard !reportedSourceLimit else { return }
        reportedSourceLimit = true
        let limit = configuration.maxSources
        sink.emit(.anomaly(DetectionCatalogue.scanSourceLimitReached, timestamp: packet.timestamp,
                           endpoints: Endpoints(srcIP: packet.sourceIP), packets: [packet.reference],
                           message: "The scan detector is tracking its limit of \(limit) sources, so it now "
                               + "evicts the least recently seen one; raise maxSources if scans are missed.",
                           details: ["limit": .int(limit)]))
    }

    static func isICMP(_ ipProtocol: UInt8) -> Bool {
        ipProtocol == IPProtocolNumber.icmp || ipProtocol == IPProtocolNumber.icmpv6
    }

    /// True for multicast and limited-broadcast destinations, which many hosts receive at once and
    /// which are not probes of one host.
    private static func isGroupAddress(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let value): return value >> 28 == 0xE || value == 0xFFFF_FFFF
        case .v6(let high, _): return high >> 56 == 0xFF
        }
    }
}
