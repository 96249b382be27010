#!/usr/bin/env python3
"""Peak resident memory of `focal-tui data` on inputs read in order, and
the speed of one binary against another on them (paired runs).

    cargo build --release --locked && python3 benches/npz_memory.py [--runs 5] [--dir DIR]
        [--before OLD_BINARY]

The inputs read in order, not split among threads (`src/data/run/accumulate.rs`):

- `np.savez_compressed` of 1 000 000 x 10 float32 logits with int64 labels
  (a deflated member inflated in order, one window-less inflater);
- `np.savez_compressed` of the [16, 19, 128, 256] segmentation dump of
  `benches/data_vs_numpy.py` (10 % void, `--ignore-index 255`): class
  planes read in strips through a window of one item's planes (2.5 MB);
- [4, 31, 256, 256] deflated: an item's planes just under the 8 MiB window;
- [1, 64, 192, 192] deflated: an item over the window, read by one inflater
  per class plane, 64 of them, the most allowed;
- the 1 000 000 x 10 `.npy` on standard input (`--logits -`), and as text
  (200 000 rows, `--logits F.txt --labels Y.txt`).

For every input the script runs `target/release/focal-tui data --json`
under GNU time (`/usr/bin/time -f %M`: the child's own peak, not a count
that includes this Python process's pages) and fails unless the peak RSS
is at most 16 MiB, the budget for any file. With `--before OLD_BINARY`
both binaries run, alternating, `--runs` times each; the script prints the
medians and their ratio and says whether the two JSON reports are the same
bytes. The fixtures are written once to DIR (default: a temporary folder).

numpy is needed here only; the crate does not use it.
"""

import argparse
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

BINARY = os.path.join(ROOT, "target", "release", "focal-tui")
BUDGET_MIB = 16.0


def planes(directory, name, shape, void):
    """`bench_data` rows as a [B, C, H, W] dump (`void`: a share of label 255), deflated."""
    path = os.path.join(directory, f"{name}.npz")
    if not os.path.exists(path):
        b, c, h, w = shape
        z, y = bench_data(np, b * h * w, c)
        z = np.ascontiguousarray(np.moveaxis(z.reshape(b, h, w, c), -1, 1))
        y = y.reshape(b, h, w).astype(np.uint8)
        if void:
            y[np.random.default_rng(0).random(y.shape) < void] = 255
        np.savez_compressed(path, logits=z, labels=y)
    return ["--logits", path] + (["--ignore-index", "255"] if void else [])


def fixtures(directory):
    """The inputs: (name, arguments, file for standard input or None)."""
    z_path, y_path = os.path.join(directory, "z_1m.npy"), os.path.join(directory, "y_1m.npy")
    npz = os.path.join(directory, "rows_1m.npz")
    txt, txt_y = os.path.join(directory, "z_200k.txt"), os.path.join(directory, "y_200k.txt")
    if not all(map(os.path.exists, [z_path, y_path, npz, txt, txt_y])):
        z, y = bench_data(np, 1_000_000, 10)
        np.save(z_path, z)
        np.save(y_path, y)
        np.savez_compressed(npz, logits=z, labels=y)
        np.savetxt(txt, z[:200_000], fmt="%.9g")
        np.savetxt(y_path.replace(".npy", ".tmp"), y[:200_000], fmt="%d")
        os.replace(y_path.replace(".npy", ".tmp"), txt_y)
    cases = [
        ("npz deflated 1M x 10", ["--logits", npz], None),
        ("npz deflated 1M x 10 sigmoid", ["--logits", npz, "--sigmoid"], None),
        ("npz deflated [16,19,128,256]", planes(directory, "seg", (16, 19, 128, 256), 0.1), None),
        ("npz deflated [4,31,256,256]", planes(directory, "window", (4, 31, 256, 256), 0.0), None),
        ("npz deflated [1,64,192,192]", planes(directory, "inflaters", (1, 64, 192, 192), 0.0), None),
        (".npy on stdin 1M x 10", ["--logits", "-", "--labels", y_path], z_path),
        ("text 200k x 10", ["--logits", txt, "--labels", txt_y], None),
    ]
    os.sync()
    return cases


def run(binary, args, stdin):
    """(seconds, peak RSS in MiB, stdout bytes) of one run."""
    with tempfile.NamedTemporaryFile("r") as rss_file:
        command = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name, binary, "data", *args, "--json"]
        with open(stdin, "rb") if stdin else open(os.devnull, "rb") as f:
            t0 = time.perf_counter()
            proc = subprocess.run(command, stdin=f, capture_output=True)
            elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"{binary} {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode().strip()}")
        return elapsed, int(rss_file.read().strip()) / 1024, proc.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", help="where the fixtures are kept (written once)")
    ap.add_argument("--before", metavar="OLD_BINARY", help="time this binary against target/release, paired")
    args = ap.parse_args()
    if not os.path.exists(BINARY):
        sys.exit(f"{BINARY} missing: run `cargo build --release --locked` first")
    if not os.path.exists("/usr/bin/time"):
        sys.exit("GNU time (/usr/bin/time) is needed for the child's own peak RSS")
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.dir or tmp
        os.makedirs(directory, exist_ok=True)
        binaries = [BINARY] + ([args.before] if args.before else [])
        print(f"medians of {args.runs} alternating runs; budget {BUDGET_MIB:.0f} MiB")
        print(f"{'input':>30} {'ms':>8} {'peak RSS':>9}" + (f" {'before ms':>10} {'ratio':>6} {'before RSS':>10} same bytes" if args.before else ""))
        over = []
        for name, flags, stdin in fixtures(directory):
            times = {b: [] for b in binaries}
            peak, out = {}, {}
            for b in binaries:
                run(b, flags, stdin)
            for _ in range(args.runs):
                for b in binaries:
                    t, rss, stdout = run(b, flags, stdin)
                    times[b].append(t)
                    peak[b] = max(peak.get(b, 0.0), rss)
                    out[b] = stdout
            t = statistics.median(times[BINARY])
            line = f"{name:>30} {t * 1e3:8.0f} {peak[BINARY]:5.1f} MiB"
            if args.before:
                t0 = statistics.median(times[args.before])
                same = "yes" if out[BINARY] == out[args.before] else "NO"
                line += f" {t0 * 1e3:10.0f} {t / t0:5.2f}x {peak[args.before]:6.1f} MiB {same}"
            print(line, flush=True)
            if peak[BINARY] > BUDGET_MIB:
                over.append(name)
    if over:
        sys.exit(f"over the {BUDGET_MIB:.0f} MiB budget: {', '.join(over)}")
    print(f"every input within {BUDGET_MIB:.0f} MiB")


if __name__ == "__main__":
    main()
