/// A JSON value whose objects keep their keys in insertion order, so output is stable and
/// `diff`-friendly.
///
/// `.wire` carries bytes taken from the network or a log (SNI, a Modbus device name, a command
/// line). They are not trusted to be UTF-8: the writer keeps valid UTF-8 as text and writes each
/// invalid byte as the escape `\u00XX` after a `\\x` marker, so nothing is dropped and no byte can
/// break a line or a reader.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case wire([UInt8])
    case array([JSONValue])
    case object(JSONObject)

    public static func int<T: BinaryInteger>(_ value: T) -> JSONValue { .int(Int64(truncatingIfNeeded: value)) }
}

/// An ordered list of key-value pairs written as a JSON object.
public struct JSONObject: Equatable, Sendable, ExpressibleByDictionaryLiteral {
    public var pairs: [(String, JSONValue)]

    public init() { pairs = [] }
    public init(_ pairs: [(String, JSONValue)]) { self.pairs = pairs }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { pairs = elements }

    public var isEmpty: Bool { pairs.isEmpty }

    /// Appends a key, or replaces its value when the key is already present.
    public mutating func set(_ key: String, _ value: JSONValue) {
        if let index = pairs.firstIndex(where: { $0.0 == key }) {
            pairs[index].1 = value
        } else {
            pairs.append((key, value))
        }
    }

    public subscript(key: String) -> JSONValue? {
        get { pairs.first(where: { $0.0 == key })?.1 }
        set {
            if let newValue { set(key, newValue) } else { pairs.removeAll { $0.0 == key } }
        }
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.pairs.count == rhs.pairs.count && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
