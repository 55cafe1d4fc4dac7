#!/usr/bin/env python3
"""Memory per live HMM sequence, measured on a running latentd (needs pyzmq).

Starts `latentd run` with one gaussian HMM on free ports, lets it finish its
warm-up on a few sequences, then opens --sequences more sequences (--length
readings each, none ended) and reports the daemon's resident memory (VmRSS)
before and after, the difference per sequence, and the `sequence_bytes` the
daemon itself counts in `status` (the arrays' payload only, without headers,
allocator overhead or the table's keys), the growth of the model's `heap_bytes`
per sequence (the sequences and the table's own arrays), and the median time of
a `status` request with all of them live. The README's figures come from it.

    python3 scripts/hmm_memory.py --latentd .build/release/latentd \\
        --states 3 --lag 3 --window 32 --sequences 100000 --length 10
"""
import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time

import zmq


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--latentd", default=".build/debug/latentd")
    ap.add_argument("--states", type=int, default=3)
    ap.add_argument("--dimensions", type=int, default=2)
    ap.add_argument("--lag", type=int, default=3)
    ap.add_argument("--window", type=int, default=32)
    ap.add_argument("--sequences", type=int, default=100_000)
    ap.add_argument("--length", type=int, default=10, help="readings per sequence (none is ended)")
    args = ap.parse_args()

    ports = []
    for _ in range(3):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        ports.append(s.getsockname()[1])
        s.close()
    work = tempfile.mkdtemp(prefix="latentd-mem-")
    config = os.path.join(work, "latentd.yaml")
    with open(config, "w") as f:
        f.write(f"""state_dir: {work}/state
checkpoint: {{interval: 1h}}
input: {{connect: ["tcp://127.0.0.1:{ports[0]}"]}}
output: {{bind: "tcp://127.0.0.1:{ports[1]}"}}
control: {{bind: "tcp://127.0.0.1:{ports[2]}"}}
models:
  - {{name: mem, topic: mem, kind: hmm, states: {args.states}, dimensions: {args.dimensions}, covariance: diag,
     lag: {args.lag}, window: {args.window}, max_sequences: {args.sequences + 1000},
     learning: {{warmup: 200}}, publish: {{posteriors: false}}}}
""")
    daemon = subprocess.Popen([args.latentd, "run", "--config", config, "--log-level", "warning"])
    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 0)
    pub.bind(f"tcp://127.0.0.1:{ports[0]}")
    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.RCVTIMEO, 60_000)
    req.connect(f"tcp://127.0.0.1:{ports[2]}")

    def status():
        req.send_json({"cmd": "status"})
        return req.recv_json()["models"][0]

    def wait_for(n):
        deadline = time.monotonic() + 600
        while (entry := status())["n"] < n:
            if time.monotonic() > deadline:
                sys.exit(f"daemon stuck at n={entry['n']} of {n}")
            time.sleep(0.2)
        return entry

    rng = random.Random(1)
    d = args.dimensions

    def reading():
        c = rng.choice((0.0, 3.0, 6.0))
        return [round(rng.gauss(c, 1), 3) for _ in range(d)]

    try:
        # Slow joiner: repeat a warm-up sequence until the daemon has counted some of it.
        sent = 0
        while status()["n"] == 0:
            pub.send_multipart([b"mem", json.dumps({"seq": "warm", "xs": [reading() for _ in range(50)]}).encode()])
            sent += 50
            time.sleep(0.1)
        for _ in range(8):
            pub.send_multipart([b"mem", json.dumps({"seq": "warm", "xs": [reading() for _ in range(50)], "end": True}).encode()])
            sent += 50
        entry = wait_for(1)
        time.sleep(1)
        before_entry = status()
        before = rss_bytes(daemon.pid)
        n0 = before_entry["n"]
        # In chunks, waiting for the daemon to catch up: a backlog in its receive
        # queue would raise the allocator's high-water mark, and RSS with it.
        for i in range(args.sequences):
            body = json.dumps({"seq": f"s{i}", "xs": [reading() for _ in range(args.length)]})
            pub.send_multipart([b"mem", body.encode()])
            if (i + 1) % 1000 == 0:
                wait_for(n0 + (i + 1) * args.length)
        entry = wait_for(n0 + args.sequences * args.length)
        time.sleep(1)
        after = rss_bytes(daemon.pid)
        per = (after - before) / args.sequences
        # How long `status` takes with every sequence live (it counts their memory).
        times = []
        for _ in range(21):
            start = time.monotonic()
            entry = status()
            times.append(time.monotonic() - start)
        result = {
            "states": args.states, "dimensions": d, "lag": args.lag, "window": args.window,
            "sequences": entry["sequences"], "length": args.length,
            "rss_before_mib": round(before / 2**20, 1), "rss_after_mib": round(after / 2**20, 1),
            "rss_bytes_per_sequence": round(per), "sequence_bytes_per_sequence": round(entry["sequence_bytes"] / max(entry["sequences"], 1)),
            "heap_bytes_per_sequence": round((entry["heap_bytes"] - before_entry["heap_bytes"]) / args.sequences),
            "status_ms_median": round(sorted(times)[len(times) // 2] * 1000, 2),
            "warming_up": entry["warming_up"],
        }
        print(json.dumps(result))
    finally:
        daemon.terminate()
        daemon.wait(timeout=120)
        ctx.destroy(linger=0)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
