#!/usr/bin/env bash
# Live heap per idle connection, by class: starts the broker (bin/ternmq, storage.type memory), opens and closes 2,000
# connections (so that what the first connections load once is in the baseline), takes a class histogram of the live
# heap (jmap -histo:live, which collects first), opens 10,000 idle MQTT 3.1.1 connections (ternmq-bench conn), takes
# another, and prints the classes whose live bytes changed, per connection, with their sum.
#
#   bench/heap-per-connection.sh                 # this checkout
#   bench/heap-per-connection.sh -n 20000 -p 24883
#   bench/heap-per-connection.sh --transport ws  # MQTT over WebSocket (a protocol websockets listener)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=10000
PORT=23893
TRANSPORT=tcp
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N=$2; shift 2 ;;
    -p) PORT=$2; shift 2 ;;
    --transport) TRANSPORT=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "heap-per-connection: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
BENCH_JAR="$ROOT/ternmq-bench/target/ternmq-bench.jar"
if [ ! -f "$ROOT/ternmq-broker/target/ternmq.jar" ] || [ ! -f "$BENCH_JAR" ]; then
  echo "heap-per-connection: build first: ./mvnw -q -DskipTests package" >&2
  exit 2
fi
WORK=$(mktemp -d)
trap 'kill "$BROKER" "$CONN" 2>/dev/null || true; rm -rf "$WORK"' EXIT
if [ "$TRANSPORT" = ws ]; then
  printf 'storage.type memory\nlistener %s 127.0.0.1\nprotocol websockets\nallow_anonymous true\n' "$PORT" > "$WORK/ternmq.conf"
  "$ROOT/bin/ternmq" -c "$WORK/ternmq.conf" --data-dir "$WORK/data" > "$WORK/broker.log" 2>&1 &
else
  printf 'storage.type memory\n' > "$WORK/ternmq.conf"
  "$ROOT/bin/ternmq" -c "$WORK/ternmq.conf" -p "$PORT" --data-dir "$WORK/data" > "$WORK/broker.log" 2>&1 &
fi
BROKER=$!
CONN=""
until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
  kill -0 "$BROKER" 2>/dev/null || { echo "heap-per-connection: the broker did not start: $WORK/broker.log" >&2; exit 1; }
  sleep 0.1
done
PID=$(pgrep -n -f "ternmq.jar.*$WORK/ternmq.conf")
java -jar "$BENCH_JAR" conn -p "$PORT" --transport "$TRANSPORT" -c 2000 --conn-rate 2000 -d 2 --no-jmx --quiet > /dev/null 2>&1
sleep 2
jmap -histo:live "$PID" > "$WORK/before.txt"
java -jar "$BENCH_JAR" conn -p "$PORT" --transport "$TRANSPORT" -c "$N" --conn-rate 2000 -d 600 --no-jmx --quiet > /dev/null 2>&1 &
CONN=$!
until [ "$(ss -Htn state established "( sport = :$PORT )" | wc -l)" -ge "$N" ]; do
  kill -0 "$CONN" 2>/dev/null || { echo "heap-per-connection: the load generator stopped early" >&2; exit 1; }
  sleep 0.5
done
sleep 2
jmap -histo:live "$PID" > "$WORK/after.txt"
python3 - "$WORK/before.txt" "$WORK/after.txt" "$N" <<'PY'
import sys
def load(path):
    rows = {}
    for line in open(path).read().splitlines()[2:-1]:
        f = line.split()
        rows[f[3]] = int(f[2])
    return rows
before, after, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
# classes that changed by at least 2 bytes per connection: the per-connection state, not noise
changed = sorted(((b - before.get(k, 0)) / n, k) for k, b in after.items() if abs(b - before.get(k, 0)) >= 2 * n)
for per, name in reversed(changed):
    print(f"{per:8.1f}  {name}")
print(f"{sum(p for p, _ in changed):8.1f}  live heap per idle connection, {n:,} connections")
PY
