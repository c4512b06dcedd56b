#!/usr/bin/env bash
# TernMQ and Mosquitto side by side: starts both brokers on their own ports, runs the same ternmq-bench scenarios
# against each in turn (TernMQ, Mosquitto, TernMQ, Mosquitto, ... for each scenario, every round), and writes a
# Markdown report of medians and TernMQ/Mosquitto ratios into docs/benchmarks.md (between the side-by-side markers).
#
#   bench/side-by-side.sh                          # full list, 3 rounds, 10 s per scenario (about 50 minutes)
#   bench/side-by-side.sh --rounds 1 --duration 3 --quick --out /tmp/report.md    # a couple of minutes
#   bench/side-by-side.sh --only 'pairs|conn'      # scenarios whose label matches an extended regex
#
# Needs: the jars (built when missing), /usr/sbin/mosquitto (apt-get install -y mosquitto), python3 for the report.
# Environment: TERNMQ_JAVA_OPTS (broker JVM), TERNMQ_BENCH_JAVA_OPTS (bench JVM), TERNMQ_STORAGE (default memory).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ORIG_ARGS=$(python3 -c 'import shlex, sys; print(shlex.join(sys.argv[1:]))' "$@" 2>/dev/null || echo "$*")

ROUNDS=3
DURATION=10
WARMUP=2
HOLD=5
CONN_RATE=2000
INFLIGHT=64
QUICK=0
ONLY=""
OUT="$ROOT/docs/benchmarks.md"
TERNMQ_PORT=21883
MOSQUITTO_PORT=21884
LABEL_NOTE=""
RATE_FANIN=${RATE_FANIN:-500}      # per publisher: 8 x 500 = 4,000 msg/s in, 4,000 out
RATE_FANOUT=${RATE_FANOUT:-500}    # 1 x 500 in, 32 x 500 = 16,000 msg/s out
RATE_PAIRS=${RATE_PAIRS:-50}       # 64 x 50 = 3,200 msg/s in and out
TERNMQ_STORAGE=${TERNMQ_STORAGE:-memory}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF
Options:
  --rounds N         rounds (default $ROUNDS; the report takes medians over rounds)
  --duration S       seconds measured per traffic scenario (default $DURATION)
  --warmup S         seconds of unmeasured traffic before each (default $WARMUP)
  --hold S           seconds the conn scenarios hold their connections (default $HOLD)
  --conn-rate R      connections per second in the conn scenarios (default $CONN_RATE)
  --quick            a reduced list: QoS 1, 64 B, max and fixed rate per topology, plus both conn scenarios
  --only REGEX       only the scenarios whose label matches (grep -E)
  --out FILE         where the report goes (default docs/benchmarks.md; replaced between the markers
                     <!-- side-by-side:begin --> and <!-- side-by-side:end -->, appended if they are missing)
  --note TEXT        a sentence put at the top of the report (e.g. "smoke run, machine busy, not a measurement")
  --ports P1,P2      TernMQ's and Mosquitto's ports (default $TERNMQ_PORT,$MOSQUITTO_PORT)
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --hold) HOLD=$2; shift 2 ;;
    --conn-rate) CONN_RATE=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --note) LABEL_NOTE=$2; shift 2 ;;
    --ports) TERNMQ_PORT=${2%,*}; MOSQUITTO_PORT=${2#*,}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "side-by-side: unknown option $1 (--help lists them)" >&2; exit 2 ;;
  esac
done

TERNMQ_JAR="$ROOT/ternmq-broker/target/ternmq.jar"
BENCH_JAR="$ROOT/ternmq-bench/target/ternmq-bench.jar"
if [ ! -f "$TERNMQ_JAR" ] || [ ! -f "$BENCH_JAR" ]; then
  ./mvnw -q -DskipTests package -pl ternmq-broker,ternmq-bench -am
fi
[ -x "$MOSQUITTO" ] || { echo "side-by-side: $MOSQUITTO not found (apt-get install -y mosquitto)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "side-by-side: python3 is needed for the report" >&2; exit 1; }

# Every connection is a file descriptor, in the bench and in the broker: both inherit the hard limit.
ulimit -n "$(ulimit -Hn)"

WORK=$(mktemp -d /tmp/ternmq-side-by-side.XXXXXX)
RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
mkdir -p "$WORK/logs"
echo "side-by-side: working in $WORK (logs, configs, raw results)"

# ------------------------------------------------------------------ brokers
# allow_anonymous is per listener, so it follows the listener line.
cat > "$WORK/ternmq.conf" <<EOF
max_inflight_messages 20
max_queued_messages 1000
storage.type $TERNMQ_STORAGE
log_level warn
listener $TERNMQ_PORT 127.0.0.1
allow_anonymous true
EOF
cat > "$WORK/mosquitto.conf" <<EOF
listener $MOSQUITTO_PORT 127.0.0.1
allow_anonymous true
max_inflight_messages 20
max_queued_messages 1000
persistence false
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
EOF

TERNMQ_PID=""
MOSQUITTO_PID=""
STARTS=0

wait_port() { # port pid -> prints milliseconds waited, fails after 30 s or when the process died
  local port=$1 pid=$2 t0 now
  t0=$(date +%s%N)
  while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    now=$(date +%s%N)
    if [ $(( (now - t0) / 1000000 )) -gt 30000 ]; then return 1; fi
    sleep 0.01
  done
  echo $(( ($(date +%s%N) - t0) / 1000000 ))
}

start_ternmq() {
  STARTS=$((STARTS + 1))
  local t0 ms
  t0=$(date +%s%N)
  # shellcheck disable=SC2086
  java ${TERNMQ_JAVA_OPTS:-} -jar "$TERNMQ_JAR" -c "$WORK/ternmq.conf" --data-dir "$WORK/ternmq-data-$STARTS" \
    > "$WORK/logs/ternmq-$STARTS.log" 2>&1 &
  TERNMQ_PID=$!
  wait_port "$TERNMQ_PORT" "$TERNMQ_PID" > /dev/null || { echo "TernMQ did not start: $WORK/logs/ternmq-$STARTS.log" >&2; exit 1; }
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "{\"broker\":\"ternmq\",\"startup_ms\":$ms}" >> "$WORK/startup.jsonl"
}

start_mosquitto() {
  STARTS=$((STARTS + 1))
  local t0 ms
  t0=$(date +%s%N)
  "$MOSQUITTO" -c "$WORK/mosquitto.conf" > "$WORK/logs/mosquitto-$STARTS.log" 2>&1 &
  MOSQUITTO_PID=$!
  wait_port "$MOSQUITTO_PORT" "$MOSQUITTO_PID" > /dev/null || { echo "Mosquitto did not start: $WORK/logs/mosquitto-$STARTS.log" >&2; exit 1; }
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "{\"broker\":\"mosquitto\",\"startup_ms\":$ms}" >> "$WORK/startup.jsonl"
}

check_broker() { # name port: one message through the broker, or stop here (a refused CONNECT would spoil every run)
  local name=$1 port=$2
  if ! "$ROOT/bin/ternmq-bench" pairs -c 1 -q 1 -n 5 -r 100 -p "$port" --quiet > "$WORK/logs/check-$name.out" \
      2> "$WORK/logs/check-$name.err"; then
    echo "side-by-side: $name on port $port does not pass a one-message check:" >&2
    grep -m3 -E 'failed|lost|refused' "$WORK/logs/check-$name.err" >&2 || true
    exit 1
  fi
}

stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

stop_brokers() {
  stop_pid "$TERNMQ_PID"; TERNMQ_PID=""
  stop_pid "$MOSQUITTO_PID"; MOSQUITTO_PID=""
}
trap stop_brokers EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ scenarios: "label|kind|bench arguments"
SCENARIOS=()
add() { SCENARIOS+=("$1|$2|$3"); }
for topo in "fan-in 8→1|fanin -c 8|$RATE_FANIN" "fan-out 1→32|fanout -c 32|$RATE_FANOUT" "pairs 64|pairs -c 64|$RATE_PAIRS"; do
  IFS='|' read -r name args rate <<< "$topo"
  for qos in 0 1; do
    for size in 64 1024; do
      if [ "$QUICK" = 1 ] && { [ "$qos" != 1 ] || [ "$size" != 64 ]; }; then continue; fi
      add "$name, QoS $qos, $size B, max rate" max "$args -q $qos -s $size --inflight $INFLIGHT"
      add "$name, QoS $qos, $size B, $rate/s per publisher" fixed "$args -q $qos -s $size -r $rate --inflight $INFLIGHT"
    done
  done
done
add "conn 10k idle" conn "conn -c 10000 --conn-rate $CONN_RATE"
add "conn max idle (open-file limit)" conn "conn -c max --conn-rate $CONN_RATE"

if [ -n "$ONLY" ]; then
  FILTERED=()
  for s in "${SCENARIOS[@]}"; do
    if printf '%s\n' "${s%%|*}" | grep -Eq -- "$ONLY"; then FILTERED+=("$s"); fi
  done
  SCENARIOS=("${FILTERED[@]}")
fi
[ ${#SCENARIOS[@]} -gt 0 ] || { echo "side-by-side: no scenario matches --only $ONLY" >&2; exit 2; }
echo "side-by-side: ${#SCENARIOS[@]} scenarios x 2 brokers x $ROUNDS rounds"

json_escape() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

RUN=0
run_bench() { # broker round label kind args port pid
  local broker=$1 round=$2 label=$3 kind=$4 args=$5 port=$6 pid=$7 extra log result
  RUN=$((RUN + 1))
  if [ "$kind" = conn ]; then
    extra="-p $port -d $HOLD --broker-pid $pid"
  else
    extra="-p $port -d $DURATION --warmup $WARMUP --broker-pid $pid"
  fi
  log="$WORK/logs/run-$RUN-$broker"
  echo "  [$round] $broker: $label"
  # shellcheck disable=SC2086
  "$ROOT/bin/ternmq-bench" $args $extra > "$log.out" 2> "$log.err" || true
  result=$(grep '^RESULT ' "$log.out" | tail -1 | cut -c8-)
  [ -n "$result" ] || { result=null; echo "    no RESULT line: see $log.err" >&2; }
  printf '{"broker":"%s","round":%d,"label":%s,"kind":"%s","args":%s,"log":%s,"result":%s}\n' \
    "$broker" "$round" "$(json_escape "$label")" "$kind" "$(json_escape "$args")" "$(json_escape "$log")" \
    "$result" >> "$RESULTS"
  sleep 1
}

start_ternmq; start_mosquitto
check_broker ternmq "$TERNMQ_PORT"; check_broker mosquitto "$MOSQUITTO_PORT"
stop_brokers
: > "$WORK/startup.jsonl"

START_DATE=$(date -u +%Y-%m-%dT%H:%MZ)
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round of $ROUNDS"
  start_ternmq; start_mosquitto
  for s in "${SCENARIOS[@]}"; do
    IFS='|' read -r label kind args <<< "$s"
    [ "$kind" = conn ] && continue
    run_bench ternmq "$round" "$label" "$kind" "$args" "$TERNMQ_PORT" "$TERNMQ_PID"
    run_bench mosquitto "$round" "$label" "$kind" "$args" "$MOSQUITTO_PORT" "$MOSQUITTO_PID"
  done
  stop_brokers
  # conn scenarios: each against freshly started brokers, so the memory measured is theirs alone
  for s in "${SCENARIOS[@]}"; do
    IFS='|' read -r label kind args <<< "$s"
    [ "$kind" = conn ] || continue
    start_ternmq
    run_bench ternmq "$round" "$label" "$kind" "$args" "$TERNMQ_PORT" "$TERNMQ_PID"
    stop_brokers
    start_mosquitto
    run_bench mosquitto "$round" "$label" "$kind" "$args" "$MOSQUITTO_PORT" "$MOSQUITTO_PID"
    stop_brokers
  done
done

# ------------------------------------------------------------------ report
export WORK OUT ROUNDS DURATION WARMUP HOLD CONN_RATE INFLIGHT START_DATE LABEL_NOTE TERNMQ_PORT MOSQUITTO_PORT
export RATE_FANIN RATE_FANOUT RATE_PAIRS TERNMQ_STORAGE MOSQUITTO QUICK ONLY
MACHINE_CORES=$(nproc)
export MACHINE_CORES
MACHINE_CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
export MACHINE_CPU
MACHINE_MEM=$(free -g | awk '/^Mem:/ {print $2 " GiB"}')
export MACHINE_MEM
MACHINE_JDK=$(java -version 2>&1 | head -2 | tr '\n' ' ' | sed 's/ *$//')
export MACHINE_JDK
MACHINE_KERNEL=$(uname -sr)
export MACHINE_KERNEL
MACHINE_NOFILE=$(ulimit -Hn)
export MACHINE_NOFILE
MACHINE_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
export MACHINE_LOAD
MOSQUITTO_VERSION=$("$MOSQUITTO" -h 2>&1 | head -1)
export MOSQUITTO_VERSION
export SCRIPT_ARGS="$ORIG_ARGS"
python3 "$ROOT/bench/report.py"
echo "side-by-side: report written to $OUT (raw results: $RESULTS)"
