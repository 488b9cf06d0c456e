import Foundation
import WirecheckBaseline
import WirecheckCapture
import WirecheckCore
import WirecheckEngine
import WirecheckHosts
import WirecheckOutput

/// `wirecheck analyze`: reads captures or a live interface, runs every stage and writes the
/// EVE output and the summary.
struct AnalyzeCommand {
    static let usage = """
    Usage: wirecheck analyze [OPTIONS] CAPTURE...
           wirecheck analyze [OPTIONS] -i INTERFACE

    Decodes every packet, tracks flows, parses the industrial protocols and reports anomalies
    and alerts. Several capture files are merged in timestamp order; '-' reads a capture from
    standard input.

    Options:
      --eve PATH              write EVE JSON lines to PATH ('-' for standard output)
      --filter EXPR           analyse only packets matching the BPF expression EXPR
      -i, --interface NAME    capture live from interface NAME until Ctrl-C or SIGTERM
      --buffer-size MIB       live capture: kernel buffer for packets waiting to be analysed,
                              in MiB (default 64, at most 2047); raise it when the summary
                              reports packets dropped by the kernel
      --eve-append            append to an existing EVE file instead of replacing it; a torn
                              last line left by a killed run is removed first
      --operations LEVEL      protocol transactions written as events: all (default), changes
                              (writes, controls, program transfers, restarts) or none;
                              alerts, anomalies and flow records are written at every level
      --max-flows N           maximum number of flows tracked at once (default 1000000)
      --max-reassembly-bytes N
                              out-of-order TCP bytes held per flow direction (default 1048576)
      --max-reassembly-total N
                              out-of-order TCP bytes held over all flows (default 268435456)
      --max-outstanding-requests N
                              requests per flow waiting for a response (default: each
                              protocol's own, 64 for Modbus, 32 for DNP3, EtherNet/IP, S7comm)
      --max-fragments N       IP datagrams reassembled from fragments at once (default 4096)
      --max-arp-bindings N    IP-to-MAC bindings the ARP monitor tracks (default 10000)
      --anomaly-repeats N     decoder anomalies of one name from one source written per minute
                              of packet time; the rest are counted (default 10)
      --user NAME             in live mode as root, switch to user NAME once the interface and
                              output files are open (default nobody)
      --midstream-grace SEC   seconds after the first packet during which a flow with no
                              handshake counts as a mid-stream pickup (default 10)
      --no-checksums          do not verify IP, TCP and UDP checksums (for captures taken on
                              a host with checksum offload)
      --host-events PATH      join flows to processes recorded by Sysmon (.evtx, XML, JSON lines)
                              or auditd in PATH, a file or folder; may be repeated
      --clock-skew SEC        largest clock difference between host telemetry and the capture
                              that still joins, in seconds (default 5)
      --baseline FILE         raise alerts for traffic that deviates from the baseline in FILE
                              (made by 'wirecheck learn')
      --learn-first DURATION  learn a baseline from the first DURATION of the input (600, 90s,
                              10m, 2h) and raise deviations from it on the rest
      --store, --store=PATH   also keep every finding in the SQLite store PATH (default
                              wirecheck.db in the working directory); runs accumulate
      --report FILE           write a self-contained HTML report of this run to FILE
      --workers N             analyse on N threads (1 to 64, default 1); flows are split by
                              IP address pair and the EVE output keeps the input order; not
                              with --baseline, --learn-first or --host-events
      --quiet                 do not print the summary
      -h, --help              show this help

    Exit status: 0 when analysis ran, 1 when nothing could be analysed, 2 for usage errors.
    """

    var captures: [String] = []
    var interface: String?
    var evePath: String?
    var options = AnalysisOptions()
    var captureOptions = CaptureOptions()
    var quiet = false
    var hostEventPaths: [String] = []
    var baselinePath: String?
    var storePath: String?
    var reportPath: String?
    var learnFirst: Double?
    /// Set by `wirecheck learn`: the baseline file to extend and save instead of detecting.
    var learnInto: String?
    /// Set by `wirecheck learn -i`: stop a live capture after this many seconds.
    var liveDuration: Double?
    var eveAppend = false
    /// The user a live capture run as root switches to after opening its inputs and outputs.
    var privilegeUser: String?
    /// Analysis threads (`--workers`); 1 runs the single-threaded `Analyzer`.
    var workers = 1

    init(arguments: [String]) throws {
        var cursor = ArgumentCursor(arguments)
        while let option = cursor.nextOption() {
            switch option {
            case "--eve": evePath = try cursor.value(for: option)
            case "--filter": captureOptions.filter = try cursor.value(for: option)
            case "-i", "--interface": interface = try cursor.value(for: option)
            case "--buffer-size":
                let megabytes = try cursor.integer(for: option, range: 1...CaptureOptions.maximumBufferMegabytes)
                captureOptions.bufferSize = Int32(megabytes) * 1024 * 1024
            case "--eve-append": eveAppend = true
            case "--operations":
                let text = try cursor.value(for: option)
                guard let level = OperationLogging(rawValue: text) else {
                    throw UsageError("invalid value '\(text)' for --operations: expected all, changes or none")
                }
                options.operationLogging = level
            case "--max-flows": options.flows.maxFlows = try cursor.integer(for: option, range: 1...100_000_000)
            case "--max-reassembly-bytes":
                options.flows.reassemblyLimits.maxBufferedBytesPerDirection = try cursor.integer(for: option, range: 0...(1 << 40))
            case "--max-reassembly-total":
                options.flows.reassemblyMaxTotalBytes = try cursor.integer(for: option, range: 0...(1 << 40))
            case "--max-outstanding-requests":
                options.application.maxOutstandingRequests = try cursor.integer(for: option, range: 1...10_000_000)
            case "--max-fragments":
                options.fragmentLimits.maxDatagramsInProgress = try cursor.integer(for: option, range: 1...10_000_000)
            case "--max-arp-bindings":
                options.arp.maxBindings = try cursor.integer(for: option, range: 1...100_000_000)
            case "--anomaly-repeats":
                options.anomaliesPerSourcePerMinute = try cursor.integer(for: option, range: 1...1_000_000)
            case "--user": privilegeUser = try cursor.value(for: option)
            case "--midstream-grace": options.flows.midstreamGrace = try cursor.seconds(for: option)
            case "--no-checksums": options.verifyChecksums = false
            case "--host-events": hostEventPaths.append(try cursor.value(for: option))
            case "--clock-skew": options.clockSkewTolerance = try cursor.seconds(for: option)
            case "--baseline": baselinePath = try cursor.value(for: option)
            case "--store": storePath = cursor.takeAttachedValue() ?? cursor.takeStorePath() ?? "wirecheck.db"
            case "--report": reportPath = try cursor.value(for: option)
            case "--learn-first":
                let text = try cursor.value(for: option)
                guard let seconds = LearnThenDetect.parseDuration(text), seconds > 0 else {
                    throw UsageError("invalid duration '\(text)' for --learn-first: use seconds or a number with s, m, h or d (600, 10m, 2h)")
                }
                learnFirst = seconds
            case "--workers": workers = try cursor.integer(for: option, range: 1...ParallelAnalyzer.maxWorkers)
            case "--quiet", "-q": quiet = true
            case "-h", "--help": throw HelpRequested(text: AnalyzeCommand.usage)
            default: throw UsageError("unknown option '\(option)' for analyze; run 'wirecheck analyze --help' for the list")
            }
        }
        captures = cursor.positionals
        if interface != nil && !captures.isEmpty {
            throw UsageError("give either capture files or -i INTERFACE, not both (got -i \(interface!) and \(captures.joined(separator: " ")))")
        }
        for (option, path) in [("--report", reportPath), ("--store", storePath)] {
            if let path { try AnalyzeCommand.checkWritable(path, option: option) }
        }
        if baselinePath != nil && learnFirst != nil {
            throw UsageError("give either --baseline FILE or --learn-first DURATION, not both")
        }
        if privilegeUser != nil && interface == nil {
            throw UsageError("--user applies only to live capture: remove it, or capture with -i INTERFACE")
        }
        if let privilegeUser {
            _ = try PrivilegeDrop.lookUp(privilegeUser)
        }
        if workers > 1 {
            let combined = [("--host-events", !hostEventPaths.isEmpty), ("--baseline", baselinePath != nil),
                            ("--learn-first", learnFirst != nil)]
            for (option, given) in combined where given {
                throw UsageError("--workers \(workers) cannot be combined with \(option), whose per-run state would be split between workers; use --workers 1")
            }
        }
        if interface == nil && captures.isEmpty {
            throw UsageError("no capture given: name one or more pcap or pcapng files, '-' for standard input, or -i INTERFACE")
        }
    }

    /// Runs the analysis and returns the exit status.
    func run() -> Int32 {
        let sources = CaptureSourceTable()
        let input: CaptureInput
        do {
            if let interface {
                input = try CaptureInput.openLive(interface: interface, options: captureOptions, sources: sources)
            } else {
                input = try CaptureInput.openFiles(captures, options: captureOptions, sources: sources)
            }
        } catch let error as CaptureError {
            if case .noInputOpened(let failures) = error {
                for failure in failures { printError(failure.description) }
            } else {
                printError(error.description)
            }
            switch error {
            case .invalidFilter, .standardInputRepeated, .tooManyInputs: return 2
            default: return 1
            }
        } catch {
            printError("\(error)")
            return 1
        }
        for failure in input.openErrors {
            printError(failure.description)
        }

        var outputs: [EventSink] = []
        var eveWriter: EveWriter?
        if let evePath {
            do {
                let writer = try EveWriter(path: evePath, sources: sources, append: eveAppend)
                if writer.repairedBytes > 0 {
                    printError("EVE output '\(evePath)' ended in a torn line, probably from a run that was killed; removed its last \(writer.repairedBytes) bytes before appending")
                }
                eveWriter = writer
                outputs.append(writer)
            } catch {
                printError("\(error)")
                return 1
            }
        }

        var options = self.options
        if !hostEventPaths.isEmpty {
            let telemetry = HostTelemetry.load(paths: hostEventPaths)
            if telemetry.processes.isEmpty && telemetry.connections.isEmpty {
                for file in telemetry.files where file.error != nil {
                    printError("\(file.file): \(file.error ?? "")")
                }
                printError("no process or connection record could be read from \(hostEventPaths.joined(separator: ", ")); check the paths and formats (Sysmon .evtx, XML or JSON lines, auditd logs)")
                return 1
            }
            options.hostTelemetry = telemetry
        }
        do {
            options.baseline = try baselineMode()
        } catch {
            printError("\(error)")
            return 1
        }
        // A report needs a store; without --store the run uses a temporary one.
        var temporaryStore: String?
        if reportPath != nil && storePath == nil {
            temporaryStore = NSTemporaryDirectory() + "wirecheck-report-\(getpid()).db"
        }
        var store: FindingStore?
        if let path = storePath ?? temporaryStore {
            do {
                let opened = try FindingStore(path: path)
                try opened.beginRun(sources: sources.names)
                store = opened
                outputs.append(opened)
            } catch {
                printError("\(error)")
                return 1
            }
        }
        defer {
            if let temporaryStore {
                for suffix in ["", "-wal", "-shm"] { unlink(temporaryStore + suffix) }
            }
        }

        // Every file this run writes is open now, so a live capture running as root can give
        // up root before it parses the first hostile packet.
        if interface != nil && geteuid() == 0 {
            do {
                let account = try PrivilegeDrop.lookUp(privilegeUser ?? PrivilegeDrop.defaultUser)
                // The report and a learned baseline are written at the end of the run, so they are
                // created now and handed to the unprivileged user, who rewrites them in place.
                for path in [reportPath, learnInto].compactMap({ $0 }) {
                    if !FileManager.default.fileExists(atPath: path) {
                        _ = FileManager.default.createFile(atPath: path, contents: nil)
                    }
                    _ = chown(path, account.userID, account.groupID)
                }
                try PrivilegeDrop.switchUser(to: account)
            } catch {
                printError("\(error)")
                return 1
            }
        }

        let analyzer: PacketAnalyzer
        if workers > 1 {
            // `wirecheck learn` sets the baseline after parsing, so this is checked again here.
            if let option = ParallelAnalyzer.unsupportedOption(options) {
                printError("--workers \(workers) cannot be combined with \(option), whose per-run state would be split between workers; use --workers 1")
                return 2
            }
            analyzer = ParallelAnalyzer(workerCount: workers, options: options, sources: sources, outputs: outputs)
        } else {
            analyzer = Analyzer(options: options, sources: sources, outputs: outputs)
        }
        let progress = isatty(STDERR_FILENO) == 1 && interface == nil && !quiet
            ? ProgressReporter(totalBytes: input.progress.totalBytes > 0 ? input.progress.totalBytes : nil) : nil
        var packetsSinceProgress = 0
        if interface == nil {
            for name in sources.names where name != "-" {
                do {
                    try analyzer.addBaselineCapture(path: name)
                } catch {
                    printError("\(error)")
                    return 1
                }
            }
        }
        let wallStart = time(nil)
        let liveDuration = self.liveDuration
        installStopSignalHandlers { input.stop() }
        if let interface {
            // Printed once the interface is open and SIGINT is handled. From then on, packets sent
            // to the interface are captured and a script may stop the run with SIGINT.
            printError("capturing on interface \(interface) with a \(captureOptions.bufferSize / (1024 * 1024)) MiB kernel buffer; stop with Ctrl-C or SIGTERM")
        }
        let isLive = interface != nil
        // In live mode the EVE file is flushed at least once a second of wall time, so a
        // crash or kill loses at most the last second of events.
        var lastFlush = time(nil)
        // A failed EVE write (a full disk) ends the run at once: analysing on, above all in live
        // mode, would only lose more events. The message and status 1 follow at the end.
        var stoppedForOutput = false
        let stopIfOutputFailed = {
            guard !stoppedForOutput, let failure = eveWriter?.failure else { return }
            stoppedForOutput = true
            printError("\(failure.description); stopping the analysis")
            input.stop()
        }
        input.run({ packet in
            analyzer.process(packet)
            stopIfOutputFailed()
            if let progress {
                packetsSinceProgress += 1
                if packetsSinceProgress >= 4096 {
                    packetsSinceProgress = 0
                    progress.update(bytesRead: input.progress.bytesRead, packets: Int64(analyzer.packets),
                                    alerts: Int64(analyzer.alertsWritten))
                }
            }
            if isLive {
                let now = time(nil)
                if now != lastFlush {
                    lastFlush = now
                    analyzer.forwardPendingEvents()
                    eveWriter?.flush()
                    try? store?.flush()
                    if let liveDuration, Double(now - wallStart) >= liveDuration { input.stop() }
                }
            }
        }, idle: { now in
            analyzer.housekeep(now: now)
            stopIfOutputFailed()
            if let liveDuration, Double(time(nil) - wallStart) >= liveDuration { input.stop() }
            if isLive {
                analyzer.forwardPendingEvents()
                eveWriter?.flush()
                try? store?.flush()
            }
        })
        analyzer.finish()
        progress?.finish()
        let learnedBaseline = learnInto != nil ? analyzer.learnedBaseline() : nil

        var summary = RunSummary()
        analyzer.summarize(into: &summary)
        let statistics = input.statistics
        summary.sources = statistics.sources.map {
            RunSummary.Source(name: $0.name, packets: $0.packets, linkType: $0.linkType.description)
        }
        if let kernel = statistics.kernel {
            summary.kernelDrops = kernel.droppedByKernel + kernel.droppedByInterface
        }
        summary.warnings = input.warnings
        summary.errors = input.openErrors.map(\.description)
        if statistics.filteredOut > 0 {
            summary.skipped.append(("packets not matching the filter '\(captureOptions.filter ?? "")'", statistics.filteredOut))
        }
        if eveWriter != nil || store != nil {
            analyzer.emitStatistics(summary: summary)
        }
        if let store {
            do {
                let runID = store.currentRunID
                try store.finishRun(stats: analyzer.statisticsObject(summary: summary))
                if store.failedEventCount > 0 {
                    printError("\(store.failedEventCount) events could not be stored in \(storePath ?? "the store"): \(store.lastError.map { "\($0)" } ?? "unknown error")")
                }
                if let reportPath {
                    var inputs = HTMLReportInputs()
                    switch options.baseline {
                    case .detect(let baseline), .learn(let baseline), .learnFirst(_, let baseline):
                        inputs.baseline = BaselineReviewView.entries(learnedBaseline ?? baseline)
                    case .none:
                        break
                    }
                    let html = try HTMLReport.render(store: store, runID: runID, inputs: inputs)
                    do {
                        // Written in place, not atomically, so a live capture that gave up root can
                        // still write the file it created before the switch.
                        try html.write(toFile: reportPath, atomically: false, encoding: .utf8)
                    } catch {
                        throw UsageError("writing the report '\(reportPath)' failed (\(String(cString: strerror(errno)))); choose a writable path with --report")
                    }
                    summary.reportOutput = reportPath
                }
                try store.close()
            } catch {
                printError("\(error)")
                return 1
            }
        }
        if let eveWriter {
            eveWriter.close()
            summary.eveOutput = eveWriter.path
            summary.eveEvents = eveWriter.eventsWritten
        }
        if !quiet && evePath != "-" {
            print(SummaryFormatter.render(summary, tally: analyzer.tally), terminator: "")
        }
        for warning in input.warnings {
            printError("warning: \(warning)")
        }
        if let learnFirst, let first = summary.firstTimestamp, let last = summary.lastTimestamp,
           last.interval(since: first) <= learnFirst {
            printError("warning: --learn-first \(Int(learnFirst)) s covers the whole input (\(Int(last.interval(since: first))) s), so nothing was checked against the learned baseline; give a shorter duration")
        } else if let learnFirst, let first = summary.firstTimestamp {
            print("Learned the baseline from \(first.iso8601) to \(first.adding(seconds: learnFirst).iso8601) and checked the rest against it.")
        }
        if let learnInto, let baseline = learnedBaseline {
            do {
                try baseline.save(to: learnInto)
                print("Baseline saved to \(learnInto): \(baseline.assets.count) assets, \(baseline.conversations.count) conversations, \(baseline.programs.count) programs; review it with 'wirecheck baseline show \(learnInto)'")
            } catch {
                printError("\(error)")
                return 1
            }
        }
        if let failure = eveWriter?.failure {
            printError("\(failure.description) (\(eveWriter?.eventsLost ?? 0) events were not written)")
            return 1
        }
        // No packet analysed counts as failure when a file could not be opened or was damaged
        // before its first packet. A whole capture with no packets is a valid, empty result.
        let readFailed = !input.openErrors.isEmpty || statistics.sources.contains { !$0.completed }
        let nothingAnalysed = analyzer.packets == 0 && !isLive && readFailed
        return nothingAnalysed ? 1 : 0
    }
}

struct HelpRequested: Error {
    let text: String
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("wirecheck: " + message + "\n").utf8))
}

extension AnalyzeCommand {
    /// Returns the baseline mode the options ask for: learn into a file, detect against one, or learn first.
    func baselineMode() throws -> BaselineMode {
        if let learnInto {
            let existing = FileManager.default.fileExists(atPath: learnInto) ? try Baseline.load(path: learnInto) : Baseline()
            return .learn(existing)
        }
        if let baselinePath {
            return .detect(try Baseline.load(path: baselinePath))
        }
        if let learnFirst {
            return .learnFirst(duration: learnFirst, baseline: Baseline())
        }
        return .none
    }
}

extension AnalyzeCommand {
    /// Rejects an output path whose folder is missing or not writable, before any analysis runs.
    static func checkWritable(_ path: String, option: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let directory = folder.isEmpty ? "." : folder
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UsageError("invalid value '\(path)' for \(option): folder '\(directory)' not found; create it or choose another path")
        }
        guard access(directory, W_OK) == 0 else {
            throw UsageError("invalid value '\(path)' for \(option): folder '\(directory)' is not writable; choose another path")
        }
    }
}
