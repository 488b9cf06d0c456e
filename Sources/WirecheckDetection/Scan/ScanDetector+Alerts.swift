import WirecheckCore

extension ScanDetector {
    /// Failed attempts of one source, in first-probe order.
    struct FailedAttempts {
        var targets: [(ScanTarget, ScanAttempt)] = []
        var first: Timestamp?
        var last: Timestamp?
    }

    /// Checks one source against both thresholds and raises each alert once per episode.
    func evaluate(_ source: ScanSource, now: Timestamp, endOfInput: Bool) {
        let minimumThreshold = min(configuration.horizontalThreshold, configuration.verticalThreshold)
        guard source.attempts.count >= minimumThreshold else { return }
        guard !(source.alertedHorizontal && source.alertedVertical) else { return }
        // Pending attempts can time out without any change, so only skip unchanged sources whose
        // attempts are all decided.
        let hasPending = source.attempts.values.contains { $0.outcome == .pending || $0.outcome == .halfOpen }
        guard source.changed || hasPending || endOfInput else { return }
        source.changed = false

        let failed = failedAttempts(of: source, now: now, endOfInput: endOfInput)
        guard failed.targets.count >= minimumThreshold else { return }

        if !source.alertedHorizontal {
            var hostOrder: [IPAddress] = []
            var seenHosts = Set<IPAddress>()
            for (target, _) in failed.targets where seenHosts.insert(target.host).inserted {
                hostOrder.append(target.host)
            }
            if hostOrder.count >= configuration.horizontalThreshold {
                source.alertedHorizontal = true
                counters.horizontalAlerts &+= 1
                emitHorizontal(source, failed: failed, hosts: hostOrder, now: now)
            }
        }

        if !source.alertedVertical {
            var portsByHost: [IPAddress: [ScanTarget]] = [:]
            // Echo requests have no port, so they count only toward the horizontal threshold.
            for (target, _) in failed.targets where !Self.isICMP(target.ipProtocol) {
                portsByHost[target.host, default: []].append(target)
            }
            let busiest = portsByHost.max { lhs, rhs in
                lhs.value.count != rhs.value.count ? lhs.value.count < rhs.value.count : lhs.key > rhs.key
            }
            if let (host, targets) = busiest, targets.count >= configuration.verticalThreshold {
                source.alertedVertical = true
                counters.verticalAlerts &+= 1
                var hostFailed = FailedAttempts()
                hostFailed.targets = failed.targets.filter { $0.0.host == host && !Self.isICMP($0.0.ipProtocol) }
                hostFailed.first = hostFailed.targets.first?.1.firstSeen
                hostFailed.last = hostFailed.targets.last?.1.firstSeen
                emitVertical(source, failed: hostFailed, host: host, now: now)
            }
        }
    }

    private func failedAttempts(of source: ScanSource, now: Timestamp, endOfInput: Bool) -> FailedAttempts {
        var result = FailedAttempts()
        for index in source.orderHead..<source.order.count {
            let target = source.order[index]
            guard let attempt = source.attempts[target] else { continue }
            let timedOut = endOfInput || now.interval(since: attempt.firstSeen) >= configuration.answerTimeoutSeconds
            let isFailed: Bool
            switch attempt.outcome {
            case .established: isFailed = false
            case .rejected: isFailed = true
            case .pending, .halfOpen: isFailed = timedOut
            }
            guard isFailed else { continue }
            result.targets.append((target, attempt))
            if result.first == nil { result.first = attempt.firstSeen }
            result.last = attempt.firstSeen
        }
        return result
    }

    private func emitHorizontal(_ source: ScanSource, failed: FailedAttempts, hosts: [IPAddress], now: Timestamp) {
        let ports = distinctPorts(failed.targets)
        let protocols = protocolNames(failed.targets)
        var probeTexts: [String] = []
        if ports.count == 1 {
            probeTexts.append("on \(protocols) port \(ports[0])")
        } else if ports.count > 1 {
            probeTexts.append("on \(ports.count) \(protocols) ports (\(listText(ports.map(String.init))))")
        }
        if failed.targets.contains(where: { Self.isICMP($0.0.ipProtocol) }) {
            probeTexts.append("with ICMP echo requests")
        }
        // The count includes hosts that replied, so the outcomes below read as a share of it.
        let probedHosts = Set(source.attempts.keys.map(\.host)).count
        let duration = durationText(failed)
        let message = "\(source.address) probed \(probedHosts) hosts \(probeTexts.joined(separator: " and ")) "
            + "in \(duration); " + outcomeText(failed)

        var details = commonDetails(failed, now: now)
        details.set("hosts_probed", .int(probedHosts))
        details.set("hosts_failed", .int(hosts.count))
        details.set("failed_hosts", .array(hosts.prefix(configuration.listedTargets).map { .string($0.description) }))
        details.set("ports", .array(ports.prefix(configuration.listedTargets).map { .int($0) }))
        sink.emit(.alert(DetectionCatalogue.horizontalScan, timestamp: now,
                         endpoints: Endpoints(srcIP: source.address, ipProtocol: singleProtocol(failed.targets)),
                         packets: evidence(failed), message: message, details: ["scan": .object(details)]))
    }

    private func emitVertical(_ source: ScanSource, failed: FailedAttempts, host: IPAddress, now: Timestamp) {
        let ports = distinctPorts(failed.targets)
        let protocols = protocolNames(failed.targets)
        let probedPorts = Set(source.attempts.keys.filter { $0.host == host && !Self.isICMP($0.ipProtocol) }
            .map(\.port)).count
        let message = "\(source.address) probed \(probedPorts) \(protocols) ports on \(host) in \(durationText(failed)) "
            + "(failed: \(listText(ports.map(String.init)))); " + outcomeText(failed)

        var details = commonDetails(failed, now: now)
        details.set("ports_probed", .int(probedPorts))
        details.set("ports_failed", .int(ports.count))
        details.set("host", .string(host.description))
        details.set("ports", .array(ports.prefix(configuration.listedTargets).map { .int($0) }))
        sink.emit(.alert(DetectionCatalogue.verticalScan, timestamp: now,
                         endpoints: Endpoints(srcIP: source.address, destIP: host,
                                              ipProtocol: singleProtocol(failed.targets)),
                         packets: evidence(failed), message: message, details: ["scan": .object(details)]))
    }

    // MARK: - Formatting

    private func commonDetails(_ failed: FailedAttempts, now: Timestamp) -> JSONObject {
        var counts = (pending: 0, halfOpen: 0, rejected: 0)
        for (_, attempt) in failed.targets {
            switch attempt.outcome {
            case .pending: counts.pending += 1
            case .halfOpen: counts.halfOpen += 1
            case .rejected: counts.rejected += 1
            case .established: break
            }
        }
        var details = JSONObject()
        details.set("window_seconds", .double(configuration.windowSeconds))
        details.set("duration_seconds", .double(durationSeconds(failed)))
        details.set("failed_attempts", .int(failed.targets.count))
        details.set("never_answered", .int(counts.pending))
        details.set("half_open", .int(counts.halfOpen))
        details.set("rejected", .int(counts.rejected))
        if let first = failed.first { details.set("first_attempt", .string(first.iso8601)) }
        return details
    }

    /// "43 never answered, 2 were rejected": the outcomes that occurred, most common first.
    private func outcomeText(_ failed: FailedAttempts) -> String {
        var pending = 0, halfOpen = 0, rejected = 0
        for (_, attempt) in failed.targets {
            switch attempt.outcome {
            case .pending: pending += 1
            case .halfOpen: halfOpen += 1
            case .rejected: rejected += 1
            case .established: break
            }
        }
        var parts: [(Int, String)] = []
        if pending > 0 { parts.append((pending, "\(pending) never answered")) }
        if rejected > 0 { parts.append((rejected, "\(rejected) were rejected")) }
        if halfOpen > 0 { parts.append((halfOpen, "\(halfOpen) were left half-open after a SYN-ACK")) }
        return parts.sorted { $0.0 > $1.0 }.map(\.1).joined(separator: ", ") + "."
    }

    private func durationSeconds(_ failed: FailedAttempts) -> Double {
        guard let first = failed.first, let last = failed.last else { return 0 }
        return last.interval(since: first)
    }

    private func durationText(_ failed: FailedAttempts) -> String {
        let seconds = durationSeconds(failed)
        if seconds < 1 { return "under 1 s" }
        return "\(Int(seconds.rounded())) s"
    }

    /// Joins up to `listedTargets` items and adds how many more there are.
    private func listText(_ items: [String]) -> String {
        let shown = items.prefix(configuration.listedTargets).joined(separator: ", ")
        let more = items.count - min(items.count, configuration.listedTargets)
        return more > 0 ? "\(shown) and \(more) more" : shown
    }

    /// TCP and UDP ports in first-probe order; echo requests have none.
    private func distinctPorts(_ targets: [(ScanTarget, ScanAttempt)]) -> [UInt16] {
        var seen = Set<UInt16>()
        var ports: [UInt16] = []
        for (target, _) in targets where !Self.isICMP(target.ipProtocol) && seen.insert(target.port).inserted {
            ports.append(target.port)
        }
        return ports
    }

    /// "TCP", "UDP" or "TCP and UDP".
    private func protocolNames(_ targets: [(ScanTarget, ScanAttempt)]) -> String {
        let hasTCP = targets.contains { $0.0.ipProtocol == IPProtocolNumber.tcp }
        let hasUDP = targets.contains { $0.0.ipProtocol == IPProtocolNumber.udp }
        switch (hasTCP, hasUDP) {
        case (true, true): return "TCP and UDP"
        case (false, true): return "UDP"
        default: return "TCP"
        }
    }

    private func singleProtocol(_ targets: [(ScanTarget, ScanAttempt)]) -> UInt8? {
        guard let first = targets.first?.0.ipProtocol else { return nil }
        return targets.allSatisfy { $0.0.ipProtocol == first } ? first : nil
    }

    private func evidence(_ failed: FailedAttempts) -> [PacketReference] {
        failed.targets.prefix(configuration.evidencePackets).map(\.1.packet).sorted()
    }
}
