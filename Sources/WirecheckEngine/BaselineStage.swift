import WirecheckBaseline
import WirecheckCore
import WirecheckDecoding
import WirecheckFlows
import WirecheckProtocols

/// What a run does with the communication baseline.
public enum BaselineMode {
    /// No baseline: only conformance findings and standalone alerts.
    case none
    /// Learn into the given baseline (`wirecheck learn`); no deviation alerts.
    case learn(Baseline)
    /// Raise deviations from an approved baseline (`analyze --baseline`).
    case detect(Baseline)
    /// Learn from the first `duration` seconds of packet time, then detect on the rest.
    case learnFirst(duration: Double, baseline: Baseline)
}

/// Feeds the learner, the detector or both from the engine's packet, operation and flow paths.
final class BaselineStage {
    private let learner: BaselineLearner?
    private let detector: BaselineDetector?
    private let learnThenDetect: LearnThenDetect?

    init?(mode: BaselineMode, sink: EventSink) {
        switch mode {
        case .none:
            return nil
        case .learn(let baseline):
            learner = BaselineLearner(baseline: baseline)
            detector = nil
            learnThenDetect = nil
        case .detect(let baseline):
            learner = nil
            detector = BaselineDetector(baseline: baseline, sink: sink)
            learnThenDetect = nil
        case .learnFirst(let duration, let baseline):
            learner = nil
            detector = nil
            learnThenDetect = LearnThenDetect(duration: duration, baseline: baseline, sink: sink)
        }
    }

    func addCapture(path: String) throws {
        try learner?.addCapture(path: path)
        try learnThenDetect?.addCapture(path: path)
    }

    func observe(packet: DecodedPacket) {
        learner?.observe(packet: packet)
        detector?.observe(packet: packet)
        learnThenDetect?.observe(packet: packet)
    }

    func observe(operation: Operation, flow: FlowContext, timestamp: Timestamp, packets: [PacketReference]) {
        learner?.observe(operation: operation, flow: flow, timestamp: timestamp, packets: packets)
        detector?.observe(operation: operation, flow: flow, timestamp: timestamp, packets: packets)
        learnThenDetect?.observe(operation: operation, flow: flow, timestamp: timestamp, packets: packets)
    }

    func flowEnded(_ flow: Flow) {
        learner?.flowEnded(flow)
        detector?.flowEnded(flow)
        learnThenDetect?.flowEnded(flow)
    }

    func expire(now: Timestamp) {
        detector?.expire(now: now)
        learnThenDetect?.expire(now: now)
    }

    func finish(at time: Timestamp) {
        detector?.finish(at: time)
        learnThenDetect?.finish(at: time)
    }

    /// The learned baseline, complete, for `wirecheck learn` to save.
    func learnedBaseline() -> Baseline? {
        learner?.finish()
    }
}
