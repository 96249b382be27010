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

pub mod amp;
mod precision;
mod reasons;
mod softmax;
mod trace;

pub use precision::Precision;
pub use softmax::{NaiveGradient, NaiveSoftmax};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_flags() {
        assert_eq!(classify(f64::NAN), Some("NaN"));
        assert_eq!(classify(f64::INFINITY), Some("+inf"));
        assert_eq!(classify(f64::NEG_INFINITY), Some("−inf"));
        assert_eq!(classify(-0.0), Some("0"));
        assert_eq!(classify(1e-300), None);
    }
}
