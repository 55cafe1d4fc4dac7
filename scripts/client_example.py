#!/usr/bin/env python3
"""A minimal latentd client (needs only pyzmq).

Binds a PUB socket where the shipped config has latentd connect, sends 2-D
readings from three clusters (each with an "id"), prints some of the
posteriors latentd publishes, then asks the control socket for the learned
parameters and the daemon status. Exits 1 unless a posterior came back for
every id sent.

    latentd run --config config/latentd.yaml &
    python3 scripts/client_example.py --count 1000
"""
import argparse
import json
import random
import sys
import time

import zmq

CENTERS = [(0.0, 0.0), (5.0, 5.0), (0.0, 5.0)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", default="tcp://127.0.0.1:5555", help="bound here as PUB; latentd connects")
    ap.add_argument("--output", default="tcp://127.0.0.1:5556", help="latentd's PUB (posterior/, params/, error/)")
    ap.add_argument("--control", default="tcp://127.0.0.1:5557", help="latentd's REP control socket")
    ap.add_argument("--topic", default="sensors/room1", help="input topic the model consumes")
    ap.add_argument("--model", default="room1", help="model name (for control requests)")
    ap.add_argument("--count", type=int, default=1000, help="observations to send")
    ap.add_argument("--timeout", type=float, default=15.0, help="seconds to wait at each stage")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 0)  # never drop our own readings
    pub.bind(args.input)
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"posterior/")
    sub.setsockopt(zmq.SUBSCRIBE, b"error/")
    sub.connect(args.output)

    def send(obj):
        pub.send_multipart([args.topic.encode(), json.dumps(obj).encode()])

    def receive(wait_ms):
        """One [topic, JSON] message from latentd, or None."""
        if not sub.poll(wait_ms):
            return None
        topic, body = sub.recv_multipart()
        topic, msg = topic.decode(), json.loads(body)
        if topic.startswith("error/"):
            print(f"{topic}: {msg['error']}", file=sys.stderr)
        return topic, msg

    # Slow joiner: PUB drops messages until latentd's SUB has connected and
    # subscribed. Repeat one probe ("learn": false, so it is not learned) until
    # its posterior comes back; after that nothing we send is lost.
    deadline, probe = time.monotonic() + args.timeout, 0
    while True:
        if time.monotonic() > deadline:
            sys.exit(f"no reply from latentd within {args.timeout}s (is it running with these endpoints?)")
        probe += 1
        send({"x": list(CENTERS[0]), "id": f"sync-{probe}", "learn": False})
        got = receive(100)
        if got and str(got[1].get("id", "")).startswith("sync-"):
            break
    print(f"connected after {probe} probe(s)")

    rng = random.Random(args.seed)
    pending, shown = set(range(args.count)), 0

    def handle(got):
        nonlocal shown
        if got is None or not got[0].startswith("posterior/"):
            return
        msg = got[1]
        if isinstance(msg.get("id"), int) and msg["id"] in pending:
            pending.discard(msg["id"])
            # Show a couple of warm-up posteriors, then a few real ones.
            if shown < (2 if msg.get("warmup") else 8):
                shown += 1
                print(json.dumps(msg))

    for i in range(args.count):
        cx, cy = rng.choice(CENTERS)
        send({"x": [rng.gauss(cx, 1.0), rng.gauss(cy, 1.0)], "id": i})
        handle(receive(0))
    deadline = time.monotonic() + args.timeout
    while pending and time.monotonic() < deadline:
        handle(receive(100))

    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    req.connect(args.control)
    for request in ({"cmd": "params", "model": args.model}, {"cmd": "status"}):
        req.send_json(request)
        try:
            print(json.dumps(request), "->", json.dumps(req.recv_json()))
        except zmq.Again:
            sys.exit(f"no reply to {request} from {args.control}")

    ctx.destroy(linger=0)
    if pending:
        sys.exit(f"missing posteriors for {len(pending)} of {args.count} ids (first: {sorted(pending)[:5]})")
    print(f"ok: posteriors for all {args.count} ids")


if __name__ == "__main__":
    main()
