#!/usr/bin/env python3
"""60-digit reference values for every target form (issue 15).

What it computes
----------------
For each case (logits z, a target, label smoothing eps, gamma, alpha as a
scalar, a list of K values or "none"), at mp.dps = 60:

softmax (Keras CategoricalFocalCrossentropy), target distribution q:
    q_i      = r_i (1 - eps) + eps / K          (r: one-hot, or probabilities)
    p_i      = softmax(z)_i, log p_i = z_i - lse(z), 1 - p_i = sum_{j != i} p_j
    w_i      = alpha_i q_i                       (alpha "none": q_i)
    m_i      = (1 - p_i)^gamma                   (0^0 = 1)
    term_i   = -w_i m_i log p_i,  FL = sum term_i,  CE = -sum q_i log p_i
    h_i      = m_i (1 + gamma p_i (-log p_i) / (1 - p_i))
    dFL/dz_k = p_k sum_{i != k} w_i h_i  -  w_k h_k (1 - p_k)
    dCE/dz_k = p_k sum_{i != k} q_i      -  q_k (1 - p_k)

sigmoid (torchvision sigmoid_focal_loss / Keras BinaryFocalCrossentropy with
class balancing), per class:
    y        = r (1 - eps) + eps / 2,  ybar = 1 - y (exact here)
    s = sigmoid(z), sbar = sigmoid(-z)
    BCE      = y softplus(-z) + ybar softplus(z)
    1 - p_t  = y sbar + ybar s
    alpha_t  = alpha y + (1 - alpha) ybar        ("none": 1)
    term     = alpha_t (1 - p_t)^gamma BCE
    dFL/dz   = alpha_t [gamma (1 - p_t)^(gamma-1) (1 - 2y) s sbar BCE + (1 - p_t)^gamma (s - y)]
    dCE/dz   = s - y

Gradients are differences of terms of both signs where p ~ y; the generator
writes, next to each gradient component, the sum of the magnitudes of its
terms ("scale"): the Rust test accepts 1e-12 relative, or 1e-13 of that
scale. The derivative formulas are checked against mp.diff of FL as a
function of each z_k for the small cases (1e-14 of the scale: numerical differentiation limits it).

The headline class (whose p_t, 1 - p_t, modulating factor and alpha_t the
result reports) is the first with the largest target, ties broken by the
largest term.

Output: tests/reference/targets_cases.json. Regenerate from the repository
root with `python3 tests/reference/gen_targets.py` (Python 3 and mpmath).
"""

import json
import os

from mpmath import mp

mp.dps = 60
HERE = os.path.dirname(os.path.abspath(__file__))
DIFF_CHECKS = [0]


def M(x):
    return mp.mpf(float(x))


def powg(x, g):
    if g == 0:
        return mp.mpf(1)
    return mp.exp(g * mp.log(x))


def softplus(x):
    # log(1 + e^x) without losing e^x when it is tiny.
    if x > 0:
        return x + mp.log1p(mp.exp(-x))
    return mp.log1p(mp.exp(x))


def raw_targets(target, k):
    if target == "none":
        return [mp.mpf(0)] * k
    if "class" in target:
        return [mp.mpf(1) if i == target["class"] else mp.mpf(0) for i in range(k)]
    if "classes" in target:
        return [mp.mpf(1) if i in target["classes"] else mp.mpf(0) for i in range(k)]
    return [M(x) for x in target["probs"]]


def alpha_of(alpha, i):
    if alpha == "none":
        return None
    if isinstance(alpha, list):
        return M(alpha[i])
    return M(alpha)


def softmax_eval(z, r, eps, g, alpha):
    k = len(z)
    zmax = max(z)
    jmax = z.index(zmax)
    e = [mp.exp(zi - zmax) for zi in z]
    s_others = mp.fsum(e[i] for i in range(k) if i != jmax)
    denom = 1 + s_others
    p = [ei / denom for ei in e]
    # (z_i - zmax) first: z_max - lse would lose log1p(S) below 1e-60.
    logp = [(zi - zmax) - mp.log1p(s_others) for zi in z]
    one_minus = []
    for i in range(k):
        if i == jmax:
            one_minus.append(s_others / denom)
        else:
            one_minus.append(1 - p[i])
    q = [ri * (1 - eps) + eps / k for ri in r]
    w = [(alpha_of(alpha, i) if alpha != "none" else 1) * q[i] for i in range(k)]
    m = [powg(one_minus[i], g) for i in range(k)]
    term = [-w[i] * m[i] * logp[i] for i in range(k)]
    ce = -mp.fsum(q[i] * logp[i] for i in range(k))
    h = [m[i] * (1 + g * p[i] * (-logp[i]) / one_minus[i]) if one_minus[i] != 0 else m[i] for i in range(k)]
    wh = [w[i] * h[i] for i in range(k)]
    wh_sum, q_sum = mp.fsum(wh), mp.fsum(q)
    grad, grad_scale, gce, gce_scale = [], [], [], []
    for i in range(k):
        a, b = p[i] * (wh_sum - wh[i]), wh[i] * one_minus[i]
        grad.append(a - b)
        grad_scale.append(abs(a) + abs(b))
        a, b = p[i] * (q_sum - q[i]), q[i] * one_minus[i]
        gce.append(a - b)
        gce_scale.append(abs(a) + abs(b))
    top = max(q)
    h_idx = max((i for i in range(k) if q[i] == top), key=lambda i: (term[i], -i))
    a_h = alpha_of(alpha, h_idx)
    return {
        "alpha_t": a_h if a_h is not None else mp.mpf(1),
        "p_t": p[h_idx],
        "one_minus_p_t": one_minus[h_idx],
        "modulating_factor": m[h_idx],
        "cross_entropy": ce,
        "focal_loss": mp.fsum(term),
        "probabilities": p,
        "targets": q,
        "per_class_loss": term,
        "gradient": grad,
        "grad_ce": gce,
    }, {"gradient": grad_scale, "grad_ce": gce_scale}, h_idx


def sigmoid_eval(z, r, eps, g, alpha):
    k = len(z)
    out = {key: [] for key in ["probabilities", "targets", "per_class_loss", "gradient", "grad_ce"]}
    scale = {"gradient": [], "grad_ce": []}
    rows = []
    for i in range(k):
        y = r[i] * (1 - eps) + eps / 2
        ybar = 1 - y
        s, sbar = 1 / (1 + mp.exp(-z[i])), 1 / (1 + mp.exp(z[i]))
        bce = y * softplus(-z[i]) + ybar * softplus(z[i])
        om = y * sbar + ybar * s
        a = alpha_of(alpha, i)
        at = mp.mpf(1) if a is None else a * y + (1 - a) * ybar
        m = powg(om, g)
        term = at * m * bce
        pulled = g * powg(om, g - 1) * (1 - 2 * y) * s * sbar * bce if g != 0 else mp.mpf(0)
        grad = at * (pulled + m * (s * ybar - y * sbar))
        out["probabilities"].append(s)
        out["targets"].append(y)
        out["per_class_loss"].append(term)
        out["gradient"].append(grad)
        out["grad_ce"].append(s * ybar - y * sbar)
        scale["gradient"].append(at * (abs(pulled) + m * s * ybar + m * y * sbar))
        scale["grad_ce"].append(s * ybar + y * sbar)
        rows.append((at, 1 - om, om, m, bce))
    top = max(out["targets"])
    h_idx = max((i for i in range(k) if out["targets"][i] == top), key=lambda i: (out["per_class_loss"][i], -i))
    at, pt, om, m, _ = rows[h_idx]
    out.update(
        {
            "alpha_t": at,
            "p_t": pt,
            "one_minus_p_t": om,
            "modulating_factor": m,
            "cross_entropy": mp.fsum(row[4] for row in rows),
            "focal_loss": mp.fsum(out["per_class_loss"]),
        }
    )
    return out, scale, h_idx


def evaluate(mode, z, target, eps, g, alpha):
    r = raw_targets(target, len(z))
    f = softmax_eval if mode == "softmax" else sigmoid_eval
    return f(z, r, eps, g, alpha)


def diff_check(name, mode, z, target, eps, g, alpha, res, scale):
    """The analytic gradients against numerical derivatives of FL and CE."""
    for k in range(len(z)):
        def fl(x, key, k=k):
            zz = list(z)
            zz[k] = x
            with mp.workdps(90):
                v = evaluate(mode, zz, target, eps, g if key == "focal_loss" else 0, alpha if key == "focal_loss" else "none")
            return v[0][key] if key == "focal_loss" else v[0]["cross_entropy"]

        num = mp.diff(lambda x: fl(x, "focal_loss"), z[k])
        num_ce = mp.diff(lambda x: fl(x, "cross_entropy"), z[k])
        for got, want, sc, what in [
            (res["gradient"][k], num, scale["gradient"][k], "dFL"),
            (res["grad_ce"][k], num_ce, scale["grad_ce"][k], "dCE"),
        ]:
            if abs(got - want) > mp.mpf("1e-14") * max(sc, abs(want)):
                raise SystemExit("%s: %s/dz_%d analytic %s vs numeric %s" % (name, what, k, got, want))
        DIFF_CHECKS[0] += 1


def fmt(x):
    return "0" if x == 0 else mp.nstr(x, 25, min_fixed=1, max_fixed=0)


def gen_logits(k, a, b, m, scale, offset):
    return [float(((a * i + b) % m) / scale - offset) for i in range(k)]


CASES = []
NAMES = set()


def add(name, mode, logits, target, gamma, alpha, eps=0.0, gen=None, indices=None):
    assert name not in NAMES, name
    NAMES.add(name)
    z = [M(x) for x in logits]
    g = M(gamma)
    res, scale, _ = evaluate(mode, z, target, M(eps), g, alpha)
    if len(z) <= 6 and all(abs(x) <= 50 for x in z):
        diff_check(name, mode, z, target, M(eps), g, alpha, res, scale)
    pick = indices if indices is not None else range(len(z))
    expect = {}
    for key, val in res.items():
        expect[key] = [fmt(val[i]) for i in pick] if isinstance(val, list) else fmt(val)
    case = {"name": name, "mode": mode}
    if gen:
        case["logits_gen"] = gen
        case["indices"] = list(pick)
    else:
        case["logits"] = [repr(float(x)) for x in logits]
    if isinstance(target, dict) and "probs" in target:
        target = {"probs": [repr(float(x)) for x in target["probs"]]}
    case.update(
        {
            "target": target,
            "label_smoothing": repr(float(eps)),
            "gamma": repr(float(gamma)),
            "alpha": alpha if alpha == "none" else ([repr(float(a)) for a in alpha] if isinstance(alpha, list) else repr(float(alpha))),
            "expect": expect,
            "scale": {key: [fmt(v[i]) for i in pick] for key, v in scale.items()},
        }
    )
    CASES.append(case)


def build():
    prior = -4.59511985013459  # -log(99): RetinaNet's prior bias for pi = 0.01
    seed = [1.5, -0.8, 0.2]
    nine = [0.3, -1.2, 2.2, 0.0, -4.6, 1e-9, 5.5, -0.75, 3.25]
    extreme = [-800.0, 800.0, 1e-9, -1000.0, 1000.0]
    gammas = [0.0, 0.5, 2.0, 5.0]

    # Sigmoid: background, multi-label, soft, smoothed, alpha none.
    for g in gammas:
        add("sigmoid-background-prior-g%s" % g, "sigmoid", [prior] * 3, "none", g, 0.25)
        add("sigmoid-background-nine-g%s" % g, "sigmoid", nine, "none", g, 0.25)
        add("sigmoid-background-extreme-g%s" % g, "sigmoid", extreme, "none", g, 0.25)
        add("sigmoid-multilabel-nine-g%s" % g, "sigmoid", nine, {"classes": [1, 3, 6]}, g, 0.25)
        add("sigmoid-multilabel-extreme-g%s" % g, "sigmoid", extreme, {"classes": [1, 3]}, g, 0.25)
        add("sigmoid-soft-g%s" % g, "sigmoid", seed, {"probs": [0.3, 0.9, 0.55]}, g, 0.25)
        add("sigmoid-soft-extreme-g%s" % g, "sigmoid", extreme, {"probs": [0.0, 1.0, 0.5, 0.25, 0.999]}, g, 0.25)
        for eps in [0.1, 1e-10, 0.5]:
            add("sigmoid-class-smoothed-%s-g%s" % (eps, g), "sigmoid", seed, {"class": 1}, g, 0.25, eps)
            add("sigmoid-multilabel-smoothed-%s-g%s" % (eps, g), "sigmoid", extreme, {"classes": [1, 3]}, g, 0.25, eps)
            add("sigmoid-background-smoothed-%s-g%s" % (eps, g), "sigmoid", extreme, "none", g, 0.25, eps)
        add("sigmoid-alpha-none-g%s" % g, "sigmoid", nine, {"classes": [2, 4]}, g, "none")
        add("sigmoid-alpha-none-class-g%s" % g, "sigmoid", seed, {"class": 1}, g, "none")
        add("sigmoid-alpha-vector-soft-g%s" % g, "sigmoid", seed, {"probs": [0.3, 0.9, 0.55]}, g, [0.1, 0.5, 0.9], 0.2)
    # sigma ~ y: the gradient's inherent cancellation.
    sig = [0.0, 2.1972245773362196, -2.1972245773362196]  # sigma = 0.5, 0.9, 0.1
    add("sigmoid-soft-at-target", "sigmoid", sig, {"probs": [0.5, 0.9, 0.1]}, 2.0, 0.25)
    add("sigmoid-k1-none", "sigmoid", [0.7], "none", 2.0, 0.25)
    add("sigmoid-k1-soft", "sigmoid", [-1e-9], {"probs": [0.4]}, 0.5, 0.25, 0.1)

    # Softmax: distributions, smoothing, alpha none.
    for g in gammas:
        add("softmax-probs-seed-g%s" % g, "softmax", seed, {"probs": [0.2, 0.5, 0.3]}, g, 0.25)
        add("softmax-onehot-probs-g%s" % g, "softmax", seed, {"probs": [0.0, 1.0, 0.0]}, g, 0.25)
        add("softmax-probs-nine-g%s" % g, "softmax", nine,
            {"probs": [0.0, 0.125, 0.5, 0.0, 0.0, 0.125, 0.25, 0.0, 0.0]}, g, 0.25)
        add("softmax-probs-extreme-g%s" % g, "softmax", extreme, {"probs": [0.25, 0.5, 0.0, 0.0, 0.25]}, g, 0.25)
        for eps in [0.1, 1e-10, 0.5]:
            add("softmax-class-smoothed-%s-g%s" % (eps, g), "softmax", seed, {"class": 1}, g, 0.25, eps)
            add("softmax-confident-smoothed-%s-g%s" % (eps, g), "softmax", [0.0, 40.0], {"class": 1}, g, 0.25, eps)
            add("softmax-800-smoothed-%s-g%s" % (eps, g), "softmax", [0.0, 800.0, -1000.0], {"class": 1}, g, 0.25, eps)
            add("softmax-extreme-smoothed-%s-g%s" % (eps, g), "softmax", extreme, {"class": 3}, g, [0.5, 1.0, 2.0, 0.25, 4.0], eps)
        add("softmax-alpha-none-probs-g%s" % g, "softmax", seed, {"probs": [0.2, 0.5, 0.3]}, g, "none")
        add("softmax-alpha-vector-probs-g%s" % g, "softmax", nine,
            {"probs": [0.0, 0.125, 0.5, 0.0, 0.0, 0.125, 0.25, 0.0, 0.0]}, g, [0.5, 1.0, 2.0, 0.25, 4.0, 1.0, 0.75, 3.0, 0.1], 0.05)
    add("softmax-k1-probs", "softmax", [3.0], {"probs": [1.0]}, 2.0, 0.25, 0.3)
    # p_k ~ q_k: the gradient's inherent cancellation.
    add("softmax-probs-at-softmax", "softmax", [0.0, 0.6931471805599453, 1.0986122886681098],
        {"probs": [1 / 6, 1 / 3, 0.5]}, 2.0, 0.25)

    # K = 1000: sums over every class, arrays at a few indices.
    gen = dict(k=1000, a=7919, b=13, m=4096, scale=256.0, offset=8.0)
    z = gen_logits(**gen)
    idx = [0, 1, 2, 499, 500, 998, 999]
    j = max(range(1000), key=lambda i: z[i])
    idx = sorted(set(idx + [j, 17, 42]))
    add("sigmoid-background-k1000", "sigmoid", z, "none", 2.0, 0.25, gen=gen, indices=idx)
    add("sigmoid-multilabel-smoothed-k1000", "sigmoid", z, {"classes": [17, 42, j]}, 2.0, 0.25, 0.1, gen=gen, indices=idx)
    add("softmax-class-smoothed-k1000", "softmax", z, {"class": j}, 2.0, 0.25, 0.1, gen=gen, indices=idx)
    add("softmax-class-smoothed-wrong-k1000", "softmax", z, {"class": 17}, 0.5, "none", 1e-10, gen=gen, indices=idx)


def main():
    build()
    out = {"generated_by": "tests/reference/gen_targets.py", "mp_dps": mp.dps, "cases": CASES}
    path = os.path.join(HERE, "targets_cases.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("%d cases, %d derivative checks -> %s" % (len(CASES), DIFF_CHECKS[0], path))


if __name__ == "__main__":
    main()
