import WirecheckCore

/// Limits how many decoder anomalies of one name from one source address are written.
///
/// The decoder raises its anomalies once per packet, so a SYN/FIN scan of 1000 ports would write
/// 1000 identical `decoder.tcp.flags_syn_fin` events. Per key (anomaly name, source address) the
/// limiter writes the first `perWindow` events of each window of `windowSeconds` of packet time
/// and counts the rest. At the end of the run it writes, for each key that had events held back,
/// one more copy of the last held event with `"repeats": <count>` in its `anomaly` object.
final class AnomalyRateLimiter: EventSink {
    /// Events written per key and window before the rest are counted.
    static let defaultPerWindow = 10
    static let defaultWindowSeconds = 60.0
    /// Keys tracked at once, because each keeps a copy of its last held event. Past this, idle
    /// keys are dropped first; when none is idle, new sources share one key per anomaly name.
    static let defaultMaxKeys = 10_000
    /// Anomaly names with this prefix are limited; stream and application-layer anomalies are
    /// already raised at most once per flow by their stages.
    static let limitedPrefix = "decoder."

    private struct Key: Hashable {
        let name: String
        /// Nil for the shared key of sources that found the table full.
        let source: IPAddress?
    }

    private struct KeyState {
        var windowStart: Timestamp
        var writtenInWindow = 0
        var held: UInt64 = 0
        var lastHeld: Event?
        var lastSeen: Timestamp
    }

    private let downstream: EventSink
    let perWindow: Int
    private let windowNanoseconds: Int64
    private let maxKeys: Int
    private var keys: [Key: KeyState] = [:]
    /// Events held back, per anomaly name, over the whole run (including keys dropped later).
    private(set) var heldByName: [String: UInt64] = [:]
    /// Sources whose anomalies were counted under the shared per-name key because the table was full.
    private(set) var sourcesPastKeyLimit: UInt64 = 0

    init(downstream: EventSink, perWindow: Int = defaultPerWindow, windowSeconds: Double = defaultWindowSeconds,
         maxKeys: Int = defaultMaxKeys) {
        self.downstream = downstream
        self.perWindow = max(1, perWindow)
        self.windowNanoseconds = Int64(max(1, windowSeconds) * 1e9)
        self.maxKeys = max(1, maxKeys)
    }

    /// Total events held back over the run.
    var heldTotal: UInt64 { heldByName.values.reduce(0, +) }

    func emit(_ event: Event) {
        guard event.eventType == "anomaly", let name = event.anomalyName, name.hasPrefix(Self.limitedPrefix) else {
            downstream.emit(event)
            return
        }
        let source = event.endpoints?.srcIP ?? event.flow?.srcIP
        var key = Key(name: name, source: source)
        if keys[key] == nil && keys.count >= maxKeys {
            dropIdleKeys(now: event.timestamp)
            if keys.count >= maxKeys {
                sourcesPastKeyLimit += 1
                key = Key(name: name, source: nil)
            }
        }
        var state = keys[key] ?? KeyState(windowStart: event.timestamp, lastSeen: event.timestamp)
        state.lastSeen = event.timestamp
        if event.timestamp.nanoseconds &- state.windowStart.nanoseconds >= windowNanoseconds
            || event.timestamp < state.windowStart {
            state.windowStart = event.timestamp
            state.writtenInWindow = 0
        }
        if state.writtenInWindow < perWindow {
            state.writtenInWindow += 1
            keys[key] = state
            downstream.emit(event)
            return
        }
        state.held += 1
        state.lastHeld = event
        heldByName[name, default: 0] += 1
        keys[key] = state
    }

    /// Writes one summary event per key that held events back; call once, after the last packet.
    func finish() {
        let pending = keys.filter { $0.value.held > 0 }
            .sorted { ($0.key.name, $0.key.source?.description ?? "") < ($1.key.name, $1.key.source?.description ?? "") }
        for (key, state) in pending {
            writeRepeats(key: key, state: state)
        }
        keys.removeAll()
    }

    /// Removes keys with nothing held and no event for a whole window; keys that held events
    /// write their summary first, so no count is lost.
    private func dropIdleKeys(now: Timestamp) {
        let idle = keys.filter { now.nanoseconds &- $0.value.lastSeen.nanoseconds >= windowNanoseconds }
        for (key, state) in idle {
            if state.held > 0 { writeRepeats(key: key, state: state) }
            keys[key] = nil
        }
    }

    private func writeRepeats(key: Key, state: KeyState) {
        guard var event = state.lastHeld, case .object(var anomaly)? = event.body["anomaly"] else { return }
        anomaly.set("repeats", .int(state.held))
        event.body.set("anomaly", .object(anomaly))
        let sender = key.source.map { "\($0)" } ?? "sources past the limit of \(maxKeys) tracked addresses"
        event.message = "\(sender) raised \(key.name) \(state.held) more times than the \(perWindow) per "
            + "\(windowNanoseconds / 1_000_000_000) seconds written; the last of them was: \(event.message ?? "")"
        downstream.emit(event)
    }
}
