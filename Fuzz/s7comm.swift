// libFuzzer target: the s7comm probe and parser behind ApplicationLayer (see Support/ApplicationHarness.swift).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    runApplicationConversation(protocolName: "s7comm", start, count)
    return 0
}
