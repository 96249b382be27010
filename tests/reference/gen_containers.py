#!/usr/bin/env python3
"""Container fixtures for tests/data_containers.rs (issue 17): the arrays of
the .npy fixtures (whose reports tests/reference/gen_tensors.py and
tests/data/gen_fixtures.py pin) packed the way training code saves them,
by the libraries themselves: np.savez (stored members), np.savez_compressed
(deflated members), safetensors.numpy / safetensors.torch (bfloat16).

The tests read each container and the same arrays as .npy and compare the
JSON reports. The broken files are valid ones with a known defect.

Run: /work/venv-ref/bin/python tests/reference/gen_containers.py
The outputs are committed; rerunning gives the same bytes (zip timestamps
are numpy's fixed ones).
"""
import os
import struct

import numpy as np
import torch
from safetensors.numpy import save_file
from safetensors.torch import save_file as save_torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
OUT = os.path.join(DATA, "containers")


def load(name):
    return np.load(os.path.join(DATA, name))


def out(name):
    return os.path.join(OUT, name)


def patch_crc(name):
    """Sets every CRC-32 of the zip (local headers and central directory) to
    a wrong value, so that only inflating and checking finds the defect."""
    data = bytearray(open(out(name), "rb").read())
    for sig, at in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):
        i = data.find(sig)
        while i >= 0:
            (crc,) = struct.unpack_from("<I", data, i + at)
            struct.pack_into("<I", data, i + at, crc ^ 0x5A5A5A5A)
            i = data.find(sig, i + 4)
    open(out(name), "wb").write(bytes(data))


def main():
    os.makedirs(OUT, exist_ok=True)
    seg_z, seg_y = load("tensors/seg_logits.npy"), load("tensors/seg_labels.npy")
    segf_z, segf_y = load("tensors/seg_logits_fortran.npy"), load("tensors/seg_labels_fortran.npy")
    det_z, det_y = load("tensors/det_logits.npy"), load("tensors/det_labels.npy")
    seq_z, seq_y = load("tensors/seq_logits.npy"), load("tensors/seq_labels_flat.npy")
    assert segf_z.flags.f_contiguous and not segf_z.flags.c_contiguous

    # Segmentation [B, C, H, W], in both zip flavours and Fortran order.
    np.savez(out("seg.npz"), logits=seg_z, labels=seg_y)
    np.savez_compressed(out("seg_deflated.npz"), logits=seg_z, labels=seg_y)
    np.savez(out("seg_fortran.npz"), logits=segf_z, labels=segf_y)
    np.savez_compressed(out("seg_fortran_deflated.npz"), logits=segf_z, labels=segf_y)
    # Detection [B, A, K] as safetensors; sequence under other names (FILE:NAME).
    save_file({"logits": det_z, "labels": det_y}, out("det.safetensors"))
    np.savez(out("seq_named.npz"), scores=seq_z, targets=seq_y)
    np.savez_compressed(out("seq_named_deflated.npz"), scores=seq_z, targets=seq_y)

    # [6, 3] in every float dtype (the values are exact in bfloat16 too),
    # labels as integers and as floats.
    z, y = load("logits_f8.npy"), load("labels_i8.npy")
    assert np.array_equal(torch.from_numpy(z).to(torch.bfloat16).double().numpy(), z)
    tensors = {
        "f16": torch.from_numpy(z.astype(np.float16)),
        "bf16": torch.from_numpy(z).to(torch.bfloat16),
        "f32": torch.from_numpy(z.astype(np.float32)),
        "f64": torch.from_numpy(z),
        "labels": torch.from_numpy(y),
        "labels_f32": torch.from_numpy(y.astype(np.float32)),
        "labels_half": torch.from_numpy(np.array([0, 1, 2, 0, 2, 0.5], dtype=np.float32)),
        "labels_void": torch.from_numpy(np.array([0, 1, 255, 0, 2, 1], dtype=np.float32)),
        "ints": torch.from_numpy(y.reshape(6, 1).repeat(3, axis=1).astype(np.int32)),
        "complex": torch.zeros(6, 3, dtype=torch.complex64),
    }
    # bfloat16 infinity at row 3, class 1: the finiteness check of the bf16 decode.
    tensors["bf16_inf"] = tensors["bf16"].clone()
    tensors["bf16_inf"][2, 1] = float("inf")
    save_torch(tensors, out("dtypes.safetensors"))
    # [6, 3] float32 as np.savez_compressed writes it (read in order, like standard input).
    np.savez_compressed(out("small_deflated.npz"), logits=z.astype(np.float32), labels=y)

    # Defects.
    np.savez(out("no_labels.npz"), logits=z)
    np.savez_compressed(out("bad_crc.npz"), logits=seg_z, labels=seg_y)
    patch_crc("bad_crc.npz")
    whole = open(out("seg.npz"), "rb").read()
    open(out("truncated.npz"), "wb").write(whole[: len(whole) // 2])
    good = open(out("det.safetensors"), "rb").read()
    open(out("truncated.safetensors"), "wb").write(good[:-8])
    (n,) = struct.unpack_from("<Q", good)
    header = good[8 : 8 + n].replace(b'"dtype"', b'"dtypo"')
    open(out("bad_header.safetensors"), "wb").write(good[:8] + header + good[8 + n :])
    open(out("not_a_zip.npz"), "wb").write(b"this is text, not a zip archive\n")
    # An item of 12 MiB of class planes, deflated: more than the window a
    # deflated member keeps, so read by one inflater per plane. Values that
    # tell the planes and positions apart, yet compress well (the test
    # writes the same arrays as .npy from the same formulas).
    h, w = 1024, 1024
    pos = np.arange(h * w).reshape(h, w)
    planes = np.stack([c + (pos % 7) * 0.25 for c in range(3)]).astype(np.float32)
    np.savez_compressed(
        out("big_item_deflated.npz"), logits=planes[None], labels=(pos % 3).astype(np.uint8)[None]
    )
    # 65 planes over 8 MiB: more inflaters than allowed.
    np.savez_compressed(
        out("many_planes_deflated.npz"),
        logits=np.zeros((1, 65, 256, 128), np.float32),
        labels=np.zeros((1, 256, 128), np.uint8),
    )

if __name__ == "__main__":
    main()
