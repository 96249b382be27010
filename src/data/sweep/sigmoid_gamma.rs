//! One γ of a sigmoid batch: each logit's focal term, and each row's sums
//! of it and of the gradient's magnitude ([`super::gradient`]), shared by
//! the sweep of the logits and the re-sweep of kept rows (the same bits).
//!
//! # One pass where it can
//! Class-major batches with every input normal take the factor, the term
//! and the magnitude of a logit in one loop and add them to the row's sums
//! as they are made: a register block of [`LANES`] rows walks the classes
//! in order, so the sums stay in registers. Only for K > 16 is each term
//! written out, for the loss's eight-lane sum. Each row's positive is
//! recomputed from its inputs, gathered once per batch (the same
//! operations: the same bits). Where a factor leaves the normal range the
//! batch is redone the other way.
//!
//! The other batches (row-major, or a term in log space: [`focal_terms`])
//! write the terms and the masked magnitudes out and sum them by rows.
//! Either way a row's loss is summed as [`row_sums`] sums it (in class
//! order for K ≤ 16, ≤ K ε; in eight lanes above, about 8 ε,
//! [`sum_row`](super::sums::sum_row)), and its other sums in class order
//! from 0 (≤ K ε): the bits of the sweep before this pass, whatever the
//! layout, so the kept rows' re-sweep (row-major above K = 16) agrees.
//!
//! # What a row gets
//! Its loss (the terms summed), its negatives' terms summed and those of its
//! easy negatives (`1 − p ≤ ½`), its positive's term, and the gradient's
//! four sums, the negatives told apart by exact 0/1 factors (no difference
//! of sums is formed). Row sums are at most `f64::MAX` but for the loss,
//! which the caller saturates (and flags).

use super::COLUMNS_UP_TO;
use super::columns::row_sums;
use super::factor::{Power, with_factor};
use super::gradient::magnitude;
use super::limits::at_most_max_all;
use super::sigmoid::{focal_terms, unweighted};
use crate::simd::Isa;

/// Rows summed in registers at once by the one pass.
pub(super) const LANES: usize = 8;

/// A sigmoid batch's per-logit inputs (class-major when `columns`, else
/// row-major): `1 − p`, `−ln(1 − p)`, the weight, BCE, `p`, and 1 for a
/// negative, 0 for the positive.
#[derive(Clone, Copy)]
pub(super) struct Logits<'a> {
    pub(super) om: &'a [f64],
    pub(super) l: &'a [f64],
    pub(super) w: &'a [f64],
    pub(super) b: &'a [f64],
    pub(super) p: &'a [f64],
    pub(super) neg: &'a [f64],
}

/// A batch's shape: K, its rows (real and filler), and its layout.
#[derive(Clone, Copy)]
pub(super) struct Layout {
    pub(super) k: usize,
    pub(super) nb: usize,
    pub(super) columns: bool,
}

/// The per-row outputs of one γ: `nb` rows of the loss, the negatives' and
/// the easy negatives' terms summed (none when `fl_neg_easy` is empty),
/// and the negatives' gradient sums
/// `[neg, neg_easy]`; one per label of the positive's term, its gradient
/// `[pos, pos_easy]`, and its term with α = 1 ([`unweighted`], the
/// balancing α's).
pub(super) struct RowSums<'a> {
    pub(super) fl: &'a mut [f64],
    pub(super) fl_neg: &'a mut [f64],
    pub(super) fl_neg_easy: &'a mut [f64],
    pub(super) grad_neg: [&'a mut [f64]; 2],
    pub(super) fl_pos: &'a mut [f64],
    pub(super) grad_pos: [&'a mut [f64]; 2],
    pub(super) unit: &'a mut [f64],
}

/// The per-logit buffers of one γ: the terms, the factors, the factors'
/// squares, and (four batches long) the masked values summed by rows
/// where one pass does not serve; the lanes of [`row_sums`].
pub(super) struct Buffers<'a> {
    pub(super) x: &'a mut [f64],
    pub(super) m: &'a mut [f64],
    pub(super) sq: &'a mut [f64],
    pub(super) masked: &'a mut [f64],
    pub(super) lanes: &'a mut [f64],
    pub(super) carry: &'a mut [f64],
}

/// A batch for its γs: its logits' inputs, its real rows' labels, and each
/// positive's inputs gathered once.
pub(super) struct Batch<'a> {
    v: Logits<'a>,
    labels: &'a [usize],
    shape: Layout,
    /// Some BCE or `1 − p` is outside the normal range (see [`focal_terms`]).
    inputs_bad: bool,
    /// Per label: where its positive is, and its `[w, om, l, b, p]`.
    at: &'a [usize],
    pos: [&'a [f64]; 5],
    /// Per label, scratch: the positives' factors and squares.
    pos_m: &'a mut [f64],
    pos_sq: &'a mut [f64],
}

impl<'a> Batch<'a> {
    /// Gathers the positives' inputs into `at` and `scratch` (7 × the labels).
    #[inline(always)]
    pub(super) fn new(
        v: Logits<'a>,
        labels: &'a [usize],
        shape: Layout,
        inputs_bad: bool,
        at: &'a mut [usize],
        scratch: &'a mut [f64],
    ) -> Self {
        let n = labels.len();
        let (k, nb, columns) = (shape.k, shape.nb, shape.columns);
        let at = &mut at[..n];
        for (j, (i, &t)) in at.iter_mut().zip(labels.iter().enumerate()) {
            *j = if columns { t * nb + i } else { i * k + t };
        }
        let (inputs, rest) = scratch[..7 * n].split_at_mut(5 * n);
        for (q, values) in inputs.chunks_exact_mut(n).zip([v.w, v.om, v.l, v.b, v.p]) {
            for (o, &j) in q.iter_mut().zip(at.iter()) {
                *o = values[j];
            }
        }
        let (pos_m, pos_sq) = rest.split_at_mut(n);
        let inputs = &*inputs;
        let pos = [0, 1, 2, 3, 4].map(|q| &inputs[q * n..(q + 1) * n]);
        Batch { v, labels, shape, inputs_bad, at, pos, pos_m, pos_sq }
    }

    /// The focal terms of every logit at γ (`power`) and the rows' sums of
    /// them and of their gradients (module docs).
    #[inline(always)]
    pub(super) fn gamma_terms<I: Isa>(&mut self, power: Power, gamma: f64, buf: Buffers<'_>, out: RowSums<'_>) {
        let Buffers { x, m, sq, masked, lanes, carry } = buf;
        let RowSums { fl, fl_neg, fl_neg_easy, grad_neg: [neg, neg_easy], fl_pos, grad_pos: [pos, pos_easy], unit } =
            out;
        let n = self.labels.len();
        let (fl_pos, pos, pos_easy, unit) = (&mut fl_pos[..n], &mut pos[..n], &mut pos_easy[..n], &mut unit[..n]);
        let mut put = |i: usize, [x, g, e, u]: [f64; 4]| {
            (fl_pos[i], pos[i], pos_easy[i], unit[i]) = (x, g, e, u);
        };
        let (v, Layout { k, columns, .. }) = (self.v, self.shape);
        let one_pass = columns && !self.inputs_bad;
        let split = !fl_neg_easy.is_empty();
        let sums = [&mut *fl, &mut *fl_neg, &mut *fl_neg_easy, &mut *neg, &mut *neg_easy];
        let scratch = (&mut *x, &mut *m, &mut *sq);
        // (No closure here: all of it must inline into the instruction set's function.)
        let done = one_pass
            && !match (split, k <= COLUMNS_UP_TO) {
                (true, true) => class_by_class::<I, true, false>(power, gamma, v, scratch, sums),
                (false, true) => class_by_class::<I, false, false>(power, gamma, v, scratch, sums),
                (true, false) => class_by_class::<I, true, true>(power, gamma, v, scratch, sums),
                (false, false) => class_by_class::<I, false, true>(power, gamma, v, scratch, sums),
            };
        if done {
            if k > COLUMNS_UP_TO {
                row_sums(fl, x, k, columns, lanes, carry);
            }
            let [w, om, l, b, p] = self.pos;
            let (pm, psq) = (&mut *self.pos_m, &mut *self.pos_sq);
            with_factor!(power, (pm, om, l, psq, -1.0, I), |factor, _check| {
                let (w, om, b, p, pm) = (&w[..n], &om[..n], &b[..n], &p[..n], &pm[..n]);
                for i in 0..n {
                    let f = factor(om[i], pm[i]);
                    put(i, positive([w[i], f, om[i], p[i], w[i] * f * b[i], b[i]], gamma));
                }
            });
        } else {
            focal_terms::<I>([&mut *x, &mut *m, &mut *sq], [v.om, v.l, v.w, v.b], power, gamma, self.inputs_bad);
            let len = x.len();
            let (xn, rest) = masked.split_at_mut(len);
            let (xe, rest) = rest.split_at_mut(len);
            let (gn, ge) = rest.split_at_mut(len);
            let (ge, x) = (&mut ge[..len], &*x);
            for i in 0..len {
                let (o, ng) = (v.om[i], v.neg[i]);
                let easy = if o <= 0.5 { ng } else { 0.0 };
                let g = magnitude(v.w[i], m[i], o, v.p[i], x[i], gamma);
                xn[i] = x[i] * ng;
                xe[i] = x[i] * easy;
                gn[i] = g * ng;
                ge[i] = g * easy;
            }
            row_sums(fl, x, k, columns, lanes, carry);
            let outs = [&mut *fl_neg, &mut *fl_neg_easy, &mut *neg, &mut *neg_easy];
            for (o, values) in outs.into_iter().zip([&*xn, xe, gn, ge]).filter(|(o, _)| !o.is_empty()) {
                class_order(o, values, k, columns);
            }
            let [w, om, _, b, p] = self.pos;
            for (i, &j) in self.at.iter().enumerate() {
                put(i, positive([w[i], m[j], om[i], p[i], x[j], b[i]], gamma));
            }
        }
        for s in [fl_neg, fl_neg_easy, neg, neg_easy] {
            at_most_max_all(s);
        }
    }
}

/// A positive from its `[w, m, 1 − p, p, x, BCE]`: its term, its gradient
/// and the gradient where easy, and its term with α = 1.
#[inline(always)]
fn positive([w, m, o, p, x, b]: [f64; 6], gamma: f64) -> [f64; 4] {
    let g = magnitude(w, m, o, p, x, gamma);
    [x, g, if o <= 0.5 { g } else { 0.0 }, unweighted(x, w, m, b)]
}

/// The one pass of a class-major batch of K ≤ 16 (module docs): the row
/// sums `[fl, fl_neg, fl_neg_easy, grad_neg, grad_neg_easy]` in class
/// order. True when a factor left the normal range: the batch is then to be
/// redone through [`focal_terms`]' log-space fallback. Without `EASY`, the
/// easy negatives' terms are not summed (nor `fl_neg_easy` written).
#[inline(always)]
fn class_by_class<I: Isa, const EASY: bool, const STORE: bool>(
    power: Power,
    gamma: f64,
    v: Logits<'_>,
    (x, m, sq): (&mut [f64], &mut [f64], &mut [f64]),
    sums: [&mut [f64]; 5],
) -> bool {
    let nb = sums[0].len();
    let k = v.om.len() / nb;
    let [fl, fl_neg, fl_neg_easy, gn, ge] = sums;
    with_factor!(power, (&mut *m, v.om, v.l, sq, -1.0, I), |factor, check| {
        let m = &*m;
        // With `STORE` (K > 16) the terms are written out for the loss's
        // lane sums instead of summed here.
        // The factor is at most 1: below the normal range is all to check.
        let mut least = f64::INFINITY;
        let mut r0 = 0;
        // A block of rows in registers, class by class.
        while r0 + LANES <= nb {
            let mut acc = [[0.0f64; LANES]; 5];
            let mut low = [1.0f64; LANES];
            for c in 0..k {
                let s = c * nb + r0..c * nb + r0 + LANES;
                let (om, w, b) = (&v.om[s.clone()], &v.w[s.clone()], &v.b[s.clone()]);
                let (p, ng, m) = (&v.p[s.clone()], &v.neg[s.clone()], &m[s.clone()]);
                // The terms stored after the lanes' loads, not between them
                // (interleaved, the loads were not vectorised).
                let mut terms_out = [0.0f64; LANES];
                for j in 0..LANES {
                    let f = factor(om[j], m[j]);
                    let add = terms(f, [om[j], w[j], b[j], p[j], ng[j]], gamma);
                    terms_out[j] = add[0];
                    for (q, (a, x)) in acc.iter_mut().zip(add).enumerate() {
                        if (EASY || q != 2) && !(STORE && q == 0) {
                            a[j] += x;
                        }
                    }
                    low[j] = if f < low[j] { f } else { low[j] };
                }
                if STORE {
                    x[s].copy_from_slice(&terms_out);
                }
            }
            for (s, a) in [&mut *fl, &mut *fl_neg, &mut *fl_neg_easy, &mut *gn, &mut *ge].into_iter().zip(&acc) {
                if !s.is_empty() {
                    s[r0..r0 + LANES].copy_from_slice(a);
                }
            }
            least = low.iter().fold(least, |l, &f| if f < l { f } else { l });
            r0 += LANES;
        }
        // The last rows one at a time: the same operations.
        for r in r0..nb {
            let mut acc = [0.0f64; 5];
            for c in 0..k {
                let s = c * nb + r;
                let f = factor(v.om[s], m[s]);
                let add = terms(f, [v.om[s], v.w[s], v.b[s], v.p[s], v.neg[s]], gamma);
                if STORE {
                    x[s] = add[0];
                }
                for (a, x) in acc.iter_mut().zip(add) {
                    *a += x;
                }
                least = if f < least { f } else { least };
            }
            for (s, a) in [&mut *fl, &mut *fl_neg, &mut *fl_neg_easy, &mut *gn, &mut *ge].into_iter().zip(acc) {
                if !s.is_empty() {
                    s[r] = a;
                }
            }
        }
        check && least < f64::MIN_POSITIVE
    })
}

/// A logit's additions to its row's five sums from its factor `f` and its
/// `[1 − p, w, BCE, p, negative]`: the term, masked as a negative and as an
/// easy negative, and its gradient's magnitude masked alike.
#[inline(always)]
fn terms(f: f64, [o, w, b, p, neg]: [f64; 5], gamma: f64) -> [f64; 5] {
    let t = w * f * b;
    let easy = if o <= 0.5 { neg } else { 0.0 };
    let g = magnitude(w, f, o, p, t, gamma);
    [t, t * neg, t * easy, g * neg, g * easy]
}

/// Each row's sum of `values` in class order from 0 (the rows of a
/// class-major batch across in vector lanes), as the negatives' sums are
/// taken whatever K and layout: the one pass's order.
#[inline(always)]
pub(super) fn class_order(out: &mut [f64], values: &[f64], k: usize, columns: bool) {
    let nb = out.len();
    if columns {
        out.fill(0.0);
        for class in values.chunks_exact(nb) {
            for (o, &v) in out.iter_mut().zip(class) {
                *o += v;
            }
        }
    } else {
        for (o, row) in out.iter_mut().zip(values.chunks_exact(k)) {
            *o = row.iter().fold(0.0, |s, &v| s + v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::sweep::BLOCK;
    use crate::simd::Portable;
    use crate::test_rng::uniform;

    /// Every output of one γ: the one pass against the way of the other
    /// batches (forced by flagging the inputs, which are all normal, so
    /// the log-space fallback changes nothing), bit for bit, for K ≤ 16 and
    /// above, each power form, with and without the easy negatives.
    #[test]
    fn the_one_pass_gives_the_other_ways_bits() {
        for (k, nb) in [(10, BLOCK), (3, 13), (19, BLOCK), (40, 21)] {
            let len = k * nb;
            let u = uniform(len, -9.0, 9.0, 7 + k as u64);
            let om: Vec<f64> = u.iter().map(|&u: &f64| 1.0 / (1.0 + u.exp())).collect();
            let l: Vec<f64> = om.iter().map(|&o: &f64| -o.ln()).collect();
            let p: Vec<f64> = om.iter().map(|&o| 1.0 - o).collect();
            let b: Vec<f64> = u.iter().map(|&u: &f64| (-u).exp().ln_1p()).collect();
            let mut w = uniform(len, 0.1, 0.9, 8);
            let mut neg = vec![1.0; len];
            let labels: Vec<usize> = uniform(nb, 0.0, k as f64, 9).iter().map(|&x| x as usize).collect();
            for (i, &t) in labels.iter().enumerate() {
                (w[t * nb + i], neg[t * nb + i]) = (0.25, 0.0);
            }
            let v = Logits { om: &om, l: &l, w: &w, b: &b, p: &p, neg: &neg };
            let run = |gamma: f64, bad: bool, split: bool| {
                let (mut at, mut scratch) = (vec![0; nb], vec![0.0; 7 * nb]);
                let shape = Layout { k, nb, columns: true };
                let mut batch = Batch::new(v, &labels, shape, bad, &mut at, &mut scratch);
                let (mut x, mut m, mut sq, mut masked) =
                    (vec![0.0; len], vec![0.0; len], vec![0.0; len], vec![0.0; 4 * len]);
                let (mut lanes, mut carry) = (vec![0.0; 8 * nb], vec![0.0; nb]);
                let mut rows = [(); 9].map(|_| vec![0.0; nb]);
                let [fl, fl_neg, fl_neg_easy, gn, gne, fl_pos, gp, gpe, unit] =
                    rows.each_mut().map(|r| r.as_mut_slice());
                let fl_neg_easy: &mut [f64] = if split { fl_neg_easy } else { &mut [] };
                let buf = Buffers {
                    x: &mut x,
                    m: &mut m,
                    sq: &mut sq,
                    masked: &mut masked,
                    lanes: &mut lanes,
                    carry: &mut carry,
                };
                let out = RowSums { fl, fl_neg, fl_neg_easy, grad_neg: [gn, gne], fl_pos, grad_pos: [gp, gpe], unit };
                batch.gamma_terms::<Portable>(Power::of(gamma), gamma, buf, out);
                rows
            };
            for gamma in [0.0, 0.5, 1.0, 2.0, 2.5, 5.0, 0.3, 7.0] {
                for split in [true, false] {
                    assert_eq!(run(gamma, false, split), run(gamma, true, split), "K = {k}, γ = {gamma}");
                }
            }
        }
    }
}
