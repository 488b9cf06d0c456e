import CPcap
#if canImport(Glibc)
import Glibc
#endif
import WirecheckCore

extension CaptureInput {
    /// Opens a network interface for live capture and adds `interface:NAME` to `sources`.
    ///
    /// Throws `CaptureError.noSuchInterface` (listing the interfaces that exist),
    /// `.interfacePermissionDenied` (with how to grant capture rights), `.interfaceNotUp`,
    /// `.unsupportedLinkType` or `.invalidFilter`. libpcap's warnings, such as promiscuous mode
    /// not being supported, go to `warnings`.
    public static func openLive(interface: String, options: CaptureOptions,
                                sources: CaptureSourceTable) throws -> CaptureInput {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_create(interface, &errorBuffer) else {
            throw CaptureError.liveOpenFailed(name: interface, message: String(cString: errorBuffer))
        }
        var keepHandle = false
        defer {
            if !keepHandle {
                pcap_close(handle)
            }
        }

        _ = pcap_set_snaplen(handle, options.snapshotLength)
        _ = pcap_set_promisc(handle, options.promiscuous ? 1 : 0)
        // Immediate mode stays off. With it, libpcap 1.10 on Linux uses TPACKET_V2, whose ring
        // has one fixed slot per packet sized for the largest frame (up to about 64 KiB with
        // receive offloads), so 64 MiB fits about 1000 packets (an estimate from the slot size). TPACKET_V3 packs packets into
        // blocks and hands a block over when it is full or when the timeout passes.
        _ = pcap_set_immediate_mode(handle, 0)
        _ = pcap_set_timeout(handle, liveReadTimeoutMilliseconds)
        _ = pcap_set_buffer_size(handle, options.bufferSize)
        _ = pcap_set_tstamp_precision(handle, Int32(PCAP_TSTAMP_PRECISION_NANO))

        let input = CaptureInput(isLive: true)
        let status = pcap_activate(handle)
        if status < 0 {
            let detail = String(cString: pcap_geterr(handle))
            throw activationError(status: status, interface: interface,
                                  message: detail.isEmpty ? String(cString: pcap_statustostr(status)) : detail)
        }
        if status > 0 {
            let detail = String(cString: pcap_geterr(handle))
            let text = detail.isEmpty ? String(cString: pcap_statustostr(status)) : detail
            input.warnings.append("interface \(interface): \(text)")
        }

        let dataLinkType = pcap_datalink(handle)
        guard let linkType = LinkType(dataLinkType: dataLinkType) else {
            throw CaptureError.unsupportedLinkType(input: "interface \(interface)", linkType: dataLinkType,
                                                   linkTypeName: LinkType.name(ofDataLinkType: dataLinkType))
        }

        if let expression = options.filter {
            var program = bpf_program()
            guard pcap_compile(handle, &program, expression, 1, bpf_u_int32(PCAP_NETMASK_UNKNOWN)) == 0 else {
                throw CaptureError.invalidFilter(expression: expression, message: String(cString: pcap_geterr(handle)))
            }
            // On Linux the kernel applies the filter, so rejected packets are not copied to user space.
            let result = pcap_setfilter(handle, &program)
            pcap_freecode(&program)
            guard result == 0 else {
                throw CaptureError.liveOpenFailed(name: interface,
                                                  message: "cannot install the capture filter: \(String(cString: pcap_geterr(handle)))")
            }
        }

        // libpcap 1.10 on Linux (TPACKET_V3) keeps waiting inside pcap_next_ex while no packet
        // arrives, whatever the timeout, so `runLive` reads without blocking and waits in its
        // own poll instead.
        guard pcap_setnonblock(handle, 1, &errorBuffer) == 0 else {
            throw CaptureError.liveOpenFailed(name: interface,
                                              message: "cannot switch to non-blocking reads: \(String(cString: errorBuffer))")
        }

        let precision = pcap_get_tstamp_precision(handle)
        let source = sources.add("interface:\(interface)")
        input.readers.append(SourceReader(handle: handle, name: "interface:\(interface)", source: source,
                                          linkType: linkType, isLive: true,
                                          nanosecondPrecision: precision == Int32(PCAP_TSTAMP_PRECISION_NANO),
                                          fileSize: nil, filter: nil))
        input.liveHandle = handle
        keepHandle = true
        return input
    }

    /// Maps a negative `pcap_activate` status to the error an operator can act on.
    static func activationError(status: Int32, interface: String, message: String) -> CaptureError {
        switch status {
        case PCAP_ERROR_NO_SUCH_DEVICE:
            return .noSuchInterface(name: interface, available: listInterfaces().map { $0.name })
        case PCAP_ERROR_PERM_DENIED, PCAP_ERROR_PROMISC_PERM_DENIED:
            return .interfacePermissionDenied(name: interface, message: message)
        case PCAP_ERROR_IFACE_NOT_UP:
            return .interfaceNotUp(name: interface)
        default:
            return .liveOpenFailed(name: interface, message: message)
        }
    }

    /// Reads the live handle until `stop()`, a libpcap error, or `pcap_breakloop`.
    func runLive(_ body: (CapturedPacket) throws -> Void, idle: ((Timestamp) -> Void)?) rethrows {
        guard let reader = readers.first, !reader.isClosed else { return }
        let descriptor = pcap_get_selectable_fd(reader.handle)
        var lastIdleCall = wallClockNow()

        while !isStopRequested {
            switch reader.advance() {
            case .packet:
                try body(reader.currentPacket())
            case .noPacketReady:
                // No packet is ready: call `idle` when a second has passed, then wait.
                if let idle {
                    let now = wallClockNow()
                    if now.nanoseconds &- lastIdleCall.nanoseconds >= Self.idleIntervalNanoseconds {
                        lastIdleCall = now
                        idle(now)
                    }
                }
                waitForPackets(descriptor: descriptor)
            case .end:
                // pcap_breakloop was called: by stop(), or by another caller of the handle.
                reader.statistics.completed = true
                return
            case .failed(let message):
                // An interface that goes away (unplugged, renamed) ends up here.
                reader.statistics.stopReason = message
                warnings.append("\(reader.statistics.name): capture stopped: \(message)")
                return
            }
        }
        reader.statistics.completed = true
    }
}

/// Waits until the capture descriptor is readable or the read timeout passes. Without a
/// descriptor (`pcap_get_selectable_fd` returned -1) it only sleeps for the timeout.
private func waitForPackets(descriptor: Int32) {
    guard descriptor >= 0 else {
        _ = poll(nil, 0, CaptureInput.liveReadTimeoutMilliseconds)
        return
    }
    var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
    _ = poll(&request, 1, CaptureInput.liveReadTimeoutMilliseconds)
}

/// Returns the current wall-clock time, for `idle` during live capture.
func wallClockNow() -> Timestamp {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Timestamp(seconds: Int64(now.tv_sec), nanoseconds: Int64(now.tv_nsec))
}

/// A network interface libpcap can capture on.
public struct CaptureInterface: Sendable, Equatable {
    public var name: String
    /// The system's description, where it has one (often nil on Linux).
    public var description: String?
    public var isLoopback: Bool
    public var isUp: Bool
    public var isRunning: Bool
}

/// Lists the interfaces libpcap can capture on (`pcap_findalldevs`), or an empty list when
/// libpcap cannot enumerate them.
public func listInterfaces() -> [CaptureInterface] {
    var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
    var first: UnsafeMutablePointer<pcap_if_t>?
    guard pcap_findalldevs(&first, &errorBuffer) == 0 else { return [] }
    defer { pcap_freealldevs(first) }

    var interfaces: [CaptureInterface] = []
    var current = first
    while let entry = current {
        let flags = entry.pointee.flags
        interfaces.append(CaptureInterface(
            name: String(cString: entry.pointee.name),
            description: entry.pointee.description.map { String(cString: $0) },
            isLoopback: flags & UInt32(PCAP_IF_LOOPBACK) != 0,
            isUp: flags & UInt32(PCAP_IF_UP) != 0,
            isRunning: flags & UInt32(PCAP_IF_RUNNING) != 0))
        current = entry.pointee.next
    }
    return interfaces
}
