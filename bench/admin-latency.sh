#!/usr/bin/env bash
# How long the admin API takes with many sessions (issue 14: /metrics < 50 ms and /api/v1/clients?limit=100
# < 100 ms at 100,000 sessions). Starts the broker (storage.type memory, an http_api listener), makes N persistent
# MQTT 3.1.1 sessions that go offline (ternmq-bench conn, in batches of 10,000) and holds C of them online, then
# times R requests of each endpoint with curl and prints min / median / p95 / max in milliseconds.
# With --probe S it then checks that answering never holds an I/O loop up (issue 14: no loop blocked > 5 ms): one
# publisher/subscriber pair at 1,000 QoS 0 messages a second (both on the broker's I/O loop, which serves the admin
# API's session reads too) runs S seconds with nothing else, then S seconds while the requests above repeat; a loop
# held up for t ms shows as a message delivered t ms late, so the pair's maximum latency bounds the longest hold.
# The broker logs its safepoints (-Xlog:safepoint): the stop-the-world pauses (garbage collection among them) in each
# probe's window are printed beside it, so that a late message can be told from a pause of the whole JVM; and the
# I/O loop's own longest hold (-Dternmq.loop_hold_probe: it notes how late a task due every millisecond runs, which
# the probe client's own pauses cannot blur). Before the timings a full collection promotes the sessions just made
# (the first young collection would otherwise copy them all, once, whatever ran then).
#
#   bench/admin-latency.sh [-n 100000] [-c 10000] [-r 50] [--ports BASE] [--probe 20]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=100000
ONLINE=10000
R=50
BASE=26883
PROBE=0
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N=$2; shift 2 ;;
    -c) ONLINE=$2; shift 2 ;;
    -r) R=$2; shift 2 ;;
    --ports) BASE=$2; shift 2 ;;
    --probe) PROBE=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "admin-latency: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
TERNMQ_JAR="$ROOT/ternmq-broker/target/ternmq.jar"
BENCH_JAR="$ROOT/ternmq-bench/target/ternmq-bench.jar"
if [ ! -f "$TERNMQ_JAR" ] || [ ! -f "$BENCH_JAR" ]; then
  echo "admin-latency: build first: ./mvnw -q -DskipTests package" >&2
  exit 2
fi
WORK=$(mktemp -d /tmp/ternmq-admin-latency.XXXXXX)
MQTT=$BASE; ADMIN=$((BASE + 1))
java -jar "$TERNMQ_JAR" passwd -c -b "$WORK/admin.passwd" bench bench-password > /dev/null
cat > "$WORK/ternmq.conf" <<EOF
storage.type memory
data_dir $WORK/data
listener $MQTT 127.0.0.1
allow_anonymous true
listener $ADMIN 127.0.0.1
protocol http_api
password_file $WORK/admin.passwd
EOF
java -Xlog:safepoint:file="$WORK/safepoints.log":time -Dternmq.loop_hold_probe=true -jar "$TERNMQ_JAR" -c "$WORK/ternmq.conf" \
  > "$WORK/broker.log" 2>&1 &
BROKER=$!
HOLD=""; ASKING=""
trap 'kill $BROKER $HOLD $ASKING 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do (echo > "/dev/tcp/127.0.0.1/$MQTT") 2>/dev/null && break; sleep 0.1; done

offline=$((N - ONLINE))
left=$offline; batch=0
while [ "$left" -gt 0 ]; do
  c=$(( left < 10000 ? left : 10000 ))
  java -jar "$BENCH_JAR" conn -p "$MQTT" -c "$c" --conn-rate 5000 -d 1 --settle 0 --persistent \
    --session-expiry 86400 --prefix "off$batch-" --no-jmx --quiet >> "$WORK/sessions.log" 2>&1 \
    || { echo "admin-latency: connecting sessions failed: $WORK/sessions.log" >&2; exit 1; }
  left=$((left - c)); batch=$((batch + 1))
done
if [ "$ONLINE" -gt 0 ]; then
  java -jar "$BENCH_JAR" conn -p "$MQTT" -c "$ONLINE" --conn-rate 5000 -d 3600 --settle 0 --persistent \
    --session-expiry 86400 --prefix on- --no-jmx --quiet >> "$WORK/sessions.log" 2>&1 &
  HOLD=$!
  until [ "$(ss -Htn state established "( sport = :$MQTT )" | wc -l)" -ge "$ONLINE" ]; do
    kill -0 "$HOLD" 2>/dev/null || { echo "admin-latency: the load generator stopped early" >&2; exit 1; }
    sleep 0.5
  done
fi
sessions=$(curl -s -u bench:bench-password "http://127.0.0.1:$ADMIN/api/v1/status" | python3 -c \
  'import json,sys; d=json.load(sys.stdin); print(d.get("sessions", d))')
echo "sessions: $sessions (of which $ONLINE online)" >&2

# the sessions just made are still young: the first collection would copy them all, once, whatever ran then; a
# full collection now promotes them, so that what follows sees a settled broker
jcmd "$BROKER" GC.run > /dev/null

time_it() { # name path
  : > "$WORK/$1.times"
  # the first requests also warm the admin loop's code up; all are counted
  for _ in $(seq 1 "$R"); do
    curl -s -o /dev/null -w '%{time_total}\n' -u bench:bench-password "http://127.0.0.1:$ADMIN$2" >> "$WORK/$1.times"
  done
  python3 - "$1" "$2" "$WORK/$1.times" <<'PY'
import sys, statistics
t = sorted(float(x) * 1000 for x in open(sys.argv[3]).read().split())
p95 = t[min(len(t) - 1, int(round(0.95 * (len(t) - 1))))]
print(f"{sys.argv[2]:32} n={len(t)}  min {t[0]:.1f}  median {statistics.median(t):.1f}  p95 {p95:.1f}  max {t[-1]:.1f} ms")
PY
}
time_it metrics /metrics
time_it clients "/api/v1/clients?limit=100"
time_it clients-online "/api/v1/clients?limit=100&connected=true"
time_it stats /api/v1/stats

if [ "$PROBE" -gt 0 ]; then
  probe() { # name: the pair's latency over PROBE seconds (after 3 s of warm-up)
    local from to
    from=$(date +%s.%N)
    java -jar "$BENCH_JAR" pairs -p "$MQTT" -c 1 -q 0 -s 64 -r 1000 --warmup 3 -d "$PROBE" --prefix "probe-$1-" \
      --quiet > "$WORK/probe-$1.log" 2>&1 || { echo "admin-latency: the probe failed: $WORK/probe-$1.log" >&2; exit 1; }
    to=$(date +%s.%N)
    python3 - "$1" "$WORK/probe-$1.log" "$WORK/safepoints.log" "$from" "$to" "$WORK/broker.log" <<'PY'
import datetime, json, re, sys
r = next(json.loads(l[7:]) for l in open(sys.argv[2]) if l.startswith("RESULT "))
print(f"probe {sys.argv[1]:9} 1,000 msg/s: received {r['received']} of {r['sent']}, latency p50 {r['lat_p50_ms']:.2f}"
      f"  p99 {r['lat_p99_ms']:.2f}  p99.9 {r['lat_p999_ms']:.2f}  max {r['lat_max_ms']:.2f} ms")
# the broker's stop-the-world pauses in the same window (the probe's warm-up included)
start, end = float(sys.argv[4]), float(sys.argv[5])
pauses = []
for line in open(sys.argv[3]):
    m = re.match(r'\[(\S+)\].*Safepoint "(\w+)".*Total: (\d+) ns', line)
    if m:
        at = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
        if start <= at <= end:
            pauses.append((int(m.group(3)) / 1e6, m.group(2)))
pauses.sort(reverse=True)
over = [p for p in pauses if p[0] > 5]
top = ", ".join(f"{ms:.1f} ({what})" for ms, what in pauses[:3])
print(f"          the broker's pauses meanwhile: {len(pauses)}, {len(over)} over 5 ms, longest {top or 'none'}")
# the I/O loop's own reports (-Dternmq.loop_hold_probe): each covers the 5 s before it; those inside the window
holds = []
for line in open(sys.argv[6]):
    m = re.match(r'(\S+Z) .*loop hold: (\S+) longest ([\d.]+) ms, (\d+) over 5 ms, most CPU between runs '
                 r'([\d.]+) ms', line)
    if m:
        at = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
        if start + 5 <= at <= end:
            holds.append((float(m.group(3)), int(m.group(4)), float(m.group(5))))
if holds:
    print(f"          the I/O loop ({len(holds) * 5} s of it): longest hold {max(h[0] for h in holds):.2f} ms, "
          f"{sum(h[1] for h in holds)} holds over 5 ms; most CPU it used between two 1 ms ticks "
          f"{max(h[2] for h in holds):.2f} ms (the rest of a hold: waiting for a CPU or a pause)")
PY
  }
  probe idle
  ( while :; do
      for path in /metrics "/api/v1/clients?limit=100" "/api/v1/clients?limit=100&connected=true" /api/v1/stats; do
        curl -s -o /dev/null -u bench:bench-password "http://127.0.0.1:$ADMIN$path"
      done
    done ) &
  ASKING=$!
  probe answering
  kill "$ASKING" 2>/dev/null || true
fi
