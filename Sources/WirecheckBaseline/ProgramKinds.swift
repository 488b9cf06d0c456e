/// Kinds of program that raise a new-program alert to severity 1: general-purpose tools an
/// intruder uses to talk to a PLC without installing anything, kept apart from the detector.
public enum ProgramKind: String, Sendable {
    case interpreter
    case shell
    case remoteAccess = "remote_access"

    /// Words for messages: "an interpreter".
    var article: String {
        switch self {
        case .interpreter: return "an interpreter"
        case .shell: return "a shell"
        case .remoteAccess: return "a remote-access tool"
        }
    }

    /// File names, lowercased and without `.exe`, matched exactly.
    static let exactNames: [String: ProgramKind] = [
        "perl": .interpreter, "ruby": .interpreter, "node": .interpreter, "nodejs": .interpreter,
        "php": .interpreter, "lua": .interpreter, "java": .interpreter, "javaw": .interpreter,
        "wscript": .interpreter, "cscript": .interpreter, "mshta": .interpreter, "rundll32": .interpreter,
        "regsvr32": .interpreter,
        "powershell": .shell, "powershell_ise": .shell, "pwsh": .shell, "cmd": .shell, "bash": .shell,
        "sh": .shell, "dash": .shell, "zsh": .shell, "ksh": .shell, "busybox": .shell,
        "plink": .remoteAccess, "putty": .remoteAccess, "ssh": .remoteAccess, "nc": .remoteAccess,
        "ncat": .remoteAccess, "netcat": .remoteAccess, "socat": .remoteAccess, "mstsc": .remoteAccess,
        "winrs": .remoteAccess, "wmic": .remoteAccess, "screenconnect.clientservice": .remoteAccess,
    ]

    /// File-name prefixes, for names that carry a version or an edition (`python3.11`,
    /// `PsExec64`, `vncviewer`, `TeamViewer_Service`).
    static let prefixes: [(prefix: String, kind: ProgramKind)] = [
        ("python", .interpreter), ("pypy", .interpreter), ("perl5", .interpreter), ("ruby", .interpreter),
        ("psexec", .remoteAccess), ("paexec", .remoteAccess), ("vnc", .remoteAccess), ("tvnserver", .remoteAccess),
        ("teamviewer", .remoteAccess), ("anydesk", .remoteAccess),
    ]

    /// Suffixes Windows adds to executables, removed before matching.
    static let executableSuffixes = [".exe", ".com"]

    /// Returns the kind of the executable at `path`, or nil for any other program.
    public static func of(executable path: String) -> ProgramKind? {
        var name = CommandLineNormalizer.fileName(path).lowercased()
        for suffix in executableSuffixes where name.hasSuffix(suffix) {
            name.removeLast(suffix.count)
            break
        }
        if let kind = exactNames[name] { return kind }
        return prefixes.first { name.hasPrefix($0.prefix) }?.kind
    }
}
