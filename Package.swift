// swift-tools-version:6.0
import PackageDescription

// One library module per pipeline stage. Each stage depends only on the stages before it,
// so the dependency graph below is the architecture:
//   capture -> decoding -> flows -> protocols -> detection -> output, tied together by the engine.
let package = Package(
    name: "Wirecheck",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "wirecheck", targets: ["wirecheck"]),
    ],
    targets: [
        // C libraries from Debian's -dev packages.
        .systemLibrary(name: "CPcap", path: "Sources/CPcap", pkgConfig: "libpcap",
                       providers: [.apt(["libpcap-dev"])]),
        .systemLibrary(name: "CEvtx", path: "Sources/CEvtx", pkgConfig: "libevtx",
                       providers: [.apt(["libevtx-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),

        // Shared vocabulary: timestamps, addresses, events, the anomaly and alert catalogue.
        .target(name: "WirecheckCore"),
        // Capture: libpcap files, standard input and live interfaces, merged in time order.
        .target(name: "WirecheckCapture", dependencies: ["WirecheckCore", "CPcap"]),
        // Decoding: zero-copy header views from the link layer up to TCP, UDP and ICMP.
        .target(name: "WirecheckDecoding", dependencies: ["WirecheckCore"]),
        // Flows: the bidirectional flow table, TCP state, stream reassembly, flow anomalies.
        .target(name: "WirecheckFlows", dependencies: ["WirecheckCore", "WirecheckDecoding", "CCrypto"]),
        // Protocols: one folder per application protocol, identified by content.
        .target(name: "WirecheckProtocols", dependencies: ["WirecheckCore", "WirecheckFlows", "CCrypto"]),
        // Detection: cross-flow detectors (scans, ARP) and the alert rules.
        .target(name: "WirecheckDetection", dependencies: ["WirecheckCore", "WirecheckDecoding", "WirecheckFlows"]),
        // Hosts: process and connection records from Sysmon and auditd, joined to flows.
        .target(name: "WirecheckHosts", dependencies: ["WirecheckCore", "CEvtx"]),
        // Baseline: the approved communication baseline, learned from traffic, and deviations from it.
        .target(name: "WirecheckBaseline", dependencies: ["WirecheckCore", "WirecheckDecoding", "WirecheckFlows", "WirecheckProtocols", "CCrypto"]),
        // Output: EVE JSON lines and the human summary.
        .target(name: "WirecheckOutput", dependencies: ["WirecheckCore", "CSQLite"]),
        // Engine: runs every stage over a packet source and routes events to the outputs.
        .target(name: "WirecheckEngine", dependencies: [
            "WirecheckCore", "WirecheckCapture", "WirecheckDecoding", "WirecheckFlows",
            "WirecheckProtocols", "WirecheckDetection", "WirecheckOutput", "WirecheckHosts", "WirecheckBaseline",
        ]),
        // Synthesis: packet builders for tests, the demo capture and the benchmark workload.
        .target(name: "WirecheckSynthesis", dependencies: ["WirecheckCore", "WirecheckCapture"]),
        .executableTarget(name: "wirecheck-synth", dependencies: ["WirecheckSynthesis", "WirecheckCore", "WirecheckCapture"]),
        // The benchmark's read floor: a bare libpcap loop over a capture.
        .executableTarget(name: "wirecheck-readfloor", dependencies: ["CPcap"]),
        .executableTarget(name: "wirecheck", dependencies: [
            "WirecheckEngine", "WirecheckCapture", "WirecheckOutput", "WirecheckCore", "WirecheckHosts", "WirecheckBaseline",
        ]),

        .testTarget(name: "WirecheckTests", dependencies: [
            "WirecheckCore", "WirecheckCapture", "WirecheckDecoding", "WirecheckFlows",
            "WirecheckProtocols", "WirecheckDetection", "WirecheckOutput", "WirecheckEngine", "WirecheckSynthesis",
            "WirecheckHosts", "WirecheckBaseline", "CPcap",
        ]),
    ],
    swiftLanguageModes: [.v5]
)

// Release builds skip the run-time exclusivity checks, which took about 12 % of the instructions
// of an analysis (one check per access to a class's stored property on the packet path). Debug
// builds keep them, so `swift test` and the sanitizer builds of the fuzz targets still trap on an
// overlapping access.
for target in package.targets where target.type == .regular || target.type == .executable {
    target.swiftSettings = (target.swiftSettings ?? [])
        + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
}
