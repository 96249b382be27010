#!/usr/bin/env python3
"""Small .npy fixtures for tests/data_read.rs, written by NumPy itself.

Why NumPy: the reader must agree with the files real users have, so the
headers (padding, key order, version), byte orders and Fortran layout come
from ``np.save`` / ``np.lib.format.write_array``, not from our own writer.

Every logits array holds the same values ``Z`` (multiples of 1/8, exact in
float16, float32 and float64), so every fixture must read back as ``Z``.
The broken files are valid ones with a known defect, made here so that the
tests can state the exact message.

Run from anywhere: ``python3 tests/data/gen_fixtures.py`` (numpy >= 1.17).
The outputs are committed; rerunning gives the same bytes.
"""

import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# 6 examples, K = 3.
Z = np.array(
    [
        [1.5, -0.25, 0.0],
        [-2.0, 3.75, 0.5],
        [0.25, 0.125, -1.0],
        [4.0, -4.0, 2.5],
        [-0.5, 1.0, 1.25],
        [0.75, -3.5, 2.0],
    ]
)
Y = np.array([0, 1, 2, 0, 2, 1])


def path(name):
    return os.path.join(HERE, name)


def save(name, array, version=None):
    with open(path(name), "wb") as f:
        if version is None:
            np.save(f, array)
        else:
            np.lib.format.write_array(f, array, version=version)


def main():
    # Logits in every supported dtype, byte order, layout and format version.
    save("logits_f8.npy", Z.astype("<f8"))
    save("logits_f4.npy", Z.astype("<f4"))
    save("logits_f2.npy", Z.astype("<f2"))
    save("logits_f8_be.npy", Z.astype(">f8"))
    save("logits_f4_be.npy", Z.astype(">f4"))
    save("logits_fortran.npy", np.asfortranarray(Z.astype("<f4")))
    save("logits_v2.npy", Z, version=(2, 0))
    save("logits_v3.npy", Z, version=(3, 0))
    # Labels in several integer dtypes.
    save("labels_i8.npy", Y.astype("<i8"))
    save("labels_u1.npy", Y.astype("|u1"))
    save("labels_i4.npy", Y.astype("<i4"))
    save("labels_i4_be.npy", Y.astype(">i4"))
    save("labels_u2_be.npy", Y.astype(">u2"))

    # A larger Fortran-order array, so that batches cross its columns.
    rng = np.random.default_rng(7)
    big = np.round(rng.normal(size=(23, 4)) * 8) / 8
    save("fortran_23x4.npy", np.asfortranarray(big))
    save("fortran_23x4_c.npy", np.ascontiguousarray(big))
    save("labels_23.npy", rng.integers(0, 4, size=23).astype("<i8"))

    # Invalid rows: row 3 has a NaN (class 1), row 5 an inf (class 0);
    # labels: row 2 is -1, row 4 is 3 (K = 3).
    bad = Z.copy()
    bad[2, 1] = np.nan
    bad[4, 0] = np.inf
    save("logits_nonfinite.npy", bad)
    save("labels_bad.npy", np.array([0, -1, 2, 3, 2, 1], dtype="<i8"))

    # Wrong shapes and dtypes.
    save("labels_5.npy", Y[:5].astype("<i8"))
    save("logits_1d.npy", Z[:, 0].copy())
    save("logits_i8.npy", Z.astype("<i8"))
    save("labels_f8.npy", Y.astype("<f8"))
    save("labels_2d.npy", Y.reshape(6, 1).astype("<i8"))

    # Truncated: the header and 2 rows of 3 float64, then 5 bytes of row 3.
    data = open(path("logits_f8.npy"), "rb").read()
    offset = len(data) - Z.size * 8
    with open(path("truncated.npy"), "wb") as f:
        f.write(data[: offset + 2 * 3 * 8 + 5])

    # Corrupt header: "(6, 3)" becomes "(6; 3)", same length.
    assert b"(6, 3)" in data
    with open(path("corrupt_header.npy"), "wb") as f:
        f.write(data.replace(b"(6, 3)", b"(6; 3)", 1))

    # A validation set for the dataset view's screenshots: 3000 rows of 4
    # classes, imbalanced (70/20/8/2 %), the model surer of the common ones.
    rng = np.random.default_rng(7)
    labels = rng.choice(4, size=3000, p=[0.7, 0.2, 0.08, 0.02])
    logits = rng.uniform(-2.0, 2.0, size=(3000, 4))
    logits[np.arange(3000), labels] += np.array([4.0, 2.0, 1.0, 0.5])[labels]
    save("val_logits.npy", logits.astype("<f4"))
    save("val_labels.npy", labels.astype("<i8"))


if __name__ == "__main__":
    main()
