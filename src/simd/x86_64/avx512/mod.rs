//! Five loops of the dataset sweep written with AVX-512 intrinsics, for
//! instructions that LLVM does not generate from the portable code:
//!
//! - [`exp8`], [`add_exps`] (a row's sum of exponentials, K > 16) and
//!   [`column_exps`] (the same for a class-major batch, K ≤ 16): `vscalefpd`
//!   applies `2^k` in one rounding, where the portable
//!   [`exp_fast`](crate::simd::math::exp_fast) takes a shift, an add and two
//!   multiplications (`(p · 2^(k+54)) · 2^-54`, also rounded once). Every
//!   other operation is the portable form's with FMA, in the same order, so
//!   the results are the same bits; the class-major step stores its
//!   selections with masks.
//! - [`transpose`] (a batch of float32 rows to class-major, K ≤ 16): masked
//!   row loads and a 16 × 16 shuffle transpose in registers, where the
//!   compiled loop moves one value at a time, and each row's argmax from
//!   the registers.
//! - [`planes::gather_planes`] (float32 class planes to a class-major batch,
//!   its own file): eight rows per load or gather, and their argmax from the
//!   registers.
//! - [`class_sums`] (per-class sums of a block, K ≤ 32): masked adds into
//!   the lanes of registers, where the compiled loop does a
//!   read-modify-write at a computed address per row and quantity.
//!
//! What each saves is measured in docs/PERFORMANCE.md.
//! The unit tests compare each with its portable form, bit for bit.
//! Every function here is `unsafe` and `#[inline(always)]`: call it only
//! where the CPU has AVX-512F (an [`Avx512`] value is the proof), from code
//! compiled with it (`run_avx512`), or the intrinsics are not inlined.

use std::arch::x86_64::*;

use super::{Avx512, same_type};
use crate::simd::Isa;
use crate::simd::math::{EXP_Q, LN2_HI, LN2_LO, SHIFT};

impl Isa for Avx512 {
    const FMA: bool = true;

    #[inline(always)]
    fn add_exps<T: Copy + Into<f64> + 'static>(
        self,
        sum: &mut [f64; 8],
        err: &mut [f64; 8],
        z: &[T],
        shift: f64,
        skip: usize,
    ) -> bool {
        // SAFETY (both): `self` exists only where the CPU has AVX-512F.
        if let Some(z) = same_type::<T, f32>(z) {
            unsafe { add_exps(sum, err, z, shift, skip) };
        } else if let Some(z) = same_type::<T, f64>(z) {
            unsafe { add_exps(sum, err, z, shift, skip) };
        } else {
            return false;
        }
        true
    }

    #[inline(always)]
    fn transpose<T: Copy + Into<f64> + 'static>(
        self,
        col: &mut [f64],
        z: &[T],
        k: usize,
        negate: bool,
        argmax: Option<(&mut [f64], &mut [usize])>,
    ) -> usize {
        match same_type::<T, f32>(z) {
            // SAFETY: `self` exists only where the CPU has AVX-512F.
            Some(z) => unsafe { transpose(col, z, k, negate, argmax) },
            None => 0,
        }
    }

    #[inline(always)]
    fn gather_planes<T: Copy + Into<f64> + 'static>(
        self,
        col: &mut [f64],
        values: &[T],
        stride: usize,
        positions: &[usize],
        k: usize,
        negate: bool,
        argmax: Option<(&mut [f64], &mut [usize])>,
    ) -> usize {
        match same_type::<T, f32>(values) {
            // SAFETY: `self` exists only where the CPU has AVX-512F.
            Some(values) => unsafe { planes::gather_planes(col, values, stride, positions, k, negate, argmax) },
            None => 0,
        }
    }

    #[inline(always)]
    fn planes_softmax<T: Copy + Into<f64> + 'static>(
        self,
        values: &[T],
        stride: usize,
        positions: &[usize],
        labels: &[usize],
        k: usize,
        top: &mut [f64],
        j: &mut [usize],
        s: &mut [f64],
        lanes: usize,
        zt: &mut [f64],
        et: &mut [f64],
    ) -> usize {
        let Some(values) = same_type::<T, f32>(values) else { return 0 };
        // SAFETY (both): `self` exists only where the CPU has AVX-512F.
        match lanes {
            1 => unsafe { planes::planes_softmax::<1>(values, stride, positions, labels, k, top, j, s, zt, et) },
            8 => unsafe { planes::planes_softmax::<8>(values, stride, positions, labels, k, top, j, s, zt, et) },
            _ => 0,
        }
    }

    #[inline(always)]
    fn column_exps(
        self,
        col: &[f64],
        top: &[f64],
        j: &[usize],
        labels: &[usize],
        s: &mut [f64],
        lanes: usize,
        zt: &mut [f64],
        et: &mut [f64],
    ) -> usize {
        // SAFETY: `self` exists only where the CPU has AVX-512F.
        unsafe { column_exps(col, top, j, labels, s, lanes, zt, et) }
    }

    #[inline(always)]
    fn class_sums<'a>(
        self,
        local: &mut [f64],
        k: usize,
        labels: &[usize],
        quantities: usize,
        xs: impl Fn(usize) -> &'a [f64],
    ) -> bool {
        // SAFETY: `self` exists only where the CPU has AVX-512F.
        unsafe { class_sums(local, k, labels, quantities, xs) };
        true
    }
}

/// `exp_fast` with FMA in eight lanes (`x ≤ 0`; 0 below −745.2).
///
/// # Safety
/// The CPU must have AVX-512F.
#[inline(always)]
unsafe fn exp8(x: __m512d) -> __m512d {
    // SAFETY: the caller's (AVX-512F); no memory is touched.
    unsafe {
        let c = |i: usize| _mm512_set1_pd(EXP_Q[i]);
        let x = _mm512_max_pd(x, _mm512_set1_pd(-746.0));
        let y = _mm512_fmadd_pd(x, _mm512_set1_pd(std::f64::consts::LOG2_E), _mm512_set1_pd(SHIFT));
        let k = _mm512_sub_pd(y, _mm512_set1_pd(SHIFT));
        let r = _mm512_fnmadd_pd(k, _mm512_set1_pd(LN2_LO), _mm512_fnmadd_pd(k, _mm512_set1_pd(LN2_HI), x));
        let r2 = _mm512_mul_pd(r, r);
        let r4 = _mm512_mul_pd(r2, r2);
        let a0 = _mm512_fmadd_pd(c(1), r, c(0));
        let a1 = _mm512_fmadd_pd(c(3), r, c(2));
        let a2 = _mm512_fmadd_pd(c(5), r, c(4));
        let a3 = _mm512_fmadd_pd(c(7), r, c(6));
        let a4 = _mm512_fmadd_pd(c(9), r, c(8));
        let b0 = _mm512_fmadd_pd(a1, r2, a0);
        let b1 = _mm512_fmadd_pd(a3, r2, a2);
        let q = _mm512_fmadd_pd(_mm512_fmadd_pd(a4, r4, b1), r4, b0);
        let p = _mm512_add_pd(_mm512_set1_pd(1.0), _mm512_fmadd_pd(q, r2, r));
        _mm512_scalef_pd(p, k)
    }
}

/// Logits that load as eight f64 lanes.
trait Lanes: Copy + Into<f64> {
    /// The eight values at `p`, converted exactly.
    ///
    /// # Safety
    /// The CPU must have AVX-512F, and `p` point to eight values.
    unsafe fn load8(p: *const Self) -> __m512d;
}

impl Lanes for f32 {
    #[inline(always)]
    unsafe fn load8(p: *const f32) -> __m512d {
        // SAFETY: the caller's.
        unsafe { _mm512_cvtps_pd(_mm256_loadu_ps(p)) }
    }
}

impl Lanes for f64 {
    #[inline(always)]
    unsafe fn load8(p: *const f64) -> __m512d {
        // SAFETY: the caller's.
        unsafe { _mm512_loadu_pd(p) }
    }
}

/// Adds `exp(z_i − shift)` for every `i` but `skip` to the eight-lane
/// compensated sum `(sum, err)`: the order of `LaneSum::add_exps` (chunks
/// of 64 summed plainly per lane, each chunk's lane sums added with
/// TwoSum; the tail padded with −∞), so the same bits.
///
/// # Safety
/// The CPU must have AVX-512F.
#[inline(always)]
unsafe fn add_exps<T: Lanes>(sum: &mut [f64; 8], err: &mut [f64; 8], z: &[T], shift: f64, skip: usize) {
    // SAFETY: the caller's (AVX-512F); the loads read whole chunks of 64
    // (eight groups of eight) inside `z`, the tail goes through an array.
    unsafe {
        let shift8 = _mm512_set1_pd(shift);
        let lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
        // All lanes but the one holding index `skip`, for the group of
        // eight starting at `at`.
        let others = |at: usize| {
            let hit = _mm512_cmpeq_epi64_mask(lane, _mm512_set1_epi64(skip.wrapping_sub(at) as i64));
            !hit
        };
        let (mut s, mut e) = (_mm512_loadu_pd(sum.as_ptr()), _mm512_loadu_pd(err.as_ptr()));
        let mut add_part = |part: __m512d| {
            // TwoSum per lane, as `two_sum`.
            let t = _mm512_add_pd(s, part);
            let bb = _mm512_sub_pd(t, s);
            let d = _mm512_add_pd(_mm512_sub_pd(s, _mm512_sub_pd(t, bb)), _mm512_sub_pd(part, bb));
            e = _mm512_add_pd(e, d);
            s = t;
        };
        let mut chunks = z.chunks_exact(64);
        let mut base = 0;
        for c in &mut chunks {
            let mut part = _mm512_setzero_pd();
            if skip.wrapping_sub(base) < 64 {
                for q in 0..8 {
                    let x = exp8(_mm512_sub_pd(T::load8(c.as_ptr().add(8 * q)), shift8));
                    part = _mm512_mask_add_pd(part, others(base + 8 * q), part, x);
                }
            } else {
                for q in 0..8 {
                    part = _mm512_add_pd(part, exp8(_mm512_sub_pd(T::load8(c.as_ptr().add(8 * q)), shift8)));
                }
            }
            add_part(part);
            base += 64;
        }
        let mut part = _mm512_setzero_pd();
        for (q, c) in chunks.remainder().chunks(8).enumerate() {
            let mut d = [f64::NEG_INFINITY; 8];
            for (d, &z) in d.iter_mut().zip(c) {
                *d = z.into() - shift;
            }
            let x = exp8(_mm512_loadu_pd(d.as_ptr()));
            part = _mm512_mask_add_pd(part, others(base + 8 * q), part, x);
        }
        add_part(part);
        _mm512_storeu_pd(sum.as_mut_ptr(), s);
        _mm512_storeu_pd(err.as_mut_ptr(), e);
    }
}

/// `col[c · n + r] = ±z[r · k + c]` for the rows `r` of whole groups of 16
/// (`k ≤ 16`, `n` rows in `z`): per group, sixteen masked row loads, a
/// 16 × 16 transpose in registers and, per class, two widened stores, in
/// place of `16 · k` scalar loads and stores. With `argmax`, also each of
/// those rows' largest logit and its first index (`column_argmax`'s
/// comparisons, on the float32 values: the same order). Returns the rows
/// done (the rest, fewer than 16, are the caller's).
///
/// # Safety
/// The CPU must have AVX-512F.
#[inline(always)]
unsafe fn transpose(
    col: &mut [f64],
    z: &[f32],
    k: usize,
    negate: bool,
    mut argmax: Option<(&mut [f64], &mut [usize])>,
) -> usize {
    // SAFETY: the caller's (AVX-512F); the masked loads read `k` values of
    // rows below `n`, the stores write rows below `16 · groups ≤ n` of
    // `col` (at least `k · n` long, asserted) and of `top` and `j`.
    unsafe {
        let n = z.len() / k;
        assert!(k <= 16 && col.len() >= k * n);
        assert!(argmax.as_ref().is_none_or(|(top, j)| top.len() >= n && j.len() >= n));
        let mask: __mmask16 = ((1u32 << k) - 1) as u16;
        let sign = _mm512_set1_epi64(if negate { i64::MIN } else { 0 });
        // `±v` (an integer xor: AVX-512F has no floating-point one).
        let signed = |v: __m512d| _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(v), sign));
        let mut r = [_mm512_setzero_ps(); 16];
        let mut t = [_mm512_setzero_ps(); 16];
        let groups = n / 16;
        for g in 0..groups {
            let row0 = 16 * g;
            for (i, v) in r.iter_mut().enumerate() {
                *v = _mm512_maskz_loadu_ps(mask, z.as_ptr().add((row0 + i) * k));
            }
            // 2 × 2 blocks of single values, of pairs, of fours, of eights.
            for i in 0..8 {
                t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
                t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
            }
            for i in 0..4 {
                let (a, b, c, d) = (t[4 * i], t[4 * i + 1], t[4 * i + 2], t[4 * i + 3]);
                let pd = |x: __m512, y: __m512, lo: bool| {
                    let (x, y) = (_mm512_castps_pd(x), _mm512_castps_pd(y));
                    _mm512_castpd_ps(if lo { _mm512_unpacklo_pd(x, y) } else { _mm512_unpackhi_pd(x, y) })
                };
                r[4 * i] = pd(a, c, true);
                r[4 * i + 1] = pd(a, c, false);
                r[4 * i + 2] = pd(b, d, true);
                r[4 * i + 3] = pd(b, d, false);
            }
            for h in 0..2 {
                for i in 0..4 {
                    t[8 * h + i] = _mm512_shuffle_f32x4::<0x88>(r[8 * h + i], r[8 * h + 4 + i]);
                    t[8 * h + 4 + i] = _mm512_shuffle_f32x4::<0xdd>(r[8 * h + i], r[8 * h + 4 + i]);
                }
            }
            for i in 0..8 {
                r[i] = _mm512_shuffle_f32x4::<0x88>(t[i], t[8 + i]);
                r[8 + i] = _mm512_shuffle_f32x4::<0xdd>(t[i], t[8 + i]);
            }
            for (c, &v) in r.iter().enumerate().take(k) {
                let out = col.as_mut_ptr().add(c * n + row0);
                let lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
                let hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v))));
                _mm512_storeu_pd(out, signed(lo));
                _mm512_storeu_pd(out.add(8), signed(hi));
            }
            if let Some((top, j)) = &mut argmax {
                let (mut best, mut at) = (r[0], _mm512_setzero_si512());
                for (c, &v) in r.iter().enumerate().take(k).skip(1) {
                    let gt = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, best);
                    best = _mm512_mask_mov_ps(best, gt, v);
                    at = _mm512_mask_mov_epi32(at, gt, _mm512_set1_epi32(c as i32));
                }
                let out = top.as_mut_ptr().add(row0);
                let best = _mm512_castps_pd(best);
                _mm512_storeu_pd(out, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_castpd512_pd256(best))));
                _mm512_storeu_pd(out.add(8), _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(best))));
                let out = j.as_mut_ptr().add(row0).cast::<__m512i>();
                _mm512_storeu_si512(out, _mm512_cvtepu32_epi64(_mm512_castsi512_si256(at)));
                _mm512_storeu_si512(out.add(1), _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64::<1>(at)));
            }
        }
        16 * groups
    }
}

/// The class-major softmax step of `Accumulator::softmax_columns` for the
/// rows of whole groups of eight (`nb` rows, `col` holding class `i`'s
/// logits at `i · nb ..`): `e = exp(z − top)` added to lane `i mod lanes`
/// of the row's sums `s` (lane `l` at `l · nb ..`; set by the first
/// `lanes` classes, `0 + e` being `e`) where the class is not the row's
/// argmax `j`, and `zt`, `et` set to the label's `z` and `e`. The same
/// operations as the portable loop, so the same bits. Returns the rows
/// done (the rest are the caller's).
///
/// # Safety
/// The CPU must have AVX-512F.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn column_exps(
    col: &[f64],
    top: &[f64],
    j: &[usize],
    labels: &[usize],
    s: &mut [f64],
    lanes: usize,
    zt: &mut [f64],
    et: &mut [f64],
) -> usize {
    let nb = top.len();
    let k = col.len() / nb.max(1);
    assert!(lanes > 0 && j.len() >= nb && labels.len() >= nb && s.len() >= lanes * nb);
    assert!(zt.len() >= nb && et.len() >= nb);
    let done = nb / 8 * 8;
    // SAFETY: the caller's; every index below `done ≤ nb`, `k · nb` and `lanes · nb`.
    unsafe {
        for i in 0..k {
            let class = _mm512_set1_epi64(i as i64);
            let c = col.as_ptr().add(i * nb);
            for r in (0..done).step_by(8) {
                let z = _mm512_loadu_pd(c.add(r));
                let e = exp8(_mm512_sub_pd(z, _mm512_loadu_pd(top.as_ptr().add(r))));
                let not_top = _mm512_cmpneq_epi64_mask(_mm512_loadu_si512(j.as_ptr().add(r).cast()), class);
                let sp = s.as_mut_ptr().add((i % lanes) * nb + r);
                let sum = if i < lanes {
                    _mm512_maskz_mov_pd(not_top, e)
                } else {
                    _mm512_mask_add_pd(_mm512_loadu_pd(sp), not_top, _mm512_loadu_pd(sp), e)
                };
                _mm512_storeu_pd(sp, sum);
                let hit = _mm512_cmpeq_epi64_mask(_mm512_loadu_si512(labels.as_ptr().add(r).cast()), class);
                _mm512_mask_storeu_pd(zt.as_mut_ptr().add(r), hit, z);
                _mm512_mask_storeu_pd(et.as_mut_ptr().add(r), hit, e);
            }
        }
    }
    done
}

/// `local[q · k + c] += x` for each row's class `c = labels[r]` and, for
/// each of the `quantities`, its value `x = xs(q)[r]` (`k ≤ 32`): the
/// classes in the lanes of `⌈k / 8⌉` registers per quantity, so that a row
/// costs a masked add per register instead of a read-modify-write at a
/// computed address (which waits on an earlier row's store whenever a class
/// repeats). Each class's sum takes its values in row order with the same
/// additions as the plain loop: the same bits. Every label must be `< k`.
///
/// # Safety
/// The CPU must have AVX-512F.
#[inline(always)]
unsafe fn class_sums<'a>(
    local: &mut [f64],
    k: usize,
    labels: &[usize],
    quantities: usize,
    xs: impl Fn(usize) -> &'a [f64],
) {
    assert!(k <= 32 && local.len() >= k * quantities);
    let mut q = 0;
    // Six quantities at a time (the default five γs and CE): up to 24
    // registers of sums.
    while q < quantities {
        let n = (quantities - q).min(6);
        let local = &mut local[q * k..];
        let xs = |i: usize| {
            let x = xs(q + i);
            assert!(x.len() >= labels.len());
            x
        };
        macro_rules! by_n {
            ($r:literal) => {
                // SAFETY (all): the caller's; lengths checked above.
                unsafe {
                    match n {
                        6 => class_sums_n::<6, $r>(local, k, labels, std::array::from_fn(xs)),
                        5 => class_sums_n::<5, $r>(local, k, labels, std::array::from_fn(xs)),
                        4 => class_sums_n::<4, $r>(local, k, labels, std::array::from_fn(xs)),
                        3 => class_sums_n::<3, $r>(local, k, labels, std::array::from_fn(xs)),
                        2 => class_sums_n::<2, $r>(local, k, labels, std::array::from_fn(xs)),
                        _ => class_sums_n::<1, $r>(local, k, labels, std::array::from_fn(xs)),
                    }
                }
            };
        }
        match k.div_ceil(8) {
            0..=2 => by_n!(2),
            3 => by_n!(3),
            _ => by_n!(4),
        }
        q += n;
    }
}

/// [`class_sums`] for `N` quantities in `R` registers each (`k ≤ 8 · R`).
///
/// # Safety
/// The CPU must have AVX-512F; `local` must hold `k · N` sums (`k ≤ 8 · R`)
/// and every `xs[q]` at least `labels.len()` values.
#[inline(always)]
unsafe fn class_sums_n<const N: usize, const R: usize>(local: &mut [f64], k: usize, labels: &[usize], xs: [&[f64]; N]) {
    // SAFETY: the caller's (AVX-512F, `local` holding `k · N` sums and
    // every `xs[q]` at least `labels.len()` values); the masked loads and
    // stores touch the first `k` of each quantity's sums only.
    unsafe {
        // Register `i` holds lanes 8i .. 8i + 8 of a quantity's sums.
        let used = ((1u64 << k) - 1) as u32;
        let mask = |bits: u32, i: usize| (bits >> (8 * i)) as __mmask8;
        let at = |q: usize, i: usize| local.as_ptr().add(q * k + 8 * i);
        let mut sums: [[__m512d; R]; N] =
            std::array::from_fn(|q| std::array::from_fn(|i| _mm512_maskz_loadu_pd(mask(used, i), at(q, i))));
        for (r, &c) in labels.iter().enumerate() {
            let bit = 1u32 << c;
            for q in 0..N {
                let x = _mm512_set1_pd(*xs[q].get_unchecked(r));
                for (i, s) in sums[q].iter_mut().enumerate() {
                    *s = _mm512_mask_add_pd(*s, mask(bit, i), *s, x);
                }
            }
        }
        for (q, sums) in sums.iter().enumerate() {
            for (i, &s) in sums.iter().enumerate() {
                _mm512_mask_storeu_pd(local.as_mut_ptr().add(q * k + 8 * i), mask(used, i), s);
            }
        }
    }
}

mod planes;

#[cfg(test)]
mod tests;
