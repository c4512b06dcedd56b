#!/usr/bin/env bash
# QoS 1 with persistent sessions, side by side: TernMQ with its default store (RocksDB, storage.durability fsync:
# every acknowledged message synced to disk first) against Mosquitto with `persistence true` (Mosquitto keeps
# messages in memory and writes a snapshot every autosave_interval, 30 minutes by default). Runs the same scenarios
# against each in turn for several rounds and prints a Markdown table of medians (and writes it to --out if given).
#
#   bench/persistent.sh [--rounds 3] [--duration 10] [--out FILE]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROUNDS=3
DURATION=10
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "persistent: unknown option $1" >&2; exit 2 ;;
  esac
done
TERNMQ_JAR="$ROOT/ternmq-broker/target/ternmq.jar"
BENCH_JAR="$ROOT/ternmq-bench/target/ternmq-bench.jar"
if [ ! -f "$TERNMQ_JAR" ] || [ ! -f "$BENCH_JAR" ]; then
  ./mvnw -q -DskipTests package -pl ternmq-broker,ternmq-bench -am
fi
WORK=$(mktemp -d /tmp/ternmq-persistent.XXXXXX)
TPORT=22883
MPORT=22884
cat > "$WORK/ternmq.conf" <<EOF
listener $TPORT 127.0.0.1
allow_anonymous true
max_inflight_messages 20
max_queued_messages 1000
data_dir $WORK/ternmq-data
storage.type rocksdb
storage.durability fsync
EOF
cat > "$WORK/mosquitto.conf" <<EOF
listener $MPORT 127.0.0.1
allow_anonymous true
max_inflight_messages 20
max_queued_messages 1000
set_tcp_nodelay true
persistence true
persistence_location $WORK/mosquitto-data/
EOF
mkdir -p "$WORK/mosquitto-data"
java -jar "$TERNMQ_JAR" -c "$WORK/ternmq.conf" > "$WORK/ternmq.log" 2>&1 &
TPID=$!
/usr/sbin/mosquitto -c "$WORK/mosquitto.conf" > "$WORK/mosquitto.log" 2>&1 &
MPID=$!
trap 'kill $TPID $MPID 2>/dev/null || true' EXIT
for p in $TPORT $MPORT; do
  for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.1; done
done

# Every run has its own client ids and topics (ROUND and the scenario number go into them), so that offline
# sessions left by earlier runs never receive a later run's messages.
SCENARIOS=(
  "pairs 16, QoS 1, 64 B, max rate|pairs -c 16 -q 1 -s 64 --persistent --inflight 64 -t RUN/p/%i"
  "pairs 16, QoS 1, 64 B, 100/s per publisher|pairs -c 16 -q 1 -s 64 -r 100 --persistent -t RUN/p/%i"
  "fan-in 8→1, QoS 1, 64 B, max rate|fanin -q 1 -s 64 --persistent --inflight 64 -t RUN/f/%i --filter RUN/f/#"
)
: > "$WORK/results.jsonl"
run=0
for round in $(seq 1 "$ROUNDS"); do
  for s in "${SCENARIOS[@]}"; do
    label=${s%%|*}
    for broker in ternmq mosquitto; do
      run=$((run + 1))
      args=${s#*|}
      args=${args//RUN/run$run}
      port=$TPORT; [ $broker = mosquitto ] && port=$MPORT
      echo "  [$round] $broker: $label" >&2
      # shellcheck disable=SC2086
      line=$(java -jar "$BENCH_JAR" $args -p $port -d "$DURATION" --warmup 2 --prefix "run$run-" --quiet 2>&1 \
        | grep '^RESULT ' | sed 's/^RESULT //')
      python3 -c 'import json,sys; r=json.loads(sys.argv[3]); r["broker"]=sys.argv[1]; r["label"]=sys.argv[2]; print(json.dumps(r))' \
        "$broker" "$label" "$line" >> "$WORK/results.jsonl"
    done
  done
done

python3 - "$WORK/results.jsonl" "$ROUNDS" "$DURATION" "$OUT" <<'PY'
import json, statistics, sys, subprocess, datetime, os
rows = [json.loads(l) for l in open(sys.argv[1])]
rounds, duration, out = sys.argv[2], sys.argv[3], sys.argv[4]
labels = []
for r in rows:
    if r["label"] not in labels:
        labels.append(r["label"])
def med(label, broker, key):
    v = [r[key] for r in rows if r["label"] == label and r["broker"] == broker and r.get(key) is not None]
    return statistics.median(v) if v else None
cores = os.cpu_count()
jdk = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
lines = []
lines.append("## QoS 1 with persistent sessions: TernMQ `fsync` against Mosquitto `persistence true`")
lines.append("")
lines.append(f"- **Date:** {datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%MZ')} (UTC); **machine:** {cores} cores, "
             f"{jdk}; broker and load generator share the cores.")
lines.append(f"- **Command:** `bench/persistent.sh --rounds {rounds} --duration {duration}` — {rounds} rounds, each "
             f"scenario against TernMQ then Mosquitto, {duration} s measured after 2 s of warm-up; medians over "
             "the rounds.")
lines.append("- **TernMQ** keeps persistent sessions in RocksDB with `storage.durability fsync`: a PUBACK goes out only "
             "once the message and its queue entries are synced to disk (grouped across connections). **Mosquitto** "
             "with `persistence true` keeps them in memory and writes a snapshot every 30 minutes "
             "(`autosave_interval`), so what it acknowledged since the last snapshot is lost on a crash.")
lines.append("")
lines.append("| Scenario | TernMQ msg/s | Mosquitto msg/s | TernMQ/Mosquitto | TernMQ p50 / p99 ms | Mosquitto p50 / p99 ms | lost TernMQ | lost Mosquitto |")
lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for l in labels:
    t, m = med(l, "ternmq", "recv_rate"), med(l, "mosquitto", "recv_rate")
    ratio = f"{t / m:.2f}" if t and m else "n/a"
    def lat(b):
        p50, p99 = med(l, b, "lat_p50_ms"), med(l, b, "lat_p99_ms")
        return f"{p50:.2f} / {p99:.2f}" if p50 is not None else "n/a"
    lines.append(f"| {l} | {t:,.0f} | {m:,.0f} | {ratio} | {lat('ternmq')} | {lat('mosquitto')} | "
                 f"{med(l, 'ternmq', 'lost'):,.0f} | {med(l, 'mosquitto', 'lost'):,.0f} |")
text = "\n".join(lines) + "\n"
print(text)
if out:
    begin, end = "<!-- persistent:begin -->", "<!-- persistent:end -->"
    doc = open(out).read() if os.path.exists(out) else ""
    block = begin + "\n\n" + text + "\n" + end
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    open(out, "w").write(doc)
PY
