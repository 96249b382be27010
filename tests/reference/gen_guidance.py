#!/usr/bin/env python3
"""Reference data for the sweep's guidance on α and γ (issue 18;
src/data/sweep/guidance.rs, gradient.rs, loss_cdf.rs).

What it computes, at 60 significant digits (``mp.dps = 60``), per dataset
(rows of K logits and labels, written out in full) and configuration:

alpha_suggestions   from the class counts n_c (n = sum, K every class):
                    balanced n/(K n_c); inverse_sqrt n_c^-1/2 scaled to mean
                    1 over the classes with rows; effective_number per
                    beta in (0.9, 0.99, 0.999, 0.9999): (1-b)/(1-b^n_c)
                    scaled to sum K. A class without rows: 0.
balancing_alpha[g]  alpha_c proportional to 1/U_c, mean 1 over the classes
                    with rows; U_c the class's focal loss with alpha = 1:
                    softmax sum over its rows of (1-p_t)^g CE; sigmoid sum
                    over its rows of the positive's (1-p)^g BCE (negatives
                    weigh 1 - alpha = 0).
easy_gradient_share[g]
                    sum of |dFL/dz| over easy / over all: softmax the
                    target logit, |dFL/dz_t| = a m (1-p_t) + g p_t FL, easy
                    p_t >= 1/2; sigmoid every logit, u = +-z, p = sigmoid(u),
                    |dFL/du| = w m (1-p) + g p FL_logit, easy p >= 1/2, and
                    the positives (label's logit) and negatives apart.
                    Each magnitude clamped to f64's largest (as the crate).
loss_cdf[g]         the exact normalised loss CDF: the sum of the
                    k = floor(i N / 100) smallest per-row focal losses
                    (clamped as the crate clamps them) over the total,
                    i = 0..100 (0 for a zero total).

The per-example formulas are gen_sweep.py's (imported): exact logit
differences, 1 - p never formed by subtraction. The derivative is checked
against a numerical derivative of the 60-digit loss on a few rows.

Output: tests/reference/guidance_cases.json. Regenerate:
``/work/venv-ref/bin/python tests/reference/gen_guidance.py`` (~1 min).
"""

import json
import os
import sys

from mpmath import mp, mpf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_sweep as sw  # noqa: E402

DPS = 60
HERE = os.path.dirname(os.path.abspath(__file__))
OUT_PATH = os.path.join(HERE, "guidance_cases.json")
BETAS = ["0.9", "0.99", "0.999", "0.9999"]


def clamp(x):
    return x if x <= sw.F64_MAX else sw.F64_MAX


def softmax_row(z, t, gammas, a):
    zm = [mpf(v) for v in z]
    j = sw.first_argmax(z)
    e = [mp.exp(mp.fsub(zi, zm[j], exact=True)) for zi in zm]
    S = mp.fsum(e[i] for i in range(len(z)) if i != j)
    L = sw.log1p_careful(S)
    ce = mp.fsub(zm[j], zm[t], exact=True) + L
    eL = mp.exp(-L)
    om = mp.fsum(e[i] for i in range(len(z)) if i != t) * eL
    pt = e[t] * eL
    out = {"pt": pt, "fl": [], "grad": [], "u": []}
    for g in gammas:
        m = sw.powg(om, g)
        fl = a * m * ce
        out["fl"].append(clamp(fl))
        out["grad"].append(clamp(a * m * om + g * pt * clamp(fl)))
        out["u"].append(m * ce)
    return out


def sigmoid_row(z, t, gammas, alpha):
    out = {"pt": sw.sigmoid(mpf(z[t])), "fl": [], "logits": [], "u": []}
    per_g = [[] for _ in gammas]
    for i, zi in enumerate(z):
        u = mpf(zi) if i == t else -mpf(zi)
        a = mpf(alpha[i] if isinstance(alpha, list) else alpha)
        w = a if i == t else 1 - a
        bce = sw.softplus(-u)
        om = sw.sigmoid(-u)
        p = sw.sigmoid(u)
        grads = []
        for gi, g in enumerate(gammas):
            m = sw.powg(om, g)
            x = w * m * bce
            per_g[gi].append(x)
            grads.append(clamp(w * m * om + g * p * clamp(x)))
            if i == t:
                out["u"].append(m * bce)
        out["logits"].append({"positive": i == t, "easy": u >= 0, "grad": grads})
    out["fl"] = [clamp(mp.fsum(v)) for v in per_g]
    return out


def check_derivative(z, t, g, a):
    """|dFL/dz_t| (softmax) against a central difference at 60 digits."""
    def fl(zt):
        zz = [mpf(v) for v in z]
        zz[t] = zt
        lse = mp.log(mp.fsum(mp.exp(v) for v in zz))
        p = mp.exp(zz[t] - lse)
        return a * (1 - p) ** g * (lse - zz[t])
    h = mpf(10) ** -20
    num = abs((fl(mpf(z[t]) + h) - fl(mpf(z[t]) - h)) / (2 * h))
    got = softmax_row(z, t, [mpf(g)], mpf(a))["grad"][0]
    assert abs(num - got) <= mpf(10) ** -30 * max(got, 1), (z, t, g, num, got)


def share(part, total):
    return part / total if total != 0 else mpf(0)


def scaled(w, total):
    s = mp.fsum(w)
    return [x / s * total for x in w]


def suggestions(counts):
    k = len(counts)
    n = mpf(sum(counts))
    present = sum(1 for c in counts if c > 0)
    out = [{"method": "balanced", "alpha": [n / (k * c) if c else mpf(0) for c in counts]},
           {"method": "inverse_sqrt",
            "alpha": scaled([1 / mp.sqrt(c) if c else mpf(0) for c in counts], present)}]
    for b in BETAS:
        beta = mpf(float(b))  # the f64 the crate uses
        w = [(1 - beta) / (1 - beta ** c) if c else mpf(0) for c in counts]
        out.append({"method": "effective_number", "beta": float(b), "alpha": scaled(w, k)})
    return out


def balancing(u):
    """u[c]: None (no rows) or the class's loss with alpha = 1."""
    r = [1 / v if v is not None and v > 0 else mpf(0) for v in u]
    s = mp.fsum(r)
    with_rows = sum(1 for v in u if v is not None)
    return [x / s * with_rows if s else mpf(0) for x in r]


def cdf(values):
    total = mp.fsum(values)
    ordered = sorted(values)
    n = len(values)
    prefix = [mpf(0)]
    for v in ordered:
        prefix.append(prefix[-1] + v)
    return [share(prefix[i * n // 100], total) for i in range(101)]


def evaluate(c):
    k, mode, gammas = c["classes"], c["mode"], [mpf(x) for x in c["gammas"]]
    alpha = c["alpha"]
    rows = list(c["rows"]) + (sw.generate(c["gen_rows"], k, c["gen"]) if c["gen"] else [])
    labels = [t for _, t in rows]
    counts = [labels.count(cl) for cl in range(k)]
    ex = []
    for z, t in rows:
        if mode == "softmax":
            ex.append(softmax_row(z, t, gammas, mpf(alpha[t] if isinstance(alpha, list) else alpha)))
        else:
            ex.append(sigmoid_row(z, t, gammas, alpha))
    sweep = []
    for gi, g in enumerate(c["gammas"]):
        u = [mp.fsum(ex[i]["u"][gi] for i in range(len(rows)) if labels[i] == cl) if counts[cl] else None
             for cl in range(k)]
        row = {"gamma": g, "balancing_alpha": balancing(u),
               "loss_cdf": cdf([e["fl"][gi] for e in ex])}
        if mode == "softmax":
            all_ = mp.fsum(e["grad"][gi] for e in ex)
            easy = mp.fsum(e["grad"][gi] for e in ex if e["pt"] >= mpf(1) / 2)
            row["easy_gradient_share"] = share(easy, all_)
        else:
            sums = {}
            for pos in (True, False):
                for only_easy in (False, True):
                    sums[(pos, only_easy)] = mp.fsum(
                        lg["grad"][gi] for e in ex for lg in e["logits"]
                        if lg["positive"] == pos and (lg["easy"] or not only_easy))
            row["easy_gradient_share"] = share(sums[(True, True)] + sums[(False, True)],
                                               sums[(True, False)] + sums[(False, False)])
            row["easy_gradient_share_positive"] = share(sums[(True, True)], sums[(True, False)])
            row["easy_gradient_share_negative"] = share(sums[(False, True)], sums[(False, False)])
        sweep.append(row)
    return {"name": c["name"], "mode": mode, "classes": k, "gammas": [repr(x) for x in c["gammas"]],
            "alpha": [repr(a) for a in alpha] if isinstance(alpha, list) else repr(alpha),
            "rows": [{"logits": [repr(float(v)) for v in z], "label": t} for z, t in rows],
            "expect": expect(counts, sweep)}


def expect(counts, sweep):
    tree = sw.format_tree({"counts": counts, "alpha_suggestions": suggestions(counts), "sweep": sweep})
    for s, m in zip(tree["alpha_suggestions"], suggestions(counts)):
        s["method"] = m["method"]  # a name, not a number
    return tree


def case(name, mode, k, rows=0, gen=None, explicit=(), gammas=(0.0, 0.5, 1.0, 2.0, 5.0), alpha=0.25):
    return {"name": name, "mode": mode, "classes": k, "gen_rows": rows, "gen": gen,
            "rows": [(list(z), t) for z, t in explicit], "gammas": list(gammas), "alpha": alpha}


def cases():
    out = []
    seeds = iter(range(2000, 3000))
    for mode in ("softmax", "sigmoid"):
        out.append(case(f"{mode}-10", mode, 10, 600, sw.g(next(seeds))))
        out.append(case(f"{mode}-5-confident", mode, 5, 400, sw.g(next(seeds), 22, 12, 95, 40.0)))
        out.append(case(f"{mode}-20-rowpath", mode, 20, 300, sw.g(next(seeds), 16, 13, 90, 4.0)))
        out.append(case(f"{mode}-perclass", mode, 6, 333, sw.g(next(seeds), 16, 11, 70, 3.0),
                        alpha=sw.per_class_alpha(6, 7)))
        out.append(case(f"{mode}-gammas", mode, 4, 257, sw.g(next(seeds), 16, 10, 60, 0.0),
                        gammas=(0.0, 0.1, 0.25, 1.5, 3.0, 7.5)))
        # Imbalanced: class 3 of 4 never a label (the generator's label is
        # drawn below 3 by using K = 3 rows padded with a very low logit).
        rows = [(z + [-9.0], t) for z, t in sw.generate(500, 3, sw.g(next(seeds), 16, 12, 50, 2.0))]
        rows = [(z, t) for i, (z, t) in enumerate(rows) if t != 1 or i % 7 == 0]
        out.append(case(f"{mode}-imbalanced-empty-class", mode, 4, 0, None, rows))
        out.append(case(f"{mode}-one-class", mode, 3, 0, None,
                        [(z, 0) for z, _ in sw.generate(50, 3, sw.g(next(seeds)))]))
        ext = sw.EXTREME_SOFTMAX if mode == "softmax" else sw.EXTREME_SIGMOID
        # The finite extremes (no saturation), among ordinary rows.
        ext = [(z + [0.0] * (3 - len(z)), t) for z, t in ext
               if len(z) <= 3 and max(abs(v) for v in z) < 1e4]
        out.append(case(f"{mode}-extremes-mixed", mode, 3, 200, sw.g(next(seeds)), ext))
    return out


def main():
    mp.dps = DPS
    for z, t, g, a in [([-1.0, 3.0, -0.5], 1, 2, 0.25), ([0.5, -2.0, 1.0, 0.0], 3, 0.5, 0.75),
                       ([4.0, -4.0], 1, 5, 1.0)]:
        check_derivative(z, t, g, a)
    out = [evaluate(c) for c in cases()]
    with open(OUT_PATH, "w") as f:
        json.dump({"generated_by": "tests/reference/gen_guidance.py", "mp_dps": DPS, "cases": out}, f, indent=0)
        f.write("\n")
    print(f"{len(out)} cases -> {OUT_PATH}")


if __name__ == "__main__":
    main()
