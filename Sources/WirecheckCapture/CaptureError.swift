import WirecheckCore

/// A failure to open a capture input or to write a capture file. Each description is one line
/// that names the file or interface, states what failed and what to do about it.
public enum CaptureError: Error, CustomStringConvertible, Sendable, Equatable {
    case fileNotFound(path: String)
    case permissionDenied(path: String)
    case isDirectory(path: String)
    /// The operating system rejected the file for another reason (`reason` is `strerror`'s text).
    case unreadable(path: String, reason: String)
    case emptyFile(path: String)
    /// libpcap found neither a pcap nor a pcapng magic number; `firstBytes` is empty when the
    /// input cannot be peeked (standard input or another pipe).
    case notACaptureFile(path: String, firstBytes: [UInt8])
    /// libpcap rejected the file header for a reason other than its format, for example a
    /// header cut short or an unsupported pcap version.
    case openFailed(path: String, message: String)
    /// `linkTypeName` is libpcap's name for the `DLT_*` value, or nil when it has none.
    case unsupportedLinkType(input: String, linkType: Int32, linkTypeName: String?)
    /// The BPF expression did not compile for any input, so it is a usage error.
    case invalidFilter(expression: String, message: String)
    /// The BPF expression compiled for other inputs but not for this input's link type.
    case filterNotApplicable(path: String, expression: String, linkType: String, message: String)
    case standardInputRepeated
    case tooManyInputs(count: Int)
    /// Every input failed to open; the list has one error per input.
    case noInputOpened([CaptureError])
    case noSuchInterface(name: String, available: [String])
    case interfacePermissionDenied(name: String, message: String)
    case interfaceNotUp(name: String)
    case liveOpenFailed(name: String, message: String)
    case writeFailed(path: String, message: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): file not found; check the path"
        case .permissionDenied(let path):
            return "\(path): permission denied; make the file readable for this user or run as a user who can read it"
        case .isDirectory(let path):
            return "\(path) is a directory; give the capture files inside it, for example \(path)/*.pcap"
        case .unreadable(let path, let reason):
            return "\(path): cannot open the file (\(reason))"
        case .emptyFile(let path):
            return "\(CaptureError.displayName(path)) is empty (0 bytes); check that the capture was saved completely"
        case .notACaptureFile(let path, let firstBytes):
            let shown = firstBytes.isEmpty ? "" : " (first bytes: \(CaptureError.hex(firstBytes)))"
            return "\(CaptureError.displayName(path)) is not a pcap or pcapng capture\(shown); export it as pcap or pcapng"
        case .openFailed(let path, let message):
            return "\(CaptureError.displayName(path)): libpcap cannot read the capture header: \(message)"
        case .unsupportedLinkType(let input, let linkType, let name):
            let supported = LinkType.supported.map { $0.description }.joined(separator: ", ")
            let label = name.map { "\($0) (\(linkType))" } ?? "\(linkType)"
            return "\(CaptureError.displayName(input)): link type \(label) is not supported; supported link types: \(supported)"
        case .invalidFilter(let expression, let message):
            return "invalid capture filter \"\(expression)\": \(message); check the expression against pcap-filter(7)"
        case .filterNotApplicable(let path, let expression, let linkType, let message):
            return "\(CaptureError.displayName(path)): capture filter \"\(expression)\" does not apply to link type \(linkType): \(message); the file was skipped"
        case .standardInputRepeated:
            return "standard input (-) is given more than once; give it once"
        case .tooManyInputs(let count):
            return "\(count) capture inputs given, but at most \(CaptureInput.maximumSourceCount) can be read in one run; split the run"
        case .noInputOpened(let errors) where errors.isEmpty:
            return "no capture input given; name one or more pcap or pcapng files, or - for standard input"
        case .noInputOpened(let errors):
            let reasons = errors.map { $0.description }.joined(separator: "; ")
            return "none of the \(errors.count) capture inputs could be opened: \(reasons)"
        case .noSuchInterface(let name, let available):
            let list = available.isEmpty ? "none found" : available.joined(separator: ", ")
            return "interface \(name) not found; available interfaces: \(list)"
        case .interfacePermissionDenied(let name, let message):
            return "cannot capture on interface \(name): permission denied (\(message)); run as root or grant the program CAP_NET_RAW and CAP_NET_ADMIN (setcap cap_net_raw,cap_net_admin=eip PROGRAM)"
        case .interfaceNotUp(let name):
            return "interface \(name) is down; bring it up (ip link set \(name) up) and try again"
        case .liveOpenFailed(let name, let message):
            return "cannot capture on interface \(name): \(message)"
        case .writeFailed(let path, let message):
            return "\(path): cannot write the capture file: \(message)"
        }
    }

    /// Returns the path as an operator reads it, with `-` as "standard input".
    static func displayName(_ path: String) -> String {
        path == "-" ? "standard input" : path
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var text = "0x"
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return text
    }
}
