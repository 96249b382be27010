//! Precision lens: what a *naive* focal loss returns in float32, float16 and
//! bfloat16, next to the exact value. Pure math: no UI types, no I/O.
//!
//! ```text
//! e_i = exp(z_i)    s = Σ e_i    p_i = e_i / s    CE = −ln p_t
//! FL  = α_t · (1 − p_t)^γ · CE
//! dFL/dz_i = α_t · [γ · p_t · (1 − p_t)^(γ−1) · ln p_t − (1 − p_t)^γ] · (δ_it − p_i)
//! ```
//!
//! "Naive" is the form most simple library versions and blog posts write:
//! softmax without subtracting the largest logit, then `log`, then `pow`,
//! and the textbook chain rule for the gradient, every step in the training
//! precision. Mixed-precision training is where focal loss most often breaks,
//! and this module shows exactly how: the lens reports what that code returns
//! in each format, and one line of reason per failure.
//!
//! # Why it breaks
//! - `exp` overflows: float16 holds at most 65504, so `exp(z)` is `inf`
//!   above z ≈ 11.09 (float32 and bfloat16: ≈ 88.72); then `s = inf` and
//!   `p = inf/inf = NaN`, or `p_t = e_t/inf = 0`.
//! - `exp` underflows: below z ≈ −17.33 (float16), −92.88 (bfloat16),
//!   −103.97 (float32) it is 0; if every class underflows, `p = 0/0 = NaN`.
//! - `p_t` rounds to 0: `ln 0 = −inf`, CE and FL are `inf`, and the
//!   gradient's `p_t · ln p_t = 0 · (−inf)` is NaN.
//! - `p_t` rounds to 1 (float16 already at a logit gap of 8, where
//!   `1 + e^8` rounds to `e^8`; float32 from a gap of ≈ 17): CE and FL are 0, and for γ < 1 `(1 − p_t)^(γ−1) = 0^(γ−1) = inf` multiplies
//!   `ln p_t = 0`: a NaN gradient.
//! - `(1 − p_t)^γ` or the final product underflows: FL = 0 for an example
//!   that still has a loss; likewise the gradient can underflow to 0 in
//!   every class (float16's smallest value is 6e-8).
//!
//! # Method
//! The emulation is faithful, operation by operation, to IEEE arithmetic in
//! the format with round-to-nearest-even:
//! - inputs (logits, γ, α_t) are rounded from `f64` to the format *once*
//!   (through `f32` with round-to-odd, which makes the second rounding exact;
//!   `half`'s own `f64` conversions truncate or round twice, and so does
//!   ml_dtypes' `bfloat16(float64)`);
//! - `+ − × ÷` are computed in `f32` from format operands and the result is
//!   rounded to the format. For float16 and bfloat16 this is exactly what
//!   `half`'s operators and numpy / ml_dtypes do, and it is correctly
//!   rounded: `f32` carries at least twice the format's precision plus two
//!   bits (24 ≥ 2·11 + 2), so the double rounding is innocuous;
//! - `exp`, `ln` and `pow` are the platform's `f32` functions (`expf`,
//!   `logf`, `powf`), rounded to the format;
//! - float32 uses plain `f32` operations and functions;
//! - sums are taken left to right, products left to right, exactly in the
//!   order of the formulas above.
//!
//! All values are carried as `f32` holding a value of the format, and widened
//! to `f64` exactly.
//!
//! # Special cases
//! - `pow(0, 0) = 1`, `pow(0, y < 0) = inf`, `ln 0 = −inf`: the C99 rules,
//!   which every numeric library follows. γ = 0 therefore gives a modulating
//!   factor of 1, and still a NaN gradient when p_t rounds to 1
//!   (`0 · 0^(−1) = 0 · inf`).
//! - K = 1: p_t = 1 exactly, CE = FL = 0 (correct, so no reason is given);
//!   the gradient is NaN for γ < 1, which is reported.
//! - `CE = −ln p_t` is `−0` when p_t = 1, as the naive code returns it.
//! - Finite `f64` logits beyond the format's range become `±inf`, and that is
//!   reported as the first reason.
//!
//! # Accuracy
//! Bit-exact emulation of the naive algorithm, up to the platform's `expf`,
//! `logf` and `powf` (glibc documents 0.502, 0.82 and 0.82 ulp), which are
//! not always correctly rounded; for float16 and bfloat16 such a difference
//! almost never survives the final rounding. `tests/lens.rs` checks every
//! value against an independent numpy / ml_dtypes implementation
//! (`tests/reference/gen_lens.py`, with correctly rounded elementary
//! functions): the same 0 / ±inf / NaN classification everywhere and finite
//! values within 2 ulp of the format; on x86-64 with glibc every value is
//! bit-identical. numpy's own float32 `exp`/`log` ufuncs are SIMD
//! approximations (up to 4 ulp on AVX-512), and `1 − p_t` magnifies that:
//! against them the worst float32 difference is 62 ulp, in a γ = 20 case.

use crate::format::sig;
use half::{bf16, f16};
use std::sync::Arc;

/// A floating-point format the naive implementation may run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    F32,
    F16,
    Bf16,
}

impl Precision {
    /// Every format, in display order.
    pub const ALL: [Precision; 3] = [Precision::F32, Precision::F16, Precision::Bf16];

    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "float32",
            Precision::F16 => "float16",
            Precision::Bf16 => "bfloat16",
        }
    }

    /// The nearest value of the format to `x` (ties to even), as an `f32`.
    #[inline(always)]
    fn round(self, x: f32) -> f32 {
        match self {
            Precision::F32 => x,
            Precision::F16 => round_f16(x),
            Precision::Bf16 => round_bf16(x),
        }
    }

    /// `x` rounded once to the format, as an `f32`.
    ///
    /// Rounding to `f32` to odd keeps a sticky bit, so rounding that to 11
    /// or 8 bits is the correct rounding of `x` itself.
    fn round_f64(self, x: f64) -> f32 {
        match self {
            Precision::F32 => x as f32,
            _ => self.round(to_f32_odd(x)),
        }
    }

    /// The largest finite value.
    fn max(self) -> f64 {
        match self {
            Precision::F32 => f64::from(f32::MAX),
            Precision::F16 => f64::from(f16::MAX),
            Precision::Bf16 => f64::from(bf16::MAX),
        }
    }

    /// Bits of significand, including the implicit one.
    fn digits(self) -> i32 {
        match self {
            Precision::F32 => 24,
            Precision::F16 => 11,
            Precision::Bf16 => 8,
        }
    }

    /// The smallest positive (subnormal) value.
    fn min_subnormal(self) -> f64 {
        match self {
            Precision::F32 => 2f64.powi(-149),
            Precision::F16 => 2f64.powi(-24),
            Precision::Bf16 => 2f64.powi(-133),
        }
    }

    /// `exp(z)` rounds to `inf` above this: `ln(max + ulp/2)`.
    /// float16 ≈ 11.09, bfloat16 and float32 ≈ 88.72.
    pub fn exp_overflows_above(self) -> f64 {
        let max = self.max();
        let half_ulp = 2f64.powi(max.log2().floor() as i32 - self.digits());
        (max + half_ulp).ln()
    }

    /// `exp(z)` rounds to 0 at and below this: `ln(min_subnormal / 2)`.
    /// float16 ≈ −17.33, bfloat16 ≈ −92.88, float32 ≈ −103.97.
    pub fn exp_underflows_below(self) -> f64 {
        (self.min_subnormal() / 2.0).ln()
    }
}

/// `x` rounded to the nearest float16 (ties to even), as an `f32`: the same
/// value as `half::f16::from_f32(x).to_f32()`, by bit manipulation (no
/// table, no branch, no call per element; the tests compare it with `half`).
///
/// - `|x| ≥ 2^-14` (float16 normal): keep the top 10 fraction bits, adding
///   `0xfff` plus the lowest kept bit (ties to even); the carry may step the
///   exponent up. Anything above `f16::MAX` = 65504 after rounding is ∞.
/// - `|x| < 2^-14` (float16 subnormal, multiples of 2^-24): `(|x| + 0.5) −
///   0.5`, where `f32` addition rounds to the ulp of 0.5, which is 2^-24,
///   ties to even; the subtraction is exact.
/// - The sign is put back afterwards (±0 stays ±0); NaN is returned as is.
#[inline(always)]
fn round_f16(x: f32) -> f32 {
    const MIN_NORMAL: f32 = 6.103_515_6e-5; // 2^-14
    let a = x.abs();
    let b = a.to_bits();
    let normal = f32::from_bits(b.wrapping_add(0xfff + ((b >> 13) & 1)) & !0x1fff);
    let normal = if normal > 65504.0 { f32::INFINITY } else { normal };
    let subnormal = (a + 0.5) - 0.5;
    let r = if a < MIN_NORMAL { subnormal } else { normal };
    if x.is_nan() { x } else { r.copysign(x) }
}

/// `x` rounded to the nearest bfloat16 (ties to even), as an `f32`: the
/// same value as `half::bf16::from_f32(x).to_f32()`. bfloat16 is the top
/// half of an `f32`, so this adds `0x7fff` plus the lowest kept bit and
/// clears the low 16 bits; a carry out of the fraction steps the exponent,
/// up to ∞ past `bf16::MAX`. NaN is returned as is.
#[inline(always)]
fn round_bf16(x: f32) -> f32 {
    let b = x.to_bits();
    let r = f32::from_bits(b.wrapping_add(0x7fff + ((b >> 16) & 1)) & 0xffff_0000);
    if x.is_nan() { x } else { r }
}

/// `x` rounded to `f32` to odd: exact if representable, otherwise the one of
/// the two neighbouring `f32` values whose last bit is 1 (`f32::MAX` beyond
/// the range).
fn to_f32_odd(x: f64) -> f32 {
    let r = x as f32;
    if x.is_nan() || f64::from(r) == x || r.to_bits() & 1 == 1 {
        return r;
    }
    // r is even and inexact: x lies strictly between r and its odd neighbour.
    let bits = r.to_bits();
    f32::from_bits(if x.abs() > f64::from(r).abs() { bits + 1 } else { bits - 1 })
}

/// What the naive implementation returns in one format, each value widened
/// to `f64` exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct Naive {
    pub precision: Precision,
    pub p_t: f64,
    pub cross_entropy: f64,
    pub focal_loss: f64,
    pub gradient: NaiveGradient,
    /// Why the values went wrong, most important first; empty when all are
    /// finite and non-degenerate.
    pub reasons: Vec<String>,
}

/// dFL/dz of the naive code, each class's value computed when it is read:
/// `r(G · r(δ_it − p_i))` from the format's probabilities, which it shares
/// with the [`NaiveSoftmax`] (the lens shows one entry, and writing K values
/// per format on every keystroke would cost more than the rest of the lens).
#[derive(Clone, Debug, PartialEq)]
pub struct NaiveGradient {
    f: Precision,
    p: Arc<[f32]>,
    big_g: f32,
    target: usize,
    at_target: f32,
}

impl NaiveGradient {
    /// K.
    pub fn len(&self) -> usize {
        self.p.len()
    }

    pub fn is_empty(&self) -> bool {
        self.p.is_empty()
    }

    /// dFL/dz_i, widened to `f64` exactly.
    ///
    /// # Panics
    /// If `i ≥ K`.
    pub fn get(&self, i: usize) -> f64 {
        let r = |x: f32| self.f.round(x);
        f64::from(if i == self.target { self.at_target } else { r(self.big_g * r(0.0 - self.p[i])) })
    }

    /// Every class's value, in order.
    pub fn iter(&self) -> impl Iterator<Item = f64> + Clone + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// `Some("NaN")`, `Some("+inf")`, `Some("−inf")`, `Some("0")` (for ±0) or
/// `None` for an ordinary finite value: how the UI flags a naive value.
pub fn classify(x: f64) -> Option<&'static str> {
    if x.is_nan() {
        Some("NaN")
    } else if x == f64::INFINITY {
        Some("+inf")
    } else if x == f64::NEG_INFINITY {
        Some("−inf")
    } else if x == 0.0 {
        Some("0")
    } else {
        None
    }
}

/// The naive softmax focal loss of `logits` for class `target` in
/// `precision` (see the [module documentation](self) for the algorithm).
///
/// # Method
/// Every input is rounded to the format once, every operation rounds to the
/// format, in the order `exp`, left-to-right sum, divide, `ln`, `1 − p_t`,
/// `pow`, `α_t · m · CE`, and for the gradient
/// `G = α_t · (((γ · p_t) · (1 − p_t)^(γ−1)) · ln p_t − m)`,
/// `dFL/dz_i = G · (δ_it − p_i)`.
///
/// # Special cases
/// Never panics for finite or non-finite inputs with `target < K`; NaN and
/// ±inf are results here, explained in [`Naive::reasons`].
///
/// # Accuracy
/// Bit-exact emulation, up to the platform's `f32` `exp`, `ln` and `pow`.
///
/// # Panics
/// If `target ≥ K` (in particular if `logits` is empty).
pub fn naive(logits: &[f64], target: usize, gamma: f64, alpha_t: f64, precision: Precision) -> Naive {
    NaiveSoftmax::new(logits, precision).naive(logits, target, gamma, alpha_t)
}

/// The part of [`naive`] that depends on the logits alone: the rounded
/// logits, their exponentials, the sum and the probabilities (K `expf`
/// calls). The explorer keeps it while only the target, γ or α change,
/// which then cost a few scalar operations.
#[derive(Clone, Debug)]
pub struct NaiveSoftmax {
    f: Precision,
    z: Vec<f32>,
    e: Vec<f32>,
    s: f32,
    p: Arc<[f32]>,
    /// Classes whose finite logit overflows the format.
    too_big: Vec<usize>,
    /// The class of largest `z` (the last of equals) whose `exp` overflowed
    /// from a finite `z`, and how many did.
    overflowed: Option<(usize, usize)>,
    /// Every `e_i` is finite.
    e_finite: bool,
    /// Classes whose gradient entries carry every 0 / ±inf / NaN flag of
    /// the others (see [`extremes`]).
    extremes: Vec<usize>,
}

impl NaiveSoftmax {
    /// # Panics
    /// If `logits` is empty.
    pub fn new(logits: &[f64], f: Precision) -> Self {
        let r = |x: f32| f.round(x);
        let z: Vec<f32> = logits.iter().map(|&x| f.round_f64(x)).collect();
        let e: Vec<f32> = z.iter().map(|&x| r(x.exp())).collect();
        let s = e[1..].iter().fold(e[0], |acc, &x| r(acc + x));
        let p: Arc<[f32]> = e.iter().map(|&x| r(x / s)).collect();
        let k = z.len();
        let too_big = (0..k).filter(|&i| z[i].is_infinite() && logits[i].is_finite()).collect();
        let overflowed: Vec<usize> = (0..k).filter(|&i| e[i].is_infinite() && z[i].is_finite()).collect();
        let top = overflowed.iter().copied().max_by(|&a, &b| z[a].total_cmp(&z[b]));
        let overflowed = top.map(|top| (top, overflowed.len()));
        let e_finite = e.iter().all(|e| e.is_finite());
        let extremes = extremes(&p);
        NaiveSoftmax { f, z, e, s, p, too_big, overflowed, e_finite, extremes }
    }

    pub fn precision(&self) -> Precision {
        self.f
    }

    /// [`naive`] for these logits (the same `logits` as `new` took).
    ///
    /// # Panics
    /// If `target ≥ K`.
    pub fn naive(&self, logits: &[f64], target: usize, gamma: f64, alpha_t: f64) -> Naive {
        let k = logits.len();
        assert!(target < k, "target {target} out of range for {k} classes");
        let t = Trace::run(self, target, gamma, alpha_t);
        let reasons = t.reasons(logits, gamma, alpha_t);
        Naive {
            precision: self.f,
            p_t: f64::from(t.p_t),
            cross_entropy: f64::from(t.ce),
            focal_loss: f64::from(t.fl),
            gradient: t.gradient,
            reasons,
        }
    }
}

/// Every intermediate of one naive evaluation, each a value of the format
/// held in an `f32` (the per-class ones in `base`).
struct Trace<'a> {
    base: &'a NaiveSoftmax,
    f: Precision,
    target: usize,
    p_t: f32,
    ce: f32,
    one_minus: f32,
    gamma: f32,
    m: f32,
    alpha: f32,
    fl: f32,
    gradient: NaiveGradient,
    /// Some gradient entry is NaN / ±inf / not 0 (for the reasons).
    grad_nan: bool,
    grad_inf: bool,
    grad_nonzero: bool,
}

impl<'a> Trace<'a> {
    fn run(base: &'a NaiveSoftmax, target: usize, gamma: f64, alpha_t: f64) -> Trace<'a> {
        let f = base.f;
        let r = |x: f32| f.round(x);
        let p = &base.p;
        let p_t = p[target];
        let log_p = r(p_t.ln());
        let ce = -log_p;
        let one_minus = r(1.0 - p_t);
        let g = f.round_f64(gamma);
        let m = r(one_minus.powf(g));
        let a = f.round_f64(alpha_t);
        let fl = r(r(a * m) * ce);

        let pw = r(one_minus.powf(r(g - 1.0)));
        let term = r(r(r(g * p_t) * pw) * log_p);
        let big_g = r(a * r(term - m));
        let at_target = r(big_g * r(1.0 - p_t));
        let gradient = NaiveGradient { f, p: Arc::clone(p), big_g, target, at_target };
        // The target's entry and the other extremes carry every flag.
        let (mut grad_nan, mut grad_inf, mut grad_nonzero) = (false, false, false);
        let others = base.extremes.iter().filter(|&&i| i != target);
        for x in others.map(|&i| gradient.get(i)).chain([f64::from(at_target)]) {
            grad_nan |= x.is_nan();
            grad_inf |= x.is_infinite();
            grad_nonzero |= x != 0.0;
        }
        Trace {
            base,
            f,
            target,
            p_t,
            ce,
            one_minus,
            gamma: g,
            m,
            alpha: a,
            fl,
            gradient,
            grad_nan,
            grad_inf,
            grad_nonzero,
        }
    }

    /// One line per failure, causes before consequences.
    fn reasons(&self, logits: &[f64], gamma: f64, alpha_t: f64) -> Vec<String> {
        let f = self.f;
        let name = f.name();
        let t = self.target;
        let base = self.base;
        let k = base.z.len();
        let mut out = Vec::new();
        // Which results a specific reason already accounts for.
        let (mut pt_done, mut ce_done, mut fl_done, mut grad_done) = (false, false, false, false);

        // Inputs the format cannot hold.
        let too_big = &base.too_big;
        if let Some(&i) = too_big.first() {
            let inf = if base.z[i] > 0.0 { "inf" } else { "−inf" };
            out.push(format!(
                "logit {} overflows {name} (max {}) to {inf}{}",
                sig(logits[i], 6),
                sig(f.max(), 6),
                more(too_big.len() - 1, "logit")
            ));
        }
        for (symbol, given, held) in [("γ", gamma, self.gamma), ("α_t", alpha_t, self.alpha)] {
            if held.is_infinite() && given.is_finite() {
                out.push(format!("{symbol} = {} overflows {name} (max {})", sig(given, 6), sig(f.max(), 6)));
            } else if held == 0.0 && given != 0.0 {
                out.push(format!("{symbol} = {} rounds to 0 in {name}", sig(given, 6)));
            }
        }

        // The exponentials and their sum.
        if let Some((top, overflowed)) = base.overflowed {
            out.push(format!(
                "{name} exp overflows above ≈ {}: exp({}) = inf{}",
                threshold(f.exp_overflows_above()),
                sig(logits[top], 6),
                more(overflowed - 1, "logit")
            ));
        } else if base.s.is_infinite() && base.e_finite {
            out.push(format!("the sum of exps overflows {name} (max {})", sig(f.max(), 6)));
        }
        if base.s == 0.0 {
            out.push(format!(
                "every exp underflows to 0 (below ≈ {}), so p = 0/0 = NaN, and so are CE, FL and the gradient",
                threshold(f.exp_underflows_below())
            ));
            (pt_done, ce_done, fl_done, grad_done) = (true, true, true, true);
        }

        // p_t and what follows from it.
        let grad_nan = self.grad_nan;
        if self.p_t.is_nan() && !pt_done {
            if base.e[t].is_infinite() && base.s.is_infinite() {
                out.push("p_t = inf/inf = NaN, and so are CE, FL and the gradient".to_string());
                (pt_done, ce_done, fl_done, grad_done) = (true, true, true, true);
            }
        } else if self.p_t == 0.0 {
            let mut line = if base.s.is_infinite() {
                format!("p_t = {}/inf = 0", sig(f64::from(base.e[t]), 4))
            } else if base.e[t] == 0.0 {
                format!(
                    "exp({}) underflows to 0 (below ≈ {}), so p_t = 0",
                    sig(logits[t], 6),
                    threshold(f.exp_underflows_below())
                )
            } else {
                "p_t underflows to 0".to_string()
            };
            line.push_str(": log gives −inf, so CE = inf");
            if !self.fl.is_finite() {
                line.push_str(&format!(", FL = {}", word(self.fl)));
            }
            if grad_nan {
                line.push_str(", and γ·p_t·…·ln p_t = 0·(−inf) = NaN in the gradient");
            }
            out.push(line);
            (pt_done, ce_done, fl_done, grad_done) = (true, true, !self.fl.is_finite(), grad_nan);
        } else if self.p_t == 1.0 {
            let nan_reason = |who: &str| {
                format!(
                    "{who}: γ < 1 gives a NaN gradient, (1 − p_t)^(γ − 1) = 0^{} = inf and inf·0 = NaN",
                    sig(f64::from(self.gamma) - 1.0, 4)
                )
            };
            if k > 1 {
                let mut line = "p_t rounds to 1: 1 − p_t = 0 and ln p_t = 0, so CE = FL = 0".to_string();
                if !self.grad_nonzero {
                    line.push_str(", and the gradient vanishes");
                }
                out.push(line);
                if grad_nan && self.gamma < 1.0 {
                    out.push(nan_reason("p_t rounds to 1"));
                    grad_done = true;
                }
            } else if grad_nan && self.gamma < 1.0 {
                out.push(nan_reason("one class, so p_t = 1"));
                grad_done = true;
            }
        } else if self.p_t > 0.0 && self.p_t < 1.0 && self.fl == 0.0 && self.alpha != 0.0 {
            // The loss vanished although 0 < p_t < 1.
            if self.m == 0.0 && self.gamma > 0.0 {
                out.push(format!(
                    "(1 − p_t)^γ = {}^{} underflows to 0, so FL = 0",
                    sig(f64::from(self.one_minus), 4),
                    sig(f64::from(self.gamma), 4)
                ));
            } else {
                out.push(format!(
                    "FL = α_t·(1 − p_t)^γ·CE = {}·{}·{} underflows to 0",
                    sig(f64::from(self.alpha), 4),
                    sig(f64::from(self.m), 4),
                    sig(f64::from(self.ce), 4)
                ));
            }
        }

        // 0 < p_t < 1 and α_t ≠ 0: the exact gradient is not 0.
        if self.p_t > 0.0 && self.p_t < 1.0 && self.alpha != 0.0 && k > 1 && !self.grad_nonzero {
            out.push("the gradient underflows to 0 in every class".to_string());
        }

        // Anything not explained above.
        if !pt_done && !self.p_t.is_finite() {
            out.push(format!("p_t is {}", word(self.p_t)));
        }
        if !ce_done && !self.ce.is_finite() {
            out.push(format!("CE is {}", word(self.ce)));
        }
        if !fl_done && !self.fl.is_finite() {
            out.push(format!("FL is {}", word(self.fl)));
        }
        if !grad_done {
            let finite = !self.grad_nan && !self.grad_inf;
            for (what, bad) in [("NaN", f64::is_nan as fn(f64) -> bool), ("inf", f64::is_infinite)] {
                if finite {
                    break;
                }
                let classes: Vec<usize> = (0..k).filter(|&i| bad(self.gradient.get(i))).collect();
                if !classes.is_empty() {
                    out.push(format!("gradient is {what} in {}", classes_text(&classes, k)));
                }
            }
        }
        out
    }
}

/// The classes of the two smallest and the two largest `p_i` and the first
/// two NaN ones (two of each, so that one is left besides any target).
///
/// They carry every 0 / ±inf / NaN flag of the gradient's other entries
/// `r(G · r(0 − p_i))`: for `p_i ≥ 0` the magnitude never decreases as `p_i`
/// grows (each rounding is monotone), so ±inf and "not 0" appear at the
/// largest `p_i` if anywhere; a NaN needs G or `p_i` NaN, or `G = ±inf` with
/// `p_i = 0` (the smallest), or `G = 0` with `p_i = inf` (the largest).
fn extremes(p: &[f32]) -> Vec<usize> {
    let (mut low, mut high, mut nan) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &x) in p.iter().enumerate() {
        if x.is_nan() {
            if nan.len() < 2 {
                nan.push(i);
            }
        } else {
            keep_two(&mut low, i, |j| x < p[j]);
            keep_two(&mut high, i, |j| x > p[j]);
        }
    }
    [low, high, nan].concat()
}

/// Adds class `i` to `best` (at most two, best first) if `before(j)` ranks
/// it before a kept class `j`, or fewer than two are kept.
fn keep_two(best: &mut Vec<usize>, i: usize, before: impl Fn(usize) -> bool) {
    if best.len() == 2 && !before(best[1]) {
        return;
    }
    let at = best.iter().position(|&j| before(j)).unwrap_or(best.len());
    best.insert(at, i);
    best.truncate(2);
}

/// A threshold to two decimals: "11.09", "-103.97".
fn threshold(x: f64) -> String {
    format!("{x:.2}")
}

/// ", and for 2 more logits" (nothing for 0).
fn more(n: usize, what: &str) -> String {
    match n {
        0 => String::new(),
        1 => format!(", and for 1 more {what}"),
        _ => format!(", and for {n} more {what}s"),
    }
}

/// "NaN", "inf" or "−inf".
fn word(x: f32) -> &'static str {
    match classify(f64::from(x)) {
        Some("+inf") => "inf",
        Some(c) => c,
        None => "finite",
    }
}

/// "class 3", "classes 0, 2 and 5", "every class", "5 of 9 classes (0, 1, 2, …)".
fn classes_text(classes: &[usize], k: usize) -> String {
    let list = |c: &[usize]| c.iter().map(usize::to_string).collect::<Vec<_>>();
    match classes {
        [i] if k > 1 => format!("class {i}"),
        _ if classes.len() == k => "every class".to_string(),
        _ if classes.len() <= 4 => {
            let l = list(classes);
            format!("classes {} and {}", l[..l.len() - 1].join(", "), l[l.len() - 1])
        }
        _ => format!("{} of {k} classes ({}, …)", classes.len(), list(&classes[..3]).join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        assert_eq!(threshold(Precision::F16.exp_overflows_above()), "11.09");
        assert_eq!(threshold(Precision::Bf16.exp_overflows_above()), "88.72");
        assert_eq!(threshold(Precision::F32.exp_overflows_above()), "88.72");
        assert_eq!(threshold(Precision::F16.exp_underflows_below()), "-17.33");
        assert_eq!(threshold(Precision::Bf16.exp_underflows_below()), "-92.88");
        assert_eq!(threshold(Precision::F32.exp_underflows_below()), "-103.97");
        // The thresholds are where the emulated exp really switches.
        for f in Precision::ALL {
            let r = |x: f64| f.round((x as f32).exp());
            let (hi, lo) = (f.exp_overflows_above(), f.exp_underflows_below());
            assert!(r(hi - 1e-4).is_finite() && r(hi + 1e-4).is_infinite(), "{f:?}");
            assert!(r(lo + 1e-3) > 0.0 && r(lo - 1e-3) == 0.0, "{f:?}");
        }
    }

    /// The bit-manipulation roundings agree with `half`'s conversions (an
    /// independent implementation, F16C instructions where present) on a
    /// spread of all `f32` bit patterns and on every pattern around the
    /// float16 subnormal, normal and overflow boundaries and the bfloat16
    /// ties, both signs, NaN included.
    #[test]
    fn fast_rounding_matches_half() {
        let check = |bits: u32| {
            let x = f32::from_bits(bits);
            let (a, b) = (round_f16(x), f16::from_f32(x).to_f32());
            assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()), "f16 {x:e} ({bits:#x}): {a:e} vs {b:e}");
            let (a, b) = (round_bf16(x), bf16::from_f32(x).to_f32());
            assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()), "bf16 {x:e} ({bits:#x}): {a:e} vs {b:e}");
        };
        (0..=u32::MAX).step_by(997).for_each(check);
        // 2^-25 (half the smallest subnormal), 2^-14, 65504 and 2^16, bf16::MAX.
        for centre in [0x3300_0000u32, 0x3880_0000, 0x477f_e000, 0x4780_0000, 0x7f7f_0000, 0x3f80_0000, 0] {
            for bits in centre.saturating_sub(1 << 16)..=centre.saturating_add(1 << 16) {
                check(bits);
                check(bits | 0x8000_0000);
            }
        }
        for bits in [0x7f80_0000u32, 0xff80_0000, 0x7fc0_0000, 0x7f80_0001, 0xffff_ffff, 0x7f7f_ffff] {
            check(bits);
        }
    }

    #[test]
    fn inputs_are_rounded_once() {
        // 1 + 2^-8 + 2^-40 is above the bfloat16 midpoint 1 + 2^-8: it rounds
        // up, where rounding through f32 first would make it a tie (→ 1).
        let x = 1.0 + 2f64.powi(-8) + 2f64.powi(-40);
        assert_eq!(Precision::Bf16.round_f64(x), 1.0 + 2f32.powi(-7));
        let x = 1.0 + 2f64.powi(-11) + 2f64.powi(-40);
        assert_eq!(Precision::F16.round_f64(x), 1.0 + 2f32.powi(-10));
        let x = 1.0 + 2f64.powi(-11) - 2f64.powi(-40);
        assert_eq!(Precision::F16.round_f64(x), 1.0);
        assert_eq!(Precision::F16.round_f64(65520.0), f32::INFINITY);
        assert_eq!(Precision::F16.round_f64(65519.99), 65504.0);
        assert_eq!(Precision::Bf16.round_f64(1e300), f32::INFINITY);
        assert_eq!(Precision::Bf16.round_f64(-1e-300), 0.0);
        assert_eq!(Precision::F16.round_f64(2f64.powi(-25) * 1.000001), 2f32.powi(-24));
        assert_eq!(Precision::F16.round_f64(2f64.powi(-25)), 0.0);
    }

    #[test]
    fn classify_flags() {
        assert_eq!(classify(f64::NAN), Some("NaN"));
        assert_eq!(classify(f64::INFINITY), Some("+inf"));
        assert_eq!(classify(f64::NEG_INFINITY), Some("−inf"));
        assert_eq!(classify(-0.0), Some("0"));
        assert_eq!(classify(1e-300), None);
    }

    #[test]
    fn class_lists() {
        assert_eq!(classes_text(&[3], 5), "class 3");
        assert_eq!(classes_text(&[0], 1), "every class");
        assert_eq!(classes_text(&[0, 2, 4], 5), "classes 0, 2 and 4");
        assert_eq!(classes_text(&[0, 1, 2, 3, 4], 9), "5 of 9 classes (0, 1, 2, …)");
    }

    /// The flags taken from the extremes are those of a pass over every
    /// class, whatever the target (ties, zeros, NaN and inf included).
    #[test]
    fn extremes_carry_every_gradient_flag() {
        let mut next = crate::simd::math::tests::xorshift(987_654_321u64);
        let specials = [0.0, -200.0, 200.0, 12.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
        let scalars = [0.0, 0.5, 2.0, 1e30, f64::INFINITY, f64::NAN, 1e-30];
        for round in 0..3000 {
            let k = 1 + (next() % 7) as usize;
            let z: Vec<f64> = (0..k)
                .map(|_| match next() % 4 {
                    0 => specials[(next() % 7) as usize],
                    _ => (next() % 4000) as f64 / 100.0 - 20.0,
                })
                .collect();
            let (gamma, alpha) = (scalars[round % 7], scalars[(round / 7) % 7]);
            for f in Precision::ALL {
                let base = NaiveSoftmax::new(&z, f);
                for t in 0..k {
                    let trace = Trace::run(&base, t, gamma, alpha);
                    let all: Vec<f64> = trace.gradient.iter().collect();
                    let want = (
                        all.iter().any(|x| x.is_nan()),
                        all.iter().any(|x| x.is_infinite()),
                        all.iter().any(|&x| x != 0.0),
                    );
                    assert_eq!(
                        (trace.grad_nan, trace.grad_inf, trace.grad_nonzero),
                        want,
                        "{z:?} {t} {gamma} {alpha} {f:?}"
                    );
                }
            }
        }
    }
}
