import WirecheckBaseline

/// `wirecheck learn`: builds or extends a baseline from captures or a live interface.
struct LearnCommand {
    static let usage = """
    Usage: wirecheck learn --baseline FILE [OPTIONS] CAPTURE...
           wirecheck learn --baseline FILE --duration DURATION [OPTIONS] -i INTERFACE

    Learns the plant's normal communication (assets, conversations, operations, timing) into
    FILE, a JSON document to review, approve and keep under version control. When FILE exists,
    learning extends it and keeps its approvals, notes and allow rules.

    Options:
      --baseline FILE         the baseline to create or extend (required)
      --duration DURATION     with -i, stop learning after DURATION (600, 90s, 10m, 2h)
      --filter EXPR           learn only from packets matching the BPF expression EXPR
      -i, --interface NAME    learn from a live interface
      --host-events PATH      host telemetry to join, as for analyze; may be repeated
      --eve PATH              also write the run's events as EVE JSON lines
      --quiet                 do not print the analysis summary
    """

    let analyze: AnalyzeCommand

    init(arguments: [String]) throws {
        var passed: [String] = []
        var baselinePath: String?
        var duration: Double?
        var cursor = ArgumentCursor(arguments)
        while let option = cursor.nextOption() {
            switch option {
            case "--baseline": baselinePath = try cursor.value(for: option)
            case "--duration":
                let text = try cursor.value(for: option)
                guard let seconds = LearnThenDetect.parseDuration(text), seconds > 0 else {
                    throw UsageError("invalid duration '\(text)' for --duration: use seconds or a number with s, m, h or d (600, 10m, 2h)")
                }
                duration = seconds
            case "--filter", "-i", "--interface", "--host-events", "--eve", "--clock-skew", "--max-flows", "--midstream-grace":
                passed.append(option)
                passed.append(try cursor.value(for: option))
            case "--quiet", "-q", "--no-checksums":
                passed.append(option)
            case "-h", "--help": throw HelpRequested(text: LearnCommand.usage)
            default: throw UsageError("unknown option '\(option)' for learn; run 'wirecheck learn --help' for the list")
            }
        }
        guard let baselinePath else {
            throw UsageError("learn needs --baseline FILE: the baseline to create or extend")
        }
        var analyze = try AnalyzeCommand(arguments: passed + ["--"] + cursor.positionals)
        if analyze.interface != nil && duration == nil {
            throw UsageError("learning from a live interface needs --duration (for example --duration 1h)")
        }
        analyze.learnInto = baselinePath
        analyze.liveDuration = duration
        self.analyze = analyze
    }

    func run() -> Int32 {
        analyze.run()
    }
}

/// `wirecheck baseline show FILE` and `wirecheck baseline diff OLD NEW`.
struct BaselineCommand {
    static let usage = """
    Usage: wirecheck baseline show FILE
           wirecheck baseline diff OLD NEW

    show  prints the baseline as tables: assets, conversations, operations and their timing,
          allow rules and maintenance windows, and entries still waiting for approval
    diff  lists what was added, removed or changed between two baselines
    """

    enum Action {
        case show(String)
        case diff(String, String)
    }

    let action: Action

    init(arguments: [String]) throws {
        if arguments.contains("-h") || arguments.contains("--help") { throw HelpRequested(text: BaselineCommand.usage) }
        switch (arguments.first, arguments.count) {
        case ("show", 2): action = .show(arguments[1])
        case ("diff", 3): action = .diff(arguments[1], arguments[2])
        default:
            throw UsageError("expected 'baseline show FILE' or 'baseline diff OLD NEW', got 'baseline \(arguments.joined(separator: " "))'")
        }
    }

    func run() -> Int32 {
        do {
            switch action {
            case .show(let path):
                print(BaselineReport.show(try Baseline.load(path: path)), terminator: "")
            case .diff(let old, let new):
                print(BaselineDiff.diff(old: try Baseline.load(path: old), new: try Baseline.load(path: new)), terminator: "")
            }
            return 0
        } catch {
            printError("\(error)")
            return 1
        }
    }
}
