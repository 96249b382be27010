//! Class-major batches: the transposition, the argmax across rows, and
//! the sums over each row's classes.

use super::sigmoid_gamma::class_order;
use super::sums::{lane_totals, sum_row};
use super::{COLUMNS_UP_TO, Logit};
use crate::loss::sum::two_sum;
use crate::simd::Isa;

/// `col[c · n + r] = ±logits[r · k + c]`: rows of `k` ≤ 16 logits to
/// class-major (`n` rows). Where it can, also fills `argmax` for the first
/// rows; returns how many (the rest are [`column_argmax`]'s).
#[inline(always)]
pub(super) fn transpose<I: Isa, T: Logit>(
    isa: I,
    col: &mut [f64],
    logits: &[T],
    k: usize,
    negate: bool,
    argmax: Option<(&mut [f64], &mut [usize])>,
) -> usize {
    let done = isa.transpose(col, logits, k, negate, argmax);
    macro_rules! by_k {
        ($($k:literal)*) => {
            match k {
                $($k => transpose_k::<$k, T>(col, logits, negate, done),)*
                _ => unreachable!("transpose is for K ≤ {COLUMNS_UP_TO}"),
            }
        };
    }
    by_k!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
    done
}

/// [`transpose`] for a constant K of the rows from `from` on, a column at a
/// time: strided loads (the batch is in L1), sequential stores. Not inlined
/// into the AVX callers, whose gathers are several times slower here than
/// scalar loads.
#[inline(never)]
fn transpose_k<const K: usize, T: Logit>(col: &mut [f64], logits: &[T], negate: bool, from: usize) {
    let n = logits.len() / K;
    for (c, col) in col.chunks_exact_mut(n).take(K).enumerate() {
        for (x, row) in col[from..].iter_mut().zip(logits[from * K..].chunks_exact(K)) {
            let z: f64 = row[c].into();
            *x = if negate { -z } else { z };
        }
    }
}

/// `col[c · n + r] = −logits[r · k + c]` for rows of any K, a class at a
/// time (strided loads, sequential stores), and each row's first argmax
/// as the row-major path takes it.
pub(super) fn transpose_wide<T: Logit>(col: &mut [f64], logits: &[T], k: usize, argmax: &mut [usize]) {
    let n = logits.len() / k;
    for (j, row) in argmax.iter_mut().zip(logits.chunks_exact(k)) {
        *j = crate::loss::argmax(row);
    }
    for (c, col) in col.chunks_exact_mut(n).take(k).enumerate() {
        for (x, row) in col.iter_mut().zip(logits.chunks_exact(k)) {
            let z: f64 = row[c].into();
            *x = -z;
        }
    }
}

/// Per row of a class-major batch from row `from` on, the largest value
/// and its first index (of the values negated back when `negate`: the
/// largest logit of a sigmoid batch of `−z`).
#[inline(always)]
pub(super) fn column_argmax(top: &mut [f64], j: &mut [usize], col: &[f64], from: usize, negate: bool) {
    let n = top.len();
    let sign = |v: f64| if negate { -v } else { v };
    for (t, &v) in top[from..].iter_mut().zip(&col[from..n]) {
        *t = sign(v);
    }
    j[from..].fill(0);
    for (i, c) in col.chunks_exact(n).enumerate().skip(1) {
        for ((t, j), &v) in top[from..].iter_mut().zip(&mut j[from..]).zip(&c[from..]) {
            let v = sign(v);
            let gt = v > *t;
            *t = if gt { v } else { *t };
            *j = if gt { i } else { *j };
        }
    }
}

/// The class-major softmax step: `e = exp(z − z_j)`, added off the argmax
/// `j` to lane `i mod lanes` of each row's sums `sums` (lane `l` at
/// `l · n ..`), and the label's `z_t` and `e_t` picked in the same pass
/// (selects in vector lanes rather than gathers, which are slow on many
/// CPUs). The first `lanes` classes set their lane (`0 + e` is `e`: e ≥ 0),
/// so that the lanes need no zeroing pass; `e` itself is not kept. The
/// instruction set's kernel takes the rows it can, this loop the rest: the
/// same bits.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn column_exps<I: Isa>(
    isa: I,
    col: &[f64],
    top: &[f64],
    j: &[usize],
    labels: &[usize],
    sums: &mut [f64],
    lanes: usize,
    zt: &mut [f64],
    et: &mut [f64],
) {
    let n = top.len();
    let done = isa.column_exps(col, top, j, labels, sums, lanes, zt, et);
    for (i, c) in col.chunks_exact(n).enumerate() {
        let lane = &mut sums[(i % lanes) * n..(i % lanes + 1) * n];
        for r in done..n {
            let z = c[r];
            let e = I::exp(z - top[r]);
            let add = if j[r] == i { 0.0 } else { e };
            lane[r] = if i < lanes { add } else { lane[r] + add };
            let hit = labels[r] == i;
            zt[r] = if hit { z } else { zt[r] };
            et[r] = if hit { e } else { et[r] };
        }
    }
}

/// `out[r] = Σ_c x(r, c)` over each row's `k` classes: in class order across
/// rows for a class-major batch of K ≤ 16 (`columns`: ≤ 15 ε), compensated
/// ([`sum_row`]) for a row-major one, and for a class-major one of more
/// classes with the same bits, in `lanes` (8 · n; 24 · n above 64 classes)
/// and `carry` ([`lane_totals`]). +∞ when a sum overflows.
#[inline(always)]
pub(super) fn row_sums(out: &mut [f64], x: &[f64], k: usize, columns: bool, lanes: &mut [f64], carry: &mut [f64]) {
    let n = out.len();
    if columns && k > COLUMNS_UP_TO {
        // Per 64-class chunk, class c into lane c mod 8, as `sum_row` adds a
        // row's classes; the chunks' lanes then as its `LaneSum` adds them.
        let (part, rest) = lanes.split_at_mut(8 * n);
        let (sum, err) = rest.split_at_mut((8 * n).min(rest.len()));
        for (i, chunk) in x.chunks(64 * n).enumerate() {
            chunk_lanes(part, chunk, n);
            if k <= 64 {
                break;
            }
            if i == 0 {
                // TwoSum into zero: the lane itself, no error.
                sum.copy_from_slice(part);
                err.fill(0.0);
            } else {
                for ((s, e), &x) in sum.iter_mut().zip(err.iter_mut()).zip(&*part) {
                    let (t, d) = two_sum(*s, x);
                    *s = t;
                    *e += d;
                }
            }
        }
        match k <= 64 {
            true => lane_totals(out, part, &mut carry[..n], None),
            false => lane_totals(out, sum, &mut carry[..n], Some(&err[..8 * n])),
        }
    } else if columns {
        class_order(out, x, k, true);
    } else {
        for (o, row) in out.iter_mut().zip(x.chunks_exact(k)) {
            *o = sum_row(row);
        }
    }
}

/// A chunk of ≤ 64 classes of `n` rows (class-major) into eight lanes,
/// class c into lane c mod 8 (lane `l` at `l · n`): the first eight set
/// their lanes (`0 + v` is `v`, up to the sign of a zero, which the totals
/// add to +0 either way), lanes without a class are zero.
#[inline(always)]
fn chunk_lanes(part: &mut [f64], chunk: &[f64], n: usize) {
    let classes = chunk.len() / n;
    for (c, x) in chunk.chunks_exact(n).enumerate() {
        let lane = &mut part[(c % 8) * n..(c % 8 + 1) * n];
        if c < 8 {
            lane.copy_from_slice(x);
        } else {
            for (l, &v) in lane.iter_mut().zip(x) {
                *l += v;
            }
        }
    }
    part[classes.min(8) * n..].fill(0.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::uniform;

    /// A class-major batch's row sums are `sum_row`'s of each row, bit for
    /// bit, for every K above 16 (one chunk, exactly 64, several and a
    /// short last one).
    #[test]
    fn class_major_row_sums_are_the_row_paths_bits() {
        for (k, n) in [(17, 256), (40, 13), (64, 8), (65, 8), (71, 5), (128, 8), (130, 3), (1000, 8)] {
            let rows = uniform(k * n, 0.0, 1.0, k as u64);
            let mut col = vec![0.0; k * n];
            for (r, row) in rows.chunks_exact(k).enumerate() {
                for (c, &v) in row.iter().enumerate() {
                    col[c * n + r] = v * v * v;
                }
            }
            let want: Vec<u64> =
                (0..n).map(|r| sum_row(&(0..k).map(|c| col[c * n + r]).collect::<Vec<_>>()).to_bits()).collect();
            let (mut out, mut lanes, mut carry) = (vec![0.0; n], vec![0.0; 24 * n], vec![0.0; n]);
            row_sums(&mut out, &col, k, true, &mut lanes, &mut carry);
            assert_eq!(out.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), want, "K = {k}");
        }
    }
}
