// libFuzzer target: the iec104 probe and parser behind ApplicationLayer (see Support/ApplicationHarness.swift).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    runApplicationConversation(protocolName: "iec104", start, count)
    return 0
}
