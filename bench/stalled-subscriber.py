#!/usr/bin/env python3
"""A subscriber that stops reading while a publisher floods its topic; samples the broker's RSS meanwhile.

Used by bench/memory.sh (scenario "stalled"). Raw sockets and MQTT 3.1.1, so it needs nothing but python3:

1. the subscriber connects (clean session, keep alive 0, so the broker never times it out), subscribes to TOPIC at
   QoS 0, reads CONNACK and SUBACK, and then stops reading its socket;
2. the broker's VmRSS (/proc/PID/status) is read: the baseline;
3. a publisher sends BYTES of QoS 0 PUBLISH payload to TOPIC as fast as the socket takes them, then a PINGREQ, and
   waits for the PINGRESP: the broker has then handled every PUBLISH before it;
4. the RSS is read again at each of --rss-at's seconds after that (the last is "settled"); a sampling thread keeps
   the peak throughout (every 20 ms);
5. the subscriber reads again, until nothing comes for 2 s, and counts what it got: what the broker buffered for it
   (and the kernel's socket buffers) arrives, the rest was dropped.

Prints one line `RESULT {json}`: rss_before_kib, rss_peak_kib, rss_end_kib (at the PINGRESP), rss_at_<S>s_kib for
each --rss-at, rss_settled_kib (the last of them), the growths against rss_before_kib, offered_msgs, offered_bytes,
publish_s, delivered_msgs (to the stalled subscriber, once it read again).
"""
import argparse
import json
import os
import socket
import sys
import threading
import time


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def utf8(s):
    b = s.encode()
    return len(b).to_bytes(2, "big") + b


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


def connect_packet(client_id):
    # protocol name, level 4 (3.1.1), flags: clean session, keep alive 0
    return packet(0x10, utf8("MQTT") + bytes([4, 0x02, 0, 0]) + utf8(client_id))


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        buf += chunk
    return bytes(buf)


def read_packet(sock):
    first = recv_exact(sock, 1)[0]
    length, mult = 0, 1
    while True:
        b = recv_exact(sock, 1)[0]
        length += (b & 0x7F) * mult
        mult *= 128
        if not b & 0x80:
            break
    return first, recv_exact(sock, length)


def open_client(host, port, client_id):
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(connect_packet(client_id))
    first, body = read_packet(sock)
    if first != 0x20 or body[1] != 0:
        raise ConnectionError(f"{client_id}: CONNACK refused ({first:#x} {body.hex()})")
    return sock


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


class Sampler(threading.Thread):
    """Keeps the highest VmRSS seen, every 20 ms."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, -1, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.02)


def drain(sock, topic):
    """Reads until nothing arrives for 2 s; counts PUBLISH packets to topic."""
    sock.settimeout(2.0)
    buf = bytearray()
    count = 0
    want = utf8(topic)
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
        pos = 0
        while True:  # whole packets in buf
            if len(buf) - pos < 2:
                break
            length, mult, i = 0, 1, pos + 1
            complete = False
            while i < len(buf):
                b = buf[i]
                length += (b & 0x7F) * mult
                mult *= 128
                i += 1
                if not b & 0x80:
                    complete = True
                    break
            if not complete or len(buf) - i < length:
                break
            if buf[pos] >> 4 == 3 and bytes(buf[i:i + len(want)]) == want:
                count += 1
            pos = i + length
        del buf[:pos]
    return count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True, help="the broker's process id (RSS from /proc)")
    ap.add_argument("--topic", default="stalled/flood")
    ap.add_argument("--bytes", type=int, default=200_000_000, help="payload bytes offered (default 200,000,000)")
    ap.add_argument("--size", type=int, default=1024, help="payload bytes per message (default 1024)")
    ap.add_argument("--rss-at", default="5", help="seconds after the flood at which the RSS is read, comma-separated "
                    "(default 5; the last one is reported as settled)")
    args = ap.parse_args()
    rss_at = sorted(float(x) for x in args.rss_at.split(","))

    sub = open_client(args.host, args.port, "stalled-sub-%d" % os.getpid())
    sub.sendall(packet(0x82, (1).to_bytes(2, "big") + utf8(args.topic) + bytes([0])))
    first, body = read_packet(sub)
    if first != 0x90 or body[2] != 0:
        raise ConnectionError(f"SUBACK refused ({first:#x} {body.hex()})")
    # from here on the subscriber reads nothing until drain()

    pub = open_client(args.host, args.port, "stalled-pub-%d" % os.getpid())
    time.sleep(0.5)
    before = rss_kib(args.pid)
    sampler = Sampler(args.pid)
    sampler.peak = before
    sampler.start()

    one = packet(0x30, utf8(args.topic) + bytes(args.size))
    batch_msgs = max(1, (256 * 1024) // len(one))
    batch = one * batch_msgs
    msgs = args.bytes // args.size
    t0 = time.monotonic()
    sent = 0
    while sent + batch_msgs <= msgs:
        pub.sendall(batch)
        sent += batch_msgs
    if sent < msgs:
        pub.sendall(one * (msgs - sent))
        sent = msgs
    pub.sendall(bytes([0xC0, 0]))  # PINGREQ: its PINGRESP comes after every PUBLISH before it was handled
    first, _ = read_packet(pub)
    publish_s = time.monotonic() - t0
    if first != 0xD0:
        raise ConnectionError(f"expected PINGRESP, got {first:#x}")
    end = rss_kib(args.pid)
    t_end = time.monotonic()
    readings = {}
    for at in rss_at:
        time.sleep(max(0.0, t_end + at - time.monotonic()))
        readings[at] = rss_kib(args.pid)
    settled = readings[rss_at[-1]]
    sampler.running = False
    sampler.join()
    pub.sendall(bytes([0xE0, 0]))
    pub.close()

    delivered = drain(sub, args.topic)
    sub.close()
    result = {
        "rss_before_kib": before, "rss_peak_kib": sampler.peak, "rss_end_kib": end, "rss_settled_kib": settled,
        "rss_growth_peak_kib": sampler.peak - before, "rss_growth_settled_kib": settled - before,
        "offered_msgs": msgs, "offered_bytes": msgs * args.size, "payload_size": args.size,
        "publish_s": round(publish_s, 3), "delivered_msgs": delivered, "settle_s": rss_at[-1],
    }
    for at, kib in readings.items():
        name = ("%g" % at).replace(".", "_")
        result[f"rss_at_{name}s_kib"] = kib
        result[f"rss_growth_{name}s_kib"] = kib - before
    later = ", ".join(f"{at:g} s later {kib / 1024:.1f}" for at, kib in readings.items())
    print(f"stalled: RSS {before / 1024:.1f} MiB before, peak {sampler.peak / 1024:.1f}, at the last PUBLISH "
          f"{end / 1024:.1f}, {later}; {msgs:,} messages ({msgs * args.size:,} B) "
          f"offered in {publish_s:.2f} s, {delivered:,} reached the stalled subscriber when it read again",
          file=sys.stderr)
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
