import WirecheckCore

/// The process that opened a flow, as host telemetry names it: what the engine passes to the
/// learner and detector for each finished industrial-protocol flow with an attribution.
public struct ProcessObservation: Equatable, Sendable {
    /// The client address of the flow, which is the host the process runs on.
    public var host: IPAddress
    /// The computer name the telemetry reports (Sysmon `Computer`, auditd `node`).
    public var hostName: String?
    /// Full path of the image, as the telemetry spells it.
    public var executable: String
    public var commandLine: String?
    public var user: String?
    public var pid: Int?

    public init(host: IPAddress, hostName: String? = nil, executable: String, commandLine: String? = nil,
                user: String? = nil, pid: Int? = nil) {
        self.host = host
        self.hostName = hostName
        self.executable = executable
        self.commandLine = commandLine
        self.user = user
        self.pid = pid
    }
}

/// A host, application protocol and executable: the identity of one program entry.
///
/// NOTE: The executable path is compared exactly, including case, so `C:\Tools\a.exe` and
/// `c:\tools\a.exe` are two programs although Windows treats them as one file.
public struct ProgramKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var host: IPAddress
    public var protocolName: String
    public var executable: String

    public init(host: IPAddress, protocolName: String, executable: String) {
        self.host = host
        self.protocolName = protocolName
        self.executable = executable
    }

    /// `10.20.1.50 modbus /usr/bin/python3.11`: the natural key used in reports and diffs.
    public var description: String { "\(host) \(protocolName) \(executable)" }

    public static func < (lhs: ProgramKey, rhs: ProgramKey) -> Bool {
        if lhs.host != rhs.host { return lhs.host < rhs.host }
        if lhs.protocolName != rhs.protocolName { return lhs.protocolName < rhs.protocolName }
        return lhs.executable < rhs.executable
    }
}

/// A service a program connected to: server address and port.
public struct ServerEndpoint: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var server: IPAddress
    public var port: UInt16

    public init(server: IPAddress, port: UInt16) {
        self.server = server
        self.port = port
    }

    /// `10.20.1.21:502`, or `[fd00::21]:502` for IPv6.
    public var description: String {
        if case .v6 = server { return "[\(server)]:\(port)" }
        return "\(server):\(port)"
    }

    public static func < (lhs: ServerEndpoint, rhs: ServerEndpoint) -> Bool {
        lhs.server != rhs.server ? lhs.server < rhs.server : lhs.port < rhs.port
    }
}

/// One program that initiated flows of one application protocol from one host.
public final class ProgramEntry {
    /// Distinct normalised command lines kept per program. An operator tool is run with a few
    /// argument sets, while a script generated per run would otherwise grow the file without bound.
    public static let maxCommandLines = 16
    /// Distinct servers kept per program; an HMI polls tens of PLCs, a scan would add thousands.
    public static let maxServers = 256
    /// Distinct users and host names kept per program.
    public static let maxUsers = 16

    public let key: ProgramKey
    /// Normalised command lines (see `CommandLineNormalizer`), while there are at most `maxCommandLines`.
    public var commandLines: Set<String> = []
    /// True once more distinct command lines were seen than are kept. The detector then no
    /// longer raises `new_command_line` for this program, because the list is incomplete.
    public var commandLinesOverflowed = false
    public var servers: Set<ServerEndpoint> = []
    public var serversOverflowed = false
    public var users: Set<String> = []
    public var hostNames: Set<String> = []
    /// Flows the program initiated, with the first and last flow start.
    public var observation: Observation
    public var review = Review()

    public init(key: ProgramKey, observation: Observation) {
        self.key = key
        self.observation = observation
    }

    /// The file name of the executable, as messages show it.
    public var displayName: String { CommandLineNormalizer.fileName(key.executable) }

    public var sortedCommandLines: [String] { commandLines.sorted() }
    public var sortedServers: [ServerEndpoint] { servers.sorted() }

    func addCommandLine(_ normalized: String) {
        guard !commandLinesOverflowed, !commandLines.contains(normalized) else { return }
        if commandLines.count >= ProgramEntry.maxCommandLines {
            commandLinesOverflowed = true
            commandLines.removeAll()
        } else {
            commandLines.insert(normalized)
        }
    }

    func addServer(_ endpoint: ServerEndpoint) {
        guard !servers.contains(endpoint) else { return }
        if servers.count >= ProgramEntry.maxServers {
            serversOverflowed = true
        } else {
            servers.insert(endpoint)
        }
    }

    func addUser(_ user: String) {
        if users.count < ProgramEntry.maxUsers { users.insert(user) }
    }

    func addHostName(_ name: String) {
        if hostNames.count < ProgramEntry.maxUsers { hostNames.insert(name) }
    }

    /// Learns one flow of this program.
    func record(_ process: ProcessObservation, server: ServerEndpoint, at time: Timestamp) {
        observation.record(time)
        if let commandLine = process.commandLine { addCommandLine(CommandLineNormalizer.normalize(commandLine)) }
        addServer(server)
        if let user = process.user { addUser(user) }
        if let name = process.hostName { addHostName(name) }
    }

    func merge(_ other: ProgramEntry) {
        observation.merge(other.observation)
        if other.commandLinesOverflowed {
            commandLinesOverflowed = true
            commandLines.removeAll()
        }
        for line in other.commandLines { addCommandLine(line) }
        if other.serversOverflowed { serversOverflowed = true }
        for server in other.servers { addServer(server) }
        for user in other.users { addUser(user) }
        for name in other.hostNames { addHostName(name) }
        review.adopt(other.review)
    }

    func copy() -> ProgramEntry {
        let copy = ProgramEntry(key: key, observation: observation)
        copy.commandLines = commandLines
        copy.commandLinesOverflowed = commandLinesOverflowed
        copy.servers = servers
        copy.serversOverflowed = serversOverflowed
        copy.users = users
        copy.hostNames = hostNames
        copy.review = review
        return copy
    }
}

/// Reduces a command line to the program's file name and the sorted set of its distinct
/// arguments, so `modpoll -r 40 -c 2 10.0.0.20` and `modpoll -c 2 -r 40 10.0.0.20` compare equal
/// while a new flag or a new target does not.
public enum CommandLineNormalizer {
    /// Arguments kept; a longer command line is cut, since no tool an operator runs has more.
    public static let maxArguments = 128
    /// Characters kept per argument; a longer one (an inline script line) is cut.
    public static let maxArgumentLength = 256

    /// Returns `name arg1 arg2 ...` with the arguments sorted and de-duplicated. An argument that
    /// contains white space is written in double quotes.
    public static func normalize(_ commandLine: String) -> String {
        let tokens = split(commandLine)
        guard let first = tokens.first else { return "" }
        var arguments = Set<String>()
        for token in tokens.dropFirst().prefix(maxArguments) {
            arguments.insert(String(token.prefix(maxArgumentLength)))
        }
        let quoted = arguments.sorted().map { $0.contains(where: \.isWhitespace) ? "\"\($0)\"" : $0 }
        return ([fileName(first)] + quoted).joined(separator: " ")
    }

    /// Splits at white space outside double or single quotes, dropping the quotes, the way a
    /// shell or the Windows argument parser treats the common cases.
    ///
    /// NOTE: Backslash escapes are not interpreted, so `"a\"b"` splits differently than Windows
    /// would. The result is still deterministic, which is all the comparison needs.
    static func split(_ commandLine: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var inToken = false
        var quote: Character?
        for character in commandLine {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inToken = true
            } else if character.isWhitespace {
                if inToken { tokens.append(current) }
                current = ""
                inToken = false
            } else {
                current.append(character)
                inToken = true
            }
        }
        if inToken { tokens.append(current) }
        return tokens
    }

    /// The last path component, after `/` or `\`: `python3.11` for `/usr/bin/python3.11`.
    public static func fileName(_ path: String) -> String {
        guard let separator = path.lastIndex(where: { $0 == "/" || $0 == "\\" }) else { return path }
        let name = path[path.index(after: separator)...]
        return name.isEmpty ? path : String(name)
    }
}
