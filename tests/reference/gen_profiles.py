#!/usr/bin/env python3
"""Focal loss as each library computes it, for the library profiles (issue 16).

The libraries themselves are called, in float64 where they compute in it:
torchvision ``ops.sigmoid_focal_loss``, kornia ``losses.focal_loss`` and
``losses.binary_focal_loss_with_logits``, MONAI ``losses.FocalLoss`` (softmax
and sigmoid; it computes in float32 whatever its input), Keras
``CategoricalFocalCrossentropy`` and ``BinaryFocalCrossentropy`` (jax backend,
float64), mmdet ``FocalLoss`` (its own module file, loaded with stand-ins for
the CUDA ops and the registry it imports; the CPU path is plain torch) and
ultralytics ``utils.loss.FocalLoss`` (its class source, run with torch: importing the
package needs OpenCV).

Each case records the logits [N, K], the per-class targets y [N, K] (one-hot,
all-zero for a background row, multi-hot, or soft), the labels when the
targets are class indices (None for a background row), γ, α (None: the
library's "no weighting"), the reduction asked for ("default" is the
library's own), the value the library returns, and dvalue/dlogits from
autograd (jax.grad for Keras). A call whose default reduction is "none"
returns a map: its value here is the map's sum, as the profile defines it.

Setup (about 6 GB; CPU wheels are enough)::

    python3 -m venv .venv-ref
    .venv-ref/bin/pip install numpy torch torchvision kornia monai keras jax
    .venv-ref/bin/pip install --no-deps ultralytics mmdet
    KERAS_BACKEND=jax .venv-ref/bin/python tests/reference/gen_profiles.py

Output: ``tests/reference/profiles_cases.json`` (deterministic: a fixed seed).
"""

import json
import math
import os
import random

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import kornia  # noqa: E402
import monai  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from monai.losses import FocalLoss as MonaiFocalLoss  # noqa: E402
from torchvision.ops import sigmoid_focal_loss  # noqa: E402

from lib_sources import load_mmdet_focal_loss, load_ultralytics_focal_loss  # noqa: E402

keras.config.set_floatx("float64")
torch.set_default_dtype(torch.float64)

SEED = 20261202
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "profiles_cases.json")


MMDET, MMDET_VERSION = load_mmdet_focal_loss()
UltralyticsFocalLoss, ULTRALYTICS_VERSION = load_ultralytics_focal_loss()


def torch_call(f, logits):
    """Runs f on float64 logits with autograd: (value, dvalue/dlogits)."""
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    value = f(z)
    value.backward()
    return float(value.detach()), z.grad.tolist()


def keras_call(loss, y, logits):
    def f(z):
        return loss(jnp.asarray(y, dtype=jnp.float64), z)

    z = jnp.asarray(logits, dtype=jnp.float64)
    value, grad = jax.value_and_grad(f)(z)
    return float(value), [[float(g) for g in row] for row in grad]


def total(x, reduction):
    """A `none` map reduced as the profile defines it (the sum)."""
    return x.sum() if reduction == "none" else x


def torchvision_call(c):
    red = "none" if c["reduction"] == "default" else c["reduction"]
    alpha = -1.0 if c["alpha"] is None else c["alpha"]
    y = torch.tensor(c["y"])
    return torch_call(
        lambda z: total(sigmoid_focal_loss(z, y, alpha=alpha, gamma=c["gamma"], reduction=red), red), c["logits"]
    )


def kornia_call(c):
    red = "none" if c["reduction"] == "default" else c["reduction"]
    if c["mode"] == "softmax":
        labels = torch.tensor(c["labels"], dtype=torch.int64)
        return torch_call(
            lambda z: total(kornia.losses.focal_loss(z, labels, c["alpha"], c["gamma"], reduction=red), red),
            c["logits"],
        )
    y = torch.tensor(c["y"])
    return torch_call(
        lambda z: total(
            kornia.losses.binary_focal_loss_with_logits(z, y, alpha=c["alpha"], gamma=c["gamma"], reduction=red), red
        ),
        c["logits"],
    )


def monai_call(c):
    red = "mean" if c["reduction"] == "default" else c["reduction"]
    loss = MonaiFocalLoss(gamma=c["gamma"], alpha=c["alpha"], reduction=red, use_softmax=c["mode"] == "softmax")
    y = torch.tensor(c["y"])
    return torch_call(lambda z: total(loss(z, y), red), c["logits"])


def keras_loss(c):
    red = "sum_over_batch_size" if c["reduction"] == "default" else c["reduction"]
    if c["mode"] == "softmax":
        alpha = 1.0 if c["alpha"] is None else c["alpha"]
        return keras.losses.CategoricalFocalCrossentropy(alpha=alpha, gamma=c["gamma"], from_logits=True, reduction=red)
    balancing = c["alpha"] is not None
    return keras.losses.BinaryFocalCrossentropy(
        apply_class_balancing=balancing,
        alpha=c["alpha"] if balancing else 0.25,
        gamma=c["gamma"],
        from_logits=True,
        reduction=red,
    )


def keras_call_case(c):
    return keras_call(keras_loss(c), c["y"], c["logits"])


def mmdet_call(c):
    """`FocalLoss()(pred, labels)` with labels as mmdet encodes them (K = background)."""
    k = len(c["logits"][0])
    labels = torch.tensor([k if t is None else t for t in c["labels"]], dtype=torch.int64)
    red = c["reduction"]
    alpha = 0.25 if c["alpha"] is None else c["alpha"]
    loss = MMDET.FocalLoss(gamma=c["gamma"], alpha=alpha)
    if red == "positives":
        positives = sum(t is not None for t in c["labels"])
        return torch_call(lambda z: loss(z, labels, avg_factor=positives), c["logits"])
    override = None if red == "default" else red
    return torch_call(lambda z: total(loss(z, labels, reduction_override=override), red), c["logits"])


def ultralytics_call(c):
    alpha = 0.0 if c["alpha"] is None else c["alpha"]
    loss = UltralyticsFocalLoss(gamma=c["gamma"], alpha=alpha)
    y = torch.tensor(c["y"])
    return torch_call(lambda z: loss(z, y), c["logits"])


# Each library: its call, the modes it has, the targets it takes, the
# reductions it offers besides its default, and whether α None is expressible.
LIBRARIES = {
    "torchvision": dict(
        call=torchvision_call,
        source="torchvision.ops.sigmoid_focal_loss(z, y, alpha, gamma, reduction)",
        modes=("sigmoid",),
        targets=("index", "background", "multi", "soft"),
        reductions=("mean", "sum"),
    ),
    "kornia": dict(
        call=kornia_call,
        source="kornia.losses.focal_loss(z, labels, alpha, gamma, reduction) / "
        "binary_focal_loss_with_logits(z, y, alpha, gamma, reduction)",
        modes=("softmax", "sigmoid"),
        targets=("index", "background", "multi", "soft"),
        reductions=("mean", "sum"),
    ),
    "monai": dict(
        call=monai_call,
        source="monai.losses.FocalLoss(gamma, alpha, reduction, use_softmax)(z, y)",
        modes=("softmax", "sigmoid"),
        targets=("index", "background", "multi", "soft"),
        reductions=("sum", "none"),
    ),
    "keras": dict(
        call=keras_call_case,
        source="keras.losses.CategoricalFocalCrossentropy / BinaryFocalCrossentropy("
        "apply_class_balancing, alpha, gamma, from_logits=True, reduction)(y, z)",
        modes=("softmax", "sigmoid"),
        targets=("index", "background", "multi", "soft"),
        reductions=("sum",),
    ),
    "mmdet": dict(
        call=mmdet_call,
        source=f"mmdet {MMDET_VERSION} mmdet/models/losses/focal_loss.py FocalLoss(gamma, alpha)(z, labels, "
        "avg_factor, reduction_override), CPU path py_sigmoid_focal_loss",
        modes=("sigmoid",),
        targets=("index", "background"),
        reductions=("sum", "none", "positives"),
    ),
    "ultralytics": dict(
        call=ultralytics_call,
        source=f"ultralytics {ULTRALYTICS_VERSION} ultralytics/utils/loss.py FocalLoss(gamma, alpha)(z, y)",
        modes=("sigmoid",),
        targets=("index", "background", "multi", "soft"),
        reductions=(),
    ),
}


def softmax_targets_ok(kind):
    return kind in ("index", "soft")


def library_accepts(name, mode, kind, alpha):
    lib = LIBRARIES[name]
    if mode not in lib["modes"] or kind not in lib["targets"]:
        return False
    if mode == "softmax":
        # Softmax losses take a class index (kornia) or a distribution (MONAI, Keras).
        if not softmax_targets_ok(kind) or (name == "kornia" and kind != "index"):
            return False
    if name == "mmdet" and alpha is None:
        return False  # mmdet has no switch for α off
    return True


def random_row(rng, k, kind, mode):
    """(logits, y, label) of one row: label is an index, None (background) or absent."""
    z = [round(rng.gauss(0.0, 3.0), 6) for _ in range(k)]
    if kind == "index":
        t = rng.randrange(k)
        return z, [1.0 if i == t else 0.0 for i in range(k)], t
    if kind == "background":
        # The paper's easy negative: logits near the prior bias −log(99).
        z = [round(-4.595 + rng.gauss(0.0, 1.0), 6) for _ in range(k)]
        return z, [0.0] * k, None
    if kind == "multi":
        chosen = rng.sample(range(k), max(1, min(k, rng.randrange(1, 4))))
        return z, [1.0 if i in chosen else 0.0 for i in range(k)], "multi"
    if mode == "softmax":
        w = [rng.random() + 0.05 for _ in range(k)]
        s = sum(w)
        return z, [x / s for x in w], "soft"
    return z, [round(rng.random(), 4) for _ in range(k)], "soft"


def make_cases(rng):
    cases = []
    gammas = (0.0, 0.5, 1.0, 2.0, 5.0)
    alphas = (0.25, 0.75, None)
    kinds = ("index", "background", "multi", "soft")
    for name in LIBRARIES:
        for mode in ("softmax", "sigmoid"):
            for kind in kinds:
                for alpha in alphas:
                    if not library_accepts(name, mode, kind, alpha):
                        continue
                    # Single examples: a batch of one, the library's default reduction.
                    for k in (1, 2, 3, 5, 10):
                        if kind == "multi" and k < 2:
                            continue
                        for gamma in rng.sample(gammas, 2):
                            z, y, label = random_row(rng, k, kind, mode)
                            cases.append(case(name, mode, [z], [y], [label], gamma, alpha, "default"))
                    # Batches: every reduction the library offers.
                    for reduction in ("default",) + LIBRARIES[name]["reductions"]:
                        n, k = rng.randrange(3, 7), rng.randrange(2, 6)
                        rows = [random_row(rng, k, kind, mode) for _ in range(n)]
                        if kind == "background":  # a batch of anchors: some positives among them
                            rows[0] = random_row(rng, k, "index", mode)
                        gamma = rng.choice(gammas)
                        cases.append(
                            case(name, mode, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                                 gamma, alpha, reduction)
                        )
    # The measured table of REFERENCE-LIBS.md, exactly.
    for name, mode in (("kornia", "softmax"), ("monai", "softmax"), ("monai", "sigmoid"), ("torchvision", "sigmoid"),
                       ("keras", "softmax"), ("keras", "sigmoid")):
        for t in (0, 1):
            y = [1.0 if i == t else 0.0 for i in range(3)]
            cases.append(case(name, mode, [[1.5, -0.8, 0.2]], [y], [t], 2.0, 0.25, "default"))
    return cases


def case(name, mode, logits, y, labels, gamma, alpha, reduction):
    c = dict(profile=name, mode=mode, logits=logits, y=y, gamma=gamma, alpha=alpha, reduction=reduction)
    if all(label is None or isinstance(label, int) for label in labels):
        c["labels"] = labels
    return c


def main():
    rng = random.Random(SEED)
    cases = make_cases(rng)
    for c in cases:
        value, grad = LIBRARIES[c["profile"]]["call"](c)
        if not math.isfinite(value):
            raise SystemExit(f"non-finite loss from {c['profile']}: {c}")
        c["value"] = value
        # A library's NaN gradient (e.g. MONAI's softmax at p = 1 with γ < 1)
        # is a fact about it, kept as JSON null beside the finite components.
        c["grad"] = [[g if math.isfinite(g) else None for g in row] for row in grad]
    versions = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "kornia": kornia.__version__,
        "monai": monai.__version__,
        "keras": keras.__version__,
        "jax": jax.__version__,
        "mmdet": MMDET_VERSION,
        "ultralytics": ULTRALYTICS_VERSION,
    }
    sources = {name: lib["source"] for name, lib in LIBRARIES.items()}
    with open(OUT, "w") as f:
        json.dump(dict(versions=versions, sources=sources, cases=cases), f, separators=(",", ":"))
        f.write("\n")
    counts = {}
    for c in cases:
        counts[c["profile"]] = counts.get(c["profile"], 0) + 1
    nan_grads = sum(any(g is None for row in c["grad"] for g in row) for c in cases)
    print(f"{len(cases)} cases → {OUT}: {counts}; {nan_grads} with a non-finite gradient component")


if __name__ == "__main__":
    main()
