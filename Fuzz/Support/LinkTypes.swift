import WirecheckCore

/// Link types a fuzzer input can pick with one byte: every type the decoder supports, the two
/// live raw-IP DLT values it also accepts, and one it does not decode.
let fuzzLinkTypes: [LinkType] = LinkType.supported + [LinkType(rawValue: 12), LinkType(rawValue: 14), LinkType(rawValue: 147)]

func fuzzLinkType(_ selector: UInt8) -> LinkType {
    fuzzLinkTypes[Int(selector) % fuzzLinkTypes.count]
}
