/// Code-to-name tables for DNP3 (IEEE 1815-2012). Names are lowercase with underscores, as
/// Suricata and Zeek write them, so records from the three tools line up.
enum DNP3Names {
    /// Application-layer function codes, indexed by code for 0x00...0x21.
    static let requestFunctions: [String] = [
        "confirm", "read", "write", "select", "operate", "direct_operate", "direct_operate_nr",
        "immediate_freeze", "immediate_freeze_nr", "freeze_clear", "freeze_clear_nr", "freeze_at_time",
        "freeze_at_time_nr", "cold_restart", "warm_restart", "initialize_data", "initialize_application",
        "start_application", "stop_application", "save_configuration", "enable_unsolicited",
        "disable_unsolicited", "assign_class", "delay_measure", "record_current_time", "open_file",
        "close_file", "delete_file", "get_file_info", "authenticate_file", "abort_file", "activate_config",
        "authenticate_req", "authenticate_req_no_ack",
    ]

    /// The name of an application function code, or nil when IEEE 1815 does not define it.
    static func function(_ code: UInt8) -> String? {
        switch code {
        case 0x81: return "response"
        case 0x82: return "unsolicited_response"
        case 0x83: return "authenticate_resp"
        default:
            return Int(code) < requestFunctions.count ? requestFunctions[Int(code)] : nil
        }
    }

    /// The operation class of a request function code.
    static func operationClass(_ code: UInt8) -> OperationClass {
        switch code {
        case 0x01: return .read
        case 0x02, 0x13, 0x16, 0x18: return .write
        case 0x03...0x06: return .control
        // Freezes copy or clear counters on the outstation, so they act on process data.
        case 0x07...0x0C: return .control
        // Restarts and application start, stop and initialize change what the outstation runs.
        case 0x0D...0x12: return .restart
        case 0x17: return .diagnostic
        case 0x19...0x1F: return .program
        case 0x00, 0x14, 0x15, 0x20, 0x21: return .session
        default: return .other
        }
    }

    /// Object group names, from the IEEE 1815-2012 object library.
    static func group(_ group: UInt8) -> String? {
        switch group {
        case 0: return "Device Attributes"
        case 1: return "Binary Input"
        case 2: return "Binary Input Event"
        case 3: return "Double-bit Binary Input"
        case 4: return "Double-bit Binary Input Event"
        case 10: return "Binary Output"
        case 11: return "Binary Output Event"
        case 12: return "Binary Output CROB"
        case 13: return "Binary Output Command Event"
        case 20: return "Counter"
        case 21: return "Frozen Counter"
        case 22: return "Counter Event"
        case 23: return "Frozen Counter Event"
        case 30: return "Analog Input"
        case 31: return "Frozen Analog Input"
        case 32: return "Analog Input Event"
        case 33: return "Frozen Analog Input Event"
        case 34: return "Analog Input Deadband"
        case 40: return "Analog Output Status"
        case 41: return "Analog Output Block"
        case 42: return "Analog Output Event"
        case 43: return "Analog Output Command Event"
        case 50: return "Time and Date"
        case 51: return "Time and Date CTO"
        case 52: return "Time Delay"
        case 60: return "Class Data"
        case 70: return "File Control"
        case 80: return "Internal Indications"
        case 81: return "Device Storage"
        case 82: return "Device Profile"
        case 83: return "Data Set Registration"
        case 85: return "Data Set Prototype"
        case 86: return "Data Set Descriptor"
        case 87: return "Data Set Present Value"
        case 88: return "Data Set Snapshot"
        case 90: return "Application Identifier"
        case 91: return "Status of Requested Operation"
        case 100: return "Floating Point"
        case 101: return "Binary-Coded Decimal Integer"
        case 102: return "Unsigned Integer"
        case 110: return "Octet String"
        case 111: return "Octet String Event"
        case 112: return "Virtual Terminal Output Block"
        case 113: return "Virtual Terminal Event Data"
        case 120: return "Authentication"
        case 121: return "Security Statistic"
        case 122: return "Security Statistic Event"
        default: return nil
        }
    }

    /// Names of the IIN bits, IIN1 bit 0 first, then IIN2 bit 0 to bit 7.
    static let internalIndications: [String] = [
        "all_stations", "class_1_events", "class_2_events", "class_3_events", "need_time", "local_control",
        "device_trouble", "device_restart",
        "no_func_code_support", "object_unknown", "parameter_error", "event_buffer_overflow", "already_executing",
        "config_corrupt", "reserved_2", "reserved_1",
    ]

    /// CROB operation types (control code bits 0-3).
    static func controlOperation(_ code: UInt8) -> String {
        switch code & 0x0F {
        case 0: return "nul"
        case 1: return "pulse_on"
        case 2: return "pulse_off"
        case 3: return "latch_on"
        case 4: return "latch_off"
        default: return "undefined_\(code & 0x0F)"
        }
    }

    /// CROB trip-close codes (control code bits 6-7).
    static func tripClose(_ code: UInt8) -> String? {
        switch code >> 6 {
        case 1: return "close"
        case 2: return "trip"
        case 3: return "reserved"
        default: return nil
        }
    }

    /// Link-layer function codes for frames from the primary station (PRM = 1) and the secondary.
    static func linkFunction(primary: Bool, code: UInt8) -> String {
        if primary {
            switch code {
            case 0: return "reset_link_states"
            case 2: return "test_link_states"
            case 3: return "confirmed_user_data"
            case 4: return "unconfirmed_user_data"
            case 9: return "request_link_status"
            default: return "undefined_\(code)"
            }
        }
        switch code {
        case 0: return "ack"
        case 1: return "nack"
        case 11: return "link_status"
        case 15: return "not_supported"
        default: return "undefined_\(code)"
        }
    }
}
