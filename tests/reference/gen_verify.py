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

Per-class targets, background, probabilities and containers
(`targets_dumps`), each read as `data` reads them:
- torchvision.ops.sigmoid_focal_loss with multi-label (0/1) and soft
  targets shaped like the logits, float32 and float64, with gradients;
  the paper's softmax of a target distribution, written in torch;
- a background label (K, as mmdet encodes it): its rows all negatives,
  and the sum divided by the positive rows (RetinaNet's normaliser);
- probabilities: torch's binary_cross_entropy on sigmoid outputs
  (torchvision's formula with p given), and the softmax focal loss of
  softmax outputs;
- the same arrays in an .npz (logits and labels by their default names)
  and a .safetensors file (FILE:NAME);
- broken: alpha swapped on multi-label targets, gamma ignored on soft
  targets (float64), and log(1 - p) formed naively in float32 with rows
  of large logits (a negative's 1 - p rounds to 0: inf).
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
import kornia
from safetensors.numpy import save_file

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


def err64(theirs, exact):
    """The documented error measure of a loss, float64."""
    return (theirs - exact).abs() / torch.clamp(exact.abs(), min=FLOOR64)


def worst(err):
    """The multi-index of the largest error."""
    return [int(i) for i in np.unravel_index(int(torch.argmax(err)), err.shape)]


def tv(z, t, reduction="none", alpha=ALPHA):
    """torchvision's loss of z against t, and the gradient of its sum (or of itself, reduced)."""
    zz = z.clone().requires_grad_()
    loss = torchvision.ops.sigmoid_focal_loss(zz, t, alpha=alpha, gamma=GAMMA, reduction=reduction)
    (loss.sum() if reduction == "none" else loss).backward()
    return loss.detach(), zz.grad


def targets_dumps(g, z32, y, expected):
    n, k = z32.shape
    z64 = z32.double()
    # Multi-label: each class positive with probability 0.3 (some rows without any).
    multi = (torch.rand(n, k, generator=g) < 0.3).float()
    save("t_multi.npy", multi.numpy())
    # Soft targets in [0, 1], stored float32 (the values the Rust reader reads).
    soft = torch.rand(n, k, generator=g).float()
    soft[::7, 0] = 1.0
    soft[::5, 1] = 0.0
    save("t_soft.npy", soft.numpy())
    for t, name in [(multi, "multi"), (soft, "soft")]:
        for dtype, tag in [(torch.float32, "f32"), (torch.float64, "f64")]:
            loss, grad = tv(z32.to(dtype), t.to(dtype))
            save(f"tv_{name}_{tag}_none.npy", loss.numpy())
            save(f"tv_{name}_{tag}_none_grad.npy", grad.numpy())
        loss, grad = tv(z64, t.double(), "mean")
        save(f"tv_{name}_f64_mean.npy", loss.numpy())
        save(f"tv_{name}_f64_mean_grad.npy", grad.numpy())

    # A target distribution (softmax, the paper's form with q): per row, float64, with its gradient.
    q = torch.softmax(torch.randn(n, k, generator=g, dtype=torch.float64), dim=1).float()
    save("t_dist.npy", q.numpy())
    zz = z64.clone().requires_grad_()
    logp = F.log_softmax(zz, dim=1)
    dist = (-ALPHA * q.double() * (-torch.expm1(logp)) ** GAMMA * logp).sum(1)
    dist.sum().backward()
    save("dist_paper.npy", dist.detach().numpy())
    save("dist_paper_grad.npy", zz.grad.numpy())

    # Background: label K on some rows (all negatives); RetinaNet's sum over the positive rows.
    yb = y.clone()
    yb[::4] = k
    save("y_bg.npy", yb.numpy())
    tb = F.one_hot(yb, k + 1)[:, :k].double()
    loss, grad = tv(z64, tb)
    save("bg_none.npy", loss.numpy())
    positives = int((yb != k).sum())
    zz = z64.clone().requires_grad_()
    red = torchvision.ops.sigmoid_focal_loss(zz, tb, alpha=ALPHA, gamma=GAMMA, reduction="sum") / positives
    red.backward()
    save("bg_per_positive.npy", red.detach().reshape(()).numpy())
    save("bg_per_positive_grad.npy", zz.grad.numpy())
    expected["bg_positives"] = positives

    # Probabilities: torchvision's formula with p given (binary_cross_entropy), float64.
    p = torch.sigmoid(z64)
    save("p_sigmoid.npy", p.numpy())
    t = multi.double()
    ce = F.binary_cross_entropy(p, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    save("p_sigmoid_loss.npy", ((ALPHA * t + (1 - ALPHA) * (1 - t)) * ce * (1 - p_t) ** GAMMA).numpy())
    ps = torch.softmax(z64, dim=1)
    save("p_softmax.npy", ps.numpy())
    pt = ps.gather(1, y.unsqueeze(1)).squeeze(1)
    save("p_softmax_loss.npy", (-ALPHA * (1 - pt) ** GAMMA * torch.log(pt)).numpy())

    # Containers: logits and labels by their default names; safetensors tensors picked by name.
    np.savez(os.path.join(OUT, "multi.npz"), logits=z32.numpy(), labels=multi.numpy(), loss=np.load(os.path.join(OUT, "tv_multi_f64_none.npy")))
    save_file({"z": z32.numpy(), "soft": soft.numpy()}, os.path.join(OUT, "soft.safetensors"))

    # Broken: alpha swapped on multi-label targets (float64).
    loss, _ = tv(z64, t, alpha=1 - ALPHA)
    save("bug_multi_alpha_swapped.npy", loss.numpy())
    # gamma ignored on soft targets (float64): where the measure is worst.
    ts = soft.double()
    ce = F.binary_cross_entropy_with_logits(z64, ts, reduction="none")
    alpha_t = ALPHA * ts + (1 - ALPHA) * (1 - ts)
    save("bug_soft_gamma_ignored.npy", (alpha_t * ce).numpy())
    exact, _ = tv(z64, ts)
    expected["soft_gamma_ignored_at"] = worst(err64(alpha_t * ce, exact))
    # log(1 - p) formed naively in float32: a negative class at logit 20 has 1 - p = 0.
    zn = z32.clone()
    planted = [(3, None), (50, None)]
    for i, (r, _) in enumerate(planted):
        c = int(torch.nonzero(multi[r] == 0)[0])
        zn[r, c] = 20.0
        planted[i] = (r, c)
    save("z_multi_naive.npy", zn.numpy())
    pn = torch.sigmoid(zn)
    naive = -(multi * torch.log(pn) + (1 - multi) * torch.log(1 - pn))
    p_t = pn * multi + (1 - pn) * (1 - multi)
    save("bug_multi_naive.npy", ((ALPHA * multi + (1 - ALPHA) * (1 - multi)) * naive * (1 - p_t) ** GAMMA).numpy())
    expected["multi_naive_first"] = list(planted[0])
    expected["multi_naive_non_finite"] = len(planted)


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

    targets_dumps(g, z32, y, expected)

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
