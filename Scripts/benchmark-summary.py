#!/usr/bin/env python3
"""Summarise Scripts/benchmark.sh measurements: medians per input and tool, rates, ratios.

Usage: python3 Scripts/benchmark-summary.py .build/bench/results.tsv
"""
import csv
import statistics
import sys
from collections import defaultdict


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: benchmark-summary.py RESULTS.tsv")
    rows = defaultdict(list)
    info = {}
    with open(sys.argv[1], newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            key = (row["input"], row["tool"])
            rows[key].append((float(row["wall_s"]), float(row["cpu_s"]), int(row["rss_kib"])))
            info[row["input"]] = (int(row["packets"]), int(row["bytes"]), int(row["flows"]))

    print("| input | tool | runs | wall s | cpu s | peak RSS MiB | packets/s | Mbit/s | wall vs wirecheck |")
    print("|---|---|---|---|---|---|---|---|---|")
    for input_name in info:
        packets, size, _ = info[input_name]
        tools = [tool for (name, tool) in rows if name == input_name]
        wirecheck = rows.get((input_name, "wirecheck"))
        wirecheck_wall = statistics.median(r[0] for r in wirecheck) if wirecheck else None
        for tool in tools:
            runs = rows[(input_name, tool)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            rss = statistics.median(r[2] for r in runs) / 1024
            rate = packets / wall if wall > 0 else float("inf")
            bits = size * 8 / wall / 1e6 if wall > 0 else float("inf")
            ratio = f"{wall / wirecheck_wall:.2f}" if wirecheck_wall else "-"
            print(f"| {input_name} | {tool} | {len(runs)} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {rate:,.0f} | {bits:,.0f} | {ratio} |")


if __name__ == "__main__":
    main()
