import CEvtx

/// Reads the event XML of every record, and every recovered record, in a Windows .evtx file
/// through libevtx.
enum EvtxReader {
    struct Record {
        var xml: String?
        var location: String
        /// True for records libevtx recovered from free space in the file rather than read from its chunks.
        var recovered: Bool
        /// Set when libevtx could not return the record's XML.
        var error: String?
    }

    /// The `ElfFile\0` signature at the start of every .evtx file.
    static let signature: [UInt8] = Array("ElfFile".utf8) + [0]

    /// libevtx's LIBEVTX_OPEN_READ (LIBEVTX_ACCESS_FLAG_READ), which Swift does not import.
    private static let openRead: Int32 = 1

    /// The records of a file and whether libevtx judged the file corrupted.
    struct Contents {
        var records: [Record]
        var corrupted: Bool
    }

    /// Returns the records, or a message when the file cannot be opened.
    static func read(path: String) -> Result<Contents, TelemetryReadError> {
        var error: UnsafeMutablePointer<libevtx_error_t>?
        var file: UnsafeMutablePointer<libevtx_file_t>?
        guard libevtx_file_initialize(&file, &error) == 1, let handle = file else {
            return .failure(.init(reason: "libevtx could not initialise a file handle: \(describe(&error))"))
        }
        defer {
            var freeError: UnsafeMutablePointer<libevtx_error_t>?
            var owned: UnsafeMutablePointer<libevtx_file_t>? = handle
            libevtx_file_free(&owned, &freeError)
            libevtx_error_free(&freeError)
        }
        guard libevtx_file_open(handle, path, openRead, &error) == 1 else {
            return .failure(.init(reason: "libevtx could not open the file: \(describe(&error))"))
        }
        defer {
            var closeError: UnsafeMutablePointer<libevtx_error_t>?
            libevtx_file_close(handle, &closeError)
            libevtx_error_free(&closeError)
        }
        var records: [Record] = []
        let corrupted = libevtx_file_is_corrupted(handle, &error) == 1
        libevtx_error_free(&error)
        var count: Int32 = 0
        if libevtx_file_get_number_of_records(handle, &count, &error) == 1 {
            for index in 0..<max(count, 0) {
                var record: UnsafeMutablePointer<libevtx_record_t>?
                let status = libevtx_file_get_record_by_index(handle, index, &record, &error)
                records.append(xmlRecord(status == 1 ? record : nil, location: "record \(index)", recovered: false, error: &error))
            }
        } else {
            records.append(Record(xml: nil, location: "header", recovered: false, error: "libevtx could not count records: \(describe(&error))"))
        }
        var recoveredCount: Int32 = 0
        if libevtx_file_get_number_of_recovered_records(handle, &recoveredCount, &error) == 1 {
            for index in 0..<max(recoveredCount, 0) {
                var record: UnsafeMutablePointer<libevtx_record_t>?
                let status = libevtx_file_get_recovered_record_by_index(handle, index, &record, &error)
                records.append(xmlRecord(status == 1 ? record : nil, location: "recovered record \(index)", recovered: true, error: &error))
            }
        } else {
            libevtx_error_free(&error)
        }
        return .success(Contents(records: records, corrupted: corrupted))
    }

    private static func xmlRecord(_ record: UnsafeMutablePointer<libevtx_record_t>?, location: String, recovered: Bool, error: inout UnsafeMutablePointer<libevtx_error_t>?) -> Record {
        guard let record else {
            return Record(xml: nil, location: location, recovered: recovered, error: "libevtx could not read the record: \(describe(&error))")
        }
        defer {
            var owned: UnsafeMutablePointer<libevtx_record_t>? = record
            var freeError: UnsafeMutablePointer<libevtx_error_t>?
            libevtx_record_free(&owned, &freeError)
            libevtx_error_free(&freeError)
        }
        var size = 0
        guard libevtx_record_get_utf8_xml_string_size(record, &size, &error) == 1, size > 0 else {
            return Record(xml: nil, location: location, recovered: recovered, error: "libevtx could not render the record as XML: \(describe(&error))")
        }
        var buffer = [UInt8](repeating: 0, count: size)
        guard libevtx_record_get_utf8_xml_string(record, &buffer, size, &error) == 1 else {
            return Record(xml: nil, location: location, recovered: recovered, error: "libevtx could not render the record as XML: \(describe(&error))")
        }
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        return Record(xml: String(decoding: buffer[0..<length], as: UTF8.self), location: location, recovered: recovered, error: nil)
    }

    /// Returns libevtx's error text and frees the error.
    private static func describe(_ error: inout UnsafeMutablePointer<libevtx_error_t>?) -> String {
        guard let current = error else { return "no detail from libevtx" }
        var buffer = [CChar](repeating: 0, count: 512)
        libevtx_error_sprint(current, &buffer, buffer.count)
        libevtx_error_free(&error)
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self).replacingNewlines()
    }
}

extension String {
    func replacingNewlines() -> String {
        String(map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
