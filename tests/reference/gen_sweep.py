#!/usr/bin/env python3
"""Reference data for the dataset sweep (src/data/sweep/), and the same
sweep in numpy float64 for the speed comparison.

What it computes
----------------
For each small dataset (N rows of K logits, integer labels) and a
configuration (gammas, alpha scalar or per class, softmax or sigmoid mode,
p_t bins) the script evaluates every example at 60 significant digits
(``mp.dps = 60``) and writes the exact aggregates the Rust ``Report`` holds:

    rows, accuracy (first argmax == label), mean_cross_entropy,
    easy_fraction (p_t >= 1/2), histogram (p_t bins)
    sweep[g]: mean_focal_loss, easy_share, easy_share_ce,
              top_share_90, top_share_90_ce
    per_class[c]: count, accuracy, mean_cross_entropy,
                  mean_focal_loss[g], share[g]

Per example (the formulas of tests/reference/gen_reference.py):

softmax   p_i = softmax(z)_i with exact logit differences, 1 - p_t as the sum
          of the other classes' probabilities (never 1 - p_t),
          CE = lse(z) - z_t, FL = alpha_t * (1 - p_t)^g * CE  (0^0 = 1).
sigmoid   every class i a binary problem, u = z_i for the label and -z_i
          otherwise: BCE_i = softplus(-u), w_i = alpha_i (label) or
          1 - alpha_i, FL_i = w_i * sigmoid(-u)^g * BCE_i; the example's CE and
          FL are the sums over its classes; p_t = sigmoid(z_label).

Values above f64's largest finite number are clamped to it per example, as
the crate documents (``saturated``).  ``top_share_90`` is exact: sort the
exact per-example losses, take the fewest largest whose sum reaches 90 % of
the total (0 when the total is 0), divide by N.  Shares of a zero total are
0; means over no rows are null.

Datasets
--------
Rows come from a generator the Rust test repeats bit for bit (xorshift64):
``gen = {seed, bits, shift, correct_pct, boost}``: per row K draws r,
z_i = ((r >> 11) % 2^bits - 2^(bits-1)) * 2^-shift (exact); then one draw
r: the label is the first argmax if r % 100 < correct_pct, else
(r >> 8) % K; and if boost != 0 and (r >> 32) % 2 == 0 the label's logit is
raised by ``boost`` (exact).  Extreme rows ([0, 800], [1000, 0], +-1e300,
[1.7e308, -1.7e308], ...) are listed explicitly in ``rows`` (repr strings)
and come first.

Output: tests/reference/sweep_cases.json (values as 20-digit strings).

numpy
-----
``bench_data`` makes the data of benches/data_sweep.rs (1 000 000 x 10 and
100 000 x 1 000 float32 logits, splitmix64); ``sweep_numpy``
(tests/reference/numpy_sweep.py) is the same sweep in numpy float64 (log
space, the same regimes, a 16-bins-per-binade loss histogram), every
output of ``focal-tui data --json`` or (``guidance=False``) the issue-5
subset; ``python3 tests/reference/gen_sweep.py --bench`` times both on that
data (generated before timing) and prints the medians.

Regenerate: ``python3 tests/reference/gen_sweep.py`` (mpmath; ~1 minute).
"""

import json
import os
import sys
import time

from mpmath import mp, mpf
from numpy_sweep import sweep_numpy

DPS = 60
SIG = 20
HERE = os.path.dirname(os.path.abspath(__file__))
OUT_PATH = os.path.join(HERE, "sweep_cases.json")
F64_MAX = mpf(sys.float_info.max)
MASK = (1 << 64) - 1
TOP_MASS = mpf(9) / 10


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------

class XorShift:
    def __init__(self, seed):
        assert seed != 0
        self.s = seed & MASK

    def next(self):
        s = self.s
        s ^= (s << 13) & MASK
        s ^= s >> 7
        s ^= (s << 17) & MASK
        self.s = s
        return s


def first_argmax(z):
    best = 0
    for i, v in enumerate(z):
        if v > z[best]:
            best = i
    return best


def generate(rows, k, gen):
    """The rows of a ``gen`` spec (see the module docstring)."""
    rng = XorShift(gen["seed"])
    bits, shift = gen["bits"], gen["shift"]
    half = 1 << (bits - 1)
    out = []
    for _ in range(rows):
        z = [float(((rng.next() >> 11) % (1 << bits)) - half) * 2.0 ** -shift for _ in range(k)]
        r = rng.next()
        if r % 100 < gen["correct_pct"]:
            t = first_argmax(z)
        else:
            t = (r >> 8) % k
        if gen["boost"] != 0 and (r >> 32) % 2 == 0:
            v = z[t] + gen["boost"]
            assert mpf(v) == mpf(z[t]) + mpf(gen["boost"]), "boost must be exact"
            z[t] = v
        out.append((z, t))
    return out


# --------------------------------------------------------------------------
# exact per-example values
# --------------------------------------------------------------------------

def log1p_careful(s):
    if s == 0:
        return mpf(0)
    mag = mp.mag(s)
    if mag < -mp.prec:
        return s - s * s / 2 + s * s * s / 3
    with mp.workprec(mp.prec + max(0, -mag) + 20):
        r = mp.log(1 + s)
    return +r


def powg(x, g):
    """x ** g for x >= 0, with 0 ** 0 = 1."""
    if g == 0:
        return mpf(1)
    if x == 0:
        return mpf(0)
    with mp.workprec(mp.prec + 40):
        lx = mp.log(x)
    with mp.workprec(mp.prec + max(0, mp.mag(lx * g)) + 40):
        r = mp.exp(g * lx)
    return +r


def sigmoid(u):
    if u >= 0:
        return 1 / (1 + mp.exp(-u))
    e = mp.exp(u)
    return e / (1 + e)


def softplus(v):
    return (v if v > 0 else mpf(0)) + log1p_careful(mp.exp(-abs(v)))


def clamp(x):
    return x if x <= F64_MAX else F64_MAX


def softmax_example(z, t, gammas, alpha_t):
    zm = [mpf(v) for v in z]
    j = first_argmax(z)
    e = []
    for zi in zm:
        d = mp.fsub(zi, zm[j], exact=True)
        e.append(mp.exp(d) if d != 0 else mpf(1))
    S = mp.fsum(e[i] for i in range(len(z)) if i != j)
    L = log1p_careful(S)
    ce = mp.fsub(zm[j], zm[t], exact=True) + L
    eL = mp.exp(-L)
    om = mp.fsum(e[i] for i in range(len(z)) if i != t) * eL
    pt = e[t] * eL
    fl = [clamp(alpha_t * powg(om, g) * ce) for g in gammas]
    return {"ce": clamp(ce), "fl": fl, "pt": pt, "correct": j == t,
            "saturated": ce > F64_MAX or any(alpha_t * powg(om, g) * ce > F64_MAX for g in gammas)}


def sigmoid_example(z, t, gammas, alpha):
    k = len(z)
    ces, fls = [], [[] for _ in gammas]
    for i in range(k):
        zi = mpf(z[i])
        u = zi if i == t else -zi
        a = alpha[i] if isinstance(alpha, list) else alpha
        w = mpf(a) if i == t else 1 - mpf(a)
        bce = softplus(-u)
        om = sigmoid(-u)
        ces.append(bce)
        for gi, g in enumerate(gammas):
            fls[gi].append(w * powg(om, g) * bce)
    ce = mp.fsum(ces)
    fl = [mp.fsum(v) for v in fls]
    sat = ce > F64_MAX or any(v > F64_MAX for v in fl)
    return {"ce": clamp(ce), "fl": [clamp(v) for v in fl], "pt": sigmoid(mpf(z[t])),
            "correct": first_argmax(z) == t, "saturated": sat}


# --------------------------------------------------------------------------
# aggregates
# --------------------------------------------------------------------------

def top_share(values, n):
    total = mp.fsum(values)
    if n == 0 or total == 0:
        return mpf(0)
    target = TOP_MASS * total
    acc = mpf(0)
    for i, v in enumerate(sorted(values, reverse=True)):
        acc += v
        if acc >= target:
            return mpf(i + 1) / n
    return mpf(1)


def share(part, total):
    return part / total if total != 0 else mpf(0)


def mean(values):
    return mp.fsum(values) / len(values) if values else None


def pt_bin(pt, bins):
    """The bin of p_t, or None when p_t is too close to an edge for the
    f64 computation to be sure (p_t = 0, 1/2 and 1 are exact in the crate)."""
    b = min(int(mp.floor(pt * bins)), bins - 1)
    if pt in (0, mpf(1) / 2, 1):
        return b
    x = pt * bins
    edge = mp.nint(x)
    # Near 0 and near `bins` every rounding lands in the same (clamped) bin.
    if 0 < edge < bins and abs(x - edge) <= mpf(10) ** -12 * max(x, 1):
        return None
    return b


def aggregate(examples, labels, k, gammas, bins):
    n = len(examples)
    G = len(gammas)
    ce = [ex["ce"] for ex in examples]
    fl = [[ex["fl"][g] for ex in examples] for g in range(G)]
    easy = [ex["pt"] >= mpf(1) / 2 for ex in examples]
    for ex in examples:
        d = ex["pt"] - mpf(1) / 2
        assert d == 0 or abs(d) > mpf(10) ** -12, "p_t too close to 1/2 for a sure easy/hard split"
    hist = [0] * bins
    for ex in examples:
        b = pt_bin(ex["pt"], bins)
        if b is None:
            hist = None
            break
        hist[b] += 1
    ce_easy = mp.fsum(c for c, e in zip(ce, easy) if e)
    ce_total = mp.fsum(ce)
    sweep = []
    for g in range(G):
        total = mp.fsum(fl[g])
        sweep.append({
            "gamma": gammas[g],
            "mean_focal_loss": mean(fl[g]),
            "easy_share": share(mp.fsum(v for v, e in zip(fl[g], easy) if e), total),
            "easy_share_ce": share(ce_easy, ce_total),
            "top_share_90": top_share(fl[g], n),
            "top_share_90_ce": top_share(ce, n),
        })
    per_class = []
    for c in range(k):
        rows = [i for i in range(n) if labels[i] == c]
        per_class.append({
            "class": c,
            "count": len(rows),
            "accuracy": (mpf(sum(1 for i in rows if examples[i]["correct"])) / len(rows)) if rows else None,
            "mean_cross_entropy": mean([ce[i] for i in rows]),
            "mean_focal_loss": [mean([fl[g][i] for i in rows]) for g in range(G)],
            "share": [share(mp.fsum(fl[g][i] for i in rows), mp.fsum(fl[g])) for g in range(G)],
        })
    return {
        "rows": n,
        "accuracy": mpf(sum(1 for ex in examples if ex["correct"])) / n if n else None,
        "mean_cross_entropy": mean(ce),
        "easy_fraction": mpf(sum(easy)) / n if n else None,
        "saturated": sum(1 for ex in examples if ex["saturated"]),
        "histogram": hist,
        "sweep": sweep,
        "per_class": per_class,
    }


def fmt(x):
    if x is None:
        return None
    if isinstance(x, (bool, int)) and not isinstance(x, bool):
        return x
    if isinstance(x, float):
        return repr(x)
    if x == 0:
        return "0"
    return mp.nstr(x, SIG, min_fixed=1, max_fixed=0)


def format_tree(v):
    if isinstance(v, dict):
        return {k: format_tree(x) for k, x in v.items()}
    if isinstance(v, list):
        return [format_tree(x) for x in v]
    if isinstance(v, bool):
        return v
    return fmt(v)


# --------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------

EXTREME_SOFTMAX = [
    ([0.0, 800.0], 1), ([0.0, 800.0], 0), ([1000.0, 0.0], 0), ([1000.0, 0.0], 1),
    ([1e300, -1e300], 0), ([1e300, -1e300], 1), ([-1e300, 1e300, 0.0], 2),
    ([0.0, 745.0], 1), ([0.0, 760.0, 740.0], 1), ([0.0, 0.0], 0), ([3.0, 3.0, 3.0], 2),
    ([-1.0, 3.0, -0.5], 1), ([36.0, 0.0], 0), ([0.0, 1e-300], 1), ([709.0, 0.0, -709.0], 2),
]

EXTREME_SIGMOID = [
    ([0.0, 800.0], 1), ([0.0, 800.0], 0), ([1000.0, 0.0], 0), ([-1000.0, 0.0], 0),
    ([1e300, -1e300], 0), ([1e300, -1e300], 1), ([-1e300, 1e300, 0.0], 2),
    ([0.0, 0.0], 0), ([40.0, -40.0], 0), ([-745.0, 745.0], 1), ([150.0, -150.0], 1),
    ([-1.0, 3.0, -0.5], 1), ([1e-300, -1e-300], 0),
]


def spec(name, mode, k, rows=0, gen=None, explicit=(), gammas=(0.0, 0.5, 1.0, 2.0, 5.0),
         alpha=0.25, bins=20):
    return {"name": name, "mode": mode, "classes": k, "gen_rows": rows, "gen": gen,
            "rows": [(list(z), t) for z, t in explicit], "gammas": list(gammas),
            "alpha": alpha, "bins": bins}


def g(seed, bits=16, shift=12, correct_pct=60, boost=0.0):
    return {"seed": seed, "bits": bits, "shift": shift, "correct_pct": correct_pct, "boost": boost}


def per_class_alpha(k, seed):
    rng = XorShift(seed)
    return [((rng.next() >> 11) % 1024) / 1024.0 for _ in range(k)]


def cases():
    out = []
    pad = lambda rows, k: [(z + [0.0] * (k - len(z)), t) for z, t in rows if len(z) <= k]
    # small and single-row
    out.append(spec("one-row-k1", "softmax", 1, 1, g(1)))
    out.append(spec("one-row-k1-sigmoid", "sigmoid", 1, 1, g(2)))
    out.append(spec("k1-many", "softmax", 1, 37, g(3), gammas=(0.0, 2.0)))
    out.append(spec("paper-example", "softmax", 3, 0, None, [([-1.0, 3.0, -0.5], 1)], gammas=(2.0,)))
    for mode in ("softmax", "sigmoid"):
        ext = EXTREME_SOFTMAX if mode == "softmax" else EXTREME_SIGMOID
        out.append(spec(f"extremes-{mode}", mode, 3, 0, None, pad(ext, 3)))
        out.append(spec(f"extremes-{mode}-mixed", mode, 3, 200, g(11 if mode == "softmax" else 12), pad(ext, 3)))
        out.append(spec(f"extremes-{mode}-perclass", mode, 3, 60, g(13, correct_pct=80), pad(ext, 3),
                        alpha=per_class_alpha(3, 99)))
    # generated: sizes, spreads, confident models
    seeds = iter(range(100, 1000))
    for mode in ("softmax", "sigmoid"):
        for rows, k, bits, shift, pct, boost in [
            (500, 10, 16, 12, 60, 0.0),      # logits in [-8, 8)
            (500, 20, 16, 13, 90, 4.0),      # mostly right
            (300, 2, 20, 14, 50, 0.0),       # binary, small logits
            (400, 5, 22, 12, 95, 40.0),      # very confident: p_t near 1, 1 - p_t ~ e^-40
            (250, 7, 12, 2, 70, 0.0),        # wide logits in [-512, 512)
            (120, 16, 16, 6, 85, 700.0),     # 1 - p_t underflows in places
            (499, 13, 16, 16, 10, 0.0),      # nearly uniform: p_t ~ 1/K
            (64, 17, 16, 12, 60, 0.0),       # K > 16: compensated row sums
        ]:
            out.append(spec(f"gen-{mode}-{rows}x{k}-b{bits}s{shift}-c{pct}-boost{int(boost)}",
                            mode, k, rows, g(next(seeds), bits, shift, pct, boost)))
        out.append(spec(f"gen-{mode}-perclass-alpha", mode, 6, 333, g(next(seeds), 16, 11, 70, 3.0),
                        alpha=per_class_alpha(6, 7)))
        out.append(spec(f"gen-{mode}-gammas", mode, 4, 200, g(next(seeds), 16, 10, 60, 0.0),
                        gammas=(0.0, 0.1, 0.25, 1.0, 1.5, 3.0, 5.0), bins=7))
        out.append(spec(f"gen-{mode}-alpha-one", mode, 9, 150, g(next(seeds)), alpha=1.0, bins=1))
    # saturation: CE above f64::MAX is clamped
    out.append(spec("saturated-softmax", "softmax", 2, 10, g(31),
                    [([1.7e308, -1.7e308], 1), ([1.7e308, -1.7e308], 0), ([-1.7e308, 1.7e308], 0)]))
    return out


def evaluate(c):
    k = c["classes"]
    rows = list(c["rows"])
    if c["gen"]:
        rows += generate(c["gen_rows"], k, c["gen"])
    gammas = [mpf(x) for x in c["gammas"]]
    alpha = c["alpha"]
    examples = []
    for z, t in rows:
        assert len(z) == k and 0 <= t < k
        if c["mode"] == "softmax":
            at = mpf(alpha[t] if isinstance(alpha, list) else alpha)
            examples.append(softmax_example(z, t, gammas, at))
        else:
            examples.append(sigmoid_example(z, t, gammas, alpha))
    agg = aggregate(examples, [t for _, t in rows], k, c["gammas"], c["bins"])
    out = {"name": c["name"], "mode": c["mode"], "classes": k, "gammas": [repr(x) for x in c["gammas"]],
           "alpha": [repr(a) for a in alpha] if isinstance(alpha, list) else repr(alpha), "bins": c["bins"],
           "rows": [{"logits": [repr(v) for v in z], "label": t} for z, t in c["rows"]],
           "gen_rows": c["gen_rows"], "gen": c["gen"], "expect": format_tree(agg)}
    return out


def write_reference():
    mp.dps = DPS
    t0 = time.time()
    out = [evaluate(c) for c in cases()]
    doc = {"generated_by": "tests/reference/gen_sweep.py", "mp_dps": DPS, "cases": out}
    with open(OUT_PATH, "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")
    size = os.path.getsize(OUT_PATH)
    print(f"{len(out)} datasets, {sum(c['expect']['rows'] for c in out)} rows, "
          f"{size} bytes -> {OUT_PATH} ({time.time() - t0:.1f} s)")
    assert size < 500_000


# --------------------------------------------------------------------------
# numpy float64: the same sweep, for timing
# --------------------------------------------------------------------------

def splitmix64(np, x):
    """splitmix64 of a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def bench_data(np, rows, k):
    """The data of benches/data_sweep.rs: z = (h(i) % 2^16) / 2^12 - 8 for
    logit i (row-major), label = h(2^40 + row) % K, and the label's logit
    raised by 2 unless (h >> 32) % 4 == 0."""
    i = np.arange(rows * k, dtype=np.uint64)
    z = ((splitmix64(np, i) % np.uint64(65536)).astype(np.float32) / np.float32(4096) - np.float32(8)).reshape(rows, k)
    h = splitmix64(np, np.arange(rows, dtype=np.uint64) + np.uint64(1 << 40))
    labels = (h % np.uint64(k)).astype(np.int64)
    boost = ((h >> np.uint64(32)) % np.uint64(4)) != 0
    z[np.arange(rows)[boost], labels[boost]] += np.float32(2)
    return z, labels


def bench(repeat=7):
    import numpy as np
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs visible; median of {repeat} runs")
    for rows, k in [(1_000_000, 10), (100_000, 1_000)]:
        z, labels = bench_data(np, rows, k)
        for mode in ("softmax", "sigmoid"):
            for guidance in (True, False):
                times = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    r = sweep_numpy(np, z, labels, mode=mode, guidance=guidance)
                    times.append(time.perf_counter() - t0)
                times.sort()
                what = "all outputs" if guidance else "issue-5 subset"
                print(f"{mode:8s} {rows}x{k} {what:14s}: median {times[len(times) // 2] * 1e3:8.1f} ms "
                      f"(min {times[0] * 1e3:.1f}); mean FL(γ=2) = {r['sweep'][3]['mean_focal_loss']!r}")


if __name__ == "__main__":
    if "--bench" in sys.argv:
        bench()
    else:
        write_reference()
