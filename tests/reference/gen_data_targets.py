#!/usr/bin/env python3
"""Reference data for `focal-tui data` with per-class targets, --background,
--probs and --alpha none (issue 17).

Writes small dumps into tests/data/targets/ (numpy's own np.save) and, for
each case, the report's aggregates at 60 digits (mpmath) into
tests/reference/data_targets_cases.json:

    rows, background, accuracy, easy_fraction, mean_cross_entropy,
    mean_focal_loss per gamma, per_class_counts

Per row, independently of the Rust code (README "Per-class targets"):

sigmoid   class c, target y, s = sigmoid(z) (or the probability p):
          BCE = -y ln s - (1 - y) ln(1 - s), 1 - p_t = y (1 - s) + (1 - y) s,
          w = alpha y + (1 - alpha)(1 - y) (1 with alpha off),
          term = w (1 - p_t)^g BCE; CE and FL are the sums over the classes.
softmax   target distribution q, p = softmax(z) (or the probabilities as
          given): term_c = alpha q_c (1 - p_c)^g (-ln p_c), CE = -sum q_c ln p_c.
headline  the first class with the largest target, among those the one
          with the largest 1 - p_t; its p_t is the row's p_t (easy: >= 1/2).
right     the logits' first argmax has the largest target; a sigmoid row
          whose targets are all 0 (background) is right when it is easy.

The text cases write the same arrays as text (tests/data/targets/*.txt, .csv,
.tsv: float64 repr, which parses back to the same values; the labels as
whole numbers, or K targets a line): the same numbers, read by the text
reader with --probs, --background and per-class targets.

Also: torchvision.ops.sigmoid_focal_loss in float64 (reduction "mean" and
"sum") on the multi-label batch, for `data --profile torchvision`.

Run: /work/venv-ref/bin/python tests/reference/gen_data_targets.py
"""
import json
import os

import mpmath as mp
import numpy as np

mp.mp.dps = 60
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "targets")
GAMMAS = [0, 0.5, 1, 2, 5]


def sigmoid_terms(x, y, alpha, probs):
    """Per class: (q for CE, w, p_t, 1 - p_t, BCE)."""
    out = []
    for c, (xv, yv) in enumerate(zip(x, y)):
        xv, yv = mp.mpf(float(xv)), mp.mpf(float(yv))
        if probs:
            s, sb = xv, 1 - xv
            ln_s = mp.log(s) if s > 0 else None
            ln_sb = mp.log(sb) if sb > 0 else None
        else:
            # sigmoid(-z) formed directly: 1 - sigmoid(1000) is below 60 digits.
            s, sb = 1 / (1 + mp.exp(-xv)), 1 / (1 + mp.exp(xv))
            ln_s, ln_sb = -mp.log1p(mp.exp(-xv)), -mp.log1p(mp.exp(xv))
        bce = (-yv * ln_s if yv > 0 else 0) + (-(1 - yv) * ln_sb if yv < 1 else 0)
        pt = yv * s + (1 - yv) * sb
        om = yv * sb + (1 - yv) * s
        a = alpha[c] if alpha is not None else None
        w = 1 if a is None else a * yv + (1 - a) * (1 - yv)
        out.append((mp.mpf(1), w, pt, om, bce))
    return out


def softmax_terms(x, q, alpha, probs):
    xs = [mp.mpf(float(v)) for v in x]
    if probs:
        p = xs
    else:
        m = max(xs)
        lse = m + mp.log(mp.fsum(mp.exp(v - m) for v in xs))
        p = [mp.exp(v - lse) for v in xs]
    out = []
    for c, qv in enumerate(q):
        qv = mp.mpf(float(qv))
        if qv == 0:
            out.append((mp.mpf(0), mp.mpf(0), p[c], 1 - p[c], mp.mpf(0)))
            continue
        a = 1 if alpha is None else alpha[c]
        out.append((qv, a * qv, p[c], 1 - p[c], -mp.log(p[c])))
    return out


def row(mode, x, y, alpha, probs):
    terms = (sigmoid_terms if mode == "sigmoid" else softmax_terms)(x, y, alpha, probs)
    ce = mp.fsum(q * b for q, _, _, _, b in terms if q > 0)
    fl = [mp.fsum(w * (om ** g if g else 1) * b for q, w, _, om, b in terms if q > 0) for g in GAMMAS]
    top = max(float(v) for v in y)
    h = None
    for c, v in enumerate(y):
        if float(v) == top and (h is None or terms[c][3] > terms[h][3]):
            h = c
    pt = terms[h][2]
    background = mode == "sigmoid" and top == 0
    right = pt >= 0.5 if background else float(y[int(np.argmax(x))]) == top
    return ce, fl, pt, right, (None if background else h)


def case(name, mode, logits, targets, args, alpha=0.25, probs=False, axis=1, extra=None, labels=False):
    k = logits.shape[axis]
    x = np.moveaxis(logits, axis, -1).reshape(-1, k)
    y = np.moveaxis(targets, axis, -1).reshape(-1, k)
    al = None if alpha is None else [mp.mpf(alpha)] * k
    ces, fls, easy, right, counts, background = [], [], 0, 0, [0] * k, 0
    for xi, yi in zip(x, y):
        ce, fl, pt, ok, h = row(mode, xi, yi, al, probs)
        ces.append(ce)
        fls.append(fl)
        easy += int(pt >= 0.5)
        right += int(ok)
        if h is None:
            background += 1
        else:
            counts[h] += 1
    n = len(x)
    out = {
        "name": name,
        "args": args,
        "rows": n,
        # Class-index rows (labels) have no background group.
        "background": background if mode == "sigmoid" and not labels else None,
        "accuracy": mp.nstr(mp.mpf(right) / n, 20),
        "easy_fraction": mp.nstr(mp.mpf(easy) / n, 20),
        "mean_cross_entropy": mp.nstr(mp.fsum(ces) / n, 20),
        "mean_focal_loss": [mp.nstr(mp.fsum(f[g] for f in fls) / n, 20) for g in range(len(GAMMAS))],
        "per_class_counts": counts,
    }
    out.update(extra or {})
    return out


def one_hot(labels, k, background=None):
    y = np.zeros(labels.shape + (k,))
    for idx, t in np.ndenumerate(labels):
        if t != background:
            y[idx + (int(t),)] = 1
    return y


def torchvision_losses(z, y, alpha, gammas):
    import torch
    from torchvision.ops import sigmoid_focal_loss

    zt, yt = torch.tensor(z, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    a = -1 if alpha is None else alpha
    return {
        "torchvision_mean": [float(sigmoid_focal_loss(zt, yt, alpha=a, gamma=g, reduction="mean")) for g in gammas],
        "torchvision_sum": [float(sigmoid_focal_loss(zt, yt, alpha=a, gamma=g, reduction="sum")) for g in gammas],
    }


def main():
    os.makedirs(DATA, exist_ok=True)
    rng = np.random.default_rng(1517)
    cases = []

    def save(name, array):
        np.save(os.path.join(DATA, name), array)
        return "targets/" + name

    # Multi-label [N, K]: float32 logits, 0/1 targets as float32 and as int8; some rows all 0.
    ml = (rng.normal(size=(40, 6)) * 3).astype(np.float32)
    mly = (rng.random((40, 6)) < 0.3).astype(np.float32)
    mly[:6] = 0
    z, y, yi = save("ml_logits.npy", ml), save("ml_targets.npy", mly), save("ml_targets_i1.npy", mly.astype(np.int8))
    torch_ref = torchvision_losses(ml.astype(np.float64), mly, 0.25, GAMMAS)
    cases.append(case("multi-label sigmoid", "sigmoid", ml, mly, ["--logits", z, "--labels", y, "--sigmoid"],
                      extra=torch_ref))
    cases.append(case("multi-label int8 targets", "sigmoid", ml, mly, ["--logits", z, "--labels", yi, "--sigmoid"]))
    torch_none = torchvision_losses(ml.astype(np.float64), mly, None, GAMMAS)
    cases.append(case("multi-label alpha none", "sigmoid", ml, mly,
                      ["--logits", z, "--labels", y, "--sigmoid", "--alpha", "none"], alpha=None, extra=torch_none))

    # Soft targets in [0, 1] (exact 0, 1, 1/2 among them), float64, extreme logits.
    soft = rng.normal(size=(30, 5)) * 4
    soft[0] = [800, -800, 1e-9, -1e-9, 0]
    soft[1] = [-1000, 1000, 30, -30, 700]
    softy = rng.random((30, 5))
    softy[rng.random((30, 5)) < 0.2] = 0
    softy[rng.random((30, 5)) < 0.1] = 1
    softy[2] = 0.5
    softy[0] = [1, 0, 0.5, 0.25, 1]
    z, y = save("soft_logits.npy", soft), save("soft_targets.npy", softy)
    cases.append(case("soft sigmoid", "sigmoid", soft, softy, ["--logits", z, "--labels", y, "--sigmoid"]))
    cases.append(case("soft sigmoid alpha -1", "sigmoid", soft, softy,
                      ["--logits", z, "--labels", y, "--sigmoid", "--alpha", "-1"], alpha=None))

    # Softmax target distributions: soft, label-smoothed (eps = 0.1) and one-hot rows.
    dz = rng.normal(size=(30, 4)) * 3
    dz[0] = [900, -900, 0, 1e-9]
    dq = rng.random((30, 4)) ** 3
    dq /= dq.sum(axis=1, keepdims=True)
    labels = rng.integers(0, 4, size=30)
    dq[10:20] = one_hot(labels[10:20], 4) * 0.9 + 0.1 / 4
    dq[20:] = one_hot(labels[20:], 4)
    z, y = save("dist_logits.npy", dz), save("dist_targets.npy", dq)
    cases.append(case("softmax distributions", "softmax", dz, dq, ["--logits", z, "--labels", y]))
    cases.append(case("softmax distributions alpha none", "softmax", dz, dq,
                      ["--logits", z, "--labels", y, "--alpha", "none"], alpha=None))

    # Detection [B, A, K] with a background label K (mmdet), class axis last.
    det = (rng.normal(size=(3, 8, 5)) * 2 - 2).astype(np.float32)
    dety = rng.integers(0, 6, size=(3, 8)).astype(np.int64)
    z, y = save("det_logits.npy", det), save("det_labels.npy", dety)
    cases.append(case("background label K", "sigmoid", det, one_hot(dety, 5, background=5),
                      ["--logits", z, "--labels", y, "--class-axis", "-1", "--background", "5", "--sigmoid"], axis=-1))
    # Background -1 with void -100 left out ([N] labels).
    bz = rng.normal(size=(20, 3)) * 2
    by = rng.integers(-1, 3, size=20).astype(np.int32)
    by[[3, 7]] = -100
    z, y = save("bg_logits.npy", bz), save("bg_labels.npy", by)
    keep = by != -100
    cases.append(case("background -1, ignore -100", "sigmoid", bz[keep], one_hot(by[keep], 3, background=-1),
                      ["--logits", z, "--labels", y, "--background", "-1", "--ignore-index", "-100", "--sigmoid"],
                      extra={"ignored": 2}))

    # Probabilities, softmax: each row's softmax (float64, as Keras would save it), a class label;
    # one row with a non-target probability exactly 0.
    pz = rng.normal(size=(25, 4)) * 3
    pp = np.exp(pz - pz.max(axis=1, keepdims=True))
    pp /= pp.sum(axis=1, keepdims=True)
    py = rng.integers(0, 4, size=25).astype(np.int64)
    pp[0] = [0.0, 0.25, 0.5, 0.25]
    py[0] = 2
    z, y = save("probs_softmax.npy", pp), save("probs_labels.npy", py)
    cases.append(case("probabilities softmax", "softmax", pp, one_hot(py, 4), ["--logits", z, "--labels", y, "--probs"],
                      probs=True))
    # ... and with target distributions.
    cases.append(case("probabilities softmax distributions", "softmax", pp[1:], dq[:24],
                      ["--logits", save("probs_softmax_tail.npy", pp[1:]), "--labels",
                       save("dist_targets_head.npy", dq[:24]), "--probs"], probs=True))
    # Probabilities, sigmoid: per class, exact 0 and 1 where the loss is finite, multi-label targets.
    sp = rng.random((20, 4))
    spy = (rng.random((20, 4)) < 0.4).astype(np.float64)
    sp[0] = [1.0, 0.0, 0.5, 1e-300]
    spy[0] = [1, 0, 1, 0]
    sp[1] = [0.0, 0.0, 0.0, 0.0]
    spy[1] = 0
    z, y = save("probs_sigmoid.npy", sp), save("probs_sigmoid_targets.npy", spy)
    cases.append(case("probabilities sigmoid", "sigmoid", sp, spy, ["--logits", z, "--labels", y, "--probs", "--sigmoid"],
                      probs=True))

    # Segmentation soft targets [B, C, H, W]: read in strips of class planes, both arrays.
    seg = (rng.normal(size=(2, 3, 4, 5)) * 3).astype(np.float32)
    segy = rng.random((2, 3, 4, 5)).astype(np.float32)
    z, y = save("seg_logits.npy", seg), save("seg_targets.npy", segy)
    cases.append(case("segmentation soft targets", "sigmoid", seg, segy, ["--logits", z, "--labels", y, "--sigmoid"]))

    # The class-index path with alpha off (sigmoid).
    cz = rng.normal(size=(30, 4)) * 3
    cy = rng.integers(0, 4, size=30).astype(np.int64)
    z, y = save("class_logits.npy", cz), save("class_labels.npy", cy)
    cases.append(case("class index sigmoid alpha none", "sigmoid", cz, one_hot(cy, 4),
                      ["--logits", z, "--labels", y, "--sigmoid", "--alpha", "none"], alpha=None, labels=True))

    # Text (CSV, tab or space separated) of the same arrays: the numbers of the .npy cases.
    def text(name, values, sep=" ", labels=None, header=None):
        """`values` a row a line (float64 repr: the same values once parsed), the label first when given."""
        with open(os.path.join(DATA, name), "w") as f:
            if header:
                f.write(header + "\n")
            for i, row in enumerate(np.atleast_2d(values) if values.ndim > 1 else values[:, None]):
                fields = ([str(int(labels[i]))] if labels is not None else []) + [repr(float(v)) for v in row]
                f.write(sep.join(fields) + "\n")
        return "targets/" + name

    cases.append(case("text probabilities softmax", "softmax", pp, one_hot(py, 4),
                      ["--logits", text("probs_softmax.txt", pp), "--labels", text("probs_labels.txt", py.astype(float)),
                       "--probs"], probs=True))
    cases.append(case("text labelled probabilities softmax", "softmax", pp, one_hot(py, 4),
                      ["--csv", text("probs_softmax.csv", pp, ",", py, "label,p0,p1,p2,p3"), "--probs"], probs=True))
    cases.append(case("text probabilities sigmoid targets", "sigmoid", sp, spy,
                      ["--logits", text("probs_sigmoid.tsv", sp, "\t"), "--labels",
                       text("probs_sigmoid_targets.tsv", spy, "\t"), "--probs", "--sigmoid"], probs=True))
    cases.append(case("text multi-label sigmoid", "sigmoid", ml, mly,
                      ["--logits", text("ml_logits.txt", ml), "--labels", text("ml_targets.txt", mly), "--sigmoid"]))
    cases.append(case("text softmax distributions", "softmax", dz, dq,
                      ["--logits", text("dist_logits.csv", dz, ","), "--labels", text("dist_targets.csv", dq, ",")]))
    det_rows = np.moveaxis(det, -1, -1).reshape(-1, 5)
    cases.append(case("text background label K", "sigmoid", det_rows, one_hot(dety.reshape(-1), 5, background=5),
                      ["--logits", text("det_logits.txt", det_rows), "--labels",
                       text("det_labels.txt", dety.reshape(-1).astype(float)), "--background", "5", "--sigmoid"]))
    cases.append(case("text labelled background -1", "sigmoid", bz[keep], one_hot(by[keep], 3, background=-1),
                      ["--csv", text("bg_labelled.csv", bz[keep], ",", by[keep]), "--background", "-1", "--sigmoid",
                       "--alpha", "none"], alpha=None))

    with open(os.path.join(HERE, "data_targets_cases.json"), "w") as f:
        json.dump({"gammas": GAMMAS, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
