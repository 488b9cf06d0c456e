#!/usr/bin/env bash
# Replays a capture onto a veth pair between two network namespaces and analyses it live with
# `wirecheck analyze -i`. It measures kernel drops at a given replay rate and checks that live
# analysis finds the same alerts and anomalies as analysis of the file.
#
# The script creates two namespaces (wcreplay-tx-PID and wcreplay-rx-PID) joined by a veth pair
# with no IP addresses and IPv6 disabled, so the only packets on the pair are the replayed ones.
# tcpreplay sends from the tx namespace, and wirecheck captures in the rx namespace. A trap
# removes both namespaces on exit, error or Ctrl-C. No host interface or route is touched.
#
# Usage: sudo Scripts/live-replay.sh [OPTIONS] [-- ANALYZE-OPTIONS...]
#   --capture FILE      replay FILE instead of a generated mix
#   --packets N         packets in the generated mix (default 1000000)
#   --flows F           sessions open at once in the generated mix (default 10000)
#   --pps N             replay at N packets per second
#   --mbps N            replay at N megabits per second
#   --topspeed          replay as fast as tcpreplay can send (the default)
#   --original          replay with the capture's own packet timing
#   --sweep             replay at each rate of --rates, then at top speed, and print one line
#                       per rate. Each live run is also compared with the file run, unless
#                       --no-compare is given
#   --rates LIST        packets per second for --sweep, separated by spaces
#                       (default "10000 25000 50000 100000 200000")
#   --operations LEVEL  --operations for wirecheck analyze: none (default), changes or all
#   --buffer-size MIB   --buffer-size for wirecheck analyze (default: wirecheck's own default)
#   --no-compare        skip the comparison with `wirecheck analyze FILE`
#   --bin DIR           folder with wirecheck and wirecheck-synth (default .build/release)
#   --work DIR          folder for the mix, EVE files and summaries (default .build/live-replay)
#   -h, --help          show this help
#   -- ANALYZE-OPTIONS  further options for both wirecheck analyze runs, live and file (for
#                       example -- --midstream-grace 100)
#
# Needs root (for namespaces and raw sockets), `ip` from iproute2 and tcpreplay.
#
# Columns of the result lines: requested rate, rate tcpreplay achieved (packets per second and
# Mbps), packets tcpreplay sent, packets wirecheck analysed, packets libpcap reports dropped by
# the kernel or interface, packets otherwise missing (sent minus analysed minus dropped, for
# example lost on the veth pair), and the CPU seconds (user + system) of the whole wirecheck
# run. After the replay the script waits until wirecheck is idle before it sends SIGINT, so
# packets still in the kernel buffer are analysed, not missing.
#
# The comparison counts alert rules and anomaly names in both EVE files. An anomaly event that
# stands for held-back repeats (`"repeats": N`) counts N times, because the repeat limit is per
# minute of packet time and a slower replay spreads the same packets over more minutes.
# Timestamps are not compared, because a live packet carries its arrival time instead of the
# time in the file.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

fail() {
    echo "live-replay.sh: $1" >&2
    exit "${2:-1}"
}

cd "$(dirname "$0")/.."
capture=
packets=1000000
flows=10000
rate_mode=topspeed
rate_value=
sweep=0
sweep_rates="10000 25000 50000 100000 200000"
extra_options=()
operations=none
buffer_size=
compare=1
bin=.build/release
work=.build/live-replay

while [ $# -gt 0 ]; do
    case "$1" in
        --capture) capture="${2:?--capture needs a file}"; shift ;;
        --packets) packets="${2:?--packets needs a number}"; shift ;;
        --flows) flows="${2:?--flows needs a number}"; shift ;;
        --pps) rate_mode=pps; rate_value="${2:?--pps needs a number}"; shift ;;
        --mbps) rate_mode=mbps; rate_value="${2:?--mbps needs a number}"; shift ;;
        --topspeed) rate_mode=topspeed; rate_value= ;;
        --original) rate_mode=original; rate_value= ;;
        --sweep) sweep=1 ;;
        --rates) sweep_rates="${2:?--rates needs a list of packets per second}"; shift ;;
        --operations) operations="${2:?--operations needs none, changes or all}"; shift ;;
        --buffer-size) buffer_size="${2:?--buffer-size needs a number of MiB}"; shift ;;
        --no-compare) compare=0 ;;
        --bin) bin="${2:?--bin needs a folder}"; shift ;;
        --work) work="${2:?--work needs a folder}"; shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; extra_options=("$@"); break ;;
        *) fail "unknown argument '$1'; run Scripts/live-replay.sh --help for the options" 2 ;;
    esac
    shift
done

# shellcheck disable=SC2086 # the rates are split on spaces on purpose
for number in "$packets" "$flows" ${rate_value:+"$rate_value"} ${buffer_size:+"$buffer_size"} $sweep_rates; do
    [[ "$number" =~ ^[0-9]+$ ]] && [ "$number" -gt 0 ] || fail "invalid number '$number': expected a whole number above 0" 2
done
case "$operations" in none|changes|all) ;; *) fail "invalid value '$operations' for --operations: expected none, changes or all" 2 ;; esac

[ "$(id -u)" = 0 ] || fail "must run as root, because it creates network namespaces and captures on a veth interface; run it with sudo"
command -v ip >/dev/null || fail "'ip' not found; install iproute2 (apt-get install iproute2)"
command -v tcpreplay >/dev/null || fail "tcpreplay not found; install it (apt-get install tcpreplay)"
[ -x /usr/bin/time ] || fail "/usr/bin/time not found; install GNU time (apt-get install time) to measure wirecheck's CPU time"
for tool in wirecheck wirecheck-synth; do
    [ -x "$bin/$tool" ] || fail "$bin/$tool not found; build it with 'swift build -c release' or give the folder with --bin"
done
mkdir -p "$work"

tx_namespace="wcreplay-tx-$$"
rx_namespace="wcreplay-rx-$$"
# Interface names are at most 15 characters.
tx_interface="wcrtx$$"
rx_interface="wcrrx$$"
wirecheck_pid=

cleanup() {
    if [ -n "$wirecheck_pid" ] && kill -0 "$wirecheck_pid" 2>/dev/null; then
        kill -TERM "$wirecheck_pid" 2>/dev/null || true
        wait "$wirecheck_pid" 2>/dev/null || true
    fi
    # Deleting a namespace also deletes the veth end inside it, and with it the peer.
    ip netns del "$tx_namespace" 2>/dev/null || true
    ip netns del "$rx_namespace" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the capture --------------------------------------------------------------------------

if [ -z "$capture" ]; then
    capture="$work/mix-p$packets-f$flows-s1.pcap"
    if [ ! -s "$capture" ]; then
        echo "== generating $capture" >&2
        "$bin/wirecheck-synth" mix --packets "$packets" --flows "$flows" --seed 1 "$capture.tmp" >&2
        mv "$capture.tmp" "$capture"
    fi
fi
[ -s "$capture" ] || fail "capture '$capture' not found or empty; check the path given to --capture"

# --- the namespaces -----------------------------------------------------------------------

ip netns add "$tx_namespace" || fail "cannot create network namespace $tx_namespace (ip netns add failed)"
ip netns add "$rx_namespace" || fail "cannot create network namespace $rx_namespace (ip netns add failed)"
ip link add "$tx_interface" netns "$tx_namespace" type veth peer name "$rx_interface" netns "$rx_namespace" \
    || fail "cannot create the veth pair $tx_interface/$rx_interface (ip link add failed)"
for side in "$tx_namespace $tx_interface" "$rx_namespace $rx_interface"; do
    read -r namespace interface <<<"$side"
    # Without IPv6 the namespace sends no router or neighbour solicitations of its own, which
    # the live run would analyse and the file run would not.
    ip netns exec "$namespace" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    # An MTU of 9000 bytes fits every frame the mix writes. tcpreplay cannot send a larger frame.
    ip -n "$namespace" link set "$interface" mtu 9000 up
done

# --- one live run -------------------------------------------------------------------------

# Prints the packets per second and Mbps that tcpreplay reports it achieved.
tcpreplay_rate() {
    # "Rated: 12345678.0 Bps, 98.76 Mbps, 12345.67 pps"
    awk '/Rated:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^Mbps/) mbps = $(i-1); if ($i ~ /^pps/) pps = $(i-1) } }
         END { gsub(",", "", mbps); gsub(",", "", pps); printf "%s %s\n", pps, mbps }' "$1"
}

# Prints the CPU time (user + system) of process $1 in clock ticks. The process name
# (wirecheck) has no spaces, so the fields of /proc/PID/stat split as numbered.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Maximum seconds to wait for wirecheck to catch up after the replay: a run far behind the
# replay is reported with the packets it read by then.
drain_timeout_seconds=300

# Waits until process $1 is idle: at most 2 clock ticks (20 ms at the usual 100 Hz) of CPU time
# in half a second, which the once-a-second housekeeping of an idle run stays under.
wait_until_idle() {
    local pid=$1 previous current rounds=0
    sleep 1
    previous=$(cpu_ticks "$pid")
    while [ "$rounds" -lt $((drain_timeout_seconds * 2)) ]; do
        sleep 0.5
        current=$(cpu_ticks "$pid")
        if [ $((current - previous)) -le 2 ]; then
            return 0
        fi
        previous=$current
        rounds=$((rounds + 1))
    done
    echo "live-replay.sh: wirecheck was still busy $drain_timeout_seconds s after the replay; stopping it anyway" >&2
}

# Replays the capture once at the rate given by $1 (pps, mbps, topspeed or original) and $2,
# and prints one result line. Files go to $work/live-LABEL.*.
replay_once() {
    local mode=$1 value=$2
    local label rate_option requested
    case "$mode" in
        pps) label="pps$value"; rate_option="--pps=$value"; requested="$value pps" ;;
        mbps) label="mbps$value"; rate_option="--mbps=$value"; requested="$value Mbps" ;;
        topspeed) label=topspeed; rate_option="--topspeed"; requested="top speed" ;;
        original) label=original; rate_option="--multiplier=1"; requested="original timing" ;;
    esac
    local base="$work/live-$label"
    local analyze_options=(--eve "$base.json" --operations "$operations")
    if [ -n "$buffer_size" ]; then analyze_options+=(--buffer-size "$buffer_size"); fi
    analyze_options+=("${extra_options[@]}")

    # GNU time reports the CPU time of the whole run, including the flush after SIGINT.
    rm -f "$base.json" "$base.summary" "$base.err" "$base.cpu"
    ip netns exec "$rx_namespace" /usr/bin/time -f '%U %S' -o "$base.cpu" \
        "$bin/wirecheck" analyze -i "$rx_interface" "${analyze_options[@]}" >"$base.summary" 2>"$base.err" &
    local time_pid=$!

    local waited=0
    until grep -q "capturing on interface" "$base.err" 2>/dev/null; do
        if ! kill -0 "$time_pid" 2>/dev/null; then
            cat "$base.err" >&2
            fail "wirecheck analyze -i $rx_interface exited before capturing; its errors are above"
        fi
        waited=$((waited + 1))
        [ "$waited" -le 100 ] || fail "wirecheck analyze -i $rx_interface did not start capturing within 10 s; see $base.err"
        sleep 0.1
    done
    wirecheck_pid=$(pgrep -P "$time_pid" | head -n 1 || true)
    [ -n "$wirecheck_pid" ] || fail "cannot find the wirecheck process started by /usr/bin/time (pid $time_pid)"

    ip netns exec "$tx_namespace" tcpreplay --intf1="$tx_interface" "$rate_option" "$capture" >"$base.tcpreplay" 2>&1 \
        || { cat "$base.tcpreplay" >&2; fail "tcpreplay failed on $tx_interface; its output is above"; }
    # wirecheck stops at SIGINT without reading what the kernel buffer still holds, so it is
    # sent only once wirecheck has caught up.
    wait_until_idle "$wirecheck_pid"
    kill -INT "$wirecheck_pid"
    wait "$time_pid" || fail "wirecheck analyze -i $rx_interface failed; see $base.err"
    wirecheck_pid=

    local sent analysed dropped cpu missing achieved
    sent=$(awk '/Actual:/ { print $2; exit }' "$base.tcpreplay")
    analysed=$(awk '/^Packets / { print $2; exit }' "$base.summary")
    dropped=$(awk '/^Dropped / { print $2; exit }' "$base.summary")
    cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$base.cpu")
    achieved=$(tcpreplay_rate "$base.tcpreplay")
    missing=$((sent - analysed - dropped))
    printf '%-16s %-22s %10s %10s %8s %8s %8s\n' "$requested" "${achieved% *} pps ${achieved#* } Mbps" \
        "$sent" "$analysed" "$dropped" "$missing" "$cpu"

    if [ "$compare" = 1 ]; then
        compare_with_file "$base.json" "$label"
    fi
}

# --- live versus file ---------------------------------------------------------------------

file_eve="$work/file.json"

# Analyses the capture file once per invocation, with the same options as the live runs.
analyze_file() {
    echo "== analysing $capture from the file" >&2
    "$bin/wirecheck" analyze --eve "$file_eve" --operations "$operations" "${extra_options[@]}" "$capture" \
        >"$work/file.summary"
}

# Prints "kind name count" per alert rule and anomaly name in an EVE file, sorted by name. An
# event with "repeats": N counts N times.
count_findings() {
    jq -r 'if .event_type == "alert" then "alert " + .alert.metadata.wirecheck_rule[0] + " " + ((.alert.repeats // 1) | tostring)
           elif .event_type == "anomaly" then "anomaly " + .anomaly.event + " " + ((.anomaly.repeats // 1) | tostring)
           else empty end' "$1" \
        | awk '{ count[$1 " " $2] += $3 } END { for (key in count) print key, count[key] }' | sort
}

compare_with_file() {
    local live_eve=$1 label=$2
    count_findings "$file_eve" >"$work/findings-file.txt"
    count_findings "$live_eve" >"$work/findings-live-$label.txt"
    if diff -q "$work/findings-file.txt" "$work/findings-live-$label.txt" >/dev/null; then
        echo "   live and file runs agree: $(awk '{ n += $3 } END { print n + 0 }' "$work/findings-file.txt") alerts and anomalies under $(wc -l <"$work/findings-file.txt") names"
    else
        echo "   live and file runs differ (kind name file-count live-count):"
        join -a 1 -a 2 -e 0 -o 0,1.2,2.2 -j 1 \
            <(awk '{ print $1 "/" $2, $3 }' "$work/findings-file.txt" | sort) \
            <(awk '{ print $1 "/" $2, $3 }' "$work/findings-live-$label.txt" | sort) \
            | awk '$2 != $3 { sub("/", " ", $1); printf "     %-60s %8s %8s\n", $1, $2, $3 }'
    fi
}

if [ "$compare" = 1 ]; then
    analyze_file
fi

echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'); uptime:$(uptime | sed 's/.*load average/ load average/')"
echo "== capture $capture ($(stat -c %s "$capture") bytes); wirecheck --operations $operations${buffer_size:+ --buffer-size $buffer_size} ${extra_options[*]}"
printf '%-16s %-22s %10s %10s %8s %8s %8s\n' requested achieved sent analysed dropped missing cpu_s
if [ "$sweep" = 1 ]; then
    for pps in $sweep_rates; do
        replay_once pps "$pps"
    done
    replay_once topspeed ""
else
    replay_once "$rate_mode" "$rate_value"
fi
