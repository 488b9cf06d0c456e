#!/usr/bin/env bash
# Benchmark of `wirecheck analyze` against the libpcap read floor, tshark and nfstream.
#
# Builds the release binaries, generates the benchmark mixes (cached in .build/bench/ by their
# parameters), then runs every tool on the same file, alternating tools within each round,
# and prints the medians. Raw measurements go to .build/bench/results-SET.tsv.
#
# Usage: Scripts/benchmark.sh [--quick] [--runs N] [--no-peers] [--only peers|sizes|flows]
#   --quick     100k and 1M packets at 10k flows only, one run each
#   --runs N    rounds per input (default 3); the summary reports the median
#   --no-peers  skip tshark and nfstream
#   --no-build  use the release binaries already in .build/release
#   --bin DIR   use the binaries in DIR (implies --no-build), to compare two builds
#   --only SET  run one part: peers (100k and 1M packets with tshark and nfstream), sizes
#               (1M, 2M and 5M packets), flows (1k, 100k and 1M flows at 2M packets, and
#               --max-flows)
#   --workers N also run wirecheck with --workers N
#
# wirecheck runs twice per round: with --operations none (alerts, anomalies and flow records,
# reported as "wirecheck") and with --operations all (also one event per protocol transaction,
# reported as "wirecheck-operations").
set -euo pipefail

cd "$(dirname "$0")/.."
runs=3
quick=0
peers=1
only=all
build=1
bin_override=
workers=1
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1; runs=1 ;;
        --runs) runs="$2"; shift ;;
        --no-peers) peers=0 ;;
        --no-build) build=0 ;;
        --bin) bin_override="$2"; build=0; shift ;;
        --only) only="$2"; shift ;;
        --workers) workers="$2"; shift ;;
        *) echo "benchmark.sh: unknown argument $1 (expected --quick, --runs N, --no-peers, --no-build, --bin DIR, --only SET or --workers N)" >&2; exit 2 ;;
    esac
    shift
done

bench=.build/bench
mkdir -p "$bench"
bin=.build/release
if [ "$build" = 1 ]; then
    echo "== building release binaries"
    swift build -c release -Xswiftc -g --product wirecheck >/dev/null
    swift build -c release -Xswiftc -g --product wirecheck-synth >/dev/null
    swift build -c release -Xswiftc -g --product wirecheck-readfloor >/dev/null
    bin=$(swift build -c release -Xswiftc -g --show-bin-path)
fi
if [ -n "$bin_override" ]; then bin=$bin_override; fi
results="$bench/results-$only-$(basename "$bin").tsv"
printf 'input\tpackets\tbytes\tflows\ttool\trun\twall_s\tcpu_s\trss_kib\n' > "$results"

have_tshark=0
have_nfstream=0
if [ "$peers" = 1 ]; then
    if command -v tshark >/dev/null; then have_tshark=1; else echo "tshark not found: skipping it (apt-get install tshark)" >&2; fi
    if python3 -c 'import nfstream' 2>/dev/null; then have_nfstream=1; else echo "nfstream not importable: skipping it (pip install nfstream)" >&2; fi
fi

# Generates (or reuses) a mix and prints its path.
mix() {
    local packets=$1 flows=$2 seed=${3:-1}
    local file="$bench/mix-p${packets}-f${flows}-s${seed}.pcap"
    if [ ! -s "$file" ]; then
        "$bin/wirecheck-synth" mix --packets "$packets" --flows "$flows" --seed "$seed" "$file.tmp" >&2
        mv "$file.tmp" "$file"
    fi
    echo "$file"
}

# Runs one tool under /usr/bin/time -v and appends a row to the results.
measure() {
    local input=$1 packets=$2 bytes=$3 flows=$4 tool=$5 run=$6
    shift 6
    local timing="$bench/$only-time.txt"
    if ! /usr/bin/time -v -o "$timing" "$@" >"$bench/$only-stdout.txt" 2>"$bench/$only-stderr.txt"; then
        echo "  $tool failed on $input (exit status above); stderr:" >&2
        tail -5 "$bench/$only-stderr.txt" >&2
        return 0
    fi
    local wall user sys rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$timing")
    user=$(awk -F': ' '/User time/ {print $2}' "$timing")
    sys=$(awk -F': ' '/System time/ {print $2}' "$timing")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$timing")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$input" "$packets" "$bytes" "$flows" "$tool" "$run" \
        "$wall" "$(echo "$user + $sys" | bc)" "$rss" >> "$results"
    printf '  %-22s run %s: %8.2f s wall, %8.2f s cpu, %8d KiB peak RSS\n' "$tool" "$run" "$wall" "$(echo "$user + $sys" | bc)" "$rss"
}

# Runs the tools in rotation on one input. The third argument is "peers" for every tool, or
# "wirecheck" for the floor and wirecheck only.
run_input() {
    local packets=$1 flows=$2 with=$3
    local file
    file=$(mix "$packets" "$flows")
    local name
    name=$(basename "$file" .pcap)
    # The floor reports the bytes of all packets, which the bit rates use.
    local bytes
    bytes=$("$bin/wirecheck-readfloor" "$file" | awk '{print $4}')
    echo "== $name ($packets packets, $flows flows, $bytes bytes)"
    for run in $(seq 1 "$runs"); do
        measure "$name" "$packets" "$bytes" "$flows" floor "$run" "$bin/wirecheck-readfloor" "$file"
        # Findings only (alerts, anomalies, flow records), then with every protocol transaction.
        measure "$name" "$packets" "$bytes" "$flows" wirecheck "$run" \
            "$bin/wirecheck" analyze --quiet --operations none --eve "$bench/$only-out.json" "$file"
        measure "$name" "$packets" "$bytes" "$flows" wirecheck-operations "$run" \
            "$bin/wirecheck" analyze --quiet --operations all --eve "$bench/$only-out.json" "$file"
        if [ "$workers" -gt 1 ]; then
            measure "$name" "$packets" "$bytes" "$flows" "wirecheck-workers-$workers" "$run" \
                "$bin/wirecheck" analyze --quiet --operations none --workers "$workers" --eve "$bench/$only-out.json" "$file"
            measure "$name" "$packets" "$bytes" "$flows" "wirecheck-operations-workers-$workers" "$run" \
                "$bin/wirecheck" analyze --quiet --operations all --workers "$workers" --eve "$bench/$only-out.json" "$file"
        fi
        if [ "$with" = peers ] && [ "$have_tshark" = 1 ]; then
            measure "$name" "$packets" "$bytes" "$flows" tshark-expert "$run" tshark -q -z expert -r "$file"
        fi
        if [ "$with" = peers ] && [ "$have_nfstream" = 1 ]; then
            measure "$name" "$packets" "$bytes" "$flows" nfstream "$run" python3 Scripts/nfstream-flows.py "$file"
        fi
    done
    rm -f "$bench/$only-out.json"
}

# Peak memory with a million concurrent flows, with and without a flow cap.
run_flow_cap() {
    local packets=$1 flows=$2 cap=$3
    local file name bytes
    file=$(mix "$packets" "$flows")
    name=$(basename "$file" .pcap)
    bytes=$("$bin/wirecheck-readfloor" "$file" | awk '{print $4}')
    echo "== $name with --max-flows $cap"
    for run in $(seq 1 "$runs"); do
        measure "$name" "$packets" "$bytes" "$flows" "wirecheck-max-flows-$cap" "$run" \
            "$bin/wirecheck" analyze --quiet --max-flows "$cap" --eve "$bench/$only-out.json" "$file"
    done
    rm -f "$bench/$only-out.json"
}

if [ "$quick" = 1 ]; then
    run_input 100000 10000 peers
    run_input 1000000 10000 peers
else
    if [ "$only" = all ] || [ "$only" = peers ]; then
        run_input 100000 10000 peers
        run_input 1000000 10000 peers
    fi
    if [ "$only" = all ] || [ "$only" = sizes ]; then
        run_input 1000000 10000 wirecheck
        run_input 2000000 10000 wirecheck
        run_input 5000000 10000 wirecheck
    fi
    if [ "$only" = all ] || [ "$only" = flows ]; then
        run_input 2000000 1000 wirecheck
        run_input 2000000 100000 wirecheck
        run_input 2000000 1000000 wirecheck
        run_flow_cap 2000000 1000000 100000
    fi
fi

python3 Scripts/benchmark-summary.py "$results"
