#!/usr/bin/env python3
"""latentd's JSON observation parser next to simdjson, on the same bytes.

The JSON-batch ingest goal of issue 4 (0.5x the transport for batches of 100) is
set by parsing: the eight numbers of an observation are most of the daemon's work
(README, Performance). Whether a faster parser exists is a question for a
reference, the way scikit-learn is for the E-step: simdjson (Langdale & Lemire,
"Parsing Gigabytes of JSON per Second", VLDB J. 2019; its number parsing is
Lemire's, as latentd's is) is the fastest general JSON parser we know of.

This writes payloads of the throughput tool's shapes (diag K=8 D=8 mixture samples
printed as shortest round-trip decimals, as Python and Swift print them) to one
file, builds scripts/simdjson_parse.cpp against the system's simdjson, and runs
`latentd bench --parse FILE` and the simdjson program alternately, --pairs times.
Each run reports the fastest of --repeats passes over the payloads; the summary
takes the fastest run of each parser and prints simdjson's ns/observation over
latentd's (above 1: latentd is faster), also per pair, since the machine's speed
moves between runs.

    apt-get install -y libsimdjson-dev g++
    swift build -c release
    python3 scripts/compare_simdjson.py --latentd .build/release/latentd
"""
import argparse, json, os, random, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def payloads(shape, seed=42, pool=4096, k=8, d=8):
    """json100: 40 messages {"xs": [100 rows]}; json1: 4096 messages {"x": row}."""
    rng = random.Random(seed)
    means = [[rng.uniform(-5, 5) for _ in range(d)] for _ in range(k)]
    rows = []
    for _ in range(pool):
        m = means[rng.randrange(k)]
        rows.append("[" + ",".join(repr(m[j] + rng.gauss(0, 1)) for j in range(d)) + "]")
    if shape == "json1":
        return ['{"x":' + r + "}" for r in rows]
    return ['{"xs":[' + ",".join(rows[i:i + 100]) + "]}" for i in range(0, pool - 99, 100)]


def run_json(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latentd", default=".build/release/latentd")
    ap.add_argument("--shapes", default="json100,json1", help="comma-separated: json100, json1")
    ap.add_argument("--observations", type=int, default=400_000, help="observations per pass")
    ap.add_argument("--repeats", type=int, default=5, help="passes per run; the fastest counts")
    ap.add_argument("--pairs", type=int, default=5, help="alternating runs of the two parsers")
    ap.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    args = ap.parse_args()
    if not os.path.exists("/usr/include/simdjson.h"):
        sys.exit("simdjson is not installed: apt-get install -y libsimdjson-dev")
    if shutil.which(args.cxx) is None:
        sys.exit(f"no C++ compiler {args.cxx!r}: apt-get install -y g++ (or set CXX)")
    with tempfile.TemporaryDirectory(prefix="latentd-simdjson-") as tmp:
        binary = os.path.join(tmp, "simdjson_parse")
        build = [args.cxx, "-O3", "-march=native", "-std=c++17", os.path.join(HERE, "simdjson_parse.cpp"),
                 "-lsimdjson", "-o", binary]
        compiled = subprocess.run(build, capture_output=True, text=True)
        if compiled.returncode != 0:
            sys.exit(f"{' '.join(build)} failed:\n{compiled.stderr}")
        for shape in args.shapes.split(","):
            if shape not in ("json100", "json1"):
                sys.exit(f"--shapes: unknown shape {shape!r} (json100, json1)")
            path = os.path.join(tmp, f"{shape}.txt")
            with open(path, "w") as f:
                f.write("\n".join(payloads(shape)) + "\n")
            ours, theirs = [], []
            for pair in range(args.pairs):
                a = run_json([args.latentd, "bench", "--parse", path, "--dimensions", "8",
                              "--observations", str(args.observations), "--repeats", str(args.repeats)])
                b = run_json([binary, path, str(args.observations), str(args.repeats)])
                ours.append(a["ns_per_obs"])
                theirs.append(b)
                print(json.dumps({"shape": shape, "pair": pair + 1, "latentd_ns_per_obs": round(a["ns_per_obs"], 1),
                                  "simdjson_ondemand_ns_per_obs": b["ondemand_ns_per_obs"],
                                  "simdjson_dom_ns_per_obs": b["dom_ns_per_obs"],
                                  "dom_over_latentd": round(b["dom_ns_per_obs"] / a["ns_per_obs"], 2)}), flush=True)
            best = min(ours)
            ondemand = min(t["ondemand_ns_per_obs"] for t in theirs)
            dom = min(t["dom_ns_per_obs"] for t in theirs)
            print(json.dumps({"shape": shape, "bytes_per_obs": round(a["bytes_per_obs"], 1),
                              "simdjson": f'{theirs[0]["parser"]} ({theirs[0]["implementation"]})',
                              "latentd_ns_per_obs": round(best, 1), "simdjson_ondemand_ns_per_obs": ondemand,
                              "simdjson_dom_ns_per_obs": dom,
                              "ondemand_over_latentd": round(ondemand / best, 2), "dom_over_latentd": round(dom / best, 2),
                              "latentd_mb_per_s": round(a["bytes_per_obs"] / best * 1000, 1)}), flush=True)


if __name__ == "__main__":
    main()
