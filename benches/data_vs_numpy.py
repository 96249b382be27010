#!/usr/bin/env python3
"""`focal-tui data` against the same sweep in numpy float64, end to end.

    cargo build --release --locked && python3 benches/data_vs_numpy.py [--runs 5] [--big DIR]

For each shape (1 000 000 x 10 and 100 000 x 1 000 float32 logits, int64
labels; the data of benches/data_sweep.rs) the script writes the two .npy
files once and flushes them to disk (`os.sync`), runs each side once
untimed, then, alternating the two in every round so that both see the
same machine load, times

- numpy: `np.load` of both files and `sweep_numpy` of
  tests/reference/gen_sweep.py (float64, stable log-sum-exp, the same
  regimes and the same loss histogram), and
- focal-tui: the process `target/release/focal-tui data --logits L
  --labels Y --json`, from spawn to exit (reading, parsing, both cores,
  writing the JSON),

in softmax and sigmoid mode; then a segmentation dump, [16, 19, 128, 256]
float32 logits with [16, 128, 256] uint8 labels of which 10 % are the void
label 255 (`--ignore-index 255`; numpy moves the class axis last, drops the
void pixels, then runs the same sweep), and prints the medians, their ratio and the
budget (>= 10x), and checks that both agree on every mean FL to 1e-9
(numpy's plain float64 sums are the less exact of the two). It also prints
focal-tui's peak resident memory (getrusage of the child).

`--big DIR` writes a float32 file of 4 GiB (107 374 182 x 10) to DIR in
chunks, then runs focal-tui on it once and prints the time and the peak
resident memory (the budget is 64 MiB however large the file).

numpy is needed here only (pip install numpy); the crate does not use it.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))

import numpy as np  # noqa: E402
from gen_sweep import bench_data, sweep_numpy  # noqa: E402

BINARY = os.path.join(ROOT, "target", "release", "focal-tui")
SHAPES = [(1_000_000, 10), (100_000, 1_000)]
SEGMENTATION = (16, 19, 128, 256)
BUDGET = 10.0


def run_focal(args):
    """Runs focal-tui; returns (seconds, peak RSS in MiB or None, parsed JSON).

    The peak RSS comes from GNU time when it is installed: getrusage() of a
    child forked from this (large) Python process would count the pages it
    shared before exec.
    """
    with tempfile.NamedTemporaryFile("r") as rss_file:
        timer = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name] if os.path.exists("/usr/bin/time") else []
        t0 = time.perf_counter()
        proc = subprocess.run([*timer, BINARY, "data", *args, "--json"], capture_output=True)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"focal-tui failed ({proc.returncode}): {proc.stderr.decode().strip()}")
        kib = rss_file.read().strip()
    return elapsed, int(kib) / 1024 if kib else None, json.loads(proc.stdout)


def run_numpy(logits_path, labels_path, mode, ignore=None):
    t0 = time.perf_counter()
    z = np.load(logits_path)
    y = np.load(labels_path)
    if ignore is not None:
        # What a user does today: the class axis last, one row per position, the void ones dropped.
        z = np.moveaxis(z, 1, -1).reshape(-1, z.shape[1])
        y = y.reshape(-1)
        keep = y != ignore
        z, y = z[keep], y[keep].astype(np.int64)
    report = sweep_numpy(np, z, y, mode=mode)
    return time.perf_counter() - t0, report


def compare(ours, theirs, what):
    for a, b in zip(ours["sweep"], theirs["sweep"]):
        x, y = a["mean_focal_loss"], b["mean_focal_loss"]
        if abs(x - y) > 1e-9 * abs(y):
            sys.exit(f"{what}: γ={a['gamma']}: focal-tui {x!r} vs numpy {y!r}")
    x, y = ours["mean_cross_entropy"], theirs["mean_cross_entropy"]
    if abs(x - y) > 1e-9 * abs(y):
        sys.exit(f"{what}: mean CE: focal-tui {x!r} vs numpy {y!r}")


def segmentation_files(tmp):
    """The segmentation dump: the rows of bench_data as pixels, class axis 1, 10 % void."""
    b, c, h, w = SEGMENTATION
    z, y = bench_data(np, b * h * w, c)
    z = np.ascontiguousarray(np.moveaxis(z.reshape(b, h, w, c), -1, 1))
    y = y.reshape(b, h, w).astype(np.uint8)
    y[np.random.default_rng(0).random(y.shape) < 0.1] = 255
    lp, yp = os.path.join(tmp, "z_seg.npy"), os.path.join(tmp, "y_seg.npy")
    np.save(lp, z)
    np.save(yp, y)
    return lp, yp


def shapes(runs, tmp):
    worst = float("inf")
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs; medians of {runs} alternating runs, end to end")
    print(f"{'shape':>16} {'mode':8} {'numpy ms':>10} {'focal-tui ms':>13} {'ratio':>7} {'peak RSS':>9}")
    cases = []
    for rows, k in SHAPES:
        z, y = bench_data(np, rows, k)
        lp, yp = os.path.join(tmp, f"z_{rows}x{k}.npy"), os.path.join(tmp, f"y_{rows}x{k}.npy")
        np.save(lp, z)
        np.save(yp, y)
        del z, y
        cases.append((f"{rows:>9} x {k:<5}", lp, yp, None))
    cases.append(("segmentation", *segmentation_files(tmp), 255))
    # The files just written go to disk in the background for seconds:
    # flush them first, so that no run is timed against that writeback.
    os.sync()
    for name, lp, yp, ignore in cases:
        for mode in ("softmax", "sigmoid"):
            flags = ["--logits", lp, "--labels", yp] + (["--sigmoid"] if mode == "sigmoid" else [])
            flags += ["--ignore-index", str(ignore)] if ignore is not None else []
            # One untimed run of each: files, binary and numpy's code in memory.
            run_numpy(lp, yp, mode, ignore)
            run_focal(flags)
            t_np, t_ft, rss = [], [], 0.0
            for _ in range(runs):
                t, theirs = run_numpy(lp, yp, mode, ignore)
                t_np.append(t)
                t, rss, ours = run_focal(flags)
                t_ft.append(t)
                compare(ours, theirs, f"{name} {mode}")
            a, b = statistics.median(t_np), statistics.median(t_ft)
            worst = min(worst, a / b)
            rss = f"{rss:5.1f} MiB" if rss else "n/a"
            print(f"{name:>16} {mode:8} {a * 1e3:10.1f} {b * 1e3:13.1f} {a / b:6.1f}x {rss:>9}")
    verdict = "meets" if worst >= BUDGET else "MISSES"
    print(f"worst ratio {worst:.1f}x: {verdict} the budget of {BUDGET:.0f}x")
    return worst >= BUDGET


def big(directory):
    rows, k = (4 << 30) // (4 * 10), 10
    lp, yp = os.path.join(directory, "big_logits.npy"), os.path.join(directory, "big_labels.npy")
    if not (os.path.exists(lp) and os.path.getsize(lp) >= rows * k * 4):
        print(f"writing {rows} x {k} float32 ({rows * k * 4 / 2**30:.2f} GiB) to {lp} ...", flush=True)
        z = np.lib.format.open_memmap(lp, mode="w+", dtype=np.float32, shape=(rows, k))
        y = np.lib.format.open_memmap(yp, mode="w+", dtype=np.int32, shape=(rows,))
        step = 1 << 20
        template_z, template_y = bench_data(np, step, k)
        for start in range(0, rows, step):
            n = min(step, rows - start)
            # Shift the template's rows so that chunks differ.
            z[start:start + n] = np.roll(template_z, start // step, axis=1)[:n]
            y[start:start + n] = (template_y[:n] + start // step) % k
        z.flush()
        y.flush()
        del z, y
    t, rss, ours = run_focal(["--logits", lp, "--labels", yp])
    size = os.path.getsize(lp) / 2**30
    print(f"{size:.2f} GiB file, {ours['rows']} rows: {t:.1f} s ({size / t:.2f} GiB/s), peak RSS {rss} MiB, "
          f"mean FL(γ=2) {ours['sweep'][3]['mean_focal_loss']:.6g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--big", metavar="DIR", help="also run on a 4 GiB file written to DIR")
    args = ap.parse_args()
    if not os.path.exists(BINARY):
        sys.exit(f"{BINARY} missing: run `cargo build --release --locked` first")
    with tempfile.TemporaryDirectory() as tmp:
        ok = shapes(args.runs, tmp)
    if args.big:
        big(args.big)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
