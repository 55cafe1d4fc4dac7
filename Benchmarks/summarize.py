#!/usr/bin/env python3
"""Prints the README's table from a stored baseline: p50 wall clock and p50 mallocs,
per observation for the 1000-observation benchmarks (scalingFactor 1000), per call
for the others.

    python3 summarize.py [baseline-name]      # default: main
"""
import glob
import json
import os
import sys


def percentile(histogram, q):
    """Value at quantile q of an HdrHistogram as serialized by hdrhistogram-swift."""
    counts = histogram["counts"]
    half_magnitude = histogram["subBucketHalfCountMagnitude"]
    half = 1 << half_magnitude
    unit = max(histogram["lowestDiscernibleValue"].bit_length() - 1, 0)
    total = sum(counts)
    if total == 0:
        return 0
    target = max(1, int(q * total + 0.999999))
    seen = 0
    for i, c in enumerate(counts):
        seen += c
        if seen >= target:
            bucket = (i >> half_magnitude) - 1
            sub = (i & (half - 1)) + half
            if bucket < 0:
                sub -= half
                bucket = 0
            return sub << (bucket + unit)
    return 0


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "main"
    here = os.path.dirname(os.path.abspath(__file__))
    print("| benchmark | unit | p50 ns | p90 ns | mallocs (p50) |")
    print("| --- | --- | ---: | ---: | ---: |")
    for path in sorted(glob.glob(os.path.join(here, ".benchmarkBaselines", "*", name, "results.json"))):
        results = json.load(open(path))["results"]
        rows = []
        for key, metrics in zip(results[0::2], results[1::2]):
            row = {}
            for m in metrics:
                metric = next(iter(m["metric"]))
                scale = m.get("scalingFactor", 1)
                h = m["statistics"]["histogram"]
                row[metric] = (percentile(h, 0.5) / scale, percentile(h, 0.9) / scale, scale)
            rows.append((key["name"], row))
        for bench, row in sorted(rows):
            wall50, wall90, scale = row["wallClock"]
            mallocs = row["mallocCountTotal"][0]
            unit = "observation" if scale == 1000 else "call"
            print(f"| {bench} | {unit} | {wall50:,.0f} | {wall90:,.0f} | {mallocs:g} |")


if __name__ == "__main__":
    main()
