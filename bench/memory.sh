#!/usr/bin/env bash
# Broker memory with bin/ternmq's defaults, TernMQ and Mosquitto side by side (issue 11). Every measurement gets a
# freshly started broker with its data under a temporary directory; RSS is VmRSS from /proc/<pid>/status.
#
#   empty    start-up time (launch to accepting TCP connections, --startups starts) and RSS at each --rss-at
#            seconds after start-up
#   conn10k  RSS growth per idle connection, 10,000 connections (ternmq-bench conn): the broker's RSS --settle s after
#            start-up against its RSS at each --rss-at seconds after the last connection
#   connmax  the same at the open-file limit (ternmq-bench conn -c max; about 19,900 under a hard limit of 20,000)
#   stalled  a subscriber that stops reading while 200 MB of QoS 0 is offered to its topic (bench/stalled-subscriber.py):
#            RSS growth at each --rss-at seconds after the flood, and its peak; meanwhile a publisher/subscriber pair
#            on another topic (ternmq-bench pairs, QoS 0) must lose nothing
#
#   bench/memory.sh                                    # everything, both brokers (about 50 minutes)
#   bench/memory.sh --only conn10k --rounds 1 --brokers ternmq
#   bench/memory.sh --broker-cmd 'java -jar ternmq-broker/target/ternmq.jar'   # the JVM's own defaults, no launcher
#   bench/memory.sh --only conn10k --brokers ternmq --transport ws   # idle MQTT-over-WebSocket connections (issue 14)
#
# Prints one line per measurement and a summary of medians; exits non-zero when a broker does not start, a client
# fails, or the pair loses a message (with --check also when a target of issue 11 is missed).
# Environment: TERNMQ_JAVA_OPTS reaches the broker through bin/ternmq; TERNMQ_BENCH_JAVA_OPTS the load generator.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

ROUNDS=3
STARTUPS=9
ONLY=startup,empty,conn10k,connmax,stalled
BROKERS=ternmq,mosquitto
BROKER_CMD="bin/ternmq"
RSS_AT=5,30,60,120
SETTLE=""
CONN_RATE=2000
FLOOD_BYTES=200000000
FLOOD_SIZE=1024
PAIR_RATE=200
PAIR_SECONDS=""
CHECK=0
TERNMQ_PORT=22883
TRANSPORT=tcp
MOSQUITTO_PORT=22884
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}

usage() {
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF
Options:
  --only LIST        measurements to run, comma-separated (default $ONLY)
  --brokers LIST     ternmq, mosquitto or both (default $BROKERS)
  --rounds N         fresh brokers per measurement and broker (default $ROUNDS; medians reported)
  --startups N       starts timed for the start-up figure (default $STARTUPS)
  --broker-cmd CMD   how TernMQ is started (default $BROKER_CMD); '-p PORT --data-dir DIR' is appended
  --rss-at LIST      seconds after start-up (empty), after the last connection (conn*) and after the flood (stalled)
                     at which RSS is read, comma-separated (default $RSS_AT: a collector may return memory while idle)
  --settle S         seconds between start-up and the baseline reading of conn* and stalled (default: the last
                     --rss-at, so the baseline and the last reading have idled alike)
  --conn-rate R      new connections per second (default $CONN_RATE)
  --flood-bytes B    payload bytes offered to the stalled subscriber (default $FLOOD_BYTES)
  --flood-size B     payload bytes per message of the flood (default $FLOOD_SIZE)
  --pair-rate R      messages per second of the other pair, QoS 0 (default $PAIR_RATE)
  --pair-seconds S   how long the other pair runs, starting 2 s before the flood (default: the last --rss-at + 15)
  --check            fail unless TernMQ meets issue 11's targets at the last --rss-at: <= 3 KiB RSS per idle
                     connection (WebSocket: issue 14's 4 KiB), <= 100 MiB RSS growth in the stalled case (medians)
  --ports P1,P2      TernMQ's and Mosquitto's ports (default $TERNMQ_PORT,$MOSQUITTO_PORT)
  --transport T      tcp, or ws: TernMQ's port is a protocol websockets listener and the connections of conn10k and
                     connmax speak MQTT over WebSocket (Mosquitto 2.0.11's WebSocket listener does not work in
                     Debian's build: TernMQ only) (default $TRANSPORT)
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY=$2; shift 2 ;;
    --brokers) BROKERS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --startups) STARTUPS=$2; shift 2 ;;
    --broker-cmd) BROKER_CMD=$2; shift 2 ;;
    --settle) SETTLE=$2; shift 2 ;;
    --rss-at) RSS_AT=$2; shift 2 ;;
    --conn-rate) CONN_RATE=$2; shift 2 ;;
    --flood-bytes) FLOOD_BYTES=$2; shift 2 ;;
    --flood-size) FLOOD_SIZE=$2; shift 2 ;;
    --pair-rate) PAIR_RATE=$2; shift 2 ;;
    --pair-seconds) PAIR_SECONDS=$2; shift 2 ;;
    --check) CHECK=1; shift ;;
    --ports) TERNMQ_PORT=${2%,*}; MOSQUITTO_PORT=${2#*,}; shift 2 ;;
    --transport) TRANSPORT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "memory: unknown option $1 (--help lists them)" >&2; exit 2 ;;
  esac
done

case "$TRANSPORT" in
  tcp) ;;
  ws) [ "$BROKERS" = ternmq ] || { echo "memory: --transport ws measures TernMQ only (--brokers ternmq)" >&2; exit 2; } ;;
  *) echo "memory: --transport is tcp or ws, not $TRANSPORT" >&2; exit 2 ;;
esac
RSS_AT=$(python3 -c "import sys; print(','.join('%g' % float(x) for x in sys.argv[1].split(',')))" "$RSS_AT")
LAST_AT=${RSS_AT##*,}
SETTLE=${SETTLE:-$LAST_AT}
PAIR_SECONDS=${PAIR_SECONDS:-$(python3 -c "print(int(float('$LAST_AT')) + 15)")}
BENCH_JAR="$ROOT/ternmq-bench/target/ternmq-bench.jar"
if [ ! -f "$ROOT/ternmq-broker/target/ternmq.jar" ] || [ ! -f "$BENCH_JAR" ]; then
  ./mvnw -q -DskipTests package -pl ternmq-broker,ternmq-bench -am
fi
command -v python3 >/dev/null || { echo "memory: python3 is needed" >&2; exit 1; }
case ",$BROKERS," in
  *,mosquitto,*) [ -x "$MOSQUITTO" ] || { echo "memory: $MOSQUITTO not found (apt-get install -y mosquitto)" >&2; exit 1; } ;;
esac

# Every connection is a descriptor in the load generator and in the broker; both inherit this limit.
ulimit -n "$(ulimit -Hn)"

WORK=$(mktemp -d /tmp/ternmq-memory.XXXXXX)
RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
echo "memory: working in $WORK (broker logs, raw results); open files: $(ulimit -n)"
cat > "$WORK/mosquitto.conf" <<EOF
listener $MOSQUITTO_PORT 127.0.0.1
allow_anonymous true
EOF

PID=""
STARTS=0
FAILED=0
STARTUP_MS=0

stop_broker() {
  [ -n "$PID" ] || return 0
  if kill "$PID" 2>/dev/null; then
    for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$PID" 2>/dev/null || true
  fi
  wait "$PID" 2>/dev/null || true
  PID=""
}
trap stop_broker EXIT
trap 'exit 130' INT TERM

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# Starts a fresh broker in the background (PID, PORT) and waits until its port accepts; STARTUP_MS is the wait.
start_broker() {
  local broker=$1 t0 now
  STARTS=$((STARTS + 1))
  LOG="$WORK/$broker-$STARTS.log"
  t0=$(date +%s%N)
  if [ "$broker" = ternmq ]; then
    PORT=$TERNMQ_PORT
    if [ "$TRANSPORT" = ws ]; then
      printf 'listener %s 127.0.0.1\nprotocol websockets\nallow_anonymous true\n' "$PORT" > "$WORK/ternmq-ws.conf"
      # shellcheck disable=SC2086 # BROKER_CMD is a command with its arguments
      $BROKER_CMD -c "$WORK/ternmq-ws.conf" --data-dir "$WORK/data-$STARTS" > "$LOG" 2>&1 &
    else
      # shellcheck disable=SC2086 # BROKER_CMD is a command with its arguments
      $BROKER_CMD -p "$PORT" --data-dir "$WORK/data-$STARTS" > "$LOG" 2>&1 &
    fi
  else
    PORT=$MOSQUITTO_PORT
    "$MOSQUITTO" -c "$WORK/mosquitto.conf" > "$LOG" 2>&1 &
  fi
  PID=$!
  while ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
    now=$(date +%s%N)
    if ! kill -0 "$PID" 2>/dev/null || [ $(( (now - t0) / 1000000 )) -gt 30000 ]; then
      echo "memory: $broker did not start (log: $LOG)" >&2
      exit 1
    fi
    sleep 0.005
  done
  STARTUP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}

record() { echo "$1" >> "$RESULTS"; }

# Reads the RSS at each of RSS_AT's seconds after $1 (date +%s%N); prints "s:kib,s:kib".
rss_readings() {
  local t0=$1 at out="" ats
  IFS=',' read -ra ats <<< "$RSS_AT"
  for at in "${ats[@]}"; do
    sleep "$(python3 -c "import time; print(max(0.0, $t0 / 1e9 + float('$at') - time.time()))")"
    out="$out${out:+,}$at:$(rss_kib "$PID")"
  done
  echo "$out"
}

measure_startup() {
  local broker=$1 i
  for i in $(seq 1 "$STARTUPS"); do
    start_broker "$broker"
    record "{\"m\":\"startup\",\"broker\":\"$broker\",\"startup_ms\":$STARTUP_MS}"
    if [ "$broker" = ternmq ] && [ "$i" = 1 ]; then
      sleep 1
      echo "  first log line: $(head -1 "$LOG")"
    fi
    stop_broker
  done
  echo "  start-up $broker: $(python3 -c 'import json,sys,statistics
ms = [json.loads(l)["startup_ms"] for l in open(sys.argv[1]) if "\"startup\"" in l and "\"%s\"" % sys.argv[2] in l]
print("median %d ms of %d starts (%s)" % (statistics.median(ms), len(ms), ", ".join(map(str, ms))))' "$RESULTS" "$broker")"
}

measure_empty() {
  local broker=$1 round t0 readings
  for round in $(seq 1 "$ROUNDS"); do
    t0=$(date +%s%N)
    start_broker "$broker"
    readings=$(rss_readings "$t0")
    echo "  empty $broker #$round: RSS at seconds after launch: $(echo "$readings" | python3 -c 'import sys
print(", ".join("%s s %.1f MiB" % (a, int(k) / 1024) for a, k in (x.split(":") for x in sys.stdin.read().strip().split(","))))')"
    record "{\"m\":\"empty\",\"broker\":\"$broker\",\"rss\":\"$readings\"}"
    stop_broker
  done
}

measure_conn() { # broker count(10000|max) name
  local broker=$1 count=$2 name=$3 round out line hold
  hold=$(python3 -c "print(float('$LAST_AT') + 1)")
  for round in $(seq 1 "$ROUNDS"); do
    start_broker "$broker"
    sleep "$SETTLE"
    out="$WORK/$name-$broker-$round"
    # shellcheck disable=SC2086 # TERNMQ_BENCH_JAVA_OPTS holds several options
    java ${TERNMQ_BENCH_JAVA_OPTS:-} -jar "$BENCH_JAR" conn -c "$count" --conn-rate "$CONN_RATE" -p "$PORT" --transport "$TRANSPORT" \
      --broker-pid "$PID" --no-jmx --settle 0 --rss-at "$RSS_AT" -d "$hold" --quiet > "$out.out" 2> "$out.err" || true
    line=$(grep '^RESULT ' "$out.out" | tail -1 | cut -c8-)
    if [ -z "$line" ] || ! echo "$line" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["ok"] else 1)'; then
      echo "memory: $name against $broker failed (not every connection held): $out.err" >&2
      FAILED=1
    fi
    [ -n "$line" ] || line=null
    echo "  $name $broker #$round: $(python3 -c 'import json,sys
d = json.loads(sys.argv[1]) or {}
per = ", ".join("%s s: %s B" % (a, d.get("rss_per_conn_%s_b" % a.replace(".", "_"))) for a in sys.argv[2].split(","))
print("%s connected, RSS %.1f MiB before; RSS growth per connection at %s" % (d.get("connected"),
      d.get("rss_before_kib", 0) / 1024, per))' "$line" "$RSS_AT")"
    record "{\"m\":\"$name\",\"broker\":\"$broker\",\"result\":$line}"
    stop_broker
  done
}

measure_stalled() {
  local broker=$1 round out pair_pid line pair
  for round in $(seq 1 "$ROUNDS"); do
    start_broker "$broker"
    sleep "$SETTLE"
    out="$WORK/stalled-$broker-$round"
    # shellcheck disable=SC2086 # TERNMQ_BENCH_JAVA_OPTS holds several options
    java ${TERNMQ_BENCH_JAVA_OPTS:-} -jar "$BENCH_JAR" pairs -c 1 -q 0 -s 64 -r "$PAIR_RATE" -d "$PAIR_SECONDS" \
      --warmup 0 --drain 3 -t 'other/%i' -p "$PORT" --quiet > "$out.pair.out" 2> "$out.pair.err" &
    pair_pid=$!
    sleep 2
    line=$(python3 "$ROOT/bench/stalled-subscriber.py" --port "$PORT" --pid "$PID" --bytes "$FLOOD_BYTES" \
      --size "$FLOOD_SIZE" --rss-at "$RSS_AT" 2> "$out.err" | grep '^RESULT ' | cut -c8-) || true
    wait "$pair_pid" || true
    pair=$(grep '^RESULT ' "$out.pair.out" | tail -1 | cut -c8-)
    if [ -z "$line" ]; then
      echo "memory: the stalled-subscriber run against $broker failed: $out.err" >&2
      FAILED=1; line=null
    fi
    if [ -z "$pair" ] || ! echo "$pair" | python3 -c 'import json,sys
d = json.load(sys.stdin); sys.exit(0 if d["lost"] == 0 and d["received"] > 0 and d["received"] == d["expected"] else 1)'; then
      echo "memory: the other pair lost messages or failed against $broker: $out.pair.err" >&2
      FAILED=1
    fi
    [ -n "$pair" ] || pair=null
    echo "  stalled $broker #$round: $(python3 -c 'import json,sys
d, p = json.loads(sys.argv[1]) or {}, json.loads(sys.argv[2]) or {}
at = ", ".join("+%.1f MiB %s s after" % (d.get("rss_growth_%ss_kib" % a.replace(".", "_"), 0) / 1024, a)
               for a in sys.argv[3].split(","))
print("RSS %.1f MiB before the flood, peak +%.1f MiB, %s; %s messages offered in %s s, %s reached the stalled "
      "subscriber; the other pair: %s of %s received, %s lost" % (d.get("rss_before_kib", 0) / 1024,
      d.get("rss_growth_peak_kib", 0) / 1024, at, d.get("offered_msgs"), d.get("publish_s"), d.get("delivered_msgs"),
      p.get("received"), p.get("expected"), p.get("lost")))' "$line" "$pair" "$RSS_AT")"
    record "{\"m\":\"stalled\",\"broker\":\"$broker\",\"result\":$line,\"pair\":$pair}"
    stop_broker
  done
}

IFS=',' read -ra WHAT <<< "$ONLY"
IFS=',' read -ra WHO <<< "$BROKERS"
echo "memory: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB," \
  "$(java -version 2>&1 | head -1), TernMQ started with: $BROKER_CMD${TERNMQ_JAVA_OPTS:+ (TERNMQ_JAVA_OPTS=$TERNMQ_JAVA_OPTS)}"
for what in "${WHAT[@]}"; do
  for broker in "${WHO[@]}"; do
    case "$what" in
      startup) measure_startup "$broker" ;;
      empty) measure_empty "$broker" ;;
      conn10k) measure_conn "$broker" 10000 conn10k ;;
      connmax) measure_conn "$broker" max connmax ;;
      stalled) measure_stalled "$broker" ;;
      *) echo "memory: unknown measurement $what" >&2; exit 2 ;;
    esac
  done
done

# Medians per broker and measurement; --check compares TernMQ's at the last --rss-at with the targets.
python3 - "$RESULTS" "$CHECK" "$RSS_AT" "$TRANSPORT" <<'EOF' || FAILED=1
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
check = sys.argv[2] == "1"
ats = sys.argv[3].split(",")
# issue 11's target for a TCP connection, issue 14's for a WebSocket one
conn_limit = 4096 if sys.argv[4] == "ws" else 3072
def key(a):
    return a.replace(".", "_")
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None
def fmt(xs, f):
    return ", ".join(f(x) for x in xs)
print("\nmemory: medians")
missed = []
for broker in ("ternmq", "mosquitto"):
    mine = [r for r in rows if r["broker"] == broker]
    if not mine:
        continue
    st = [r["startup_ms"] for r in mine if r["m"] == "startup"]
    if st:
        print(f"  {broker:9} start-up: {med(st):.0f} ms (median of {len(st)})")
    e = [dict(x.split(":") for x in r["rss"].split(",")) for r in mine if r["m"] == "empty"]
    if e:
        print(f"  {broker:9} empty: RSS " + fmt(ats, lambda a: "%.1f MiB %s s after launch" % (
            med([int(x[a]) for x in e]) / 1024, a))
            + f" ({len(e)} starts; last: {fmt(e, lambda x: '%.1f' % (int(x[ats[-1]]) / 1024))})")
    for m in ("conn10k", "connmax"):
        c = [r["result"] for r in mine if r["m"] == m and r["result"]]
        if c:
            per = {a: med([r.get("rss_per_conn_%s_b" % key(a)) for r in c]) for a in ats}
            print(f"  {broker:9} {m}: {med([r['connected'] for r in c]):,.0f} connections, RSS growth per connection "
                  + fmt(ats, lambda a: "%s B %s s after the last" % (format(round(per[a]), ","), a))
                  + f" (rounds, last: {fmt(c, lambda r: str(r.get('rss_per_conn_%s_b' % key(ats[-1]))))})")
            if check and broker == "ternmq" and per[ats[-1]] > conn_limit:
                missed.append(f"{m}: {per[ats[-1]]:.0f} B per connection > {conn_limit // 1024} KiB")
    s = [r for r in mine if r["m"] == "stalled" and r["result"]]
    if s:
        g = {a: med([r["result"]["rss_growth_%ss_kib" % key(a)] for r in s]) / 1024 for a in ats}
        p = med([r["result"]["rss_growth_peak_kib"] for r in s]) / 1024
        lost = sum((r["pair"] or {}).get("lost", 0) or 0 for r in s)
        got = med([r["result"]["delivered_msgs"] for r in s])
        print(f"  {broker:9} stalled: RSS growth peak +{p:.1f} MiB, "
              + fmt(ats, lambda a: "+%.1f MiB %s s after the flood" % (g[a], a))
              + f"; {got:,.0f} messages reached the stalled subscriber; the other pair lost {lost} "
              + f"(rounds, last: {fmt(s, lambda r: '%.1f' % (r['result']['rss_growth_%ss_kib' % key(ats[-1])] / 1024))}; "
              + f"peak: {fmt(s, lambda r: '%.1f' % (r['result']['rss_growth_peak_kib'] / 1024))})")
        if check and broker == "ternmq" and g[ats[-1]] > 100:
            missed.append(f"stalled: +{g[ats[-1]]:.1f} MiB > 100 MiB")
for m in missed:
    print("memory: target missed: " + m)
sys.exit(1 if missed else 0)
EOF
echo "memory: raw results in $RESULTS"
exit "$FAILED"
