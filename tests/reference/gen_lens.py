#!/usr/bin/env python3
"""Reference data for the precision lens (``src/lens.rs``): what a *naive*
softmax focal loss returns in float32, float16 and bfloat16.

What it computes
----------------
For each case (logits ``z`` of length K >= 1, 0-based target ``t``,
``gamma >= 0``, ``alpha_t``) and each format the naive algorithm, with every
intermediate a numpy scalar of that format (numpy ``float32``/``float16``,
ml_dtypes ``bfloat16``), so that each operation rounds to the format::

    z_i = the input rounded once to the format
    e_i = exp(z_i)                      (no max subtraction)
    s   = e_0 + e_1 + ... + e_{K-1}     (left to right)
    p_i = e_i / s
    log_p = log(p_t);  ce = -log_p;  one_minus = 1 - p_t
    g, a = gamma, alpha_t rounded to the format
    m   = one_minus ** g
    fl  = (a * m) * ce
    G   = a * ((((g * p_t) * one_minus ** (g - 1)) * log_p) - m)
    grad_i = G * (delta_it - p_i)

and stores p_t, cross_entropy (ce), focal_loss (fl) and gradient.

How, and why this way
---------------------
* ``+ - * /`` are numpy / ml_dtypes scalar arithmetic of the format.  Both
  compute in float32 and round the result to the format, which is correctly
  rounded (float32 has more than 2p + 2 bits); the script *checks* this
  against exact rational arithmetic (``fractions.Fraction``) on random
  operands, subnormals and overflow included, and stops if any result is not
  the correctly rounded one.
* Inputs are rounded from float64 to the format by exact rational
  arithmetic (``round_exact``).  numpy's own float64 -> float16 conversion
  agrees (checked); ml_dtypes' float64 -> bfloat16 rounds through float32,
  which is wrong when the float32 value lands on a bfloat16 tie (e.g.
  1 + 2**-8 + 2**-40 becomes 1.0 instead of 1.0078125), so it is not used.
* exp, log and pow are evaluated in float64 (Python's ``math``, i.e. the C
  library's double functions, < 1 ulp of float64) and rounded to float32,
  then to the format: the correctly rounded float32 function (barring a
  float64 result within ~1e-16 of a float32 midpoint), rounded to the
  format, which is what the Rust side does with the C library's
  ``expf``/``logf``/``powf``.  The C99 special cases are applied by hand
  (exp overflow -> inf, log 0 -> -inf, pow(0, y<0) -> inf, pow(x, 0) -> 1).
  numpy's own float32 ``exp``/``log`` ufuncs are SIMD approximations whose
  error depends on the CPU (up to 2 ulp for exp and 4 ulp for log on an
  AVX-512 machine), and ``1 - p_t`` magnifies such differences by up to
  1/(1 - p_t); so the asserted values use the correctly rounded functions,
  and the values with numpy's own ufuncs (``np.exp``, ``np.log``,
  ``np.power`` on the format's scalars) are stored under ``numpy_ufuncs``
  for information only.  The script prints how far the two variants differ.
* Random cases use ``random.Random(SEED)``, so the output is deterministic
  for a given numpy / ml_dtypes / C library.

Output
------
``tests/reference/lens_cases.json``::

    {"generated_by", "numpy", "ml_dtypes",
     "cases": [{"name", "logits": [str], "target", "gamma": str, "alpha": str,
                "expect": {"float32" | "float16" | "bfloat16":
                           {"p_t", "cross_entropy", "focal_loss", "gradient": [str]}},
                "numpy_ufuncs": {same layout}}]}

Inputs are ``repr(float)`` strings (exactly parseable); values are
``repr(float(x))`` of the format's value widened to float64, which is exact:
"0.0001234", "-0.0", "inf", "-inf", "nan".

Regenerate
----------
From the repository root::

    pip install numpy ml_dtypes
    python3 tests/reference/gen_lens.py

(about half a minute, mostly the arithmetic check; ``cargo test --test lens``
reads the result).
"""

import json
import math
import os
import random
import sys
import warnings
from fractions import Fraction

import ml_dtypes
import numpy as np

SEED = 20240611
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lens_cases.json")


class Format:
    def __init__(self, name, dtype, p, emin, emax):
        self.name, self.dtype, self.p, self.emin, self.emax = name, dtype, p, emin, emax
        self.max = (2 - Fraction(2) ** (1 - p)) * Fraction(2) ** emax


FORMATS = [
    Format("float32", np.float32, 24, -126, 127),
    Format("float16", np.float16, 11, -14, 15),
    Format("bfloat16", ml_dtypes.bfloat16, 8, -126, 127),
]


def round_exact(x, f):
    """The float64 (or Fraction) ``x`` rounded to nearest-even in format ``f``,
    as a Python float (exactly the format's value)."""
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return x
    q = Fraction(x)
    if q == 0:
        return math.copysign(0.0, x) if isinstance(x, float) else 0.0
    sign = -1.0 if q < 0 else 1.0
    q = abs(q)
    e = q.numerator.bit_length() - q.denominator.bit_length()
    if Fraction(2) ** e > q:
        e -= 1
    assert Fraction(2) ** e <= q < Fraction(2) ** (e + 1)
    quantum = Fraction(2) ** (max(e, f.emin) - f.p + 1)
    n = q / quantum
    ni = n.numerator // n.denominator
    rem = n - ni
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and ni % 2 == 1):
        ni += 1
    v = ni * quantum
    if v > f.max:
        return sign * math.inf
    return sign * float(v)


def to_fmt(x, f):
    """float64 -> format scalar, rounded once."""
    return f.dtype(round_exact(x, f))


# Elementary functions: float64 C library, rounded to float32, then to the format.
def c_exp(x):
    if math.isnan(x):
        return math.nan
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def c_log(x):
    if math.isnan(x) or x < 0:
        return math.nan
    if x == 0:
        return -math.inf
    return math.log(x)


def c_pow(x, y):
    # C99 F.9.4.4, for the x >= 0 (or NaN) that occur here.
    if y == 0 or x == 1:
        return 1.0
    if math.isnan(x) or math.isnan(y):
        return math.nan
    if x == 0:
        return math.inf if y < 0 else 0.0
    if math.isinf(x):
        return math.inf if y > 0 else 0.0
    try:
        return math.pow(x, y)
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def rounded(fn, f):
    def go(*args):
        v = fn(*(float(a) for a in args))
        return f.dtype(np.float32(v))

    return go


def naive(logits, t, gamma, alpha, f, ufuncs):
    """The naive algorithm of the module docstring in format ``f``."""
    if ufuncs:
        exp, log, pw = np.exp, np.log, np.power
    else:
        exp, log, pw = rounded(c_exp, f), rounded(c_log, f), rounded(c_pow, f)
    dt = f.dtype
    one, zero = dt(1), dt(0)
    z = [to_fmt(x, f) for x in logits]
    e = [exp(v) for v in z]
    s = e[0]
    for v in e[1:]:
        s = s + v
    p = [v / s for v in e]
    p_t = p[t]
    log_p = log(p_t)
    ce = -log_p
    one_minus = one - p_t
    g, a = to_fmt(gamma, f), to_fmt(alpha, f)
    m = pw(one_minus, g)
    fl = (a * m) * ce
    pw1 = pw(one_minus, g - one)
    term = ((g * p_t) * pw1) * log_p
    big_g = a * (term - m)
    grad = [big_g * ((one if i == t else zero) - p_i) for i, p_i in enumerate(p)]
    for v in [*e, s, *p, log_p, ce, one_minus, m, fl, pw1, term, big_g, *grad]:
        assert type(v) is dt, (f.name, type(v))
    return {
        "p_t": repr(float(p_t)),
        "cross_entropy": repr(float(ce)),
        "focal_loss": repr(float(fl)),
        "gradient": [repr(float(v)) for v in grad],
    }


def check_arithmetic(rng):
    """numpy / ml_dtypes scalar + - * / must be correctly rounded to the format."""
    checked = 0
    for f in FORMATS:
        # Operands: random bit patterns of the format, biased to interesting exponents.
        bits = {"float32": (np.uint32, 32), "float16": (np.uint16, 16), "bfloat16": (np.uint16, 16)}[f.name]
        vals = []
        while len(vals) < 3000:
            b = rng.getrandbits(bits[1])
            v = np.array([b], dtype=bits[0]).view(f.dtype)[0]
            if math.isfinite(float(v)):
                vals.append(v)
        vals += [f.dtype(x) for x in (0.0, 1.0, -1.0, 2.0**-20, 3.0, 65504.0 if f.name == "float16" else 1e38)]
        for _ in range(40000):
            a, b = rng.choice(vals), rng.choice(vals)
            fa, fb = Fraction(float(a)), Fraction(float(b))
            for op, exact in (
                ("+", lambda: fa + fb),
                ("-", lambda: fa - fb),
                ("*", lambda: fa * fb),
                ("/", lambda: fa / fb if fb != 0 else None),
            ):
                want = exact()
                if want is None:
                    continue
                got = {"+": a + b, "-": a - b, "*": a * b, "/": a / b}[op]
                assert type(got) is f.dtype
                w = round_exact(want, f)
                if float(got) != w and not (float(got) == 0 and w == 0):
                    sys.exit(f"{f.name}: {float(a)!r} {op} {float(b)!r} = {float(got)!r}, correctly rounded {w!r}")
                checked += 1
    return checked


def check_conversions(rng):
    """numpy's float64 -> float32/float16 agree with round_exact; count where
    ml_dtypes' float64 -> bfloat16 (through float32) does not."""
    bad_bf16 = 0
    probes = [1 + 2.0**-8 + 2.0**-40, 1 + 2.0**-11 + 2.0**-40]
    probes += [rng.uniform(-100, 100) for _ in range(20000)]
    probes += [math.ldexp(rng.getrandbits(53) | 1, rng.randint(-200, 80) - 52) for _ in range(20000)]
    for x in probes:
        assert float(np.float32(x)) == round_exact(x, FORMATS[0]), x
        assert float(np.float16(x)) == round_exact(x, FORMATS[1]), x
        if float(ml_dtypes.bfloat16(x)) != round_exact(x, FORMATS[2]):
            bad_bf16 += 1
    return len(probes), bad_bf16


def r3(x):
    return float(f"{x:.3f}")


def cases():
    rng = random.Random(SEED)
    out = []

    def add(name, logits, t, gamma=2.0, alpha=0.25):
        out.append({"name": name, "logits": [float(v) for v in logits], "target": t, "gamma": gamma, "alpha": alpha})

    add("seed example 1", [-1, 3, -0.5], 1)
    add("seed example 2", [1.5, -0.8, 0.2], 1)
    add("p_t rounds to 1 in f32 and bf16, f16 exp(40) overflows", [0, 40], 1)
    add("[0, 800] gamma 0.1: exp overflows everywhere", [0, 800], 1, 0.1)
    add("[1000, 0] target 1: p_t = 1/inf = 0", [1000, 0], 1)
    add("[12, 0] target 0: f16 exp overflow, inf/inf", [12, 0], 0)
    add("[0, 20] gamma 0.5: NaN gradient (f32, bf16), f16 overflow", [0, 20], 1, 0.5)
    add("[0, 10] gamma 0.5: p_t rounds to 1 in f16 and bf16", [0, 10], 1, 0.5)
    add("gamma 0", [1.5, -0.8, 0.2], 1, 0.0)
    add("gamma 0, p_t rounds to 1", [0, 20], 1, 0.0)
    add("gamma 1, p_t rounds to 1", [0, 20], 1, 1.0)
    add("K = 1", [3], 0)
    add("K = 1, gamma 0.5: NaN gradient", [3], 0, 0.5)
    add("K = 1, f16 exp underflows: 0/0", [-20], 0)
    add("[-20, -20]: f16 0/0", [-20, -20], 0)
    add("[-60, 60] target 0: p_t underflows in the division", [-60, 60], 0)
    add("[-20, 0] target 0: f16 exp(-20) = 0", [-20, 0], 0)
    add("[11, 11]: f16 sum of exps overflows", [11, 11], 0)
    add("[0, 3] gamma 20: f16 (1 - p_t)^gamma underflows", [0, 3], 1, 20.0)
    add("[0, 5] gamma 3: f16 FL product underflows", [0, 5], 1, 3.0)
    add("alpha 1e-9 rounds to 0 in f16", [1.5, -0.8, 0.2], 1, 2.0, 1e-9)
    add("alpha 0", [1.5, -0.8, 0.2], 1, 2.0, 0.0)
    add("alpha 0, p_t = 0", [1000, 0], 1, 2.0, 0.0)
    add("[70000, 0]: logit overflows f16", [70000, 0], 1)
    add("[-70000, 0]: logit overflows f16 to -inf", [-70000, 0], 1)
    add("[1e5, -1e5] target 0", [1e5, -1e5], 0)
    add("[1e39, 0]: logit overflows f32 and bf16", [1e39, 0], 0)
    add("input that double rounding through f32 gets wrong in bf16", [1 + 2.0**-8 + 2.0**-40, 0], 0)
    add("input that double rounding through f32 gets wrong in f16", [1 + 2.0**-11 + 2.0**-40, 0.5], 1)
    add("gamma 20 ordinary", [0.3, -1.2, 2.2, 0.9], 2, 20.0, 0.75)
    add("many equal logits: f16 sum stalls", [0.0] * 8, 3)
    add("p_t = 1/2 exactly", [0.7, 0.7], 0)

    for i in range(60):
        k = rng.randint(2, 8)
        logits = [r3(rng.uniform(-10, 10)) for _ in range(k)]
        gamma = rng.choice([0.0, 0.5, 1.0, 2.0, 5.0])
        alpha = rng.choice([0.25, 0.5, 1.0, r3(rng.uniform(0, 1))])
        add(f"random {i}", logits, rng.randrange(k), gamma, alpha)
    for i in range(20):
        k = rng.randint(1, 8)
        scale = rng.choice([30.0, 100.0, 200.0, 1000.0])
        logits = [r3(rng.uniform(-scale, scale)) for _ in range(k)]
        gamma = rng.choice([0.0, 0.25, 0.5, 1.0, 2.0, 5.0, 20.0, r3(rng.uniform(0, 20))])
        alpha = rng.choice([0.0, 0.25, 1.0, r3(rng.uniform(0, 1))])
        t = max(range(k), key=lambda j: logits[j]) if rng.random() < 0.5 else rng.randrange(k)
        add(f"extreme {i}", logits, t, gamma, alpha)
    return out


def ulp_diff(a, b, f):
    """Distance in representable values of format f between two of its values."""
    def ordered(x):
        raw = np.array([x], dtype=f.dtype)
        if f.name == "float32":
            n = int(raw.view(np.uint32)[0])
            mag, sign = n & 0x7FFFFFFF, n >> 31
        else:
            n = int(raw.view(np.uint16)[0])
            mag, sign = n & 0x7FFF, n >> 15
        return -mag if sign else mag

    return abs(ordered(a) - ordered(b))


def kind(x):
    return "nan" if math.isnan(x) else ("inf" if math.isinf(x) else ("0" if x == 0 else "finite"))


def main():
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    rng = random.Random(SEED + 1)
    checked = check_arithmetic(rng)
    print(f"scalar + - * / correctly rounded in all three formats: {checked} checks")
    probes, bad = check_conversions(rng)
    print(f"float64 -> format: numpy float32/float16 correct on {probes} probes; "
          f"ml_dtypes bfloat16(float64) double-rounds wrongly on {bad}")

    doc = {
        "generated_by": "tests/reference/gen_lens.py",
        "numpy": np.__version__,
        "ml_dtypes": ml_dtypes.__version__,
        "cases": [],
    }
    worst = {f.name: (0, "") for f in FORMATS}
    class_diff = 0
    for c in cases():
        expect, native = {}, {}
        for f in FORMATS:
            args = (c["logits"], c["target"], c["gamma"], c["alpha"], f)
            expect[f.name] = naive(*args, ufuncs=False)
            native[f.name] = naive(*args, ufuncs=True)
            a, b = expect[f.name], native[f.name]
            pairs = [(a[key], b[key]) for key in ("p_t", "cross_entropy", "focal_loss")]
            pairs += zip(a["gradient"], b["gradient"])
            for x, y in pairs:
                x, y = float(x), float(y)
                if kind(x) != kind(y):
                    class_diff += 1
                elif math.isfinite(x):
                    d = ulp_diff(x, y, f)
                    if d > worst[f.name][0]:
                        worst[f.name] = (d, c["name"])
        doc["cases"].append(
            {
                "name": c["name"],
                "logits": [repr(v) for v in c["logits"]],
                "target": c["target"],
                "gamma": repr(c["gamma"]),
                "alpha": repr(c["alpha"]),
                "expect": expect,
                "numpy_ufuncs": native,
            }
        )
    with open(OUT, "w") as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print(f"wrote {len(doc['cases'])} cases to {os.path.relpath(OUT)}")
    for name, (d, where) in worst.items():
        print(f"numpy's own exp/log/pow vs correctly rounded, {name}: worst {d} ulp ({where})")
    print(f"values classified differently (0 / inf / NaN / finite) by the two: {class_diff}")


if __name__ == "__main__":
    main()
