#!/usr/bin/env python3
"""High-precision reference data for the focal-tui focal-loss implementation.

What it computes
----------------
For each test case (logits ``z`` of length K >= 1, 0-based target ``t``,
focusing parameter ``gamma >= 0`` and ``alpha`` as a scalar or a list of K
values) the script computes, at 60 significant decimal digits
(``mp.dps = 60``), the quantities the Rust crate reports:

softmax mode
    alpha_t            alpha (scalar) or alpha[t] (per-class list)
    probabilities      p_i = softmax(z)_i
    p_t, one_minus_p_t one_minus_p_t = sum_{i != t} p_i (never 1 - p_t, which
                       cancels catastrophically when p_t ~ 1)
    cross_entropy      lse(z) - z_t = -log p_t
    modulating_factor  one_minus_p_t ** gamma   (0 ** 0 = 1)
    focal_loss         alpha_t * modulating_factor * cross_entropy
    gradient           dFL/dz_i = alpha_t * (g p_t m^(g-1) log p_t - m^g) * (delta_it - p_i)
                       with m = one_minus_p_t, evaluated as
                       alpha_t * m^g * (g p_t (log p_t)/m - 1) * (delta_it - p_i)
                       (no huge intermediate m^(g-1) when g < 1); 0 when m == 0.
    grad_ce            dCE/dz_i = p_i - delta_it (for i = t: -one_minus_p_t)

sigmoid mode (torchvision ``sigmoid_focal_loss`` semantics, reduction = sum)
    Class i is a binary problem with label y_i = [i == t].  With s = +1 if
    y_i else -1, u = s*z_i:  pt_i = sigmoid(u), one_minus_pt_i = sigmoid(-u),
    bce_i = softplus(-u) = -log pt_i, w_i = a_i if y_i else 1 - a_i,
    per_class_loss_i = w_i * one_minus_pt_i**g * bce_i,
    focal_loss = sum_i per_class_loss_i, cross_entropy = sum_i bce_i,
    probabilities q_i = sigmoid(z_i), p_t = q_t, one_minus_p_t = sigmoid(-z_t),
    modulating_factor = one_minus_p_t**g, alpha_t = w_t,
    gradient_i = d per_class_loss_i / d z_i
               = s * w_i * r^g * (g * q * log q - r)   with q = pt_i, r = one_minus_pt_i
    (derivation: dq/du = q r, dr/du = -q r, so
     d/du[-r^g log q] = g q r^g log q - r^(g+1)),
    grad_ce_i = q_i - y_i (for i = t: -sigmoid(-z_t)).

How
---
* Every f64 input is taken as its exact binary value (``mp.mpf(float)``).
* Logit differences z_i - max(z) are formed *exactly* (``mp.fsub(...,
  exact=True)``); this matters for logits like 1e300 where a rounded
  difference would make exp() meaningless.
* lse = zmax + log1p(S), S = sum_{i != argmax} exp(z_i - zmax); the
  cross entropy is formed as (zmax - z_t) + log1p(S) so that nothing is lost
  when z_t is the maximum.  ``log1p`` uses the series S - S^2/2 + S^3/3 when
  S < 2^-prec and otherwise log(1 + S) with enough guard bits for 1 + S to be
  exact to working precision.
* Powers x**g are exp(g log x) with guard bits proportional to |g log x|.
* mpmath has an unbounded exponent range, so e.g. exp(-3.4e308) is a
  genuine (tiny) number; such values are written with their true decimal
  exponent and the Rust side parses them to 0.0 / saturates to f64::MAX.
* Independent check: for every case with K <= 6 and all |z| <= 50 the
  analytic gradient is compared with ``mp.diff`` (central differences at
  raised precision) of the focal loss as a function of each z_i, requiring
  1e-30 relative agreement.  The number of checks is printed.
* Random cases use ``random.Random(SEED)`` so the output is deterministic.

Output
------
``tests/reference/cases.json``::

    {"generated_by": "tests/reference/gen_reference.py", "mp_dps": 60,
     "cases": [{"name", "mode", "logits" | "logits_gen", "target", "gamma",
                "alpha", "expect": {...}, ["indices"]}, ...]}

Inputs are ``repr(float)`` strings (exactly parseable); expected values are
decimal strings with 25 significant digits ("0" only for exact zeros).
Large-K cases (K >= 1000) use ``logits_gen``:
z_i = ((a*i + b) % m) / scale - offset (exact in f64, scale a power of two)
and list in ``indices`` which classes the expected arrays refer to.

Regenerate
----------
From the repository root::

    python3 tests/reference/gen_reference.py

(needs only Python 3 and mpmath; takes well under a minute).
"""

import json
import math
import os
import random
import sys
import time
from fractions import Fraction

from mpmath import mp, mpf

SEED = 0x5EED_F0CA
DPS = 60
SIG = 25

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_PATH = os.path.join(HERE, "cases.json")


# --------------------------------------------------------------------------
# careful elementary helpers (precision-agnostic: they use the current mp.prec)
# --------------------------------------------------------------------------

def log1p_careful(s):
    """log(1 + s) for s >= 0, accurate to working precision for any s."""
    if s == 0:
        return mpf(0)
    assert s > 0
    mag = mp.mag(s)
    if mag < -mp.prec:
        # |error| < s^4/4, i.e. relative error < s^3 < 2^(-3 prec)
        return s - s * s / 2 + s * s * s / 3
    guard = max(0, -mag) + 20
    with mp.workprec(mp.prec + guard):
        r = mp.log(1 + s)
    return +r


def powg(x, g):
    """x ** g for x >= 0, g >= 0 with 0 ** 0 = 1, robust for huge |log x|."""
    if g == 0:
        return mpf(1)
    if x == 0:
        return mpf(0)
    assert x > 0
    with mp.workprec(mp.prec + 40):
        lx = mp.log(x)
    guard = max(0, mp.mag(lx * g)) + 40
    with mp.workprec(mp.prec + guard):
        r = mp.exp(g * mp.log(x))
    return +r


def sigmoid(u):
    if u >= 0:
        return 1 / (1 + mp.exp(-u))
    e = mp.exp(u)
    return e / (1 + e)


def softplus(v):
    """log(1 + exp(v)), stable for any v."""
    return (v if v > 0 else mpf(0)) + log1p_careful(mp.exp(-abs(v)))


# --------------------------------------------------------------------------
# the two loss modes
# --------------------------------------------------------------------------

def softmax_eval(z, t, g, alpha, want_all=True):
    """z: list of mpf, t: int, g: mpf, alpha: mpf or list of mpf."""
    K = len(z)
    at = alpha[t] if isinstance(alpha, list) else alpha
    zmax = max(z)
    j = z.index(zmax)
    cache = {}
    e = []
    for zi in z:
        v = cache.get(zi)
        if v is None:
            d = mp.fsub(zi, zmax, exact=True)  # exact difference, <= 0
            v = mp.exp(d) if d != 0 else mpf(1)
            cache[zi] = v
        e.append(v)
    S = mp.fsum(e[i] for i in range(K) if i != j)
    L = log1p_careful(S)
    ce = mp.fsub(zmax, z[t], exact=True) + L
    eL = mp.exp(-L)
    T = mp.fsum(e[i] for i in range(K) if i != t)
    m = T * eL
    pt = e[t] * eL
    mod = powg(m, g)
    fl = at * mod * ce
    res = {"alpha_t": at, "p_t": pt, "one_minus_p_t": m,
           "modulating_factor": mod, "cross_entropy": ce, "focal_loss": fl}
    if not want_all:
        return res
    probs = [ei * eL for ei in e]
    if m == 0:
        coef = mpf(0)
    elif g == 0:
        coef = -at
    else:
        coef = at * mod * (g * pt * (-ce) / m - 1)
    grad = []
    gce = []
    for i in range(K):
        if i == t:
            grad.append(coef * m)
            gce.append(-m)
        else:
            grad.append(-coef * probs[i])
            gce.append(probs[i])
    res["probabilities"] = probs
    res["gradient"] = grad
    res["grad_ce"] = gce
    return res


def sigmoid_eval(z, t, g, alpha, want_all=True):
    K = len(z)
    per_neg = {}

    def one(zi, y, a):
        u = zi if y else -zi
        q = sigmoid(u)          # pt_i
        r = sigmoid(-u)         # one_minus_pt_i
        bce = softplus(-u)      # -log q
        w = a if y else 1 - a
        rg = powg(r, g)
        pcl = w * rg * bce
        s = 1 if y else -1
        if w == 0:
            gr = mpf(0)
        else:
            gr = s * w * rg * (g * q * (-bce) - r)
        return pcl, gr, bce

    pcls, grads, bces, probs, gces = [], [], [], [], []
    for i, zi in enumerate(z):
        y = (i == t)
        a = alpha[i] if isinstance(alpha, list) else alpha
        if y or isinstance(alpha, list):
            pcl, gr, bce = one(zi, y, a)
        else:
            key = zi
            if key not in per_neg:
                per_neg[key] = one(zi, False, a)
            pcl, gr, bce = per_neg[key]
        pcls.append(pcl)
        grads.append(gr)
        bces.append(bce)
    at = alpha[t] if isinstance(alpha, list) else alpha
    omp = sigmoid(-z[t])
    res = {"alpha_t": at, "p_t": sigmoid(z[t]), "one_minus_p_t": omp,
           "modulating_factor": powg(omp, g),
           "cross_entropy": mp.fsum(bces), "focal_loss": mp.fsum(pcls)}
    if not want_all:
        return res
    qcache = {}
    for i, zi in enumerate(z):
        if i == t:
            probs.append(res["p_t"])
            gces.append(-omp)
        else:
            q = qcache.get(zi)
            if q is None:
                q = sigmoid(zi)
                qcache[zi] = q
            probs.append(q)
            gces.append(q)
    res["probabilities"] = probs
    res["gradient"] = grads
    res["grad_ce"] = gces
    res["per_class_loss"] = pcls
    return res


EVAL = {"softmax": softmax_eval, "sigmoid": sigmoid_eval}


# --------------------------------------------------------------------------
# numerical-differentiation cross-check
# --------------------------------------------------------------------------

DIFF_STATS = {"cases": 0, "components": 0}


def diff_check(name, mode, z, t, g, alpha, res):
    fn = EVAL[mode]
    fl = res["focal_loss"]
    for i in range(len(z)):
        ana = res["gradient"][i]

        def f(x, i=i):
            zz = list(z)
            zz[i] = x
            return fn(zz, t, g, alpha, want_all=False)["focal_loss"]

        # rounding error of the difference quotient is ~|FL| 2^-(prec+3*addprec);
        # add guard bits when the component is much smaller than FL itself.
        extra = 0
        if ana != 0 and fl != 0:
            extra = max(0, int(mp.mag(fl) - mp.mag(ana)))
        num = mp.diff(f, z[i], addprec=100 + extra)
        if ana == 0:
            ok = (num == 0) or abs(num) <= mpf(10) ** -40 * abs(fl)
        else:
            ok = abs(num - ana) <= mpf(10) ** -30 * abs(ana)
        if not ok:
            raise AssertionError(
                "mp.diff mismatch in %s, component %d: analytic %s numeric %s"
                % (name, i, mp.nstr(ana, 30), mp.nstr(num, 30)))
        DIFF_STATS["components"] += 1
    DIFF_STATS["cases"] += 1


# --------------------------------------------------------------------------
# case construction
# --------------------------------------------------------------------------

def fmt(x):
    if x == 0:
        return "0"
    s = mp.nstr(x, SIG, min_fixed=1, max_fixed=0)
    assert "inf" not in s and "nan" not in s, s
    return s


def frepr(x):
    x = float(x)
    assert math.isfinite(x)
    return repr(x)


def gen_logits(k, a, b, m, scale, offset):
    """z_i = ((a*i + b) % m) / scale - offset, checked to be exact in f64."""
    assert scale > 0 and (scale & (scale - 1)) == 0, "scale must be a power of two"
    zs = []
    for i in range(k):
        r = (a * i + b) % m
        v = r / scale - offset
        assert Fraction(v) == Fraction(r, scale) - offset
        zs.append(v)
    return zs


CASES = []
NAMES = set()
FL_BY_NAME = {}


def add_case(name, mode, logits, target, gamma, alpha, gen=None, rng=None):
    assert name not in NAMES, name
    NAMES.add(name)
    K = len(logits)
    assert K >= 1 and 0 <= target < K
    assert gamma >= 0
    if isinstance(alpha, list):
        assert len(alpha) == K
    if mode == "sigmoid":
        for a in (alpha if isinstance(alpha, list) else [alpha]):
            assert 0 <= a <= 1
    z = [mpf(float(v)) for v in logits]
    g = mpf(float(gamma))
    al = [mpf(float(a)) for a in alpha] if isinstance(alpha, list) else mpf(float(alpha))
    with mp.workdps(DPS):
        res = EVAL[mode](z, target, g, al)
        if K <= 6 and all(abs(v) <= 50 for v in logits):
            diff_check(name, mode, z, target, g, al, res)
        indices = None
        if gen is not None:
            j = logits.index(max(logits))
            jmin = logits.index(min(logits))
            idx = {0, K - 1, target, j, jmin}
            while len(idx) < 15:
                idx.add(rng.randrange(K))
            indices = sorted(idx)
        expect = {}
        for key in ("alpha_t", "p_t", "one_minus_p_t", "modulating_factor",
                    "cross_entropy", "focal_loss"):
            expect[key] = fmt(res[key])
        arr_keys = ["probabilities", "gradient", "grad_ce"]
        if mode == "sigmoid":
            arr_keys.append("per_class_loss")
        for key in arr_keys:
            arr = res[key]
            sel = indices if indices is not None else range(K)
            expect[key] = [fmt(arr[i]) for i in sel]
    case = {"name": name, "mode": mode}
    if gen is not None:
        case["logits_gen"] = gen
    else:
        case["logits"] = [frepr(v) for v in logits]
    case["target"] = target
    case["gamma"] = frepr(gamma)
    case["alpha"] = [frepr(a) for a in alpha] if isinstance(alpha, list) else frepr(alpha)
    case["expect"] = expect
    if indices is not None:
        case["indices"] = indices
    CASES.append(case)
    FL_BY_NAME[name] = res["focal_loss"]


def both(name, logits, target, gamma, alpha, sigmoid_ok=True):
    add_case("softmax-" + name, "softmax", logits, target, gamma, alpha)
    if sigmoid_ok:
        add_case("sigmoid-" + name, "sigmoid", logits, target, gamma, alpha)


def build():
    rng = random.Random(SEED)
    BIG = 1.7e308

    # 1, 2: seed examples
    both("seed1", [-1.0, 3.0, -0.5], 1, 2.0, 0.25)
    both("seed2", [1.5, -0.8, 0.2], 1, 2.0, 0.25)

    # 3: confident correct
    both("confident-correct-0-40-g2", [0.0, 40.0], 1, 2.0, 0.25)
    both("confident-correct-0-800-g0.1", [0.0, 800.0], 1, 0.1, 0.25)
    both("confident-correct-0-800-g2", [0.0, 800.0], 1, 2.0, 0.25)

    # 4: confident wrong
    both("confident-wrong-1000-0-g2", [1000.0, 0.0], 1, 2.0, 0.25)
    both("confident-wrong-1000-0-g0", [1000.0, 0.0], 1, 0.0, 0.25)

    # 5: near-f64-max logits
    both("huge-pm-t0", [BIG, -BIG], 0, 2.0, 0.25)
    both("huge-pm-t1", [BIG, -BIG], 1, 2.0, 0.25)
    both("huge-mp0-t2", [-BIG, BIG, 0.0], 2, 2.0, 0.25)
    both("huge-tie-t1", [BIG, BIG], 1, 2.0, 0.25)
    both("huge-pm-t0-g0.5", [BIG, -BIG], 0, 0.5, 0.75)

    # 6: gamma 0 (FL = alpha_t * CE), small gamma with p_t -> 1, gamma 20
    both("g0-seed1", [-1.0, 3.0, -0.5], 1, 0.0, 0.25)
    both("g0-seed2-t0", [1.5, -0.8, 0.2], 0, 0.0, 0.5)
    both("g0-mixed4", [2.5, -3.0, 7.0, 0.125], 2, 0.0, 1.0)
    both("g0-0-800", [0.0, 800.0], 1, 0.0, 0.75)
    both("g0-huge-pm-t0", [BIG, -BIG], 0, 0.0, 0.25)
    for gg in (0.5, 0.1):
        for gap in (30.0, 60.0, 700.0):
            both("g%s-0-%d" % (gg, int(gap)), [0.0, gap], 1, gg, 0.25)
    both("g20-seed1", [-1.0, 3.0, -0.5], 1, 20.0, 0.25)
    both("g20-seed2", [1.5, -0.8, 0.2], 1, 20.0, 0.25)
    both("g20-0-800", [0.0, 800.0], 1, 20.0, 0.25)
    both("g20-1000-0", [1000.0, 0.0], 1, 20.0, 0.25)
    both("g20-huge-pm-t0", [BIG, -BIG], 0, 20.0, 0.25)
    both("g20-huge-pm-t1", [BIG, -BIG], 1, 20.0, 0.25)

    # 7: K = 1
    both("k1-g2", [3.0], 0, 2.0, 0.25)
    both("k1-g0", [3.0], 0, 0.0, 0.25)
    both("k1-g0.5-neg", [-7.5], 0, 0.5, 1.0)

    # 8: ties
    both("ties-111-t2", [1.0, 1.0, 1.0], 2, 2.0, 0.25)
    both("ties-22-t0-g0", [2.0, 2.0], 0, 0.0, 0.5)

    # 9: per-class alpha vectors
    both("alphavec-seed1", [-1.0, 3.0, -0.5], 1, 2.0, [0.1, 0.2, 0.7])
    both("alphavec-4", [1.5, -0.8, 0.2, 4.0], 3, 2.0, [0.25, 0.5, 0.75, 1.0])
    both("alphavec-4-t0", [1.5, -0.8, 0.2, 4.0], 0, 1.5, [0.25, 0.5, 0.75, 1.0])
    both("alphavec-0-800", [0.0, 800.0], 1, 0.5, [0.9, 0.3])
    both("alphavec-1000-0", [1000.0, 0.0], 1, 2.0, [0.6, 0.4])
    both("alphavec-endpoints", [0.5, -2.0, 3.0], 0, 2.0, [0.0, 1.0, 1.0])
    both("alphavec-endpoints-t2", [0.5, -2.0, 3.0], 2, 3.0, [1.0, 0.0, 0.0])
    add_case("softmax-alphavec-gt1", "softmax", [0.3, -1.2, 2.2], 0, 2.0, [2.0, 0.5, 0.125])

    # 10: ordinary random cases
    def rand_gamma(r):
        if r.random() < 0.6:
            return r.choice([0.0, 0.5, 1.0, 2.0, 3.0, 5.0])
        return round(r.uniform(0.0, 5.0), 3)

    for n in range(120):
        K = rng.randint(2, 10)
        zs = [round(rng.uniform(-10.0, 10.0), 3) for _ in range(K)]
        t = rng.randrange(K)
        add_case("softmax-random-%03d" % n, "softmax", zs, t, rand_gamma(rng),
                 rng.choice([0.25, 0.5, 0.75, 1.0]))
    for n in range(60):
        K = rng.randint(2, 10)
        zs = [round(rng.uniform(-10.0, 10.0), 3) for _ in range(K)]
        t = rng.randrange(K)
        if rng.random() < 0.5:
            a = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0])
        else:
            a = round(rng.uniform(0.0, 1.0), 3)
        add_case("sigmoid-random-%03d" % n, "sigmoid", zs, t, rand_gamma(rng), a)

    # 11: extreme random cases
    def rand_mag(r):
        return r.choice([-1.0, 1.0]) * 10.0 ** r.uniform(-5.0, 308.0)

    def extreme_case(r):
        K = r.randint(2, 6)
        style = r.choice(["mag", "gap", "mixed"])
        t = r.randrange(K)
        if style == "mag":
            zs = [rand_mag(r) for _ in range(K)]
        elif style == "gap":
            base = r.choice([0.0, round(r.uniform(-100.0, 100.0), 3), rand_mag(r)])
            zs = [base + round(r.uniform(-5.0, 5.0), 3) for _ in range(K)]
            gap = round(r.uniform(30.0, 800.0), 3)
            zs[t] = base + (gap if r.random() < 0.5 else -gap)
        else:
            zs = [rand_mag(r) if r.random() < 0.5 else round(r.uniform(-3.0, 3.0), 3)
                  for _ in range(K)]
        u = r.random()
        if u < 0.15:
            g = 0.0
        elif u < 0.35:
            g = float(r.randint(1, 20))
        else:
            g = round(r.uniform(0.0, 20.0), 3)
        return style, zs, t, g

    for n in range(60):
        style, zs, t, g = extreme_case(rng)
        add_case("softmax-extreme-%s-%03d" % (style, n), "softmax", zs, t, g,
                 rng.choice([0.25, 0.5, 0.75, 1.0]))
    for n in range(30):
        style, zs, t, g = extreme_case(rng)
        a = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0, round(rng.uniform(0.0, 1.0), 3)])
        add_case("sigmoid-extreme-%s-%03d" % (style, n), "sigmoid", zs, t, g, a)

    # 8 (large part) and 12: generated large-K cases
    def large(name, mode, gen, target, g, a):
        zs = gen_logits(**gen)
        if target == "argmax":
            target = zs.index(max(zs))
        add_case(name, mode, zs, target, g, a, gen=dict(gen), rng=rng)

    G1000 = dict(k=1000, a=7919, b=13, m=2003, scale=64, offset=15)
    G100K = dict(k=100000, a=7919, b=13, m=2003, scale=64, offset=15)
    GWIDE = dict(k=1000, a=7919, b=13, m=2003, scale=1, offset=1000)
    GEQ1K = dict(k=1000, a=0, b=5, m=7, scale=1, offset=0)
    GEQ100K = dict(k=100000, a=0, b=5, m=7, scale=1, offset=0)
    large("softmax-k1000-t777-g2", "softmax", G1000, 777, 2.0, 0.25)
    large("softmax-k1000-argmax-g0.5", "softmax", G1000, "argmax", 0.5, 0.75)
    large("softmax-k100000-t4242-g2", "softmax", G100K, 4242, 2.0, 0.25)
    large("softmax-k100000-argmax-g1", "softmax", G100K, "argmax", 1.0, 0.5)
    large("softmax-k100000-t4242-g0", "softmax", G100K, 4242, 0.0, 1.0)
    large("softmax-k1000-wide-argmax-g2", "softmax", GWIDE, "argmax", 2.0, 0.25)
    large("softmax-k1000-wide-t777-g5", "softmax", GWIDE, 777, 5.0, 0.25)
    large("softmax-k1000-allequal-g2", "softmax", GEQ1K, 17, 2.0, 0.25)
    large("softmax-k100000-allequal-g2", "softmax", GEQ100K, 4242, 2.0, 0.25)
    large("sigmoid-k1000-t777-g2", "sigmoid", G1000, 777, 2.0, 0.25)
    large("sigmoid-k100000-t4242-g2", "sigmoid", G100K, 4242, 2.0, 0.25)
    large("sigmoid-k100000-argmax-g0.5", "sigmoid", G100K, "argmax", 0.5, 0.6)
    large("sigmoid-k1000-wide-t777-g5", "sigmoid", GWIDE, 777, 5.0, 0.25)
    large("sigmoid-k100000-allequal-g2", "sigmoid", GEQ100K, 4242, 2.0, 0.25)


def main():
    t0 = time.time()
    mp.dps = DPS
    build()
    out = {"generated_by": "tests/reference/gen_reference.py", "mp_dps": DPS,
           "cases": CASES}
    # one case per line: compact, yet diff-friendly
    with open(OUT_PATH, "w") as fh:
        fh.write('{"generated_by":%s,"mp_dps":%d,"cases":[\n'
                 % (json.dumps(out["generated_by"]), out["mp_dps"]))
        fh.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in CASES))
        fh.write("\n]}\n")
    with open(OUT_PATH) as fh:
        assert json.load(fh) == out
    n_soft = sum(1 for c in CASES if c["mode"] == "softmax")
    n_sig = sum(1 for c in CASES if c["mode"] == "sigmoid")
    print("wrote %s: %d cases (%d softmax, %d sigmoid), %d bytes"
          % (OUT_PATH, len(CASES), n_soft, n_sig, os.path.getsize(OUT_PATH)))
    print("mp.diff gradient cross-checks passed: %d cases, %d gradient components"
          % (DIFF_STATS["cases"], DIFF_STATS["components"]))
    for nm in ("softmax-seed1", "softmax-seed2", "sigmoid-seed1", "sigmoid-seed2"):
        print("  %-16s focal_loss = %s" % (nm, mp.nstr(FL_BY_NAME[nm], SIG)))
    fl1 = FL_BY_NAME["softmax-seed1"]
    assert abs(fl1 - mpf("2.5353611e-5")) < mpf("1e-12"), fl1
    print("elapsed %.1f s" % (time.time() - t0))


if __name__ == "__main__":
    sys.exit(main())
