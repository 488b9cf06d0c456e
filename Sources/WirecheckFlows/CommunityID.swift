import CCrypto
import WirecheckCore

/// Community ID v1 flow hashes (https://github.com/corelight/community-id-spec): SHA-1 over the
/// seed, the ordered addresses, the protocol, one padding byte and the ordered ports, in base64
/// with a `1:` prefix.
public enum CommunityID {
    /// ICMP types paired with their reply, so a request and its reply hash to the same flow.
    static let icmpCounterparts: [UInt8: UInt8] = [
        8: 0, 0: 8,      // echo request / echo reply
        13: 14, 14: 13,  // timestamp request / reply
        15: 16, 16: 15,  // information request / reply
        10: 9, 9: 10,    // router solicitation / advertisement
        17: 18, 18: 17,  // address mask request / reply
    ]

    /// ICMPv6 types paired with their reply.
    static let icmpv6Counterparts: [UInt8: UInt8] = [
        128: 129, 129: 128,  // echo request / reply
        130: 131, 131: 130,  // multicast listener query / report
        133: 134, 134: 133,  // router solicitation / advertisement
        135: 136, 136: 135,  // neighbor solicitation / advertisement
        139: 140, 140: 139,  // node information query / reply
        144: 145, 145: 144,  // home agent address discovery request / reply
    ]

    /// Port equivalents of an ICMP message: the type and its counterpart type for request/reply
    /// pairs, otherwise the type and code with `isOneWay` set, which keeps the sender first.
    static func icmpPorts(type: UInt8, code: UInt8, isICMPv6: Bool) -> (source: UInt16, destination: UInt16, isOneWay: Bool) {
        let table = isICMPv6 ? icmpv6Counterparts : icmpCounterparts
        if let counterpart = table[type] { return (UInt16(type), UInt16(counterpart), false) }
        return (UInt16(type), UInt16(code), true)
    }

    /// Computes the Community ID of one flow as seen from one packet's direction. For ICMP,
    /// `sourcePort` is the type and `destinationPort` the code.
    public static func compute(sourceIP: IPAddress, destinationIP: IPAddress, ipProtocol: UInt8,
                               sourcePort: UInt16, destinationPort: UInt16, seed: UInt16 = 0) -> String {
        var source = sourceIP
        var destination = destinationIP
        var first = sourcePort
        var second = destinationPort
        var hasPorts = false
        var isOneWay = false
        switch ipProtocol {
        case IPProtocolNumber.tcp, IPProtocolNumber.udp, 132:
            hasPorts = true
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            hasPorts = true
            let ports = icmpPorts(type: UInt8(truncatingIfNeeded: sourcePort), code: UInt8(truncatingIfNeeded: destinationPort),
                                  isICMPv6: ipProtocol == IPProtocolNumber.icmpv6)
            first = ports.source
            second = ports.destination
            isOneWay = ports.isOneWay
        default:
            break
        }
        let sourceIsLower = source < destination || (source == destination && first < second)
        if !isOneWay && !sourceIsLower {
            swap(&source, &destination)
            swap(&first, &second)
        }

        var input: [UInt8] = [UInt8(seed >> 8), UInt8(seed & 0xff)]
        input.append(contentsOf: source.bytes)
        input.append(contentsOf: destination.bytes)
        input.append(ipProtocol)
        input.append(0)
        if hasPorts {
            input.append(contentsOf: [UInt8(first >> 8), UInt8(first & 0xff), UInt8(second >> 8), UInt8(second & 0xff)])
        }

        var digest = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        input.withUnsafeBufferPointer { buffer in
            _ = digest.withUnsafeMutableBufferPointer { output in
                SHA1(buffer.baseAddress, buffer.count, output.baseAddress)
            }
        }
        return "1:" + base64(digest)
    }

    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 with padding; the core library has no Foundation-free encoder.
    static func base64(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let byte0 = UInt32(bytes[index])
            let byte1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
            let byte2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let triple = byte0 << 16 | byte1 << 8 | byte2
            output.append(base64Alphabet[Int(triple >> 18 & 63)])
            output.append(base64Alphabet[Int(triple >> 12 & 63)])
            output.append(remaining > 1 ? base64Alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            output.append(remaining > 2 ? base64Alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
