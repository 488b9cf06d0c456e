import Foundation
import WirecheckCapture
import WirecheckCore
import WirecheckSynthesis

/// A capture under construction for one scenario: frames with their times, numbered from 1 as
/// Wireshark and the `capture.packets` evidence number them.
///
///     var capture = ScenarioCapture()
///     let syn = capture.add(0, frame)          // packet 1
///     let result = try capture.analyze()
struct ScenarioCapture {
    /// Capture start: 2025-01-06 06:00:00 UTC. Times given to `add` are seconds after it.
    static let start = Timestamp(seconds: 1_736_143_200, nanoseconds: 0)

    private(set) var frames: [(timestamp: Timestamp, bytes: [UInt8])] = []
    var builder = PacketBuilder()

    /// Appends a frame at `seconds` after the start and returns its packet number. Frames must be
    /// added in time order, because the number is the position in the file.
    @discardableResult
    mutating func add(_ seconds: Double, _ bytes: [UInt8]) -> UInt64 {
        frames.append((ScenarioCapture.start.adding(seconds: seconds), bytes))
        return UInt64(frames.count)
    }

    /// Appends frames `step` seconds apart from `seconds` on and returns their packet numbers.
    @discardableResult
    mutating func add(_ seconds: Double, step: Double = 0.001, _ list: [[UInt8]]) -> [UInt64] {
        list.enumerated().map { add(seconds + Double($0.offset) * step, $0.element) }
    }

    /// Writes the frames as an Ethernet pcap file.
    func write(to path: String) throws {
        let writer = try CaptureFileWriter(path: path, linkType: .ethernet)
        for frame in frames {
            writer.write(frame.bytes, timestamp: frame.timestamp)
        }
        try writer.flush()
        writer.close()
    }

    /// Writes the frames into a new temporary file, named `name`, and runs the whole pipeline over it.
    func analyze(name: String = "scenario.pcap") throws -> AnalysisResult {
        let path = TestPaths.temporaryDirectory().appendingPathComponent(name).path
        try write(to: path)
        return try AnalysisHarness.analyze(path)
    }
}

/// Hosts of the scenario captures: an HMI and an engineering workstation that poll two PLCs and
/// a DNP3 outstation, and a laptop that misbehaves.
enum ScenarioHosts {
    static let hmi = IPAddress("10.40.0.10")!
    static let workstation = IPAddress("10.40.0.11")!
    static let plc1 = IPAddress("10.40.0.21")!
    static let plc2 = IPAddress("10.40.0.22")!
    static let outstation = IPAddress("10.40.0.30")!
    static let laptop = IPAddress("10.40.0.66")!

    static let hmiMAC = MACAddress(0x0000_bc40_0010)
    static let workstationMAC = MACAddress(0x0014_2240_0011)
    static let plc1MAC = MACAddress(0x0080_f440_0021)
    static let plc2MAC = MACAddress(0x001b_1b40_0022)
    static let outstationMAC = MACAddress(0x0030_a740_0030)
    static let laptopMAC = MACAddress(0x001b_2140_0066)

    static func mac(of address: IPAddress) -> MACAddress {
        switch address {
        case hmi: return hmiMAC
        case workstation: return workstationMAC
        case plc1: return plc1MAC
        case plc2: return plc2MAC
        case outstation: return outstationMAC
        default: return laptopMAC
        }
    }

    static func link(_ source: IPAddress, _ destination: IPAddress) -> EthernetSpec {
        EthernetSpec(source: mac(of: source), destination: mac(of: destination))
    }

    /// Starts a TCP conversation between two scenario hosts, with their MAC addresses.
    static func conversation(_ client: IPAddress, _ clientPort: UInt16, _ server: IPAddress, _ serverPort: UInt16,
                             clientSequence: UInt32 = 1_000, serverSequence: UInt32 = 50_000) -> TCPConversation {
        TCPConversation(link: link(client, server), client: client, clientPort: clientPort, server: server,
                        serverPort: serverPort, clientInitialSequence: clientSequence,
                        serverInitialSequence: serverSequence)
    }
}
