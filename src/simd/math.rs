//! The portable scalar kernels: branch-free, vectorisable elementary
//! functions (`exp` for x ≤ 0, `ln`, `ln_1p`, `2^k`), generic over the
//! instruction set only for `madd` ([`Isa::FMA`]). Every function is
//! `#[inline(always)]`: a loop over a slice compiles to vector code, in the
//! lanes of whatever `#[target_feature]` function it is inlined into.
//! Accuracy: see each function (within 1 ulp of the C library in the unit
//! tests, FMA or not).

use super::Isa;

const MANTISSA: u64 = (1 << 52) - 1;

/// 2^k (0 below 2^-1074, k ≤ 1023).
pub(crate) fn pow2(k: i32) -> f64 {
    if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else if k >= -1074 {
        f64::from_bits(1u64 << (k + 1074))
    } else {
        0.0
    }
}

// ---------------------------------------------------------------------------
// Vectorisable elementary functions
// ---------------------------------------------------------------------------

/// 1.5 · 2^52: adding it rounds to an integer held in the low bits.
pub(super) const SHIFT: f64 = 6_755_399_441_055_744.0;
pub(super) const LN2_HI: f64 = 0.6931471803691238; // 32 trailing zero bits
pub(super) const LN2_LO: f64 = 1.9082149292705877e-10;
pub(super) const TWO_M54: f64 = 5.551115123125783e-17;

/// `exp_fast`'s q(r) = Σ C[i] r^i (mpmath chebyfit on [−0.3476, 0.3476],
/// rounded).
pub(super) const EXP_Q: [f64; 10] = [
    0.5000000000000001,
    0.16666666666666669,
    0.04166666666662317,
    0.008333333333329989,
    0.0013888888917690603,
    0.0001984126986342035,
    2.480152055701783e-05,
    2.755726789174553e-06,
    2.762043894863442e-07,
    2.510065503606659e-08,
];

/// `e^x` for `x ≤ 0` (every use here: `z − max z`, `−|u|`, `γ · ln(1 − p)`),
/// without a branch or a table, so that loops over slices vectorise.
///
/// `x = k·ln2 + r` with `|r| ≤ ln2/2` (Cody–Waite: `k·LN2_HI` is exact),
/// `e^r = 1 + (r + r²·q(r))` with `q` a degree-9 Chebyshev fit of
/// `(e^r − 1 − r)/r²` (relative error 2.3e-16, which reaches the result
/// through `r²·q ≤ 0.06 e^r` only: < 0.02 ulp) in Estrin's scheme, and `2^k`
/// applied as `(p · 2^(k+54)) · 2^-54`: the first product is exact, so results
/// in the subnormal range are rounded once. Within 1 ulp of the C library's
/// `exp` in the unit tests; 0 below −745.2. `x > 0` is outside the contract
/// and not clamped (a clamp would cost the sweep's hottest loop a compare).
#[inline(always)]
pub(crate) fn exp_fast<I: Isa>(x: f64) -> f64 {
    const C: [f64; 10] = EXP_Q;
    let x = if x < -746.0 { -746.0 } else { x };
    let y = I::madd(x, std::f64::consts::LOG2_E, SHIFT);
    let k = y - SHIFT;
    let r = if I::FMA { (-k).mul_add(LN2_LO, (-k).mul_add(LN2_HI, x)) } else { (x - k * LN2_HI) - k * LN2_LO };
    let r2 = r * r;
    let r4 = r2 * r2;
    let a0 = I::madd(C[1], r, C[0]);
    let a1 = I::madd(C[3], r, C[2]);
    let a2 = I::madd(C[5], r, C[4]);
    let a3 = I::madd(C[7], r, C[6]);
    let a4 = I::madd(C[9], r, C[8]);
    let b0 = I::madd(a1, r2, a0);
    let b1 = I::madd(a3, r2, a2);
    let q = I::madd(I::madd(a4, r4, b1), r4, b0);
    let p = 1.0 + I::madd(q, r2, r);
    // −1076 ≤ k ≤ 0: 2^(k+54) is normal.
    let scale = f64::from_bits(y.to_bits().wrapping_add(1023 + 54) << 52);
    p * scale * TWO_M54
}

/// `ln(hi · (1 + c))` for a normal `hi > 0` and `|c| ≤ ε` (`c = lo/hi` for
/// `ln(hi + lo)`): fdlibm's `log` (musl's form, < 1 ulp) with `c` added to
/// the low-order part.
#[inline(always)]
pub(crate) fn ln_sum<I: Isa>(hi: f64, c: f64) -> f64 {
    const LG1: f64 = 0.6666666666666735;
    const LG2: f64 = 0.3999999999940942;
    const LG3: f64 = 0.2857142874366239;
    const LG4: f64 = 0.22222198432149784;
    const LG5: f64 = 0.1818357216161805;
    const LG6: f64 = 0.15313837699209373;
    const LG7: f64 = 0.14798198605116586;
    const TWO52: f64 = 4_503_599_627_370_496.0;
    let bits = hi.to_bits();
    // hi = 2^k · m with m in [√2/2, √2).
    let m = f64::from_bits((bits & MANTISSA) | 0x3ff0_0000_0000_0000);
    let big = m > std::f64::consts::SQRT_2;
    let m = if big { m * 0.5 } else { m };
    let biased = f64::from_bits((bits >> 52) | 0x4330_0000_0000_0000) - TWO52;
    let k = biased - if big { 1022.0 } else { 1023.0 };
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * I::madd(w, I::madd(w, LG6, LG4), LG2);
    let t2 = z * I::madd(w, I::madd(w, I::madd(w, LG7, LG5), LG3), LG1);
    let r = t2 + t1;
    let low = I::madd(k, LN2_LO, c);
    I::madd(s, hfsq + r, low) - hfsq + f + k * LN2_HI
}

/// `ln x` for a normal `x > 0`.
#[inline(always)]
pub(crate) fn ln_fast<I: Isa>(x: f64) -> f64 {
    ln_sum::<I>(x, -0.0)
}

/// `ln(1 + x)` for `x ≥ −0.5`: `1 + x = hi + lo` exactly (Fast2Sum), then
/// [`ln_sum`]; equal to `x` when `x` is below half an ulp of 1.
#[inline(always)]
pub(crate) fn ln_1p_fast<I: Isa>(x: f64) -> f64 {
    let hi = 1.0 + x;
    let lo = if x.abs() <= 1.0 { (1.0 - hi) + x } else { (x - hi) + 1.0 };
    ln_sum::<I>(hi, lo / hi)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::simd::Portable;

    /// Distance in units in the last place (same sign, finite).
    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    use crate::test_rng::uniform;

    /// The worst distance to the C library over the ranges, without and
    /// with FMA (`mul_add` is exact everywhere; only its speed needs FMA).
    fn worst(ranges: &[(f64, f64)], ours: impl Fn(f64, bool) -> f64, libm: impl Fn(f64) -> f64) -> u64 {
        let mut worst = 0;
        for (i, &(lo, hi)) in ranges.iter().enumerate() {
            for x in uniform(100_000, lo, hi, 7 + i as u64) {
                for fma in [false, true] {
                    worst = worst.max(ulps(ours(x, fma), libm(x)));
                }
            }
        }
        worst
    }

    /// Fused multiply-adds on any CPU (`mul_add` is exact everywhere; only
    /// its speed needs FMA): the arithmetic of the FMA sets.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Fused;

    /// The points an `exp` kernel is checked at against `exp_fast`: every
    /// range of its contract (underflow, subnormal results, the normal
    /// range, near 0) and the edges, padded with −1 to a multiple of `lanes`.
    pub(crate) fn exp_points(lanes: usize) -> Vec<f64> {
        let ranges = [(-800.0, -745.0), (-745.2, -708.0), (-708.0, 0.0), (-40.0, 0.0), (-1.0, 0.0), (-1e-6, 0.0)];
        let mut x: Vec<f64> = ranges
            .iter()
            .enumerate()
            .flat_map(|(i, &(lo, hi))| crate::test_rng::uniform(40_000, lo, hi, 31 + i as u64))
            .collect();
        x.extend([0.0, -0.0, -746.0, -745.13, -708.39, f64::NEG_INFINITY, -1e300, -f64::MIN_POSITIVE, -1e-300]);
        x.resize(x.len().next_multiple_of(lanes), -1.0);
        x
    }

    impl Isa for Fused {
        const FMA: bool = true;
    }

    fn exp(x: f64, fma: bool) -> f64 {
        if fma { exp_fast::<Fused>(x) } else { exp_fast::<Portable>(x) }
    }

    #[test]
    fn exp_is_within_one_ulp_of_libm() {
        let ranges = [(-708.0, 0.0), (-1.0, 0.0), (-1e-6, 0.0), (-40.0, 0.0), (-0.35, 0.0), (-700.0, -690.0)];
        let w = worst(&ranges, exp, f64::exp);
        assert!(w <= 1, "{w} ulp");
        for x in [0.0, -0.0, -1.0, -708.39, -1e-300, -0.5 * std::f64::consts::LN_2, -std::f64::consts::LN_2] {
            assert!(ulps(exp(x, false), x.exp()) <= 1 && ulps(exp(x, true), x.exp()) <= 1, "{x}");
        }
        assert_eq!(exp(0.0, false), 1.0);
        assert_eq!(exp(0.0, true), 1.0);
    }

    #[test]
    fn exp_subnormal_range_and_limits() {
        // Subnormal results: within one subnormal ulp (absolute).
        for x in uniform(100_000, -745.2, -708.0, 11) {
            for fma in [false, true] {
                let (a, b) = (exp(x, fma), x.exp());
                assert!((a - b).abs() <= 4.94e-324 || ulps(a, b) <= 1, "{x}: {a:e} vs {b:e}");
            }
        }
        for fma in [false, true] {
            assert_eq!(exp(-746.0, fma), 0.0);
            assert_eq!(exp(f64::NEG_INFINITY, fma), 0.0);
            assert_eq!(exp(-1e300, fma), 0.0);
        }
    }

    #[test]
    fn logs_are_within_one_ulp_of_libm() {
        let ln = |x: f64, fma: bool| if fma { ln_fast::<Fused>(x) } else { ln_fast::<Portable>(x) };
        let ranges = [(1e-300, 1e-290), (1e-10, 10.0), (0.5, 2.0), (0.99, 1.01), (1.0, 1e6), (1e300, 1.7e308)];
        let w = worst(&ranges, ln, f64::ln);
        assert!(w <= 1, "ln: {w} ulp");
        let ln_1p = |x: f64, fma: bool| if fma { ln_1p_fast::<Fused>(x) } else { ln_1p_fast::<Portable>(x) };
        let ranges = [(-0.5, 0.0), (0.0, 1e-300), (1e-20, 1e-8), (1e-8, 1.0), (1.0, 1e5), (1e5, 1e300)];
        let w = worst(&ranges, ln_1p, f64::ln_1p);
        assert!(w <= 1, "ln_1p: {w} ulp");
        for fma in [false, true] {
            assert_eq!(ln_1p(0.0, fma), 0.0);
            assert_eq!(ln_1p(5e-324, fma), 5e-324);
            assert_eq!(ln(1.0, fma), 0.0);
        }
    }

    #[test]
    fn pow2_covers_the_range() {
        assert_eq!(pow2(0), 1.0);
        assert_eq!(pow2(-1074), 5e-324);
        assert_eq!(pow2(-1075), 0.0);
        assert_eq!(pow2(1023), 2f64.powi(1023));
    }
}
