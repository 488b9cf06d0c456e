// libFuzzer target: HostTelemetry.load on the input written to a temporary file, so format
// detection and every reader behind it (Sysmon .evtx through libevtx, event XML, the JSON
// shippers, auditd logs, gzip-compressed files) see it as a telemetry file on disk.
#if canImport(Glibc)
import Glibc
#endif
import WirecheckCore
import WirecheckHosts

let telemetryPath = temporaryInputPath(kind: "telemetry", suffix: ".log")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    writeInput(start, count, to: telemetryPath, kind: "telemetry")

    let load = HostTelemetry.load(paths: [telemetryPath])
    // Touch every record the readers produced, as the engine does when it joins them to flows.
    var fields = 0
    for process in load.processes { fields &+= (process.commandLine?.utf8.count ?? 0) &+ (process.pid ?? 0) }
    for connection in load.connections { fields &+= Int(connection.remotePort) &+ (connection.executable?.utf8.count ?? 0) }
    for summary in load.files { fields &+= summary.error?.utf8.count ?? 0 }
    return fields == Int.min ? 1 : 0
}
