import Foundation
import WirecheckCapture
import WirecheckCore
import WirecheckSynthesis

/// Writes the captures that Wirecheck's demo and tests are built from.
let usage = """
Usage: wirecheck-synth demo OUTPUT.pcap

  demo    the one-minute plant capture analysed by the README's first command
"""

func writeDemo(to path: String) throws {
    let writer = try CaptureFileWriter(path: path, linkType: .ethernet)
    let frames = DemoPlant.frames()
    for frame in frames {
        writer.write(frame.bytes, timestamp: frame.timestamp)
    }
    try writer.flush()
    writer.close()
    print("wrote \(frames.count) packets to \(path)")
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 2, arguments[0] == "demo" else {
    FileHandle.standardError.write(Data(usage.utf8))
    exit(2)
}
do {
    try writeDemo(to: arguments[1])
} catch {
    FileHandle.standardError.write(Data("wirecheck-synth: \(error)\n".utf8))
    exit(1)
}
