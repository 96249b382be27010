//! Sigmoid rows: every class its own binary problem, every value per logit.

use super::columns::{column_argmax, row_sums, transpose, transpose_wide};
use super::factor::{Power, weigh};
use super::limits::{abnormal, normal, saturate};
use super::planes::{Input, fill_columns};
use super::sigmoid_gamma::{Batch, Buffers, Layout, Logits, RowSums};
use super::{Accumulator, BLOCK, COLUMNS_UP_TO, Logit, SIGMOID_COLUMNS_UP_TO};
use crate::loss::argmax;
use crate::loss::sum::weighted_product;
use crate::simd::Isa;

impl Accumulator {
    /// Sigmoid: everything per logit, vectorised over the batch; class-major
    /// (rows of K ≤ [`SIGMOID_COLUMNS_UP_TO`] transposed, or class planes as
    /// they are) so that the sums over each row's classes run across rows in
    /// vector lanes.
    #[inline(always)]
    pub(super) fn sigmoid_rows<I: Isa, T: Logit>(&mut self, isa: I, input: Input<'_, T>, labels: &[usize]) {
        let (k, nb) = (self.classes, labels.len());
        let row_major = match input {
            Input::Rows(logits) if k > SIGMOID_COLUMNS_UP_TO => Some(logits),
            _ => None,
        };
        let columns = row_major.is_none();
        let len = k * nb;
        let st = &mut self.stage;
        let base = st.n;
        let sc = &mut self.scratch;
        let (u, w, e) = (&mut sc.u[..len], &mut sc.weight[..len], &mut sc.exp[..len]);
        let (l, b, om) = (&mut sc.softplus[..len], &mut sc.bce[..len], &mut sc.om[..len]);
        let (m, sq, x) = (&mut sc.factor[..len], &mut sc.squares[..len], &mut sc.loss[..len]);
        let (pl, neg, masked) = (&mut sc.p[..len], &mut sc.neg[..len], &mut sc.masked[..4 * len]);
        let alpha = (&self.alpha_neg[..], &self.alpha_pos[..]);
        weights_and_mask(w, neg, alpha, labels.iter().copied(), (k, nb, columns));
        let (lanes, carry) = (&mut sc.lanes, &mut sc.carry);
        // Logit (row r, class c) is at `at(r, c)`.
        let at = |r: usize, c: usize| if columns { c * nb + r } else { r * k + c };
        // u = z for the positive, −z for the negatives.
        if let Some(logits) = row_major {
            for (i, (row, ur)) in logits.chunks_exact(k).zip(u.chunks_exact_mut(k)).enumerate() {
                for (o, &z) in ur.iter_mut().zip(row) {
                    *o = -z.into();
                }
                st.argmax[base + i] = argmax(row);
            }
        } else {
            // Each row's argmax, of z (u negated back).
            let (top, j) = (&mut sc.top[..nb], &mut st.argmax[base..base + nb]);
            let done = match input {
                Input::Rows(logits) if k > COLUMNS_UP_TO => {
                    transpose_wide(u, logits, k, j);
                    nb
                }
                Input::Rows(logits) => transpose(isa, u, logits, k, true, Some((&mut *top, &mut *j))),
                Input::Planes { values, stride, positions } => {
                    fill_columns(isa, u, values, stride, positions, true, top, j);
                    nb
                }
            };
            column_argmax(top, j, u, done, true);
        }
        for (i, &t) in labels.iter().enumerate() {
            let r = base + i;
            // The positive's u is z: exactly −(−z).
            u[at(i, t)] = -u[at(i, t)];
            st.label[r] = t;
            st.correct[r] = st.argmax[r] == t;
            st.saturated[r] = false;
        }
        // softplus(x) = max(x, 0) + ln_1p(e^-|x|): BCE = softplus(−u) in b,
        // −ln(1 − p) = softplus(u) in l, 1 − p = σ(−u) in om.
        for ((((e, l), om), p), &u) in
            e.iter_mut().zip(l.iter_mut()).zip(om.iter_mut()).zip(pl.iter_mut()).zip(u.iter())
        {
            let v = I::exp(-u.abs());
            // 1 + v = hi + lo exactly (v ≤ 1); one reciprocal serves ln_1p's
            // correction lo/hi and 1 − p = σ(−u).
            let hi = 1.0 + v;
            let inv = 1.0 / hi;
            *e = v;
            *l = I::ln_sum(hi, ((1.0 - hi) + v) * inv);
            *om = if u >= 0.0 { v * inv } else { inv };
            *p = if u >= 0.0 { inv } else { v * inv };
        }
        for ((b, l), &u) in b.iter_mut().zip(l.iter_mut()).zip(u.iter()) {
            let lv = *l;
            *b = pos(-u) + lv;
            *l = pos(u) + lv;
        }
        let ce = &mut st.ce[base..base + nb];
        row_sums(ce, b, k, columns, lanes, carry);
        saturate(ce, &mut st.saturated[base..base + nb]);
        for (i, &t) in labels.iter().enumerate() {
            let (et, ut) = (e[at(i, t)], u[at(i, t)]);
            st.p[base + i] = if ut >= 0.0 { 1.0 / (1.0 + et) } else { et / (1.0 + et) };
        }
        if let Some(kept) = &mut self.kept_sigmoid {
            let rows = base..base + nb;
            kept.record(base, labels, &st.correct[rows.clone()], &st.p[rows], [om, l, b], columns);
        }
        let inputs_bad = abnormal(b) | abnormal(om);
        let (om, l, w, b, pl, neg) = (&*om, &*l, &*w, &*b, &*pl, &*neg);
        let values = Logits { om, l, w, b, p: pl, neg };
        let shape = Layout { k, nb, columns };
        let mut batch = Batch::new(values, labels, shape, inputs_bad, &mut sc.pos_at, &mut sc.pos_in);
        for (gi, &power) in self.powers.iter().enumerate() {
            let rows = gi * BLOCK + base..gi * BLOCK + base + nb;
            let [fl, fl_neg, gn, gne, fl_pos, gp, gpe, unit] = [
                &mut st.fl,
                &mut st.fl_neg,
                &mut st.grad_neg,
                &mut st.grad_neg_easy,
                &mut st.fl_pos,
                &mut st.grad_pos,
                &mut st.grad_pos_easy,
                &mut st.pos,
            ]
            .map(|v| &mut v[rows.clone()]);
            let (x, m, sq, masked) = (&mut *x, &mut *m, &mut *sq, &mut *masked);
            let buf = Buffers { x, m, sq, masked, lanes: &mut lanes[..], carry: &mut carry[..] };
            // The easy negatives' terms are the dataset view's alone.
            let out =
                RowSums { fl, fl_neg, fl_neg_easy: &mut [], grad_neg: [gn, gne], fl_pos, grad_pos: [gp, gpe], unit };
            batch.gamma_terms::<I>(power, self.gammas[gi], buf, out);
            saturate(&mut st.fl[rows], &mut st.saturated[base..base + nb]);
        }
    }
}

/// A batch's per-logit weights as the sweep sets them (`1 − α_c` for a
/// negative, `α_t` for the positive; `alpha` is (negatives', positives'))
/// and the negatives' exact 0/1 mask, for `nb` rows of K (class-major when
/// `columns`) of which the first have `labels` (the rest are filler).
#[inline(always)]
pub(super) fn weights_and_mask(
    w: &mut [f64],
    neg: &mut [f64],
    (alpha_neg, alpha_pos): (&[f64], &[f64]),
    labels: impl Iterator<Item = usize>,
    (k, nb, columns): (usize, usize, bool),
) {
    if columns {
        for ((wc, nc), &a) in w.chunks_exact_mut(nb).zip(neg.chunks_exact_mut(nb)).zip(alpha_neg) {
            wc.fill(a);
            nc.fill(1.0);
        }
    } else {
        for (wr, nr) in w.chunks_exact_mut(k).zip(neg.chunks_exact_mut(k)) {
            wr.copy_from_slice(alpha_neg);
            nr.fill(1.0);
        }
    }
    for (i, t) in labels.enumerate() {
        let j = if columns { t * nb + i } else { i * k + t };
        w[j] = alpha_pos[t];
        neg[j] = 0.0;
    }
}

/// A focal term `x = w · m · BCE` with α = 1: `x / w` (x taken in log
/// space where it left the normal range), `m · BCE` for `w = 0`; at most
/// `f64::MAX`.
#[inline(always)]
pub(super) fn unweighted(x: f64, w: f64, m: f64, b: f64) -> f64 {
    (if w > 0.0 { x / w } else { m * b }).min(f64::MAX)
}

/// `max(x, 0)`.
#[inline(always)]
fn pos(x: f64) -> f64 {
    if x > 0.0 { x } else { 0.0 }
}

/// Each logit's focal term `w · (1 − p)^γ · BCE` into `x` ([`weigh`], with
/// `m` and `sq` its scratch), from `om` = 1 − p, `l` = −ln(1 − p) and `b` =
/// BCE; where an input (`inputs_bad`) or the factor leaves the normal range,
/// the product in log space as [`weighted_product`] takes it. A BCE below
/// the normal range has u > 708, where ln BCE = −u = −l. Shared by the sweep
/// and the kept rows' re-sweep, so that both give the same bits.
#[inline(always)]
pub(super) fn focal_terms<I: Isa>(
    [x, m, sq]: [&mut [f64]; 3],
    [om, l, w, b]: [&[f64]; 4],
    power: Power,
    gamma: f64,
    inputs_bad: bool,
) {
    if !(inputs_bad | weigh::<I>(x, m, om, l, sq, w, b, power, -1.0)) {
        return;
    }
    for i in 0..x.len() {
        let (mv, bv) = (m[i], b[i]);
        let power_ok = !matches!(power, Power::Halves(_)) || normal(om[i]);
        if normal(mv) && normal(bv) && power_ok {
            continue;
        }
        let ln_m = if gamma == 0.0 { 0.0 } else { -gamma * l[i] };
        let lv = l[i];
        x[i] = weighted_product(w[i], ln_m.exp(), ln_m, bv, || if normal(bv) { bv.ln() } else { -lv }) + 0.0;
    }
}
