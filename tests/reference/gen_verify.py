"""Dumps for `tests/cli_verify.rs`: focal losses (and gradients) computed by
real implementations, correct and deliberately broken, on committed logits.

Run with the reference venv (torch, torchvision, kornia):

    /work/venv-ref/bin/python tests/reference/gen_verify.py

Writes `tests/data/verify/*.npy` and `tests/data/verify/expected.json`
(the library versions, and where the broken implementations should be
caught, located here with the documented error measure on float64 values
computed the stable way, independently of the Rust code).

Correct (must pass with the matching `--profile`):
- torchvision.ops.sigmoid_focal_loss, float32 and float64, reduction
  none / mean / sum, with autograd gradients of the summed and the reduced
  loss; and once computed in bfloat16 (dumped as float32);
- kornia.losses.focal_loss on a [B, C, H, W] segmentation tensor with
  ignored (-100) pixels, per element;
- the paper's softmax focal loss written with log_softmax in torch, per
  pixel on [B, C, H, W] with 255 as void, with its gradient.

Broken (must give exit 1 at a sensible place):
- alpha and 1 - alpha swapped (torchvision's formula otherwise);
- the factor (1 - p)^gamma applied to the mean cross-entropy;
- 1 - p formed naively from softmax probabilities in float32, with a few
  rows of large logits (p_t underflows: -log 0 = inf);
- gamma ignored (alpha * CE);
- a gradient of the mean over rows, which is neither the sum nor
  torchvision's mean over N*K elements.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
import kornia

OUT = os.path.join(os.path.dirname(__file__), "..", "data", "verify")
ALPHA, GAMMA = 0.25, 2.0
FLOOR64 = math.sqrt(np.finfo(np.float64).eps)


def save(name, array):
    # ascontiguousarray would make a 0-d array 1-d.
    np.save(os.path.join(OUT, name), np.ascontiguousarray(array) if array.ndim else array)


def torchvision_dumps(z, y, dtype, tag):
    """Per element and reduced losses, gradients of the sum and of the mean."""
    k = z.shape[1]
    t = F.one_hot(y, k).to(dtype)
    for red in ["none", "mean", "sum"]:
        zz = z.to(dtype).clone().requires_grad_()
        loss = torchvision.ops.sigmoid_focal_loss(zz, t, alpha=ALPHA, gamma=GAMMA, reduction=red)
        (loss.sum() if red == "none" else loss).backward()
        save(f"tv_{tag}_{red}.npy", loss.detach().float().numpy() if dtype == torch.bfloat16 else loss.detach().numpy())
        grad = zz.grad.float() if dtype == torch.bfloat16 else zz.grad
        save(f"tv_{tag}_{red}_grad.npy", grad.numpy())


def paper_softmax(z, y, ignore=None):
    """The paper's softmax focal loss per position, the stable way (class axis 1)."""
    valid = torch.ones_like(y, dtype=torch.bool) if ignore is None else y != ignore
    safe = torch.where(valid, y, torch.zeros_like(y))
    logp = F.log_softmax(z, dim=1).gather(1, safe.unsqueeze(1)).squeeze(1)
    one_minus = -torch.expm1(logp)
    loss = -ALPHA * one_minus**GAMMA * logp
    return torch.where(valid, loss, torch.zeros_like(loss))


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(16)
    expected = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "kornia": kornia.__version__,
    }

    # [N, K] classification: logits up to about ±12 (confident and hard rows).
    n, k = 96, 5
    z = torch.randn(n, k, generator=g, dtype=torch.float64) * 4.0
    y = torch.randint(0, k, (n,), generator=g)
    save("z.npy", z.float().numpy())
    save("y.npy", y.numpy())
    z32 = torch.from_numpy(np.load(os.path.join(OUT, "z.npy")))  # the stored float32 logits, exactly
    z64 = z32.double()
    torchvision_dumps(z32, y, torch.float32, "f32")
    torchvision_dumps(z64, y, torch.float64, "f64")
    # As an AMP run has them: the logits themselves are bfloat16 numbers.
    save("z_bf16.npy", z32.to(torch.bfloat16).float().numpy())
    torchvision_dumps(z32, y, torch.bfloat16, "bf16")

    # alpha and 1 - alpha swapped, in float64.
    p = torch.sigmoid(z64)
    t = F.one_hot(y, k).double()
    ce = F.binary_cross_entropy_with_logits(z64, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    swapped = (1 - ALPHA) * t + ALPHA * (1 - t)
    save("bug_alpha_swapped.npy", (swapped * ce * (1 - p_t) ** GAMMA).numpy())

    # The factor on the mean cross-entropy (a scalar), in float64.
    ce_mean = F.cross_entropy(z64, y)
    save("bug_factor_on_mean.npy", (ALPHA * (1 - torch.exp(-ce_mean)) ** GAMMA * ce_mean).reshape(()).numpy())

    # gamma ignored: alpha * CE per row, float64; where the measure is worst.
    ce_rows = F.cross_entropy(z64, y, reduction="none")
    save("bug_gamma_ignored.npy", (ALPHA * ce_rows).numpy())
    exact = paper_softmax(z64, y)
    err = (ALPHA * ce_rows - exact).abs() / torch.clamp(exact.abs(), min=FLOOR64)
    expected["gamma_ignored_row"] = int(torch.argmax(err))

    # A gradient of the mean over rows (torchvision's terms summed per row, then .mean()).
    zz = z32.clone().requires_grad_()
    tv = torchvision.ops.sigmoid_focal_loss(zz, F.one_hot(y, k).float(), alpha=ALPHA, gamma=GAMMA, reduction="none")
    tv.sum(1).mean().backward()
    save("bug_grad_row_mean.npy", zz.grad.numpy())

    # 1 - p formed naively in float32, with rows of large logits.
    zn = z32.clone()
    big = [7, 40, 41]
    for r in big:
        zn[r] = 0.0
        zn[r, (int(y[r]) + 1) % k] = 120.0  # the target's probability underflows in float32
    save("z_naive.npy", zn.numpy())
    prob = torch.softmax(zn, dim=1).gather(1, y.unsqueeze(1)).squeeze(1)
    save("bug_naive.npy", (-ALPHA * (1 - prob) ** GAMMA * torch.log(prob)).numpy())
    expected["naive_first_row"] = big[0]
    expected["naive_non_finite"] = len(big)

    # Segmentation [B, C, H, W], void 255: the paper's softmax in torch, float32, per pixel, with the gradient.
    b, c, h, w = 2, 4, 3, 5
    zs = (torch.randn(b, c, h, w, generator=g) * 3.0).float()
    ys = torch.randint(0, c, (b, h, w), generator=g)
    ys[0, 1, 2] = 255
    ys[1, 0, 0] = 255
    save("seg_z.npy", zs.numpy())
    save("seg_y.npy", ys.numpy().astype(np.int64))
    zz = zs.clone().requires_grad_()
    loss = paper_softmax(zz, ys, ignore=255)
    loss.sum().backward()
    save("seg_paper.npy", loss.detach().numpy())
    save("seg_paper_grad.npy", zz.grad.numpy())
    # gamma ignored on the same pixels (float64): the worst position as a multi-index.
    zs64 = zs.double()
    valid = ys != 255
    safe = torch.where(valid, ys, torch.zeros_like(ys))
    ce_pix = -F.log_softmax(zs64, dim=1).gather(1, safe.unsqueeze(1)).squeeze(1)
    bug = torch.where(valid, ALPHA * ce_pix, torch.zeros_like(ce_pix))
    save("seg_bug_gamma_ignored.npy", bug.numpy())
    exact = paper_softmax(zs64, ys, ignore=255)
    err = torch.where(valid, (bug - exact).abs() / torch.clamp(exact.abs(), min=FLOOR64), torch.zeros_like(bug))
    expected["seg_gamma_ignored_position"] = [int(i) for i in np.unravel_index(int(torch.argmax(err)), err.shape)]

    # kornia's focal_loss per element on the same tensor with -100 as void.
    yk = ys.clone()
    yk[yk == 255] = -100
    save("seg_y_kornia.npy", yk.numpy().astype(np.int64))
    save("seg_kornia.npy", kornia.losses.focal_loss(zs, yk, ALPHA, GAMMA, reduction="none").numpy())

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
