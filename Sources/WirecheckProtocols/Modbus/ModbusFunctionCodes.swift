/// Names and operation classes of Modbus codes, from the Modbus Application Protocol
/// Specification V1.1b3. Kept apart from the parser so a reader can check them against the spec.
enum ModbusFunctionCodes {
    struct Function {
        let code: UInt8
        let name: String
        let operationClass: OperationClass
    }

    /// The publicly assigned function codes (spec section 5.1).
    static let functions: [Function] = [
        Function(code: 1, name: "read_coils", operationClass: .read),
        Function(code: 2, name: "read_discrete_inputs", operationClass: .read),
        Function(code: 3, name: "read_holding_registers", operationClass: .read),
        Function(code: 4, name: "read_input_registers", operationClass: .read),
        Function(code: 5, name: "write_single_coil", operationClass: .write),
        Function(code: 6, name: "write_single_register", operationClass: .write),
        Function(code: 7, name: "read_exception_status", operationClass: .read),
        Function(code: 8, name: "diagnostics", operationClass: .diagnostic),
        Function(code: 11, name: "get_comm_event_counter", operationClass: .diagnostic),
        Function(code: 12, name: "get_comm_event_log", operationClass: .diagnostic),
        Function(code: 15, name: "write_multiple_coils", operationClass: .write),
        Function(code: 16, name: "write_multiple_registers", operationClass: .write),
        Function(code: 17, name: "report_server_id", operationClass: .diagnostic),
        Function(code: 20, name: "read_file_record", operationClass: .program),
        Function(code: 21, name: "write_file_record", operationClass: .program),
        Function(code: 22, name: "mask_write_register", operationClass: .write),
        Function(code: 23, name: "read_write_multiple_registers", operationClass: .write),
        Function(code: 24, name: "read_fifo_queue", operationClass: .read),
        Function(code: 43, name: "encapsulated_interface_transport", operationClass: .diagnostic),
    ]

    /// Function entries indexed by code, for a lookup without hashing on the packet path.
    private static let byCode: [Function?] = {
        var table = [Function?](repeating: nil, count: 128)
        for function in functions { table[Int(function.code)] = function }
        return table
    }()

    static func function(_ code: UInt8) -> Function? {
        Int(code) < byCode.count ? byCode[Int(code)] : nil
    }

    /// Codes the spec leaves to vendors (section 5.1: 65-72 and 100-110).
    static func isUserDefined(_ code: UInt8) -> Bool {
        (65...72).contains(code) || (100...110).contains(code)
    }

    /// Returns the name of any code, `unknown_<code>` when it is not public.
    static func name(_ code: UInt8) -> String {
        function(code)?.name ?? "unknown_\(code)"
    }

    /// Diagnostics (function code 8) sub-functions of spec section 6.8.1.
    static let diagnosticSubfunctions: [UInt16: String] = [
        0: "return_query_data",
        1: "restart_communications_option",
        2: "return_diagnostic_register",
        3: "change_ascii_input_delimiter",
        4: "force_listen_only_mode",
        10: "clear_counters_and_diagnostic_register",
        11: "return_bus_message_count",
        12: "return_bus_communication_error_count",
        13: "return_bus_exception_error_count",
        14: "return_server_message_count",
        15: "return_server_no_response_count",
        16: "return_server_nak_count",
        17: "return_server_busy_count",
        18: "return_bus_character_overrun_count",
        20: "clear_overrun_counter_and_flag",
    ]

    static let restartCommunicationsSubfunction: UInt16 = 1
    static let forceListenOnlySubfunction: UInt16 = 4

    /// Exception codes of spec section 7.
    static let exceptionCodes: [UInt8: String] = [
        1: "illegal_function",
        2: "illegal_data_address",
        3: "illegal_data_value",
        4: "server_device_failure",
        5: "acknowledge",
        6: "server_device_busy",
        8: "memory_parity_error",
        10: "gateway_path_unavailable",
        11: "gateway_target_device_failed_to_respond",
    ]

    /// MEI types of function code 43 (spec sections 6.20 and 6.21).
    static let meiTypes: [UInt8: String] = [
        13: "canopen_general_reference",
        14: "read_device_identification",
    ]
    static let meiReadDeviceIdentification: UInt8 = 14

    /// Read Device ID codes of MEI type 14.
    static let deviceIDCodes: [UInt8: String] = [
        1: "basic", 2: "regular", 3: "extended", 4: "specific",
    ]

    /// Object names of MEI type 14; ids 0x80-0xFF are private objects.
    static let deviceObjectNames: [UInt8: String] = [
        0: "vendor_name",
        1: "product_code",
        2: "major_minor_revision",
        3: "vendor_url",
        4: "product_name",
        5: "model_name",
        6: "user_application_name",
    ]
}
