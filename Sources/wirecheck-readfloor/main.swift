import CPcap
#if canImport(Glibc)
import Glibc
#endif

// The read floor of the benchmark: reads every packet of a capture with libpcap and does
// nothing else, so `wirecheck analyze` can be compared with the cost of reading alone. It adds
// the first byte of every packet to a checksum so the compiler cannot drop the loop.

guard CommandLine.arguments.count == 2 else {
    fputs("Usage: wirecheck-readfloor CAPTURE\n", stderr)
    exit(2)
}
let path = CommandLine.arguments[1]
var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
guard let handle = pcap_open_offline(path, &errorBuffer) else {
    fputs("wirecheck-readfloor: could not open \(path): \(String(cString: errorBuffer))\n", stderr)
    exit(1)
}

var packets: UInt64 = 0
var bytes: UInt64 = 0
var checksum: UInt64 = 0
var header: UnsafeMutablePointer<pcap_pkthdr>?
var data: UnsafePointer<UInt8>?
while true {
    let status = pcap_next_ex(handle, &header, &data)
    if status == 1, let header, let data {
        packets &+= 1
        bytes &+= UInt64(header.pointee.caplen)
        if header.pointee.caplen > 0 { checksum &+= UInt64(data.pointee) }
    } else if status == 0 {
        continue
    } else {
        if status == -1 {
            fputs("wirecheck-readfloor: read failed after \(packets) packets: \(String(cString: pcap_geterr(handle)))\n", stderr)
            pcap_close(handle)
            exit(1)
        }
        break
    }
}
pcap_close(handle)
print("packets \(packets) bytes \(bytes) checksum \(checksum)")
