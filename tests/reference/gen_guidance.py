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

loss_cdf_positives[g], loss_cdf_negatives[g]   (sigmoid, guidance_sides_cases.json)
                    the same exact CDF over each side's samples: a row's
                    positive sample the focal loss of its positive logits
                    (the label's; per-class targets: target >= 1/2, summed),
                    its negative sample the sum of the others' (a row
                    without such logits has no sample: a background row no
                    positive, a row of one class or of all targets >= 1/2
                    no negative); each term w (1-p)^g BCE with the row's
                    weights, soft targets as src/data/sweep/targets.rs
                    (BCE = -y ln s - (1-y) ln s', 1-p_t = y s' + (1-y) s,
                    w = alpha y + (1-alpha)(1-y)); each sample clamped to
                    f64's largest. Rows of class indices and of per-class
                    targets (background, multi-label, soft, all positive).

Output: tests/reference/guidance_cases.json and guidance_sides_cases.json. Regenerate:
``/work/venv-ref/bin/python tests/reference/gen_guidance.py`` (~1 min; ``--sides``:
only guidance_sides_cases.json).
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
SIDES_PATH = os.path.join(HERE, "guidance_sides_cases.json")
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


def side_term(z, y, g, a):
    """One logit's focal term with target y (0/1 or soft), exact."""
    z, y = mpf(z), mpf(y)
    s, sb = sw.sigmoid(z), sw.sigmoid(-z)
    ln_s, ln_sb = -sw.softplus(-z), -sw.softplus(z)
    bce = (-y * ln_s if y > 0 else 0) + (-(1 - y) * ln_sb if y < 1 else 0)
    om = y * sb + (1 - y) * s
    w = a * y + (1 - a) * (1 - y)
    return w * sw.powg(om, g) * bce


def sides_evaluate(c):
    """A case of per-side CDFs: rows of (logits, targets)."""
    k, gammas, alpha = c["classes"], c["gammas"], c["alpha"]
    a = [mpf(alpha[i]) if isinstance(alpha, list) else mpf(alpha) for i in range(k)]
    sweep = []
    for g in gammas:
        pos, neg = [], []
        for z, y in c["rows"]:
            terms = [side_term(z[i], y[i], mpf(g), a[i]) for i in range(k)]
            p = [x for x, yi in zip(terms, y) if yi >= 0.5]
            n = [x for x, yi in zip(terms, y) if yi < 0.5]
            if p:
                pos.append(clamp(mp.fsum(p)))
            if n:
                neg.append(clamp(mp.fsum(n)))
        sweep.append({"gamma": g, "loss_cdf_positives": cdf(pos), "loss_cdf_negatives": cdf(neg)})
    out = {"name": c["name"], "classes": k, "targets": c["targets"], "gammas": [repr(x) for x in gammas],
           "alpha": [repr(x) for x in alpha] if isinstance(alpha, list) else repr(alpha),
           "rows": [{"logits": [repr(float(v)) for v in z]} for z, _ in c["rows"]],
           "expect": sw.format_tree({"sweep": sweep})}
    for r, (_, y) in zip(out["rows"], c["rows"]):
        if c["targets"]:
            r["targets"] = [repr(float(v)) for v in y]
        else:
            r["label"] = y.index(1.0)
    return out


def sides_cases():
    gammas = [0.0, 2.0, 5.0]
    seeds = iter(range(4000, 5000))

    def indices(name, k, rows, gen=None, explicit=(), alpha=0.25):
        rows = list(explicit) + (sw.generate(rows, k, gen) if gen else [])
        one_hot = [(z, [1.0 if i == t else 0.0 for i in range(k)]) for z, t in rows]
        return {"name": name, "classes": k, "targets": False, "gammas": gammas, "alpha": alpha, "rows": one_hot}

    out = [
        indices("sigmoid-10", 10, 150, sw.g(next(seeds))),
        indices("sigmoid-20-rowpath", 20, 70, sw.g(next(seeds), 16, 13, 90, 4.0)),
        indices("sigmoid-perclass", 6, 160, sw.g(next(seeds), 16, 11, 70, 3.0), alpha=sw.per_class_alpha(6, 9)),
        indices("sigmoid-one-class", 1, 90, sw.g(next(seeds))),
    ]
    ext = [(z + [0.0] * (3 - len(z)), t) for z, t in sw.EXTREME_SIGMOID
           if len(z) <= 3 and max(abs(v) for v in z) < 1e4]
    out.append(indices("sigmoid-extremes-mixed", 3, 100, sw.g(next(seeds)), ext))
    # Per-class targets: one-hot, background (every target 0), multi-label,
    # soft (on both sides of 1/2, and 1/2 itself: a positive), all positive.
    k = 5
    rows = []
    for i, (z, t) in enumerate(sw.generate(200, k, sw.g(next(seeds), 16, 11, 60, 2.0))):
        y = [0.0] * k
        kind = i % 6
        if kind == 0 or kind == 1:
            y[t] = 1.0
        elif kind == 2:
            pass  # background
        elif kind == 3:
            y[t], y[(t + 2) % k] = 1.0, 1.0
        elif kind == 4:
            y[t], y[(t + 1) % k], y[(t + 3) % k] = 0.75, 0.5, 0.25
        elif i % 12 == 5:
            y = [1.0] * k
        else:
            y[t], y[(t + 4) % k] = 0.875, 0.125
        rows.append((z, y))
    for alpha in (0.25, sw.per_class_alpha(k, 11)):
        name = "targets-background-multilabel-soft" + ("-perclass" if isinstance(alpha, list) else "")
        out.append({"name": name, "classes": k, "targets": True, "gammas": gammas, "alpha": alpha, "rows": rows})
    return out


def main():
    mp.dps = DPS
    for z, t, g, a in [([-1.0, 3.0, -0.5], 1, 2, 0.25), ([0.5, -2.0, 1.0, 0.0], 3, 0.5, 0.75),
                       ([4.0, -4.0], 1, 5, 1.0)]:
        check_derivative(z, t, g, a)
    sides = [sides_evaluate(c) for c in sides_cases()]
    with open(SIDES_PATH, "w") as f:
        json.dump({"generated_by": "tests/reference/gen_guidance.py", "mp_dps": DPS, "cases": sides}, f)
        f.write("\n")
    print(f"{len(sides)} cases -> {SIDES_PATH}")
    if "--sides" in sys.argv:
        return
    out = [evaluate(c) for c in cases()]
    with open(OUT_PATH, "w") as f:
        json.dump({"generated_by": "tests/reference/gen_guidance.py", "mp_dps": DPS, "cases": out}, f, indent=0)
        f.write("\n")
    print(f"{len(out)} cases -> {OUT_PATH}")


if __name__ == "__main__":
    main()
