#!/usr/bin/env bash
# How long a graceful stop takes with many clients connected (issue 14: shutdown with 10,000 clients < 5 s). Starts
# the broker through bin/ternmq (its defaults: RocksDB under a fresh data directory), connects C clients that hold
# their connections (MQTT 5, persistent sessions, so each gets DISCONNECT 0x8B and its session is kept), sends
# SIGTERM and times it until the process has exited; prints the exit status and the milliseconds, N times.
#
#   bench/shutdown.sh [-c 10000] [-n 5] [-p PORT] [ROOT]     # ROOT has bin/ternmq and the broker jar (default: here)
set -euo pipefail
C=10000
N=5
PORT=27883
while [ $# -gt 0 ]; do
  case "$1" in
    -c) C=$2; shift 2 ;;
    -n) N=$2; shift 2 ;;
    -p) PORT=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "shutdown: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
BENCH_JAR="$(cd "$(dirname "$0")/.." && pwd)/ternmq-bench/target/ternmq-bench.jar"
if [ ! -x "$ROOT/bin/ternmq" ] || [ ! -f "$BENCH_JAR" ]; then
  echo "shutdown: need $ROOT/bin/ternmq and $BENCH_JAR (./mvnw -q -DskipTests package)" >&2
  exit 2
fi
WORK=$(mktemp -d /tmp/ternmq-shutdown.XXXXXX)
BROKER=""; HOLD=""
trap 'kill -9 $BROKER $HOLD 2>/dev/null || true' EXIT

for round in $(seq 1 "$N"); do
  rm -rf "$WORK/data"
  "$ROOT/bin/ternmq" -p "$PORT" --data-dir "$WORK/data" > "$WORK/broker-$round.log" 2>&1 &
  BROKER=$!
  until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
    kill -0 "$BROKER" 2>/dev/null || { echo "shutdown: the broker did not start: $WORK/broker-$round.log" >&2; exit 1; }
    sleep 0.05
  done
  java -jar "$BENCH_JAR" conn -p "$PORT" -c "$C" -V 5 --persistent --session-expiry 3600 --conn-rate 5000 \
    -d 3600 --settle 0 --no-jmx --quiet --prefix "r$round-" > "$WORK/clients-$round.log" 2>&1 &
  HOLD=$!
  until [ "$(ss -Htn state established "( sport = :$PORT )" | wc -l)" -ge "$C" ]; do
    kill -0 "$HOLD" 2>/dev/null || { echo "shutdown: the clients stopped early: $WORK/clients-$round.log" >&2; exit 1; }
    sleep 0.2
  done
  sleep 2 # every CONNACK written and the store quiet before the signal
  start=$(date +%s%N)
  kill -TERM "$BROKER"
  status=0
  wait "$BROKER" || status=$?
  end=$(date +%s%N)
  BROKER=""
  kill "$HOLD" 2>/dev/null || true
  wait "$HOLD" 2>/dev/null || true
  HOLD=""
  echo "round $round: $C clients, exit status $status, stopped in $(( (end - start) / 1000000 )) ms"
done
rm -rf "$WORK"
