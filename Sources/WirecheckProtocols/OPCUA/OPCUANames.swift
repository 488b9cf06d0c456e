/// Code-to-name tables of OPC UA (IEC 62541 parts 4 and 6). Service names and type ids are the
/// `*_Encoding_DefaultBinary` entries of the OPC Foundation's NodeIds.csv; status names are
/// from its StatusCodes.csv.
enum OPCUANames {
    /// A service request or response, as named by its binary encoding's NodeId.
    struct Service {
        let name: String
        /// Operation name for requests, nil for responses.
        let operation: String?
        let operationClass: OperationClass
        var isRequest: Bool { operation != nil }
    }

    static let openSecureChannelRequest: UInt32 = 446
    static let openSecureChannelResponse: UInt32 = 449
    static let closeSecureChannelRequest: UInt32 = 452
    static let serviceFault: UInt32 = 397
    static let writeRequest: UInt32 = 673
    static let callRequest: UInt32 = 712
    static let addNodesRequest: UInt32 = 488
    static let deleteNodesRequest: UInt32 = 500

    /// Requests by type id; each response's id is its request's id + 3.
    private static func request(_ typeID: UInt32) -> (name: String, operation: String, operationClass: OperationClass)? {
        switch typeID {
        case 422: return ("FindServersRequest", "find_servers", .session)
        case 428: return ("GetEndpointsRequest", "get_endpoints", .session)
        case 437: return ("RegisterServerRequest", "register_server", .session)
        case 446: return ("OpenSecureChannelRequest", "open_secure_channel", .session)
        case 452: return ("CloseSecureChannelRequest", "close_secure_channel", .session)
        case 461: return ("CreateSessionRequest", "create_session", .session)
        case 467: return ("ActivateSessionRequest", "activate_session", .session)
        case 473: return ("CloseSessionRequest", "close_session", .session)
        case 479: return ("CancelRequest", "cancel", .session)
        case 488: return ("AddNodesRequest", "add_nodes", .write)
        case 494: return ("AddReferencesRequest", "add_references", .write)
        case 500: return ("DeleteNodesRequest", "delete_nodes", .write)
        case 506: return ("DeleteReferencesRequest", "delete_references", .write)
        case 527: return ("BrowseRequest", "browse", .read)
        case 533: return ("BrowseNextRequest", "browse_next", .read)
        case 554: return ("TranslateBrowsePathsToNodeIdsRequest", "translate_browse_paths_to_node_ids", .read)
        case 560: return ("RegisterNodesRequest", "register_nodes", .read)
        case 566: return ("UnregisterNodesRequest", "unregister_nodes", .read)
        case 615: return ("QueryFirstRequest", "query_first", .read)
        case 621: return ("QueryNextRequest", "query_next", .read)
        case 631: return ("ReadRequest", "read", .read)
        case 664: return ("HistoryReadRequest", "history_read", .read)
        case 673: return ("WriteRequest", "write", .write)
        case 700: return ("HistoryUpdateRequest", "history_update", .write)
        case 712: return ("CallRequest", "call", .control)
        case 751: return ("CreateMonitoredItemsRequest", "create_monitored_items", .read)
        case 763: return ("ModifyMonitoredItemsRequest", "modify_monitored_items", .read)
        case 769: return ("SetMonitoringModeRequest", "set_monitoring_mode", .read)
        case 775: return ("SetTriggeringRequest", "set_triggering", .read)
        case 781: return ("DeleteMonitoredItemsRequest", "delete_monitored_items", .read)
        case 787: return ("CreateSubscriptionRequest", "create_subscription", .read)
        case 793: return ("ModifySubscriptionRequest", "modify_subscription", .read)
        case 799: return ("SetPublishingModeRequest", "set_publishing_mode", .read)
        case 826: return ("PublishRequest", "publish", .read)
        case 832: return ("RepublishRequest", "republish", .read)
        case 841: return ("TransferSubscriptionsRequest", "transfer_subscriptions", .read)
        case 847: return ("DeleteSubscriptionsRequest", "delete_subscriptions", .read)
        default: return nil
        }
    }

    static func service(_ typeID: UInt32) -> Service? {
        if let request = request(typeID) {
            return Service(name: request.name, operation: request.operation, operationClass: request.operationClass)
        }
        if typeID == serviceFault {
            return Service(name: "ServiceFault", operation: nil, operationClass: .other)
        }
        if typeID >= 3, let request = request(typeID - 3) {
            let name = String(request.name.dropLast("Request".count)) + "Response"
            return Service(name: name, operation: nil, operationClass: request.operationClass)
        }
        return nil
    }

    static func securityMode(_ mode: UInt32) -> String {
        switch mode {
        case 1: return "None"
        case 2: return "Sign"
        case 3: return "SignAndEncrypt"
        default: return "Invalid (\(mode))"
        }
    }

    static func requestType(_ type: UInt32) -> String {
        switch type {
        case 0: return "Issue"
        case 1: return "Renew"
        default: return "Invalid (\(type))"
        }
    }

    static func statusCode(_ code: UInt32) -> String? {
        switch code {
        case 0x0000_0000: return "Good"
        case 0x8001_0000: return "BadUnexpectedError"
        case 0x8002_0000: return "BadInternalError"
        case 0x8003_0000: return "BadOutOfMemory"
        case 0x8004_0000: return "BadResourceUnavailable"
        case 0x8005_0000: return "BadCommunicationError"
        case 0x8006_0000: return "BadEncodingError"
        case 0x8007_0000: return "BadDecodingError"
        case 0x8008_0000: return "BadEncodingLimitsExceeded"
        case 0x800A_0000: return "BadTimeout"
        case 0x800B_0000: return "BadServiceUnsupported"
        case 0x800C_0000: return "BadShutdown"
        case 0x800D_0000: return "BadServerNotConnected"
        case 0x800E_0000: return "BadServerHalted"
        case 0x800F_0000: return "BadNothingToDo"
        case 0x8010_0000: return "BadTooManyOperations"
        case 0x8012_0000: return "BadCertificateInvalid"
        case 0x8013_0000: return "BadSecurityChecksFailed"
        case 0x801A_0000: return "BadCertificateUntrusted"
        case 0x801F_0000: return "BadUserAccessDenied"
        case 0x8020_0000: return "BadIdentityTokenInvalid"
        case 0x8021_0000: return "BadIdentityTokenRejected"
        case 0x8022_0000: return "BadSecureChannelIdInvalid"
        case 0x8023_0000: return "BadInvalidTimestamp"
        case 0x8024_0000: return "BadNonceInvalid"
        case 0x8025_0000: return "BadSessionIdInvalid"
        case 0x8026_0000: return "BadSessionClosed"
        case 0x8027_0000: return "BadSessionNotActivated"
        case 0x8028_0000: return "BadSubscriptionIdInvalid"
        case 0x802A_0000: return "BadRequestHeaderInvalid"
        case 0x8033_0000: return "BadNodeIdInvalid"
        case 0x8034_0000: return "BadNodeIdUnknown"
        case 0x8035_0000: return "BadAttributeIdInvalid"
        case 0x803A_0000: return "BadNotReadable"
        case 0x803B_0000: return "BadNotWritable"
        case 0x803C_0000: return "BadOutOfRange"
        case 0x803D_0000: return "BadNotSupported"
        case 0x803E_0000: return "BadNotFound"
        case 0x8053_0000: return "BadRequestTypeInvalid"
        case 0x8054_0000: return "BadSecurityModeRejected"
        case 0x8055_0000: return "BadSecurityPolicyRejected"
        case 0x8056_0000: return "BadTooManySessions"
        case 0x8074_0000: return "BadTypeMismatch"
        case 0x8075_0000: return "BadMethodInvalid"
        case 0x8076_0000: return "BadArgumentsMissing"
        case 0x8079_0000: return "BadNoSubscription"
        case 0x807D_0000: return "BadTcpServerTooBusy"
        case 0x807E_0000: return "BadTcpMessageTypeInvalid"
        case 0x807F_0000: return "BadTcpSecureChannelUnknown"
        case 0x8080_0000: return "BadTcpMessageTooLarge"
        case 0x8081_0000: return "BadTcpNotEnoughResources"
        case 0x8082_0000: return "BadTcpInternalError"
        case 0x8083_0000: return "BadTcpEndpointUrlInvalid"
        case 0x80AB_0000: return "BadInvalidArgument"
        case 0x80AC_0000: return "BadConnectionRejected"
        case 0x80AD_0000: return "BadDisconnect"
        case 0x80AE_0000: return "BadConnectionClosed"
        case 0x80E6_0000: return "BadSecurityModeInsufficient"
        default: return nil
        }
    }

    /// Formats the status as `Name (0xXXXXXXXX)`, or as the hex value alone when the table has no name for it.
    static func statusText(_ code: UInt32) -> String {
        var digits = String(code, radix: 16, uppercase: true)
        while digits.count < 8 { digits = "0" + digits }
        guard let name = statusCode(code) else { return "0x" + digits }
        return "\(name) (0x\(digits))"
    }
}

/// OPC UA security policies by their URI fragment, and which the specification deprecates.
enum OPCUASecurityPolicy: Equatable {
    case none
    /// Deprecated by OPC UA 1.04 because it relies on SHA-1 and RSA PKCS#1 v1.5.
    case basic128Rsa15
    /// Deprecated by OPC UA 1.04 because it relies on SHA-1.
    case basic256
    case other

    static let uriPrefix = "http://opcfoundation.org/UA/SecurityPolicy#"

    init(uri: [UInt8]) {
        switch String(decoding: uri, as: UTF8.self) {
        case OPCUASecurityPolicy.uriPrefix + "None": self = .none
        case OPCUASecurityPolicy.uriPrefix + "Basic128Rsa15": self = .basic128Rsa15
        case OPCUASecurityPolicy.uriPrefix + "Basic256": self = .basic256
        default: self = .other
        }
    }

    var isDeprecated: Bool { self == .basic128Rsa15 || self == .basic256 }
}
