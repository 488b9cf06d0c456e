#!/usr/bin/env python3
"""Write seed corpora for the libFuzzer targets in Fuzz/ from capture files.

Usage: fuzz_seeds.py OUTPUT_DIR CAPTURE...

Each seed is written in the input layout its target reads (see the header comment of each
Fuzz/<target>.swift and Fuzz/Support/ApplicationHarness.swift) to OUTPUT_DIR/<target>/seeds/.
Captures scapy cannot read are skipped with a message on standard error.
"""

import hashlib
import math
import os
import struct
import sys

from scapy.all import IP, IPv6, TCP, UDP, rdpcap  # noqa: E402
from scapy.layers.l2 import CookedLinux, Ether, Loopback

try:
    from scapy.layers.l2 import CookedLinuxV2
except ImportError:  # older scapy
    CookedLinuxV2 = None

# Index of each link type in fuzzLinkTypes (Fuzz/Support/LinkTypes.swift): LinkType.supported
# in its declared order, then DLT 12, DLT 14 and one unsupported type.
LINK_INDEX = {0: 0, 1: 1, 101: 2, 108: 3, 113: 4, 228: 5, 229: 6, 276: 7, 12: 8, 14: 9}

# Server port and transport per protocol target; the application harness picks UDP with bit 0
# of its options byte.
PROTOCOL_PORTS = {
    "modbus": {("tcp", 502), ("udp", 502)},
    "dnp3": {("tcp", 20000), ("udp", 20000)},
    "iec104": {("tcp", 2404)},
    "enip": {("tcp", 44818), ("udp", 44818), ("udp", 2222)},
    "s7comm": {("tcp", 102)},
    "s7commplus": {("tcp", 102)},
    "bacnet": {("udp", 47808)},
    "opcua": {("tcp", 4840)},
    "tls": {("tcp", 443), ("tcp", 8443), ("tcp", 4843)},
}

MAX_PACKETS_PER_FILE = 2000
MAX_RECORDS_PER_SEED = 32
MAX_SINGLE_SEEDS_PER_PROTOCOL = 300
MAX_CAPTURE_SEED_BYTES = 64 * 1024
MAX_DECODE_SEEDS_PER_FILE = 300


def link_type_of(packet):
    """Guess the capture's link type from the layer scapy dissected first."""
    if isinstance(packet, Ether):
        return 1
    if isinstance(packet, CookedLinux):
        return 113
    if CookedLinuxV2 is not None and isinstance(packet, CookedLinuxV2):
        return 276
    if isinstance(packet, Loopback):
        return 0
    if isinstance(packet, (IP, IPv6)):
        return 101
    return None


class SeedWriter:
    def __init__(self, root):
        self.root = root
        self.counts = {}

    def write(self, target, data):
        folder = os.path.join(self.root, target, "seeds")
        os.makedirs(folder, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            with open(path, "wb") as seed:
                seed.write(data)
            self.counts[target] = self.counts.get(target, 0) + 1


def transport_of(packet):
    if TCP in packet:
        return "tcp", packet[TCP]
    if UDP in packet:
        return "udp", packet[UDP]
    return None, None


def protocols_of(transport, layer):
    """Return each protocol target whose server port the packet uses, and whether it goes to the server."""
    matches = []
    for name, ports in PROTOCOL_PORTS.items():
        if (transport, layer.dport) in ports:
            matches.append((name, True))
        elif (transport, layer.sport) in ports:
            matches.append((name, False))
    return matches


def flow_key(packet, transport, layer):
    ip = packet[IP] if IP in packet else packet[IPv6]
    a = (ip.src, layer.sport)
    b = (ip.dst, layer.dport)
    return (transport,) + (tuple(sorted([a, b])))


def record(control, payload):
    payload = payload[:0xFFFF]
    return bytes([control]) + struct.pack(">H", len(payload)) + payload


def add_protocol_seeds(writer, packets, singles):
    """Write conversation seeds per flow and one seed per distinct payload."""
    conversations = {}
    for packet in packets:
        transport, layer = transport_of(packet)
        if transport is None or (IP not in packet and IPv6 not in packet):
            continue
        payload = bytes(layer.payload)
        if not payload:
            continue
        for name, to_server in protocols_of(transport, layer):
            key = (name,) + flow_key(packet, transport, layer)
            flow = conversations.setdefault(key, {"name": name, "transport": transport, "records": [], "next": {}})
            if transport == "tcp":
                # Skip plain retransmissions so seeds read like the reassembled stream.
                end = (layer.seq + len(payload)) & 0xFFFFFFFF
                seen = flow["next"].get(to_server)
                if seen is not None and (end == seen or ((end - seen) & 0xFFFFFFFF) >= 0x80000000):
                    continue
                flow["next"][to_server] = end
            flow["records"].append(record(0 if to_server else 1, payload))

            options = b"\x01" if transport == "udp" else b"\x00"
            if singles.get(name, 0) < MAX_SINGLE_SEEDS_PER_PROTOCOL:
                before = writer.counts.get(name, 0)
                writer.write(name, options + record(0 if to_server else 1, payload))
                singles[name] = singles.get(name, 0) + (writer.counts.get(name, 0) - before)

    for flow in conversations.values():
        options = b"\x01" if flow["transport"] == "udp" else b"\x00"
        records = flow["records"]
        for start in range(0, len(records), MAX_RECORDS_PER_SEED):
            writer.write(flow["name"], options + b"".join(records[start:start + MAX_RECORDS_PER_SEED]))


def add_reassembly_seeds(writer, packets):
    """Write one script per TCP direction, with its segments as offsets from the first sequence number."""
    directions = {}
    for packet in packets:
        if TCP not in packet or (IP not in packet and IPv6 not in packet):
            continue
        tcp = packet[TCP]
        ip = packet[IP] if IP in packet else packet[IPv6]
        key = (ip.src, tcp.sport, ip.dst, tcp.dport)
        payload = bytes(tcp.payload)
        if "S" in tcp.flags:
            directions[key] = {"base": (tcp.seq + 1) & 0xFFFFFFFF, "ops": [bytes([2]) + struct.pack(">h", 0)]}
            continue
        if not payload:
            continue
        entry = directions.setdefault(key, {"base": tcp.seq, "ops": []})
        offset = (tcp.seq - entry["base"]) & 0xFFFFFFFF
        for piece_start in range(0, len(payload), 255):
            piece = payload[piece_start:piece_start + 255]
            position = (offset + piece_start) & 0xFFFFFFFF
            signed = position - (1 << 32) if position >= 0x80000000 else position
            if -0x8000 <= signed <= 0x7FFF:
                entry["ops"].append(bytes([0]) + struct.pack(">hB", signed, len(piece)) + piece)
            else:
                sequence = (entry["base"] + position) & 0xFFFFFFFF
                entry["ops"].append(bytes([3]) + struct.pack(">IB", sequence, len(piece)) + piece)
    for entry in directions.values():
        if len(entry["ops"]) > 1:
            writer.write("reassembly", struct.pack(">I", entry["base"]) + b"".join(entry["ops"][:64]) + b"\x01")


def add_frame_seeds(writer, packets, link_type):
    index = LINK_INDEX.get(link_type)
    if index is None:
        return
    header = bytes([index])
    previous_time = None
    records = []
    for number, packet in enumerate(packets):
        frame = bytes(packet)
        if number < MAX_DECODE_SEEDS_PER_FILE:
            writer.write("decode", header + b"\x00" + frame)
        delta_ms = 0 if previous_time is None else max(0.0, float(packet.time - previous_time) * 1000)
        previous_time = packet.time
        step = min(255, int(round(math.sqrt(delta_ms / 10))))
        records.append(bytes([step]) + struct.pack(">H", min(len(frame), 0xFFFF)) + frame[:0xFFFF])
        if len(records) == MAX_RECORDS_PER_SEED * 2:
            writer.write("flows", header + b"".join(records))
            records = []
    if records:
        writer.write("flows", header + b"".join(records))


def add_capture_seeds(writer, path, packets):
    with open(path, "rb") as capture:
        data = capture.read()
    # Large files only slow each run down, so they contribute their first records instead.
    writer.write("capture", data[:MAX_CAPTURE_SEED_BYTES])
    try:
        from scapy.utils import PcapNgWriter

        converted = os.path.join(writer.root, "pcapng-scratch.pcapng")
        with PcapNgWriter(converted) as pcapng:
            for packet in packets[:16]:
                pcapng.write(packet)
        with open(converted, "rb") as capture:
            writer.write("capture", capture.read()[:MAX_CAPTURE_SEED_BYTES])
        os.remove(converted)
    except Exception as error:  # scapy without a pcapng writer, or a packet it cannot write
        print(f"fuzz_seeds: no pcapng copy of {path}: {error}", file=sys.stderr)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: fuzz_seeds.py OUTPUT_DIR CAPTURE...")
    writer = SeedWriter(sys.argv[1])
    singles = {}
    for path in sys.argv[2:]:
        try:
            packets = rdpcap(path, count=MAX_PACKETS_PER_FILE)
        except Exception as error:
            print(f"fuzz_seeds: skipped {path}: scapy could not read it ({error})", file=sys.stderr)
            continue
        if not packets:
            continue
        add_capture_seeds(writer, path, packets)
        link_type = link_type_of(packets[0])
        add_frame_seeds(writer, packets, link_type)
        add_protocol_seeds(writer, packets, singles)
        add_reassembly_seeds(writer, packets)
    for target in sorted(writer.counts):
        print(f"seeds: {target}: {writer.counts[target]} new")


if __name__ == "__main__":
    main()
