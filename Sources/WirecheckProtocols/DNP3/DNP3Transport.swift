import WirecheckCore

/// The one-octet transport header at the start of each frame's user data: FIN (bit 7), FIR
/// (bit 6) and a 6-bit sequence number that increments per segment of a fragment.
struct DNP3TransportHeader {
    let octet: UInt8
    var isFinal: Bool { octet & 0x80 != 0 }
    var isFirst: Bool { octet & 0x40 != 0 }
    var sequence: UInt8 { octet & 0x3F }
}

/// Reassembles application fragments from transport segments for one direction of a flow.
struct DNP3Reassembly {
    /// Largest application fragment accepted. The 6-bit transport sequence repeats after 64
    /// segments, and each segment carries at most 249 octets of application data. A longer
    /// fragment therefore cannot be ordered unambiguously.
    static let maxFragmentSize = 64 * 249

    enum Outcome {
        /// The segment was stored; the fragment is not complete yet.
        case incomplete
        /// The segment completed a fragment; it is in `fragment`.
        case complete
        /// A segment arrived whose sequence does not follow the previous one (or a middle segment
        /// arrived with no first one); what was collected is dropped.
        case sequenceGap(expected: UInt8?, received: UInt8)
        /// The fragment grew past `maxFragmentSize`; segments are dropped until the next FIR.
        case tooLong(size: Int)
        /// A segment for a fragment already dropped; nothing to report again.
        case discarded
    }

    private(set) var fragment: [UInt8] = []
    /// Packets whose segments make up the current fragment, for evidence.
    private(set) var packets: [PacketReference] = []
    private var nextSequence: UInt8?
    private var source: UInt16 = 0
    private var dropping = false

    init() {
        fragment.reserveCapacity(2048)
    }

    /// Adds one segment (the user data of one frame, transport header included).
    mutating func add(segment: UnsafeRawBufferPointer, source: UInt16, packet: PacketReference) -> Outcome {
        guard let first = segment.first else { return .discarded }
        let header = DNP3TransportHeader(octet: first)
        let payload = UnsafeRawBufferPointer(rebasing: segment[1...])

        if header.isFirst {
            fragment.removeAll(keepingCapacity: true)
            packets.removeAll(keepingCapacity: true)
            dropping = false
            self.source = source
        } else if dropping {
            return .discarded
        } else if nextSequence != header.sequence || self.source != source {
            let expected = nextSequence
            reset()
            dropping = true
            return .sequenceGap(expected: expected, received: header.sequence)
        }

        if fragment.count + payload.count > DNP3Reassembly.maxFragmentSize {
            let size = fragment.count + payload.count
            reset()
            dropping = true
            return .tooLong(size: size)
        }
        fragment.append(contentsOf: payload)
        if packets.last != packet { packets.append(packet) }
        nextSequence = (header.sequence &+ 1) & 0x3F

        if header.isFinal {
            nextSequence = nil
            return .complete
        }
        return .incomplete
    }

    /// Drops any partial fragment, after a capture gap or a frame with a bad CRC.
    mutating func reset() {
        fragment.removeAll(keepingCapacity: true)
        packets.removeAll(keepingCapacity: true)
        nextSequence = nil
        dropping = false
    }
}
