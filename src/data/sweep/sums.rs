//! Compensated sums: Neumaier's, a wide one that cannot overflow, the
//! pairwise sums of a block and the eight-lane sums of a row.

use super::Logit;
use crate::loss::sum::two_sum;
use crate::simd::Isa;

/// Sums are split here so that they never overflow (see [`WideSum`]).
pub(super) const BIG: f64 = 9.7453140114e+288; // 2^960
const INV_BIG: f64 = 1.0261342003245941e-289; // 2^-960

/// Neumaier's compensated sum: within ~2 ulp of the exact sum of the terms
/// added (non-negative here).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Neumaier {
    sum: f64,
    carry: f64,
}

impl Neumaier {
    #[inline(always)]
    pub(super) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.carry += if self.sum.abs() >= x.abs() { (self.sum - t) + x } else { (x - t) + self.sum };
        self.sum = t;
    }

    pub(super) fn value(self) -> f64 {
        self.sum + self.carry
    }

    pub(super) fn merge(&mut self, other: Neumaier) {
        self.add(other.sum);
        self.add(other.carry);
    }
}

/// A compensated sum of non-negative finite terms that cannot overflow:
/// terms below 2^960 are summed as they are (< 2^1023 for fewer than 2^63
/// of them), larger ones scaled by 2^-960.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct WideSum {
    small: Neumaier,
    big: Neumaier,
}

impl WideSum {
    #[inline(always)]
    pub(super) fn add(&mut self, x: f64) {
        if x < BIG {
            self.small.add(x);
        } else {
            self.big.add(x * INV_BIG);
        }
    }

    pub(super) fn merge(&mut self, other: &WideSum) {
        self.small.merge(other.small);
        self.big.merge(other.big);
    }

    /// The sum over `n` terms divided by `n` (`None` for none), ≤ `f64::MAX`.
    pub(super) fn mean(&self, n: u64) -> Option<f64> {
        if n == 0 {
            return None;
        }
        let n = n as f64;
        let m = self.small.value() / n + (self.big.value() / n) * BIG;
        Some(m.min(f64::MAX))
    }

    /// Whether some term reached 2^960 (see [`scaled`](Self::scaled)).
    pub(super) fn is_wide(&self) -> bool {
        self.big.sum != 0.0
    }

    /// The sum, scaled by 2^-960 when `wide`.
    pub(super) fn scaled(&self, wide: bool) -> f64 {
        if wide { self.small.value() * INV_BIG + self.big.value() } else { self.small.value() }
    }

    /// `self / total` in [0, 1] (`self` a part of `total`); 0 when the total is 0.
    pub(super) fn share_of(&self, total: &WideSum) -> f64 {
        let wide = self.is_wide() || total.is_wide();
        let (part, all) = (self.scaled(wide), total.scaled(wide));
        if all > 0.0 { (part / all).clamp(0.0, 1.0) } else { 0.0 }
    }
}

/// The sums of a class no row has: zero.
pub(super) static ZERO_SUM: WideSum =
    WideSum { small: Neumaier { sum: 0.0, carry: 0.0 }, big: Neumaier { sum: 0.0, carry: 0.0 } };

/// `x` below 2^960 goes to the block's plain sum, above to the wide sum.
#[inline(always)]
pub(super) fn put(local: &mut f64, wide: &mut WideSum, x: f64) {
    if x < BIG {
        *local += x;
    } else {
        wide.add(x);
    }
}

/// Adds a block's sum of `x` to `all`, and its sum where `p ≥ 0.5` to
/// `easy`; a sum that overflows goes term by term.
#[inline(always)]
pub(super) fn add_block(all: &mut WideSum, easy: &mut WideSum, x: &[f64], p: &[f64]) {
    let (s, e) = block_sums(x, p);
    for (wide, s, only_easy) in [(all, s, false), (easy, e, true)] {
        if s.is_finite() {
            wide.add(s);
        } else {
            for (&v, &p) in x.iter().zip(p) {
                if !only_easy || p >= 0.5 {
                    wide.add(v);
                }
            }
        }
    }
}

/// Adds a block's sum of `x` to `all`: the bits of [`add_block`]'s `all`,
/// without the easy sum.
#[inline(always)]
pub(super) fn add_block_all(all: &mut WideSum, x: &[f64]) {
    let mut lanes = [0.0f64; 32];
    let mut xs = x.chunks_exact(32);
    for c in &mut xs {
        for i in 0..32 {
            lanes[i] += c[i];
        }
    }
    for (a, &v) in lanes.iter_mut().zip(xs.remainder()) {
        *a += v;
    }
    let s = pairwise(lanes);
    if s.is_finite() {
        all.add(s);
    } else {
        for &v in x {
            all.add(v);
        }
    }
}

/// Sums of up to [`BLOCK`](super::BLOCK) terms (all of them, and those
/// where `p ≥ 0.5`), in one pass: each in 32 lanes (8 terms each), then
/// pairwise: relative error ≤ 12 ε for non-negative terms.
#[inline(always)]
fn block_sums(x: &[f64], p: &[f64]) -> (f64, f64) {
    let (mut all, mut easy) = ([0.0f64; 32], [0.0f64; 32]);
    let p = &p[..x.len()];
    let (mut xs, mut ps) = (x.chunks_exact(32), p.chunks_exact(32));
    for (c, p) in (&mut xs).zip(&mut ps) {
        for i in 0..32 {
            all[i] += c[i];
            easy[i] += if p[i] >= 0.5 { c[i] } else { 0.0 };
        }
    }
    for (((a, e), &v), &p) in all.iter_mut().zip(&mut easy).zip(xs.remainder()).zip(ps.remainder()) {
        *a += v;
        *e += if p >= 0.5 { v } else { 0.0 };
    }
    (pairwise(all), pairwise(easy))
}

/// The sum of 32 lanes, pairwise.
#[inline(always)]
fn pairwise(mut acc: [f64; 32]) -> f64 {
    let mut half = 16;
    while half > 0 {
        let (a, b) = acc.split_at_mut(half);
        for (a, &b) in a.iter_mut().zip(&b[..half]) {
            *a += b;
        }
        half /= 2;
    }
    acc[0]
}

/// A compensated sum in eight lanes: chunks of eight terms per lane are
/// summed plainly (≤ 7 ε), the chunk sums with TwoSum, so the result is
/// within about 8 ε of the exact sum of non-negative terms.
#[derive(Default)]
pub(super) struct LaneSum {
    sum: [f64; 8],
    err: [f64; 8],
}

impl LaneSum {
    /// Adds `exp(z_i − shift)` for every `i` but `skip` (by the
    /// instruction set's kernel where it has one: the same bits).
    #[inline(always)]
    pub(super) fn add_exps<I: Isa, T: Logit>(&mut self, isa: I, z: &[T], shift: f64, skip: usize) {
        if isa.add_exps(&mut self.sum, &mut self.err, z, shift, skip) {
            return;
        }
        let mut chunks = z.chunks_exact(64);
        let mut base = 0;
        for c in &mut chunks {
            let mut part = [0.0f64; 8];
            if skip.wrapping_sub(base) < 64 {
                for (s, c) in c.chunks_exact(8).enumerate() {
                    for (l, (p, &z)) in part.iter_mut().zip(c).enumerate() {
                        let e = I::exp(z.into() - shift);
                        *p += if base + 8 * s + l == skip { 0.0 } else { e };
                    }
                }
            } else {
                for c in c.chunks_exact(8) {
                    for (p, &z) in part.iter_mut().zip(c) {
                        *p += I::exp(z.into() - shift);
                    }
                }
            }
            self.add_lanes(&part);
            base += 64;
        }
        // The tail in groups of 8, padded with −∞ (e^−∞ = 0).
        let mut part = [0.0f64; 8];
        for (s, c) in chunks.remainder().chunks(8).enumerate() {
            let mut d = [f64::NEG_INFINITY; 8];
            for (d, &z) in d.iter_mut().zip(c) {
                *d = z.into() - shift;
            }
            for (l, (p, &d)) in part.iter_mut().zip(&d).enumerate() {
                let e = I::exp(d);
                *p += if base + 8 * s + l == skip { 0.0 } else { e };
            }
        }
        self.add_lanes(&part);
    }

    #[inline(always)]
    fn add_lanes(&mut self, part: &[f64; 8]) {
        for ((s, e), &x) in self.sum.iter_mut().zip(&mut self.err).zip(part) {
            let (t, d) = two_sum(*s, x);
            *s = t;
            *e += d;
        }
    }

    /// The total; +∞ when it overflowed.
    pub(super) fn value(&self) -> f64 {
        let mut acc = Neumaier::default();
        for &s in &self.sum {
            acc.add(s);
        }
        let v = acc.sum + (acc.carry + self.err.iter().sum::<f64>());
        if v.is_nan() || acc.sum.is_infinite() { f64::INFINITY } else { v }
    }
}

/// Σ of a row's non-negative terms ([`LaneSum`]: within about 8 ε). +∞
/// when it overflows.
#[inline(always)]
pub(super) fn sum_row(x: &[f64]) -> f64 {
    let mut sum = LaneSum::default();
    let mut chunks = x.chunks_exact(64);
    for c in &mut chunks {
        let mut part = [0.0f64; 8];
        for c in c.chunks_exact(8) {
            for (p, &v) in part.iter_mut().zip(c) {
                *p += v;
            }
        }
        sum.add_lanes(&part);
    }
    let mut part = [0.0f64; 8];
    for c in chunks.remainder().chunks(8) {
        for (p, &v) in part.iter_mut().zip(c) {
            *p += v;
        }
    }
    sum.add_lanes(&part);
    sum.value()
}

/// [`LaneSum::value`] of each row of a class-major batch: `lanes[l · n + r]`
/// is lane `l` of row `r`, `err` the lanes' TwoSum errors where there were
/// several 64-class chunks (none: a single chunk, whose TwoSum into zero
/// is exact), `out` the total. The same operations in the same order as the
/// row's own [`LaneSum`], across rows; `carry` is scratch.
#[inline(always)]
pub(super) fn lane_totals(out: &mut [f64], lanes: &[f64], carry: &mut [f64], err: Option<&[f64]>) {
    let n = out.len();
    out.fill(0.0);
    carry.fill(0.0);
    for lane in lanes.chunks_exact(n) {
        for ((s, c), &x) in out.iter_mut().zip(carry.iter_mut()).zip(lane) {
            let t = *s + x;
            *c += if s.abs() >= x.abs() { (*s - t) + x } else { (x - t) + *s };
            *s = t;
        }
    }
    for (r, (s, &c)) in out.iter_mut().zip(carry.iter()).enumerate() {
        let c = match err {
            Some(err) => c + (0..8).map(|l| err[l * n + r]).sum::<f64>(),
            None => c,
        };
        let v = *s + c;
        *s = if v.is_nan() || s.is_infinite() { f64::INFINITY } else { v };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::math::exp_fast;
    use crate::simd::{Kernel, Portable, Simd};
    use crate::test_rng::uniform;

    #[test]
    fn pairwise_and_row_sums_are_accurate() {
        let x = uniform(256, 0.0, 1.0, 9);
        let exact: f64 = {
            let mut n = Neumaier::default();
            x.iter().for_each(|&v| n.add(v));
            n.value()
        };
        let p: Vec<f64> = (0..256).map(|i| if i % 3 == 0 { 0.7 } else { 0.2 }).collect();
        let easy: f64 = x.iter().step_by(3).sum();
        let (all, easy_sum) = block_sums(&x, &p);
        assert!((all - exact).abs() <= 4.0 * f64::EPSILON * exact);
        assert!((easy_sum - easy).abs() <= 1e-13);
        assert!((block_sums(&x[..100], &p).0 - x[..100].iter().sum::<f64>()).abs() <= 1e-13);
        assert!((sum_row(&x) - exact).abs() <= 2.0 * f64::EPSILON * exact);
        assert_eq!(sum_row(&[f64::MAX, f64::MAX, 1.0].repeat(8)), f64::INFINITY);
    }

    /// `LaneSum::add_exps` run with `simd`: its lanes.
    fn lane_sums<T: Logit>(simd: Simd, z: &[T], shift: f64, skip: usize) -> Vec<u64> {
        struct AddExps<'a, T>(&'a [T], f64, usize);
        impl<T: Logit> Kernel for AddExps<'_, T> {
            type Output = LaneSum;
            #[inline(always)]
            fn run<I: Isa>(self, isa: I) -> LaneSum {
                let mut sum = LaneSum::default();
                sum.add_exps(isa, self.0, self.1, self.2);
                sum
            }
        }
        let sum = simd.run(AddExps(z, shift, skip));
        sum.sum.iter().chain(&sum.err).map(|v| v.to_bits()).collect()
    }

    /// The AVX-512 row sum of exponentials is the bits of the portable
    /// loop with FMA, AVX2's (float32 and float64 rows; the skipped class
    /// in a whole chunk, in the tail, or absent).
    #[test]
    #[cfg_attr(no_avx512, ignore = "needs an AVX-512 CPU")]
    fn avx512_lane_sums_are_the_portable_bits() {
        let wide = Simd::named("avx512").expect("built where AVX-512 was found, run where it is not");
        let fused = Simd::named("avx2").expect("AVX-512 comes with AVX2");
        for k in [17, 63, 64, 65, 130, 1000, 4099] {
            let z = uniform(k, -30.0, 2.0, 7 + k as u64);
            let z32: Vec<f32> = z.iter().map(|&v| v as f32).collect();
            for skip in [0, k / 2, k - 1, k] {
                assert_eq!(lane_sums(wide, &z, 2.0, skip), lane_sums(fused, &z, 2.0, skip), "f64 k={k} skip={skip}");
                assert_eq!(
                    lane_sums(wide, &z32, 2.0, skip),
                    lane_sums(fused, &z32, 2.0, skip),
                    "f32 k={k} skip={skip}"
                );
            }
        }
    }

    #[test]
    fn lane_sums_are_compensated() {
        for k in [17, 63, 64, 65, 1000, 4099] {
            let z = uniform(k, -30.0, 0.0, 3 + k as u64);
            for skip in [0, k / 2, k - 1] {
                let mut exact = Neumaier::default();
                for (i, &v) in z.iter().enumerate() {
                    if i != skip {
                        exact.add(exp_fast::<Portable>(v));
                    }
                }
                let mut sum = LaneSum::default();
                sum.add_exps(Portable, &z, 0.0, skip);
                let (a, b) = (sum.value(), exact.value());
                assert!((a - b).abs() <= 2.0 * f64::EPSILON * b, "k={k} skip={skip}: {a} vs {b}");
                let e: Vec<f64> = z.iter().map(|&v| exp_fast::<Portable>(v)).collect();
                let mut all = Neumaier::default();
                e.iter().for_each(|&v| all.add(v));
                assert!((sum_row(&e) - all.value()).abs() <= 2.0 * f64::EPSILON * all.value());
            }
        }
    }

    #[test]
    fn wide_sums_do_not_overflow() {
        let mut w = WideSum::default();
        for _ in 0..1000 {
            w.add(f64::MAX);
        }
        assert_eq!(w.mean(1000), Some(f64::MAX));
        let mut part = WideSum::default();
        part.add(f64::MAX);
        assert!((part.share_of(&w) - 1e-3).abs() < 1e-15);
    }

    #[test]
    fn big_scales_are_powers_of_two() {
        assert_eq!(BIG, 2f64.powi(960));
        assert_eq!(INV_BIG, 2f64.powi(-960));
    }
}
