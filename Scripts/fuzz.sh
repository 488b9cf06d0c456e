#!/usr/bin/env bash
# Build and run the libFuzzer targets in Fuzz/ for a bounded time each.
#
# Usage: Scripts/fuzz.sh [--smoke | --seconds N] [--jobs N] [--build-only] [TARGET...]
#   --smoke       20 seconds per target, short enough for CI
#   --seconds N   N seconds per target (default 60)
#   --jobs N      run up to N targets at the same time (default 1)
#   --build-only  build the targets and write the seeds, run nothing
#   TARGET        any of: decode reassembly flows capture modbus dnp3 iec104 enip s7comm
#                 s7commplus bacnet opcua tls telemetry baseline (default: all)
#   Seeds also come from $FUZZ_SHARED_CAPTURES and $FUZZ_SHARED_TELEMETRY when those folders
#   exist (default ../shared/captures and ../shared/telemetry).
#   Exit status: 0 no finding, 1 a target found a crash, hang, out-of-memory input or leak,
#   2 an invalid argument or a failed build.
#
# How the targets are built (checked with Swift 6.3.1 on Debian 12, x86_64):
#   1. SwiftPM compiles the library modules the targets need (WirecheckCore, -Decoding, -Flows,
#      -Protocols, -Capture) with `-Xswiftc -sanitize=fuzzer,address` into .build/fuzz/spm. The
#      flag adds coverage counters and AddressSanitizer checks. Only library targets are built,
#      because libFuzzer brings its own `main`.
#   2. swiftc compiles Fuzz/<target>.swift with Fuzz/Support/*.swift, which define
#      `LLVMFuzzerTestOneInput` with `@_cdecl`, and links them with the modules' object files,
#      libcrypto and libpcap. `-sanitize=fuzzer,address` at link time adds libFuzzer's `main` and
#      the ASan runtime, both shipped with the Swift toolchain.
#
# Seeds: Scripts/fuzz_seeds.py turns Tests/Fixtures/**/*.pcap*, demo/*.pcap and, when present,
# the captures under $FUZZ_SHARED_CAPTURES (default ../shared/captures, relative to the package
# root) into seeds per target in .build/fuzz/<target>/seeds. The corpus that
# libFuzzer grows is kept in .build/fuzz/<target>/corpus between runs.
#
# Each target is restarted after a finding until its time is used, and findings (crashes,
# timeouts, out-of-memory inputs and leaks) are written to .build/fuzz/<target>/crashes/. The script prints `TARGET: N execs, M crashes` per target and
# exits with status 1 when any target produced a finding in this run.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

seconds=60
jobs=1
build_only=0
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) seconds=20 ;;
        --seconds)
            [ $# -ge 2 ] || { echo "fuzz.sh: --seconds needs a number of seconds" >&2; exit 2; }
            seconds="$2"
            shift ;;
        --jobs)
            [ $# -ge 2 ] || { echo "fuzz.sh: --jobs needs a number of parallel targets" >&2; exit 2; }
            jobs="$2"
            shift ;;
        --build-only) build_only=1 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1; see --help" >&2; exit 2 ;;
        *) targets+=("$1") ;;
    esac
    shift
done
case "$seconds" in ''|*[!0-9]*|0) echo "fuzz.sh: --seconds must be a positive whole number, got '$seconds'" >&2; exit 2 ;; esac
case "$jobs" in ''|*[!0-9]*|0) echo "fuzz.sh: --jobs must be a positive whole number, got '$jobs'" >&2; exit 2 ;; esac

all_targets=(decode reassembly flows capture modbus dnp3 iec104 enip s7comm s7commplus bacnet opcua tls telemetry baseline)
protocol_targets=" modbus dnp3 iec104 enip s7comm s7commplus bacnet opcua tls "
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
    [ -f "Fuzz/$target.swift" ] || { echo "fuzz.sh: unknown target '$target'; targets: ${all_targets[*]}" >&2; exit 2; }
done

fuzz_dir="$root/.build/fuzz"
spm_dir="$fuzz_dir/spm"
bin_dir="$fuzz_dir/bin"
mkdir -p "$bin_dir"

# A protocol target needs the ApplicationProtocol whose `name` it fuzzes. Target names are
# file and module names, so the one protocol name with a hyphen is spelled without it.
runnable=()
for target in "${targets[@]}"; do
    protocol_name="$target"
    [ "$target" != s7commplus ] || protocol_name=s7comm-plus
    if [[ "$protocol_targets" == *" $target "* ]] &&
       ! grep -rqs "static let name = \"$protocol_name\"" Sources/WirecheckProtocols; then
        echo "$target: skipped, no ApplicationProtocol named \"$protocol_name\" in Sources/WirecheckProtocols (its parser is not merged yet)"
        continue
    fi
    runnable+=("$target")
done
[ ${#runnable[@]} -gt 0 ] || { echo "fuzz.sh: no target to run"; exit 0; }

echo "fuzz.sh: building the library modules with -sanitize=fuzzer,address in $spm_dir"
for module in WirecheckProtocols WirecheckCapture WirecheckHosts WirecheckBaseline; do
    if ! nice -n 10 swift build --build-path "$spm_dir" --target "$module" \
            -Xswiftc -sanitize=fuzzer,address >"$fuzz_dir/build-$module.log" 2>&1; then
        tail -30 "$fuzz_dir/build-$module.log" >&2
        echo "fuzz.sh: building $module failed; the full log is $fuzz_dir/build-$module.log" >&2
        exit 2
    fi
done

objects=()
for module in WirecheckCore WirecheckDecoding WirecheckFlows WirecheckProtocols WirecheckCapture WirecheckHosts \
        WirecheckBaseline; do
    objects+=("$spm_dir"/debug/"$module".build/*.swift.o)
done
for target in "${runnable[@]}"; do
    rm -f "$bin_dir/$target"
    if ! nice -n 10 swiftc -sanitize=fuzzer,address -parse-as-library -g -Onone \
            -module-name "Fuzz_$target" -I "$spm_dir/debug/Modules" -I Sources/CPcap -I Sources/CCrypto \
            -I Sources/CEvtx -I Sources/CSQLite \
            Fuzz/Support/*.swift "Fuzz/$target.swift" "${objects[@]}" -lcrypto -lpcap -levtx \
            -o "$bin_dir/$target" >"$fuzz_dir/link-$target.log" 2>&1; then
        # ld.gold warns once per ASan helper symbol it cannot export; those lines are noise.
        grep -v "ld.gold: warning: Cannot export local symbol" "$fuzz_dir/link-$target.log" | tail -30 >&2
        echo "fuzz.sh: building the $target target failed; the full log is $fuzz_dir/link-$target.log" >&2
        exit 2
    fi
done

captures=()
while IFS= read -r -d '' capture; do captures+=("$capture"); done < <(
    find Tests/Fixtures demo -type f \( -name '*.pcap' -o -name '*.pcapng' \) -print0 2>/dev/null)
shared_captures="${FUZZ_SHARED_CAPTURES:-../shared/captures}"
if [ -d "$shared_captures" ]; then
    while IFS= read -r -d '' capture; do captures+=("$capture"); done < <(
        find "$shared_captures" -type f \( -name '*.pcap' -o -name '*.pcapng' \) -print0)
fi
# Seeds are written again on every run, so they always follow the current captures.
for target in "${all_targets[@]}"; do rm -rf "${fuzz_dir:?}/$target/seeds"; done
if python3 -c 'import scapy' 2>/dev/null; then
    python3 Scripts/fuzz_seeds.py "$fuzz_dir" "${captures[@]}" 2>"$fuzz_dir/seeds.log" ||
        echo "fuzz.sh: writing seeds failed, see $fuzz_dir/seeds.log; the targets start from an empty corpus" >&2
else
    echo "fuzz.sh: python3 with scapy is missing, so the targets start without seeds" >&2
fi
# The telemetry and baseline targets read text files, not captures. Their seeds are the fixture
# files and, when present, the telemetry samples under $FUZZ_SHARED_TELEMETRY (default
# ../shared/telemetry). Seeds are at most 256 KiB, so loading them does not dominate a short run.
mkdir -p "$fuzz_dir/telemetry/seeds" "$fuzz_dir/baseline/seeds"
shared_telemetry="${FUZZ_SHARED_TELEMETRY:-../shared/telemetry}"
seed_number=0
while IFS= read -r -d '' file; do
    seed_number=$((seed_number + 1))
    cp "$file" "$fuzz_dir/telemetry/seeds/$seed_number-$(basename "$file")"
done < <(find Tests/Fixtures/hosts $( [ -d "$shared_telemetry" ] && echo "$shared_telemetry" ) -type f \
             ! -name MANIFEST.tsv ! -name README.md -size -256k -print0 2>/dev/null)
find Tests/Fixtures/baseline -type f -name '*.json' -exec cp {} "$fuzz_dir/baseline/seeds/" \;
echo "seeds: telemetry: $seed_number files, baseline: $(find "$fuzz_dir/baseline/seeds" -type f | wc -l) files"
[ "$build_only" -eq 0 ] || exit 0

# Runs one target for `seconds` and writes its summary line to .build/fuzz/<target>/summary.
# libFuzzer stops at the first finding, so the target is started again on the remaining time.
# Fork mode would keep going by itself, but in a 20 s trial its jobs reloaded the corpus so
# often that it ran several times fewer inputs per second.
run_target() {
    local target="$1"
    local dir="$fuzz_dir/$target"
    mkdir -p "$dir/corpus" "$dir/seeds" "$dir/crashes"
    : >"$dir/run.log"

    local before
    # Crashes, hangs, out-of-memory inputs and leaks are findings. libFuzzer also writes inputs
    # that ran slower than 10 s as slow-unit-*, which on a loaded machine is often just the first
    # input paying for one-time set-up, so those are counted apart and do not fail the run.
    before="$(find "$dir/crashes" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)"
    local slow_before
    slow_before="$(find "$dir/crashes" -type f -name 'slow-unit-*' | wc -l)"
    local max_length=()
    # Frame streams and capture files need room for several packets; the rest fit libFuzzer's default.
    case "$target" in
        flows) max_length=(-max_len=16384) ;;
        capture) max_length=(-max_len=65536) ;;
        # Room for an evtx file header and its first 64 KiB chunk.
        telemetry) max_length=(-max_len=131072) ;;
    esac

    local deadline=$((SECONDS + seconds))
    local execs=0 remaining launch_execs finished
    while remaining=$((deadline - SECONDS)); [ "$remaining" -gt 0 ]; do
        # -timeout: one input may run 10 s before it counts as a hang.
        # -rss_limit_mb: a target that grows past 2 GiB is treated as a memory bug.
        if (cd "$dir" && LSAN_OPTIONS="suppressions=$root/Fuzz/lsan-suppressions.txt" nice -n 10 "$bin_dir/$target" -max_total_time="$remaining" -timeout=10 \
                -rss_limit_mb=2048 -print_final_stats=1 "${max_length[@]}" \
                -artifact_prefix="$dir/crashes/" corpus seeds >"$dir/launch.log" 2>&1); then
            finished=1
        else
            finished=0
        fi
        cat "$dir/launch.log" >>"$dir/run.log"
        launch_execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/launch.log" | tail -1)"
        execs=$((execs + ${launch_execs:-0}))
        [ "$finished" -eq 0 ] || break
        grep -q '^artifact_prefix\|Test unit written to' "$dir/launch.log" || {
            echo "$target: libFuzzer stopped without writing a finding; see $dir/run.log" >&2
            break
        }
    done

    local after
    after="$(find "$dir/crashes" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)"
    local slow_after
    slow_after="$(find "$dir/crashes" -type f -name 'slow-unit-*' | wc -l)"
    local slow=""
    [ "$slow_after" -eq "$slow_before" ] || slow=" ($((slow_after - slow_before)) slow inputs kept in $dir/crashes)"
    echo "$target: $execs execs, $((after - before)) crashes$slow" >"$dir/summary"
}

echo "fuzz.sh: running ${runnable[*]} for $seconds s each, $jobs at a time"
running=0
for target in "${runnable[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    run_target "$target" &
    running=$((running + 1))
done
wait || true

status=0
for target in "${runnable[@]}"; do
    line="$(cat "$fuzz_dir/$target/summary")"
    echo "$line"
    case "$line" in *", 0 crashes"|*", 0 crashes ("*) ;; *) status=1 ;; esac
done
[ "$status" -eq 0 ] || echo "fuzz.sh: findings are in $fuzz_dir/<target>/crashes/; reproduce one with $bin_dir/<target> FILE"
exit "$status"
