//! Sleef's float32 `exp`, `log` and `log1p` as torch's vectorised CPU
//! kernels call them (`Vectorized<float>::exp/log/log1p` →
//! `Sleef_expf{8,16}_u10`, `Sleef_logf16_u10`, `Sleef_log1pf8_u10`: AVX2
//! or AVX-512 by the kernel, see [`reduce`](super::reduce)), ported to
//! scalar Rust operation for operation.
//!
//! Origin: SLEEF 3.x `src/libm/sleefsimdsp.c` (`xexpf`, `xlogf_u1`,
//! `xlog1pf`) with the double-float helpers of `src/common/df.h` as compiled
//! with `ENABLE_FMA_SP` (AVX2 and AVX-512 both have FMA), and the AVX-512F
//! branch of each function (`getexp`/`getmant` for the exponent split,
//! `fixupimm` for the special values). Every `vmla`/`vfma*` is one fused
//! multiply-add ([`f32::mul_add`]), every other operation one IEEE `f32`
//! operation, in Sleef's order; constants written as C `double` literals
//! are rounded through `f64` as C does.
//!
//! Accuracy (Sleef's bound): within 1 ulp of the exact value (`exp`:
//! inputs in [−104, 100], 0 below, inf above); not correctly rounded, which
//! is why torch's vectorised results can differ from glibc's by an ulp. The
//! port is checked bit for bit against torch on dense grids
//! (`tests/lens_sleef.rs`, `tests/reference/gen_sleef.py`). Sleef's AVX2
//! branch splits the exponent into the same m in [0.75, 1.5) and e with
//! integer operations (subnormals pre-scaled by 2^64), so by the code both
//! widths give the same results; the grids test the widths torch runs.

// Sleef's constants are written as in its source, digits it carries that
// float32 cannot hold included.
#![allow(clippy::excessive_precision)]

/// `ln 2` as a double-float (high, low) pair.
const LN2: (f32, f32) = (0.693_147_182_464_599_609_38, -1.904_654_323_148_236_017e-9);

/// `1 / 0.75` in float32: the exponent split puts the mantissa in [0.75, 1.5).
const R075: f32 = 1.0 / 0.75;

/// `x · 2^q` as Sleef's `vldexp2`: two multiplications by powers of two.
fn ldexp2(x: f32, q: i32) -> f32 {
    let half = q >> 1;
    x * pow2i(half) * pow2i(q - half)
}

/// `2^q` for q in the normal exponent range, built from its bits.
fn pow2i(q: i32) -> f32 {
    f32::from_bits(((q + 0x7f) << 23) as u32)
}

/// AVX-512's `getexp`: ⌊log₂|x|⌋ as a float (subnormals normalised),
/// −inf for 0, +inf for ±inf, NaN for NaN.
fn getexp(x: f32) -> f32 {
    let a = x.abs();
    if a.is_nan() || a.is_infinite() {
        return a;
    }
    if a == 0.0 {
        return f32::NEG_INFINITY;
    }
    let bits = a.to_bits();
    let e = (bits >> 23) as i32;
    if e == 0 { (31 - (bits.leading_zeros() as i32)) as f32 - 149.0 } else { (e - 127) as f32 }
}

/// AVX-512's `getmant(x, [0.75, 1.5), NaN for negative)` for positive
/// finite x: x scaled by a power of two into [0.75, 1.5).
fn getmant(x: f32) -> f32 {
    let e = getexp(x) as i32;
    let m = f32::from_bits((x.to_bits() & 0x007f_ffff) | (127 << 23));
    let m = if e < -126 { ldexp2(x, -e) } else { m };
    if m >= 1.5 { m * 0.5 } else { m }
}

/// A double-float: an unevaluated sum `x + y` with |y| ≤ ½ ulp(x).
#[derive(Clone, Copy)]
struct Df(f32, f32);

/// `dfadd_vf2_vf_vf`: x + y, |x| ≥ |y|.
fn add_ff(x: f32, y: f32) -> Df {
    let s = x + y;
    Df(s, (x - s) + y)
}

/// `dfadd2_vf2_vf_vf`: x + y, any magnitudes.
fn add2_ff(x: f32, y: f32) -> Df {
    let s = x + y;
    let v = s - x;
    Df(s, (x - (s - v)) + (y - v))
}

/// `dfadd_vf2_vf2_vf`: x + y, |x| ≥ |y|.
fn add_df_f(x: Df, y: f32) -> Df {
    let s = x.0 + y;
    Df(s, ((x.0 - s) + y) + x.1)
}

/// `dfadd_vf2_vf2_vf2`: x + y, |x| ≥ |y|.
fn add_df_df(x: Df, y: Df) -> Df {
    let s = x.0 + y.0;
    Df(s, (((x.0 - s) + y.0) + x.1) + y.1)
}

/// `dfmul_vf2_vf2_vf` with FMA.
fn mul_df_f(x: Df, y: f32) -> Df {
    let s = x.0 * y;
    Df(s, x.1.mul_add(y, x.0.mul_add(y, -s)))
}

/// `dfscale_vf2_vf2_vf`.
fn scale(d: Df, s: f32) -> Df {
    Df(d.0 * s, d.1 * s)
}

/// `dfdiv_vf2_vf2_vf2` with FMA.
fn div(n: Df, d: Df) -> Df {
    let t = 1.0 / d.0;
    let s = n.0 * t;
    let u = t.mul_add(n.0, -s);
    let v = (-d.1).mul_add(t, (-d.0).mul_add(t, 1.0));
    Df(s, s.mul_add(v, n.1.mul_add(t, u)))
}

/// The tail shared by `log` and `log1p`: `s + 2x + x³·P(x²)` with
/// x = (m − 1)/(m + 1) as a double-float, rounded once.
fn log_tail(s: Df, x: Df) -> f32 {
    let x2 = x.0 * x.0;
    let t = 0.302_729_487_4_f32.mul_add(x2, 0.399_610_817_4).mul_add(x2, 0.666_669_488_0);
    let s = add_df_df(s, scale(x, 2.0));
    let s = add_df_f(s, (x2 * x.0) * t);
    s.0 + s.1
}

/// `Sleef_expf_u10` (`xexpf`): e^d, within 1 ulp; 0 below −104, inf above 100.
pub fn expf(d: f32) -> f32 {
    const R_LN2: f32 = std::f32::consts::LOG2_E;
    const L2U: f32 = 0.693_145_751_953_125;
    const L2L: f32 = 1.428_606_765_330_187_045e-6;
    let q = (d * R_LN2).round_ties_even() as i32;
    let qf = q as f32;
    let s = qf.mul_add(-L2U, d);
    let s = qf.mul_add(-L2L, s);
    let mut u = 0.000_198_527_617_612_853_646_278_381_f64 as f32;
    for c in [
        0.001_393_043_552_525_341_510_772_71_f64,
        0.008_333_360_776_305_198_669_433_59,
        0.041_666_485_369_205_474_853_515_6,
        0.166_666_671_633_720_397_949_219,
        0.5,
    ] {
        u = u.mul_add(s, c as f32);
    }
    let u = 1.0 + (s * s).mul_add(u, s);
    let u = ldexp2(u, q);
    if d < -104.0 {
        0.0
    } else if 100.0 < d {
        f32::INFINITY
    } else {
        u
    }
}

/// `Sleef_logf_u10` (`xlogf_u1`): ln d, within 1 ulp; −inf at 0, NaN below.
pub fn logf(d: f32) -> f32 {
    if d.is_nan() || d < 0.0 {
        return f32::NAN;
    }
    if d == 0.0 {
        return f32::NEG_INFINITY;
    }
    if d == f32::INFINITY {
        return d;
    }
    let e = getexp(d * R075);
    let e = if e == f32::INFINITY { 128.0 } else { e };
    let m = getmant(d);
    let s = mul_df_f(Df(LN2.0, LN2.1), e);
    let x = div(add2_ff(-1.0, m), add2_ff(1.0, m));
    log_tail(s, x)
}

/// `Sleef_log1pf_u10` (`xlog1pf`): ln(1 + d), within 1 ulp; inf above
/// 1e38, −inf at −1, NaN below −1, −0 for −0.
pub fn log1pf(d: f32) -> f32 {
    let dp1 = d + 1.0;
    let e = getexp(dp1 * R075);
    let e = if e == f32::INFINITY { 128.0 } else { e };
    let t = pow2i_any(-(e.round_ties_even() as i32));
    let m = d.mul_add(t, t - 1.0);
    let s = mul_df_f(Df(LN2.0, LN2.1), e);
    let x = div(Df(m, 0.0), add_ff(2.0, m));
    let r = log_tail(s, x);
    if d > 1e38 {
        f32::INFINITY
    } else if -1.0 > d || d.is_nan() {
        f32::NAN
    } else if d == -1.0 {
        f32::NEG_INFINITY
    } else if d == 0.0 && d.is_sign_negative() {
        -0.0
    } else {
        r
    }
}

/// `vldexp3(1, q)`: 2^q by adding q to the exponent field of 1.
fn pow2i_any(q: i32) -> f32 {
    f32::from_bits(1f32.to_bits().wrapping_add((q << 23) as u32))
}
