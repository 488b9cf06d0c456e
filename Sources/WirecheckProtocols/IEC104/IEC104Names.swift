/// Code-to-name tables for IEC 60870-5-101/104: type identifications, causes of transmission
/// and U-frame functions, with the element size of each type.
enum IEC104Names {
    /// A type identification: its name and the octets of one information element (the
    /// information object address excluded). `elementSize` is nil for F_SG_NA_1, whose segment
    /// length is carried in the element.
    struct TypeInfo {
        let name: String
        let elementSize: Int?
    }

    static func type(_ id: UInt8) -> TypeInfo? {
        switch id {
        case 1: return TypeInfo(name: "M_SP_NA_1", elementSize: 1)
        case 2: return TypeInfo(name: "M_SP_TA_1", elementSize: 4)
        case 3: return TypeInfo(name: "M_DP_NA_1", elementSize: 1)
        case 4: return TypeInfo(name: "M_DP_TA_1", elementSize: 4)
        case 5: return TypeInfo(name: "M_ST_NA_1", elementSize: 2)
        case 6: return TypeInfo(name: "M_ST_TA_1", elementSize: 5)
        case 7: return TypeInfo(name: "M_BO_NA_1", elementSize: 5)
        case 8: return TypeInfo(name: "M_BO_TA_1", elementSize: 8)
        case 9: return TypeInfo(name: "M_ME_NA_1", elementSize: 3)
        case 10: return TypeInfo(name: "M_ME_TA_1", elementSize: 6)
        case 11: return TypeInfo(name: "M_ME_NB_1", elementSize: 3)
        case 12: return TypeInfo(name: "M_ME_TB_1", elementSize: 6)
        case 13: return TypeInfo(name: "M_ME_NC_1", elementSize: 5)
        case 14: return TypeInfo(name: "M_ME_TC_1", elementSize: 8)
        case 15: return TypeInfo(name: "M_IT_NA_1", elementSize: 5)
        case 16: return TypeInfo(name: "M_IT_TA_1", elementSize: 8)
        case 17: return TypeInfo(name: "M_EP_TA_1", elementSize: 6)
        case 18: return TypeInfo(name: "M_EP_TB_1", elementSize: 7)
        case 19: return TypeInfo(name: "M_EP_TC_1", elementSize: 7)
        case 20: return TypeInfo(name: "M_PS_NA_1", elementSize: 5)
        case 21: return TypeInfo(name: "M_ME_ND_1", elementSize: 2)
        case 30: return TypeInfo(name: "M_SP_TB_1", elementSize: 8)
        case 31: return TypeInfo(name: "M_DP_TB_1", elementSize: 8)
        case 32: return TypeInfo(name: "M_ST_TB_1", elementSize: 9)
        case 33: return TypeInfo(name: "M_BO_TB_1", elementSize: 12)
        case 34: return TypeInfo(name: "M_ME_TD_1", elementSize: 10)
        case 35: return TypeInfo(name: "M_ME_TE_1", elementSize: 10)
        case 36: return TypeInfo(name: "M_ME_TF_1", elementSize: 12)
        case 37: return TypeInfo(name: "M_IT_TB_1", elementSize: 12)
        case 38: return TypeInfo(name: "M_EP_TD_1", elementSize: 10)
        case 39: return TypeInfo(name: "M_EP_TE_1", elementSize: 11)
        case 40: return TypeInfo(name: "M_EP_TF_1", elementSize: 11)
        case 45: return TypeInfo(name: "C_SC_NA_1", elementSize: 1)
        case 46: return TypeInfo(name: "C_DC_NA_1", elementSize: 1)
        case 47: return TypeInfo(name: "C_RC_NA_1", elementSize: 1)
        case 48: return TypeInfo(name: "C_SE_NA_1", elementSize: 3)
        case 49: return TypeInfo(name: "C_SE_NB_1", elementSize: 3)
        case 50: return TypeInfo(name: "C_SE_NC_1", elementSize: 5)
        case 51: return TypeInfo(name: "C_BO_NA_1", elementSize: 5)
        case 58: return TypeInfo(name: "C_SC_TA_1", elementSize: 8)
        case 59: return TypeInfo(name: "C_DC_TA_1", elementSize: 8)
        case 60: return TypeInfo(name: "C_RC_TA_1", elementSize: 8)
        case 61: return TypeInfo(name: "C_SE_TA_1", elementSize: 10)
        case 62: return TypeInfo(name: "C_SE_TB_1", elementSize: 10)
        case 63: return TypeInfo(name: "C_SE_TC_1", elementSize: 12)
        case 64: return TypeInfo(name: "C_BO_TA_1", elementSize: 12)
        case 70: return TypeInfo(name: "M_EI_NA_1", elementSize: 1)
        case 100: return TypeInfo(name: "C_IC_NA_1", elementSize: 1)
        case 101: return TypeInfo(name: "C_CI_NA_1", elementSize: 1)
        case 102: return TypeInfo(name: "C_RD_NA_1", elementSize: 0)
        case 103: return TypeInfo(name: "C_CS_NA_1", elementSize: 7)
        case 104: return TypeInfo(name: "C_TS_NA_1", elementSize: 2)
        case 105: return TypeInfo(name: "C_RP_NA_1", elementSize: 1)
        case 106: return TypeInfo(name: "C_CD_NA_1", elementSize: 2)
        case 107: return TypeInfo(name: "C_TS_TA_1", elementSize: 9)
        case 110: return TypeInfo(name: "P_ME_NA_1", elementSize: 3)
        case 111: return TypeInfo(name: "P_ME_NB_1", elementSize: 3)
        case 112: return TypeInfo(name: "P_ME_NC_1", elementSize: 5)
        case 113: return TypeInfo(name: "P_AC_NA_1", elementSize: 1)
        case 120: return TypeInfo(name: "F_FR_NA_1", elementSize: 6)
        case 121: return TypeInfo(name: "F_SR_NA_1", elementSize: 7)
        case 122: return TypeInfo(name: "F_SC_NA_1", elementSize: 4)
        case 123: return TypeInfo(name: "F_LS_NA_1", elementSize: 5)
        case 124: return TypeInfo(name: "F_AF_NA_1", elementSize: 4)
        case 125: return TypeInfo(name: "F_SG_NA_1", elementSize: nil)
        case 126: return TypeInfo(name: "F_DR_TA_1", elementSize: 13)
        case 127: return TypeInfo(name: "F_SC_NB_1", elementSize: 16)
        default: return nil
        }
    }

    /// Cause of transmission names (6-bit cause). Causes 48-63 are the standard's range for
    /// special use, so they are named but not reported as undefined.
    static func cause(_ cause: UInt8) -> String? {
        switch cause {
        case 1: return "per_cyc"
        case 2: return "back"
        case 3: return "spont"
        case 4: return "init"
        case 5: return "req"
        case 6: return "act"
        case 7: return "actcon"
        case 8: return "deact"
        case 9: return "deactcon"
        case 10: return "actterm"
        case 11: return "retrem"
        case 12: return "retloc"
        case 13: return "file"
        case 20: return "inrogen"
        case 21...36: return "inro\(cause - 20)"
        case 37: return "reqcogen"
        case 38...41: return "reqco\(cause - 37)"
        case 44: return "unknown_type_id"
        case 45: return "unknown_cause"
        case 46: return "unknown_common_address"
        case 47: return "unknown_ioa"
        case 48...63: return "special_use_\(cause)"
        default: return nil
        }
    }

    /// U-frame functions: the first control octet with exactly one function bit set.
    static func uFunction(_ control: UInt8) -> String? {
        switch control {
        case 0x07: return "startdt_act"
        case 0x0B: return "startdt_con"
        case 0x13: return "stopdt_act"
        case 0x23: return "stopdt_con"
        case 0x43: return "testfr_act"
        case 0x83: return "testfr_con"
        default: return nil
        }
    }

    /// Returns the operation class of a control-direction type id, or nil for monitor-direction types.
    static func operationClass(_ typeID: UInt8) -> OperationClass? {
        switch typeID {
        case 45...51, 58...64: return .control
        case 100, 101, 102: return .read
        case 103: return .write
        case 104, 106, 107: return .diagnostic
        case 105: return .restart
        case 110...113: return .write
        case 120...127: return .program
        default: return nil
        }
    }
}
