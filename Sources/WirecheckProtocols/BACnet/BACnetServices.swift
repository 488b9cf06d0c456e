/// The few parameters of BACnet services that an analyst needs to read a transaction: which
/// object and property, which device, and the state a control service requests.
struct BACnetServiceDetails {
    var object: BACnetObjectIdentifier?
    var property: UInt32?
    var arrayIndex: UInt32?
    /// i-Am: the device's vendor identifier.
    var vendorID: UInt32?
    /// reinitializeDevice: the reinitialized-state-of-device.
    var reinitializedState: UInt32?
    /// deviceCommunicationControl: enable, disable or disable-initiation.
    var enableDisable: UInt32?
    /// deviceCommunicationControl: time duration in minutes.
    var durationMinutes: UInt32?
    /// who-Is: device instance range limits.
    var lowLimit: UInt32?
    var highLimit: UInt32?
    var errorClass: UInt32?
    var errorCode: UInt32?
    /// True when a tag ran past the end of the APDU.
    var truncated = false

    static let confirmedAtomicWriteFile: UInt8 = 7
    static let confirmedCreateObject: UInt8 = 10
    static let confirmedDeleteObject: UInt8 = 11
    static let confirmedReadProperty: UInt8 = 12
    static let confirmedReadPropertyMultiple: UInt8 = 14
    static let confirmedWriteProperty: UInt8 = 15
    static let confirmedWritePropertyMultiple: UInt8 = 16
    static let confirmedDeviceCommunicationControl: UInt8 = 17
    static let confirmedReinitializeDevice: UInt8 = 20
    static let unconfirmedIAm: UInt8 = 0
    static let unconfirmedWhoIs: UInt8 = 8

    /// Decodes the parameters of a confirmed request.
    static func confirmedRequest(_ service: UInt8, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> BACnetServiceDetails {
        var details = BACnetServiceDetails()
        var cursor = BACnetTagCursor(bytes: bytes, offset: offset)

        switch service {
        case confirmedReadProperty, confirmedWriteProperty:
            details.readObjectPropertyReference(&cursor)
        case confirmedReadPropertyMultiple, confirmedWritePropertyMultiple:
            // The first object and its first property represent the request. Both services list
            // [0] object identifier, then [1] opening a list that starts with [0] property.
            guard let objectTag = cursor.next() else { details.truncated = bytes.count > offset; break }
            if objectTag.kind == .context, objectTag.number == 0 {
                details.object = BACnetObjectIdentifier(tag: objectTag, in: bytes)
            }
            if let open = cursor.next(), open.kind == .opening, open.number == 1,
               let propertyTag = cursor.next(), propertyTag.kind == .context, propertyTag.number == 0 {
                details.property = propertyTag.unsigned(in: bytes)
            }
        case confirmedReinitializeDevice:
            if let tag = cursor.next(), tag.kind == .context, tag.number == 0 {
                details.reinitializedState = tag.unsigned(in: bytes)
            } else {
                details.truncated = true
            }
        case confirmedDeviceCommunicationControl:
            while let tag = cursor.next() {
                guard tag.kind == .context else { continue }
                if tag.number == 0 { details.durationMinutes = tag.unsigned(in: bytes) }
                if tag.number == 1 { details.enableDisable = tag.unsigned(in: bytes) }
            }
            if details.enableDisable == nil { details.truncated = true }
        case confirmedAtomicWriteFile, confirmedDeleteObject:
            if let tag = cursor.next(), tag.kind == .application, tag.number == BACnetTag.applicationObjectIdentifier {
                details.object = BACnetObjectIdentifier(tag: tag, in: bytes)
            } else {
                details.truncated = true
            }
        case confirmedCreateObject:
            // [0] object-specifier is a choice of [0] object type or [1] object identifier.
            if let open = cursor.next(), open.kind == .opening, open.number == 0, let choice = cursor.next() {
                if choice.number == 1, let object = BACnetObjectIdentifier(tag: choice, in: bytes) {
                    details.object = object
                } else if choice.number == 0, let type = choice.unsigned(in: bytes) {
                    details.object = BACnetObjectIdentifier(type << 22 | 0x3F_FFFF)
                }
            } else {
                details.truncated = true
            }
        default:
            break
        }
        return details
    }

    /// Decodes the parameters of an unconfirmed request.
    static func unconfirmedRequest(_ service: UInt8, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> BACnetServiceDetails {
        var details = BACnetServiceDetails()
        var cursor = BACnetTagCursor(bytes: bytes, offset: offset)

        switch service {
        case unconfirmedIAm:
            // i-Am: object identifier, max APDU length, segmentation, vendor id; all application tags.
            guard let objectTag = cursor.next(), objectTag.kind == .application,
                  objectTag.number == BACnetTag.applicationObjectIdentifier else {
                details.truncated = true
                break
            }
            details.object = BACnetObjectIdentifier(tag: objectTag, in: bytes)
            guard cursor.next() != nil, cursor.next() != nil, let vendorTag = cursor.next() else {
                details.truncated = true
                break
            }
            details.vendorID = vendorTag.unsigned(in: bytes)
        case unconfirmedWhoIs:
            if let low = cursor.next(), low.kind == .context, low.number == 0 {
                details.lowLimit = low.unsigned(in: bytes)
                if let high = cursor.next(), high.kind == .context, high.number == 1 {
                    details.highLimit = high.unsigned(in: bytes)
                } else {
                    details.truncated = true
                }
            }
        default:
            break
        }
        return details
    }

    /// Decodes the parameters of a complex ACK; only readProperty's echo of the object and
    /// property is read.
    static func complexAck(_ service: UInt8, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> BACnetServiceDetails {
        var details = BACnetServiceDetails()
        if service == confirmedReadProperty {
            var cursor = BACnetTagCursor(bytes: bytes, offset: offset)
            details.readObjectPropertyReference(&cursor)
        }
        return details
    }

    /// Decodes the error class and code of an Error PDU. Most services send them as two
    /// application enumerated values, but some wrap them in an opening [0] tag first.
    static func error(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> BACnetServiceDetails {
        var details = BACnetServiceDetails()
        var cursor = BACnetTagCursor(bytes: bytes, offset: offset)
        if let first = cursor.peek(), first.kind == .opening {
            _ = cursor.next()
        }
        guard let classTag = cursor.next(), let codeTag = cursor.next() else {
            details.truncated = true
            return details
        }
        details.errorClass = classTag.unsigned(in: bytes)
        details.errorCode = codeTag.unsigned(in: bytes)
        return details
    }

    /// Reads [0] object identifier, [1] property identifier and the optional [2] array index.
    private mutating func readObjectPropertyReference(_ cursor: inout BACnetTagCursor) {
        guard let objectTag = cursor.next(), let propertyTag = cursor.next() else {
            truncated = true
            return
        }
        guard objectTag.kind == .context, objectTag.number == 0, propertyTag.kind == .context,
              propertyTag.number == 1 else { return }
        object = BACnetObjectIdentifier(tag: objectTag, in: cursor.bytes)
        property = propertyTag.unsigned(in: cursor.bytes)
        if let indexTag = cursor.peek(), indexTag.kind == .context, indexTag.number == 2 {
            arrayIndex = indexTag.unsigned(in: cursor.bytes)
        }
    }
}
