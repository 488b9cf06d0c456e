// libFuzzer target: one StreamReassembler driven by a script of segments.
//
// Input: base sequence number (4 bytes, big-endian), then operations, each starting with a
// code byte whose low two bits select it:
//   0  add: offset (2 bytes, signed, from the base), length (1 byte), data (`length` bytes)
//   1  flush
//   2  setInitialSequence: offset (2 bytes, signed, from the base)
//   3  add at an absolute sequence number: sequence (4 bytes), length (1 byte), data
// Data shorter than `length` is what remains of the input.
import WirecheckCore
import WirecheckFlows

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    guard let base = input.readUInt32() else { return 0 }

    // Small limits, so the give-up and overrun paths are reachable from short inputs.
    let limits = ReassemblyLimits(maxBufferedBytesPerDirection: 1024, maxBufferedSegmentsPerDirection: 8,
                                  gapAfterHeldSegments: 4, gapAfterHeldBytes: 512, deliveredHistoryBytes: 256)
    let budget = ReassemblyBudget(maxTotalBytes: 4096)
    let reassembler = StreamReassembler(limits: limits, budget: budget)
    var deliveredBytes = 0
    var checksum: UInt8 = 0
    let deliver: (StreamChunk) -> Void = { chunk in
        switch chunk {
        case .data(let bytes, _):
            deliveredBytes += bytes.count
            // Read every delivered byte so a view past its buffer shows up under the sanitizer.
            for byte in bytes { checksum &+= byte }
        case .gap(let length):
            precondition(length > 0, "StreamReassembler reported a gap of \(length) bytes")
        }
    }

    var number: UInt64 = 1
    while let code = input.readByte() {
        let packet = PacketReference(source: 0, number: number)
        number += 1
        switch code & 3 {
        case 0:
            guard let offset = input.readUInt16(), let length = input.readByte() else { break }
            let sequence = base &+ UInt32(bitPattern: Int32(Int16(bitPattern: offset)))
            _ = reassembler.add(sequence: sequence, payload: input.readBytes(upTo: Int(length)), packet: packet,
                                deliver: deliver)
        case 1:
            reassembler.flush(deliver: deliver)
        case 2:
            guard let offset = input.readUInt16() else { break }
            reassembler.setInitialSequence(base &+ UInt32(bitPattern: Int32(Int16(bitPattern: offset))))
        default:
            guard let sequence = input.readUInt32(), let length = input.readByte() else { break }
            _ = reassembler.add(sequence: sequence, payload: input.readBytes(upTo: Int(length)), packet: packet,
                                deliver: deliver)
        }
        precondition(reassembler.bufferedBytes >= 0 && reassembler.bufferedBytes <= 1024,
                     "StreamReassembler holds \(reassembler.bufferedBytes) bytes, outside 0...1024")
    }
    reassembler.flush(deliver: deliver)
    reassembler.release()
    precondition(budget.usedBytes == 0, "ReassemblyBudget still counts \(budget.usedBytes) bytes after release")
    return 0
}
