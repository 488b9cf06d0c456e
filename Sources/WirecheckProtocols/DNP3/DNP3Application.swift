/// The layout of one object variation's data after its object header.
enum DNP3ObjectSize: Equatable {
    /// No data follows the header (class data, "any variation" requests).
    case none
    /// Bit-packed points, this many bits each (binary inputs, double-bit inputs, IIN).
    case bits(Int)
    /// Fixed size in octets.
    case octets(Int)
    /// Octet strings and virtual terminal blocks, whose variation is their length.
    case variationOctets
    /// Device attributes (group 0): a data type octet, a length octet, then that many octets.
    case attribute
    /// The size comes from each object's size prefix (qualifier prefix codes 4-6).
    case sizePrefixed
    /// The group is defined but this variation is not in the table.
    case unknown
}

enum DNP3ObjectSizes {
    /// Returns the data layout of `group`/`variation` from the IEEE 1815-2012 object library,
    /// or nil when the group is not defined there.
    static func size(group: UInt8, variation: UInt8) -> DNP3ObjectSize? {
        guard DNP3Names.group(group) != nil else { return nil }
        if variation == 0 && group != 0 { return DNP3ObjectSize.none }
        let v = Int(variation)
        func pick(_ sizes: [Int]) -> DNP3ObjectSize {
            v >= 1 && v <= sizes.count ? .octets(sizes[v - 1]) : .unknown
        }
        switch group {
        case 0: return variation >= 254 ? DNP3ObjectSize.none : .attribute
        case 1: return v == 1 ? .bits(1) : pick([0, 1])
        case 2, 4, 11, 13: return pick([1, 7, 3])
        case 3: return v == 1 ? .bits(2) : pick([0, 1])
        case 10: return v == 1 ? .bits(1) : pick([0, 1])
        case 12: return v == 3 ? .bits(1) : pick([11, 11])
        case 20: return pick([5, 3, 5, 3, 4, 2, 4, 2])
        case 21: return pick([5, 3, 5, 3, 11, 9, 11, 9, 4, 2, 4, 2])
        case 22, 23: return pick([5, 3, 5, 3, 11, 9, 11, 9])
        case 30: return pick([5, 3, 4, 2, 5, 9])
        case 31: return pick([5, 3, 11, 9, 4, 2, 5, 9])
        case 32, 33, 42, 43: return pick([5, 3, 11, 9, 5, 9, 11, 15])
        case 34: return pick([2, 4, 4])
        case 40, 41: return pick([5, 3, 5, 9])
        case 50: return pick([6, 10, 6, 11])
        case 51: return pick([6, 6])
        case 52: return pick([2, 2])
        case 60: return DNP3ObjectSize.none
        case 80: return v == 1 ? .bits(1) : .unknown
        case 101: return pick([2, 4, 8])
        case 102: return pick([1])
        case 110, 111, 112, 113: return .variationOctets
        case 121: return pick([7])
        case 122: return pick([7, 13])
        default: return .sizePrefixed
        }
    }
}

/// One object header of an application fragment, with the extent of its data.
struct DNP3ObjectHeader {
    var group: UInt8
    var variation: UInt8
    var qualifier: UInt8
    var start: UInt32?
    var stop: UInt32?
    /// Objects described: stop - start + 1 for ranges, the count field for counts, 0 for "all".
    var count: UInt64
    /// Offset and length of the objects' data (prefixes included) within the fragment.
    var dataRange: Range<Int>

    var prefixCode: UInt8 { (qualifier >> 4) & 0x07 }
    var rangeCode: UInt8 { qualifier & 0x0F }
}

/// A point named in a control request: a CROB (group 12) or an analog output block (group 41).
struct DNP3ControlPoint {
    var group: UInt8
    var variation: UInt8
    var index: UInt32
    /// CROB control code octet; nil for analog outputs.
    var controlCode: UInt8?
    /// Analog output value; nil for CROBs.
    var value: Double?
}

/// The reason the walk over the object headers stopped before the end of the fragment.
enum DNP3WalkError: Equatable {
    case undefinedGroup(group: UInt8, variation: UInt8)
    case qualifierInvalid(qualifier: UInt8, group: UInt8, variation: UInt8, reason: String)
    case tooManyObjects(count: UInt64, headers: Int)
    /// A defined group whose variation size is not in the table: not a protocol error.
    case unknownSize(group: UInt8, variation: UInt8)
}

/// A parsed application fragment: header fields and the walk over its object headers.
struct DNP3ApplicationMessage {
    /// Most object headers walked in one fragment. Each header is at least 3 octets, so a
    /// 2048-octet fragment contains at most about 680. 256 is an estimate of what field traffic
    /// needs, and it bounds the size of the record.
    static let maxObjectHeaders = 256
    /// Most objects of one octet or more carrying data in one fragment, since a 2048-octet
    /// fragment cannot contain more.
    /// NOTE: an estimate. Fragments up to `DNP3Reassembly.maxFragmentSize` can legitimately
    /// carry more, and would raise `too_many_objects`.
    static let maxObjects: UInt64 = 2048
    /// Control points copied into the record and the alert; the rest are only counted.
    static let maxControlPointsRecorded = 16

    var applicationControl: UInt8
    var functionCode: UInt8
    /// IIN1 in the high octet, IIN2 in the low octet; responses only.
    var internalIndications: UInt16?
    var headers: [DNP3ObjectHeader] = []
    var controlPoints: [DNP3ControlPoint] = []
    var totalObjects: UInt64 = 0
    var walkError: DNP3WalkError?

    var sequence: UInt8 { applicationControl & 0x0F }
    var isFirst: Bool { applicationControl & 0x80 != 0 }
    var isFinal: Bool { applicationControl & 0x40 != 0 }
    var confirmRequested: Bool { applicationControl & 0x20 != 0 }
    var isUnsolicited: Bool { applicationControl & 0x10 != 0 }
    var isResponse: Bool { functionCode == 0x81 || functionCode == 0x82 || functionCode == 0x83 }

    /// Parses a whole application fragment, or returns nil when it is shorter than its header.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 2 else { return nil }
        applicationControl = bytes[0]
        functionCode = bytes[1]
        var offset = 2
        if isResponse {
            guard bytes.count >= 4 else { return nil }
            internalIndications = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
            offset = 4
        }
        // Authentication messages (0x20, 0x21, 0x83) carry size-prefixed group 120 objects, so
        // they are walked like any other.
        walk(bytes, from: offset)
    }

    /// Whether objects of this header carry data in a message with this function code.
    private func headerCarriesData(group: UInt8) -> Bool {
        switch functionCode {
        // Read, freezes, enable/disable unsolicited and assign class name points without values.
        case 0x01, 0x07, 0x08, 0x09, 0x0A, 0x14, 0x15, 0x16: return false
        // Freeze-at-time requests carry one g50v2 time object, then data-less point headers.
        case 0x0B, 0x0C: return group == 50
        default: return true
        }
    }

    private mutating func walk(_ bytes: UnsafeRawBufferPointer, from start: Int) {
        var offset = start
        while offset < bytes.count {
            guard headers.count < DNP3ApplicationMessage.maxObjectHeaders else {
                walkError = .tooManyObjects(count: totalObjects, headers: headers.count + 1)
                return
            }
            guard offset + 3 <= bytes.count else {
                walkError = .qualifierInvalid(qualifier: 0, group: bytes[offset], variation: 0,
                                              reason: "the object header is cut off by the end of the fragment")
                return
            }
            let group = bytes[offset], variation = bytes[offset + 1], qualifier = bytes[offset + 2]
            offset += 3

            guard let size = DNP3ObjectSizes.size(group: group, variation: variation) else {
                walkError = .undefinedGroup(group: group, variation: variation)
                return
            }
            func invalid(_ reason: String) {
                walkError = .qualifierInvalid(qualifier: qualifier, group: group, variation: variation, reason: reason)
            }

            // Range specifier: start/stop (codes 0-5), all objects (6), counts (7-9, 0xB).
            let rangeCode = qualifier & 0x0F
            let prefixCode = (qualifier >> 4) & 0x07
            guard qualifier & 0x80 == 0, prefixCode != 7 else { return invalid("the qualifier uses a reserved code") }
            var rangeStart: UInt32?, rangeStop: UInt32?
            var count: UInt64 = 0
            switch rangeCode {
            case 0...5:
                let width = [1, 2, 4][Int(rangeCode % 3)]
                guard let first = DNP3Bytes.readLE(bytes, offset, width),
                      let last = DNP3Bytes.readLE(bytes, offset + width, width) else {
                    return invalid("the start/stop range is cut off by the end of the fragment")
                }
                offset += 2 * width
                guard first <= last else { return invalid("range start \(first) is after stop \(last)") }
                rangeStart = first
                rangeStop = last
                count = UInt64(last - first) + 1
            case 6:
                count = 0
            case 7, 8, 9, 0x0B:
                let width = rangeCode == 8 ? 2 : (rangeCode == 9 ? 4 : 1)
                guard let value = DNP3Bytes.readLE(bytes, offset, width) else {
                    return invalid("the object count is cut off by the end of the fragment")
                }
                offset += width
                count = UInt64(value)
            default:
                return invalid("range specifier code \(rangeCode) is not defined")
            }

            let dataStart = offset
            if rangeCode != 6 && headerCarriesData(group: group) && size != DNP3ObjectSize.none {
                guard let end = dataEnd(bytes, from: offset, count: count, size: size, qualifier: qualifier,
                                        group: group, variation: variation, rangeStart: rangeStart) else {
                    return
                }
                offset = end
                // Bit-packed points cost nothing to walk and fill large integrity polls, so only
                // objects of whole octets count toward the limit.
                if case .bits = size {} else { totalObjects &+= count }
            } else if prefixCode != 0 && rangeCode != 6 {
                // Data-less headers may still list point indexes (a read of indexes 3, 7, 9).
                let width = DNP3Bytes.prefixWidth(prefixCode)
                guard UInt64(offset) + count * UInt64(width) <= UInt64(bytes.count) else {
                    return invalid("\(count) indexed objects do not fit in the fragment")
                }
                offset += Int(count) * width
            }
            headers.append(DNP3ObjectHeader(group: group, variation: variation, qualifier: qualifier,
                                            start: rangeStart, stop: rangeStop, count: count,
                                            dataRange: dataStart..<offset))
            if totalObjects > DNP3ApplicationMessage.maxObjects {
                walkError = .tooManyObjects(count: totalObjects, headers: headers.count)
                return
            }
        }
    }

    /// Walks the objects of one header and returns the offset just past them, or nil with
    /// `walkError` set when they do not fit or their size is not known.
    private mutating func dataEnd(_ bytes: UnsafeRawBufferPointer, from start: Int, count: UInt64, size: DNP3ObjectSize,
                                  qualifier: UInt8, group: UInt8, variation: UInt8, rangeStart: UInt32?) -> Int? {
        let total = UInt64(bytes.count)
        let prefixCode = (qualifier >> 4) & 0x07
        let prefixWidth = DNP3Bytes.prefixWidth(prefixCode)
        let sizePrefix = prefixCode >= 4
        func invalid(_ reason: String) -> Int? {
            walkError = .qualifierInvalid(qualifier: qualifier, group: group, variation: variation, reason: reason)
            return nil
        }

        // Packed bits without prefixes occupy whole octets for the whole range.
        if case .bits(let bits) = size, prefixCode == 0 {
            let end = UInt64(start) + (count * UInt64(bits) + 7) / 8
            guard end <= total else { return invalid("\(count) bit-packed objects do not fit in the fragment") }
            return Int(end)
        }
        if case .octets(let octets) = size, !sizePrefix {
            let end = UInt64(start) + count * UInt64(prefixWidth + octets)
            guard end <= total else { return invalid("\(count) objects of \(octets) octets do not fit in the fragment") }
            collectControlPoints(bytes, from: start, count: count, octets: octets, prefixWidth: prefixWidth,
                                 group: group, variation: variation, rangeStart: rangeStart)
            return Int(end)
        }
        if count > UInt64(bytes.count) {
            return invalid("\(count) objects cannot fit in a fragment of \(bytes.count) octets")
        }

        // Objects of individual sizes: walk them one by one.
        var offset = start
        for _ in 0..<Int(count) {
            var objectSize: Int
            if sizePrefix {
                guard let value = DNP3Bytes.readLE(bytes, offset, prefixWidth) else {
                    return invalid("an object size prefix is cut off by the end of the fragment")
                }
                offset += prefixWidth
                objectSize = Int(value)
            } else {
                offset += prefixWidth
                switch size {
                case .bits(let bits): objectSize = (bits + 7) / 8
                case .variationOctets:
                    guard variation > 0 else {
                        walkError = .unknownSize(group: group, variation: variation)
                        return nil
                    }
                    objectSize = Int(variation)
                case .attribute:
                    guard offset + 2 <= bytes.count else { return invalid("a device attribute is cut off by the end of the fragment") }
                    objectSize = 2 + Int(bytes[offset + 1])
                case .octets(let octets): objectSize = octets
                case .none, .sizePrefixed, .unknown:
                    walkError = .unknownSize(group: group, variation: variation)
                    return nil
                }
            }
            guard offset + objectSize <= bytes.count else { return invalid("an object of \(objectSize) octets does not fit in the fragment") }
            offset += objectSize
        }
        return offset
    }

    /// Records the points of CROB (g12v1, g12v2) and analog output block (g41) objects.
    private mutating func collectControlPoints(_ bytes: UnsafeRawBufferPointer, from start: Int, count: UInt64,
                                               octets: Int, prefixWidth: Int, group: UInt8, variation: UInt8,
                                               rangeStart: UInt32?) {
        guard group == 12 || group == 41 else { return }
        var offset = start
        for position in 0..<min(count, UInt64(DNP3ApplicationMessage.maxControlPointsRecorded)) {
            let index: UInt32
            if prefixWidth > 0 {
                index = DNP3Bytes.readLE(bytes, offset, prefixWidth) ?? 0
            } else {
                index = (rangeStart ?? 0) &+ UInt32(truncatingIfNeeded: position)
            }
            let data = offset + prefixWidth
            var point = DNP3ControlPoint(group: group, variation: variation, index: index)
            if group == 12 {
                point.controlCode = data < bytes.count ? bytes[data] : nil
            } else {
                point.value = DNP3Bytes.analogOutputValue(bytes, data, variation: variation)
            }
            controlPoints.append(point)
            offset += prefixWidth + octets
        }
    }

    /// Names of the IIN bits that are set, IIN1 first.
    var internalIndicationNames: [String] {
        guard let iin = internalIndications else { return [] }
        var names: [String] = []
        for bit in 0..<16 {
            // IIN1 is the first octet on the wire, held in the high octet here.
            let mask: UInt16 = bit < 8 ? UInt16(1) << (8 + bit) : UInt16(1) << (bit - 8)
            if iin & mask != 0 { names.append(DNP3Names.internalIndications[bit]) }
        }
        return names
    }
}

/// Little-endian reads that return nil on short input.
enum DNP3Bytes {
    static func readLE(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> UInt32? {
        guard offset >= 0, width <= 4, offset + width <= bytes.count else { return nil }
        var value: UInt32 = 0
        for index in 0..<width {
            value |= UInt32(bytes[offset + index]) << (8 * index)
        }
        return value
    }

    /// Octets taken by a qualifier's object prefix: an index (codes 1-3) or an object size (4-6).
    static func prefixWidth(_ code: UInt8) -> Int {
        switch code {
        case 1, 4: return 1
        case 2, 5: return 2
        case 3, 6: return 4
        default: return 0
        }
    }

    /// Returns the requested value of a g41 analog output block, or nil when it is cut off.
    static func analogOutputValue(_ bytes: UnsafeRawBufferPointer, _ offset: Int, variation: UInt8) -> Double? {
        switch variation {
        case 1: return readLE(bytes, offset, 4).map { Double(Int32(bitPattern: $0)) }
        case 2: return readLE(bytes, offset, 2).map { Double(Int16(truncatingIfNeeded: $0)) }
        case 3: return readLE(bytes, offset, 4).map { Double(Float(bitPattern: $0)) }
        case 4:
            guard let low = readLE(bytes, offset, 4), let high = readLE(bytes, offset + 4, 4) else { return nil }
            return Double(bitPattern: UInt64(high) << 32 | UInt64(low))
        default: return nil
        }
    }

    /// Two lowercase hex digits, for messages.
    static func hex(_ value: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(value >> 4)], digits[Int(value & 0x0F)]])
    }
}
