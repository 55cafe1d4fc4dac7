#!/usr/bin/env python3
"""Per-observation cost of EM in scikit-learn next to latentd's hot path.

For each size (covariance, K components, D dimensions) this measures, on the
same kind of synthetic data that `latentd bench` generates (n observations,
x_i = (i mod K) + N(0, I), fixed starting parameters):

  sklearn EM iter   one EM iteration of GaussianMixture exactly as fit() runs it
                    (_e_step then _m_step), from the fixed parameters; best of
                    --repeats runs, divided by n. This is the like-for-like figure:
                    latentd's per-observation work is the E-step plus adding the
                    observation to the sufficient statistics (its M-step runs
                    once per mini-batch, not per observation).
  sklearn fit(1)    a whole GaussianMixture(max_iter=1, weights_init=...,
                    means_init=..., precisions_init=...).fit(X), divided by n.
                    Includes input validation, the initialisation pass and
                    fit's final E-step, so it costs more than one iteration.
  sklearn score     GaussianMixture.score_samples(X), divided by n.
  latentd           `latentd bench --covariance C --components K --dimensions D
                    --observations n --repeats R`: for full and diagonal covariances the
                    `segment_ns_per_obs` it prints (E-step + statistics over
                    16-row segments, what the learner runs on the rows of a batch
                    message), otherwise `ns_per_obs` (one observation at a time).

The ratio is sklearn EM iter / latentd: above 1 means latentd spends less per
observation. BLAS is limited to --blas-threads threads (default 1: latentd
learns each stream on one thread); 0 leaves numpy's default.

Needs numpy and scikit-learn (threadpoolctl comes with scikit-learn):
    python3 -m venv .venv && .venv/bin/pip install numpy scikit-learn
    swift build -c release
    .venv/bin/python scripts/compare_sklearn.py [--json results.json]
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
    import sklearn
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits
except ImportError as error:
    sys.exit(f"compare_sklearn: {error}; install numpy and scikit-learn (see --help)")

SIZES = [("full", 8, 8), ("diag", 8, 8), ("diag", 4, 8), ("diag", 16, 8)]


def synthetic(cov, k, d, n, seed=11):
    """The data and starting parameters of latentd's MixtureBenchmark (same
    recipe; a different random generator, which does not matter for timing)."""
    rng = np.random.default_rng(seed)
    x = (np.arange(n) % k)[:, None].astype(float) + rng.standard_normal((n, d))
    means = np.repeat(np.arange(k, dtype=float), d).reshape(k, d) + 0.1 * rng.standard_normal((k, d))
    weights = np.full(k, 1.0 / k)
    if cov == "full":
        sigma = np.full((d, d), 0.1) + np.eye(d) * 1.4  # 1.5 on the diagonal, 0.1 off it
        precisions = np.repeat(np.linalg.inv(sigma)[None], k, axis=0)
    elif cov == "tied":
        precisions = np.linalg.inv(np.full((d, d), 0.1) + np.eye(d) * 1.4)
    elif cov == "diag":
        precisions = np.full((k, d), 1 / 1.2)
    else:  # spherical
        precisions = np.full(k, 1 / 1.2)
    return x, weights, means, precisions


def covariances_of(cov, precisions):
    return np.linalg.inv(precisions) if cov in ("full", "tied") else 1 / precisions


def precision_cholesky(cov, precisions):
    """What GaussianMixture keeps as precisions_cholesky_ (lower factors, as in
    its own handling of precisions_init)."""
    return np.linalg.cholesky(precisions) if cov in ("full", "tied") else np.sqrt(precisions)


def best_time(repeats, run, setup=lambda: None):
    best = float("inf")
    for _ in range(repeats):
        setup()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def measure_sklearn(cov, k, d, n, repeats):
    x, weights, means, precisions = synthetic(cov, k, d, n)

    def model(max_iter):
        return GaussianMixture(
            n_components=k, covariance_type=cov, max_iter=max_iter, tol=0.0,
            weights_init=weights, means_init=means, precisions_init=precisions,
            init_params="random_from_data", random_state=0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: one iteration is the point
        fit_s = best_time(repeats, lambda: model(1).fit(x))
        gm = model(1).fit(x)
    # Back to the fixed starting parameters, in fit()'s internal form
    # (weights, means, covariances, Cholesky factors of the precisions).
    start_params = (weights, means, covariances_of(cov, precisions), precision_cholesky(cov, precisions))
    gm._set_parameters(start_params)
    score_s = best_time(repeats, lambda: gm.score_samples(x))

    def one_iteration():
        _, log_resp = gm._e_step(x)
        gm._m_step(x, log_resp)

    em_s = best_time(repeats, one_iteration, setup=lambda: gm._set_parameters(start_params))
    return {"em_iter": em_s / n * 1e9, "fit_max_iter_1": fit_s / n * 1e9, "score_samples": score_s / n * 1e9}


def measure_latentd(binary, cov, k, d, n, repeats):
    command = [binary, "bench", "--covariance", cov, "--components", str(k), "--dimensions", str(d),
               "--observations", str(n), "--repeats", str(repeats)]
    try:
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        sys.exit(f"compare_sklearn: no latentd at {binary} (swift build -c release, or --latentd PATH)")
    except subprocess.CalledProcessError as error:
        sys.exit(f"compare_sklearn: {' '.join(command)} failed ({error.returncode}): {error.stderr.strip()}")
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if len(lines) != 1 or "ns_per_obs" not in lines[0]:
        sys.exit(f"compare_sklearn: unexpected output from {' '.join(command)}:\n{out}")
    # Full and diagonal covariances: the mini-batch segment path the learner uses for batch messages.
    return lines[0].get("segment_ns_per_obs", lines[0]["ns_per_obs"])


def version_of(binary):
    try:
        return subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latentd", default=".build/release/latentd", help="latentd binary (default: %(default)s)")
    ap.add_argument("--observations", "-n", type=int, default=200_000, help="n per run (default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per figure, the fastest counts (default: %(default)s)")
    ap.add_argument("--blas-threads", type=int, default=1, help="BLAS/OpenMP threads for numpy (default: %(default)s; 0 = numpy's default)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args()
    if args.observations < 16 or args.repeats < 1:
        ap.error("need --observations >= 16 and --repeats >= 1")

    if not os.access(args.latentd, os.X_OK):
        sys.exit(f"compare_sklearn: no latentd at {args.latentd} (swift build -c release, or --latentd PATH)")

    limit = threadpool_limits(limits=args.blas_threads) if args.blas_threads > 0 else None
    rows = []
    for cov, k, d in SIZES:
        sk = measure_sklearn(cov, k, d, args.observations, args.repeats)
        ld = measure_latentd(args.latentd, cov, k, d, args.observations, args.repeats)
        rows.append({"covariance": cov, "k": k, "d": d, "n": args.observations,
                     "sklearn_em_iter_ns": sk["em_iter"], "sklearn_fit_max_iter_1_ns": sk["fit_max_iter_1"],
                     "sklearn_score_samples_ns": sk["score_samples"], "latentd_ns": ld,
                     "ratio_em_iter": sk["em_iter"] / ld})
        print(f"measured {cov} K={k} D={d}", file=sys.stderr)
    if limit is not None:
        limit.restore_original_limits()

    threads = args.blas_threads if args.blas_threads > 0 else "default"
    print(f"ns per observation, n={args.observations}, best of {args.repeats}; "
          f"sklearn {sklearn.__version__}, numpy {np.__version__}, BLAS threads {threads}; "
          f"latentd {version_of(args.latentd)} ({args.latentd})")
    header = ("covariance", "K", "D", "sklearn EM iter", "sklearn fit(1)", "sklearn score", "latentd", "ratio")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        print(f"| {r['covariance']} | {r['k']} | {r['d']} | {r['sklearn_em_iter_ns']:.0f} | "
              f"{r['sklearn_fit_max_iter_1_ns']:.0f} | {r['sklearn_score_samples_ns']:.0f} | "
              f"{r['latentd_ns']:.0f} | {r['ratio_em_iter']:.2f} |")
    print("ratio = sklearn EM iter / latentd (> 1: latentd is cheaper per observation)")

    if args.json:
        report = {
            "observations": args.observations, "repeats": args.repeats, "blas_threads": args.blas_threads,
            "sklearn": sklearn.__version__, "numpy": np.__version__, "python": platform.python_version(),
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "latentd": args.latentd, "latentd_version": version_of(args.latentd), "results": rows,
        }
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
