import WirecheckCore

/// Reads a fuzzer input front to back. Every read returns nil or a shorter result when the input
/// runs out, so a target consumes what is there and stops.
struct FuzzInput {
    private let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ start: UnsafeRawPointer, _ count: Int) {
        bytes = UnsafeRawBufferPointer(start: start, count: count)
    }

    var isAtEnd: Bool { offset >= bytes.count }
    var remaining: Int { bytes.count - offset }

    mutating func readByte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func readUInt32() -> UInt32? {
        guard let high = readUInt16(), let low = readUInt16() else { return nil }
        return UInt32(high) << 16 | UInt32(low)
    }

    /// Up to `count` bytes, fewer at the end of the input. The view borrows the fuzzer's buffer.
    mutating func readBytes(upTo count: Int) -> UnsafeRawBufferPointer {
        let available = min(max(0, count), remaining)
        defer { offset += available }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + available)])
    }

    /// Everything not read yet.
    mutating func readRest() -> UnsafeRawBufferPointer {
        readBytes(upTo: remaining)
    }
}

/// Serializes each event's body as the output stage would, so message and body building run
/// under the sanitizer too, then drops the event to keep memory flat over millions of inputs.
final class SerializingSink: EventSink {
    private(set) var eventCount = 0
    private var scratch: [UInt8] = []

    func emit(_ event: Event) {
        eventCount += 1
        scratch.removeAll(keepingCapacity: true)
        JSONWriter.append(event.body, to: &scratch)
        if let message = event.message {
            JSONWriter.appendString(message, to: &scratch)
        }
    }
}
