import WirecheckCore

/// A ring of the most recently delivered bytes of one stream direction, ending at the next
/// expected byte. The owner grows the storage, doubling up to `limit`, as bytes are delivered,
/// so a flow that carries a few short messages never pays for the whole ring.
struct DeliveredHistory {
    /// Capacity of the first allocation, enough for a flow of a few short ICS requests and responses.
    private static let initialCapacity = 2048

    private var storage: [UInt8] = []
    /// Index in `storage` where the next delivered byte goes.
    private var head = 0
    /// Valid bytes, ending just before `head`.
    private(set) var count = 0
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    var capacity: Int { storage.count }

    /// Appends delivered bytes, dropping the oldest ones once the ring is full. Nothing is kept
    /// while the ring has no storage.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let capacity = storage.count
        guard capacity > 0, bytes.count > 0 else { return }
        // Only the last `capacity` bytes can survive the append.
        let skipped = max(0, bytes.count - capacity)
        var index = skipped
        storage.withUnsafeMutableBytes { ring in
            while index < bytes.count {
                let run = min(bytes.count - index, capacity - head)
                ring.baseAddress!.advanced(by: head)
                    .copyMemory(from: bytes.baseAddress!.advanced(by: index), byteCount: run)
                head = (head + run) % capacity
                index += run
            }
        }
        count = min(capacity, count + bytes.count)
    }

    /// Forgets every byte, after a gap: bytes before a gap are no longer adjacent to the stream.
    mutating func reset() {
        count = 0
    }

    /// Frees the storage at flow end.
    mutating func release() {
        storage = []
        head = 0
        count = 0
    }

    /// Returns the byte `distance` bytes before the next expected byte (1 is the last delivered
    /// byte), or nil when it is no longer kept.
    func byte(before distance: Int) -> UInt8? {
        guard distance >= 1, distance <= count else { return nil }
        let capacity = storage.count
        return storage[(head - distance + capacity) % capacity]
    }

    /// Returns the capacity that would keep `incoming` more bytes without dropping any, up to
    /// `limit`; it equals `capacity` when no growth is needed or possible.
    func requiredCapacity(adding incoming: Int) -> Int {
        guard storage.count < limit, count + incoming > storage.count else { return storage.count }
        var newCapacity = max(storage.count, DeliveredHistory.initialCapacity)
        while newCapacity < count + incoming && newCapacity < limit { newCapacity *= 2 }
        return min(newCapacity, limit)
    }

    /// Reallocates the ring with `newCapacity` bytes, keeping the valid bytes.
    mutating func grow(to newCapacity: Int) {
        guard newCapacity > storage.count else { return }
        // Copy the valid bytes oldest first, so the new ring starts linear. The bytes sit in at
        // most two runs of the old ring: from the oldest byte to the ring's end, then from its start.
        var grown = [UInt8](repeating: 0, count: newCapacity)
        let oldCapacity = storage.count
        if count > 0 && oldCapacity > 0 {
            let oldest = (head - count + oldCapacity) % oldCapacity
            let firstRun = min(count, oldCapacity - oldest)
            grown.withUnsafeMutableBytes { target in
                storage.withUnsafeBytes { source in
                    target.baseAddress!.copyMemory(from: source.baseAddress! + oldest, byteCount: firstRun)
                    if count > firstRun {
                        target.baseAddress!.advanced(by: firstRun)
                            .copyMemory(from: source.baseAddress!, byteCount: count - firstRun)
                    }
                }
            }
        }
        storage = grown
        head = count % newCapacity
    }
}

/// The packets that carried the most recent deliveries of one stream direction, each with the
/// stream offset of its first delivered byte, so an overlap with delivered bytes can name the
/// packet that carried the first copy.
struct DeliveredPackets {
    /// Deliveries remembered per direction. A retransmission repeats one of the last segments in
    /// flight, and an overlap with an older delivery is reported without the first copy's packet.
    static let capacity = 8

    private var starts: [Int] = []
    private var packets: [PacketReference] = []
    /// Slot the next delivery overwrites once the ring is full, which is the oldest one.
    private var oldest = 0

    /// Records a delivery that starts at stream offset `start`. A delivery from the same packet
    /// as the one before it extends that entry.
    mutating func record(start: Int, packet: PacketReference) {
        let count = starts.count
        if count > 0 && packets[(oldest + count - 1) % count] == packet { return }
        if count < DeliveredPackets.capacity {
            if count == 0 {
                starts.reserveCapacity(DeliveredPackets.capacity)
                packets.reserveCapacity(DeliveredPackets.capacity)
            }
            starts.append(start)
            packets.append(packet)
        } else {
            starts[oldest] = start
            packets[oldest] = packet
            oldest = (oldest + 1) % count
        }
    }

    /// Returns the packet whose delivery contained stream `offset`, or nil when that delivery
    /// is no longer remembered.
    func packet(at offset: Int) -> PacketReference? {
        let count = starts.count
        // Newest first: the latest delivery that starts at or before the offset contains it.
        for step in 0..<count {
            let index = (oldest + count - 1 - step) % count
            if starts[index] <= offset { return packets[index] }
        }
        return nil
    }

    /// Forgets every delivery; `keepingCapacity` keeps the storage for a restarted stream.
    mutating func reset(keepingCapacity: Bool) {
        starts.removeAll(keepingCapacity: keepingCapacity)
        packets.removeAll(keepingCapacity: keepingCapacity)
        oldest = 0
    }
}
