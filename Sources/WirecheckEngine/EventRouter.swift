import WirecheckBaseline
import WirecheckCore
import WirecheckOutput

/// The one sink every stage emits into. It counts events, remembers which flows raised
/// alerts (for the flow record's `alerted` member) and passes each event to the outputs.
final class EventRouter: EventSink {
    let tally = EventTally()
    private var outputs: [EventSink]
    /// Flow ids that raised an alert and whose flow record was not yet written.
    private var alertedFlows = Set<UInt64>()
    /// Adds process fields from host telemetry, when the run has any.
    var hostEnricher: HostEnricher?
    /// Marks alerts and anomalies that an allow rule or maintenance window covers.
    var suppressor: Suppressor?
    private let tlsFailures = RepeatedFailureTracker()
    /// Receives `tls` events so the baseline learns and checks TLS handshakes.
    var baselineStage: BaselineStage?

    init(outputs: [EventSink]) {
        self.outputs = outputs
    }

    func add(_ output: EventSink) {
        outputs.append(output)
    }

    func emit(_ event: Event) {
        var event = event
        hostEnricher?.enrich(&event)
        if let suppressor { event = suppressor.filter(event) }
        if event.eventType == "alert", let flow = event.flow {
            alertedFlows.insert(flow.flowID)
        } else if event.eventType == "flow", let flow = event.flow, alertedFlows.remove(flow.flowID) != nil,
                  case .object(var record)? = event.body["flow"] {
            record.set("alerted", .bool(true))
            event.body.set("flow", .object(record))
        }
        tally.emit(event)
        for output in outputs { output.emit(event) }
        baselineStage?.observe(event: event)
        if let pattern = tlsFailures.observe(event) { emit(pattern) }
    }
}
