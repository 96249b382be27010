//! Float32 class planes into the sweep, eight rows at a time: the compiled
//! loop loads, converts and stores one value at a time (the positions left
//! out of a strip make it a gather), and the argmax then takes another pass
//! over the batch. [`gather_planes`] fills a class-major batch;
//! [`planes_softmax`] goes on to the softmax step with the group's values
//! still in L1, so that no batch is stored and read back.

use std::arch::x86_64::*;

use super::exp8;

/// Each class's values of the eight rows `r..r + 8` (positions
/// `positions[r..r + 8]` of planes `stride` apart), converted exactly to
/// f64 and passed to `each` in class order, and the rows' largest value and
/// its first index, compared in class order as `column_argmax` compares
/// them. One load of eight consecutive floats where the group's positions
/// are a run (most of them: a strip leaves out a few), a gather where they
/// are not.
///
/// # Safety
/// The CPU must have AVX-512F; `r + 8 ≤ positions.len()` and every
/// `(k − 1) · stride + positions[r + i]` inside `values`, `k ≥ 1`.
#[inline(always)]
unsafe fn group(
    values: &[f32],
    stride: usize,
    positions: &[usize],
    r: usize,
    k: usize,
    mut each: impl FnMut(usize, __m512d),
) -> (__m512d, __m512i) {
    // SAFETY: the caller's; a run of eight starting at `positions[r]` ends
    // at a position of the group.
    unsafe {
        let step = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
        let at = _mm512_loadu_si512(positions.as_ptr().add(r).cast());
        let first = *positions.get_unchecked(r);
        let run = _mm512_cmpeq_epi64_mask(at, _mm512_add_epi64(_mm512_set1_epi64(first as i64), step)) == 0xff;
        let (mut best, mut index) = (_mm512_setzero_pd(), _mm512_setzero_si512());
        for c in 0..k {
            let plane = values.as_ptr().add(c * stride);
            let v = _mm512_cvtps_pd(if run {
                _mm256_loadu_ps(plane.add(first))
            } else {
                _mm512_i64gather_ps::<4>(at, plane)
            });
            each(c, v);
            if c == 0 {
                best = v;
            } else {
                let gt = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(v, best);
                best = _mm512_mask_mov_pd(best, gt, v);
                index = _mm512_mask_mov_epi64(index, gt, _mm512_set1_epi64(c as i64));
            }
        }
        (best, index)
    }
}

/// `col[c · n + r] = ±values[c · stride + positions[r]]` for the `k`
/// classes and the rows `r` of whole groups of eight (`n` positions; see
/// [`group`]). With `argmax`, also each of those rows' largest value and
/// its first index (of the unnegated values). Returns the rows done (the
/// rest, fewer than eight, are the caller's).
///
/// # Safety
/// The CPU must have AVX-512F.
#[inline(always)]
pub(super) unsafe fn gather_planes(
    col: &mut [f64],
    values: &[f32],
    stride: usize,
    positions: &[usize],
    k: usize,
    negate: bool,
    mut argmax: Option<(&mut [f64], &mut [usize])>,
) -> usize {
    let n = positions.len();
    let Some(&last) = positions.iter().max() else { return 0 };
    if k == 0 {
        return 0;
    }
    // Every value read is inside `values`, every value written inside
    // `col`, `top` and `j`.
    assert!((k - 1) * stride + last < values.len() && col.len() >= k * n);
    assert!(argmax.as_ref().is_none_or(|(top, j)| top.len() >= n && j.len() >= n));
    let done = n / 8 * 8;
    // SAFETY: the caller's (AVX-512F); `group` reads inside `values`
    // (asserted), the stores write rows below `done ≤ n`.
    unsafe {
        let sign = _mm512_set1_epi64(if negate { i64::MIN } else { 0 });
        // `±v` (an integer xor: AVX-512F has no floating-point one).
        let signed = |v: __m512d| _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(v), sign));
        let out = col.as_mut_ptr();
        for r in (0..done).step_by(8) {
            let (best, index) =
                group(values, stride, positions, r, k, |c, v| _mm512_storeu_pd(out.add(c * n + r), signed(v)));
            if let Some((top, j)) = &mut argmax {
                _mm512_storeu_pd(top.as_mut_ptr().add(r), best);
                _mm512_storeu_si512(j.as_mut_ptr().add(r).cast(), index);
            }
        }
    }
    done
}

/// [`gather_planes`] (with the argmax) and `column_exps` in one pass, for
/// `k ≤ 64` classes: per group of eight rows, the classes' values are
/// kept in L1 (an array of registers' worth) rather than in a class-major
/// batch, then `e = exp(z − top)` is added off the argmax to lane
/// `i mod L` of the rows' sums, kept in registers (set by the first `L`
/// classes), and the label's `z` and `e` are picked by masked moves. The
/// same operations in the same order as the two kernels, so the same bits.
/// Writes each row's largest value and first index (`top`, `j`), lane `l`
/// of its sums at `s[l · done + r]`, and `zt`, `et`; returns the rows done
/// (`done`: whole groups of eight; the rest are the caller's).
///
/// # Safety
/// The CPU must have AVX-512F.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) unsafe fn planes_softmax<const L: usize>(
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
    let done = positions.len() / 8 * 8;
    let Some(&last) = positions[..done].iter().max() else { return 0 };
    if k == 0 {
        return 0;
    }
    // Every value read is inside `values`, `positions` and `labels`, every
    // value written inside the outputs, every class inside the array `z`.
    assert!(k <= 64 && (k - 1) * stride + last < values.len());
    assert!(labels.len() >= done && top.len() >= done && j.len() >= done);
    assert!(s.len() >= L * done && zt.len() >= done && et.len() >= done);
    // SAFETY: the caller's (AVX-512F); `group` reads inside `values`
    // (asserted), `z` is written and read at classes below `k ≤ 64`, the
    // stores write rows below `done`.
    unsafe {
        let mut z = [_mm512_setzero_pd(); 64];
        for r in (0..done).step_by(8) {
            let (best, index) = group(values, stride, positions, r, k, |c, v| *z.get_unchecked_mut(c) = v);
            let label = _mm512_loadu_si512(labels.as_ptr().add(r).cast());
            let mut lanes = [_mm512_setzero_pd(); L];
            let (mut z_t, mut e_t) = (_mm512_setzero_pd(), _mm512_setzero_pd());
            for first in (0..k).step_by(L) {
                for (l, lane) in lanes.iter_mut().enumerate() {
                    let c = first + l;
                    if c >= k {
                        break;
                    }
                    let class = _mm512_set1_epi64(c as i64);
                    let v = *z.get_unchecked(c);
                    let e = exp8(_mm512_sub_pd(v, best));
                    let not_top = _mm512_cmpneq_epi64_mask(index, class);
                    *lane = if first == 0 {
                        _mm512_maskz_mov_pd(not_top, e)
                    } else {
                        _mm512_mask_add_pd(*lane, not_top, *lane, e)
                    };
                    let hit = _mm512_cmpeq_epi64_mask(label, class);
                    z_t = _mm512_mask_mov_pd(z_t, hit, v);
                    e_t = _mm512_mask_mov_pd(e_t, hit, e);
                }
            }
            _mm512_storeu_pd(top.as_mut_ptr().add(r), best);
            _mm512_storeu_si512(j.as_mut_ptr().add(r).cast(), index);
            _mm512_storeu_pd(zt.as_mut_ptr().add(r), z_t);
            _mm512_storeu_pd(et.as_mut_ptr().add(r), e_t);
            for (l, &lane) in lanes.iter().enumerate() {
                _mm512_storeu_pd(s.as_mut_ptr().add(l * done + r), lane);
            }
        }
    }
    done
}
