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

`--containers` then times the same data saved as containers, read by
focal-tui against the .npy files (same rounds, alternating): np.savez
(stored members, read in place), np.savez_compressed (deflated members,
inflated as a stream, in order) and safetensors (when the package is
installed), for the 1 000 000 x 10 case and the segmentation dump; with
numpy's own `np.load(npz)` + the same sweep on the deflated file for scale.

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


def container_files(tmp, name, lp, yp):
    """The arrays of `lp`/`yp` as np.savez, np.savez_compressed and safetensors."""
    z, y = np.load(lp), np.load(yp)
    files = {"npz stored": os.path.join(tmp, f"{name}.npz"), "npz deflated": os.path.join(tmp, f"{name}_deflated.npz")}
    np.savez(files["npz stored"], logits=z, labels=y)
    np.savez_compressed(files["npz deflated"], logits=z, labels=y)
    try:
        from safetensors.numpy import save_file
    except ImportError:
        return files
    files["safetensors"] = os.path.join(tmp, f"{name}.safetensors")
    save_file({"logits": z, "labels": y}, files["safetensors"])
    return files


def run_numpy_npz(path, mode, ignore=None):
    t0 = time.perf_counter()
    with np.load(path) as f:
        z, y = f["logits"], f["labels"]
    if ignore is not None:
        z = np.moveaxis(z, 1, -1).reshape(-1, z.shape[1])
        y = y.reshape(-1)
        keep = y != ignore
        z, y = z[keep], y[keep].astype(np.int64)
    report = sweep_numpy(np, z, y, mode=mode)
    return time.perf_counter() - t0, report


def containers(runs, tmp):
    print(f"\ncontainers: focal-tui on the same arrays, softmax; medians of {runs} alternating runs")
    print(f"{'data':>16} {'file':14} {'focal-tui ms':>13} {'vs .npy':>8} {'numpy ms':>10} {'peak RSS':>9}")
    rows, k = SHAPES[0]
    z, y = bench_data(np, rows, k)
    lp, yp = os.path.join(tmp, "zc.npy"), os.path.join(tmp, "yc.npy")
    np.save(lp, z)
    np.save(yp, y)
    del z, y
    cases = [(f"{rows:>9} x {k:<5}", lp, yp, None), ("segmentation", *segmentation_files(tmp), 255)]
    prepared = [(name, lp, yp, ignore, container_files(tmp, name.split()[0], lp, yp)) for name, lp, yp, ignore in cases]
    os.sync()
    for name, lp, yp, ignore, files in prepared:
        extra = ["--ignore-index", str(ignore)] if ignore is not None else []
        runs_of = {"npy": ["--logits", lp, "--labels", yp] + extra}
        runs_of.update({kind: ["--logits", path] + extra for kind, path in files.items()})
        for flags in runs_of.values():
            run_focal(flags)
        times = {kind: [] for kind in runs_of}
        rss = {}
        t_np = []
        for _ in range(runs):
            for kind, flags in runs_of.items():
                t, rss[kind], ours = run_focal(flags)
                times[kind].append(t)
                if kind == "npy":
                    reference = ours
                else:
                    compare(ours, reference, f"{name} {kind}")
            t, _ = run_numpy_npz(files["npz deflated"], "softmax", ignore)
            t_np.append(t)
        base = statistics.median(times["npy"])
        for kind, ts in times.items():
            t = statistics.median(ts)
            numpy = f"{statistics.median(t_np) * 1e3:10.1f}" if kind == "npz deflated" else f"{'':10}"
            peak = f"{rss[kind]:5.1f} MiB" if rss[kind] else "n/a"
            print(f"{name:>16} {kind:14} {t * 1e3:13.1f} {t / base:7.2f}x {numpy} {peak:>9}")


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
    ap.add_argument("--containers", action="store_true", help="also time .npz and .safetensors against .npy")
    ap.add_argument("--big", metavar="DIR", help="also run on a 4 GiB file written to DIR")
    args = ap.parse_args()
    if not os.path.exists(BINARY):
        sys.exit(f"{BINARY} missing: run `cargo build --release --locked` first")
    with tempfile.TemporaryDirectory() as tmp:
        ok = shapes(args.runs, tmp)
        if args.containers:
            containers(args.runs, tmp)
    if args.big:
        big(args.big)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
