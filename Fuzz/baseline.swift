// libFuzzer target: Baseline.parse on the input as a baseline file's text. A baseline that
// parses must also serialise to text that parses again, because `wirecheck learn` writes files
// that engineers edit by hand and `wirecheck analyze --baseline` then reads back.
import WirecheckBaseline
import WirecheckCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    guard let baseline = try? Baseline.parse(text, file: "fuzz.json") else { return 0 }
    let written = baseline.serialized()
    do {
        _ = try Baseline.parse(written, file: "fuzz-written.json")
    } catch {
        fatalError("A baseline that parsed was written as text that does not parse: \(error)")
    }
    return 0
}
