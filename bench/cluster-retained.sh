#!/usr/bin/env bash
# Retained messages across a cluster of three nodes on this host (storage.type memory): the PUBACK time of a QoS 1
# PUBLISH with and without RETAIN, the time from a retained PUBLISH on node 1 to its copy at a new subscription on
# node 2, then COUNT retained messages and the start of a fourth node joining them (its "TernMQ started in" and
# retained load lines). Run it alone on the machine: bench/cluster-retained.sh [ROUNDS] [COUNT]
set -euo pipefail
DIR=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-500}
COUNT=${2:-100000}
JAR="$DIR/ternmq-broker/target/ternmq.jar"
if [ ! -f "$JAR" ]; then
  (cd "$DIR" && ./mvnw -o -q -DskipTests package -pl ternmq-codec,ternmq-extension-api,ternmq-broker)
fi
PAHO=$(find ~/.m2/repository/org/eclipse/paho/org.eclipse.paho.mqttv5.client -name 'org.eclipse.paho.mqttv5.client-*.jar' | sort | head -1)
W=$(mktemp -d)
read -r -a ports <<< "$(python3 -c 'import socket
s=[socket.socket() for _ in range(8)]
[x.bind(("127.0.0.1", 0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')"
members="127.0.0.1:${ports[4]},127.0.0.1:${ports[5]},127.0.0.1:${ports[6]},127.0.0.1:${ports[7]}"
for i in 0 1 2 3; do
  cat > "$W/node$i.conf" <<EOF
listener ${ports[$i]} 127.0.0.1
allow_anonymous true
data_dir $W/node$i
storage.type memory
cluster.enabled true
cluster.bind 127.0.0.1:${ports[$((4 + i))]}
cluster.members $members
cluster.secret bench-secret-0123456789
EOF
done
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
start() {
  java -Xmx512m -jar "$JAR" -c "$W/node$1.conf" > "$W/node$1.log" 2>&1 &
  pids+=($!)
}
started() {
  until grep -qs "TernMQ started" "$W/node$1.log"; do sleep 0.2; done
}
for i in 0 1 2; do start $i; done
for i in 0 1 2; do started $i; done
echo "three nodes up; $ROUNDS rounds, publisher on node 1, subscriber on node 2"
java -cp "$PAHO" "$DIR/bench/RetainedLatency.java" latency "tcp://127.0.0.1:${ports[0]}" \
  "tcp://127.0.0.1:${ports[1]}" "$ROUNDS"
java -cp "$PAHO" "$DIR/bench/RetainedLatency.java" fill "tcp://127.0.0.1:${ports[1]}" "$COUNT"
t0=$(date +%s%N)
start 3
started 3
echo "node 4 listening $(( ($(date +%s%N) - t0) / 1000000 )) ms after its process started"
grep -ho "retained messages and tombstones loaded in [0-9]* ms\|TernMQ started in [0-9]* ms" "$W/node3.log"
