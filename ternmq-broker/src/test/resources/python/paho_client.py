"""A small paho-mqtt (1.6 API) client that PythonPahoTest drives; run with /usr/bin/python3.

Every run ends by itself: after what it was asked to do, or at --timeout (exit code 3, "TIMEOUT" printed).
What it sees is printed one event a line, flushed at once:

    CONNECTED <rc> <session present 0|1>
    SUBSCRIBED <granted qos>...
    MSG <topic> q<qos> r<retain> <payload>
    PUBLISHED <topic>
    DISCONNECTED <rc>

Over WebSocket with --transport websockets [--ws-path /mqtt]; TLS (mqtts or wss) with --cafile CA.pem.

Modes:
    sub   --topic F [--topic F ...] [--qos Q] [--count N] [--no-clean]
          subscribes, prints N messages, disconnects (N=0: disconnect right after SUBACK; with --no-resubscribe it
          only connects and waits for queued messages)
    pub   --msg TOPIC QOS RETAIN PAYLOAD [--msg ...]
          publishes each in turn, waiting for each to complete; PAYLOAD "-" is an empty payload
    will  --will-topic T --will-payload P [--will-qos Q] [--will-retain] [--stop-topic S]
          connects with a will and stays connected until a message arrives on S (then disconnects cleanly) or the
          timeout; the test kills it to make the broker publish the will
"""

import argparse
import sys
import time

import paho.mqtt.client as mqtt


def out(*parts):
    print(" ".join(str(p) for p in parts), flush=True)


def new_client(client_id, clean_session, transport="tcp"):
    kwargs = dict(client_id=client_id, clean_session=clean_session, protocol=mqtt.MQTTv311, transport=transport)
    if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x: keep the 1.x callback signatures
        kwargs["callback_api_version"] = mqtt.CallbackAPIVersion.VERSION1
    return mqtt.Client(**kwargs)


class Runner:
    def __init__(self, args):
        self.args = args
        self.deadline = time.monotonic() + args.timeout
        self.done = False
        self.connected = False
        self.client = new_client(args.id, not args.no_clean, args.transport)
        if args.transport == "websockets":
            self.client.ws_set_options(path=args.ws_path)
        if args.cafile:
            self.client.tls_set(ca_certs=args.cafile)
        self.client.on_connect = self.on_connect
        self.client.on_disconnect = self.on_disconnect

    def on_connect(self, client, userdata, flags, rc):
        out("CONNECTED", rc, flags.get("session present", 0))
        if rc != 0:
            self.fail("connection refused: %d" % rc)
        self.connected = True

    def on_disconnect(self, client, userdata, rc):
        out("DISCONNECTED", rc)
        self.connected = False
        self.done = True

    def fail(self, why):
        out("ERROR", why)
        sys.exit(2)

    def loop_until(self, condition):
        while not condition():
            if time.monotonic() > self.deadline:
                out("TIMEOUT")
                sys.exit(3)
            self.client.loop(timeout=0.05)

    def connect(self):
        self.client.connect(self.args.host, self.args.port, keepalive=60)
        self.loop_until(lambda: self.connected)

    def disconnect(self):
        self.client.disconnect()
        self.loop_until(lambda: self.done)


def run_sub(r):
    a = r.args
    received = []
    subscribed = []

    def on_subscribe(client, userdata, mid, granted_qos):
        out("SUBSCRIBED", *granted_qos)
        subscribed.append(mid)

    def on_message(client, userdata, msg):
        payload = msg.payload.decode("utf-8", errors="replace")
        out("MSG", msg.topic, "q%d" % msg.qos, "r%d" % int(msg.retain), payload)
        received.append(msg)

    r.client.on_subscribe = on_subscribe
    r.client.on_message = on_message
    r.connect()
    if not a.no_resubscribe:
        r.client.subscribe([(t, a.qos) for t in a.topic])
        r.loop_until(lambda: subscribed)
    r.loop_until(lambda: len(received) >= a.count)
    r.disconnect()


def run_pub(r):
    r.connect()
    for topic, qos, retain, payload in r.args.msg:
        info = r.client.publish(topic, b"" if payload == "-" else payload.encode("utf-8"), int(qos),
                                retain.lower() in ("1", "true", "retain"))
        r.loop_until(info.is_published)
        out("PUBLISHED", topic)
    r.disconnect()


def run_will(r):
    a = r.args
    r.client.will_set(a.will_topic, a.will_payload, qos=a.will_qos, retain=a.will_retain)
    stop = []
    subscribed = []
    r.client.on_message = lambda client, userdata, msg: stop.append(msg)
    r.client.on_subscribe = lambda client, userdata, mid, granted: subscribed.append(mid)
    r.connect()
    if a.stop_topic:
        r.client.subscribe(a.stop_topic, 1)
        r.loop_until(lambda: subscribed)
        out("SUBSCRIBED", a.stop_topic)
    r.loop_until(lambda: stop)
    r.disconnect()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["sub", "pub", "will"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--transport", choices=["tcp", "websockets"], default="tcp")
    p.add_argument("--ws-path", default="/mqtt")
    p.add_argument("--cafile", help="TLS, trusting the CA certificates in this PEM file")
    p.add_argument("--id", default="")
    p.add_argument("--no-clean", action="store_true")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--topic", action="append", default=[])
    p.add_argument("--qos", type=int, default=2)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--no-resubscribe", action="store_true")
    p.add_argument("--msg", nargs=4, action="append", default=[], metavar=("TOPIC", "QOS", "RETAIN", "PAYLOAD"))
    p.add_argument("--will-topic")
    p.add_argument("--will-payload")
    p.add_argument("--will-qos", type=int, default=1)
    p.add_argument("--will-retain", action="store_true")
    p.add_argument("--stop-topic")
    args = p.parse_args()
    r = Runner(args)
    {"sub": run_sub, "pub": run_pub, "will": run_will}[args.mode](r)


if __name__ == "__main__":
    main()
