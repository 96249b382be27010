#!/usr/bin/env python3
"""Reference data for the Sleef port and torch's float32 sum grouping
(``src/lens/amp/sleef.rs``, ``src/lens/amp/reduce.rs``), from torch itself
on this CPU: ``tests/lens_sleef.rs`` checks the port bit for bit.

What torch runs (2.15, CPU capability stored in the header)
------------------------------------------------------------
* ``torch.ops.aten.log_sigmoid_forward(x)`` (float32) returns
  ``(min(x, 0) - log1p(buffer), buffer)`` with ``buffer = exp(-|x|)``, both
  through ``Vectorized<float>`` on every element: Sleef's ``expf_u10`` and
  ``log1pf_u10``. The buffer isolates Sleef's ``exp`` on x <= 0.
* ``torch.log_softmax(row)`` of the float32 row ``[0, t, ..., t]`` (n terms,
  t <= 0) returns at index 0 ``-logf_u10(S)`` with ``S`` the sum of
  ``expf_u10(row)`` grouped as ``vec::map_reduce_all`` does: Sleef's ``log``
  on [1, n].
* ``torch.exp(-|x|)`` (float32) is MKL's VML ``vsExp``, not Sleef: stored
  to measure how often the C library's ``expf`` differs from it. (So is
  ``torch.log``, and ``torch.logit``, which calls it.)
* ``x.sum()`` of a contiguous float32 row of length n (1..=130): torch's
  ``cascade_sum`` grouping.

Grids: float32 bit patterns at a fixed stride over every binade of
(0, 104] with both signs, a uniform grid on [-20, 20] and edge values
(log_sigmoid, exp); float32 bit patterns at a fixed stride over [-104, 0]
and a uniform grid on [-20, 0] for n in 2, 5, 15, 16, 37 (log_softmax);
random rows from ``random.Random(SEED)`` with mixed scales and signs (sums).

Output ``tests/reference/sleef_cases.bin``, little endian::

    u32 magic 0x534c4546 ("SLEF"), u32 header length h, h bytes of JSON
        {"torch", "cpu_capability", "generated_by"}
    u32 n, n x (f32 x, f32 buffer, f32 out, f32 exp) # log_sigmoid_forward, torch.exp(-|x|)
    u32 n, n x (f32 n, f32 t, f32 out)               # log_softmax([0, t, ..., t])[0]
    u32 n, n x (u32 len, len x f32, f32 sum)         # sum
"""

import json
import os
import random
import struct

import numpy as np
import torch

SEED = 20261203
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sleef_cases.bin")


def log_sigmoid_grid():
    top = int(np.float32(104).view(np.uint32))
    pos = np.arange(1, top, 1 << 18, dtype=np.uint32).view(np.float32)
    lin = np.linspace(-20, 20, 2001, dtype=np.float32)
    edges = np.float32([0.0, -0.0, 1e-45, -1e-45, 1e-38, -1e-38, -103.97, -104.0, -104.01, 88.7, -88.8])
    return np.unique(np.concatenate([pos, -pos, lin, edges]))


def log_softmax_grid():
    top = int(np.float32(104).view(np.uint32))
    bits = -np.arange(1, top, 1 << 20, dtype=np.uint32).view(np.float32)
    return np.unique(np.concatenate([bits, np.linspace(-20, 0, 1001, dtype=np.float32)]))


def log_softmax_rows():
    out = []
    for n in [2, 5, 15, 16, 37]:
        t = torch.from_numpy(log_softmax_grid())
        rows = torch.cat([torch.zeros(len(t), 1), t[:, None].expand(-1, n - 1)], 1)
        lsm = torch.log_softmax(rows, 1)[:, 0]
        out.append(np.stack([np.full(len(t), n, np.float32), t.numpy(), lsm.numpy()], 1))
    return np.concatenate(out)


def sum_rows(rng):
    rows = []
    for n in range(1, 131):
        for _ in range(3):
            scale = rng.choice([1e-3, 1.0, 30.0])
            rows.append(np.float32([rng.gauss(0.0, scale) * rng.choice([1, 1, 1e-4]) for _ in range(n)]))
    return rows


def main():
    torch.set_num_threads(1)
    x = torch.from_numpy(log_sigmoid_grid())
    out, buf = torch.ops.aten.log_sigmoid_forward(x)
    e = torch.exp(-x.abs())
    lsm = log_softmax_rows()
    rows = sum_rows(random.Random(SEED))
    header = json.dumps(
        {
            "generated_by": "tests/reference/gen_sleef.py",
            "torch": torch.__version__,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        }
    ).encode()
    with open(OUT, "wb") as f:
        f.write(struct.pack("<II", 0x534C4546, len(header)) + header)
        f.write(struct.pack("<I", len(x)))
        f.write(np.stack([x.numpy(), buf.numpy(), out.numpy(), e.numpy()], 1).astype("<f4").tobytes())
        f.write(struct.pack("<I", len(lsm)))
        f.write(lsm.astype("<f4").tobytes())
        f.write(struct.pack("<I", len(rows)))
        for r in rows:
            s = torch.from_numpy(r).sum().numpy()
            f.write(struct.pack("<I", len(r)) + r.astype("<f4").tobytes() + np.float32(s).astype("<f4").tobytes())
    print(f"{len(x)} log_sigmoid, {len(lsm)} log_softmax, {len(rows)} sums -> {OUT}")


if __name__ == "__main__":
    main()
