#!/usr/bin/env python3
"""latentd next to its peers, same data and sizes, in one invocation.

Measures, per observation and best of --repeats, in this one process:

  scikit-learn   GaussianMixture: one EM iteration (_e_step + _m_step, what
                 fit() runs per iteration) and score_samples, divided by n
                 (see compare_sklearn.py for the method).
  hmmlearn       forward-backward (score_samples, "log" and "scaling"), one
                 Baum-Welch iteration (fit, n_iter=1) and Viterbi (decode)
                 (see compare_hmmlearn.py).
  River          cluster.KMeans(n_clusters=K).learn_one(x) per observation on
                 the GMM data (River has no Gaussian mixture and no HMM; its
                 online k-means is the closest online peer).
  latentd        `latentd bench` (E-step + statistics per observation for the
                 GMM sizes, over 16-row mini-batch segments for full and
                 diagonal covariances as compare_sklearn.py explains; forward step,
                 window expected counts, Viterbi step
                 for the HMM sizes), run right before the peer on each size
                 so both sides of a ratio see the same machine load.

and prints ratios peer ÷ latentd (> 1: latentd spends less per observation)
next to the goals of issue 4:
  GMM E-step + statistics >= 5x scikit-learn's EM iteration (diag, D <= 8),
  >= 3x for full K=16 D=32; HMM forward >= 5x hmmlearn forward-backward
  (N <= 8), window counts >= 3x one Baum-Welch iteration; >= 100x River.

Needs numpy, scikit-learn, hmmlearn and river:
    python3 -m venv .venv && .venv/bin/pip install numpy scikit-learn hmmlearn river
    swift build -c release
    .venv/bin/python scripts/compare_peers.py [--latentd .build/release/latentd] [--json peers.json]
"""
import argparse
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import numpy as np
    from threadpoolctl import threadpool_limits
    import compare_sklearn as sk
    import compare_hmmlearn as hm
    from river import cluster
    import river
except ImportError as error:
    sys.exit(f"compare_peers: {error}; install numpy, scikit-learn, hmmlearn and river (see --help)")

GMM_SIZES = [("diag", 4, 8), ("diag", 8, 8), ("diag", 16, 8), ("diag", 16, 32), ("full", 16, 32)]
HMM_SIZES = [("gaussian", 2), ("gaussian", 8), ("categorical", 2), ("categorical", 8), ("gaussian", 32)]


def measure_river(k, d, n, repeats):
    """KMeans.learn_one per observation, on latentd's GMM benchmark data."""
    x, *_ = sk.synthetic("diag", k, d, n)
    rows = [{i: float(v) for i, v in enumerate(row)} for row in x]  # River's input type, built outside the timer
    best = float("inf")
    for _ in range(repeats):
        model = cluster.KMeans(n_clusters=k, seed=0)
        start = time.perf_counter()
        for row in rows:
            model.learn_one(row)
        best = min(best, time.perf_counter() - start)
    return best / n * 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latentd", default=".build/release/latentd", help="latentd binary (default: %(default)s)")
    ap.add_argument("--observations", "-n", type=int, default=50_000, help="n for the GMM and HMM runs (default: %(default)s)")
    ap.add_argument("--river-observations", type=int, default=5_000, help="n for River, which is slow (default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per figure, the fastest counts (default: %(default)s)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args()
    if not os.access(args.latentd, os.X_OK):
        sys.exit(f"compare_peers: no latentd at {args.latentd} (swift build -c release, or --latentd PATH)")

    gmm, hmm_rows, goals = [], [], []

    def goal(name, ratio, target):
        goals.append({"goal": name, "ratio": ratio, "target": target, "met": ratio >= target})

    with threadpool_limits(limits=1):  # latentd learns a stream on one thread
        for cov, k, d in GMM_SIZES:
            ld = sk.measure_latentd(args.latentd, cov, k, d, args.observations, args.repeats)
            skl = sk.measure_sklearn(cov, k, d, args.observations, args.repeats)
            ld_river = sk.measure_latentd(args.latentd, cov, k, d, args.observations, args.repeats)
            rv = measure_river(k, d, args.river_observations, args.repeats)
            row = {"covariance": cov, "k": k, "d": d, "latentd_ns": ld, "sklearn_em_iter_ns": skl["em_iter"],
                   "sklearn_score_samples_ns": skl["score_samples"], "river_kmeans_learn_one_ns": rv,
                   "ratio_sklearn_em": skl["em_iter"] / ld, "ratio_river": rv / ld_river}
            gmm.append(row)
            target = 5 if cov == "diag" and d <= 8 else 3 if (cov, k, d) == ("full", 16, 32) else None
            if target:
                goal(f"GMM {cov} K={k} D={d} vs scikit-learn EM iteration", row["ratio_sklearn_em"], target)
            goal(f"GMM {cov} K={k} D={d} vs River KMeans.learn_one", row["ratio_river"], 100)
            print(f"measured GMM {cov} K={k} D={d}", file=sys.stderr)
        for emission, n in HMM_SIZES:
            ld = hm.measure_latentd(args.latentd, emission, n, args.observations, args.repeats)
            hl = hm.measure_hmmlearn(emission, n, args.observations, args.repeats)
            row = {"emission": emission, "states": n, **{f"latentd_{k}_ns": ld[f"{k}_ns"] for k in ("forward", "window_counts", "viterbi")},
                   **{f"hmmlearn_{k}_ns": v for k, v in hl.items()}}
            for impl in hm.IMPLEMENTATIONS:
                row[f"ratio_forward_vs_fb_{impl}"] = hl[f"fb_{impl}"] / ld["forward_ns"]
                row[f"ratio_window_vs_bw_{impl}"] = hl[f"bw_{impl}"] / ld["window_counts_ns"]
                if n <= 8:
                    goal(f"HMM {emission} N={n} forward vs hmmlearn fb ({impl})", row[f"ratio_forward_vs_fb_{impl}"], 5)
                goal(f"HMM {emission} N={n} window counts vs hmmlearn Baum-Welch ({impl})", row[f"ratio_window_vs_bw_{impl}"], 3)
            row["ratio_viterbi"] = hl["viterbi"] / ld["viterbi_ns"]
            hmm_rows.append(row)
            print(f"measured HMM {emission} N={n}", file=sys.stderr)

    print(f"ns per observation, best of {args.repeats}; scikit-learn {sk.sklearn.__version__}, "
          f"hmmlearn {hm.hmmlearn.__version__}, river {river.__version__}, numpy {np.__version__}; "
          f"latentd {sk.version_of(args.latentd)}")
    hm.table("GMM: latentd E-step + statistics vs scikit-learn (EM iteration, score_samples) and River KMeans",
             ["size", "latentd", "sklearn EM iter", "sklearn score", "River learn_one", "× sklearn EM", "× River"],
             [[f"{r['covariance']} K={r['k']} D={r['d']}", f"{r['latentd_ns']:.0f}", f"{r['sklearn_em_iter_ns']:.0f}",
               f"{r['sklearn_score_samples_ns']:.0f}", f"{r['river_kmeans_learn_one_ns']:.0f}",
               f"{r['ratio_sklearn_em']:.1f}", f"{r['ratio_river']:.0f}"] for r in gmm])
    hm.table("HMM: latentd forward / window counts / Viterbi vs hmmlearn (log / scaling)",
             ["size", "forward", "fb log", "fb scaling", "× fb", "window", "BW log", "BW scaling", "× BW", "viterbi", "decode", "×"],
             [[f"{r['emission']} N={r['states']}", f"{r['latentd_forward_ns']:.0f}", f"{r['hmmlearn_fb_log_ns']:.0f}",
               f"{r['hmmlearn_fb_scaling_ns']:.0f}",
               f"{r['ratio_forward_vs_fb_log']:.1f} / {r['ratio_forward_vs_fb_scaling']:.1f}",
               f"{r['latentd_window_counts_ns']:.0f}", f"{r['hmmlearn_bw_log_ns']:.0f}", f"{r['hmmlearn_bw_scaling_ns']:.0f}",
               f"{r['ratio_window_vs_bw_log']:.1f} / {r['ratio_window_vs_bw_scaling']:.1f}",
               f"{r['latentd_viterbi_ns']:.0f}", f"{r['hmmlearn_viterbi_ns']:.0f}", f"{r['ratio_viterbi']:.1f}"]
              for r in hmm_rows])
    print("\ngoals (ratio = peer / latentd):")
    for g in goals:
        print(f"  {'met ' if g['met'] else 'MISS'} {g['goal']}: {g['ratio']:.1f}x (goal {g['target']}x)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
                       "latentd_version": sk.version_of(args.latentd), "gmm": gmm, "hmm": hmm_rows, "goals": goals}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
