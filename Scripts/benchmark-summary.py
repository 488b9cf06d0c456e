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

    # On a shared machine the wall time includes waiting for a core, so rates and ratios are
    # given both per wall second and per CPU second (user + system).
    print("| input | tool | runs | wall s | cpu s | peak RSS MiB | packets/s (wall) | packets/s (cpu) "
          "| Mbit/s (cpu) | wirecheck time / tool time (wall, cpu) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for input_name in info:
        packets, size, _ = info[input_name]
        tools = [tool for (name, tool) in rows if name == input_name]
        wirecheck = rows.get((input_name, "wirecheck"))
        wirecheck_wall = statistics.median(r[0] for r in wirecheck) if wirecheck else None
        wirecheck_cpu = statistics.median(r[1] for r in wirecheck) if wirecheck else None
        for tool in tools:
            runs = rows[(input_name, tool)]
            wall = statistics.median(r[0] for r in runs)
            # /usr/bin/time reports CPU time in hundredths, so a fast floor run can show 0.
            cpu = max(statistics.median(r[1] for r in runs), 0.01)
            rss = statistics.median(r[2] for r in runs) / 1024
            wall_rate = packets / wall if wall > 0 else float("inf")
            cpu_rate = packets / cpu
            cpu_bits = size * 8 / cpu / 1e6
            ratio = "-"
            if wirecheck_wall and wirecheck_cpu:
                ratio = f"{wirecheck_wall / wall:.2f}, {wirecheck_cpu / cpu:.2f}"
            print(f"| {input_name} | {tool} | {len(runs)} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {wall_rate:,.0f} "
                  f"| {cpu_rate:,.0f} | {cpu_bits:,.0f} | {ratio} |")


if __name__ == "__main__":
    main()
