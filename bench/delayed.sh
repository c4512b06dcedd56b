#!/usr/bin/env bash
# Delayed publish (issue 15: "released within 100 ms of due time with 10,000 pending"). A broker with
# delayed_publish true and its default store (RocksDB, storage.durability fsync) gets COUNT QoS 1 PUBLISHes to
# $delayed/<s>/bench/delayed/<n> from PUBLISHERS clients within 4 s, due FROM_S..TO_S s after the start (half one by
# one, half in bursts of 10 due in one millisecond; ONE_MS of them sent at once to be due in one millisecond); a
# subscriber on bench/delayed/# records each message's lateness, arrival - due (bench/DelayedLateness.java). Then the
# restart case: COUNT messages due in 10 s are stored, the broker stops at once and starts again after they are
# overdue; a persistent session subscribed before counts what it receives. Run it alone on the machine:
#   bench/delayed.sh [COUNT] [FROM_S] [TO_S] [PUBLISHERS] [ONE_MS]
# EXTRA_CONF, if set, is appended to the broker's configuration (e.g. EXTRA_CONF='max_inflight_messages 1000');
# JAVA_OPTS goes to the broker's JVM (e.g. JAVA_OPTS='-Xlog:gc:file=/tmp/gc.log').
set -euo pipefail
DIR=$(cd "$(dirname "$0")/.." && pwd)
COUNT=${1:-10000}
FROM_S=${2:-5}
TO_S=${3:-15}
PUBLISHERS=${4:-4}
ONE_MS=${5:-0}
JAR="$DIR/ternmq-broker/target/ternmq.jar"
if [ ! -f "$JAR" ]; then
  (cd "$DIR" && ./mvnw -o -q -DskipTests package -pl ternmq-codec,ternmq-extension-api,ternmq-broker)
fi
PAHO=$(find ~/.m2/repository/org/eclipse/paho/org.eclipse.paho.client.mqttv3 \
  -name 'org.eclipse.paho.client.mqttv3-*.jar' | sort | head -1)
W=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$W/ternmq.conf" <<EOF
listener $PORT 127.0.0.1
allow_anonymous true
data_dir $W/data
delayed_publish true
# room in the subscriber's queue for a burst (and in the restart case for all), nothing dropped
max_queued_messages $((COUNT * 2))
${EXTRA_CONF:-}
EOF
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
start() {
  : > "$W/ternmq.log"
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of options
  java ${JAVA_OPTS:-} -jar "$JAR" -c "$W/ternmq.conf" > "$W/ternmq.log" 2>&1 &
  pid=$!
  until grep -qs "TernMQ started" "$W/ternmq.log"; do
    kill -0 "$pid" 2>/dev/null || { cat "$W/ternmq.log"; exit 1; }
    sleep 0.1
  done
}
stop() {
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}
run() {
  java -cp "$PAHO" "$DIR/bench/DelayedLateness.java" "$@"
}
machine() {
  echo "$(date -u +%FT%TZ): $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
machine
start
echo "broker up (port $PORT); $COUNT delayed messages due $FROM_S..$TO_S s ($ONE_MS of them in one ms)," \
  "$PUBLISHERS publishers"
run live "tcp://127.0.0.1:$PORT" "$COUNT" "$FROM_S" "$TO_S" "$PUBLISHERS" "$ONE_MS"

echo "restart: $COUNT messages due in 10 s stored, the broker stopped at once and started again 11 s after the" \
  "last was stored"
run subscribe "tcp://127.0.0.1:$PORT"
run fill "tcp://127.0.0.1:$PORT" "$COUNT" 10
t_fill=$(date +%s%N)  # every message was stored by now: all are overdue 10 s later
stop
left=$(( 11000 - ($(date +%s%N) - t_fill) / 1000000 ))
if [ "$left" -gt 0 ]; then sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"; fi
start
grep -ho "TernMQ started in [0-9]* ms" "$W/ternmq.log" || true
run count "tcp://127.0.0.1:$PORT" "$COUNT" 60
machine
