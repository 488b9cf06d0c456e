import Foundation
import WirecheckCapture
import WirecheckCore
import WirecheckSynthesis

/// Writes the captures that Wirecheck's demo, tests and benchmark are built from.
let usage = """
Usage: wirecheck-synth demo OUTPUT.pcap
       wirecheck-synth mix --packets N --flows F [--seed S] OUTPUT.pcap

  demo    the one-minute plant capture analysed by the README's first command
  mix     the benchmark workload: N packets of interleaved ICS, TLS, ARP, scan and
          malformed traffic with F sessions open at once; the same seed (default 1)
          writes the same file
"""

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data(message.utf8))
    exit(status)
}

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

/// Parses `--packets N --flows F [--seed S] OUTPUT` into mix parameters and the output path.
func parseMixArguments(_ arguments: ArraySlice<String>) -> (BenchmarkMix.Parameters, String)? {
    var packets: Int?
    var flows: Int?
    var seed: UInt64 = 1
    var output: String?
    var remaining = arguments
    while let argument = remaining.popFirst() {
        switch argument {
        case "--packets", "--flows", "--seed":
            guard let value = remaining.popFirst(), let number = UInt64(value), number >= 1 || argument == "--seed" else {
                fail("wirecheck-synth: \(argument) needs a positive whole number\n\n\(usage)\n", status: 2)
            }
            if argument == "--packets" { packets = Int(number) }
            if argument == "--flows" { flows = Int(number) }
            if argument == "--seed" { seed = number }
        default:
            guard output == nil, !argument.hasPrefix("--") else {
                fail("wirecheck-synth: unknown argument \(argument)\n\n\(usage)\n", status: 2)
            }
            output = argument
        }
    }
    guard let packets, let flows, let output else { return nil }
    guard flows <= 16_000_000 else { fail("wirecheck-synth: --flows \(flows) is above the maximum of 16000000\n", status: 2) }
    return (BenchmarkMix.Parameters(packets: packets, flows: flows, seed: seed), output)
}

func writeMix(_ parameters: BenchmarkMix.Parameters, to path: String) throws {
    let writer = try CaptureFileWriter(path: path, linkType: .ethernet)
    var mix = BenchmarkMix(parameters)
    mix.generate { bytes, timestamp in
        writer.write(bytes, timestamp: timestamp)
    }
    try writer.flush()
    writer.close()
    let summary = mix.summary
    let protocols = summary.sessionsByProtocol.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
    print("wrote \(summary.packets) packets (\(summary.bytes) bytes) with \(summary.sessions) sessions to \(path)")
    print("sessions by protocol: \(protocols.joined(separator: ", "))")
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "demo" where arguments.count == 2:
        try writeDemo(to: arguments[1])
    case "mix":
        guard let (parameters, output) = parseMixArguments(arguments.dropFirst()) else {
            fail("wirecheck-synth: mix needs --packets, --flows and an output file\n\n\(usage)\n", status: 2)
        }
        try writeMix(parameters, to: output)
    default:
        fail(usage + "\n", status: 2)
    }
} catch {
    fail("wirecheck-synth: \(error)\n", status: 1)
}
