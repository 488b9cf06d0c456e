#!/usr/bin/env python3
"""Iterate over every flow nfstream finds in a capture, as the benchmark's nfstream peer.

Usage: python3 Scripts/nfstream-flows.py CAPTURE
"""
import sys

from nfstream import NFStreamer


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: nfstream-flows.py CAPTURE")
    flows = 0
    packets = 0
    for flow in NFStreamer(source=sys.argv[1]):
        flows += 1
        packets += flow.bidirectional_packets
    print(f"flows {flows} packets {packets}")


if __name__ == "__main__":
    main()
