import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Dispatch sources must stay alive for their handlers to run; this keeps them for the process.
nonisolated(unsafe) private var installedSignalSources: [DispatchSourceSignal] = []

/// Calls `handler` when the process receives SIGINT or SIGTERM, so a live capture can stop
/// cleanly and write its summary. A second signal ends the process at once with status 130,
/// for an operator whose Ctrl-C did not seem to work.
///
/// The handler runs on a Dispatch queue, not in signal context, so it may call
/// `CaptureInput.stop()` or anything else. Call once per process.
public func installStopSignalHandlers(_ handler: @escaping () -> Void) {
    installStopSignalHandlers(signals: [SIGINT, SIGTERM], handler)
}

func installStopSignalHandlers(signals: [Int32], _ handler: @escaping () -> Void) {
    let counter = SignalCounter()
    for signalNumber in signals {
        // The default action would end the process before Dispatch sees the signal.
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler {
            if counter.increment() > 1 {
                exit(130)
            }
            handler()
        }
        source.resume()
        installedSignalSources.append(source)
    }
}

/// Counts signals across all installed sources, which Dispatch may run concurrently.
private final class SignalCounter: Sendable {
    private let count = Atomic<Int>(0)

    func increment() -> Int {
        count.wrappingAdd(1, ordering: .relaxed).newValue
    }
}
