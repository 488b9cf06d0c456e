import Foundation
import Glibc
import Testing
@testable import WirecheckCapture
import WirecheckCore

/// `--buffer-size` for live capture, and the start message a script waits for before it sends
/// packets. The replay onto a veth pair lives in Scripts/live-replay.sh, because it
/// needs network namespaces and tcpreplay.
@Suite struct LiveCaptureTests {
    @Test func defaultBufferIs64MiB() {
        #expect(CaptureOptions.defaultBufferMegabytes == 64)
        #expect(CaptureOptions().bufferSize == 64 * 1024 * 1024)
    }

    @Test func maximumBufferFitsInt32Bytes() {
        let bytes = Int64(CaptureOptions.maximumBufferMegabytes) * 1024 * 1024
        #expect(bytes <= Int64(Int32.max))
        #expect(bytes + 1024 * 1024 > Int64(Int32.max))
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"),
          arguments: ["0", "2048", "-1", "64k", ""])
    func invalidBufferSizeIsUsageError(_ value: String) throws {
        let run = try CLIRunner.run(["analyze", "--buffer-size", value, "-i", "lo"])
        #expect(run.status == 2)
        #expect(run.error.contains("invalid value '\(value)' for --buffer-size: expected a whole number from 1 to 2047"))
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func missingBufferSizeIsUsageError() throws {
        let run = try CLIRunner.run(["analyze", "-i", "lo", "--buffer-size"])
        #expect(run.status == 2)
        #expect(run.error.contains("option --buffer-size needs a value"))
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func bufferSizeAcceptedForFiles() throws {
        let capture = try MalformedCaptureTests.file("buffer-size.pcap", MalformedCaptureTests.fivePackets())
        let run = try CLIRunner.run(["analyze", "--buffer-size", "8", capture])
        #expect(run.status == 0)
        #expect(run.output.contains("Packets    5 "))
        // A file is not captured, so no start message and no kernel drop line.
        #expect(!run.error.contains("capturing on interface"))
        #expect(!run.output.contains("Dropped"))
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func helpListsBufferSize() throws {
        let run = try CLIRunner.run(["analyze", "--help"])
        #expect((run.output + run.error).contains("--buffer-size MIB"))
    }

    /// Sends one UDP datagram to a socket bound on 127.0.0.1. Returns false when a socket call fails.
    static func sendOneDatagram(_ payload: [UInt8]) -> Bool {
        let receiver = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard receiver >= 0 else { return false }
        defer { Glibc.close(receiver) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(receiver, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { return false }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(receiver, $0, &length) }
        }
        let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard sender >= 0 else { return false }
        defer { Glibc.close(sender) }
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                payload.withUnsafeBytes { sendto(sender, $0.baseAddress, $0.count, 0, socketAddress, length) }
            }
        }
        return sent == payload.count
    }

    /// Without immediate mode libpcap hands packets over a block at a time, so a lone packet
    /// must still arrive once the read timeout retires its block.
    @Test(.enabled(if: geteuid() == 0, "live capture needs root"), .timeLimit(.minutes(1)))
    func lonePacketArrivesWithinOneSecond() throws {
        let marker: [UInt8] = Array("wirecheck-lone-packet".utf8)
        let input = try CaptureInput.openLive(interface: "lo", options: CaptureOptions(filter: "udp and host 127.0.0.1"),
                                              sources: CaptureSourceTable())
        var sentAt: Timestamp?
        var delay: Int64?
        var idleCalls = 0
        input.run({ packet in
            guard let sentAt, Array(packet.bytes.suffix(marker.count)) == marker else { return }
            delay = wallClockNow().nanoseconds &- sentAt.nanoseconds
            input.stop()
        }, idle: { _ in
            idleCalls += 1
            if idleCalls == 1 {
                sentAt = wallClockNow()
                #expect(Self.sendOneDatagram(marker))
            } else if idleCalls > 5 {
                input.stop()
            }
        })

        #expect(delay != nil)
        #expect((delay ?? .max) < 1_000_000_000)
    }

    /// Captures on loopback without sending anything, so it needs capture rights (root here).
    @Test(.enabled(if: CLIRunner.isBuilt && geteuid() == 0, "needs the binary and root to capture on lo"),
          .timeLimit(.minutes(1)))
    func liveStartMessageAndDropLine() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
        process.arguments = ["analyze", "-i", "lo", "--buffer-size", "8"]
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // availableData blocks, so a run that never prints its message is killed after 30 s.
        let watchdog = DispatchWorkItem { [process] in
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: watchdog)
        defer { watchdog.cancel() }

        // The message comes once the handle is active and SIGINT is handled.
        var errorText = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && !errorText.contains("\n") && process.isRunning {
            errorText += String(decoding: error.fileHandleForReading.availableData, as: UTF8.self)
        }
        #expect(errorText.contains("capturing on interface lo with a 8 MiB kernel buffer; stop with Ctrl-C or SIGTERM"))

        kill(process.processIdentifier, SIGINT)
        let outputText = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(outputText.contains("Input      interface:lo:"))
        // Other programs may use loopback meanwhile, so only the line is checked, not its count.
        #expect(outputText.contains(" packets dropped by the kernel or interface"))
    }
}
