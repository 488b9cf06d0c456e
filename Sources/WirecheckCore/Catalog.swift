/// A technique from MITRE ATT&CK for ICS.
public struct AttackTechnique: Hashable, Sendable {
    public let id: String
    public let name: String
    public let tactic: String

    public init(id: String, name: String, tactic: String) {
        self.id = id
        self.name = name
        self.tactic = tactic
    }

    public static let remoteSystemDiscovery = AttackTechnique(id: "T0846", name: "Remote System Discovery", tactic: "Discovery")
    public static let networkConnectionEnumeration = AttackTechnique(id: "T0840", name: "Network Connection Enumeration", tactic: "Discovery")
    public static let adversaryInTheMiddle = AttackTechnique(id: "T0830", name: "Adversary-in-the-Middle", tactic: "Collection")
    public static let denialOfService = AttackTechnique(id: "T0814", name: "Denial of Service", tactic: "Inhibit Response Function")
    public static let unauthorizedCommandMessage = AttackTechnique(id: "T0855", name: "Unauthorized Command Message", tactic: "Impair Process Control")
    public static let modifyParameter = AttackTechnique(id: "T0836", name: "Modify Parameter", tactic: "Impair Process Control")
    public static let deviceRestartShutdown = AttackTechnique(id: "T0816", name: "Device Restart/Shutdown", tactic: "Inhibit Response Function")
    public static let changeOperatingMode = AttackTechnique(id: "T0858", name: "Change Operating Mode", tactic: "Execution")
    public static let programDownload = AttackTechnique(id: "T0843", name: "Program Download", tactic: "Lateral Movement")
    public static let programUpload = AttackTechnique(id: "T0845", name: "Program Upload", tactic: "Collection")
    public static let dataDestruction = AttackTechnique(id: "T0809", name: "Data Destruction", tactic: "Inhibit Response Function")
    public static let deviceIdentification = AttackTechnique(id: "T0888", name: "Remote System Information Discovery", tactic: "Discovery")
    public static let pointAndTagIdentification = AttackTechnique(id: "T0861", name: "Point & Tag Identification", tactic: "Collection")
    public static let automatedCollection = AttackTechnique(id: "T0802", name: "Automated Collection", tactic: "Collection")
    public static let blockCommandMessage = AttackTechnique(id: "T0803", name: "Block Command Message", tactic: "Inhibit Response Function")
    public static let blockReportingMessage = AttackTechnique(id: "T0804", name: "Block Reporting Message", tactic: "Inhibit Response Function")
    public static let spoofReportingMessage = AttackTechnique(id: "T0856", name: "Spoof Reporting Message", tactic: "Evasion")
    public static let commonlyUsedPort = AttackTechnique(id: "T0885", name: "Commonly Used Port", tactic: "Command and Control")
    public static let standardApplicationLayerProtocol = AttackTechnique(id: "T0869", name: "Standard Application Layer Protocol", tactic: "Command and Control")
    public static let firmwareUpdate = AttackTechnique(id: "T0857", name: "System Firmware", tactic: "Persistence")
    public static let modifyProgram = AttackTechnique(id: "T0889", name: "Modify Program", tactic: "Persistence")
}

/// A catalogued anomaly: a stable name that becomes EVE's `anomaly.event`, and its meaning.
public struct AnomalyDefinition: Hashable, Sendable {
    /// Stable dotted name, for example `decoder.ipv4.truncated` or `stream.rst_out_of_window`.
    public let name: String
    public let type: AnomalyType
    /// The protocol layer or protocol the anomaly belongs to (`ipv4`, `tcp`, `modbus`), if any.
    public let layer: String?
    /// One sentence saying what the anomaly means, for the event catalogue.
    public let summary: String

    public init(_ name: String, type: AnomalyType, layer: String? = nil, summary: String) {
        self.name = name
        self.type = type
        self.layer = layer
        self.summary = summary
    }
}

/// A catalogued alert rule.
public struct AlertDefinition: Hashable, Sendable {
    /// Stable rule name, for example `scan.horizontal` or `modbus.write_request`.
    public let name: String
    /// EVE `alert.signature_id`; unique across the catalogue.
    public let signatureID: Int
    /// EVE `alert.signature`: a short title.
    public let signature: String
    /// EVE `alert.category`.
    public let category: String
    /// Default severity, 1 (high) to 3 (low).
    public let severity: Int
    public let technique: AttackTechnique?
    /// One sentence saying what the alert means and what to check, for the event catalogue.
    public let summary: String

    public init(_ name: String, signatureID: Int, signature: String, category: String, severity: Int,
                technique: AttackTechnique?, summary: String) {
        self.name = name
        self.signatureID = signatureID
        self.signature = signature
        self.category = category
        self.severity = severity
        self.technique = technique
        self.summary = summary
    }
}

/// A module's contribution to the event catalogue. Each stage lists its definitions in one
/// type conforming to this, and the engine gathers them for `wirecheck catalog` and the docs.
public protocol EventCatalogue {
    static var anomalies: [AnomalyDefinition] { get }
    static var alerts: [AlertDefinition] { get }
}
