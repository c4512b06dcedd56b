#!/usr/bin/env bash
# CPU per thread of one running process, over a window: the threads' utime + stime from /proc, in clock ticks
# (CLK_TCK a second = one core), busiest first. Used to see which of a broker's threads bounds a run (its store writer,
# RocksDB's flush and compaction threads, the I/O loops), e.g. during bench/bridge.sh:
#   bench/thread-cpu.sh 'a.conf' 6
# PATTERN picks the process (pgrep -f; the first match), SECONDS the window.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: bench/thread-cpu.sh PATTERN SECONDS" >&2; exit 2; }
pid=$(pgrep -f "$1" | head -1) || { echo "thread-cpu: no process matches '$1'" >&2; exit 1; }
ticks() { # task dir -> utime + stime
  local f
  f=$(sed 's/^.*) //' "$1/stat" 2> /dev/null) || return 1
  read -r -a f <<< "$f"
  echo $((f[11] + f[12]))
}
declare -A before
for t in /proc/"$pid"/task/*; do before[$t]=$(ticks "$t" || echo 0); done
sleep "$2"
echo "# ticks in $2 s ($(getconf CLK_TCK) a second = one core), pid $pid"
for t in /proc/"$pid"/task/*; do
  now=$(ticks "$t") || continue
  d=$((now - ${before[$t]:-0}))
  [ "$d" -gt 2 ] && echo "$d $(cat "$t/comm")"
done | sort -rn
