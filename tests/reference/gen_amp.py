#!/usr/bin/env python3
"""Reference data for the AMP lens (``src/lens/amp/``): each library's focal
loss as its own PyTorch code runs under ``torch.autocast("cpu", dtype)`` for
float16 and bfloat16, loss and gradient, from torch itself.

What it computes
----------------
For each case (logits of length K, target class t, gamma, alpha or None, a
profile) and each dtype: the logits arrive in the low precision (as a matmul
output does: a float32 value rounded once to the dtype, a leaf tensor with
``requires_grad``), the library's call runs inside ``torch.autocast("cpu",
dtype)``, its output is reduced as the profile defines the value of one
example (``none`` outputs summed with ``.sum()``; MONAI's default ``mean``),
and ``.backward()`` runs outside autocast. Stored: the value and its dtype,
the logits' ``.grad`` (in the logits' dtype), every number as the repr of
its float64 widening (exact).

The profiles and their calls:

* ``paper`` softmax, written the common way::

      logp = F.log_softmax(z, 1); logp_t = logp.gather(1, t); p_t = logp_t.exp()
      loss = -alpha * (1 - p_t) ** gamma * logp_t      # alpha None: -(1 - p_t) ** gamma * logp_t

* ``paper`` sigmoid and ``torchvision``: ``torchvision.ops.sigmoid_focal_loss``
  (alpha None: -1) with the one-hot targets in the logits' dtype, as
  torchvision's RetinaNet builds them (``zeros_like`` of the logits);
* ``kornia``: ``kornia.losses.focal_loss(z, labels, alpha, gamma, "none")``;
* ``monai`` (both forms): ``monai.losses.FocalLoss(gamma, alpha,
  use_softmax)(z, one_hot)``, reduction ``mean`` (it casts to float32 first).

Into ``amp_libs_cases.json`` (same format, same cases; a file of its own):

* ``kornia`` sigmoid: ``kornia.losses.binary_focal_loss_with_logits(z, y,
  alpha, gamma, "none")`` with the one-hot ``y`` in the logits' dtype;
* ``mmdet``: ``FocalLoss(gamma=γ, alpha=α)(z, labels)`` of mmdet 3.3.0
  ``mmdet/models/losses/focal_loss.py`` (its CPU path,
  ``py_sigmoid_focal_loss``; default reduction ``mean``), the module file
  loaded as gen_profiles.py loads it (``lib_sources.py``);
* ``ultralytics``: ``FocalLoss(gamma, alpha)(z, y)`` of ultralytics 8.4.190
  ``ultralytics/utils/loss.py`` (``loss.mean(1).sum()``; α = 0 is its
  "off"), the class source run with torch, ``y`` one-hot in the logits' dtype.

Both need the sources: ``pip install --no-deps mmdet==3.3.0
ultralytics==8.4.190`` (or a ``PYTHONPATH`` holding them).

Autocast on CPU runs ``log_softmax``, ``softmax``, ``exp``, ``log``,
``pow`` and ``sigmoid`` in the low precision and
``binary_cross_entropy_with_logits`` in float32; the script records each
library's intermediate dtypes where it can check them and prints them.

Random cases use ``random.Random(SEED)``: the output is deterministic for a
given torch build and CPU (torch's vectorised float32 ``exp``/``log`` are
Sleef's, chosen by the CPU capability, which is stored).

Output: ``tests/reference/amp_cases.json``::

    {"generated_by", "torch", "torchvision", "kornia", "monai", "cpu_capability",
     "cases": [{"name", "profile", "mode", "logits": [str], "target", "gamma": str,
                "alpha": str|null, "expect": {"float16"|"bfloat16": {"loss": str,
                "loss_dtype", "gradient": [str]}}}]}
"""

import json
import math
import os
import random
import sys

import torch
import torch.nn.functional as F
import torchvision
import kornia
import monai
from monai.losses import FocalLoss as MonaiFocalLoss
from torchvision.ops import sigmoid_focal_loss

from lib_sources import load_mmdet_focal_loss, load_ultralytics_focal_loss

SEED = 20261202
DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16}
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "amp_cases.json")
OUT_LIBS = os.path.join(HERE, "amp_libs_cases.json")
MMDET, MMDET_VERSION = load_mmdet_focal_loss()
UltralyticsFocalLoss, ULTRALYTICS_VERSION = load_ultralytics_focal_loss()


def paper_softmax(z, t, gamma, alpha):
    logp = F.log_softmax(z, dim=1)
    logp_t = logp.gather(1, t.view(-1, 1)).squeeze(1)
    p_t = logp_t.exp()
    if alpha is None:
        loss = -((1 - p_t) ** gamma) * logp_t
    else:
        loss = -alpha * (1 - p_t) ** gamma * logp_t
    return loss.sum()


def torchvision_sigmoid(z, t, gamma, alpha):
    y = torch.zeros_like(z)
    y[0, t] = 1
    a = -1.0 if alpha is None else alpha
    return sigmoid_focal_loss(z, y, alpha=a, gamma=gamma, reduction="none").sum()


def kornia_softmax(z, t, gamma, alpha):
    return kornia.losses.focal_loss(z, t, alpha, gamma, reduction="none").sum()


def monai_call(use_softmax):
    def call(z, t, gamma, alpha):
        y = torch.zeros(z.shape)
        y[0, t] = 1
        return MonaiFocalLoss(gamma=gamma, alpha=alpha, use_softmax=use_softmax)(z, y)

    return call


def one_hot_like(z, t):
    y = torch.zeros_like(z)
    y[0, t] = 1
    return y


def kornia_sigmoid(z, t, gamma, alpha):
    y = one_hot_like(z, t)
    return kornia.losses.binary_focal_loss_with_logits(z, y, alpha, gamma, reduction="none").sum()


def mmdet_sigmoid(z, t, gamma, alpha):
    # Labels as mmdet encodes them (class indices); alpha is never None here (see write).
    return MMDET.FocalLoss(gamma=gamma, alpha=alpha)(z, t)


def ultralytics_sigmoid(z, t, gamma, alpha):
    return UltralyticsFocalLoss(gamma=gamma, alpha=0.0 if alpha is None else alpha)(z, one_hot_like(z, t))


LIB_PROFILES = [
    ("kornia", "sigmoid", kornia_sigmoid),
    ("mmdet", "sigmoid", mmdet_sigmoid),
    ("ultralytics", "sigmoid", ultralytics_sigmoid),
]


PROFILES = [
    ("paper", "softmax", paper_softmax),
    ("paper", "sigmoid", torchvision_sigmoid),
    ("torchvision", "sigmoid", torchvision_sigmoid),
    ("kornia", "softmax", kornia_softmax),
    ("monai", "softmax", monai_call(True)),
    ("monai", "sigmoid", monai_call(False)),
]


def run(call, logits, target, gamma, alpha, dtype):
    z = torch.tensor([logits], dtype=torch.float32).to(dtype).requires_grad_(True)
    t = torch.tensor([target], dtype=torch.int64)
    with torch.autocast("cpu", dtype=dtype):
        value = call(z, t, gamma, alpha)
    value.backward()
    return {
        "loss": repr(float(value.detach().double())),
        "loss_dtype": str(value.dtype).removeprefix("torch."),
        "gradient": [repr(g) for g in z.grad.double()[0].tolist()],
    }


def f32(x):
    """x rounded to float32, as a float."""
    return float(torch.tensor(x, dtype=torch.float32))


def make_cases(rng):
    """(name, logits, target, gamma, alpha) for every profile."""
    out = []
    gammas = [0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 0.3]
    alphas = [None, 0.25, 0.75, 0.3]
    # The seed's example and hand-picked edges.
    out.append(("issue example", [1.5, -0.8, 0.2], 0, 2.0, 0.25))
    out.append(("K = 1", [0.7], 0, 2.0, 0.25))
    out.append(("K = 1, gamma < 1", [0.7], 0, 0.5, 0.25))
    for gap in [6.0, 9.0, 12.0, 20.0, 40.0]:
        for g in [0.0, 0.5, 2.0]:
            out.append((f"confident by {gap}, gamma {g}", [gap, 0.0, -1.0], 0, g, 0.25))
            out.append((f"wrong by {gap}, gamma {g}", [-gap, 0.0, 1.0], 0, g, None))
    out.append(("large logits", [30.0, 29.0, -5.0, 12.0], 3, 2.0, 0.25))
    out.append(("huge logits", [300.0, -200.0, 100.0], 0, 2.0, 0.25))
    for k in [1, 2, 3, 5, 10, 20, 50, 100]:
        for i in range(6):
            scale = rng.choice([0.5, 2.0, 5.0])
            logits = [f32(rng.gauss(0.0, scale)) for _ in range(k)]
            target = rng.randrange(k)
            if i % 3 == 2:
                logits[target] = f32(max(logits) + rng.uniform(5.0, 15.0))
            out.append((f"random K={k} #{i}", logits, target, rng.choice(gammas), rng.choice(alphas)))
    return out


def write(path, profiles, versions):
    rng = random.Random(SEED)
    cases = []
    for name, logits, target, gamma, alpha in make_cases(rng):
        logits = [f32(x) for x in logits]
        for profile, mode, call in profiles:
            # mmdet cannot turn alpha off (its profile refuses None): its default 0.25 instead.
            a = 0.25 if profile == "mmdet" and alpha is None else alpha
            expect = {dt: run(call, logits, target, gamma, a, DTYPES[dt]) for dt in DTYPES}
            cases.append(
                {
                    "name": name,
                    "profile": profile,
                    "mode": mode,
                    "logits": [repr(x) for x in logits],
                    "target": target,
                    "gamma": repr(gamma),
                    "alpha": None if a is None else repr(a),
                    "expect": expect,
                }
            )
    doc = {
        "generated_by": "tests/reference/gen_amp.py",
        "torch": torch.__version__,
        **versions,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cases": cases,
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases -> {path}", file=sys.stderr)


def main():
    write(
        OUT,
        PROFILES,
        {"torchvision": torchvision.__version__, "kornia": kornia.__version__, "monai": monai.__version__},
    )
    write(
        OUT_LIBS,
        LIB_PROFILES,
        {"kornia": kornia.__version__, "mmdet": MMDET_VERSION, "ultralytics": ULTRALYTICS_VERSION},
    )


if __name__ == "__main__":
    main()
