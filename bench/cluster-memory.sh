#!/usr/bin/env bash
# What a cluster keeps per route entry and per idle persistent session, from live-heap class histograms
# (jmap -histo:live collects first), on a 2-node cluster on this machine (storage.type memory, so only heap counts):
#   1. one client on node 1 subscribes N distinct wildcard filters (sensors/<i>/+/#): node 1's growth is the
#      subscriptions, node 2's growth is the route entries (node 1's filters in node 2's table);
#   2. N persistent MQTT 3.1.1 sessions (clean session 0) connect to node 1 and go offline: the growth of node 1
#      and of node 2 (the session directory's entries and their backups, and whatever else is replicated).
# Prints bytes per unit for each node, and the classes that grew the most.
#
#   bench/cluster-memory.sh [-n 100000] [--ports BASE]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=100000
BASE=25883
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N=$2; shift 2 ;;
    --ports) BASE=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster-memory: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
TERNMQ_JAR="$ROOT/ternmq-broker/target/ternmq.jar"
BENCH_JAR="$ROOT/ternmq-bench/target/ternmq-bench.jar"
if [ ! -f "$TERNMQ_JAR" ] || [ ! -f "$BENCH_JAR" ]; then
  echo "cluster-memory: build first: ./mvnw -q -DskipTests package" >&2
  exit 2
fi
WORK=$(mktemp -d /tmp/ternmq-cluster-memory.XXXXXX)
P1=$BASE; P2=$((BASE + 1)); H1=$((BASE + 10)); H2=$((BASE + 11))
for n in 1 2; do
  port=$P1; hz=$H1
  [ $n = 2 ] && port=$P2 && hz=$H2
  cat > "$WORK/node$n.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
storage.type memory
max_queued_messages 1000
data_dir $WORK/node$n
cluster.enabled true
cluster.bind 127.0.0.1:$hz
cluster.members 127.0.0.1:$H1,127.0.0.1:$H2
cluster.secret bench-cluster-secret-0123456789
EOF
done
PIDS=()
for n in 1 2; do
  java -jar "$TERNMQ_JAR" -c "$WORK/node$n.conf" > "$WORK/node$n.log" 2>&1 &
  PIDS+=($!)
done
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
for n in 1 2; do
  for _ in $(seq 1 600); do grep -q "(2 members)" "$WORK/node$n.log" && break; sleep 0.1; done
  grep -q "(2 members)" "$WORK/node$n.log" || { echo "cluster-memory: node $n did not join; $WORK/node$n.log" >&2; exit 1; }
done
histo() { # step name
  for n in 1 2; do jmap -histo:live "${PIDS[$((n - 1))]}" > "$WORK/$1-node$n.txt"; done
}

# warm-up: what the first subscriptions and sessions load once belongs to the baseline
/usr/bin/python3 - "$P1" 200 warm <<'PY'
import sys, paho.mqtt.client as mqtt
port, n, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = mqtt.Client(client_id=f"{tag}-filters", clean_session=True)
c.connect("127.0.0.1", port); c.loop_start()
for i in range(0, n, 100):
    c.subscribe([(f"{tag}/{j}/+/#", 1) for j in range(i, min(n, i + 100))])[1]
import time; time.sleep(1); c.disconnect(); c.loop_stop()
PY
java -jar "$BENCH_JAR" conn -p "$P1" -c 2000 --conn-rate 2000 -d 1 --settle 0 --persistent --prefix warm- --no-jmx \
  --quiet > /dev/null 2>&1
sleep 2
histo base

# 1. N wildcard filters from one client on node 1, held while measuring
/usr/bin/python3 - "$P1" "$N" sensors "$WORK/filters.done" > "$WORK/filters.log" 2>&1 <<'PY' &
import sys, time, paho.mqtt.client as mqtt
port, n, tag, done = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
acked = 0
def on_subscribe(c, u, mid, granted):
    global acked
    acked += 1
c = mqtt.Client(client_id=f"{tag}-filters", clean_session=True)
c.on_subscribe = on_subscribe
c.connect("127.0.0.1", port, keepalive=600); c.loop_start()
batches = 0
for i in range(0, n, 100):
    c.subscribe([(f"{tag}/{j}/+/#", 1) for j in range(i, min(n, i + 100))])
    batches += 1
    while batches - acked > 20:
        time.sleep(0.005)
while acked < batches:
    time.sleep(0.05)
open(done, "w").write("ok")
time.sleep(3600)
PY
FILTERS=$!
PIDS+=("$FILTERS")
until [ -f "$WORK/filters.done" ]; do
  kill -0 "$FILTERS" 2>/dev/null || { echo "cluster-memory: the subscriber stopped: $WORK/filters.log" >&2; exit 1; }
  sleep 0.5
done
sleep 2
histo filters

# 2. N idle persistent sessions on node 1 (they connect, then the load generator ends, leaving them offline)
# in batches of 10,000: each connection is an open file of the load generator too
left=$N; batch=0
while [ "$left" -gt 0 ]; do
  c=$(( left < 10000 ? left : 10000 ))
  java -jar "$BENCH_JAR" conn -p "$P1" -c "$c" --conn-rate 5000 -d 1 --settle 0 --persistent --session-expiry 86400 \
    --prefix "sess$batch-" --no-jmx --quiet >> "$WORK/sessions.log" 2>&1 \
    || { echo "cluster-memory: connecting sessions failed: $WORK/sessions.log" >&2; exit 1; }
  left=$((left - c)); batch=$((batch + 1))
done
sleep 2
histo sessions

python3 - "$WORK" "$N" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
def load(path):
    rows = {}
    for line in open(path).read().splitlines()[2:-1]:
        f = line.split()
        rows[f[3]] = int(f[2])
    return rows
def growth(a, b):
    before, after = load(f"{work}/{a}.txt"), load(f"{work}/{b}.txt")
    diff = {k: v - before.get(k, 0) for k, v in after.items()}
    return sum(diff.values()), sorted(diff.items(), key=lambda kv: -kv[1])[:6]
for step, unit, prev in (("filters", "wildcard filter", "base"), ("sessions", "idle persistent session", "filters")):
    for node in (1, 2):
        total, top = growth(f"{prev}-node{node}", f"{step}-node{node}")
        print(f"{step}: node {node}: {total / n:8.1f} B per {unit} ({n:,}); most: "
              + ", ".join(f"{k.split('.')[-1]} {v / n:.0f}" for k, v in top if v > 0))
PY
echo "(histograms in $WORK)"
