// libFuzzer target: the bacnet probe and parser behind ApplicationLayer (see Support/ApplicationHarness.swift).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    runApplicationConversation(protocolName: "bacnet", start, count)
    return 0
}
