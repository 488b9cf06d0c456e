import WirecheckCore

/// The client and server fingerprints, the requested server name and the server's leaf
/// certificate of one TLS handshake.
public struct TLSObservation: Equatable, Sendable {
    public var sni: String?
    public var ja3: String?
    public var ja4: String?
    public var ja3s: String?
    /// SHA-256 of the leaf certificate, colon-separated hex. TLS 1.3 encrypts the certificate, so it is nil there.
    public var certificateFingerprint: String?
    public var certificateSubject: String?

    public init(sni: String? = nil, ja3: String? = nil, ja4: String? = nil, ja3s: String? = nil,
                certificateFingerprint: String? = nil, certificateSubject: String? = nil) {
        self.sni = sni
        self.ja3 = ja3
        self.ja4 = ja4
        self.ja3s = ja3s
        self.certificateFingerprint = certificateFingerprint
        self.certificateSubject = certificateSubject
    }

    /// Reads the `tls` record of a `tls` event (`sni`, `ja3.hash`, `ja4`, `ja3s.hash`, `fingerprint`, `subject`).
    public init(record: JSONObject) {
        sni = TLSObservation.text(record["sni"])
        if case .object(let ja3)? = record["ja3"] { self.ja3 = TLSObservation.text(ja3["hash"]) }
        ja4 = TLSObservation.text(record["ja4"])
        if case .object(let ja3s)? = record["ja3s"] { self.ja3s = TLSObservation.text(ja3s["hash"]) }
        certificateFingerprint = TLSObservation.text(record["fingerprint"])
        certificateSubject = TLSObservation.text(record["subject"])
    }

    /// Returns the value of one kind, or nil when the handshake did not show it.
    public func value(_ kind: TLSValueKind) -> String? {
        switch kind {
        case .ja3: return ja3
        case .ja4: return ja4
        case .ja3s: return ja3s
        case .certificate: return certificateFingerprint
        case .sni: return sni
        }
    }

    /// Wire strings (server names, certificate subjects) become text with invalid UTF-8 replaced.
    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: return text
        case .wire(let bytes)?: return String(wireBytes: bytes)
        default: return nil
        }
    }
}

/// A kind of TLS value the baseline keeps per conversation. The raw value is the JSON member name.
public enum TLSValueKind: String, CaseIterable, Comparable, Sendable {
    case ja3, ja4, ja3s, certificate, sni

    public static func < (lhs: TLSValueKind, rhs: TLSValueKind) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }

    /// `JA3`, `certificate`, `SNI`: the label used in reports and alert messages.
    public var label: String {
        switch self {
        case .ja3: return "JA3"
        case .ja4: return "JA4"
        case .ja3s: return "JA3S"
        case .certificate: return "certificate"
        case .sni: return "SNI"
        }
    }
}

/// One TLS value seen on a conversation, with the certificate subject when the value is a certificate fingerprint.
public struct TLSValueEntry: Equatable, Sendable {
    public var value: String
    public var subject: String?
    public var observation: Observation
    public var review = Review()

    public init(value: String, subject: String? = nil, observation: Observation) {
        self.value = value
        self.subject = subject
        self.observation = observation
    }

    /// `CN=plc (sha256 ab:cd:ef:01...)` for a certificate, the value itself otherwise, printable.
    public var display: String {
        guard let subject else { return TLSValueEntry.printable(value) }
        return "\(TLSValueEntry.printable(subject)) (sha256 \(value.prefix(23))...)"
    }

    /// Replaces control characters with `?`. Server names and subjects come from the wire, and a
    /// line break in one would split a message or a table row.
    public static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            scalars.append(scalar.properties.generalCategory == .control ? "?" : scalar)
        }
        return String(scalars)
    }
}

/// The distinct values of one kind seen on a conversation, bounded by `maxValues`.
public struct TLSValueSet: Equatable, Sendable {
    /// Values kept per kind and conversation. Real clients and servers show a few. A client that
    /// randomises its ClientHello would otherwise grow the baseline with every connection.
    public static let maxValues = 32

    public var entries: [String: TLSValueEntry] = [:]
    /// True once a value arrived while `maxValues` were kept. The detector then raises nothing
    /// for this kind, because an unlisted value may have been seen.
    public var overflowed = false

    public init() {}

    public var sortedEntries: [TLSValueEntry] { entries.keys.sorted().compactMap { entries[$0] } }

    /// Adds one sighting. Returns false when the value is new and the set is full.
    @discardableResult
    mutating func record(_ value: String, subject: String?, at time: Timestamp, times: UInt64 = 1) -> Bool {
        if entries[value] != nil {
            entries[value]?.observation.record(time, times: times)
            if entries[value]?.subject == nil { entries[value]?.subject = subject }
            return true
        }
        guard entries.count < TLSValueSet.maxValues else {
            overflowed = true
            return false
        }
        var entry = TLSValueEntry(value: value, subject: subject, observation: Observation(at: time))
        entry.observation.record(time, times: times)
        entries[value] = entry
        return true
    }

    mutating func merge(_ other: TLSValueSet) {
        if other.overflowed { overflowed = true }
        for (value, theirs) in other.entries {
            if var ours = entries[value] {
                ours.observation.merge(theirs.observation)
                ours.review.adopt(theirs.review)
                if ours.subject == nil { ours.subject = theirs.subject }
                entries[value] = ours
            } else if entries.count < TLSValueSet.maxValues {
                entries[value] = theirs
            } else {
                overflowed = true
            }
        }
    }
}

extension BaselineLearner {
    /// Learns one TLS handshake: its fingerprints, certificate and SNI join the sets of the
    /// flow's conversation (protocol `tls`), which is created when it is new.
    public func observe(tls: TLSObservation, flow: FlowContext, timestamp: Timestamp, packets: [PacketReference]) {
        let key = ConversationKey(flow: flow, appProto: BaselineLearner.tlsProtocol)
        guard let conversation = conversation(key, at: timestamp) else { return }
        conversation.observation.record(timestamp, times: 0)
        for kind in TLSValueKind.allCases {
            guard let value = tls.value(kind), !value.isEmpty else { continue }
            let subject = kind == .certificate ? tls.certificateSubject : nil
            if !conversation.tls[kind, default: TLSValueSet()].record(value, subject: subject, at: timestamp) {
                baseline.droppedEntries &+= 1
            }
        }
    }

    /// The `app_proto` of TLS flows and the conversation key's protocol for their handshakes.
    static let tlsProtocol = "tls"
}

// MARK: Baseline file

extension Baseline {
    /// Builds the conversation's `tls` member: one array of values per kind, sorted by value, and
    /// `overflowed` naming the kinds that reached `TLSValueSet.maxValues`.
    static func write(tls: [TLSValueKind: TLSValueSet]) -> JSONObject {
        var object = JSONObject()
        var overflowed: [JSONValue] = []
        for kind in TLSValueKind.allCases {
            guard let set = tls[kind] else { continue }
            object.set(kind.rawValue, .array(set.sortedEntries.map { entry in
                var item: JSONObject = ["value": .string(entry.value)]
                if let subject = entry.subject { item.set("subject", .string(subject)) }
                write(entry.observation, into: &item, countName: "count")
                write(entry.review, into: &item)
                return .object(item)
            }))
            if set.overflowed { overflowed.append(.string(kind.rawValue)) }
        }
        if !overflowed.isEmpty { object.set("overflowed", .array(overflowed)) }
        return object
    }

    static func readTLS(_ reader: JSONReader) throws -> [TLSValueKind: TLSValueSet] {
        var sets: [TLSValueKind: TLSValueSet] = [:]
        for kind in TLSValueKind.allCases {
            var set = TLSValueSet()
            for itemReader in try reader.objects(kind.rawValue) {
                var entry = TLSValueEntry(value: try itemReader.string("value"), subject: try itemReader.optionalString("subject"),
                                          observation: try readObservation(itemReader, countName: "count"))
                entry.review = try itemReader.review()
                guard set.entries[entry.value] == nil else {
                    throw BaselineFileError(file: reader.file, location: itemReader.path,
                                            problem: "duplicate \(kind.label) value \"\(entry.value)\"")
                }
                set.entries[entry.value] = entry
            }
            if !set.entries.isEmpty { sets[kind] = set }
        }
        for (index, name) in try reader.strings("overflowed").enumerated() {
            guard let kind = TLSValueKind(rawValue: name) else {
                throw BaselineFileError(file: reader.file, location: "\(reader.member("overflowed"))[\(index)]",
                                        problem: "unknown TLS value kind \"\(name)\"; expected ja3, ja4, ja3s, certificate or sni")
            }
            sets[kind, default: TLSValueSet()].overflowed = true
        }
        return sets
    }
}
