/// Code-to-name tables of BACnet (ASHRAE 135 and its Annex J for BACnet/IP). Names follow the
/// standard's ASN.1 identifiers, so an analyst can search the standard for them.
enum BACnetNames {
    static func bvlcFunction(_ code: UInt8) -> String? {
        switch code {
        case 0x00: return "bvlc-result"
        case 0x01: return "write-broadcast-distribution-table"
        case 0x02: return "read-broadcast-distribution-table"
        case 0x03: return "read-broadcast-distribution-table-ack"
        case 0x04: return "forwarded-npdu"
        case 0x05: return "register-foreign-device"
        case 0x06: return "read-foreign-device-table"
        case 0x07: return "read-foreign-device-table-ack"
        case 0x08: return "delete-foreign-device-table-entry"
        case 0x09: return "distribute-broadcast-to-network"
        case 0x0A: return "original-unicast-npdu"
        case 0x0B: return "original-broadcast-npdu"
        case 0x0C: return "secure-bvll"
        default: return nil
        }
    }

    static func bvlcResult(_ code: UInt16) -> String? {
        switch code {
        case 0x0000: return "successful-completion"
        case 0x0010: return "write-broadcast-distribution-table-nak"
        case 0x0020: return "read-broadcast-distribution-table-nak"
        case 0x0030: return "register-foreign-device-nak"
        case 0x0040: return "read-foreign-device-table-nak"
        case 0x0050: return "delete-foreign-device-table-entry-nak"
        case 0x0060: return "distribute-broadcast-to-network-nak"
        default: return nil
        }
    }

    static func networkMessage(_ code: UInt8) -> String? {
        switch code {
        case 0x00: return "who-is-router-to-network"
        case 0x01: return "i-am-router-to-network"
        case 0x02: return "i-could-be-router-to-network"
        case 0x03: return "reject-message-to-network"
        case 0x04: return "router-busy-to-network"
        case 0x05: return "router-available-to-network"
        case 0x06: return "initialize-routing-table"
        case 0x07: return "initialize-routing-table-ack"
        case 0x08: return "establish-connection-to-network"
        case 0x09: return "disconnect-connection-to-network"
        case 0x0A: return "challenge-request"
        case 0x0B: return "security-payload"
        case 0x0C: return "security-response"
        case 0x0D: return "request-key-update"
        case 0x0E: return "update-key-set"
        case 0x0F: return "update-distribution-key"
        case 0x10: return "request-master-key"
        case 0x11: return "set-master-key"
        case 0x12: return "what-is-network-number"
        case 0x13: return "network-number-is"
        default: return code >= 0x80 ? "proprietary" : nil
        }
    }

    static func apduType(_ type: UInt8) -> String? {
        switch type {
        case 0: return "confirmed-request"
        case 1: return "unconfirmed-request"
        case 2: return "simple-ack"
        case 3: return "complex-ack"
        case 4: return "segment-ack"
        case 5: return "error"
        case 6: return "reject"
        case 7: return "abort"
        default: return nil
        }
    }

    /// A service's name as the standard spells it, and the operation it maps to.
    struct Service {
        let name: String
        let operation: String
        let operationClass: OperationClass
    }

    static func confirmedService(_ code: UInt8) -> Service? {
        switch code {
        case 0: return Service(name: "acknowledgeAlarm", operation: "acknowledge_alarm", operationClass: .other)
        case 1: return Service(name: "confirmedCOVNotification", operation: "confirmed_cov_notification", operationClass: .read)
        case 2: return Service(name: "confirmedEventNotification", operation: "confirmed_event_notification", operationClass: .read)
        case 3: return Service(name: "getAlarmSummary", operation: "get_alarm_summary", operationClass: .read)
        case 4: return Service(name: "getEnrollmentSummary", operation: "get_enrollment_summary", operationClass: .read)
        case 5: return Service(name: "subscribeCOV", operation: "subscribe_cov", operationClass: .read)
        case 6: return Service(name: "atomicReadFile", operation: "atomic_read_file", operationClass: .program)
        case 7: return Service(name: "atomicWriteFile", operation: "atomic_write_file", operationClass: .program)
        case 8: return Service(name: "addListElement", operation: "add_list_element", operationClass: .write)
        case 9: return Service(name: "removeListElement", operation: "remove_list_element", operationClass: .write)
        case 10: return Service(name: "createObject", operation: "create_object", operationClass: .write)
        case 11: return Service(name: "deleteObject", operation: "delete_object", operationClass: .write)
        case 12: return Service(name: "readProperty", operation: "read_property", operationClass: .read)
        case 13: return Service(name: "readPropertyConditional", operation: "read_property_conditional", operationClass: .read)
        case 14: return Service(name: "readPropertyMultiple", operation: "read_property_multiple", operationClass: .read)
        case 15: return Service(name: "writeProperty", operation: "write_property", operationClass: .write)
        case 16: return Service(name: "writePropertyMultiple", operation: "write_property_multiple", operationClass: .write)
        case 17: return Service(name: "deviceCommunicationControl", operation: "device_communication_control", operationClass: .control)
        case 18: return Service(name: "confirmedPrivateTransfer", operation: "confirmed_private_transfer", operationClass: .other)
        case 19: return Service(name: "confirmedTextMessage", operation: "confirmed_text_message", operationClass: .other)
        case 20: return Service(name: "reinitializeDevice", operation: "reinitialize_device", operationClass: .restart)
        case 21: return Service(name: "vtOpen", operation: "vt_open", operationClass: .session)
        case 22: return Service(name: "vtClose", operation: "vt_close", operationClass: .session)
        case 23: return Service(name: "vtData", operation: "vt_data", operationClass: .other)
        case 24: return Service(name: "authenticate", operation: "authenticate", operationClass: .session)
        case 25: return Service(name: "requestKey", operation: "request_key", operationClass: .session)
        case 26: return Service(name: "readRange", operation: "read_range", operationClass: .read)
        case 27: return Service(name: "lifeSafetyOperation", operation: "life_safety_operation", operationClass: .control)
        case 28: return Service(name: "subscribeCOVProperty", operation: "subscribe_cov_property", operationClass: .read)
        case 29: return Service(name: "getEventInformation", operation: "get_event_information", operationClass: .read)
        case 30: return Service(name: "subscribeCOVPropertyMultiple", operation: "subscribe_cov_property_multiple", operationClass: .read)
        case 31: return Service(name: "confirmedCOVNotificationMultiple", operation: "confirmed_cov_notification_multiple", operationClass: .read)
        case 32: return Service(name: "confirmedAuditNotification", operation: "confirmed_audit_notification", operationClass: .other)
        case 33: return Service(name: "auditLogQuery", operation: "audit_log_query", operationClass: .read)
        default: return nil
        }
    }

    static func unconfirmedService(_ code: UInt8) -> Service? {
        switch code {
        case 0: return Service(name: "i-Am", operation: "i_am", operationClass: .session)
        case 1: return Service(name: "i-Have", operation: "i_have", operationClass: .session)
        case 2: return Service(name: "unconfirmedCOVNotification", operation: "unconfirmed_cov_notification", operationClass: .read)
        case 3: return Service(name: "unconfirmedEventNotification", operation: "unconfirmed_event_notification", operationClass: .read)
        case 4: return Service(name: "unconfirmedPrivateTransfer", operation: "unconfirmed_private_transfer", operationClass: .other)
        case 5: return Service(name: "unconfirmedTextMessage", operation: "unconfirmed_text_message", operationClass: .other)
        case 6: return Service(name: "timeSynchronization", operation: "time_synchronization", operationClass: .control)
        case 7: return Service(name: "who-Has", operation: "who_has", operationClass: .session)
        case 8: return Service(name: "who-Is", operation: "who_is", operationClass: .session)
        case 9: return Service(name: "utcTimeSynchronization", operation: "utc_time_synchronization", operationClass: .control)
        case 10: return Service(name: "writeGroup", operation: "write_group", operationClass: .write)
        case 11: return Service(name: "unconfirmedCOVNotificationMultiple", operation: "unconfirmed_cov_notification_multiple", operationClass: .read)
        case 12: return Service(name: "unconfirmedAuditNotification", operation: "unconfirmed_audit_notification", operationClass: .other)
        case 13: return Service(name: "who-Am-I", operation: "who_am_i", operationClass: .session)
        case 14: return Service(name: "you-Are", operation: "you_are", operationClass: .session)
        default: return nil
        }
    }

    static func objectType(_ code: UInt32) -> String? {
        let names = [
            "analog-input", "analog-output", "analog-value", "binary-input", "binary-output", "binary-value",
            "calendar", "command", "device", "event-enrollment", "file", "group", "loop", "multi-state-input",
            "multi-state-output", "notification-class", "program", "schedule", "averaging", "multi-state-value",
            "trend-log", "life-safety-point", "life-safety-zone", "accumulator", "pulse-converter", "event-log",
            "global-group", "trend-log-multiple", "load-control", "structured-view", "access-door", "timer",
            "access-credential", "access-point", "access-rights", "access-user", "access-zone",
            "credential-data-input", "network-security", "bitstring-value", "characterstring-value",
            "date-pattern-value", "date-value", "datetime-pattern-value", "datetime-value", "integer-value",
            "large-analog-value", "octetstring-value", "positive-integer-value", "time-pattern-value",
            "time-value", "notification-forwarder", "alert-enrollment", "channel", "lighting-output",
            "binary-lighting-output", "network-port", "elevator-group", "escalator", "lift",
        ]
        return code < UInt32(names.count) ? names[Int(code)] : nil
    }

    static func propertyIdentifier(_ code: UInt32) -> String? {
        switch code {
        case 0: return "acked-transitions"
        case 1: return "ack-required"
        case 2: return "action"
        case 3: return "action-text"
        case 4: return "active-text"
        case 5: return "active-vt-sessions"
        case 6: return "alarm-value"
        case 7: return "alarm-values"
        case 8: return "all"
        case 9: return "all-writes-successful"
        case 10: return "apdu-segment-timeout"
        case 11: return "apdu-timeout"
        case 12: return "application-software-version"
        case 13: return "archive"
        case 14: return "bias"
        case 15: return "change-of-state-count"
        case 16: return "change-of-state-time"
        case 17: return "notification-class"
        case 19: return "controlled-variable-reference"
        case 20: return "controlled-variable-units"
        case 21: return "controlled-variable-value"
        case 22: return "cov-increment"
        case 23: return "date-list"
        case 24: return "daylight-savings-status"
        case 25: return "deadband"
        case 26: return "derivative-constant"
        case 27: return "derivative-constant-units"
        case 28: return "description"
        case 29: return "description-of-halt"
        case 30: return "device-address-binding"
        case 31: return "device-type"
        case 32: return "effective-period"
        case 33: return "elapsed-active-time"
        case 34: return "error-limit"
        case 35: return "event-enable"
        case 36: return "event-state"
        case 37: return "event-type"
        case 38: return "exception-schedule"
        case 39: return "fault-values"
        case 40: return "feedback-value"
        case 41: return "file-access-method"
        case 42: return "file-size"
        case 43: return "file-type"
        case 44: return "firmware-revision"
        case 45: return "high-limit"
        case 46: return "inactive-text"
        case 47: return "in-process"
        case 48: return "instance-of"
        case 49: return "integral-constant"
        case 50: return "integral-constant-units"
        case 52: return "limit-enable"
        case 53: return "list-of-group-members"
        case 54: return "list-of-object-property-references"
        case 56: return "local-date"
        case 57: return "local-time"
        case 58: return "location"
        case 59: return "low-limit"
        case 60: return "manipulated-variable-reference"
        case 61: return "maximum-output"
        case 62: return "max-apdu-length-accepted"
        case 63: return "max-info-frames"
        case 64: return "max-master"
        case 65: return "max-pres-value"
        case 66: return "minimum-off-time"
        case 67: return "minimum-on-time"
        case 68: return "minimum-output"
        case 69: return "min-pres-value"
        case 70: return "model-name"
        case 71: return "modification-date"
        case 72: return "notify-type"
        case 73: return "number-of-apdu-retries"
        case 74: return "number-of-states"
        case 75: return "object-identifier"
        case 76: return "object-list"
        case 77: return "object-name"
        case 78: return "object-property-reference"
        case 79: return "object-type"
        case 80: return "optional"
        case 81: return "out-of-service"
        case 82: return "output-units"
        case 83: return "event-parameters"
        case 84: return "polarity"
        case 85: return "present-value"
        case 86: return "priority"
        case 87: return "priority-array"
        case 88: return "priority-for-writing"
        case 89: return "process-identifier"
        case 90: return "program-change"
        case 91: return "program-location"
        case 92: return "program-state"
        case 93: return "proportional-constant"
        case 94: return "proportional-constant-units"
        case 96: return "protocol-object-types-supported"
        case 97: return "protocol-services-supported"
        case 98: return "protocol-version"
        case 99: return "read-only"
        case 100: return "reason-for-halt"
        case 102: return "recipient-list"
        case 103: return "reliability"
        case 104: return "relinquish-default"
        case 105: return "required"
        case 106: return "resolution"
        case 107: return "segmentation-supported"
        case 108: return "setpoint"
        case 109: return "setpoint-reference"
        case 110: return "state-text"
        case 111: return "status-flags"
        case 112: return "system-status"
        case 113: return "time-delay"
        case 114: return "time-of-active-time-reset"
        case 115: return "time-of-state-count-reset"
        case 116: return "time-synchronization-recipients"
        case 117: return "units"
        case 118: return "update-interval"
        case 119: return "utc-offset"
        case 120: return "vendor-identifier"
        case 121: return "vendor-name"
        case 122: return "vt-classes-supported"
        case 123: return "weekly-schedule"
        case 139: return "protocol-revision"
        case 155: return "database-revision"
        case 371: return "property-list"
        default: return nil
        }
    }

    static func reinitializedState(_ code: UInt32) -> String? {
        switch code {
        case 0: return "coldstart"
        case 1: return "warmstart"
        case 2: return "startbackup"
        case 3: return "endbackup"
        case 4: return "startrestore"
        case 5: return "endrestore"
        case 6: return "abortrestore"
        case 7: return "activate-changes"
        default: return nil
        }
    }

    static func enableDisable(_ code: UInt32) -> String? {
        switch code {
        case 0: return "enable"
        case 1: return "disable"
        case 2: return "disable-initiation"
        default: return nil
        }
    }

    static func errorClass(_ code: UInt32) -> String? {
        let names = ["device", "object", "property", "resources", "security", "services", "vt", "communication"]
        return code < UInt32(names.count) ? names[Int(code)] : nil
    }

    static func errorCode(_ code: UInt32) -> String? {
        // Code 33 was removed from the standard, so the table leaves a hole there.
        let names: [String?] = [
            "other", "authentication-failed", "configuration-in-progress", "device-busy",
            "dynamic-creation-not-supported", "file-access-denied", "incompatible-security-levels",
            "inconsistent-parameters", "inconsistent-selection-criterion", "invalid-data-type",
            "invalid-file-access-method", "invalid-file-start-position", "invalid-operator-name",
            "invalid-parameter-data-type", "invalid-time-stamp", "key-generation-error",
            "missing-required-parameter", "no-objects-of-specified-type", "no-space-for-object",
            "no-space-to-add-list-element", "no-space-to-write-property", "no-vt-sessions-available",
            "property-is-not-a-list", "object-deletion-not-permitted", "object-identifier-already-exists",
            "operational-problem", "password-failure", "read-access-denied", "security-not-supported",
            "service-request-denied", "timeout", "unknown-object", "unknown-property", nil,
            "unknown-vt-class", "unknown-vt-session", "unsupported-object-type", "value-out-of-range",
            "vt-session-already-closed", "vt-session-termination-failure", "write-access-denied",
            "character-set-not-supported", "invalid-array-index",
        ]
        return code < UInt32(names.count) ? names[Int(code)] : nil
    }

    static func rejectReason(_ code: UInt8) -> String? {
        let names = [
            "other", "buffer-overflow", "inconsistent-parameters", "invalid-parameter-data-type", "invalid-tag",
            "missing-required-parameter", "parameter-out-of-range", "too-many-arguments", "undefined-enumeration",
            "unrecognized-service",
        ]
        return Int(code) < names.count ? names[Int(code)] : nil
    }

    static func abortReason(_ code: UInt8) -> String? {
        let names = [
            "other", "buffer-overflow", "invalid-apdu-in-this-state", "preempted-by-higher-priority-task",
            "segmentation-not-supported", "security-error", "insufficient-security", "window-size-out-of-range",
            "application-exceeded-reply-time", "out-of-resources", "tsm-timeout", "apdu-too-long",
        ]
        return Int(code) < names.count ? names[Int(code)] : nil
    }
}
