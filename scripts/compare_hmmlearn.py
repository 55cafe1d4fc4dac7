#!/usr/bin/env python3
"""Per-observation cost of HMM inference in hmmlearn next to latentd's.

For Gaussian (diagonal, D=4) and categorical (M=16) emissions with N = 2, 8
and 32 states, on a seeded synthetic model built like latentd's HMMBenchmark
(sticky transitions A_ij ∝ u + N·[i = j], π ∝ 0.5 + u, Gaussian means 3·N(0,1)
and variances 0.5 + u, categorical rows ∝ 0.01 + u³) and one long sequence
sampled from it (n observations), this measures, best of --repeats:

  hmmlearn fb       forward-backward: score_samples(X) (log-likelihood and
                    smoothed posteriors), divided by n; for implementation="log"
                    (hmmlearn's default) and "scaling".
  hmmlearn BW       one Baum-Welch iteration: fit(X) with n_iter=1 from the
                    model's parameters (init_params=""), divided by n; both
                    implementations. E-step, expected counts and M-step.
  hmmlearn viterbi  decode(X, algorithm="viterbi"), divided by n.

and runs, right before hmmlearn on each size, `latentd bench --hmm-states N
--emission E --dimensions 4 --symbols 16 --observations n --repeats R`
(the same as one `--hmm-states 2,8,32 --emission gaussian,categorical` run,
split so that both sides of each ratio are measured under the same load),
whose kernels are

  forward           one normalized forward-filter step (filtered distribution
                    and predictive log-likelihood) per observation.
  window counts     forward-backward over windows of 8 observations plus their
                    expected counts: the online learner's per-observation work.
  smoother          FixedLagSmoother.push, lag 8.
  viterbi           OnlineViterbi.step (δ and back-pointers).

Ratios are hmmlearn ÷ latentd (> 1: latentd spends less per observation):
forward vs fb, window counts vs BW, viterbi vs decode, smoother vs fb (the
fixed-lag smoothed posterior against hmmlearn's whole-sequence one). The
issue's goals: forward ≥ 5× fb for N ≤ 8, window counts ≥ 3× BW; each is
checked against both hmmlearn implementations.

Needs numpy and hmmlearn (scikit-learn comes with it):
    python3 -m venv .venv && .venv/bin/pip install numpy hmmlearn
    swift build -c release
    .venv/bin/python scripts/compare_hmmlearn.py --latentd .build/release/latentd [--json out.json]
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings

try:
    import numpy as np
    import hmmlearn
    from hmmlearn import hmm
    from threadpoolctl import threadpool_limits
except ImportError as error:
    sys.exit(f"compare_hmmlearn: {error}; install numpy and hmmlearn (see --help)")

STATES = [2, 8, 32]
DIMENSIONS = 4
SYMBOLS = 16
IMPLEMENTATIONS = ("log", "scaling")


def synthetic(emission, n, seed=23):
    """Parameters built like HMMBenchmark's (another generator, which does not matter for timing)."""
    rng = np.random.default_rng(seed)
    start = 0.5 + rng.random(n)
    transitions = rng.random((n, n)) + n * np.eye(n)
    params = {"startprob_": start / start.sum(), "transmat_": transitions / transitions.sum(1, keepdims=True)}
    if emission == "gaussian":
        params["means_"] = 3 * rng.standard_normal((n, DIMENSIONS))
        params["covars_"] = 0.5 + rng.random((n, DIMENSIONS))
    else:
        p = 0.01 + rng.random((n, SYMBOLS)) ** 3
        params["emissionprob_"] = p / p.sum(1, keepdims=True)
    return params


def model(emission, n, params, implementation, n_iter=1):
    if emission == "gaussian":
        m = hmm.GaussianHMM(n_components=n, covariance_type="diag", n_iter=n_iter, tol=0.0,
                            init_params="", params="stmc", implementation=implementation, random_state=0)
        m.n_features = DIMENSIONS
    else:
        m = hmm.CategoricalHMM(n_components=n, n_features=SYMBOLS, n_iter=n_iter, tol=0.0,
                               init_params="", params="ste", implementation=implementation, random_state=0)
    for name, value in params.items():
        setattr(m, name, value.copy())  # covars_ for diag takes the (n, D) diagonal
    return m


def best_time(repeats, run, setup=lambda: None):
    best = float("inf")
    for _ in range(repeats):
        state = setup()
        start = time.perf_counter()
        run(state)
        best = min(best, time.perf_counter() - start)
    return best


def measure_hmmlearn(emission, n, observations, repeats):
    params = synthetic(emission, n)
    x, _ = model(emission, n, params, "log").sample(observations, random_state=np.random.RandomState(5))
    if emission == "categorical":
        x = x.astype(int)
    per_obs = {}
    for impl in IMPLEMENTATIONS:
        scorer = model(emission, n, params, impl)
        per_obs[f"fb_{impl}"] = best_time(repeats, lambda _: scorer.score_samples(x)) / observations * 1e9
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one iteration "not converged" is the point
            per_obs[f"bw_{impl}"] = best_time(
                repeats, lambda m: m.fit(x), setup=lambda: model(emission, n, params, impl)) / observations * 1e9
    decoder = model(emission, n, params, "log")
    per_obs["viterbi"] = best_time(repeats, lambda _: decoder.decode(x, algorithm="viterbi")) / observations * 1e9
    return per_obs


def measure_latentd(binary, emission, n, observations, repeats):
    command = [binary, "bench", "--hmm-states", str(n), "--emission", emission,
               "--dimensions", str(DIMENSIONS), "--symbols", str(SYMBOLS),
               "--observations", str(observations), "--repeats", str(repeats)]
    try:
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        sys.exit(f"compare_hmmlearn: no latentd at {binary} (swift build -c release, or --latentd PATH)")
    except subprocess.CalledProcessError as error:
        sys.exit(f"compare_hmmlearn: {' '.join(command)} failed ({error.returncode}): {error.stderr.strip()}")
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if len(lines) != 1 or lines[0].get("states") != n:
        sys.exit(f"compare_hmmlearn: unexpected output from {' '.join(command)}:\n{out}")
    return lines[0]


def version_of(binary):
    try:
        return subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return None


def table(title, header, rows):
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latentd", default=".build/release/latentd", help="latentd binary (default: %(default)s)")
    ap.add_argument("--observations", "-n", type=int, default=50_000, help="n per run (default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per figure, the fastest counts (default: %(default)s)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args()
    if args.observations < 64 or args.repeats < 1:
        ap.error("need --observations >= 64 and --repeats >= 1")
    if not os.access(args.latentd, os.X_OK):
        sys.exit(f"compare_hmmlearn: no latentd at {args.latentd} (swift build -c release, or --latentd PATH)")

    # latentd learns each stream on one thread; so does hmmlearn's C++ core.
    # One BLAS thread keeps the numpy parts (emission densities, M-step) comparable.
    # latentd runs once per size, right before hmmlearn on that size, so that on
    # a shared machine both sides of a ratio see the same load.
    with threadpool_limits(limits=1):
        rows = []
        for emission in ("gaussian", "categorical"):
            for n in STATES:
                ld = measure_latentd(args.latentd, emission, n, args.observations, args.repeats)
                hl = measure_hmmlearn(emission, n, args.observations, args.repeats)
                row = {"emission": emission, "states": n, "n": args.observations,
                       **{f"latentd_{k}_ns": ld[f"{k}_ns"] for k in ("forward", "window_counts", "smoother", "viterbi")},
                       **{f"hmmlearn_{k}_ns": v for k, v in hl.items()}}
                for impl in IMPLEMENTATIONS:
                    row[f"ratio_forward_vs_fb_{impl}"] = hl[f"fb_{impl}"] / ld["forward_ns"]
                    row[f"ratio_window_vs_bw_{impl}"] = hl[f"bw_{impl}"] / ld["window_counts_ns"]
                    row[f"ratio_smoother_vs_fb_{impl}"] = hl[f"fb_{impl}"] / ld["smoother_ns"]
                row["ratio_viterbi"] = hl["viterbi"] / ld["viterbi_ns"]
                rows.append(row)
                print(f"measured {emission} N={n}", file=sys.stderr)

    size = {"gaussian": f"D={DIMENSIONS}", "categorical": f"M={SYMBOLS}"}
    print(f"ns per observation, n={args.observations}, best of {args.repeats}; hmmlearn {hmmlearn.__version__}, "
          f"numpy {np.__version__}; latentd {version_of(args.latentd)} ({args.latentd})")
    key = lambda r: [r["emission"] + " " + size[r["emission"]], str(r["states"])]
    fmt = lambda v: f"{v:.0f}"
    table("Forward step vs hmmlearn forward-backward (score_samples); goal ≥ 5× for N ≤ 8",
          ["emission", "N", "latentd forward", "hmmlearn fb log", "hmmlearn fb scaling", "ratio log", "ratio scaling"],
          [key(r) + [fmt(r["latentd_forward_ns"]), fmt(r["hmmlearn_fb_log_ns"]), fmt(r["hmmlearn_fb_scaling_ns"]),
                     f"{r['ratio_forward_vs_fb_log']:.1f}", f"{r['ratio_forward_vs_fb_scaling']:.1f}"] for r in rows])
    table("Window expected counts (8 obs) vs one hmmlearn Baum-Welch iteration (fit, n_iter=1); goal ≥ 3×",
          ["emission", "N", "latentd window counts", "hmmlearn BW log", "hmmlearn BW scaling", "ratio log", "ratio scaling"],
          [key(r) + [fmt(r["latentd_window_counts_ns"]), fmt(r["hmmlearn_bw_log_ns"]), fmt(r["hmmlearn_bw_scaling_ns"]),
                     f"{r['ratio_window_vs_bw_log']:.1f}", f"{r['ratio_window_vs_bw_scaling']:.1f}"] for r in rows])
    table("Online Viterbi step vs hmmlearn decode; fixed-lag smoother push (lag 8) vs hmmlearn fb",
          ["emission", "N", "latentd viterbi", "hmmlearn decode", "ratio", "latentd smoother", "ratio fb log", "ratio fb scaling"],
          [key(r) + [fmt(r["latentd_viterbi_ns"]), fmt(r["hmmlearn_viterbi_ns"]), f"{r['ratio_viterbi']:.1f}",
                     fmt(r["latentd_smoother_ns"]), f"{r['ratio_smoother_vs_fb_log']:.1f}",
                     f"{r['ratio_smoother_vs_fb_scaling']:.1f}"] for r in rows])

    print("\nratio = hmmlearn / latentd (> 1: latentd is cheaper per observation)")
    missed = []
    for r in rows:
        for impl in IMPLEMENTATIONS:
            if r["states"] <= 8 and r[f"ratio_forward_vs_fb_{impl}"] < 5:
                missed.append(f"forward {r['emission']} N={r['states']} vs fb {impl}: {r[f'ratio_forward_vs_fb_{impl}']:.1f}× < 5×")
            if r[f"ratio_window_vs_bw_{impl}"] < 3:
                missed.append(f"window counts {r['emission']} N={r['states']} vs BW {impl}: {r[f'ratio_window_vs_bw_{impl}']:.1f}× < 3×")
    print("goals: all met" if not missed else "goals missed:\n  " + "\n  ".join(missed))

    if args.json:
        report = {
            "observations": args.observations, "repeats": args.repeats, "hmmlearn": hmmlearn.__version__,
            "numpy": np.__version__, "python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "latentd": args.latentd, "latentd_version": version_of(args.latentd),
            "goals_missed": missed, "results": rows,
        }
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
