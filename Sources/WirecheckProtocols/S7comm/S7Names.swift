// Code-to-name tables for TPKT/COTP (RFC 1006, ISO 8073) and S7comm. Siemens does not publish
// S7comm, so these names are community conventions rather than vendor terms. Unknown codes keep
// their number.

enum S7Names {
    static func rosctr(_ code: UInt8) -> String? {
        switch code {
        case 0x01: return "job"
        case 0x02: return "ack"
        case 0x03: return "ack_data"
        case 0x07: return "userdata"
        default: return nil
        }
    }

    static func function(_ code: UInt8) -> String? {
        switch code {
        case 0x00: return "cpu_services"
        case 0xF0: return "setup_communication"
        case 0x04: return "read_var"
        case 0x05: return "write_var"
        case 0x1A: return "request_download"
        case 0x1B: return "download_block"
        case 0x1C: return "download_ended"
        case 0x1D: return "start_upload"
        case 0x1E: return "upload"
        case 0x1F: return "end_upload"
        case 0x28: return "pi_service"
        case 0x29: return "plc_stop"
        default: return nil
        }
    }

    static func functionName(_ code: UInt8) -> String {
        function(code) ?? "function_0x" + hex(UInt32(code), digits: 2)
    }

    /// COTP TPDU type from the high nibble of the type byte (the low nibble carries credit).
    static func cotpType(_ code: UInt8) -> String? {
        switch code & 0xF0 {
        case 0xE0: return "CR"
        case 0xD0: return "CC"
        case 0x80: return "DR"
        case 0xC0: return "DC"
        case 0xF0: return "DT"
        case 0x10: return "ED"
        case 0x60: return "AK"
        case 0x20: return "EA"
        case 0x50: return "RJ"
        case 0x70: return "ER"
        default: return nil
        }
    }

    static func area(_ code: UInt8) -> String {
        switch code {
        case 0x03: return "system_info"
        case 0x05: return "system_flags"
        case 0x06: return "analog_inputs"
        case 0x07: return "analog_outputs"
        case 0x1C: return "counters"
        case 0x1D: return "timers"
        case 0x1E: return "iec_counters"
        case 0x1F: return "iec_timers"
        case 0x80: return "peripheral"
        case 0x81: return "inputs"
        case 0x82: return "outputs"
        case 0x83: return "flags"
        case 0x84: return "data_blocks"
        case 0x85: return "instance_data_blocks"
        case 0x86: return "local_data"
        case 0x87: return "previous_local_data"
        default: return "area_0x" + hex(UInt32(code), digits: 2)
        }
    }

    /// Returns the operand letters a STEP 7 programmer writes for an area (`Q`, `M`, `DB5`).
    static func operand(area: UInt8, db: UInt16) -> String {
        switch area {
        case 0x81: return "I"
        case 0x82: return "Q"
        case 0x83: return "M"
        case 0x84: return "DB\(db)"
        case 0x85: return "DI\(db)"
        case 0x1C: return "C"
        case 0x1D: return "T"
        case 0x80: return "P"
        default: return S7Names.area(area)
        }
    }

    static func transportSize(_ code: UInt8) -> String {
        switch code {
        case 0x01: return "bit"
        case 0x02: return "byte"
        case 0x03: return "char"
        case 0x04: return "word"
        case 0x05: return "int"
        case 0x06: return "dword"
        case 0x07: return "dint"
        case 0x08: return "real"
        case 0x09: return "date"
        case 0x0A: return "tod"
        case 0x0B: return "time"
        case 0x0C: return "s5time"
        case 0x0F: return "date_and_time"
        case 0x1C: return "counter"
        case 0x1D: return "timer"
        case 0x1E: return "iec_timer"
        case 0x1F: return "iec_counter"
        default: return "size_0x" + hex(UInt32(code), digits: 2)
        }
    }

    static func returnCode(_ code: UInt8) -> String {
        switch code {
        case 0x00: return "reserved"
        case 0x01: return "hardware_fault"
        case 0x03: return "access_not_allowed"
        case 0x05: return "address_out_of_range"
        case 0x06: return "data_type_not_supported"
        case 0x07: return "data_type_inconsistent"
        case 0x0A: return "object_does_not_exist"
        case 0xFF: return "success"
        default: return "code_0x" + hex(UInt32(code), digits: 2)
        }
    }

    static func errorClass(_ code: UInt8) -> String {
        switch code {
        case 0x00: return "no_error"
        case 0x81: return "application_relationship"
        case 0x82: return "object_definition"
        case 0x83: return "no_resources"
        case 0x84: return "service_processing"
        case 0x85: return "supplies"
        case 0x87: return "access_error"
        default: return "class_0x" + hex(UInt32(code), digits: 2)
        }
    }

    /// Block type from the two characters after `_` in a block file name (`_0A00001P` is DB 1).
    static func blockType(_ code: String) -> String {
        switch code {
        case "08": return "OB"
        case "0A": return "DB"
        case "0B": return "SDB"
        case "0C": return "FC"
        case "0D": return "SFC"
        case "0E": return "FB"
        case "0F": return "SFB"
        default: return "type_" + code
        }
    }

    static func piService(_ name: String) -> String? {
        switch name {
        case "_INSE": return "activate_block"
        case "_DELE": return "delete_block"
        case "P_PROGRAM": return "program_start"
        case "_GARB": return "compress_memory"
        case "_MODU": return "copy_ram_to_rom"
        case "_EXTMODU": return "copy_ram_to_rom_external"
        default: return nil
        }
    }

    static func userdataGroup(_ code: UInt8) -> String {
        switch code {
        case 0x0: return "mode_transition"
        case 0x1: return "programmer_commands"
        case 0x2: return "cyclic_data"
        case 0x3: return "block_functions"
        case 0x4: return "cpu_functions"
        case 0x5: return "security"
        case 0x6: return "bsend_brecv"
        case 0x7: return "time_functions"
        case 0xF: return "nc_programming"
        default: return "group_0x" + hex(UInt32(code), digits: 1)
        }
    }

    static func userdataSubfunction(group: UInt8, _ code: UInt8) -> String {
        let name: String?
        switch group {
        case 0x0:
            switch code {
            case 0x00: name = "stop"
            case 0x01: name = "warm_restart"
            case 0x02: name = "run"
            case 0x03: name = "hot_restart"
            case 0x04: name = "hold"
            case 0x06: name = "cold_restart"
            default: name = nil
            }
        case 0x1:
            switch code {
            case 0x01: name = "request_diag_data"
            case 0x02: name = "variable_table"
            case 0x0C: name = "erase"
            case 0x0E: name = "read_diag_data"
            case 0x0F: name = "remove_diag_data"
            case 0x10: name = "forces"
            default: name = nil
            }
        case 0x2:
            switch code {
            case 0x01: name = "cyclic_read"
            case 0x04: name = "unsubscribe"
            default: name = nil
            }
        case 0x3:
            switch code {
            case 0x01: name = "list_blocks"
            case 0x02: name = "list_blocks_of_type"
            case 0x03: name = "get_block_info"
            default: name = nil
            }
        case 0x4:
            switch code {
            case 0x01: name = "read_szl"
            case 0x02: name = "message_service"
            case 0x03: name = "diagnostic_message"
            case 0x05: name = "alarm8_indication"
            case 0x06: name = "notify_indication"
            case 0x07: name = "alarm8_lock"
            case 0x08: name = "alarm8_unlock"
            case 0x0B: name = "alarm_ack"
            case 0x0C: name = "alarm_ack_indication"
            case 0x11: name = "alarm_sq_indication"
            case 0x12: name = "alarm_s_indication"
            case 0x13: name = "alarm_query"
            case 0x16: name = "notify8_indication"
            default: name = nil
            }
        case 0x5:
            switch code {
            case 0x01: name = "plc_password"
            case 0x02: name = "clear_password"
            default: name = nil
            }
        case 0x7:
            switch code {
            case 0x01: name = "read_clock"
            case 0x02: name = "set_clock"
            case 0x03: name = "read_clock_following"
            case 0x04: name = "set_clock"
            default: name = nil
            }
        default:
            name = nil
        }
        return name ?? "subfunction_0x" + hex(UInt32(code), digits: 2)
    }

    /// S7comm-plus function codes, as listed by the S7CommPlusDriver project (Thomas Wiens).
    static func plusFunction(_ code: UInt16) -> String? {
        switch code {
        case 0x04B1: return "error"
        case 0x04BB: return "explore"
        case 0x04CA: return "create_object"
        case 0x04D4: return "delete_object"
        case 0x04F2: return "set_variable"
        case 0x04FC: return "get_variable"
        case 0x0506: return "add_link"
        case 0x051A: return "remove_link"
        case 0x0524: return "get_link"
        case 0x0542: return "set_multi_variables"
        case 0x054C: return "get_multi_variables"
        case 0x0556: return "begin_sequence"
        case 0x0560: return "end_sequence"
        case 0x056B: return "invoke"
        case 0x057C: return "set_var_sub_streamed"
        case 0x0586: return "get_var_sub_streamed"
        case 0x0590: return "get_variables_address"
        case 0x059A: return "abort"
        case 0x05A9: return "error2"
        case 0x05B3: return "init_ssl"
        default: return nil
        }
    }

    static func plusOpcode(_ code: UInt8) -> String? {
        switch code {
        case 0x31: return "request"
        case 0x32: return "response"
        case 0x33: return "notification"
        case 0x02: return "response2"
        default: return nil
        }
    }

    /// Lowercase hexadecimal with leading zeros, for names of unknown codes.
    static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return text.count >= digits ? text : String(repeating: "0", count: digits - text.count) + text
    }
}
