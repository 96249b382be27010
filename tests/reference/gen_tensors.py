#!/usr/bin/env python3
"""Reference data for `focal-tui data` on logits of any rank (issue 17).

Writes small dumps as training code saves them into tests/data/tensors/
(numpy's own np.save) and, for each case, the report's aggregates computed
at 60 digits with mpmath into tests/reference/tensors_cases.json:

    rows (positions that entered the sweep), ignored, accuracy,
    mean_cross_entropy, mean_focal_loss per gamma

The positions are found the way a user would in numpy (move the class axis
last, flatten, drop the ignored label), independently of the reader.
Per position (the formulas of gen_sweep.py):

softmax   CE = lse(z) - z_t, FL = alpha * (1 - p_t)^g * CE, 1 - p_t as the
          sum of the other classes' probabilities.
sigmoid   every class its own binary problem: u = z_i for the label, -z_i
          otherwise; BCE_i = softplus(-u), w_i = alpha (label) or
          1 - alpha, FL_i = w_i * sigmoid(-u)^g * BCE_i; CE and FL of a
          position are the sums over its classes.

Run: /work/venv-ref/bin/python tests/reference/gen_tensors.py
"""
import json
import os

import mpmath as mp
import numpy as np

mp.mp.dps = 60
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "tensors")
GAMMAS = [0, 0.5, 1, 2, 5]
ALPHA = mp.mpf("0.25")


def softmax_row(z, t):
    z = [mp.mpf(float(v)) for v in z]
    m = max(z)
    lse = m + mp.log(mp.fsum(mp.exp(v - m) for v in z))
    ce = lse - z[t]
    one_minus = mp.fsum(mp.exp(v - lse) for i, v in enumerate(z) if i != t)
    fl = [ALPHA * (one_minus ** g if g else 1) * ce for g in GAMMAS]
    return ce, fl


def sigmoid_row(z, t):
    ce, fl = mp.mpf(0), [mp.mpf(0)] * len(GAMMAS)
    for i, v in enumerate(z):
        u = mp.mpf(float(v)) if i == t else -mp.mpf(float(v))
        bce = mp.log1p(mp.exp(-u))
        q = 1 / (1 + mp.exp(u))
        w = ALPHA if i == t else 1 - ALPHA
        ce += bce
        fl = [f + w * (q ** g if g else 1) * bce for f, g in zip(fl, GAMMAS)]
    return ce, fl


def case(name, logits, labels, axis, ignore, mode, args):
    z = np.moveaxis(logits, axis, -1)
    k = z.shape[-1]
    z = z.reshape(-1, k)
    y = labels.reshape(-1)
    keep = y != ignore if ignore is not None else np.ones(len(y), bool)
    z, y = z[keep], y[keep]
    row = softmax_row if mode == "softmax" else sigmoid_row
    ces, fls, correct = [], [], 0
    for zi, t in zip(z, y):
        ce, fl = row(zi, int(t))
        ces.append(ce)
        fls.append(fl)
        correct += int(np.argmax(zi) == t)
    n = len(y)
    return {
        "name": name,
        "args": args,
        "rows": n,
        "ignored": int((~keep).sum()),
        "accuracy": mp.nstr(mp.mpf(correct) / n, 20),
        "mean_cross_entropy": mp.nstr(mp.fsum(ces) / n, 20),
        "mean_focal_loss": [mp.nstr(mp.fsum(f[g] for f in fls) / n, 20) for g in range(len(GAMMAS))],
    }


def main():
    os.makedirs(DATA, exist_ok=True)
    rng = np.random.default_rng(17)
    cases = []

    def save(name, array):
        np.save(os.path.join(DATA, name), array)
        return "tensors/" + name

    def segmentation(name, shape, title):
        """[B, C, H, W] float32 logits, [B, H, W] uint8 labels, void = 255."""
        logits = (rng.normal(size=shape) * 3).astype(np.float32)
        labels = rng.integers(0, shape[1], size=(shape[0],) + shape[2:]).astype(np.uint8)
        labels[rng.random(labels.shape) < 0.1] = 255
        z, y = save(f"{name}_logits.npy", logits), save(f"{name}_labels.npy", labels)
        for mode in ["softmax", "sigmoid"]:
            extra = ["--sigmoid"] if mode == "sigmoid" else []
            cases.append(case(f"{title} {mode}", logits, labels, 1, 255, mode,
                              ["--logits", z, "--labels", y, "--ignore-index", "255"] + extra))
        return logits, labels

    seg, segy = segmentation("seg", (2, 4, 5, 6), "segmentation")
    # The same dump saved in Fortran order (both arrays), big-endian float64.
    zf = save("seg_logits_fortran.npy", np.asfortranarray(seg.astype(">f8")))
    yf = save("seg_labels_fortran.npy", np.asfortranarray(segy))
    cases.append(case("segmentation fortran", seg.astype(np.float64), segy, 1, 255, "softmax",
                      ["--logits", zf, "--labels", yf, "--ignore-index", "255"]))
    # Detection: [B, A, K] float16 logits, [B, A] int64 labels, PyTorch's -100 ignored.
    det = (rng.normal(size=(3, 7, 5)) * 2).astype(np.float16)
    dety = rng.integers(0, 5, size=(3, 7)).astype(np.int64)
    dety[rng.random(dety.shape) < 0.2] = -100
    z, y = save("det_logits.npy", det), save("det_labels.npy", dety)
    cases.append(case("detection last axis", det.astype(np.float64), dety, -1, -100, "sigmoid",
                      ["--logits", z, "--labels", y, "--class-axis", "-1", "--ignore-index", "-100", "--sigmoid"]))
    # A 3-D sequence dump [N, C, T] with flat labels (y.ravel()).
    seq = rng.normal(size=(3, 3, 4)) * 4
    seqy = rng.integers(0, 3, size=(3, 4)).astype(np.int32)
    z, y = save("seq_logits.npy", seq), save("seq_labels_flat.npy", seqy.ravel())
    cases.append(case("sequence flat labels", seq, seqy, 1, None, "softmax", ["--logits", z, "--labels", y]))

    # Cityscapes' 19 classes: class planes of more than 16 classes (swept
    # class-major as they are; the dataset view keeps them row-major).
    segmentation("seg19", (2, 19, 6, 7), "segmentation 19 classes")

    with open(os.path.join(HERE, "tensors_cases.json"), "w") as f:
        json.dump({"gammas": GAMMAS, "alpha": "0.25", "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
