// libFuzzer target: the modbus probe and parser behind ApplicationLayer (see Support/ApplicationHarness.swift).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    runApplicationConversation(protocolName: "modbus", start, count)
    return 0
}
