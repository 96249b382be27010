//! Three loops of the dataset sweep written with AVX2 intrinsics, where the
//! compiled portable loops keep each row's running values in memory: LLVM
//! turns their in-place selections (`top`, the label's `z` and `e`) into
//! masked stores, which AMD cores execute many times slower than a store.
//! Here a group of rows keeps them in registers through the classes:
//!
//! - [`transpose`] (float32 rows to class-major, K ≤ 16): one gather per
//!   class of eight rows, and the rows' argmax from the registers.
//! - [`column_exps`] (the class-major softmax step): per group of four
//!   rows, `e = exp(z − top)` added off the argmax to the rows' lane sums
//!   and the label's `z` and `e` picked, all in registers until the group's
//!   classes are done.
//! - [`planes_softmax`] (float32 class planes to the same step, K ≤ 64):
//!   the group's values loaded (a gather where a strip left positions out),
//!   its argmax, then the step, with nothing stored in between.
//!
//! [`exp4`] is [`exp_fast`](crate::simd::math::exp_fast) with FMA, the same
//! operations in the same order, so every kernel gives the portable loop's
//! bits (the unit tests compare them). Every function here is `unsafe` and
//! `#[inline(always)]`: call it only where the CPU has AVX2 and FMA (an
//! [`Avx2`] value is the proof), from code compiled with them
//! (`run_avx2`), or the intrinsics are not inlined.

use std::arch::x86_64::*;

use super::{Avx2, same_type};
use crate::simd::Isa;
use crate::simd::math::{EXP_Q, LN2_HI, LN2_LO, SHIFT, TWO_M54};

impl Isa for Avx2 {
    const FMA: bool = true;

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
            // SAFETY: `self` exists only where the CPU has AVX2 and FMA.
            Some(z) => unsafe { transpose(col, z, k, negate, argmax) },
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
        // SAFETY (both): `self` exists only where the CPU has AVX2 and FMA.
        match lanes {
            1 => unsafe { planes_softmax::<1>(values, stride, positions, labels, k, top, j, s, zt, et) },
            8 => unsafe { planes_softmax::<8>(values, stride, positions, labels, k, top, j, s, zt, et) },
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
        // SAFETY (both): `self` exists only where the CPU has AVX2 and FMA.
        match lanes {
            1 => unsafe { column_exps::<1>(col, top, j, labels, s, zt, et) },
            8 => unsafe { column_exps::<8>(col, top, j, labels, s, zt, et) },
            _ => 0,
        }
    }
}

/// `exp_fast` with FMA in four lanes (`x ≤ 0`; 0 below −745.2): the same
/// operations in the same order, `2^k` applied as `(p · 2^(k+54)) · 2^-54`.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[inline(always)]
unsafe fn exp4(x: __m256d) -> __m256d {
    // SAFETY: the caller's (AVX2, FMA); no memory is touched.
    unsafe {
        let c = |i: usize| _mm256_set1_pd(EXP_Q[i]);
        // `x < −746 ? −746 : x`, as `exp_fast` clamps (NaN kept).
        let x = _mm256_max_pd(_mm256_set1_pd(-746.0), x);
        let y = _mm256_fmadd_pd(x, _mm256_set1_pd(std::f64::consts::LOG2_E), _mm256_set1_pd(SHIFT));
        let k = _mm256_sub_pd(y, _mm256_set1_pd(SHIFT));
        let r = _mm256_fnmadd_pd(k, _mm256_set1_pd(LN2_LO), _mm256_fnmadd_pd(k, _mm256_set1_pd(LN2_HI), x));
        let r2 = _mm256_mul_pd(r, r);
        let r4 = _mm256_mul_pd(r2, r2);
        let a0 = _mm256_fmadd_pd(c(1), r, c(0));
        let a1 = _mm256_fmadd_pd(c(3), r, c(2));
        let a2 = _mm256_fmadd_pd(c(5), r, c(4));
        let a3 = _mm256_fmadd_pd(c(7), r, c(6));
        let a4 = _mm256_fmadd_pd(c(9), r, c(8));
        let b0 = _mm256_fmadd_pd(a1, r2, a0);
        let b1 = _mm256_fmadd_pd(a3, r2, a2);
        let q = _mm256_fmadd_pd(_mm256_fmadd_pd(a4, r4, b1), r4, b0);
        let p = _mm256_add_pd(_mm256_set1_pd(1.0), _mm256_fmadd_pd(q, r2, r));
        let biased = _mm256_add_epi64(_mm256_castpd_si256(y), _mm256_set1_epi64x(1023 + 54));
        let scale = _mm256_castsi256_pd(_mm256_slli_epi64::<52>(biased));
        _mm256_mul_pd(_mm256_mul_pd(p, scale), _mm256_set1_pd(TWO_M54))
    }
}

/// `a` where `mask` (all ones or all zeros per lane), else `b`.
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
unsafe fn pick(mask: __m256d, a: __m256d, b: __m256d) -> __m256d {
    // SAFETY: the caller's; no memory is touched.
    unsafe { _mm256_blendv_pd(b, a, mask) }
}

/// The softmax step of four rows whose largest values and first argmax are
/// `best` and `index`, their classes' values `z(c)` for `c < k`: `e =
/// exp(z − best)` added off the argmax to lane `c mod L` (set by the first
/// `L` classes, `0 + e` being `e`), and the label's `z` and `e` — the
/// portable loop's operations in its order. Returns the lanes, `z_t` and
/// `e_t`.
///
/// # Safety
/// The CPU must have AVX2 and FMA; `z` must be safe to call for `c < k`.
#[inline(always)]
unsafe fn step<const L: usize>(
    k: usize,
    z: impl Fn(usize) -> __m256d,
    best: __m256d,
    index: __m256i,
    label: __m256i,
) -> ([__m256d; L], __m256d, __m256d) {
    // SAFETY: the caller's; no memory is touched but `z`'s.
    unsafe {
        let mut lanes = [_mm256_setzero_pd(); L];
        let (mut z_t, mut e_t) = (_mm256_setzero_pd(), _mm256_setzero_pd());
        for first in (0..k).step_by(L) {
            for (l, lane) in lanes.iter_mut().enumerate() {
                let c = first + l;
                if c >= k {
                    break;
                }
                let class = _mm256_set1_epi64x(c as i64);
                let v = z(c);
                let e = exp4(_mm256_sub_pd(v, best));
                let is_top = _mm256_castsi256_pd(_mm256_cmpeq_epi64(index, class));
                let add = _mm256_andnot_pd(is_top, e);
                *lane = if first == 0 { add } else { _mm256_add_pd(*lane, add) };
                let hit = _mm256_castsi256_pd(_mm256_cmpeq_epi64(label, class));
                z_t = pick(hit, v, z_t);
                e_t = pick(hit, e, e_t);
            }
        }
        (lanes, z_t, e_t)
    }
}

/// The class-major softmax step of `Accumulator::softmax_columns` for the
/// rows of whole groups of four (`nb` rows, `col` holding class `i`'s
/// logits at `i · nb ..`), [`step`] per group: lane `l` of row `r`'s sums
/// at `s[l · nb + r]`, the label's `z` and `e` in `zt`, `et`. Returns the
/// rows done (the rest are the caller's).
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[inline(always)]
unsafe fn column_exps<const L: usize>(
    col: &[f64],
    top: &[f64],
    j: &[usize],
    labels: &[usize],
    s: &mut [f64],
    zt: &mut [f64],
    et: &mut [f64],
) -> usize {
    let nb = top.len();
    let k = col.len() / nb.max(1);
    assert!(j.len() >= nb && labels.len() >= nb && s.len() >= L * nb && zt.len() >= nb && et.len() >= nb);
    let done = nb / 4 * 4;
    // SAFETY: the caller's; every index below `done ≤ nb`, `k · nb` and `L · nb`.
    unsafe {
        let c = col.as_ptr();
        for r in (0..done).step_by(4) {
            let best = _mm256_loadu_pd(top.as_ptr().add(r));
            let index = _mm256_loadu_si256(j.as_ptr().add(r).cast());
            let label = _mm256_loadu_si256(labels.as_ptr().add(r).cast());
            let (lanes, z_t, e_t) = step::<L>(k, |i| _mm256_loadu_pd(c.add(i * nb + r)), best, index, label);
            for (l, &lane) in lanes.iter().enumerate() {
                _mm256_storeu_pd(s.as_mut_ptr().add(l * nb + r), lane);
            }
            _mm256_storeu_pd(zt.as_mut_ptr().add(r), z_t);
            _mm256_storeu_pd(et.as_mut_ptr().add(r), e_t);
        }
    }
    done
}

/// Each class's values of the four rows `r..r + 4` (positions
/// `positions[r..r + 4]`, increasing, of planes `stride` apart), converted
/// exactly to f64 and passed to `each` in class order, and the rows'
/// largest value and its first index, compared in class order as
/// `column_argmax` compares them. One load of four consecutive floats
/// where the positions are a run, a gather where they are not.
///
/// # Safety
/// The CPU must have AVX2; `r + 4 ≤ positions.len()` and every
/// `(k − 1) · stride + positions[r + i]` inside `values`, `k ≥ 1`.
#[inline(always)]
unsafe fn group(
    values: &[f32],
    stride: usize,
    positions: &[usize],
    r: usize,
    k: usize,
    mut each: impl FnMut(usize, __m256d),
) -> (__m256d, __m256i) {
    // SAFETY: the caller's; a run of four starting at `positions[r]` ends
    // at a position of the group.
    unsafe {
        let at = _mm256_loadu_si256(positions.as_ptr().add(r).cast());
        let first = *positions.get_unchecked(r);
        let run = *positions.get_unchecked(r + 3) == first + 3;
        let (mut best, mut index) = (_mm256_setzero_pd(), _mm256_setzero_si256());
        for c in 0..k {
            let plane = values.as_ptr().add(c * stride);
            let v =
                _mm256_cvtps_pd(if run { _mm_loadu_ps(plane.add(first)) } else { _mm256_i64gather_ps::<4>(plane, at) });
            each(c, v);
            if c == 0 {
                best = v;
            } else {
                let gt = _mm256_cmp_pd::<_CMP_GT_OQ>(v, best);
                best = pick(gt, v, best);
                let class = _mm256_castsi256_pd(_mm256_set1_epi64x(c as i64));
                index = _mm256_castpd_si256(pick(gt, class, _mm256_castsi256_pd(index)));
            }
        }
        (best, index)
    }
}

/// `gather_planes` (with the argmax) and [`column_exps`] in one pass, for
/// `k ≤ 64` float32 class planes: per group of four rows, the classes'
/// values wait in L1 (an array of registers' worth) rather than in a
/// class-major batch, then [`step`]. Writes each row's largest value and
/// first index (`top`, `j`), lane `l` of its sums at `s[l · done + r]`, and
/// `zt`, `et`; returns the rows done (`done`: whole groups of four; the
/// rest are the caller's).
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn planes_softmax<const L: usize>(
    values: &[f32],
    stride: usize,
    positions: &[usize],
    labels: &[usize],
    k: usize,
    top: &mut [f64],
    j: &mut [usize],
    s: &mut [f64],
    zt: &mut [f64],
    et: &mut [f64],
) -> usize {
    let done = positions.len() / 4 * 4;
    let Some(&last) = positions[..done].iter().max() else { return 0 };
    if k == 0 {
        return 0;
    }
    // Every value read is inside `values`, `positions` and `labels`, every
    // value written inside the outputs, every class inside the array `z`.
    assert!(k <= 64 && (k - 1) * stride + last < values.len());
    assert!(labels.len() >= done && top.len() >= done && j.len() >= done);
    assert!(s.len() >= L * done && zt.len() >= done && et.len() >= done);
    // SAFETY: the caller's (AVX2, FMA); `group` reads inside `values`
    // (asserted), `z` is written and read at classes below `k ≤ 64`, the
    // stores write rows below `done`.
    unsafe {
        let mut z = [_mm256_setzero_pd(); 64];
        for r in (0..done).step_by(4) {
            let (best, index) = group(values, stride, positions, r, k, |c, v| *z.get_unchecked_mut(c) = v);
            let label = _mm256_loadu_si256(labels.as_ptr().add(r).cast());
            let (lanes, z_t, e_t) = step::<L>(k, |c| *z.get_unchecked(c), best, index, label);
            _mm256_storeu_pd(top.as_mut_ptr().add(r), best);
            _mm256_storeu_si256(j.as_mut_ptr().add(r).cast(), index);
            _mm256_storeu_pd(zt.as_mut_ptr().add(r), z_t);
            _mm256_storeu_pd(et.as_mut_ptr().add(r), e_t);
            for (l, &lane) in lanes.iter().enumerate() {
                _mm256_storeu_pd(s.as_mut_ptr().add(l * done + r), lane);
            }
        }
    }
    done
}

/// `col[c · n + r] = ±z[r · k + c]` for the rows `r` of whole groups of
/// eight (`k ≤ 16`, `n` rows in `z`): per class one gather of the group's
/// eight values and two widened stores, in place of eight scalar loads and
/// stores. With `argmax`, also each of those rows' largest logit and its
/// first index (`column_argmax`'s comparisons, on the float32 values: the
/// same order), kept in registers through the classes. Returns the rows
/// done (the rest, fewer than eight, are the caller's).
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
unsafe fn transpose(
    col: &mut [f64],
    z: &[f32],
    k: usize,
    negate: bool,
    mut argmax: Option<(&mut [f64], &mut [usize])>,
) -> usize {
    if k == 0 {
        return 0;
    }
    let n = z.len() / k;
    assert!(k <= 16 && col.len() >= k * n);
    assert!(argmax.as_ref().is_none_or(|(top, j)| top.len() >= n && j.len() >= n));
    let done = n / 8 * 8;
    // SAFETY: the caller's (AVX2); the gathers read class `c < k` of rows
    // below `done ≤ n` (inside `z`), the stores write rows below `done` of
    // `col` (at least `k · n` long, asserted) and of `top` and `j`.
    unsafe {
        let sign = _mm256_set1_pd(if negate { -0.0 } else { 0.0 });
        let step = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(k as i32));
        for row0 in (0..done).step_by(8) {
            let (mut best, mut at) = (_mm256_setzero_ps(), _mm256_setzero_si256());
            for c in 0..k {
                let v = _mm256_i32gather_ps::<4>(z.as_ptr().add(row0 * k + c), step);
                let out = col.as_mut_ptr().add(c * n + row0);
                _mm256_storeu_pd(out, _mm256_xor_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), sign));
                _mm256_storeu_pd(out.add(4), _mm256_xor_pd(_mm256_cvtps_pd(_mm256_extractf128_ps::<1>(v)), sign));
                if c == 0 {
                    best = v;
                } else {
                    let gt = _mm256_cmp_ps::<_CMP_GT_OQ>(v, best);
                    best = _mm256_blendv_ps(best, v, gt);
                    let class = _mm256_castsi256_ps(_mm256_set1_epi32(c as i32));
                    at = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(at), class, gt));
                }
            }
            if let Some((top, j)) = &mut argmax {
                let out = top.as_mut_ptr().add(row0);
                _mm256_storeu_pd(out, _mm256_cvtps_pd(_mm256_castps256_ps128(best)));
                _mm256_storeu_pd(out.add(4), _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(best)));
                let out = j.as_mut_ptr().add(row0).cast::<__m256i>();
                _mm256_storeu_si256(out, _mm256_cvtepu32_epi64(_mm256_castsi256_si128(at)));
                _mm256_storeu_si256(out.add(1), _mm256_cvtepu32_epi64(_mm256_extracti128_si256::<1>(at)));
            }
        }
    }
    done
}

#[cfg(test)]
mod tests;
