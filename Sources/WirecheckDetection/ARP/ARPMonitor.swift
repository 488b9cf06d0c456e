import WirecheckCore
import WirecheckDecoding

/// Limits and timing of the ARP monitor.
public struct ARPConfiguration: Sendable {
    /// Seconds a request stays open for its reply. Hosts usually reply within milliseconds, so a
    /// reply later than this is treated as unsolicited.
    public var replyWindowSeconds: Double
    /// IP-to-MAC bindings tracked at once. New addresses beyond this are not tracked, so a flood
    /// of forged senders cannot exhaust memory.
    public var maxBindings: Int
    /// Open requests tracked at once, for the same reason.
    public var maxPendingRequests: Int

    public init(replyWindowSeconds: Double = 5, maxBindings: Int = 10_000, maxPendingRequests: Int = 4096) {
        self.replyWindowSeconds = max(0, replyWindowSeconds)
        self.maxBindings = max(1, maxBindings)
        self.maxPendingRequests = max(1, maxPendingRequests)
    }
}

/// Counters of the ARP monitor, for the run summary.
public struct ARPStatistics: Sendable, Equatable {
    public var requests: UInt64 = 0
    public var replies: UInt64 = 0
    /// RFC 5227 probes: requests with sender IP 0.0.0.0, which bind nothing.
    public var probes: UInt64 = 0
    public var trackedBindings: Int = 0
    /// Senders not tracked because `maxBindings` was reached.
    public var bindingOverruns: UInt64 = 0
    /// Requests not tracked because `maxPendingRequests` was reached.
    public var pendingOverruns: UInt64 = 0
    public var gratuitousAlerts: UInt64 = 0
    public var changeAlerts: UInt64 = 0
    public var unsolicitedAlerts: UInt64 = 0

    public init() {}
}

/// Learns IPv4-to-MAC bindings from ARP and alerts on announcements, rebinding and replies to no
/// request.
///
/// Only ARP packets teach bindings. The Ethernet source of IPv4 packets is not used, because a
/// router forwards many IP addresses from its one MAC address.
public final class ARPMonitor {
    private struct Binding {
        var mac: MACAddress
        var firstSeen: Timestamp
        var lastSeen: Timestamp
        /// A gratuitous announcement of this binding was already reported.
        var reportedAnnouncement = false
        /// An unsolicited reply for this binding was already reported.
        var reportedUnsolicited = false
    }

    private let configuration: ARPConfiguration
    private let sink: EventSink
    private var bindings: [UInt32: Binding] = [:]
    /// Open requests keyed by requester IP (high 32 bits) and requested IP (low 32 bits).
    private var pendingRequests: [UInt64: Timestamp] = [:]
    /// While packet time is before this, replies are not called unsolicited, because a request
    /// may have been dropped when the pending table was full.
    private var pendingOverflowUntil: Timestamp?
    private var reportedLimit = false
    private var counters = ARPStatistics()

    private static let operationRequest: UInt16 = 1
    private static let operationReply: UInt16 = 2

    public init(configuration: ARPConfiguration = .init(), sink: EventSink) {
        self.configuration = configuration
        self.sink = sink
    }

    public var statistics: ARPStatistics {
        var result = counters
        result.trackedBindings = bindings.count
        return result
    }

    /// Records one decoded packet; packets without ARP fields are ignored.
    public func observe(_ packet: DecodedPacket) {
        guard packet.network == .arp, let arp = packet.arp else { return }
        let isRequest = arp.operation == Self.operationRequest
        let isReply = arp.operation == Self.operationReply
        guard isRequest || isReply else { return }
        if isRequest { counters.requests &+= 1 } else { counters.replies &+= 1 }

        if arp.senderIP == 0 {
            // An RFC 5227 probe checks whether an address is in use and claims nothing.
            if isRequest {
                counters.probes &+= 1
                recordRequest(arp, at: packet)
            }
            return
        }

        let previous = bindings[arp.senderIP]
        let rebinds = previous.map { $0.mac != arp.senderMAC } ?? false
        let broadcastReply = isReply && (packet.destinationMAC == .broadcast || arp.targetMAC == .broadcast)
        let isGratuitous = arp.senderIP == arp.targetIP || broadcastReply
        if let previous, rebinds {
            reportChange(arp, previous: previous, packet: packet, gratuitous: isGratuitous)
        }

        var reportedUnsolicited = false
        if isGratuitous {
            // A gratuitous ARP that moves the address is reported once, by the change alert.
            let alreadyReported = rebinds || (previous?.reportedAnnouncement ?? false)
            if !alreadyReported {
                reportGratuitous(arp, previous: rebinds ? previous : nil, packet: packet)
            }
        } else if isReply {
            let answered = matchRequest(answeredBy: arp, at: packet.timestamp)
            let alreadyReported = !rebinds && (previous?.reportedUnsolicited ?? false)
            if !answered && !alreadyReported && !repliesUnverifiable(at: packet.timestamp) {
                reportUnsolicited(arp, previous: rebinds ? previous : nil, packet: packet)
                reportedUnsolicited = true
            }
        } else {
            recordRequest(arp, at: packet)
        }

        learn(arp, at: packet, reportedAnnouncement: isGratuitous, reportedUnsolicited: reportedUnsolicited,
              rebinds: rebinds)
    }

    /// Drops requests whose reply window has passed. `observe` also does this when the pending
    /// table is full.
    public func expire(now: Timestamp) {
        let cutoff = now.adding(seconds: -configuration.replyWindowSeconds)
        pendingRequests = pendingRequests.filter { $0.value >= cutoff }
    }

    // MARK: - Alerts

    private func reportChange(_ arp: ARPFields, previous: Binding, packet: DecodedPacket, gratuitous: Bool) {
        counters.changeAlerts &+= 1
        let address = IPAddress.v4(arp.senderIP)
        let kind = gratuitous ? "A gratuitous ARP \(Self.operationName(arp.operation))" : "An ARP \(Self.operationName(arp.operation))"
        let message = "\(kind) moved \(address) from MAC \(previous.mac) "
            + "(seen \(previous.firstSeen.iso8601) to \(previous.lastSeen.iso8601)) to MAC \(arp.senderMAC) "
            + "(first seen \(packet.timestamp.iso8601))."
        var details = details(arp, previousMAC: previous.mac)
        details.set("previous_first_seen", .string(previous.firstSeen.iso8601))
        details.set("previous_last_seen", .string(previous.lastSeen.iso8601))
        details.set("gratuitous", .bool(gratuitous))
        sink.emit(.alert(DetectionCatalogue.ipMACChanged, timestamp: packet.timestamp, endpoints: endpoints(arp),
                         packets: [packet.reference], message: message, details: ["arp": .object(details)]))
    }

    /// Reports an announcement; `previous` is the binding it replaces, when it moves the address.
    private func reportGratuitous(_ arp: ARPFields, previous: Binding?, packet: DecodedPacket) {
        counters.gratuitousAlerts &+= 1
        let address = IPAddress.v4(arp.senderIP)
        var message = "\(arp.senderMAC) announced \(address) in a gratuitous ARP \(Self.operationName(arp.operation))"
        if let previous {
            message += ", moving it from MAC \(previous.mac)."
        } else {
            message += "; the binding is new or unchanged."
        }
        sink.emit(.alert(DetectionCatalogue.gratuitousARP, timestamp: packet.timestamp, endpoints: endpoints(arp),
                         packets: [packet.reference], message: message, severity: previous == nil ? 3 : 1,
                         details: ["arp": .object(details(arp, previousMAC: previous?.mac))]))
    }

    /// Reports a reply to no request; `previous` is the binding it replaces, when it moves the
    /// address.
    private func reportUnsolicited(_ arp: ARPFields, previous: Binding?, packet: DecodedPacket) {
        counters.unsolicitedAlerts &+= 1
        let window = configuration.replyWindowSeconds
        let windowText = window == window.rounded() ? String(Int(window)) : String(window)
        var message = "\(arp.senderMAC) sent an ARP reply claiming \(IPAddress.v4(arp.senderIP)) to "
            + "\(IPAddress.v4(arp.targetIP)) (\(arp.targetMAC)), which sent no request for it in the previous "
            + "\(windowText) s"
        if let previous {
            message += "; the reply moves the address from MAC \(previous.mac)."
        } else {
            message += "."
        }
        sink.emit(.alert(DetectionCatalogue.unsolicitedReply, timestamp: packet.timestamp, endpoints: endpoints(arp),
                         packets: [packet.reference], message: message, severity: previous == nil ? nil : 1,
                         details: ["arp": .object(details(arp, previousMAC: previous?.mac))]))
    }

    private func reportLimit(_ what: String, limit: Int, packet: DecodedPacket) {
        guard !reportedLimit else { return }
        reportedLimit = true
        let message = "The ARP monitor reached its limit of \(limit) tracked \(what), so later ARP traffic is only "
            + "partly checked for rebinding; raise the limit if the network has more hosts."
        sink.emit(.anomaly(DetectionCatalogue.arpBindingLimitReached, timestamp: packet.timestamp,
                           endpoints: packet.arp.map(endpoints), packets: [packet.reference], message: message,
                           details: ["limit": .int(limit), "table": .string(what)]))
    }

    // MARK: - State

    /// Stores the sender's binding, starting a new one when the MAC address changed.
    private func learn(_ arp: ARPFields, at packet: DecodedPacket, reportedAnnouncement: Bool,
                       reportedUnsolicited: Bool, rebinds: Bool) {
        var binding: Binding
        if let existing = bindings[arp.senderIP], !rebinds {
            binding = existing
        } else {
            if bindings[arp.senderIP] == nil && bindings.count >= configuration.maxBindings {
                counters.bindingOverruns &+= 1
                reportLimit("IP-to-MAC bindings", limit: configuration.maxBindings, packet: packet)
                return
            }
            binding = Binding(mac: arp.senderMAC, firstSeen: packet.timestamp, lastSeen: packet.timestamp)
        }
        binding.lastSeen = packet.timestamp
        if reportedAnnouncement { binding.reportedAnnouncement = true }
        if reportedUnsolicited { binding.reportedUnsolicited = true }
        bindings[arp.senderIP] = binding
    }

    private func recordRequest(_ arp: ARPFields, at packet: DecodedPacket) {
        let key = UInt64(arp.senderIP) << 32 | UInt64(arp.targetIP)
        if pendingRequests[key] == nil && pendingRequests.count >= configuration.maxPendingRequests {
            expire(now: packet.timestamp)
            if pendingRequests.count >= configuration.maxPendingRequests {
                counters.pendingOverruns &+= 1
                pendingOverflowUntil = packet.timestamp.adding(seconds: configuration.replyWindowSeconds)
                reportLimit("pending requests", limit: configuration.maxPendingRequests, packet: packet)
                return
            }
        }
        pendingRequests[key] = packet.timestamp
    }

    /// Returns true when a request matching `reply` was seen within the reply window. The request
    /// stays open until it expires, because a host that receives it twice may reply twice.
    private func matchRequest(answeredBy reply: ARPFields, at time: Timestamp) -> Bool {
        let key = UInt64(reply.targetIP) << 32 | UInt64(reply.senderIP)
        guard let asked = pendingRequests[key] else { return false }
        return time.interval(since: asked) <= configuration.replyWindowSeconds
    }

    private func repliesUnverifiable(at time: Timestamp) -> Bool {
        guard let until = pendingOverflowUntil else { return false }
        return time < until
    }
}
