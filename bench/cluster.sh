#!/usr/bin/env bash
# A single TernMQ node against a 2-node TernMQ cluster on this machine, alternating in one run (issue 13's targets).
# All three brokers run for the whole run (idle ones only exchange heartbeats), each with RocksDB and
# `storage.durability fsync`. Per round and scenario, the same load runs against:
#   single  publishers and subscribers on the single node
#   cross   publishers on cluster node 1, subscribers on cluster node 2 (every message crosses the data link)
#   local   publishers and subscribers on cluster node 1 (what the cluster costs traffic that stays on one node)
# then 10,000 connections at 2,000/s: on the single node, and spread over the two cluster nodes (1,000/s each).
# Prints a Markdown table of medians (and replaces its block in --out if given).
#
#   bench/cluster.sh [--rounds 3] [--duration 10] [--out FILE] [--ports BASE]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROUNDS=3
DURATION=10
OUT=""
BASE=24883
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --ports) BASE=$2; shift 2 ;;
    *) echo "cluster: unknown option $1" >&2; exit 2 ;;
  esac
done
TERNMQ_JAR="$ROOT/ternmq-broker/target/ternmq.jar"
BENCH_JAR="$ROOT/ternmq-bench/target/ternmq-bench.jar"
if [ ! -f "$TERNMQ_JAR" ] || [ ! -f "$BENCH_JAR" ]; then
  ./mvnw -q -DskipTests package -pl ternmq-broker,ternmq-bench -am
fi
WORK=$(mktemp -d /tmp/ternmq-cluster.XXXXXX)
SPORT=$BASE            # single node
N1PORT=$((BASE + 1))   # cluster node 1
N2PORT=$((BASE + 2))   # cluster node 2
H1=$((BASE + 10))      # membership ports (the data links choose their own)
H2=$((BASE + 11))

common() {
  cat <<EOF
allow_anonymous true
max_inflight_messages 20
max_queued_messages 1000
storage.type rocksdb
storage.durability fsync
EOF
}
{ echo "listener $SPORT 127.0.0.1"; echo "data_dir $WORK/single"; common; } > "$WORK/single.conf"
for n in 1 2; do
  port=$N1PORT; hz=$H1
  [ $n = 2 ] && port=$N2PORT && hz=$H2
  { echo "listener $port 127.0.0.1"; echo "data_dir $WORK/node$n"; common
    echo "cluster.enabled true"
    echo "cluster.bind 127.0.0.1:$hz"
    echo "cluster.members 127.0.0.1:$H1,127.0.0.1:$H2"
    echo "cluster.secret bench-cluster-secret-0123456789"; } > "$WORK/node$n.conf"
done
PIDS=()
for b in single node1 node2; do
  java -jar "$TERNMQ_JAR" -c "$WORK/$b.conf" > "$WORK/$b.log" 2>&1 &
  PIDS+=($!)
done
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
for p in $SPORT $N1PORT $N2PORT; do
  for _ in $(seq 1 300); do (echo > "/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.1; done
done
# the nodes serve once they see each other; wait for the join line in both logs
for n in 1 2; do
  for _ in $(seq 1 300); do grep -q "(2 members)" "$WORK/node$n.log" && break; sleep 0.1; done
  grep -q "(2 members)" "$WORK/node$n.log" || { echo "cluster: node $n did not see 2 members; $WORK/node$n.log" >&2; exit 1; }
done

# Every run has its own client ids and topics (RUN), so offline sessions of earlier runs never get later messages.
SCENARIOS=(
  "pairs 64, QoS 1, 64 B, max rate|pairs -c 64 -q 1 -s 64 --inflight 64 -t RUN/p/%i"
  "pairs 16, QoS 1, 64 B, persistent, fsync, max rate|pairs -c 16 -q 1 -s 64 --persistent --inflight 64 -t RUN/p/%i"
  "pairs 64, QoS 1, 64 B, 50/s per publisher|pairs -c 64 -q 1 -s 64 -r 50 -t RUN/p/%i"
)
# Warm every broker's JIT up first (not recorded), so the first placement measured is not the cold one.
for port in $SPORT $N1PORT $N2PORT; do
  echo "  warm-up: port $port" >&2
  java -jar "$BENCH_JAR" pairs -c 16 -q 1 -s 64 -d 5 -p "$port" --prefix "warm$port-" --quiet > /dev/null 2>&1 || true
done
: > "$WORK/results.jsonl"
record() { # placement label json
  python3 -c 'import json,sys; r=json.loads(sys.argv[3]); r["placement"]=sys.argv[1]; r["label"]=sys.argv[2]; print(json.dumps(r))' \
    "$1" "$2" "$3" >> "$WORK/results.jsonl"
}
run=0
for round in $(seq 1 "$ROUNDS"); do
  for s in "${SCENARIOS[@]}"; do
    label=${s%%|*}
    # the order turns each round, so no placement always runs first
    placements=(single cross local)
    [ $((round % 3)) = 2 ] && placements=(cross local single)
    [ $((round % 3)) = 0 ] && placements=(local single cross)
    for placement in "${placements[@]}"; do
      run=$((run + 1))
      args=${s#*|}
      args=${args//RUN/run$run}
      case $placement in
        single) where=(-p "$SPORT") ;;
        cross) where=(-p "$N1PORT" --sub-port "$N2PORT") ;;
        local) where=(-p "$N1PORT") ;;
      esac
      echo "  [$round] $placement: $label" >&2
      # shellcheck disable=SC2086
      line=$(java -jar "$BENCH_JAR" $args "${where[@]}" -d "$DURATION" --warmup 2 --prefix "run$run-" --quiet 2>&1 \
        | grep '^RESULT ' | sed 's/^RESULT //')
      record "$placement" "$label" "$line"
    done
  done
  # 10,000 connections at 2,000/s: one node, then 5,000 to each cluster node at once
  run=$((run + 1))
  echo "  [$round] single: 10,000 connections" >&2
  line=$(java -jar "$BENCH_JAR" conn -c 10000 --conn-rate 2000 -d 2 --settle 0 -p "$SPORT" --prefix "run$run-" \
    --quiet 2>&1 | grep '^RESULT ' | sed 's/^RESULT //')
  record single "10,000 connections at 2,000/s" "$line"
  run=$((run + 1))
  echo "  [$round] spread: 10,000 connections" >&2
  java -jar "$BENCH_JAR" conn -c 5000 --conn-rate 1000 -d 2 --settle 0 -p "$N1PORT" --prefix "run$run-a-" --quiet \
    > "$WORK/conn-a.out" 2>&1 &
  a=$!
  java -jar "$BENCH_JAR" conn -c 5000 --conn-rate 1000 -d 2 --settle 0 -p "$N2PORT" --prefix "run$run-b-" --quiet \
    > "$WORK/conn-b.out" 2>&1 &
  b=$!
  wait $a $b
  line=$(python3 - "$WORK/conn-a.out" "$WORK/conn-b.out" <<'PY'
import json, sys
rs = [json.loads(next(l for l in open(f) if l.startswith("RESULT "))[7:]) for f in sys.argv[1:]]
print(json.dumps({"connected": sum(r["connected"] for r in rs), "failed": sum(r["failed"] for r in rs),
                  "conn_rate": sum(r.get("conn_rate") or 0 for r in rs),
                  "connect_p99_ms": max(r.get("connect_p99_ms") or 0 for r in rs)}))
PY
)
  record cross "10,000 connections at 2,000/s" "$line"
done

python3 - "$WORK/results.jsonl" "$ROUNDS" "$DURATION" "$OUT" <<'PY'
import json, statistics, sys, subprocess, datetime, os
rows = [json.loads(l) for l in open(sys.argv[1])]
rounds, duration, out = sys.argv[2], sys.argv[3], sys.argv[4]
labels = []
for r in rows:
    if r["label"] not in labels:
        labels.append(r["label"])
def med(label, placement, key):
    v = [r[key] for r in rows if r["label"] == label and r["placement"] == placement and r.get(key) is not None]
    return statistics.median(v) if v else None
def num(v, fmt="{:,.0f}"):
    return fmt.format(v) if v is not None else "n/a"
cores = os.cpu_count()
jdk = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
lines = ["## Cluster: a single node against a 2-node cluster on one machine", ""]
lines.append(f"- **Date:** {datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%MZ')} (UTC); **machine:** {cores} cores, "
             f"{jdk}; the three brokers and the load generator share the cores.")
lines.append(f"- **Command:** `bench/cluster.sh --rounds {rounds} --duration {duration}` — per round each scenario "
             f"runs against the single node, across the cluster (publishers on node 1, subscribers on node 2) and "
             f"inside node 1 of the cluster; {duration} s measured after 2 s of warm-up; medians over the rounds. "
             "RocksDB with `storage.durability fsync` everywhere.")
lines.append("")
lines.append("| Scenario | single msg/s | cross msg/s | cross/single | local msg/s | local/single | p99 ms single / cross / local | lost single / cross / local |")
lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for l in labels:
    if l.startswith("10,000"):
        continue
    s, c, o = (med(l, p, "recv_rate") for p in ("single", "cross", "local"))
    p99 = " / ".join(num(med(l, p, "lat_p99_ms"), "{:.2f}") for p in ("single", "cross", "local"))
    lost = " / ".join(num(med(l, p, "lost")) for p in ("single", "cross", "local"))
    lines.append(f"| {l} | {num(s)} | {num(c)} | {num(c / s if s and c else None, '{:.2f}')} | {num(o)} | "
                 f"{num(o / s if s and o else None, '{:.2f}')} | {p99} | {lost} |")
l = "10,000 connections at 2,000/s"
lines.append("")
lines.append(f"10,000 connections at 2,000/s (`conn -c 10000 --conn-rate 2000`; spread: `conn -c 5000 --conn-rate 1000` "
             f"to each node at once): connected {num(med(l, 'single', 'connected'))} on one node, "
             f"{num(med(l, 'cross', 'connected'))} spread over two; failed {num(med(l, 'single', 'failed'))} / "
             f"{num(med(l, 'cross', 'failed'))}; connect p99 {num(med(l, 'single', 'connect_p99_ms'), '{:.1f}')} / "
             f"{num(med(l, 'cross', 'connect_p99_ms'), '{:.1f}')} ms.")
text = "\n".join(lines) + "\n"
print(text)
if out:
    begin, end = "<!-- cluster:begin -->", "<!-- cluster:end -->"
    doc = open(out).read() if os.path.exists(out) else ""
    block = begin + "\n\n" + text + "\n" + end
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    open(out, "w").write(doc)
PY
