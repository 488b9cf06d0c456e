import WirecheckCore

/// The baseline deviation alerts (signature ids 4000-4099).
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

    public static let anomalies: [AnomalyDefinition] = []
    public static let alerts: [AlertDefinition] = [
        newAsset, newMAC, ttlChange, newConversation, newProtocolOrPort, serverInitiates, newOperation, outOfRange,
        pollingPeriodChanged, rateExceeded, conversationSilent, conversationResumed,
    ]
}
