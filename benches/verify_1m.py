#!/usr/bin/env python3
"""`focal-tui verify` on 1 000 000 rows, end to end.

    cargo build --release --locked
    /work/venv-ref/bin/python benches/verify_1m.py [--runs 7] [--dir /tmp/verify_1m]

Writes, once, 1 000 000 x 10 float32 logits (N(0, 3)) and int64 labels, the
paper's softmax focal loss per row (torch, log_softmax) and torchvision's
sigmoid_focal_loss per element with its autograd gradient (torch is needed
only for that), then times the process three ways -- per-row losses;
per-element losses; per-element losses and the gradient; and the last with
multi-label targets shaped like the logits -- and prints the
median wall and CPU (user + sys of the child) times and the peak resident
memory of each. Every run must report "within" (status 0). FOCAL_TUI names another binary
(a paired before/after); VERIFY_CASES=0,1 runs only those cases.
"""

import argparse
import os
import resource
import statistics
import subprocess
import time

import numpy as np

BIN = os.environ.get("FOCAL_TUI", os.path.join(os.path.dirname(__file__), "..", "target", "release", "focal-tui"))


def write(d):
    import torch
    import torch.nn.functional as F
    import torchvision

    torch.manual_seed(1)
    n, k = 1_000_000, 10
    z = torch.randn(n, k) * 3
    y = torch.randint(0, k, (n,))
    np.save(os.path.join(d, "z.npy"), z.numpy())
    np.save(os.path.join(d, "y.npy"), y.numpy())
    logp = F.log_softmax(z, 1).gather(1, y[:, None])[:, 0]
    np.save(os.path.join(d, "paper.npy"), (-0.25 * (-torch.expm1(logp)) ** 2 * logp).numpy())
    zz = z.clone().requires_grad_()
    loss = torchvision.ops.sigmoid_focal_loss(zz, F.one_hot(y, k).float(), reduction="none")
    loss.sum().backward()
    np.save(os.path.join(d, "tv.npy"), loss.detach().numpy())
    np.save(os.path.join(d, "tv_grad.npy"), zz.grad.numpy())
    write_targets(d)


def write_targets(d):
    """Multi-label targets shaped like the logits and torchvision's loss of them."""
    import torch
    import torchvision

    torch.manual_seed(2)
    z = torch.from_numpy(np.load(os.path.join(d, "z.npy")))
    t = (torch.rand(z.shape) < 0.2).float()
    np.save(os.path.join(d, "t.npy"), t.numpy())
    zz = z.clone().requires_grad_()
    loss = torchvision.ops.sigmoid_focal_loss(zz, t, reduction="none")
    loss.sum().backward()
    np.save(os.path.join(d, "tv_multi.npy"), loss.detach().numpy())
    np.save(os.path.join(d, "tv_multi_grad.npy"), zz.grad.numpy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--dir", default="/tmp/verify_1m")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    if not os.path.exists(os.path.join(a.dir, "tv_grad.npy")):
        write(a.dir)
    if not os.path.exists(os.path.join(a.dir, "tv_multi_grad.npy")):
        write_targets(a.dir)
    base = ["verify", "--logits", "z.npy"]
    y = ["--labels", "y.npy"]
    cases = {
        "paper softmax, per row": [*y, "--loss", "paper.npy"],
        "torchvision, per element": [*y, "--loss", "tv.npy", "--profile", "torchvision"],
        "torchvision, per element + gradient": [*y, "--loss", "tv.npy", "--grad", "tv_grad.npy", "--profile", "torchvision"],
        "torchvision, multi-label targets, per element + gradient": [
            "--labels", "t.npy", "--loss", "tv_multi.npy", "--grad", "tv_multi_grad.npy", "--profile", "torchvision"
        ],
    }
    only = os.environ.get("VERIFY_CASES")
    if only:
        cases = {k: v for i, (k, v) in enumerate(cases.items()) if str(i) in only.split(",")}
    for name, extra in cases.items():
        walls, cpus, peak = [], [], 0
        for _ in range(a.runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            done = subprocess.run([BIN, *base, *extra], cwd=a.dir, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            peak = max(peak, after.ru_maxrss)
            assert done.returncode == 0, f"{name}: status {done.returncode}"
        print(
            f"{name}: wall {statistics.median(walls):.2f} s, CPU {statistics.median(cpus):.2f} s"
            f" (median of {a.runs}), peak RSS {peak / 1024:.0f} MiB"
        )


if __name__ == "__main__":
    main()
