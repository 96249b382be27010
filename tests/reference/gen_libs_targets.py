#!/usr/bin/env python3
"""What torchvision and Keras themselves return, in float64, for target
vectors: sigmoid background, multi-label and soft targets, label smoothing,
alpha none, and softmax target distributions. The Rust test
tests/reference_targets.rs (libraries_agree) compares focal-tui with them.

- torchvision.ops.sigmoid_focal_loss(logits [1, K], float targets [1, K],
  alpha, gamma, reduction="none"), summed over the classes; alpha = -1 is
  no weighting. Gradient by autograd. torchvision has no label smoothing:
  the smoothed targets y (1 - eps) + eps / 2 are given to it as they are.
- keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True,
  from_logits=True, label_smoothing=eps), which averages over the classes:
  times K for the sum.
- keras.losses.CategoricalFocalCrossentropy(from_logits=True,
  label_smoothing=eps) with a scalar alpha.

Keras clips probabilities to [1e-7, 1 - 1e-7], so the cases stay away from
the extremes. Output: tests/reference/libs_targets_cases.json (committed; CI
needs neither library). Run with a venv holding both:

    KERAS_BACKEND=jax /path/to/venv/bin/python tests/reference/gen_libs_targets.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from torchvision.ops import sigmoid_focal_loss  # noqa: E402

keras.config.set_floatx("float64")
torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))


def vector(target, k):
    if target == "none":
        return [0.0] * k
    if "class" in target:
        return [1.0 if i == target["class"] else 0.0 for i in range(k)]
    if "classes" in target:
        return [1.0 if i in target["classes"] else 0.0 for i in range(k)]
    return list(target["probs"])


def torchvision_case(z, y, eps, gamma, alpha):
    zt = torch.tensor([z], dtype=torch.float64, requires_grad=True)
    yt = torch.tensor([y], dtype=torch.float64) * (1 - eps) + eps / 2
    per = sigmoid_focal_loss(zt, yt, alpha=-1 if alpha == "none" else alpha, gamma=gamma, reduction="none")[0]
    total = per.sum()
    total.backward()
    return float(total.detach()), [float(x) for x in per.detach()], [float(x) for x in zt.grad[0]]


def keras_binary(z, y, eps, gamma, alpha):
    loss = keras.losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, alpha=alpha, gamma=gamma, from_logits=True, label_smoothing=eps, reduction=None,
        dtype="float64",
    )
    return float(np.asarray(loss(np.array([y]), np.array([z])))[0]) * len(z)


def keras_categorical(z, q, eps, gamma, alpha):
    loss = keras.losses.CategoricalFocalCrossentropy(
        alpha=alpha, gamma=gamma, from_logits=True, label_smoothing=eps, reduction=None, dtype="float64"
    )
    return float(np.asarray(loss(np.array([q]), np.array([z])))[0])


CASES = []


def add(name, library, mode, z, target, eps, gamma, alpha, value, per=None, grad=None):
    case = {
        "name": name,
        "library": library,
        "mode": mode,
        "logits": [repr(float(x)) for x in z],
        "target": {"probs": [repr(float(x)) for x in target["probs"]]} if "probs" in target else target,
        "label_smoothing": repr(float(eps)),
        "gamma": repr(float(gamma)),
        "alpha": alpha if alpha == "none" else repr(float(alpha)),
        "focal_loss": repr(value),
    }
    if per is not None:
        case["per_class_loss"] = [repr(x) for x in per]
        case["gradient"] = [repr(x) for x in grad]
    CASES.append(case)


def build():
    seed = [1.5, -0.8, 0.2]
    nine = [0.3, -1.2, 2.2, 0.0, -4.6, 1e-9, 5.5, -0.75, 3.25]
    prior = [-4.6, -4.4, -4.8, -4.5, -4.7, -4.6, -4.9, -4.3]
    sigmoid_targets = [
        ("background-prior", prior, "none"),
        ("background-nine", nine, "none"),
        ("multilabel-nine", nine, {"classes": [1, 3, 6]}),
        ("class-seed", seed, {"class": 1}),
        ("soft-seed", seed, {"probs": [0.3, 0.9, 0.55]}),
        ("iou-nine", nine, {"probs": [0.0, 0.7, 0.0, 0.0, 0.0, 0.45, 0.92, 0.0, 0.0]}),
    ]
    for name, z, target in sigmoid_targets:
        for gamma in [0.0, 0.5, 2.0, 5.0]:
            for eps in [0.0, 0.1]:
                for alpha in [0.25, "none"]:
                    y = vector(target, len(z))
                    tag = "%s-g%s-e%s-a%s" % (name, gamma, eps, alpha)
                    fl, per, grad = torchvision_case(z, y, eps, gamma, alpha)
                    add("torchvision-" + tag, "torchvision", "sigmoid", z, target, eps, gamma, alpha, fl, per, grad)
                    if alpha != "none":
                        fl = keras_binary(z, y, eps, gamma, alpha)
                        add("keras-binary-" + tag, "keras", "sigmoid", z, target, eps, gamma, alpha, fl)
    softmax_targets = [
        ("class-seed", seed, {"class": 1}),
        ("probs-seed", seed, {"probs": [0.2, 0.5, 0.3]}),
        ("probs-nine", nine, {"probs": [0.0, 0.125, 0.5, 0.0, 0.0, 0.125, 0.25, 0.0, 0.0]}),
        ("class-nine", [x / 4 for x in nine], {"class": 2}),
    ]
    for name, z, target in softmax_targets:
        for gamma in [0.0, 0.5, 2.0, 5.0]:
            for eps in [0.0, 0.1, 0.3]:
                for alpha in [0.25, 1.0]:
                    q = vector(target, len(z))
                    fl = keras_categorical(z, q, eps, gamma, alpha)
                    tag = "%s-g%s-e%s-a%s" % (name, gamma, eps, alpha)
                    add("keras-categorical-" + tag, "keras", "softmax", z, target, eps, gamma, alpha, fl)


def main():
    build()
    out = {
        "generated_by": "tests/reference/gen_libs_targets.py",
        "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__, "keras": keras.__version__},
        "cases": CASES,
    }
    with open(os.path.join(HERE, "libs_targets_cases.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("%d cases" % len(CASES))


if __name__ == "__main__":
    main()
