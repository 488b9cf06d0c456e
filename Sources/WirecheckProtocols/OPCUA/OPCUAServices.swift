import WirecheckCore

/// The fields of a service request or response that the events report: the status of a
/// response, and the first node, method and node count of Write, Call, AddNodes and DeleteNodes.
struct OPCUAServiceDetails {
    var typeID: UInt32?
    var service: OPCUANames.Service?
    var status: UInt32?
    var nodeCount: Int?
    var firstNode: OPCUANodeID?
    var attributeID: UInt32?
    var method: OPCUANodeID?

    /// Reads the body after the type id. Stops quietly where the chunk ends, because the body
    /// of a multi-chunk message continues in the next chunk.
    mutating func read(_ reader: inout OPCUAReader) {
        guard let service, let typeID else { return }
        guard service.isRequest else {
            status = reader.responseHeader()
            return
        }
        guard reader.skipRequestHeader() else { return }

        switch typeID {
        case OPCUANames.writeRequest:
            // NodesToWrite: each WriteValue starts with NodeId and AttributeId.
            guard let count = reader.int32() else { return }
            nodeCount = Int(max(count, 0))
            guard count > 0 else { return }
            firstNode = reader.nodeID(copyIdentifier: true)
            attributeID = reader.uint32()
        case OPCUANames.callRequest:
            // MethodsToCall: each CallMethodRequest starts with ObjectId and MethodId.
            guard let count = reader.int32() else { return }
            nodeCount = Int(max(count, 0))
            guard count > 0 else { return }
            firstNode = reader.nodeID(copyIdentifier: true)
            method = reader.nodeID(copyIdentifier: true)
        case OPCUANames.addNodesRequest:
            guard let count = reader.int32() else { return }
            nodeCount = Int(max(count, 0))
        case OPCUANames.deleteNodesRequest:
            guard let count = reader.int32() else { return }
            nodeCount = Int(max(count, 0))
            guard count > 0 else { return }
            firstNode = reader.nodeID(copyIdentifier: true)
        default:
            break
        }
    }

    func addFields(to record: inout JSONObject) {
        if let status { record.set("status", .string(OPCUANames.statusText(status))) }
        if let nodeCount { record.set("node_count", .int(nodeCount)) }
        if let firstNode { record.set("node_id", .string(firstNode.text)) }
        if let attributeID { record.set("attribute_id", .int(attributeID)) }
        if let method { record.set("method_id", .string(method.text)) }
    }
}
