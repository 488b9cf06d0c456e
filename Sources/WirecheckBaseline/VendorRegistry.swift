import Foundation
import WirecheckCore

/// MAC address vendors from the IEEE registry files Debian's `ieee-data` package installs:
/// MA-L (24-bit OUI), MA-M (28-bit) and MA-S (36-bit) assignments. Loaded once, on first use.
public struct VendorRegistry: Sendable {
    public static let defaultDirectory = "/usr/share/ieee-data"

    /// Shared registry from `defaultDirectory`, read the first time a vendor is asked for.
    public static let shared = VendorRegistry(directory: defaultDirectory)

    var large: [UInt64: String] = [:]
    var medium: [UInt64: String] = [:]
    var small: [UInt64: String] = [:]
    /// False when `oui.csv` could not be read; vendors are then absent.
    public let isAvailable: Bool

    public init(directory: String) {
        isAvailable = FileManager.default.isReadableFile(atPath: directory + "/oui.csv")
        large = VendorRegistry.read(directory + "/oui.csv", hexDigits: 6)
        medium = VendorRegistry.read(directory + "/mam.csv", hexDigits: 7)
        small = VendorRegistry.read(directory + "/oui36.csv", hexDigits: 9)
    }

    /// The organisation the address block belongs to, most specific assignment first.
    public func vendor(of mac: MACAddress) -> String? {
        small[mac.value >> 12] ?? medium[mac.value >> 20] ?? large[mac.value >> 24]
    }

    /// Reads `Registry,Assignment,Organization Name,...` rows; assignments are hex prefixes.
    static func read(_ path: String, hexDigits: Int) -> [UInt64: String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        var table: [UInt64: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).dropFirst() {
            let fields = csvFields(line, count: 3)
            guard fields.count == 3, fields[1].count == hexDigits, let prefix = UInt64(fields[1], radix: 16) else { continue }
            let name = fields[2].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty { table[prefix] = name }
        }
        return table
    }

    /// The first `count` fields of a CSV line, honouring double quotes.
    static func csvFields(_ line: Substring, count: Int) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            if character == "\"" {
                quoted.toggle()
            } else if character == "," && !quoted {
                fields.append(current)
                current = ""
                if fields.count == count { return fields }
            } else {
                current.append(character)
            }
        }
        fields.append(current)
        return Array(fields.prefix(count))
    }
}
