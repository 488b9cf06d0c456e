// Code-to-name tables for EtherNet/IP encapsulation and CIP (ODVA CIP Volume 1 and Volume 2).
// Names are lowercase with underscores so they read the same in EVE records and messages.

enum ENIPNames {
    static func command(_ code: UInt16) -> String? {
        switch code {
        case 0x0000: return "nop"
        case 0x0004: return "list_services"
        case 0x0063: return "list_identity"
        case 0x0064: return "list_interfaces"
        case 0x0065: return "register_session"
        case 0x0066: return "unregister_session"
        case 0x006F: return "send_rr_data"
        case 0x0070: return "send_unit_data"
        case 0x0072: return "indicate_status"
        case 0x0073: return "cancel"
        default: return nil
        }
    }

    static func commandName(_ code: UInt16) -> String {
        command(code) ?? "unknown_0x" + hex(UInt32(code), digits: 4)
    }

    static func cpfItem(_ type: UInt16) -> String {
        switch type {
        case 0x0000: return "null_address"
        case 0x000C: return "list_identity"
        case 0x0086: return "cip_security"
        case 0x00A1: return "connected_address"
        case 0x00B1: return "connected_data"
        case 0x00B2: return "unconnected_data"
        case 0x0100: return "list_services"
        case 0x8000: return "sockaddr_info_o_t"
        case 0x8001: return "sockaddr_info_t_o"
        case 0x8002: return "sequenced_address"
        default: return "unknown_0x" + hex(UInt32(type), digits: 4)
        }
    }

    /// Encapsulation status codes (CIP Volume 2, table 2-3.3).
    static func encapsulationStatus(_ code: UInt32) -> String {
        switch code {
        case 0x0000: return "success"
        case 0x0001: return "invalid_command"
        case 0x0002: return "insufficient_memory"
        case 0x0003: return "incorrect_data"
        case 0x0064: return "invalid_session_handle"
        case 0x0065: return "invalid_length"
        case 0x0069: return "unsupported_protocol_revision"
        default: return "unknown_0x" + hex(code, digits: 4)
        }
    }
}

enum CIPNames {
    /// Common services, defined for every object class (CIP Volume 1, appendix A).
    static func commonService(_ code: UInt8) -> String? {
        switch code {
        case 0x01: return "get_attributes_all"
        case 0x02: return "set_attributes_all"
        case 0x03: return "get_attribute_list"
        case 0x04: return "set_attribute_list"
        case 0x05: return "reset"
        case 0x06: return "start"
        case 0x07: return "stop"
        case 0x08: return "create"
        case 0x09: return "delete"
        case 0x0A: return "multiple_service_packet"
        case 0x0D: return "apply_attributes"
        case 0x0E: return "get_attribute_single"
        case 0x10: return "set_attribute_single"
        case 0x11: return "find_next_object_instance"
        case 0x14: return "error_response"
        case 0x15: return "restore"
        case 0x16: return "save"
        case 0x17: return "nop"
        case 0x18: return "get_member"
        case 0x19: return "set_member"
        case 0x1A: return "insert_member"
        case 0x1B: return "remove_member"
        case 0x1C: return "group_sync"
        default: return nil
        }
    }

    /// Connection Manager (class 0x06) object-specific services.
    static func connectionManagerService(_ code: UInt8) -> String? {
        switch code {
        case 0x4E: return "forward_close"
        case 0x52: return "unconnected_send"
        case 0x54: return "forward_open"
        case 0x56: return "get_connection_data"
        case 0x57: return "search_connection_data"
        case 0x5A: return "get_connection_owner"
        case 0x5B: return "large_forward_open"
        default: return nil
        }
    }

    /// File object (class 0x37) object-specific services.
    static func fileService(_ code: UInt8) -> String? {
        switch code {
        case 0x4B: return "initiate_upload"
        case 0x4C: return "initiate_download"
        case 0x4D: return "initiate_partial_read"
        case 0x4E: return "initiate_partial_write"
        case 0x4F: return "upload_transfer"
        case 0x50: return "download_transfer"
        case 0x51: return "clear_file"
        default: return nil
        }
    }

    /// Logix tag services (Rockwell Logix 5000 Data Access manual), used with symbolic paths or
    /// the symbol (0x6B) and template (0x6C) classes.
    static func tagService(_ code: UInt8) -> String? {
        switch code {
        case 0x4C: return "read_tag"
        case 0x4D: return "write_tag"
        case 0x4E: return "read_modify_write"
        case 0x52: return "read_tag_fragmented"
        case 0x53: return "write_tag_fragmented"
        case 0x55: return "get_instance_attribute_list"
        default: return nil
        }
    }

    /// Returns the service name for a request code (response bit cleared) aimed at `classID`.
    /// Object-specific codes depend on the class, and a request with a symbolic path has no class.
    static func service(_ code: UInt8, classID: UInt32?) -> String? {
        if let name = commonService(code) { return name }
        switch classID {
        case 0x06?: return connectionManagerService(code)
        case 0x37?: return fileService(code)
        case nil, 0x6B?, 0x6C?: return tagService(code)
        default: return nil
        }
    }

    /// True for codes the CIP specification reserves (neither a defined common service nor in the
    /// object-specific range 0x4B-0x63), which a conforming device never sends.
    static func isReservedService(_ code: UInt8) -> Bool {
        if commonService(code) != nil { return false }
        return !(0x4B...0x63).contains(code)
    }

    static func serviceName(_ code: UInt8, classID: UInt32?) -> String {
        service(code, classID: classID) ?? "service_0x" + hex(UInt32(code), digits: 2)
    }

    static func objectClass(_ id: UInt32) -> String? {
        switch id {
        case 0x01: return "identity"
        case 0x02: return "message_router"
        case 0x03: return "devicenet"
        case 0x04: return "assembly"
        case 0x05: return "connection"
        case 0x06: return "connection_manager"
        case 0x07: return "register"
        case 0x08: return "discrete_input_point"
        case 0x09: return "discrete_output_point"
        case 0x0A: return "analog_input_point"
        case 0x0B: return "analog_output_point"
        case 0x0E: return "presence_sensing"
        case 0x0F: return "parameter"
        case 0x10: return "parameter_group"
        case 0x12: return "group"
        case 0x29: return "control_supervisor"
        case 0x2A: return "ac_dc_drive"
        case 0x2C: return "overload"
        case 0x37: return "file"
        case 0x39: return "safety_supervisor"
        case 0x3A: return "safety_validator"
        case 0x43: return "time_sync"
        case 0x47: return "device_level_ring"
        case 0x48: return "qos"
        case 0x4D: return "port_power"
        case 0x6B: return "logix_symbol"
        case 0x6C: return "logix_template"
        case 0xF0: return "controlnet"
        case 0xF4: return "port"
        case 0xF5: return "tcp_ip_interface"
        case 0xF6: return "ethernet_link"
        default: return nil
        }
    }

    /// Vendor-specific class range (CIP Volume 1): program, task and other controller objects
    /// live here on Logix controllers, but their numbers are not published, so they stay unnamed.
    static let vendorClasses: ClosedRange<UInt32> = 0x64...0xC7

    static func objectClassName(_ id: UInt32) -> String {
        if let name = objectClass(id) { return name }
        if vendorClasses.contains(id) { return "vendor_0x" + hex(id, digits: 2) }
        return "class_0x" + hex(id, digits: 2)
    }

    /// General status codes (CIP Volume 1, appendix B).
    static func generalStatus(_ code: UInt8) -> String {
        switch code {
        case 0x00: return "success"
        case 0x01: return "connection_failure"
        case 0x02: return "resource_unavailable"
        case 0x03: return "invalid_parameter_value"
        case 0x04: return "path_segment_error"
        case 0x05: return "path_destination_unknown"
        case 0x06: return "partial_transfer"
        case 0x07: return "connection_lost"
        case 0x08: return "service_not_supported"
        case 0x09: return "invalid_attribute_value"
        case 0x0A: return "attribute_list_error"
        case 0x0B: return "already_in_requested_mode"
        case 0x0C: return "object_state_conflict"
        case 0x0D: return "object_already_exists"
        case 0x0E: return "attribute_not_settable"
        case 0x0F: return "privilege_violation"
        case 0x10: return "device_state_conflict"
        case 0x11: return "reply_data_too_large"
        case 0x12: return "fragmentation_of_a_primitive_value"
        case 0x13: return "not_enough_data"
        case 0x14: return "attribute_not_supported"
        case 0x15: return "too_much_data"
        case 0x16: return "object_does_not_exist"
        case 0x17: return "service_fragmentation_sequence_not_in_progress"
        case 0x18: return "no_stored_attribute_data"
        case 0x19: return "store_operation_failure"
        case 0x1A: return "routing_failure_request_too_large"
        case 0x1B: return "routing_failure_response_too_large"
        case 0x1C: return "missing_attribute_list_entry_data"
        case 0x1D: return "invalid_attribute_value_list"
        case 0x1E: return "embedded_service_error"
        case 0x1F: return "vendor_specific_error"
        case 0x20: return "invalid_parameter"
        case 0x21: return "write_once_value_or_medium_already_written"
        case 0x22: return "invalid_reply_received"
        case 0x25: return "key_failure_in_path"
        case 0x26: return "path_size_invalid"
        case 0x27: return "unexpected_attribute_in_list"
        case 0x28: return "invalid_member_id"
        case 0x29: return "member_not_settable"
        default: return "status_0x" + hex(UInt32(code), digits: 2)
        }
    }

    static func hex(_ value: UInt32, digits: Int) -> String { ENIPNames.hex(value, digits: digits) }
}

extension ENIPNames {
    /// Lowercase hexadecimal with leading zeros, for names of unknown codes.
    static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return text.count >= digits ? text : String(repeating: "0", count: digits - text.count) + text
    }
}
