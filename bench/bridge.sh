#!/usr/bin/env bash
# TernMQ bridged to TernMQ against one TernMQ and against Mosquitto bridged to Mosquitto, alternating in one run
# (issue 15 §2's targets). All five brokers run for the whole run, on one machine with the load generator:
#   direct             publishers and the subscriber on one TernMQ
#   bridged            publishers on TernMQ A, the subscriber on TernMQ B; A bridges `topic bench/q<QoS>/# out <QoS>`
#                      to B (persistent bridge session)
#   mosquitto-bridged  the same with Mosquitto A bridging to Mosquitto B
# Per round: `fanin -c 8` at the highest rate, QoS 0 and 1, 64 B and 1 KiB; then the latency at a fixed 4,000 msg/s
# (8 x 500/s, QoS 0 and 1, 64 B); then the backlog: TernMQ B stopped, 100,000 QoS 1 messages of 64 B published into
# A (they wait in the bridge's stored queue), B started, the time until a subscriber on B has all of them, in order
# (mosquitto_sub, with a persistent session made on B before it was stopped); then the same backlog with B paused
# (SIGSTOP) instead of stopped and a subscriber (clean session) on B throughout: B's process stays warm and stores
# nothing, so this one measures the bridge's drain, where the first also measures B's start and its persistent
# session's delivery (labels "backlog" and "backlog-paused").
# Prints a Markdown table of medians (and replaces its block in --out if given).
#
#   bench/bridge.sh [--rounds 3] [--duration 10] [--out FILE] [--ports BASE] [--only REGEX] [--no-mosquitto]
# --only runs the scenarios whose label matches REGEX (grep -E; the backlogs' are "backlog", "backlog-paused",
# "backlog-paused-bench": the last with ternmq-bench's subscriber instead of mosquitto_sub);
# --no-mosquitto
# leaves the Mosquitto pair out (for before/after comparisons of TernMQ alone). TERNMQ_JAR and BENCH_JAR may name
# other jars (a build kept aside to compare with); TERNMQ_JFR=1 records each TernMQ with JFR (files in the work dir);
# BRIDGE_EXTRA, A_EXTRA and B_EXTRA are lines added to A's bridge section, A's and B's configuration (e.g.
# BRIDGE_EXTRA='bridge_max_inflight 1000'), to compare settings.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROUNDS=3
DURATION=10
OUT=""
BASE=26883
BACKLOG=100000
ONLY=""
MOSQ=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --ports) BASE=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --no-mosquitto) MOSQ=0; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "bridge: unknown option $1" >&2; exit 2 ;;
  esac
done
TERNMQ_JAR=${TERNMQ_JAR:-"$ROOT/ternmq-broker/target/ternmq.jar"}
BENCH_JAR=${BENCH_JAR:-"$ROOT/ternmq-bench/target/ternmq-bench.jar"}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
if [ ! -f "$TERNMQ_JAR" ] || [ ! -f "$BENCH_JAR" ]; then
  ./mvnw -q -DskipTests package -pl ternmq-broker,ternmq-bench -am
fi
[ -x "$MOSQUITTO" ] || { echo "bridge: $MOSQUITTO not found (apt-get install -y mosquitto)" >&2; exit 1; }
command -v mosquitto_sub > /dev/null || { echo "bridge: mosquitto_sub not found (apt-get install -y mosquitto-clients)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/ternmq-bridge.XXXXXX)
SPORT=$BASE             # TernMQ, direct
APORT=$((BASE + 1))     # TernMQ A, bridging to B
BPORT=$((BASE + 2))     # TernMQ B
MAPORT=$((BASE + 3))    # Mosquitto A, bridging to Mosquitto B
MBPORT=$((BASE + 4))    # Mosquitto B
echo "bridge: working in $WORK (configs, logs, raw results)" >&2

# The same client settings everywhere (those of bench/side-by-side.sh); RocksDB (the default) on every TernMQ, since
# the bridge's queue lives there. The bridges forward QoS 0 and QoS 1 topics under their own prefixes, so one pair of
# brokers serves both.
common() {
  cat <<EOF
allow_anonymous true
max_inflight_messages 20
max_queued_messages 1000
EOF
}
bridge_section() { # name remote-port
  cat <<EOF
connection $1
address 127.0.0.1:$2
remote_clientid bench-$1
cleansession false
restart_timeout 1
topic bench/q0/# out 0
topic bench/q1/# out 1
EOF
}
{ echo "listener $SPORT 127.0.0.1"; echo "data_dir $WORK/direct"; common; } > "$WORK/direct.conf"
{ echo "listener $BPORT 127.0.0.1"; echo "data_dir $WORK/b"; common; echo "${B_EXTRA:-}"; } > "$WORK/b.conf"
# backlog + headroom: the bridge's queue must hold the whole backlog
{ echo "listener $APORT 127.0.0.1"; echo "data_dir $WORK/a"; common; echo "${A_EXTRA:-}"
  bridge_section ternmq-a-to-b "$BPORT"; echo "bridge_max_queued_messages $((BACKLOG * 2))"; echo "${BRIDGE_EXTRA:-}"
} > "$WORK/a.conf"
mosquitto_common() {
  cat <<EOF
listener $1 127.0.0.1
allow_anonymous true
max_inflight_messages 20
max_queued_messages 1000
persistence false
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
EOF
}
mosquitto_common "$MBPORT" > "$WORK/mosquitto-b.conf"
# a bridge section takes every line after `connection`, so it comes last
{ mosquitto_common "$MAPORT"; bridge_section mosquitto-a-to-b "$MBPORT"; } > "$WORK/mosquitto-a.conf"

declare -A PID=()
STARTS=0
start_broker() { # name
  local name=$1
  STARTS=$((STARTS + 1))
  case $name in
    mosquitto-*) "$MOSQUITTO" -c "$WORK/$name.conf" > "$WORK/$name-$STARTS.log" 2>&1 & ;;
    *) java ${TERNMQ_JFR:+-XX:StartFlightRecording=settings=profile,dumponexit=true,filename=$WORK/$name-$STARTS.jfr} \
         -jar "$TERNMQ_JAR" -c "$WORK/$name.conf" > "$WORK/$name-$STARTS.log" 2>&1 & ;;
  esac
  PID[$name]=$!
}
stop_broker() { # name: a clean stop, then SIGKILL after 10 s
  local name=$1 pid=${PID[$1]:-}
  [ -n "$pid" ] || return 0
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  PID[$name]=""
}
stop_all() {
  for name in "${!PID[@]}"; do stop_broker "$name"; done
}
trap stop_all EXIT
trap 'exit 130' INT TERM
wait_port() { # port name
  for _ in $(seq 1 300); do
    (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "${PID[$2]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "bridge: $2 did not open port $1; $WORK/$2-*.log" >&2
  exit 1
}
PLACES=(direct bridged mosquitto-bridged)
if [ "$MOSQ" = 1 ]; then
  for b in direct b a mosquitto-b mosquitto-a; do start_broker "$b"; done
else
  PLACES=(direct bridged)
  for b in direct b a; do start_broker "$b"; done
fi
wait_port "$SPORT" direct; wait_port "$APORT" a; wait_port "$BPORT" b
if [ "$MOSQ" = 1 ]; then wait_port "$MAPORT" mosquitto-a; wait_port "$MBPORT" mosquitto-b; fi

HZ=$(getconf CLK_TCK)
settle() { # wait (60 s at most) until every broker is idle: a backlog left by the run before (QoS 0 the bridge was
  # still forwarding, say) must not take cores from the next one
  local before after
  for _ in $(seq 1 60); do
    before=$(cpu_ticks); sleep 1; after=$(cpu_ticks)
    [ $((after - before)) -gt $((HZ / 10)) ] || return 0   # under a tenth of a core, all brokers together
  done
  echo "  brokers still busy after 60 s; measuring anyway" >&2
}
cpu_ticks() { # utime + stime of every broker process, in clock ticks
  local total=0 pid f
  for pid in "${PID[@]}"; do
    if [ -z "$pid" ] || [ ! -r "/proc/$pid/stat" ]; then continue; fi
    f=$(sed 's/^.*) //' "/proc/$pid/stat")
    read -r -a f <<< "$f"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
bench() { # ternmq-bench arguments...: prints the RESULT json, or {} when the run failed to report
  local line
  line=$(java -jar "$BENCH_JAR" "$@" --quiet 2>&1 | grep '^RESULT ' | sed 's/^RESULT //') || true
  [ -n "$line" ] || line='{}'
  echo "$line"
}
where() { # placement -> the bench's port options
  case $1 in
    direct) echo "-p $SPORT" ;;
    bridged) echo "-p $APORT --sub-port $BPORT" ;;
    mosquitto-bridged) echo "-p $MAPORT --sub-port $MBPORT" ;;
  esac
}
# A message through every path before anything is measured (a bridge still connecting would spoil the first run),
# then the JIT of every broker warmed up (not recorded).
for placement in "${PLACES[@]}"; do
  ok=0
  for _ in $(seq 1 30); do
    # shellcheck disable=SC2046
    r=$(bench fanin -c 1 -q 1 -n 5 -r 100 $(where "$placement") -t "bench/q1/check/%i" --drain 2 --prefix "check-")
    if python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r.get("received")==5 and r.get("lost")==0 else 1)' "$r"; then
      ok=1; break
    fi
    sleep 1
  done
  [ $ok = 1 ] || { echo "bridge: no message gets through $placement; $WORK" >&2; exit 1; }
  echo "  warm-up: $placement" >&2
  # shellcheck disable=SC2046
  bench fanin -c 8 -q 1 -s 64 -d 5 $(where "$placement") -t "bench/q1/warm/%i" --prefix "warm-$placement-" > /dev/null
done

: > "$WORK/results.jsonl"
record() { # placement label json
  python3 -c 'import json,sys; r=json.loads(sys.argv[3]); r["placement"]=sys.argv[1]; r["label"]=sys.argv[2]; print(json.dumps(r))' \
    "$1" "$2" "$3" >> "$WORK/results.jsonl"
}
# label|bench arguments; Q is the QoS (it chooses the bridge's topic line), RUN makes topics and ids of every run new
SCENARIOS=()
for qos in 0 1; do
  for size in 64 1024; do
    SCENARIOS+=("fan-in 8→1, QoS $qos, $size B, max rate|fanin -c 8 -q $qos -s $size --inflight 64 -t bench/q$qos/RUN/%i")
  done
done
for qos in 0 1; do
  SCENARIOS+=("fan-in 8→1, QoS $qos, 64 B, 4,000 msg/s|fanin -c 8 -q $qos -s 64 -r 500 --inflight 64 -t bench/q$qos/RUN/%i")
done

check_backlog() { # received-file t0 pub-json mode: one line of backlog.jsonl
  python3 - "$1" "$BACKLOG" "$2" "$3" "$4" >> "$WORK/backlog.jsonl" <<'PY'
import json, sys
path, expected, t0, pub, mode = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
times, seqs = [], []
for line in open(path):
    parts = line.split()
    if len(parts) != 2 or len(parts[1]) < 48:
        continue
    times.append(float(parts[0]))
    seqs.append(int(parts[1][16:32], 16))   # payload bytes 8..15: the sequence number (ternmq-bench's Payload)
distinct = len(set(seqs))
in_order = all(b > a for a, b in zip(seqs, seqs[1:]))
drain = times[-1] - times[0] if len(times) > 1 else None
print(json.dumps({"mode": mode, "published": pub.get("acked"), "received": len(seqs), "lost": expected - distinct,
                  "duplicated": len(seqs) - distinct, "in_order": in_order,
                  "drain_s": drain, "drain_rate": (len(seqs) - 1) / drain if drain else None,
                  "start_to_last_s": times[-1] - t0 if times else None}))
PY
}
backlog() { # round: B stopped, BACKLOG messages into A, B started, time until the subscriber on B has them all
  local round=$1 sub="backlog-sub-$1" topic="bench/q1/backlog$1" pub
  # the subscriber's persistent session on B, made while B is up, so B keeps what the bridge brings before it is back
  settle
  mosquitto_sub -p "$BPORT" -i "$sub" -c -q 1 -t "$topic/#" -E
  stop_broker b
  echo "  [$round] backlog: $BACKLOG messages into A, B stopped" >&2
  pub=$(bench pub -c 1 -q 1 -s 64 -n "$BACKLOG" --inflight 64 -p "$APORT" -t "$topic/0" --prefix "backlog$round-")
  start_broker b
  local t0
  t0=$(date +%s.%N)
  wait_port "$BPORT" b
  # -W ends a drain that stalls; %U is the arrival time, %x the payload in hex (its sequence number is checked)
  mosquitto_sub -p "$BPORT" -i "$sub" -c -q 1 -t "$topic/#" -C "$BACKLOG" -W 300 -F '%U %x' \
    > "$WORK/backlog-$round.txt" 2> "$WORK/backlog-$round.err" || true
  check_backlog "$WORK/backlog-$round.txt" "$t0" "$pub" restart
  tail -n 1 "$WORK/backlog.jsonl" >&2
  # B's JIT is cold again: warm it before the next round measures through it
  if [ "$round" -lt "$ROUNDS" ]; then
    # shellcheck disable=SC2046
    bench fanin -c 8 -q 1 -s 64 -d 5 $(where bridged) -t "bench/q1/warm$round/%i" --prefix "warm$round-" > /dev/null
  fi
}

backlog_paused() { # round: B paused (SIGSTOP), BACKLOG messages into A, B resumed; a subscriber on B all along
  local round=$1 topic="bench/q1/paused$1" pub subpid t0
  settle
  mosquitto_sub -p "$BPORT" -i "paused-sub-$round" -q 1 -t "$topic/#" -C "$BACKLOG" -W 300 -F '%U %x' \
    > "$WORK/paused-$round.txt" 2> "$WORK/paused-$round.err" &
  subpid=$!
  sleep 1 # subscribed
  kill -STOP "${PID[b]}"
  echo "  [$round] backlog-paused: $BACKLOG messages into A, B paused" >&2
  pub=$(bench pub -c 1 -q 1 -s 64 -n "$BACKLOG" --inflight 64 -p "$APORT" -t "$topic/0" --prefix "paused$round-")
  kill -CONT "${PID[b]}"
  t0=$(date +%s.%N)
  wait "$subpid" || true
  check_backlog "$WORK/paused-$round.txt" "$t0" "$pub" paused
  tail -n 1 "$WORK/backlog.jsonl" >&2
}

# The paused backlog again with ternmq-bench's subscriber (QoS 1, the client the live rate is measured with) instead of
# mosquitto_sub, which writes a line per message and bounds the drain it measures (label "backlog-paused-bench"): its
# rate is from the first to the last of the BACKLOG messages. (No restart variant: the JVM subscriber connects about
# half a second after B is up, while the bridge already fills the offline session's queue past max_queued_messages.)
backlog_paused_bench() { # round
  local round=$1 topic="bench/q1/pb$1" line subpid
  settle
  bench sub -c 1 -q 1 --filter "$topic/#" -p "$BPORT" --prefix "pb$round-" -n "$BACKLOG" -d 300 \
    > "$WORK/pb-$round.json" &
  subpid=$!
  sleep 2 # subscribed
  kill -STOP "${PID[b]}"
  echo "  [$round] backlog-paused-bench: $BACKLOG messages into A, B paused" >&2
  bench pub -c 1 -q 1 -s 64 -n "$BACKLOG" --inflight 64 -p "$APORT" -t "$topic/0" --prefix "pb$round-" > /dev/null
  kill -CONT "${PID[b]}"
  wait "$subpid" || true
  line=$(cat "$WORK/pb-$round.json")
  python3 - "$line" >> "$WORK/backlog.jsonl" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
rate, got = r.get("recv_rate") or None, r.get("received") or 0
print(json.dumps({"mode": "paused-bench", "received": got, "lost": r.get("lost"), "duplicated": r.get("duplicated"),
                  "in_order": r.get("out_of_order") == 0, "drain_rate": rate,
                  "drain_s": got / rate if rate else None, "start_to_last_s": None}))
PY
  tail -n 1 "$WORK/backlog.jsonl" >&2
}

run=0
for round in $(seq 1 "$ROUNDS"); do
  for s in "${SCENARIOS[@]}"; do
    label=${s%%|*}
    if [ -n "$ONLY" ] && ! grep -qE -- "$ONLY" <<< "$label"; then continue; fi
    # the order turns each round, so no placement always runs first
    placements=(direct bridged mosquitto-bridged)
    [ $((round % 3)) = 2 ] && placements=(bridged mosquitto-bridged direct)
    [ $((round % 3)) = 0 ] && placements=(mosquitto-bridged direct bridged)
    for placement in "${placements[@]}"; do
      if [ "$MOSQ" = 0 ] && [ "$placement" = mosquitto-bridged ]; then continue; fi
      run=$((run + 1))
      args=${s#*|}
      args=${args//RUN/run$run}
      settle
      echo "  [$round] $placement: $label" >&2
      # shellcheck disable=SC2046,SC2086
      line=$(bench $args $(where "$placement") -d "$DURATION" --warmup 2 --prefix "run$run-")
      record "$placement" "$label" "$line"
      python3 - "$round" "$placement" "$label" "$line" >&2 <<'PY'
import json, sys
r = json.loads(sys.argv[4])
where = f"  [{sys.argv[1]}] {sys.argv[2]}: {sys.argv[3]}:"
if not r.get("sent"):
    print(where, "nothing sent while measuring (the publishers were held back, or the run failed): loss not measured")
elif r.get("lost") or r.get("duplicated"):
    print(where, f"lost {r.get('lost'):,}, duplicated {r.get('duplicated'):,} of {r.get('sent'):,}")
PY
    done
  done
  if [ -z "$ONLY" ] || grep -qE -- "$ONLY" <<< "backlog"; then backlog "$round"; fi
  if [ -z "$ONLY" ] || grep -qE -- "$ONLY" <<< "backlog-paused"; then backlog_paused "$round"; fi
  if [ -z "$ONLY" ] || grep -qE -- "$ONLY" <<< "backlog-paused-bench"; then backlog_paused_bench "$round"; fi
done
: >> "$WORK/results.jsonl"; : >> "$WORK/backlog.jsonl"

python3 - "$WORK/results.jsonl" "$WORK/backlog.jsonl" "$ROUNDS" "$DURATION" "$OUT" "$BACKLOG" <<'PY'
import json, statistics, sys, subprocess, datetime, os
rows = [json.loads(l) for l in open(sys.argv[1])]
drains = [json.loads(l) for l in open(sys.argv[2])]
rounds, duration, out, backlog = sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
labels = []
for r in rows:
    if r["label"] not in labels:
        labels.append(r["label"])
PLACES = ("direct", "bridged", "mosquitto-bridged")
def med(label, placement, key):
    v = [r[key] for r in rows if r["label"] == label and r["placement"] == placement and r.get(key) is not None]
    return statistics.median(v) if v else None
def total(label, placement, key):  # loss is summed over the rounds, not a median: every message counts
    v = [r for r in rows if r["label"] == label and r["placement"] == placement]
    # a round whose publishers sent nothing while measuring (held back by the broker) measured no loss
    return None if not v or any(not r.get("sent") or r.get(key) is None for r in v) else sum(r[key] for r in v)
def num(v, fmt="{:,.0f}"):
    return fmt.format(v) if v is not None else "n/a"
def ratio(a, b):
    return num(a / b if a and b else None, "{:.2f}")
cores = os.cpu_count()
jdk = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
mosq = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True).stdout.splitlines()[:1]
lines = ["## Bridges: TernMQ → TernMQ against one TernMQ and Mosquitto → Mosquitto", ""]
lines.append(f"- **Date:** {datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%MZ')} (UTC); **machine:** {cores} cores, "
             f"{jdk}; {mosq[0] if mosq else 'mosquitto'}; the five brokers and the load generator share the cores.")
lines.append(f"- **Command:** `bench/bridge.sh --rounds {rounds} --duration {duration}` — per round each scenario "
             "runs on one TernMQ (*direct*), from TernMQ A over a bridge (`topic bench/q<QoS>/# out <QoS>`, "
             "`cleansession false`) to a subscriber on TernMQ B (*bridged*), and the same between two Mosquittos "
             f"(*mosq.*); {duration} s measured after 2 s of warm-up; medians over the rounds; lost and duplicated "
             "are totals over all rounds. TernMQ with RocksDB (the default), Mosquitto with `persistence false`; "
             "both with `max_inflight_messages 20`, `max_queued_messages 1000`.")
lines.append("")
lines.append("| Scenario | direct msg/s | bridged msg/s | bridged/direct | mosq. msg/s | bridged/mosq. | p99 ms direct / bridged / mosq. | lost direct / bridged / mosq. | dup. direct / bridged / mosq. |")
lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for l in labels:
    d, b, m = (med(l, p, "recv_rate") for p in PLACES)
    p99 = " / ".join(num(med(l, p, "lat_p99_ms"), "{:.2f}") for p in PLACES)
    lost = " / ".join(num(total(l, p, "lost")) for p in PLACES)
    dup = " / ".join(num(total(l, p, "duplicated")) for p in PLACES)
    lines.append(f"| {l} | {num(d)} | {num(b)} | {ratio(b, d)} | {num(m)} | {ratio(b, m)} | {p99} | {lost} | {dup} |")
lines.append("")
if any(not r.get("sent") for r in rows):
    lines.append("- n/a in lost and dup.: in some round the publishers sent nothing while measuring (the broker held "
                 "them back), so no loss was measured there.")
for l in labels:
    if "4,000 msg/s" in l:
        d, b = med(l, "direct", "lat_p99_ms"), med(l, "bridged", "lat_p99_ms")
        lines.append(f"- {l}: bridged p99 − direct p99 = {num(b - d if b is not None and d is not None else None, '{:+.2f}')} ms.")
live_label = "fan-in 8→1, QoS 1, 64 B, max rate"
live = med(live_label, "bridged", "recv_rate")
def dmed(key, mode):
    v = [x[key] for x in drains if x.get("mode", "restart") == mode and x.get(key) is not None]
    return statistics.median(v) if v else None
for mode in ("restart", "paused", "paused-bench"):
    ds = [x for x in drains if x.get("mode", "restart") == mode]
    if not ds:
        continue
    rate = dmed("drain_rate", mode)
    if mode == "restart":
        how = ("TernMQ B stopped", "B started: the subscriber on B (`mosquitto_sub`, persistent session)",
               "from B's start (JVM start and the bridge's reconnect, `restart_timeout 1`, included)")
    elif mode == "paused-bench":
        how = ("TernMQ B paused (SIGSTOP)", "B resumed: the subscriber on B all along (`ternmq-bench sub -q 1`, as "
               "for the live rate)", "from B's resumption (not taken)")
    else:
        how = ("TernMQ B paused (SIGSTOP)", "B resumed: the subscriber on B all along (`mosquitto_sub`, clean session)",
               "from B's resumption")
    lines.append(f"- Backlog, {mode}: {how[0]}, {backlog:,} QoS 1 messages of 64 B published into A (`pub -c 1 -q 1 -s 64 "
                 f"-n {backlog}`), {how[1]} had them from the "
                 f"first to the last in {num(dmed('drain_s', mode), '{:.2f}')} s, {num(rate)} msg/s, "
                 f"{ratio(rate, live)}× the live bridged rate ({num(live)} msg/s, {live_label}); "
                 f"{num(dmed('start_to_last_s', mode), '{:.2f}')} s {how[2]}; "
                 f"received {', '.join(num(x.get('received')) for x in ds)}, lost {sum(x.get('lost') or 0 for x in ds):,}, "
                 f"duplicated {sum(x.get('duplicated') or 0 for x in ds):,}, "
                 f"{'in order' if all(x.get('in_order') for x in ds) else 'OUT OF ORDER'} (every round).")
text = "\n".join(lines) + "\n"
print(text)
if out:
    begin, end = "<!-- bridge:begin -->", "<!-- bridge:end -->"
    doc = open(out).read() if os.path.exists(out) else ""
    block = begin + "\n\n" + text + "\n" + end
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    open(out, "w").write(doc)
PY
