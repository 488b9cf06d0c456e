/// Modbus/TCP application data units for the demo capture and tests (Modbus Application
/// Protocol Specification V1.1b3: MBAP header, then function code and data, big-endian).
public enum ModbusFrames {
    static func frame(transaction: UInt16, unit: UInt8, pdu: [UInt8]) -> [UInt8] {
        let length = UInt16(pdu.count + 1)
        return [UInt8(transaction >> 8), UInt8(transaction & 0xff), 0, 0, UInt8(length >> 8), UInt8(length & 0xff), unit] + pdu
    }

    static func word(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }

    public static func readHoldingRegisters(transaction: UInt16, unit: UInt8, address: UInt16, count: UInt16) -> [UInt8] {
        frame(transaction: transaction, unit: unit, pdu: [3] + word(address) + word(count))
    }

    public static func readHoldingRegistersResponse(transaction: UInt16, unit: UInt8, values: [UInt16]) -> [UInt8] {
        frame(transaction: transaction, unit: unit, pdu: [3, UInt8(values.count * 2)] + values.flatMap(word))
    }

    /// Function 6; the response echoes the request.
    public static func writeSingleRegister(transaction: UInt16, unit: UInt8, address: UInt16, value: UInt16) -> [UInt8] {
        frame(transaction: transaction, unit: unit, pdu: [6] + word(address) + word(value))
    }

    /// Function 5; the response echoes the request.
    public static func writeSingleCoil(transaction: UInt16, unit: UInt8, address: UInt16, on: Bool) -> [UInt8] {
        frame(transaction: transaction, unit: unit, pdu: [5] + word(address) + word(on ? 0xFF00 : 0x0000))
    }
}

/// DNP3 frames over TCP for the demo capture and tests (IEEE 1815): link header with its CRC,
/// then user data in 16-octet blocks, each followed by its CRC.
public enum DNP3Frames {
    /// Builds a class 0 read (function 1, object group 60 variation 1, qualifier 0x06) from the master.
    public static func classZeroRead(master: UInt16, outstation: UInt16, sequence: UInt8) -> [UInt8] {
        let application: [UInt8] = [0xC0 | (sequence & 0x0f), 0x01, 60, 1, 0x06]
        return frame(control: 0xC4, destination: outstation, source: master, transportSequence: sequence, application: application)
    }

    /// Builds a response (function 0x81) with no objects and no internal indications set.
    public static func nullResponse(master: UInt16, outstation: UInt16, sequence: UInt8) -> [UInt8] {
        let application: [UInt8] = [0xC0 | (sequence & 0x0f), 0x81, 0x00, 0x00]
        return frame(control: 0x44, destination: master, source: outstation, transportSequence: sequence, application: application)
    }

    /// Builds one link frame carrying a single transport segment (FIR and FIN set).
    public static func frame(control: UInt8, destination: UInt16, source: UInt16, transportSequence: UInt8,
                             application: [UInt8]) -> [UInt8] {
        let userData = [0xC0 | (transportSequence & 0x3f)] + application
        var header: [UInt8] = [0x05, 0x64, UInt8(5 + userData.count), control,
                               UInt8(destination & 0xff), UInt8(destination >> 8), UInt8(source & 0xff), UInt8(source >> 8)]
        header += crcBytes(header)
        var index = 0
        while index < userData.count {
            let block = Array(userData[index..<min(index + 16, userData.count)])
            header += block + crcBytes(block)
            index += 16
        }
        return header
    }

    /// CRC-16/DNP: reflected polynomial 0xA6BC, initial value 0, result inverted, sent low byte first.
    static func crcBytes(_ bytes: [UInt8]) -> [UInt8] {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xA6BC : crc >> 1
            }
        }
        crc = ~crc
        return [UInt8(crc & 0xff), UInt8(crc >> 8)]
    }
}
