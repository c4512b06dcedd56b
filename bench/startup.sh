#!/usr/bin/env bash
# Start-up time of two TernMQ builds, alternating: launch (bin/ternmq -p PORT --data-dir DIR) to the port accepting a
# TCP connection, then the broker is killed. Each build keeps its own data directory across its starts (a restart, as
# a service restarts) unless --fresh empties it before each start. The first start of each build is not counted.
#
#   bench/startup.sh ROOT_A ROOT_B              # each ROOT has bin/ternmq and ternmq-broker/target/ternmq.jar
#   bench/startup.sh --fresh -n 15 /tmp/a /tmp/b
#   bench/startup.sh --conf all-on.conf --ready http://127.0.0.1:9883/health/ready /tmp/a /tmp/b
# --conf adds -c FILE (its first listener is moved to the port); --ready also waits for that URL to answer 200 (the
# admin listener's readiness: every listener bound, the store open).
set -euo pipefail
N=15
FRESH=0
PORT=26883
CONF=""
READY=""
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N=$2; shift 2 ;;
    --fresh) FRESH=1; shift ;;
    -p) PORT=$2; shift 2 ;;
    --conf) CONF=$2; shift 2 ;;
    --ready) READY=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "startup: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -ne 2 ]; then
  echo "startup: two build directories expected (see --help)" >&2
  exit 2
fi
WORK=$(mktemp -d)
trap 'pkill -f "ternmq.jar.*-p $PORT" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# one ROOT DIR: prints the milliseconds from launch to the port accepting
one() {
  local root=$1 dir=$2 start end pid
  if [ "$FRESH" = 1 ]; then rm -rf "$dir/data"; fi
  start=$(date +%s%N)
  "$root/bin/ternmq" ${CONF:+-c "$CONF"} -p "$PORT" --data-dir "$dir/data" > "$dir/log" 2>&1 &
  pid=$!
  until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "startup: $root did not start: $dir/log" >&2; exit 1; fi
    sleep 0.005
  done
  if [ -n "$READY" ]; then
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "$READY")" = 200 ]; do
      if ! kill -0 "$pid" 2>/dev/null; then echo "startup: $root did not start: $dir/log" >&2; exit 1; fi
      sleep 0.005
    done
  fi
  end=$(date +%s%N)
  pkill -f "ternmq.jar.*-p $PORT" || true
  wait "$pid" 2>/dev/null || true
  echo $(( (end - start) / 1000000 ))
}

median() {
  printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'
}

mkdir -p "$WORK/a" "$WORK/b"
one "$1" "$WORK/a" > /dev/null
one "$2" "$WORK/b" > /dev/null
A=()
B=()
for _ in $(seq 1 "$N"); do
  A+=("$(one "$1" "$WORK/a")")
  B+=("$(one "$2" "$WORK/b")")
done
echo "$1: ${A[*]} median $(median "${A[@]}") ms"
echo "$2: ${B[*]} median $(median "${B[@]}") ms"
