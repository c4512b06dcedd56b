#!/usr/bin/env bash
# What a cluster keeps per route entry, per subscription and per idle persistent session (with its replica), from
# live-heap class histograms (jmap -histo:live collects first), on a 2-node cluster on this machine:
#   1. one client on node 1 subscribes N distinct wildcard filters (sensors/<i>/+/#): node 1's growth is the
#      subscriptions, node 2's growth is the route entries (node 1's filters in node 2's table);
#   2. N persistent MQTT 3.1.1 sessions (clean session 0) connect to node 1, each subscribes one filter shared by all
#      (fleet/+/status, QoS 1: no new route), and go offline with nothing queued: node 1's growth is the session and
#      whatever replica and directory partitions node 1 holds; node 2's is the rest of the replicas and directory
#      entries (with 2 members, every partition has its owner on one node and its backup on the other);
#   3. with --queued K: K QoS 1 messages of 64 B published on node 1 to fleet/q/status, queued by every session
#      (the N and the 2,000 of the warm-up; each PUBACK waits for the session replicas): the growth per queued
#      message.
# Prints bytes per unit for each node and for both together, RSS growth, the store's growth on disk (RocksDB: its
# log and tables under data_dir/store, as written, before any compaction) and the classes that grew the most.
#
#   bench/cluster-memory.sh [-n 100000] [--queued 0] [--storage rocksdb|memory] [--filters-only] [--ports BASE]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=100000
QUEUED=0
FILTERS_ONLY=0 # step 1 alone
STORAGE=rocksdb
BASE=25883
WARM=2000 # warm-up sessions, with the same subscription (so they queue the messages of step 3 too)
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N=$2; shift 2 ;;
    --queued) QUEUED=$2; shift 2 ;;
    --storage) STORAGE=$2; shift 2 ;;
    --filters-only) FILTERS_ONLY=1; shift ;;
    --ports) BASE=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster-memory: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$STORAGE" in rocksdb|memory) ;; *) echo "cluster-memory: --storage is rocksdb or memory, not $STORAGE" >&2; exit 2 ;; esac
if [ "$QUEUED" -gt 1000 ]; then echo "cluster-memory: --queued at most 1000 (max_queued_messages)" >&2; exit 2; fi
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
  cat > "$WORK/node$n.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
storage.type $STORAGE
storage.durability periodic
max_queued_messages 1000
data_dir $WORK/node$n
cluster.enabled true
cluster.bind 127.0.0.1:$hz
cluster.members 127.0.0.1:$H1,127.0.0.1:$H2
cluster.secret bench-cluster-secret-0123456789
CONF
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
for port in "$P1" "$P2"; do # the listeners open after the membership (retained messages and sessions come first)
  for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done
histo() { # step name: live-heap histogram (after a full collection), then RSS and the store's size on disk
  for n in 1 2; do
    pid=${PIDS[$((n - 1))]}
    jmap -histo:live "$pid" > "$WORK/$1-node$n.txt"
    awk '/^VmRSS/ {print $2}' "/proc/$pid/status" > "$WORK/$1-node$n.rss" # KiB
    if [ -d "$WORK/node$n/store" ]; then du -sb "$WORK/node$n/store" | cut -f1; else echo 0; fi > "$WORK/$1-node$n.disk"
  done
}

# N persistent sessions (MQTT 3.1.1, clean session 0), each: CONNECT, CONNACK, SUBSCRIBE one filter at QoS 1,
# SUBACK, DISCONNECT; 200 at a time
sessions() { # prefix count
  /usr/bin/python3 - "$P1" "$1" "$2" <<'PY'
import asyncio, struct, sys
port, prefix, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def length(n):
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
def string(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b
def packet(first, body):
    return bytes([first]) + length(len(body)) + body
SUBSCRIBE = packet(0x82, struct.pack("!H", 1) + string("fleet/+/status") + b"\x01")
async def one(cid, gate):
    async with gate:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(packet(0x10, string("MQTT") + b"\x04\x00" + struct.pack("!H", 600) + string(cid)))
        ack = await r.readexactly(4)
        if ack[0] != 0x20 or ack[3] != 0:
            raise SystemExit(f"{cid}: CONNACK {ack.hex()}")
        w.write(SUBSCRIBE)
        ack = await r.readexactly(5)
        if ack[0] != 0x90 or ack[4] != 1:
            raise SystemExit(f"{cid}: SUBACK {ack.hex()}")
        w.write(b"\xe0\x00")
        await w.drain()
        w.close()
        await w.wait_closed()
async def main():
    gate = asyncio.Semaphore(200)
    await asyncio.gather(*(one(f"{prefix}{i}", gate) for i in range(n)))
asyncio.run(main())
PY
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
sessions warm- "$WARM" || { echo "cluster-memory: warm-up sessions failed" >&2; exit 1; }
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

STEPS="filters:base:wildcard-filter:$N"

# 2. N idle persistent sessions on node 1, one subscription each, nothing queued
if [ "$FILTERS_ONLY" = 0 ]; then
T0=$(date +%s)
sessions sess- "$N" > "$WORK/sessions.log" 2>&1 || { echo "cluster-memory: sessions failed: $WORK/sessions.log" >&2; exit 1; }
echo "sessions: $N made in $(( $(date +%s) - T0 )) s"
sleep 2
histo sessions
STEPS="$STEPS sessions:filters:idle-persistent-session:$N"

# 3. K queued QoS 1 messages of 64 B for every session
if [ "$QUEUED" -gt 0 ]; then
  T0=$(date +%s)
  /usr/bin/python3 - "$P1" "$QUEUED" > "$WORK/queued.log" 2>&1 <<'PY' || { echo "cluster-memory: publishing failed: $WORK/queued.log" >&2; exit 1; }
import sys, paho.mqtt.client as mqtt
port, k = int(sys.argv[1]), int(sys.argv[2])
c = mqtt.Client(client_id="queued-publisher", clean_session=True)
c.max_inflight_messages_set(4)
c.connect("127.0.0.1", port, keepalive=600); c.loop_start()
infos = [c.publish("fleet/q/status", b"x" * 64, qos=1) for _ in range(k)]
for i in infos:
    i.wait_for_publish()
c.disconnect(); c.loop_stop()
PY
  echo "queued: $QUEUED messages for $((N + WARM)) sessions acknowledged in $(( $(date +%s) - T0 )) s"
  sleep 2
  histo queued
  STEPS="$STEPS queued:sessions:queued-message:$(((N + WARM) * QUEUED))"
fi
fi

python3 - "$WORK" "$STEPS" <<'PY'
import sys
work, steps = sys.argv[1], [s.split(":") for s in sys.argv[2].split()]
def load(path):
    rows = {}
    for line in open(path).read().splitlines()[2:-1]:
        f = line.split()
        rows[f[3]] = (int(f[1]), int(f[2]))
    return rows
def num(path):
    return int(float(open(path).read().strip() or 0))
for step, prev, unit, count in steps:
    unit, n = unit.replace("-", " "), int(count)
    totals = 0
    for node in (1, 2):
        before, after = load(f"{work}/{prev}-node{node}.txt"), load(f"{work}/{step}-node{node}.txt")
        diff = {k: (v[0] - before.get(k, (0, 0))[0], v[1] - before.get(k, (0, 0))[1]) for k, v in after.items()}
        total = sum(b for _, b in diff.values())
        totals += total
        rss = 1024 * (num(f"{work}/{step}-node{node}.rss") - num(f"{work}/{prev}-node{node}.rss"))
        disk = num(f"{work}/{step}-node{node}.disk") - num(f"{work}/{prev}-node{node}.disk")
        top = sorted(diff.items(), key=lambda kv: -kv[1][1])[:10]
        print(f"{step}: node {node}: heap {total / n:8.1f} B per {unit} ({n:,}); RSS {rss / n:8.1f} B; "
              f"store on disk {disk / n:8.1f} B")
        print("    most (B per unit, instances per unit): "
              + ", ".join(f"{k.split('.')[-1]} {v[1] / n:.0f} ({v[0] / n:.2f})" for k, v in top if v[1] > 0))
    print(f"{step}: both nodes: heap {totals / n:8.1f} B per {unit}")
PY
echo "(histograms in $WORK)"
