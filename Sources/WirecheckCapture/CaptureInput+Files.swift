import CPcap
#if canImport(Glibc)
import Glibc
#endif
import WirecheckCore

extension CaptureInput {
    /// Opens capture files (pcap or pcapng, either byte order, micro- or nanosecond) for a merged
    /// read; `-` is standard input.
    ///
    /// Each opened file is added to `sources` in the order given. A file that cannot be opened
    /// goes to `openErrors` and the others are still read. Throws only when no file could be
    /// opened, or when `options.filter` compiles for none of the files' link types.
    public static func openFiles(_ paths: [String], options: CaptureOptions,
                                 sources: CaptureSourceTable) throws -> CaptureInput {
        guard paths.count <= maximumSourceCount else {
            throw CaptureError.tooManyInputs(count: paths.count)
        }
        // Merging keeps every file open at once.
        raiseOpenFileLimit(forFiles: paths.count)
        let input = CaptureInput(isLive: false)
        var standardInputSeen = false
        var filterAttempts = 0
        var firstFilterMessage: String?

        for path in paths {
            if path == "-" {
                guard !standardInputSeen else {
                    input.openErrors.append(.standardInputRepeated)
                    continue
                }
                standardInputSeen = true
            }

            let opened: OpenedSavefile
            switch openSavefile(path) {
            case .failure(let error):
                input.openErrors.append(error)
                continue
            case .success(let savefile):
                opened = savefile
            }

            let dataLinkType = pcap_datalink(opened.handle)
            guard let linkType = LinkType(dataLinkType: dataLinkType) else {
                pcap_close(opened.handle)
                input.openErrors.append(.unsupportedLinkType(input: path, linkType: dataLinkType,
                                                             linkTypeName: LinkType.name(ofDataLinkType: dataLinkType)))
                continue
            }

            var program: UnsafeMutablePointer<bpf_program>?
            if let expression = options.filter {
                filterAttempts += 1
                switch input.filterProgram(expression, dataLinkType: dataLinkType) {
                case .failure(let error):
                    pcap_close(opened.handle)
                    firstFilterMessage = firstFilterMessage ?? error.message
                    input.openErrors.append(.filterNotApplicable(path: path, expression: expression,
                                                                 linkType: LinkType.label(ofDataLinkType: dataLinkType),
                                                                 message: error.message))
                    continue
                case .success(let compiled):
                    program = compiled
                }
            }

            let source = sources.add(path)
            let precision = pcap_get_tstamp_precision(opened.handle)
            input.readers.append(SourceReader(handle: opened.handle, name: path, source: source, linkType: linkType,
                                              isLive: false,
                                              nanosecondPrecision: precision == Int32(PCAP_TSTAMP_PRECISION_NANO),
                                              fileSize: opened.size, filter: program))
        }

        // An expression that compiles for no link type is a mistake in the expression itself.
        if let expression = options.filter, input.readers.isEmpty, filterAttempts > 0,
           let message = firstFilterMessage {
            throw CaptureError.invalidFilter(expression: expression, message: message)
        }
        if input.readers.isEmpty {
            throw input.openErrors.count == 1 ? input.openErrors[0] : CaptureError.noInputOpened(input.openErrors)
        }
        return input
    }

    struct FilterCompileError: Error {
        var message: String
    }

    /// Compiles `expression` for one link type, once, and keeps the program for the run.
    func filterProgram(_ expression: String,
                       dataLinkType: Int32) -> Result<UnsafeMutablePointer<bpf_program>, FilterCompileError> {
        if let program = filterPrograms[dataLinkType] {
            return .success(program)
        }
        guard let dead = pcap_open_dead(dataLinkType, 262_144) else {
            return .failure(FilterCompileError(message: "libpcap could not create a handle to compile the filter"))
        }
        defer { pcap_close(dead) }

        let program = UnsafeMutablePointer<bpf_program>.allocate(capacity: 1)
        program.initialize(to: bpf_program())
        guard pcap_compile(dead, program, expression, 1, bpf_u_int32(PCAP_NETMASK_UNKNOWN)) == 0 else {
            let message = String(cString: pcap_geterr(dead))
            program.deallocate()
            return .failure(FilterCompileError(message: message))
        }
        filterPrograms[dataLinkType] = program
        return .success(program)
    }
}

/// Descriptors left free for output files, sockets and libraries when the limit is raised.
private let reservedDescriptorCount = 64

/// Raises the soft limit on open files toward the hard limit, so that `count` capture files
/// can be open at once. The limit stays as it is when it is already high enough or unknown.
func raiseOpenFileLimit(forFiles count: Int) {
    var limit = rlimit()
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    guard getrlimit(resource, &limit) == 0 else { return }
    let needed = rlim_t(count + reservedDescriptorCount)
    guard limit.rlim_cur < needed else { return }
    limit.rlim_cur = min(needed, limit.rlim_max)
    _ = setrlimit(resource, &limit)
}

/// A savefile handle that libpcap accepted, with the file size when the input is a regular file.
struct OpenedSavefile {
    var handle: OpaquePointer
    var size: Int64?
}

/// How many leading bytes an error message shows for a file libpcap does not recognise:
/// enough for a pcap magic number and the start of the next field.
private let peekedByteCount = 8

/// Opens one path (or standard input for `-`) and hands it to libpcap with nanosecond
/// timestamps.
///
/// The file is opened here rather than by `pcap_open_offline` so that the errno of `open`
/// explains an unreadable file, and so that the first bytes can be shown for an unknown format.
func openSavefile(_ path: String) -> Result<OpenedSavefile, CaptureError> {
    let descriptor: Int32
    if path == "-" {
        // A duplicate, so that closing the pcap handle leaves the process's standard input open.
        descriptor = dup(STDIN_FILENO)
    } else {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
    }
    guard descriptor >= 0 else {
        let code = errno
        switch code {
        case ENOENT, ENOTDIR:
            return .failure(.fileNotFound(path: path))
        case EACCES, EPERM:
            return .failure(.permissionDenied(path: path))
        case EMFILE, ENFILE:
            return .failure(.unreadable(path: path, reason: "too many open files; raise the limit with ulimit -n or merge fewer files per run"))
        default:
            return .failure(.unreadable(path: path, reason: String(cString: strerror(code))))
        }
    }

    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
        let reason = String(cString: strerror(errno))
        Glibc.close(descriptor)
        return .failure(.unreadable(path: path, reason: reason))
    }
    let fileType = status.st_mode & S_IFMT
    if fileType == S_IFDIR {
        Glibc.close(descriptor)
        return .failure(.isDirectory(path: path))
    }
    var size: Int64?
    var firstBytes: [UInt8] = []
    if fileType == S_IFREG {
        size = Int64(status.st_size)
        if status.st_size == 0 {
            Glibc.close(descriptor)
            return .failure(.emptyFile(path: path))
        }
        // pread leaves the file offset alone, so libpcap still starts at byte 0.
        var buffer = [UInt8](repeating: 0, count: peekedByteCount)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, peekedByteCount, 0) }
        if count > 0 {
            firstBytes = Array(buffer.prefix(count))
        }
    }

    guard let file = fdopen(descriptor, "rb") else {
        let reason = String(cString: strerror(errno))
        Glibc.close(descriptor)
        return .failure(.unreadable(path: path, reason: reason))
    }
    var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
    guard let handle = pcap_fopen_offline_with_tstamp_precision(file, UInt32(PCAP_TSTAMP_PRECISION_NANO),
                                                                 &errorBuffer) else {
        // pcap_fopen_offline leaves the FILE open when it fails.
        fclose(file)
        let message = String(cString: errorBuffer)
        if message.contains("unknown file format") {
            return .failure(.notACaptureFile(path: path, firstBytes: firstBytes))
        }
        // libpcap's text for a pipe that closed before the 4-byte magic number.
        if message.contains("file header bytes, only got 0") {
            return .failure(.emptyFile(path: path))
        }
        return .failure(.openFailed(path: path, message: message))
    }
    return .success(OpenedSavefile(handle: handle, size: size))
}
