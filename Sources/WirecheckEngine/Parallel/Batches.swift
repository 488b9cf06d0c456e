import Foundation
import WirecheckCore
import WirecheckDecoding

/// One instruction for a worker: analyse a packet, run housekeeping, note where a capture source
/// starts, or finish the run.
struct BatchEntry {
    enum Kind: UInt8 {
        case packet
        /// Expire idle state at `timestamp`, as the single-threaded analyzer's housekeeping would.
        case tick
        /// Expire idle flows at `timestamp`, as the flow table does on the first packet of each
        /// second. It goes to the workers that do not own that packet.
        case flowExpiry
        /// The first packet of capture source `reference.source` has time `timestamp`.
        case sourceStart
        /// The input ended; `timestamp` is the time of the run's last packet.
        case finish
    }

    var kind: Kind
    /// The order key: the packet's sequence number in the run, or for a tick the sequence number
    /// of the packet whose time triggered it.
    var key: UInt64
    var timestamp: Timestamp
    var linkType = LinkType.ethernet
    var offset = 0
    var length = 0
    var originalLength = 0
    var reference = PacketReference(source: 0, number: 0)
}

/// Packets and instructions for one worker, with the packet bytes copied into one contiguous
/// buffer. The dispatcher fills it, the worker reads it, and it then returns for reuse.
final class InputBatch {
    private(set) var storage: UnsafeMutableRawPointer
    private(set) var capacity: Int
    private(set) var used = 0
    var entries: [BatchEntry] = []
    /// Every packet the dispatcher numbered up to here was sent before this batch, so the
    /// worker's events after this batch all have larger keys.
    var coversThrough: UInt64 = 0

    init(packetCapacity: Int, byteCapacity: Int) {
        capacity = max(byteCapacity, 1)
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        entries.reserveCapacity(packetCapacity + 8)
    }

    deinit {
        storage.deallocate()
    }

    /// Copies the packet's bytes and appends its entry.
    func append(_ packet: CapturedPacket, key: UInt64) {
        let length = packet.bytes.count
        if used + length > capacity { grow(toFit: used + length) }
        if let base = packet.bytes.baseAddress, length > 0 {
            (storage + used).copyMemory(from: base, byteCount: length)
        }
        entries.append(BatchEntry(kind: .packet, key: key, timestamp: packet.timestamp, linkType: packet.linkType,
                                  offset: used, length: length, originalLength: packet.originalLength,
                                  reference: packet.reference))
        used += length
    }

    func bytes(of entry: BatchEntry) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage + entry.offset, count: entry.length)
    }

    func reset() {
        used = 0
        entries.removeAll(keepingCapacity: true)
        coversThrough = 0
    }

    /// Doubles the buffer until `needed` bytes fit. An oversized packet (a 256 KiB snapshot
    /// length) grows it once, and the larger buffer is kept for reuse.
    private func grow(toFit needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let newStorage = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newStorage.copyMemory(from: storage, byteCount: used)
        storage.deallocate()
        storage = newStorage
        capacity = newCapacity
    }
}

/// One item of a worker's ordered output.
struct OutputItem {
    enum Kind: UInt8 {
        /// An event, serialised as one EVE line at `lines[start..<end]`, and kept as a value at
        /// `events[index]` when the run has outputs other than the EVE file.
        case event
        /// A decoder anomaly for the shared checksum-offload filter, at `events[index]`.
        case decoderEvent
        /// A decoded non-ARP packet, at `packets[index]`, for the shared checksum-offload filter
        /// and, when it has a transport header, the shared scan detector.
        case decodedPacket
        /// Housekeeping of the shared scan detector at `timestamp`.
        case scanExpiry
    }

    var key: UInt64
    /// 0 for housekeeping, 1 for packets, 2 for the end of the run, so a tick's events come
    /// before the events of the packet that triggered it.
    var phase: UInt8
    var kind: Kind
    var start = 0
    var end = 0
    var index = -1
    var timestamp: Timestamp
    /// For an event of an ending flow, the flow's last activity; `.zero` otherwise.
    var activity = Timestamp.zero
    var isAlert = false
}

/// The output a worker produced from one `InputBatch`, in processing order.
final class OutputBatch {
    var lines: [UInt8] = []
    var items: [OutputItem] = []
    var events: [Event] = []
    var packets: [DecodedPacket] = []
    /// Copied from the input batch: later output of the same worker has keys above this.
    var watermark: UInt64 = 0

    func reset() {
        lines.removeAll(keepingCapacity: true)
        items.removeAll(keepingCapacity: true)
        events.removeAll(keepingCapacity: true)
        packets.removeAll(keepingCapacity: true)
        watermark = 0
    }
}

/// The queues between the dispatcher and one worker: a bounded queue of input batches (a full
/// queue makes the dispatcher wait, so no packet is dropped), the completed output batches, and
/// spare batches of both kinds for reuse. One condition variable guards all of them.
final class WorkerChannel: @unchecked Sendable {
    let condition = NSCondition()
    /// Input batches queued at most; the dispatcher waits when this many are waiting.
    let capacity: Int
    private var pending: [InputBatch] = []
    private var spareInputs: [InputBatch] = []
    private var completed: [OutputBatch] = []
    private var spareOutputs: [OutputBatch] = []
    private var closed = false
    /// Set by tests to hold the worker before it takes the next batch.
    private var paused = false
    /// True while the dispatcher waits for queue space.
    private(set) var dispatcherWaiting = false
    /// Times the dispatcher found the queue full and waited.
    private(set) var fullQueueWaits: UInt64 = 0
    private(set) var workerExited = false

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    // MARK: Dispatcher side

    /// Queues `batch`, waiting while the queue is full.
    func send(_ batch: InputBatch) {
        condition.lock()
        if pending.count >= capacity { fullQueueWaits += 1 }
        while pending.count >= capacity {
            dispatcherWaiting = true
            condition.broadcast()
            condition.wait()
        }
        dispatcherWaiting = false
        pending.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    func takeSpareInput() -> InputBatch? {
        condition.lock()
        defer { condition.unlock() }
        return spareInputs.popLast()
    }

    /// Moves the completed output batches into `into`, in order.
    func takeCompleted(into list: inout [OutputBatch]) {
        condition.lock()
        list.append(contentsOf: completed)
        completed.removeAll(keepingCapacity: true)
        condition.unlock()
    }

    /// Waits until the worker completed an output batch whose watermark is at least `key`, or exited.
    func waitForOutput(through key: UInt64, taken: UInt64) {
        condition.lock()
        while !workerExited && taken < key && !(completed.last.map { $0.watermark >= key } ?? false) {
            condition.wait()
        }
        condition.unlock()
    }

    func recycle(_ batch: OutputBatch) {
        batch.reset()
        condition.lock()
        spareOutputs.append(batch)
        condition.unlock()
    }

    /// Lets the worker exit once it has processed every queued batch.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    func setPaused(_ value: Bool) {
        condition.lock()
        paused = value
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the dispatcher is blocked on a full queue (for tests).
    func waitUntilDispatcherWaits() {
        condition.lock()
        while !dispatcherWaiting { condition.wait() }
        condition.unlock()
    }

    // MARK: Worker side

    /// Returns the next input batch with an empty output batch to fill, or nil once the channel
    /// is closed and drained.
    func nextBatch() -> (InputBatch, OutputBatch)? {
        condition.lock()
        defer { condition.unlock() }
        while (pending.isEmpty || paused) && !(closed && pending.isEmpty) {
            condition.wait()
        }
        guard !pending.isEmpty else { return nil }
        let input = pending.removeFirst()
        let output = spareOutputs.popLast() ?? OutputBatch()
        condition.broadcast()
        return (input, output)
    }

    func complete(input: InputBatch, output: OutputBatch) {
        input.reset()
        condition.lock()
        completed.append(output)
        spareInputs.append(input)
        condition.broadcast()
        condition.unlock()
    }

    func markExited() {
        condition.lock()
        workerExited = true
        condition.broadcast()
        condition.unlock()
    }
}
