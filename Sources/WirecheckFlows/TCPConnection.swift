import WirecheckCore
import WirecheckDecoding

/// Zeek's TCP endpoint states, from which `ConnState` is derived.
public enum TCPEndpointState {
    case inactive
    case synSent
    case synAckSent
    /// Sent data or ACKs without a SYN that was seen.
    case partial
    case established
    case closed
    case reset
}

/// Tracked state of one side of a TCP connection, from the segments it sent.
public struct TCPEndpoint {
    public internal(set) var state: TCPEndpointState = .inactive
    /// Initial sequence number from this side's SYN or SYN-ACK.
    public internal(set) var initialSequence: UInt32?
    /// The sequence number after the last byte (or SYN/FIN) this side sent; nil until known.
    public internal(set) var nextSequence: UInt32?
    /// Highest acknowledgement number this side sent.
    public internal(set) var highestAcknowledgement: UInt32?
    /// This side's last advertised receive window in bytes, scaled; nil until it sent a packet.
    public internal(set) var window: UInt32?
    /// Largest scaled window this side advertised.
    public internal(set) var maxWindow: UInt32 = 0
    /// Furthest right edge of the window this side advertised: acknowledgement plus window.
    public internal(set) var maxRightEdge: UInt32?
    /// The window scale option of this side's SYN, if it carried one.
    public internal(set) var windowScaleOption: UInt8?
    /// Sequence number of this side's FIN.
    public internal(set) var finSequence: UInt32?
    public internal(set) var sentSyn = false
    public internal(set) var sentSynAck = false
    /// State before an accepted RST, restored when this side keeps sending data afterwards.
    var stateBeforeReset: TCPEndpointState = .inactive
}

/// TCP state of one flow: both endpoints, the handshake and the reassemblers.
public final class TCPConnection {
    public internal(set) var originator = TCPEndpoint()
    public internal(set) var responder = TCPEndpoint()
    public internal(set) var handshakeComplete = false
    /// Every TCP flag seen from the originator, and from the responder.
    public internal(set) var flagsToServer: TCPFlags = []
    public internal(set) var flagsToClient: TCPFlags = []
    var reassemblerToServer: StreamReassembler?
    var reassemblerToClient: StreamReassembler?

    init() {}

    /// Returns the shift applied to the sender's window field outside SYNs. RFC 7323 applies window
    /// scaling only when both SYNs carried the option. When the handshake was not seen the
    /// scale is unknown, so the largest shift is assumed and window checks stay lenient.
    static func windowShift(sender: TCPEndpoint, receiver: TCPEndpoint) -> UInt32 {
        guard sender.sentSyn || sender.sentSynAck, receiver.sentSyn || receiver.sentSynAck else {
            return TCPLimits.maxWindowShift
        }
        guard let senderScale = sender.windowScaleOption, receiver.windowScaleOption != nil else { return 0 }
        return min(UInt32(senderScale), TCPLimits.maxWindowShift)
    }

    /// Returns whether the history has Zeek's RSTOS0 shape `^?S[^HAFGIQ]*R`: it starts with the
    /// originator's SYN, and the originator's letters include none of H, A, F, G, I and Q.
    /// Zeek's pattern looks only before the RST, but a RST is almost always the last letter.
    static func isSynThenReset(_ flow: Flow) -> Bool {
        var scalars = flow.history.unicodeScalars.makeIterator()
        var first = scalars.next()
        if first == "^" { first = scalars.next() }
        guard first == "S" else { return false }
        let excluded: [UInt8] = [UInt8(ascii: "H"), UInt8(ascii: "A"), UInt8(ascii: "F"), UInt8(ascii: "G"),
                                 UInt8(ascii: "I"), UInt8(ascii: "Q")]
        return excluded.allSatisfy { flow.historyBits & (1 << UInt64($0 - UInt8(ascii: "A"))) == 0 }
    }

    var isClosed: Bool {
        originator.state == .reset || responder.state == .reset
            || (originator.state == .closed && responder.state == .closed)
    }

    /// Derives the Zeek `conn_state` from the endpoint states and, for RSTOS0, the history.
    func connState(of flow: Flow) -> ConnState {
        let originatorState = originator.state
        let responderState = responder.state
        let originatorInactive = originatorState == .inactive || originatorState == .partial
        let responderInactive = responderState == .inactive || responderState == .partial

        if responderState == .reset {
            if originatorState == .synSent || originatorState == .synAckSent { return .rej }
            return originatorInactive ? .rstrh : .rstr
        }
        if originatorState == .reset {
            if responderInactive {
                return TCPConnection.isSynThenReset(flow) ? .rstos0 : .oth
            }
            return .rsto
        }
        if originatorState == .closed && responderState == .closed { return .sf }
        if originatorState == .closed { return responderInactive ? .sh : .s2 }
        if responderState == .closed { return originatorInactive ? .shr : .s3 }
        if originatorState == .synSent && responderState == .inactive { return .s0 }
        if originatorState == .established && responderState == .established { return .s1 }
        return .oth
    }
}

/// Occurrences per direction of the history letters that Zeek logs again at the 10th, 100th, ...
/// occurrence: retransmissions (`T`) and zero windows (`W`).
struct RepeatedHistoryCounts {
    var retransmissionsToServer: UInt32 = 0
    var retransmissionsToClient: UInt32 = 0
    var zeroWindowsToServer: UInt32 = 0
    var zeroWindowsToClient: UInt32 = 0
}

/// Limits of the TCP checks.
enum TCPLimits {
    /// RFC 7323 caps the window scale shift at 14.
    static let maxWindowShift: UInt32 = 14
    /// How far behind the data already sent a segment may end before it counts as out of
    /// window: one maximum unscaled window, so ordinary retransmissions never trigger it.
    static let minBehindWindow: UInt32 = 65_535
}

/// Signed distance from `base` to `value` in 32-bit sequence space.
@inline(__always)
func sequenceDistance(_ value: UInt32, from base: UInt32) -> Int64 {
    Int64(Int32(bitPattern: value &- base))
}
