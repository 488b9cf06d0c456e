#if canImport(Glibc)
import Glibc
#endif

/// Files `temporaryInputPath` handed out, removed when the process exits normally. A crashed
/// run leaves its file behind in /tmp.
var temporaryInputPaths: [String] = []

/// Returns a file path for this process's inputs of one kind, such as
/// `/tmp/wirecheck-fuzz-capture-4242.pcap`.
func temporaryInputPath(kind: String, suffix: String) -> String {
    if temporaryInputPaths.isEmpty {
        atexit {
            for path in temporaryInputPaths { unlink(path) }
        }
    }
    let path = "/tmp/wirecheck-fuzz-\(kind)-\(getpid())\(suffix)"
    temporaryInputPaths.append(path)
    return path
}

/// Writes a fuzzer input to `path`, replacing the file, for targets whose code under test reads
/// a file by name (capture files, telemetry files). `kind` names the file in the error.
func writeInput(_ start: UnsafeRawPointer, _ count: Int, to path: String, kind: String) {
    guard let file = fopen(path, "wb") else {
        fatalError("Creating the \(kind) file \(path) failed with errno \(errno); check that /tmp is writable.")
    }
    let written = fwrite(start, 1, count, file)
    fclose(file)
    guard written == count else {
        fatalError("Writing \(path) failed after \(written) of \(count) bytes; check the free space in /tmp.")
    }
}
