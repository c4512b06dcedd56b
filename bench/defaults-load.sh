#!/usr/bin/env bash
# The default configuration under load from one host: bin/ternmq started without a configuration file (data in a
# temporary directory), then 64 QoS 1 publisher/subscriber pairs at maximum rate, then 10,000 idle connections, all
# from the one source address 127.0.0.1 (as behind a NAT or a load balancer; ternmq-bench otherwise spreads its clients
# over 250 loopback addresses). Fails (exit 1) if any client is refused, fails to connect, is dropped or loses a
# message.
#
#   bench/defaults-load.sh [--duration 10] [--connections 10000]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=10
CONNECTIONS=10000
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    *) echo "defaults-load: unknown option $1" >&2; exit 2 ;;
  esac
done
BENCH_JAR="$ROOT/ternmq-bench/target/ternmq-bench.jar"
if [ ! -f "$ROOT/ternmq-broker/target/ternmq.jar" ] || [ ! -f "$BENCH_JAR" ]; then
  (cd "$ROOT" && ./mvnw -q -DskipTests package -pl ternmq-broker,ternmq-bench -am)
fi
ulimit -n 20000 2>/dev/null || true
WORK=$(mktemp -d /tmp/ternmq-defaults.XXXXXX)
(cd "$WORK" && exec "$ROOT/bin/ternmq" > "$WORK/broker.log" 2>&1) &
BROKER=$!
trap 'kill $BROKER 2>/dev/null || true' EXIT
# wait for the listener without writing to it
for _ in $(seq 1 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then break; fi
  sleep 0.1
done
status=0
pairs=$(java -jar "$BENCH_JAR" pairs -c 64 -q 1 -s 64 -d "$DURATION" --warmup 2 --source-ips 1 --quiet | grep '^RESULT ' || true)
echo "$pairs"
conn=$(java -jar "$BENCH_JAR" conn -c "$CONNECTIONS" -d "$DURATION" --source-ips 1 --broker-pid "$BROKER" --quiet | grep '^RESULT ' || true)
echo "$conn"
for r in "$pairs" "$conn"; do
  echo "$r" | grep -q '"ok":true' || status=1 # no RESULT line at all fails too
done
if grep -E "connection_rate_per_address|holds its maximum|refused" "$WORK/broker.log"; then
  status=1
fi
echo "broker log: $WORK/broker.log"
if [ $status -eq 0 ]; then
  echo "defaults-load: nothing refused"
else
  echo "defaults-load: FAILED"
fi
exit $status
