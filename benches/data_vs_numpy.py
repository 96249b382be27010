#!/usr/bin/env python3
"""`focal-tui data` against the same sweep in numpy float64, end to end.

    cargo build --release --locked && python3 benches/data_vs_numpy.py [--runs 5] [--big DIR]
    python3 benches/data_vs_numpy.py --check          # agreement only, small shapes, seconds
    python3 benches/data_vs_numpy.py --numpy-only     # numpy's two baselines alone

For each shape (1 000 000 x 10 and 100 000 x 1 000 float32 logits, int64
labels; the data of benches/data_sweep.rs) the script writes the two .npy
files once and flushes them to disk (`os.sync`), runs each side once
untimed, then, alternating them in every round so that all see the
same machine load, times

- numpy, same outputs (the budget's baseline): `np.load` of both files and
  `sweep_numpy` of tests/reference/numpy_sweep.py, float64, stable
  log-sum-exp, the same regimes, computing every per-γ and per-class
  number `data --json` prints: the issue-5 outputs below and the guidance
  of issue 18 (easy_gradient_share, and per side in sigmoid mode;
  balancing_alpha; loss_cdf and, sigmoid, loss_cdf_positives/negatives from
  per-side loss histograms; alpha_suggestions; guidance_notes);
- numpy, issue-5 subset (context only: the baseline as first written,
  before `data` gained the guidance): the same sweep with
  `guidance=False`, i.e. accuracy, mean CE, easy fraction, the p_t
  histogram, per γ mean FL, easy shares and 90 % shares (the same loss
  histograms), per class count, accuracy, means and shares;
- focal-tui: the process `target/release/focal-tui data --logits L
  --labels Y --json` (`--binary` another), from spawn to exit (reading,
  parsing, both cores, writing the JSON),

in softmax and sigmoid mode; then a segmentation dump, [16, 19, 128, 256]
float32 logits with [16, 128, 256] uint8 labels of which 10 % are the void
label 255 (`--ignore-index 255`; numpy moves the class axis last, drops the
void pixels, then runs the same sweep). It prints the medians and two
ratios, numpy / focal-tui for the same outputs (against the budget, >= 10x)
and for the issue-5 subset, and focal-tui's peak resident memory (GNU time
of the child, in the untimed run: the timed ones spawn focal-tui itself).

Each run checks that numpy computes every key of the JSON (but `saturated`,
`ignored`, `skipped`) and agrees on every value: counts, the p_t histogram,
γs, methods and notes exactly; means, shares, 90 % shares, gradient shares,
balancing and suggested α to 1e-9 relative; the CDFs' points and gaps to
1e-9 absolute (numpy's plain float64 sums are the less exact of the two).
`--check` runs only that, on 20 000 x 10, 2 000 x 1 000 and a
[2, 19, 64, 64] dump with 10 % void, and prints how many values agree and
the largest differences. `--numpy-only` times numpy alone (the same outputs
against the subset, alternating; the check's shapes, the shapes above and
the dump) and prints the ratio of the two.

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
from gen_sweep import bench_data  # noqa: E402
from numpy_sweep import sweep_numpy  # noqa: E402

BINARY = os.path.join(ROOT, "target", "release", "focal-tui")
SHAPES = [(1_000_000, 10), (100_000, 1_000)]
SEGMENTATION = (16, 19, 128, 256)
# `--check`: small shapes, agreement only.
CHECK_SHAPES = [(20_000, 10), (2_000, 1_000)]
CHECK_SEGMENTATION = (2, 19, 64, 64)
BUDGET = 10.0
# The keys of `data --json` numpy does not compute: the ignored positions and
# skipped rows it drops itself, values clamped beyond f64 (never for float32).
NOT_COMPUTED = {"ignored", "skipped", "saturated"}
# Compared exactly; the CDFs' points (in [0, 1]) to 1e-9 absolute; the rest
# (means, shares, α) to 1e-9 relative.
EXACT = {"rows", "classes", "mode", "class", "count", "histogram", "gamma", "method", "beta", "guidance_notes"}
ABSOLUTE = {"loss", "loss_lower", "max_gap"}
TOLERANCE = 1e-9


def run_focal(args, rss=False):
    """Runs focal-tui; returns (seconds, peak RSS in MiB or None, parsed JSON).

    The peak RSS (only with `rss`) comes from GNU time when it is installed:
    getrusage() of a child forked from this (large) Python process would
    count the pages it shared before exec. Its start-up (about 1.5 ms here)
    is in that run's time, so timed runs go without it.
    """
    with tempfile.NamedTemporaryFile("r") as rss_file:
        timer = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name] if rss and os.path.exists("/usr/bin/time") else []
        t0 = time.perf_counter()
        proc = subprocess.run([*timer, BINARY, "data", *args, "--json"], capture_output=True)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"focal-tui failed ({proc.returncode}): {proc.stderr.decode().strip()}")
        kib = rss_file.read().strip()
    return elapsed, int(kib) / 1024 if kib else None, json.loads(proc.stdout)


def rows_of(z, y, ignore):
    """What a user does today for a dump with --ignore-index: the class axis
    last, one row per position, the void ones dropped."""
    if ignore is None:
        return z, y
    z = np.moveaxis(z, 1, -1).reshape(-1, z.shape[1])
    y = y.reshape(-1)
    keep = y != ignore
    return z[keep], y[keep].astype(np.int64)


def run_numpy(logits_path, labels_path, mode, ignore=None, guidance=True):
    """np.load of both files and the sweep: every output of `data --json`
    (`guidance`, the budget's baseline) or the issue-5 subset."""
    t0 = time.perf_counter()
    z, y = rows_of(np.load(logits_path), np.load(labels_path), ignore)
    report = sweep_numpy(np, z, y, mode=mode, guidance=guidance)
    return time.perf_counter() - t0, report


def compare(ours, theirs, what, worst=None, path=""):
    """Exits unless focal-tui's JSON (`ours`) and numpy's report (`theirs`)
    agree on every value numpy computes (EXACT, ABSOLUTE, TOLERANCE); with a
    full report, numpy must compute every key the JSON has (NOT_COMPUTED
    aside). `worst` collects the largest difference per key."""
    worst = {} if worst is None else worst
    if isinstance(theirs, dict):
        if "alpha_suggestions" in theirs or "balancing_alpha" in theirs:
            missing = set(ours) - set(theirs) - NOT_COMPUTED
            if missing:
                sys.exit(f"{what}: numpy does not compute {sorted(missing)} at {path or 'top level'}")
        for key, value in theirs.items():
            if key not in ours:
                sys.exit(f"{what}: {path}{key}: numpy has it, focal-tui does not")
            compare_values(ours[key], value, what, f"{path}{key}", key, worst)
    return worst


def compare_values(a, b, what, path, key, worst):
    if isinstance(b, dict):
        compare(a, b, what, worst, path + ".")
        return
    if key == "guidance_notes" or isinstance(b, str) or b is None:
        err, ok = 0.0, a == b
    elif isinstance(b, (list, tuple, np.ndarray)):
        if len(a) != len(b):
            sys.exit(f"{what}: {path}: {len(a)} values from focal-tui, {len(b)} from numpy")
        for i, (x, y) in enumerate(zip(a, b)):
            compare_values(x, y, what, f"{path}[{i}]", key, worst)
        return
    elif key in EXACT:
        err, ok = abs(a - b), a == b
    else:
        err = abs(a - b) if key in ABSOLUTE else abs(a - b) / abs(b) if b else abs(a)
        ok = err <= TOLERANCE
    if not ok:
        sys.exit(f"{what}: {path}: focal-tui {a!r} vs numpy {b!r}")
    n, e = worst.get(key, (0, 0.0))
    worst[key] = (n + 1, max(e, err))


def segmentation_files(tmp, shape=SEGMENTATION):
    """The segmentation dump: the rows of bench_data as pixels, class axis 1, 10 % void."""
    b, c, h, w = shape
    z, y = bench_data(np, b * h * w, c)
    z = np.ascontiguousarray(np.moveaxis(z.reshape(b, h, w, c), -1, 1))
    y = y.reshape(b, h, w).astype(np.uint8)
    y[np.random.default_rng(0).random(y.shape) < 0.1] = 255
    name = "x".join(map(str, shape))
    lp, yp = os.path.join(tmp, f"z_seg_{name}.npy"), os.path.join(tmp, f"y_seg_{name}.npy")
    np.save(lp, z)
    np.save(yp, y)
    return lp, yp


def write_cases(tmp, shapes, segmentation):
    """The .npy files of each shape and of the segmentation dump, flushed to
    disk: (name, logits path, labels path, ignore index)."""
    cases = []
    for rows, k in shapes:
        z, y = bench_data(np, rows, k)
        lp, yp = os.path.join(tmp, f"z_{rows}x{k}.npy"), os.path.join(tmp, f"y_{rows}x{k}.npy")
        np.save(lp, z)
        np.save(yp, y)
        del z, y
        cases.append((f"{rows:>9} x {k:<5}", lp, yp, None))
    cases.append(("segmentation", *segmentation_files(tmp, segmentation), 255))
    # The files just written go to disk in the background for seconds:
    # flush them first, so that no run is timed against that writeback.
    os.sync()
    return cases


def focal_flags(lp, yp, mode, ignore):
    flags = ["--logits", lp, "--labels", yp] + (["--sigmoid"] if mode == "sigmoid" else [])
    return flags + (["--ignore-index", str(ignore)] if ignore is not None else [])


def shapes(runs, tmp):
    worst, worst_subset = float("inf"), float("inf")
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs; medians of {runs} alternating runs, end to end")
    print("numpy 'same': every output of `data --json` (the budget's baseline); "
          "'subset': the issue-5 outputs only (context)")
    print(f"{'shape':>16} {'mode':8} {'numpy same':>11} {'subset':>8} {'focal-tui':>10} "
          f"{'same outputs':>13} {'issue-5 subset':>15} {'peak RSS':>9}")
    for name, lp, yp, ignore in write_cases(tmp, SHAPES, SEGMENTATION):
        for mode in ("softmax", "sigmoid"):
            flags = focal_flags(lp, yp, mode, ignore)
            # One untimed run of each: files, binary and numpy's code in memory
            # (focal-tui's under GNU time, for its peak RSS).
            run_numpy(lp, yp, mode, ignore)
            run_numpy(lp, yp, mode, ignore, guidance=False)
            _, rss, _ = run_focal(flags, rss=True)
            t_np, t_sub, t_ft = [], [], []
            for _ in range(runs):
                t, theirs = run_numpy(lp, yp, mode, ignore)
                t_np.append(t)
                t, subset = run_numpy(lp, yp, mode, ignore, guidance=False)
                t_sub.append(t)
                t, _, ours = run_focal(flags)
                t_ft.append(t)
                compare(ours, theirs, f"{name} {mode}")
                compare(ours, subset, f"{name} {mode} (subset)")
            a, s, b = statistics.median(t_np), statistics.median(t_sub), statistics.median(t_ft)
            worst, worst_subset = min(worst, a / b), min(worst_subset, s / b)
            rss = f"{rss:5.1f} MiB" if rss else "n/a"
            print(f"{name:>16} {mode:8} {a * 1e3:8.1f} ms {s * 1e3:8.1f} {b * 1e3:7.1f} ms "
                  f"{a / b:12.1f}x {s / b:14.1f}x {rss:>9}")
    verdict = "meets" if worst >= BUDGET else "MISSES"
    print(f"worst ratio, same outputs: {worst:.1f}x: {verdict} the budget of {BUDGET:.0f}x "
          f"(issue-5 subset, context only: {worst_subset:.1f}x)")
    return worst >= BUDGET


def check(tmp):
    """Agreement only (no timing), on small shapes: numpy's full report and
    its subset against focal-tui's JSON on every value, both modes."""
    print(f"agreement of numpy (float64) and {BINARY} on every output of `data --json`:")
    for name, lp, yp, ignore in write_cases(tmp, CHECK_SHAPES, CHECK_SEGMENTATION):
        for mode in ("softmax", "sigmoid"):
            _, _, ours = run_focal(focal_flags(lp, yp, mode, ignore))
            worst = compare(ours, run_numpy(lp, yp, mode, ignore)[1], f"{name} {mode}")
            compare(ours, run_numpy(lp, yp, mode, ignore, guidance=False)[1], f"{name} {mode} (subset)")
            values = sum(n for n, _ in worst.values())
            rel = max(e for key, (_, e) in worst.items() if key not in ABSOLUTE | EXACT)
            absolute = max(e for key, (_, e) in worst.items() if key in ABSOLUTE)
            print(f"{name:>16} {mode:8} {ours['rows']:>8} rows: {values:>7} values agree "
                  f"(largest relative difference {rel:.1e}, of the CDFs' points {absolute:.1e})")


def numpy_only(runs, tmp):
    """numpy alone: the same outputs against the issue-5 subset, alternating."""
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs; medians of {runs} alternating runs (np.load + sweep)")
    print(f"{'shape':>16} {'mode':8} {'same outputs':>13} {'issue-5 subset':>15} {'same / subset':>14}")
    for name, lp, yp, ignore in write_cases(tmp, CHECK_SHAPES + SHAPES, SEGMENTATION):
        for mode in ("softmax", "sigmoid"):
            run_numpy(lp, yp, mode, ignore)
            t_np, t_sub = [], []
            for _ in range(runs):
                t_np.append(run_numpy(lp, yp, mode, ignore)[0])
                t_sub.append(run_numpy(lp, yp, mode, ignore, guidance=False)[0])
            a, s = statistics.median(t_np), statistics.median(t_sub)
            print(f"{name:>16} {mode:8} {a * 1e3:10.1f} ms {s * 1e3:12.1f} ms {a / s:13.2f}x")


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
    """np.load of an .npz and the sweep (every output of `data --json`)."""
    t0 = time.perf_counter()
    with np.load(path) as f:
        z, y = rows_of(f["logits"], f["labels"], ignore)
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
        rss = {kind: run_focal(flags, rss=True)[1] for kind, flags in runs_of.items()}
        times = {kind: [] for kind in runs_of}
        t_np = []
        for _ in range(runs):
            for kind, flags in runs_of.items():
                t, _, ours = run_focal(flags)
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
    t, rss, ours = run_focal(["--logits", lp, "--labels", yp], rss=True)
    size = os.path.getsize(lp) / 2**30
    print(f"{size:.2f} GiB file, {ours['rows']} rows: {t:.1f} s ({size / t:.2f} GiB/s), peak RSS {rss} MiB, "
          f"mean FL(γ=2) {ours['sweep'][3]['mean_focal_loss']:.6g}")


def main():
    global BINARY
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--binary", default=BINARY, help=f"the focal-tui to run (default {BINARY})")
    ap.add_argument("--check", action="store_true",
                    help="only check that numpy and focal-tui agree on every output, on small shapes (seconds)")
    ap.add_argument("--numpy-only", action="store_true",
                    help="only time numpy: every output against the issue-5 subset (no focal-tui)")
    ap.add_argument("--containers", action="store_true", help="also time .npz and .safetensors against .npy")
    ap.add_argument("--big", metavar="DIR", help="also run on a 4 GiB file written to DIR")
    args = ap.parse_args()
    BINARY = args.binary
    with tempfile.TemporaryDirectory() as tmp:
        if args.numpy_only:
            numpy_only(args.runs, tmp)
            return
        if not os.path.exists(BINARY):
            sys.exit(f"{BINARY} missing: run `cargo build --release --locked` first")
        if args.check:
            check(tmp)
            return
        ok = shapes(args.runs, tmp)
        if args.containers:
            containers(args.runs, tmp)
    if args.big:
        big(args.big)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
