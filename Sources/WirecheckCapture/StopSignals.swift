import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The pipe the signal handler writes to; -1 until handlers are installed. The handler may only
/// make async-signal-safe calls, so it writes one byte here and a Dispatch source does the rest.
nonisolated(unsafe) private var signalPipeWriteDescriptor: Int32 = -1

/// Keeps the read source alive for the life of the process.
nonisolated(unsafe) private var signalReadSource: DispatchSourceRead?

private func forwardSignalToPipe(_ signalNumber: Int32) {
    let savedErrno = errno
    var byte = UInt8(truncatingIfNeeded: signalNumber)
    _ = write(signalPipeWriteDescriptor, &byte, 1)
    errno = savedErrno
}

/// Calls `handler` when the process receives SIGINT or SIGTERM, so a live capture can stop
/// cleanly and write its summary. A second signal ends the process at once with status 130,
/// for an operator whose first Ctrl-C did not seem to work.
///
/// The handler runs on a Dispatch queue, not in signal context, so it may call
/// `CaptureInput.stop()` or anything else. Call once per process; returns false when the pipe
/// that carries signals out of the handler cannot be created (no handler is installed then).
@discardableResult
public func installStopSignalHandlers(_ handler: @escaping () -> Void) -> Bool {
    installStopSignalHandlers(signals: [SIGINT, SIGTERM], handler)
}

// NOTE: Dispatch signal sources are not used. On Linux they read a signalfd, which receives a
// signal only while the thread it is delivered to blocks it. In the test runner, with other
// threads already running, a Dispatch source never received SIGUSR1.
@discardableResult
func installStopSignalHandlers(signals: [Int32], _ handler: @escaping () -> Void) -> Bool {
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else { return false }
    let readDescriptor = ends[0]
    let writeDescriptor = ends[1]
    for descriptor in ends {
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
    }
    // Non-blocking, so a full pipe cannot stall the signal handler. A byte dropped then only
    // loses a repeated signal.
    _ = fcntl(writeDescriptor, F_SETFL, fcntl(writeDescriptor, F_GETFL) | O_NONBLOCK)
    signalPipeWriteDescriptor = writeDescriptor

    let counter = SignalCounter()
    let source = DispatchSource.makeReadSource(fileDescriptor: readDescriptor, queue: .global())
    source.setEventHandler {
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = read(readDescriptor, &buffer, buffer.count)
        for _ in 0..<max(count, 0) {
            if counter.increment() > 1 {
                exit(130)
            }
            handler()
        }
    }
    source.resume()
    signalReadSource = source

    var unblocked = sigset_t()
    sigemptyset(&unblocked)
    for signalNumber in signals {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = forwardSignalToPipe
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(signalNumber, &action, nil)
        sigaddset(&unblocked, signalNumber)
    }
    // A process inherits its signal mask from the thread that started it, and some parents
    // (Foundation's Process started from a test runner's thread) block SIGINT and SIGTERM. The
    // handlers above would then never run, so the calling thread unblocks the signals.
    pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
    return true
}

/// Counts signals so the second one can end the process.
private final class SignalCounter: Sendable {
    private let count = Atomic<Int>(0)

    func increment() -> Int {
        count.wrappingAdd(1, ordering: .relaxed).newValue
    }
}
