#!/usr/bin/env python3
"""Instructions per input message of the running daemon, counted by callgrind.

Timings on a shared 2-core VM move by a third from run to run; instruction counts
do not, so a change of a few per cent in the daemon's per-message work shows here
and nowhere else. This starts `latentd run` under `valgrind --tool=callgrind` on
ipc:// sockets in a temporary directory, with one model of the chosen shape:

  json1       diag GMM K=8 D=8, one JSON observation per message, posteriors off
  json1-post  the same with posteriors on
  f64le100    the same GMM, 100 f64le observations per message
  json100     the same GMM, 100 JSON observations per message ({"xs": [...]})
  hmm         Gaussian HMM N=4 D=4 (diag, lag 4), one JSON observation with a
              "seq" (16 interleaved sequences) per message, posteriors on

sends --messages messages (after a probe that waits for the subscription and the
end of the warm-up), waits until the daemon has counted them (`status`), stops it
and prints the inclusive instruction count of the daemon's loop (`Daemon.run`:
receiving, parsing, learning, publishing) divided by the messages, with the
startup and the probes subtracted by a second run that sends none.

    swift build -c release
    strip -g -o /tmp/latentd.stripped .build/release/latentd   # callgrind needs no DWARF
    python3 -m venv .venv && .venv/bin/pip install pyzmq
    .venv/bin/python scripts/callgrind_daemon.py --latentd /tmp/latentd.stripped --shape json1

Needs valgrind (apt-get install valgrind) and pyzmq.
"""
import argparse, json, os, random, re, signal, struct, subprocess, sys, tempfile, time

import zmq

RUN_SYMBOL = "$s12LatentDaemon0B0C3runyyKF"


def config(d, shape):
    if shape == "hmm":
        model = ("{name: m, topic: m, kind: hmm, states: 4, dimensions: 4, covariance: diag, lag: 4, seed: 1,\n"
                 "     learning: {batch: 16, warmup: 200}, publish: {posteriors: true, params_every: 1000000000}}")
    else:
        fmt = "f64le" if shape == "f64le100" else "json"
        post = "true" if shape == "json1-post" else "false"
        model = (f"{{name: m, topic: m, kind: gmm, dimensions: 8, components: 8, covariance: diag, format: {fmt}, seed: 1,\n"
                 f"     learning: {{batch: 16, warmup: 200}}, publish: {{posteriors: {post}, params_every: 1000000000}}}}")
    return f"""state_dir: {d}/state
checkpoint: {{interval: 1h, keep: 1}}
input: {{bind: ["ipc://{d}/in"], rcvhwm: 0}}
output: {{bind: "ipc://{d}/out", sndhwm: 0}}
control: {{bind: "ipc://{d}/control"}}
models:
  - {model}
"""


def payloads(shape):
    rng = random.Random(42)
    if shape == "hmm":
        means = [[rng.uniform(-5, 5) for _ in range(4)] for _ in range(4)]
        out, state = [], 0
        for i in range(8192):
            if rng.random() < 0.05:
                state = rng.randrange(4)
            x = [m + rng.gauss(0, 1) for m in means[state]]
            out.append(json.dumps({"seq": f"m{i % 16}", "x": x}, separators=(",", ":")).encode())
        return out, 1
    means = [[rng.uniform(-5, 5) for _ in range(8)] for _ in range(8)]
    rows = [[m + rng.gauss(0, 1) for m in means[rng.randrange(8)]] for _ in range(4096)]
    if shape == "f64le100":
        return [b"".join(struct.pack("<8d", *rows[(m * 100 + i) % 4096]) for i in range(100)) for m in range(40)], 100
    if shape == "json100":
        return [json.dumps({"xs": rows[m * 100:(m + 1) * 100]}, separators=(",", ":")).encode() for m in range(40)], 100
    return [json.dumps({"x": r}, separators=(",", ":")).encode() for r in rows], 1


def measure(latentd, shape, messages):
    with tempfile.TemporaryDirectory(prefix="latentd-cg-") as d:
        with open(f"{d}/latentd.yaml", "w") as f:
            f.write(config(d, shape))
        out = f"{d}/callgrind.out"
        daemon = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", latentd, "run",
                                   "--config", f"{d}/latentd.yaml", "--log-level", "warning"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ctx = zmq.Context()
        pub = ctx.socket(zmq.PUB)
        pub.setsockopt(zmq.SNDHWM, 0)
        pub.connect(f"ipc://{d}/in")
        req = ctx.socket(zmq.REQ)
        req.connect(f"ipc://{d}/control")

        def count():
            req.send(b'{"cmd":"status"}')
            return json.loads(req.recv())["models"][0]["n"]

        pay, per = payloads(shape)
        # The subscription, then the warm-up (200 observations), before the counted messages.
        while count() == 0:
            pub.send_multipart([b"m", pay[0]])
            time.sleep(0.05)
        while count() < 400:
            pub.send_multipart([b"m", pay[1]])
        while True:  # until the probes are all counted
            base = count()
            time.sleep(0.5)
            if count() == base:
                break
        for i in range(messages):
            pub.send_multipart([b"m", pay[i % len(pay)]])
        while count() < base + messages * per:
            time.sleep(1.0)
        daemon.send_signal(signal.SIGINT)
        daemon.wait()
        ctx.destroy(linger=0)
        annotate = subprocess.run(["callgrind_annotate", "--inclusive=yes", out], capture_output=True, text=True).stdout
        for line in annotate.splitlines():
            if RUN_SYMBOL + " " in line or line.rstrip().endswith(RUN_SYMBOL):
                return int(line.split()[0].replace(",", ""))
        sys.exit(f"no {RUN_SYMBOL} in the profile (a binary stripped of its symbols?)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latentd", required=True, help="a release latentd, stripped of debug information (strip -g)")
    ap.add_argument("--shape", choices=["json1", "json1-post", "json100", "f64le100", "hmm"], default="json1")
    ap.add_argument("--messages", type=int, default=50_000)
    a = ap.parse_args()
    idle = measure(a.latentd, a.shape, 0)
    busy = measure(a.latentd, a.shape, a.messages)
    print(json.dumps({"shape": a.shape, "messages": a.messages,
                      "instructions_per_message": round((busy - idle) / a.messages)}))


if __name__ == "__main__":
    main()
