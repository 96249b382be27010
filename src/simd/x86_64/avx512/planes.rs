//! Float32 class planes into a class-major batch of f64, eight rows at a
//! time: the compiled loop loads, converts and stores one value at a time
//! (the positions left out of a strip make it a gather), and the argmax
//! then takes another pass over the batch.

use std::arch::x86_64::*;

/// `col[c · n + r] = ±values[c · stride + positions[r]]` for the `k`
/// classes and the rows `r` of whole groups of eight (`n` positions): per
/// group and class, one load of eight consecutive floats where the group's
/// positions are a run (most of them: a strip leaves out a few), a gather
/// where they are not, then a widening and a store. With `argmax`, also
/// each of those rows' largest value and its first index, compared in
/// class order on the converted (unnegated) values as `column_argmax`
/// compares them: the same results. Returns the rows done (the rest, fewer
/// than eight, are the caller's).
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
    // SAFETY: the caller's (AVX-512F); the loads read `values` at
    // `c · stride + p` for positions `p ≤ last` (a run of eight starting at
    // `p` ends at a position of the group, so at most `last`), the stores
    // write rows below `done ≤ n`.
    unsafe {
        let sign = _mm512_set1_epi64(if negate { i64::MIN } else { 0 });
        // `±v` (an integer xor: AVX-512F has no floating-point one).
        let signed = |v: __m512d| _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(v), sign));
        let step = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
        for r in (0..done).step_by(8) {
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
                _mm512_storeu_pd(col.as_mut_ptr().add(c * n + r), signed(v));
                if c == 0 {
                    best = v;
                } else {
                    let gt = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(v, best);
                    best = _mm512_mask_mov_pd(best, gt, v);
                    index = _mm512_mask_mov_epi64(index, gt, _mm512_set1_epi64(c as i64));
                }
            }
            if let Some((top, j)) = &mut argmax {
                _mm512_storeu_pd(top.as_mut_ptr().add(r), best);
                _mm512_storeu_si512(j.as_mut_ptr().add(r).cast(), index);
            }
        }
    }
    done
}
