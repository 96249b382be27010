//! The formats the lens emulates, and rounding to them: once from `f64`
//! for the inputs, after every operation for the results.

use half::{bf16, f16};

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
    pub(super) fn round(self, x: f32) -> f32 {
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
    pub(super) fn round_f64(self, x: f64) -> f32 {
        match self {
            Precision::F32 => x as f32,
            _ => self.round(to_f32_odd(x)),
        }
    }

    /// The largest finite value.
    pub(super) fn max(self) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lens::reasons::threshold;

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
}
