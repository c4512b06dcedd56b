#!/usr/bin/env bash
# A/B runs of one load scenario against broker variants: two builds of the broker jar, two configurations, two JVM
# flags, or Mosquitto. Each run gets a freshly started broker; the variants alternate within each round (A B A B), so
# a machine that drifts affects them alike. Prints one line per run; docs/benchmarks.md quotes these lines.
#
#   bench/ab.sh [--rounds 3] [--duration 5] [--warmup 2] [--broker-cpu 0 --bench-cpu 1] \
#       --load 'pairs -c 64 -q 0 -s 64 -r 50 --inflight 64' VARIANT...
#
# VARIANT is `mosquitto` or NAME followed by ;-separated settings:
#   jar=PATH        the broker jar (default ternmq-broker/target/ternmq.jar)
#   conf=LINE       a configuration line added to the defaults below (repeatable)
#   jvm=OPTS        JVM options (e.g. jvm=-XX:+UseZGC)
#   launcher=PATH   start the broker with this script instead of java -jar (e.g. launcher=bin/ternmq, with its JVM
#                   defaults; jvm= then goes to TERNMQ_JAVA_OPTS)
#   bench=ARGS      load generator arguments added for this variant only (e.g. bench=--transport ws)
# e.g.  bench/ab.sh --load 'fanout -c 32 -q 1 -s 65536 --inflight 64' 'before;jar=/tmp/before.jar' after
#       bench/ab.sh --rounds 3 --duration 15 --warmup 3 --load '...' 'two;conf=io_threads 2' 'one;conf=io_threads 1' mosquitto
#       bench/ab.sh --load 'pairs -c 64 -q 0 -s 64' tcp 'ws;conf=protocol websockets;bench=--transport ws'
#
# Output columns: round variant delivered-msg/s p50 p99 p99.9 max (ms) lost broker-cores bench-cores
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROUNDS=3
DURATION=5
WARMUP=2
LOAD=""
BROKER_CPU=""
BENCH_CPU=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --load) LOAD=$2; shift 2 ;;
    --broker-cpu) BROKER_CPU=$2; shift 2 ;;
    --bench-cpu) BENCH_CPU=$2; shift 2 ;;
    --*) echo "ab: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ -z "$LOAD" ] || [ $# -eq 0 ]; then
  echo "ab: need --load '<scenario args>' and at least one variant" >&2
  exit 2
fi
BENCH_JAR="$ROOT/ternmq-bench/target/ternmq-bench.jar"
if [ ! -f "$ROOT/ternmq-broker/target/ternmq.jar" ] || [ ! -f "$BENCH_JAR" ]; then
  ./mvnw -q -DskipTests package -pl ternmq-broker,ternmq-bench -am
fi
WORK=$(mktemp -d /tmp/ternmq-ab.XXXXXX)
TPORT=23883
MPORT=23884
pin() { if [ -n "$1" ]; then echo "taskset -c $1"; fi; }
cat > "$WORK/mosquitto.conf" <<EOF
listener $MPORT 127.0.0.1
allow_anonymous true
max_inflight_messages 20
max_queued_messages 1000
set_tcp_nodelay true
EOF

PID=""
stop() {
  if [ -n "$PID" ]; then
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  PID=""
}
trap 'stop; rm -rf "$WORK"' EXIT

for round in $(seq 1 "$ROUNDS"); do
  for variant in "$@"; do
    name=${variant%%;*}
    bench_args=""
    if [ "$name" = mosquitto ]; then
      port=$MPORT
      $(pin "$BROKER_CPU") /usr/sbin/mosquitto -c "$WORK/mosquitto.conf" >/dev/null 2>&1 & PID=$!
    else
      port=$TPORT; jar="$ROOT/ternmq-broker/target/ternmq.jar"; jvm=""; launcher=""
      printf 'listener %s 127.0.0.1\nallow_anonymous true\nstorage.type memory\n' \
        "$TPORT" > "$WORK/ternmq.conf"
      IFS=';' read -ra settings <<< "$variant"
      for s in "${settings[@]:1}"; do
        case "$s" in
          jar=*) jar=${s#jar=} ;;
          conf=*) echo "${s#conf=}" >> "$WORK/ternmq.conf" ;;
          jvm=*) jvm=${s#jvm=} ;;
          launcher=*) launcher=${s#launcher=} ;;
          bench=*) bench_args=${s#bench=} ;;
          *) echo "ab: unknown setting '$s' in variant '$variant'" >&2; exit 2 ;;
        esac
      done
      rm -rf "$WORK/data"
      if [ -n "$launcher" ]; then
        # shellcheck disable=SC2046 # pin prints a command or nothing
        TERNMQ_JAVA_OPTS="$jvm" $(pin "$BROKER_CPU") "$launcher" -c "$WORK/ternmq.conf" --data-dir "$WORK/data" \
          > "$WORK/broker.log" 2>&1 & PID=$!
      else
        # shellcheck disable=SC2086 # jvm holds several options
        $(pin "$BROKER_CPU") java $jvm -jar "$jar" -c "$WORK/ternmq.conf" --data-dir "$WORK/data" \
          > "$WORK/broker.log" 2>&1 & PID=$!
      fi
    fi
    # up to 30 s: a cluster node joins its cluster (Hazelcast) before it listens
    for _ in $(seq 300); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    # shellcheck disable=SC2086 # LOAD and bench_args hold the scenario's arguments
    line=$($(pin "$BENCH_CPU") java -jar "$BENCH_JAR" $LOAD $bench_args -p "$port" -d "$DURATION" --warmup "$WARMUP" \
      --broker-pid "$PID" --quiet 2>/dev/null | grep -o 'RESULT {[^}]*}' || true)
    if [ -z "$line" ]; then
      echo "$round $name failed: the load generator printed no result (try: java -jar $BENCH_JAR $LOAD -p $port)"
      stop
      continue
    fi
    echo "$round $name $(echo "${line#RESULT }" | python3 -c 'import sys, json
d = json.loads(sys.stdin.read())
print(*[d.get(k) if k != "recv_rate" else round(d.get(k) or 0) for k in
        ("recv_rate", "lat_p50_ms", "lat_p99_ms", "lat_p999_ms", "lat_max_ms", "lost", "broker_cpu_cores",
         "bench_cpu_cores")])')"
    stop
  done
done
