extension String {
    /// Text for an operator sentence from bytes taken from the network or a log (an SNI, a
    /// certificate name, a tag name). Well-formed UTF-8 is kept, and each other byte becomes
    /// `\xNN`, the text a `.wire` field reads back as. A sentence then shows every byte instead
    /// of U+FFFD and matches the record field next to it.
    public init<Bytes: Collection>(wireBytes bytes: Bytes) where Bytes.Element == UInt8 {
        let array = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity(array.count)
        var index = 0
        while index < array.count {
            let length = JSONWriter.utf8SequenceLength(array, at: index)
            if length == 0 {
                output.append(contentsOf: "\\x".utf8)
                output.append(JSONWriter.hexDigit(array[index] >> 4))
                output.append(JSONWriter.hexDigit(array[index] & 0x0F))
                index += 1
            } else {
                output.append(contentsOf: array[index..<index + length])
                index += length
            }
        }
        self.init(decoding: output, as: UTF8.self)
    }
}
