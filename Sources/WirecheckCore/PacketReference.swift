/// Identifies one packet of the input: which capture source it came from and its 1-based
/// number within that source, as Wireshark numbers frames.
public struct PacketReference: Hashable, Comparable, Sendable {
    /// Index into the run's list of capture sources (`CaptureSourceTable`).
    public var source: UInt16
    /// 1-based packet number within that source.
    public var number: UInt64

    public init(source: UInt16, number: UInt64) {
        self.source = source
        self.number = number
    }

    public static func < (lhs: PacketReference, rhs: PacketReference) -> Bool {
        lhs.source != rhs.source ? lhs.source < rhs.source : lhs.number < rhs.number
    }
}

/// The names of the run's capture sources (file paths, `-` for standard input, or
/// `interface:NAME`), indexed by `PacketReference.source`.
public final class CaptureSourceTable: @unchecked Sendable {
    public private(set) var names: [String] = []

    public init() {}

    @discardableResult
    public func add(_ name: String) -> UInt16 {
        names.append(name)
        return UInt16(names.count - 1)
    }

    public func name(of source: UInt16) -> String {
        Int(source) < names.count ? names[Int(source)] : "source-\(source)"
    }
}
