#!/usr/bin/env python3
"""`focal-tui data` with per-class targets against numpy float64, end to end.

    cargo build --release --locked && python3 benches/data_targets_vs_numpy.py [--runs 5]

Shapes: 1 000 000 x 10 float32 logits with multi-label 0/1 float32 targets
(15 % positives; sigmoid, torchvision's sigmoid_focal_loss summed over the
classes), and with float64 target distributions (softmax, Keras'
CategoricalFocalCrossentropy). For reference also the class-index path on
the same logits. Alternating the two sides every round, it times

- numpy: `np.load` of both files and the per-row losses for the default
  five γ (stable softplus / log-softmax in float64) and their means only —
  less than focal-tui reports (no histograms, shares or per-class sums);
- focal-tui: the process `data --json`, spawn to exit, and its CPU time
  (both cores),

and prints the medians and checks that the means agree to 1e-9.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "focal-tui")
GAMMAS = [0.0, 0.5, 1.0, 2.0, 5.0]
ALPHA = 0.25


def softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid_numpy(z, y):
    z = z.astype(np.float64)
    y = y.astype(np.float64)
    bce = y * softplus(-z) + (1 - y) * softplus(z)
    s = 1 / (1 + np.exp(-z))
    om = y * (1 - s) + (1 - y) * s
    w = ALPHA * y + (1 - ALPHA) * (1 - y)
    return [float((w * om**g * bce).sum(axis=1).mean()) for g in GAMMAS]


def softmax_numpy(z, q):
    z = z.astype(np.float64)
    m = z.max(axis=1, keepdims=True)
    logp = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    om = 1 - np.exp(logp)
    return [float((ALPHA * q * om**g * -logp).sum(axis=1).mean()) for g in GAMMAS]


def timed_focal(args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run([BINARY, "data", "--json", *args], capture_output=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    rng = np.random.default_rng(17)
    n, k = 1_000_000, 10
    with tempfile.TemporaryDirectory() as d:
        paths = {name: os.path.join(d, name + ".npy") for name in ["z", "t", "q", "y"]}
        z = (rng.normal(size=(n, k)) * 3).astype(np.float32)
        np.save(paths["z"], z)
        np.save(paths["t"], (rng.random((n, k)) < 0.15).astype(np.float32))
        q = rng.random((n, k))
        np.save(paths["q"], q / q.sum(axis=1, keepdims=True))
        np.save(paths["y"], rng.integers(0, k, n).astype(np.int64))
        del z, q
        os.sync()
        cases = [
            ("multi-label sigmoid", ["--labels", paths["t"], "--sigmoid"], "t", sigmoid_numpy),
            ("distributions softmax", ["--labels", paths["q"]], "q", softmax_numpy),
            ("class index sigmoid", ["--labels", paths["y"], "--sigmoid"], None, None),
            ("class index softmax", ["--labels", paths["y"]], None, None),
        ]
        for name, extra, target, numpy_side in cases:
            args = ["--logits", paths["z"], *extra]
            walls, cpus, numpys = [], [], []
            for _ in range(runs + 1):
                wall, cpu, report = timed_focal(args)
                walls.append(wall)
                cpus.append(cpu)
                if numpy_side is not None:
                    start = time.perf_counter()
                    means = numpy_side(np.load(paths["z"]), np.load(paths[target]))
                    numpys.append(time.perf_counter() - start)
                    for got, want in zip([s["mean_focal_loss"] for s in report["sweep"]], means):
                        assert abs(got - want) <= 1e-9 * abs(want), (name, got, want)
            line = f"{name:24} focal-tui {statistics.median(walls[1:]):6.3f} s (CPU {statistics.median(cpus[1:]):6.3f} s)"
            if numpys:
                np_median = statistics.median(numpys[1:])
                line += f"   numpy {np_median:6.3f} s   ratio {np_median / statistics.median(walls[1:]):5.2f}x"
            print(line, flush=True)


if __name__ == "__main__":
    main()
