import WirecheckCore

/// TLS handshakes on learned conversations: new fingerprints, certificates and server names.
extension BaselineDetector {
    /// Checks one TLS handshake against the values learned for its conversation. A conversation
    /// that is not in the baseline raises only the conversation alerts, from its flow. Each
    /// (conversation, value) alerts once.
    ///
    /// NOTE: A conversation learned without any TLS value (by a version that did not learn them,
    /// or whose handshakes never completed) raises nothing here, so an upgrade does not alert on
    /// every TLS conversation. Learn again to start checking it.
    public func observe(tls: TLSObservation, flow: FlowContext, timestamp: Timestamp, packets: [PacketReference]) {
        start(at: timestamp)
        let key = ConversationKey(flow: flow, appProto: BaselineLearner.tlsProtocol)
        guard let conversation = conversations[key], conversation.learned != nil, !conversation.learnedTLS.isEmpty else {
            return
        }
        let learned = conversation.learnedTLS
        func newValues(_ kinds: [TLSValueKind]) -> [(TLSValueKind, String)] {
            kinds.compactMap { kind in
                guard let value = tls.value(kind), !value.isEmpty, let set = learned[kind] ?? emptySet(kind, learned),
                      !set.overflowed, set.entries[value] == nil, markAlerted(.tls(key, kind, value)) else { return nil }
                return (kind, value)
            }
        }

        let fingerprints = newValues([.ja3, .ja4, .ja3s])
        if !fingerprints.isEmpty {
            emitNewTLSFingerprint(fingerprints, learned: learned, key: key, flow: flow, time: timestamp, packets: packets)
        }
        if let (_, fingerprint) = newValues([.certificate]).first {
            emitNewCertificate(fingerprint, tls: tls, learned: learned[.certificate], key: key, flow: flow, time: timestamp,
                               packets: packets)
        }
        if let (_, name) = newValues([.sni]).first {
            emitNewSNI(name, learned: learned[.sni], key: key, flow: flow, time: timestamp, packets: packets)
        }
    }

    /// Returns the set to compare with for a kind without learned values. JA3, JA4 and SNI get an
    /// empty set (any value is new) once the conversation learned a client fingerprint. JA3S and
    /// certificates get nil, which means "do not check".
    private func emptySet(_ kind: TLSValueKind, _ learned: [TLSValueKind: TLSValueSet]) -> TLSValueSet? {
        switch kind {
        case .ja3, .ja4, .sni:
            // A client that never sent SNI and now does is a new server name.
            return learned[.ja3] != nil || learned[.ja4] != nil ? TLSValueSet() : nil
        case .ja3s, .certificate:
            // TLS 1.3 encrypts the certificate and a handshake without ServerHello has no JA3S,
            // so a first sighting after such handshakes is new only if a server value was learned.
            return nil
        }
    }

    static func tlsObject(_ sets: [TLSValueKind: TLSValueSet], kinds: [TLSValueKind]) -> JSONObject {
        var object = JSONObject()
        for kind in kinds {
            let entries = sets[kind]?.sortedEntries ?? []
            object.set(kind.rawValue, .array(entries.map { entry in
                var item: JSONObject = ["value": .string(entry.value)]
                if let subject = entry.subject { item.set("subject", .string(subject)) }
                item.set("count", .int(entry.observation.count))
                return .object(item)
            }))
        }
        return object
    }

    /// `JA3 a1b2..., JA3 c3d4...` or `none`: the learned values named in a message, at most `listed` of them.
    static func learnedText(_ sets: [TLSValueKind: TLSValueSet], kinds: [TLSValueKind], listed: Int = 4) -> String {
        let entries = kinds.flatMap { kind in (sets[kind]?.sortedEntries ?? []).map { "\(kind.label) \($0.display)" } }
        guard !entries.isEmpty else { return "none" }
        let listedText = entries.prefix(listed).joined(separator: ", ")
        return entries.count > listed ? "\(listedText) and \(entries.count - listed) more" : listedText
    }

    func emitNewTLSFingerprint(_ values: [(TLSValueKind, String)], learned: [TLSValueKind: TLSValueSet],
                               key: ConversationKey, flow: FlowContext, time: Timestamp, packets: [PacketReference]) {
        let kinds = values.map(\.0)
        let seenText = values.map { "\($0.0.label) \(TLSValueEntry.printable($0.1))" }.joined(separator: ", ")
        var seen = JSONObject()
        for (kind, value) in values { seen.set(kind.rawValue, .string(value)) }
        var learnedObject = BaselineDetector.tlsObject(learned, kinds: kinds)
        learnedObject.set("conversation", .object(BaselineDetector.conversationObject(key)))
        emit(BaselineCatalogue.newTLSFingerprint, time: time, flow: flow, packets: packets,
             message: "\(key.client) → \(key.server):\(key.port) made a TLS handshake with \(seenText), never seen on this "
                + "conversation; the baseline has \(BaselineDetector.learnedText(learned, kinds: kinds))",
             learned: learnedObject, seen: seen)
    }

    func emitNewCertificate(_ fingerprint: String, tls: TLSObservation, learned: TLSValueSet?, key: ConversationKey,
                            flow: FlowContext, time: Timestamp, packets: [PacketReference]) {
        let presented = TLSValueEntry(value: fingerprint, subject: tls.certificateSubject ?? "(no subject)",
                                      observation: Observation(at: time))
        var seen: JSONObject = ["fingerprint": .string(fingerprint)]
        if let subject = tls.certificateSubject { seen.set("subject", .string(subject)) }
        let sets = learned.map { [TLSValueKind.certificate: $0] } ?? [:]
        var learnedObject = BaselineDetector.tlsObject(sets, kinds: [.certificate])
        learnedObject.set("conversation", .object(BaselineDetector.conversationObject(key)))
        emit(BaselineCatalogue.newCertificate, time: time, flow: flow, packets: packets,
             message: "\(key.server):\(key.port) presented certificate \(presented.display) to \(key.client), never seen on "
                + "this conversation; the baseline has \(BaselineDetector.learnedText(sets, kinds: [.certificate]))",
             learned: learnedObject, seen: seen)
    }

    func emitNewSNI(_ name: String, learned: TLSValueSet?, key: ConversationKey, flow: FlowContext, time: Timestamp,
                    packets: [PacketReference]) {
        let sets = learned.map { [TLSValueKind.sni: $0] } ?? [:]
        let learnedText = learned == nil ? "no server name (the client sent no SNI)"
            : BaselineDetector.learnedText(sets, kinds: [.sni])
        var learnedObject = BaselineDetector.tlsObject(sets, kinds: [.sni])
        learnedObject.set("conversation", .object(BaselineDetector.conversationObject(key)))
        emit(BaselineCatalogue.newSNI, time: time, flow: flow, packets: packets,
             message: "\(key.client) asked \(key.server):\(key.port) for server name \(TLSValueEntry.printable(name)), never seen on this "
                + "conversation; the baseline has \(learnedText)",
             learned: learnedObject, seen: ["sni": .string(name)])
    }
}
