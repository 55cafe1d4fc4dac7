#!/usr/bin/env python3
"""A latentd HMM client (needs only pyzmq).

Sends several interleaved sequences of 2-D readings to the `activity` HMM of
the shipped config (one sequence per machine, named by "seq"), ends each one,
and prints what latentd publishes: filtered and smoothed state posteriors for
every reading, and the Viterbi path of every ended sequence. Then it scores a
sequence on the control socket (no learning) and prints the learned
parameters. Exits 1 unless a posterior came back for every reading sent and a
viterbi/ message for every sequence ended.

    latentd run --config config/latentd.yaml &
    python3 scripts/hmm_client_example.py --sequences 6 --length 100
"""
import argparse
import itertools
import json
import random
import sys
import time

import zmq

# The machines' hidden regimes: sticky transitions, overlapping readings.
REGIMES = ["idle", "running", "fault"]
START = [0.5, 0.45, 0.05]
TRANSITIONS = [[0.96, 0.035, 0.005], [0.03, 0.96, 0.01], [0.08, 0.02, 0.90]]
MEANS = [(40.0, 1.0), (46.0, 2.0), (52.0, 3.5)]
SDS = [(3.0, 0.5), (3.0, 0.6), (4.0, 1.0)]


def draw(rng, p):
    u, acc = rng.random(), 0.0
    for k, pk in enumerate(p):
        acc += pk
        if u < acc:
            return k
    return len(p) - 1


def sample(rng, length):
    """One sequence: readings and the true regimes."""
    xs, zs, z = [], [], None
    for t in range(length):
        z = draw(rng, START if t == 0 else TRANSITIONS[z])
        zs.append(z)
        xs.append([round(rng.gauss(MEANS[z][i], SDS[z][i]), 3) for i in range(2)])
    return xs, zs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", default="tcp://127.0.0.1:5555", help="bound here as PUB; latentd connects")
    ap.add_argument("--output", default="tcp://127.0.0.1:5556", help="latentd's PUB (posterior/, viterbi/, error/)")
    ap.add_argument("--control", default="tcp://127.0.0.1:5557", help="latentd's REP control socket")
    ap.add_argument("--topic", default="sensors/activity", help="input topic the HMM consumes")
    ap.add_argument("--model", default="activity", help="model name")
    ap.add_argument("--sequences", type=int, default=6, help="machines, one sequence each")
    ap.add_argument("--length", type=int, default=100, help="readings per sequence")
    ap.add_argument("--timeout", type=float, default=15.0, help="seconds to wait at each stage")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    names = [f"machine-{i + 1}" for i in range(args.sequences)]
    data = {name: sample(rng, args.length) for name in names}

    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 0)  # never drop our own readings
    pub.bind(args.input)
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, 0)
    for prefix in (f"posterior/{args.model}", f"viterbi/{args.model}", "error/"):
        sub.setsockopt(zmq.SUBSCRIBE, prefix.encode())
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
    # subscribed. Repeat a one-reading probe sequence (not learned, ended at
    # once) until its posterior comes back; after that nothing is lost.
    deadline, probe = time.monotonic() + args.timeout, 0
    while True:
        if time.monotonic() > deadline:
            sys.exit(f"no reply from latentd within {args.timeout}s (is it running with these endpoints?)")
        probe += 1
        send({"seq": f"probe-{probe}", "x": list(MEANS[0]), "learn": False, "end": True})
        got = receive(100)
        if got and got[0].startswith("posterior/") and got[1].get("seq", "").startswith("probe-"):
            break
    print(f"connected after {probe} probe(s)")

    posteriors = set()   # (seq, t) of every reading that got its posterior
    smoothed = {}        # (seq, t) -> smoothed p, published `lag` readings later
    paths = {}           # seq -> viterbi/ message
    shown = 0

    def handle(got):
        nonlocal shown
        if got is None:
            return
        topic, msg = got
        seq = msg.get("seq", "")
        if seq not in data:
            return  # a probe
        if topic.startswith("viterbi/"):
            paths[seq] = msg
            path = msg.get("path") or []
            print(f"{topic} seq={seq} t={msg['t']} reason={msg['reason']} loglik={msg['loglik']} "
                  f"path={path[:25]}{'...' if len(path) > 25 else ''}")
        elif topic.startswith("posterior/"):
            posteriors.add((seq, msg["t"]))
            if msg.get("smoothed"):
                smoothed[(seq, msg["smoothed"]["t"])] = msg["smoothed"]["p"]
            # A couple of warm-up posteriors (null until the first model exists), then real ones.
            if shown < (2 if msg.get("warmup") else 6):
                shown += 1
                print(f"{topic} {json.dumps(msg)}")

    # Interleave the machines reading by reading, as live producers would. The
    # last reading of each sequence carries "end": true, except for the last
    # machine, which is ended by a message of its own without a reading.
    for t in range(args.length):
        for name in names:
            msg = {"seq": name, "x": data[name][0][t], "id": [name, t]}
            if t == args.length - 1 and name != names[-1]:
                msg["end"] = True
            send(msg)
            handle(receive(0))
    send({"seq": names[-1], "end": True})

    expected = len(names) * args.length
    deadline = time.monotonic() + args.timeout
    while (len(posteriors) < expected or len(paths) < len(names)) and time.monotonic() < deadline:
        handle(receive(100))

    # Viterbi labels against the true regimes, after matching learned states to
    # regimes (EM numbers its states arbitrarily).
    decoded = [(s, z) for name, msg in paths.items() if msg.get("path")
               for s, z in zip(msg["path"], data[name][1])]
    if decoded:
        best = max(itertools.permutations(range(len(REGIMES))),
                   key=lambda p: sum(p[s] == z for s, z in decoded))
        right = sum(best[s] == z for s, z in decoded)
        print(f"viterbi labels right: {right}/{len(decoded)} "
              f"(learned state -> regime: {', '.join(f'{i}={REGIMES[r]}' for i, r in enumerate(best))})")
    print(f"smoothed posteriors: {len(smoothed)} (each `lag` readings behind; none during the warm-up)")

    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.RCVTIMEO, int(args.timeout * 1000))
    req.connect(args.control)
    first = names[0]
    for request in ({"cmd": "score", "model": args.model, "xs": data[first][0][:10]},
                    {"cmd": "params", "model": args.model}):
        req.send_json(request)
        try:
            reply = req.recv_json()
        except zmq.Again:
            sys.exit(f"no reply to {request['cmd']} from {args.control}")
        if request["cmd"] == "score":
            print(f"score of {first}'s first 10 readings: ok={reply['ok']} loglik={reply.get('loglik')} "
                  f"labels={reply.get('labels')} path={reply.get('path')}")
            if not reply["ok"]:
                print(f"score failed: {reply.get('error')}", file=sys.stderr)
        else:
            print(f"params (version {reply.get('version')}): {json.dumps(reply.get('params'))}")

    ctx.destroy(linger=0)
    failures = []
    if len(posteriors) < expected:
        missing = sorted({(n, t) for n in names for t in range(1, args.length + 1)} - posteriors)
        failures.append(f"missing posteriors for {expected - len(posteriors)} of {expected} readings "
                        f"(first: {missing[:3]})")
    if len(paths) < len(names):
        failures.append(f"missing viterbi/ for {sorted(set(names) - set(paths))}")
    bad = [n for n, m in paths.items() if m.get("path") is not None and len(m["path"]) != args.length]
    if bad:
        failures.append(f"viterbi paths of the wrong length for {bad}")
    if failures:
        sys.exit("; ".join(failures))
    print(f"ok: posteriors for all {expected} readings, viterbi/ for all {len(names)} sequences")


if __name__ == "__main__":
    main()
