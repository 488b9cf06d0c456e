import WirecheckCore

/// The baseline deviation alerts (signature ids 4000-4099; 4000-4017 are in use).
public enum BaselineCatalogue: EventCatalogue {
    static let category = "Baseline Deviation"

    /// Brute Force I/O, which Core does not list; used when requests far exceed their usual rate.
    public static let bruteForceIO = AttackTechnique(id: "T0806", name: "Brute Force I/O", tactic: "Impair Process Control")

    public static let newAsset = AlertDefinition(
        "baseline.new_asset", signatureID: 4000, signature: "Baseline: new asset", category: category, severity: 2,
        technique: nil,
        summary: "A host that is not in the baseline sent traffic; check whether it was added to the network on purpose.")
    public static let newMAC = AlertDefinition(
        "baseline.new_mac", signatureID: 4001, signature: "Baseline: known IP address with a new MAC address",
        category: category, severity: 2, technique: .adversaryInTheMiddle,
        summary: "A known IP address sent from a MAC address never seen with it: a replaced device, or ARP spoofing.")
    public static let ttlChange = AlertDefinition(
        "baseline.ttl_change", signatureID: 4002, signature: "Baseline: known host with a new TTL", category: category,
        severity: 3, technique: .adversaryInTheMiddle,
        summary: "A known host's packets arrived with a TTL never seen from it, so the path gained or lost a hop.")
    public static let newConversation = AlertDefinition(
        "baseline.new_conversation", signatureID: 4003, signature: "Baseline: new conversation", category: category,
        severity: 2, technique: .networkConnectionEnumeration,
        summary: "Two hosts that never talked in the baseline started a conversation.")
    public static let newProtocolOrPort = AlertDefinition(
        "baseline.new_protocol_or_port", signatureID: 4004, signature: "Baseline: known pair on a new protocol or port",
        category: category, severity: 2, technique: .commonlyUsedPort,
        summary: "Two hosts that talk in the baseline used a protocol or service port they never used before.")
    public static let serverInitiates = AlertDefinition(
        "baseline.server_initiates", signatureID: 4005, signature: "Baseline: server initiates a conversation",
        category: category, severity: 2, technique: .networkConnectionEnumeration,
        summary: "A host known only as the server of a conversation opened a connection to its client.")
    public static let newOperation = AlertDefinition(
        "baseline.new_operation", signatureID: 4006, signature: "Baseline: new operation on a known conversation",
        category: category, severity: 2, technique: .unauthorizedCommandMessage,
        summary: "A known conversation carried an operation never seen on it. Severity and technique follow the class: "
            + "write T0836, control T0855, restart T0816, program T0843, read T0861 (severity 3).")
    public static let outOfRange = AlertDefinition(
        "baseline.out_of_range", signatureID: 4007, signature: "Baseline: unit or address outside the learned range",
        category: category, severity: 2, technique: .pointAndTagIdentification,
        summary: "A known operation addressed a unit, register, point or object outside what the baseline learned.")
    public static let pollingPeriodChanged = AlertDefinition(
        "baseline.polling_period_changed", signatureID: 4008, signature: "Baseline: polling period changed",
        category: category, severity: 3, technique: nil,
        summary: "A periodic request's median interval over the last 10 requests left the learned median by more "
            + "than max(3 MAD, 10 %); raised once per conversation and operation.")
    public static let rateExceeded = AlertDefinition(
        "baseline.rate_exceeded", signatureID: 4009, signature: "Baseline: request rate far above the learned rate",
        category: category, severity: 2, technique: bruteForceIO,
        summary: "Requests or addressed points in one minute exceeded max(3 x p95, p95 + 10) of the learned per-minute counts.")
    public static let conversationSilent = AlertDefinition(
        "baseline.conversation_silent", signatureID: 4010, signature: "Baseline: periodic conversation went silent",
        category: category, severity: 2, technique: .blockCommandMessage,
        summary: "A conversation that polls periodically sent no request for max(5 periods, 30 s), "
            + "or its server sent no response for that long while the requests continued.")
    public static let conversationResumed = AlertDefinition(
        "baseline.conversation_resumed", signatureID: 4011, signature: "Baseline: silent conversation resumed",
        category: category, severity: 3, technique: nil,
        summary: "A conversation reported silent sent requests again, or its server responds again.")

    public static let newProgram = AlertDefinition(
        "baseline.new_program", signatureID: 4012, signature: "Baseline: new program speaking an industrial protocol",
        category: category, severity: 2, technique: .standardApplicationLayerProtocol,
        summary: "Host telemetry names a program that never initiated this protocol from this host in the baseline. "
            + "Severity 1 when it is an interpreter, shell or remote-access tool (python, powershell, cmd.exe, psexec, nc ...).")
    public static let newCommandLine = AlertDefinition(
        "baseline.new_command_line", signatureID: 4013, signature: "Baseline: known program with new arguments",
        category: category, severity: 2, technique: .standardApplicationLayerProtocol,
        summary: "A program known to speak this protocol from this host ran with a set of arguments never learned for it.")
    public static let telemetryGap = AlertDefinition(
        "baseline.telemetry_gap", signatureID: 4014, signature: "Baseline: industrial flow without a process record",
        category: category, severity: 2, technique: indicatorRemoval,
        summary: "A host whose telemetry logs its connections opened an industrial-protocol flow with no matching "
            + "connection record: a telemetry gap, a filtered event, or tampering with the host's logging.")

    public static let newTLSFingerprint = AlertDefinition(
        "baseline.new_tls_fingerprint", signatureID: 4015, signature: "Baseline: new TLS fingerprint on a known conversation",
        category: category, severity: 2, technique: .standardApplicationLayerProtocol,
        summary: "A known TLS conversation showed a JA3 or JA4 client fingerprint, or a JA3S server fingerprint, never "
            + "learned for it: other client software, such as a tool speaking TLS to the server, or a changed server.")
    public static let newCertificate = AlertDefinition(
        "baseline.new_certificate", signatureID: 4016, signature: "Baseline: new server certificate on a known conversation",
        category: category, severity: 2, technique: .adversaryInTheMiddle,
        summary: "The server of a known TLS conversation presented a leaf certificate (SHA-256) never learned for it: "
            + "a renewed or replaced certificate, or an interception proxy between the hosts.")
    public static let newSNI = AlertDefinition(
        "baseline.new_sni", signatureID: 4017, signature: "Baseline: new TLS server name on a known conversation",
        category: category, severity: 3, technique: nil,
        summary: "The client of a known TLS conversation asked for a server name (SNI) never learned for it.")

    /// Indicator Removal on Host, which Core does not list; used when a host's telemetry misses a connection.
    public static let indicatorRemoval = AttackTechnique(id: "T0872", name: "Indicator Removal on Host", tactic: "Evasion")

    public static let anomalies: [AnomalyDefinition] = []
    public static let alerts: [AlertDefinition] = [
        newAsset, newMAC, ttlChange, newConversation, newProtocolOrPort, serverInitiates, newOperation, outOfRange,
        pollingPeriodChanged, rateExceeded, conversationSilent, conversationResumed, newProgram, newCommandLine,
        telemetryGap, newTLSFingerprint, newCertificate, newSNI,
    ]
}
