import CCrypto
import Foundation

/// The lowercase hex SHA-256 of a file, read in blocks so large captures are not loaded whole.
func sha256Hex(ofFile path: String) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else {
        throw BaselineFileError(file: path, location: "capture", problem: "cannot open the capture file to compute its SHA-256")
    }
    defer { try? handle.close() }
    guard let context = EVP_MD_CTX_new() else {
        throw BaselineFileError(file: path, location: "capture", problem: "OpenSSL could not allocate a digest context")
    }
    defer { EVP_MD_CTX_free(context) }
    guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
        throw BaselineFileError(file: path, location: "capture", problem: "OpenSSL SHA-256 initialisation failed")
    }
    while true {
        let block = handle.readData(ofLength: 1 << 20)
        if block.isEmpty { break }
        let status = block.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        guard status == 1 else {
            throw BaselineFileError(file: path, location: "capture", problem: "OpenSSL SHA-256 update failed")
        }
    }
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    guard EVP_DigestFinal_ex(context, &digest, &length) == 1 else {
        throw BaselineFileError(file: path, location: "capture", problem: "OpenSSL SHA-256 finalisation failed")
    }
    return digest.prefix(Int(length)).map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}
