#!/usr/bin/env python3
"""Turns the raw results of bench/side-by-side.sh into the Markdown report it puts into docs/benchmarks.md.

Reads $WORK/results.jsonl (one line per bench run: broker, round, label, kind, args, result = the RESULT fields) and
$WORK/startup.jsonl, plus the settings and machine facts the script exports. Medians over rounds; ratios are
TernMQ/Mosquitto.
"""
import json
import os
import re
import statistics

BEGIN = "<!-- side-by-side:begin -->"
END = "<!-- side-by-side:end -->"
env = os.environ
work = env["WORK"]


def load(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


runs = load(os.path.join(work, "results.jsonl"))
startups = load(os.path.join(work, "startup.jsonl"))

labels = []
by = {}
kinds = {}
args_of = {}
for r in runs:
    if r["label"] not in by:
        labels.append(r["label"])
        by[r["label"]] = {"ternmq": [], "mosquitto": []}
    kinds[r["label"]] = r["kind"]
    args_of[r["label"]] = r["args"]
    by[r["label"]][r["broker"]].append(r)


def values(label, broker, key, fn=None):
    out = []
    for r in by[label][broker]:
        res = r["result"]
        if res is None:
            continue
        v = fn(res) if fn else res.get(key)
        if v is not None and not (isinstance(v, (int, float)) and v < 0 and key not in ("lost",)):
            out.append(v)
    return out


def med(label, broker, key, fn=None):
    v = values(label, broker, key, fn)
    return statistics.median(v) if v else None


def lost_pct(res):
    e = res.get("expected")
    return None if not e or e <= 0 else 100.0 * res.get("lost", 0) / e


def f_rate(v):
    return "n/a" if v is None else f"{v:,.0f}"


def f_ms(v):
    return "n/a" if v is None else (f"{v:.2f}" if v < 100 else f"{v:,.0f}")


def f_pct(v):
    return "n/a" if v is None else ("0" if v == 0 else f"{v:.2f} %" if v >= 0.01 else "<0.01 %")


def f_bytes(v):
    if v is None:
        return "n/a"
    if abs(v) < 10 * 1024:
        return f"{v:,.0f} B"
    if abs(v) < 10 * 1024 * 1024:
        return f"{v / 1024:,.1f} KiB"
    return f"{v / 1024 / 1024:,.1f} MiB"


def ratio(t, m):
    if t is None or m is None or m == 0:
        return "n/a"
    return f"{t / m:.2f}"


def f_cores(v):
    return "n/a" if v is None else f"{v:.2f}"


def cpu(label, broker):
    return f"{f_cores(med(label, broker, 'broker_cpu_cores'))} / {f_cores(med(label, broker, 'bench_cpu_cores'))}"


def median_of(xs):
    return statistics.median(xs) if xs else None


lines = [BEGIN, "", "## Side by side: TernMQ and Mosquitto", ""]
if env.get("LABEL_NOTE"):
    lines += [f"> **{env['LABEL_NOTE']}**", ""]
rounds = env["ROUNDS"]
lines += [
    f"- **Date:** {env['START_DATE']} (UTC)",
    f"- **Machine:** {env['MACHINE_CORES']} cores ({env['MACHINE_CPU']}), {env['MACHINE_MEM']} RAM, "
    f"{env['MACHINE_KERNEL']}; broker and load generator share the cores; open files (hard limit) "
    f"{env['MACHINE_NOFILE']}; load average at the end {env['MACHINE_LOAD']}",
    f"- **JDK:** {env['MACHINE_JDK']}",
    f"- **Mosquitto:** {env['MOSQUITTO_VERSION']} (Debian package)",
    f"- **Run:** `bench/side-by-side.sh {env.get('SCRIPT_ARGS', '')}`".replace("`bench/side-by-side.sh `",
                                                                             "`bench/side-by-side.sh`"),
    f"  — {rounds} round(s); each round runs every scenario against TernMQ, then Mosquitto; "
    f"{env['DURATION']} s measured after {env['WARMUP']} s warm-up per traffic scenario; conn scenarios hold "
    f"{env['HOLD']} s, open {env['CONN_RATE']} connections/s, and run against freshly started brokers.",
    f"- **Figures** are medians over the rounds. Ratios are TernMQ / Mosquitto: above 1 is better for throughput "
    f"and connection rate, below 1 is better for latency and memory.",
    "",
]

max_rows = [l for l in labels if kinds[l] == "max"]
if max_rows:
    lines += ["### Throughput at maximum rate", "",
              "Messages received per second by all subscribers together (for fan-out: deliveries). Publishers send "
              f"as fast as the socket takes (QoS 0) or with at most {env['INFLIGHT']} unacknowledged messages each "
              "(QoS 1). Lost: counted messages that never arrived (queues full, QoS 0 dropped). CPU: cores busy "
              "while measuring (from /proc), the broker's and the load generator's: when the load generator's nears "
              "what the broker leaves free, the figure measures both.", "",
              "| Scenario | TernMQ msg/s | Mosquitto msg/s | TernMQ/Mosquitto | lost TernMQ | lost Mosquitto "
              "| p99 latency TernMQ (ms) | p99 latency Mosquitto (ms) | CPU cores broker / bench, TernMQ "
              "| CPU cores broker / bench, Mosquitto |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for l in max_rows:
        t, m = med(l, "ternmq", "recv_rate"), med(l, "mosquitto", "recv_rate")
        lines.append(f"| {l} | {f_rate(t)} | {f_rate(m)} | {ratio(t, m)} | "
                     f"{f_pct(med(l, 'ternmq', 'lost%', lost_pct))} | {f_pct(med(l, 'mosquitto', 'lost%', lost_pct))} | "
                     f"{f_ms(med(l, 'ternmq', 'lat_p99_ms'))} | {f_ms(med(l, 'mosquitto', 'lat_p99_ms'))} | "
                     f"{cpu(l, 'ternmq')} | {cpu(l, 'mosquitto')} |")
    lines.append("")

fixed_rows = [l for l in labels if kinds[l] == "fixed"]
if fixed_rows:
    lines += ["### Latency at a fixed moderate rate", "",
              "End-to-end latency, publisher to subscriber, in milliseconds (p50 / p99 / p99.9). Each message carries "
              "its intended send time, so a publisher held back counts against the broker (no coordinated omission).",
              "",
              "| Scenario | delivered msg/s | TernMQ p50 / p99 / p99.9 | Mosquitto p50 / p99 / p99.9 "
              "| p99 TernMQ/Mosquitto | lost TernMQ | lost Mosquitto |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for l in fixed_rows:
        def trio(b):
            return " / ".join(f_ms(med(l, b, k)) for k in ("lat_p50_ms", "lat_p99_ms", "lat_p999_ms"))
        t99, m99 = med(l, "ternmq", "lat_p99_ms"), med(l, "mosquitto", "lat_p99_ms")
        delivered = med(l, "ternmq", "recv_rate")
        lines.append(f"| {l} | {f_rate(delivered)} | {trio('ternmq')} | {trio('mosquitto')} | {ratio(t99, m99)} | "
                     f"{f_pct(med(l, 'ternmq', 'lost%', lost_pct))} | {f_pct(med(l, 'mosquitto', 'lost%', lost_pct))} |")
    lines.append("")

conn_rows = [l for l in labels if kinds[l] == "conn"]
if conn_rows:
    lines += ["### Idle connections", "",
              "Connections opened at a fixed rate from up to 250 source addresses (127.0.0.x), held idle with keep "
              "alive. Broker memory is measured 2 s after the last connection, against the same broker just before "
              "the first: RSS from /proc/<pid>/status; for TernMQ also heap live after a full GC and the JDK's "
              "direct buffer pool, read over JMX (Attach API).", "",
              "| Scenario | connections TernMQ / Mosquitto | conn/s TernMQ | conn/s Mosquitto | TernMQ/Mosquitto "
              "| RSS per conn TernMQ | RSS per conn Mosquitto | TernMQ heap + direct per conn (heap, direct) "
              "| RSS after TernMQ / Mosquitto | TernMQ heap after GC |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for l in conn_rows:
        t, m = med(l, "ternmq", "conn_rate"), med(l, "mosquitto", "conn_rate")
        ct, cm = med(l, "ternmq", "connected"), med(l, "mosquitto", "connected")
        rss_t = med(l, "ternmq", "rss_after_kib", lambda r: r["rss_after_kib"] * 1024 if r.get("rss_after_kib", -1) >= 0 else None)
        rss_m = med(l, "mosquitto", "rss_after_kib", lambda r: r["rss_after_kib"] * 1024 if r.get("rss_after_kib", -1) >= 0 else None)
        lines.append(
            f"| {l} | {f_rate(ct)} / {f_rate(cm)} | {f_rate(t)} | {f_rate(m)} | {ratio(t, m)} | "
            f"{f_bytes(med(l, 'ternmq', 'rss_per_conn_b'))} | {f_bytes(med(l, 'mosquitto', 'rss_per_conn_b'))} | "
            f"{f_bytes(med(l, 'ternmq', 'heap_direct_per_conn_b'))} ({f_bytes(med(l, 'ternmq', 'heap_per_conn_b'))}, "
            f"{f_bytes(med(l, 'ternmq', 'direct_per_conn_b'))}) | {f_bytes(rss_t)} / {f_bytes(rss_m)} | "
            f"{f_bytes(med(l, 'ternmq', 'heap_after_b'))} |")
    lines.append("")

if startups:
    st = median_of([s["startup_ms"] for s in startups if s["broker"] == "ternmq"])
    sm = median_of([s["startup_ms"] for s in startups if s["broker"] == "mosquitto"])
    n = len([s for s in startups if s["broker"] == "ternmq"])
    lines += ["### Start-up", "",
              f"From launching the process to its port accepting TCP connections (empty store), median of {n} starts: "
              f"TernMQ {st:.0f} ms (JVM start included), Mosquitto {sm:.0f} ms.", ""]

# every round, for the key figure of each kind
key = {"max": ("recv_rate", "msg/s", f_rate), "fixed": ("lat_p99_ms", "p99 ms", f_ms),
       "conn": ("rss_per_conn_b", "RSS per conn", f_bytes)}
lines += ["### Every round", "", "The figure the tables above take the median of, per round.", "",
          "| Scenario | figure | TernMQ | Mosquitto |", "| --- | --- | --- | --- |"]
for l in labels:
    k, name, fmt = key[kinds[l]]

    def per_round(b):
        out = []
        for r in sorted(by[l][b], key=lambda r: r["round"]):
            res = r["result"]
            v = None if res is None else res.get(k)
            cell = "failed" if res is None else fmt(v)
            if res is not None and not res.get("ok", True):
                cell += "*"
            out.append(cell)
        return ", ".join(out) if out else "n/a"
    lines.append(f"| {l} | {name} | {per_round('ternmq')} | {per_round('mosquitto')} |")
lines.append("")
if any(r["result"] is not None and not r["result"].get("ok", True) for r in runs):
    lines += ["\\* a client failed to connect or was dropped during that run (see the run's log).", ""]

problems = [r for r in runs if r["result"] is None or not r["result"].get("ok", True)]
if problems:
    lines += ["Runs with problems:", ""]
    for r in problems:
        res = r["result"]
        why = "no RESULT line" if res is None else (
            f"{res.get('clients_failed', res.get('failed', 0))} failed to connect, "
            f"{res.get('clients_dropped', res.get('dropped', 0))} dropped")
        lines.append(f"- round {r['round']}, {r['broker']}, {r['label']}: {why}")
    lines.append("")

lines += ["### Exact commands", "",
          "Brokers (configuration files written by the script):", "", "```",
          f"java {env.get('TERNMQ_JAVA_OPTS', '')} -jar ternmq-broker/target/ternmq.jar -c ternmq.conf --data-dir <tmp>"
          .replace("java  -jar", "java -jar"),
          f"{env['MOSQUITTO']} -c mosquitto.conf", "```", "", "`ternmq.conf`:", "", "```"]
with open(os.path.join(work, "ternmq.conf"), encoding="utf-8") as f:
    lines += [x.rstrip() for x in f]
lines += ["```", "", "`mosquitto.conf`:", "", "```"]
with open(os.path.join(work, "mosquitto.conf"), encoding="utf-8") as f:
    lines += [x.rstrip() for x in f]
lines += ["```", "",
          f"Load (each against `-p {env['TERNMQ_PORT']}` for TernMQ and `-p {env['MOSQUITTO_PORT']}` for Mosquitto; "
          f"traffic scenarios add `-d {env['DURATION']} --warmup {env['WARMUP']} --broker-pid <pid>`, conn scenarios "
          f"`-d {env['HOLD']} --broker-pid <pid>`):", "", "```"]
for l in labels:
    lines.append(f"bin/ternmq-bench {args_of[l]}    # {l}")
lines += ["```", "", END]
report = "\n".join(lines) + "\n"

out = env["OUT"]
existing = ""
if os.path.exists(out):
    with open(out, encoding="utf-8") as f:
        existing = f.read()
if BEGIN in existing and END in existing:
    new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END) + "\n?", lambda _: report, existing, count=1, flags=re.S)
else:
    new = existing + ("\n" if existing and not existing.endswith("\n") else "") + report
with open(out, "w", encoding="utf-8") as f:
    f.write(new)
