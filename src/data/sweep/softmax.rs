//! Softmax rows: the sum of the exponentials of the other classes, then
//! p_t, CE, 1 − p_t and its log, and the focal losses of a block.

use super::columns::{column_argmax, column_exps, transpose};
use super::factor::{Power, weigh};
use super::gradient::magnitude;
use super::limits::{abnormal, normal, saturate};
use super::planes::{Input, fill_columns};
use super::stage::Stage;
use super::sums::{LaneSum, Neumaier, lane_totals};
use super::{Accumulator, BLOCK, COLUMNS_UP_TO, Logit};
use crate::loss::sum::weighted_product;
use crate::loss::{Alpha, argmax, ln_mass_of_others};
use crate::simd::Isa;
use std::mem::take;

/// Below this `S`, `ln S` is recomputed from the logits (as the crate does).
const TINY_S: f64 = 1e-290;

impl Accumulator {
    /// [`softmax_rows`](Self::softmax_rows) class-major: rows of K ≤ 16
    /// transposed, or class planes as they are (K ≤ 64), so that the
    /// argmax, the exponentials and the sums run across rows in vector
    /// lanes. Each row's `S` is summed as the row path sums it: in class
    /// order for K ≤ 16, in its eight lanes above.
    #[inline(always)]
    pub(super) fn softmax_columns<I: Isa, T: Logit>(&mut self, isa: I, input: Input<'_, T>, labels: &[usize]) {
        let (k, nb) = (self.classes, labels.len());
        let st = &mut self.stage;
        let base = st.n;
        let range = base..base + nb;
        let sc = &mut self.scratch;
        let (col, top, zt) = (&mut sc.columns[..k * nb], &mut sc.top[..nb], &mut sc.z_t[..nb]);
        let (j, s, et) = (&mut st.argmax[range.clone()], &mut st.s[range.clone()], &mut st.e_t[range.clone()]);
        // S = Σ_{i≠j} e_i in class order (one lane), or class i into lane
        // i mod 8 as `LaneSum` adds a row's classes.
        let lanes = if k <= COLUMNS_UP_TO { 1 } else { 8 };
        let (sums, carry) = (&mut sc.lanes, &mut sc.carry);
        match input {
            Input::Rows(logits) => {
                let done = transpose(isa, col, logits, k, false, Some((&mut *top, &mut *j)));
                column_argmax(top, j, col, done, false);
                column_step(isa, col, top, j, labels, s, lanes, sums, carry, zt, et);
            }
            Input::Planes { values, stride, positions } => {
                // The instruction set's kernel takes the whole groups from
                // the planes to the sums; the rest go through a batch.
                let lane_sums = if lanes == 1 { &mut s[..] } else { &mut sums[..] };
                let done = isa.planes_softmax(values, stride, positions, labels, k, top, j, lane_sums, lanes, zt, et);
                if lanes > 1 && done > 0 {
                    lane_totals(&mut s[..done], &sums[..lanes * done], &mut carry[..done], None);
                }
                if done < nb {
                    let col = &mut col[..k * (nb - done)];
                    let (top, j) = (&mut top[done..], &mut j[done..]);
                    fill_columns(isa, col, values, stride, &positions[done..], false, top, j);
                    let (labels, s, zt, et) = (&labels[done..], &mut s[done..], &mut zt[done..], &mut et[done..]);
                    column_step(isa, col, top, j, labels, s, lanes, sums, carry, zt, et);
                }
            }
        }
        st.label[range.clone()].copy_from_slice(labels);
        for (((gap, half), &zj), &zt) in
            st.gap[range.clone()].iter_mut().zip(&mut st.half_gap[range.clone()]).zip(top.iter()).zip(zt.iter())
        {
            *gap = zj - zt;
            *half = zj * 0.5 - zt * 0.5;
        }
        self.row_flags(labels, input);
    }

    /// The staged rows' `correct`, `alpha_t` and `rare` flags (and ln S of
    /// the rare rows), from their labels and `argmax` and `s`.
    #[inline(always)]
    fn row_flags<T: Logit>(&mut self, labels: &[usize], input: Input<'_, T>) {
        let st = &mut self.stage;
        let range = st.n..st.n + labels.len();
        let mut any_rare = false;
        for ((((c, rare), &j), &t), &s) in st.correct[range.clone()]
            .iter_mut()
            .zip(&mut st.rare[range.clone()])
            .zip(&st.argmax[range.clone()])
            .zip(labels)
            .zip(&st.s[range.clone()])
        {
            *c = j == t;
            *rare = j == t && s < TINY_S;
            any_rare |= *rare;
        }
        match &self.alpha {
            Alpha::Scalar(a) => st.alpha_t[range.clone()].fill(*a),
            Alpha::PerClass(_) => {
                for (a, &t) in st.alpha_t[range.clone()].iter_mut().zip(labels) {
                    *a = self.alpha_pos[t];
                }
            }
        }
        if any_rare {
            let k = self.classes;
            for (i, &t) in labels.iter().enumerate() {
                let r = range.start + i;
                if st.rare[r] {
                    st.rare_ln_s[r] = ln_mass_of_others(&input.row(i, k), t, |terms| {
                        let mut acc = Neumaier::default();
                        terms.for_each(|x| acc.add(x));
                        acc.value()
                    });
                }
            }
        }
    }

    /// Softmax, first half, for K > 16: per row the argmax, then `S` in one
    /// pass (`exp(z − z_j)` summed as it is computed, nothing stored), `e_t`,
    /// and the logit gap.
    #[inline(always)]
    pub(super) fn softmax_rows<I: Isa, T: Logit>(&mut self, isa: I, logits: &[T], labels: &[usize]) {
        let k = self.classes;
        let st = &mut self.stage;
        let base = st.n;
        for (i, (row, &t)) in logits.chunks_exact(k).zip(labels).enumerate() {
            let j = argmax(row);
            let zj: f64 = row[j].into();
            let mut sum = LaneSum::default();
            sum.add_exps(isa, row, zj, j);
            let r = base + i;
            let zt: f64 = row[t].into();
            st.argmax[r] = j;
            st.s[r] = sum.value();
            // The same function as the vector lanes: the same bits.
            st.e_t[r] = I::exp(zt - zj);
            st.gap[r] = zj - zt;
            st.half_gap[r] = zj * 0.5 - zt * 0.5;
        }
        st.label[base..base + labels.len()].copy_from_slice(labels);
        self.row_flags(labels, Input::Rows(logits));
    }

    /// Softmax, second half, over the whole block: logs, modulating factors
    /// and losses, vectorised across rows (from the first step on, unless
    /// the rows came from [`Examples`](super::Examples) with these values staged).
    #[inline(always)]
    pub(super) fn softmax_block<I: Isa>(&mut self) {
        if !self.stage.cached {
            self.softmax_values::<I>();
        }
        self.softmax_losses::<I>();
    }

    /// The block's p_t, CE, 1 − p_t and (when needed) ln(1 − p_t) from its
    /// staged S, e_t and logit gaps; kept, when examples are kept.
    #[inline(always)]
    fn softmax_values<I: Isa>(&mut self) {
        let st = &mut self.stage;
        let n = st.n;
        let s = &st.s[..n];
        let need_ln = self.kept.is_some() || self.powers.iter().any(|p| matches!(p, Power::Exp(_)));
        for (((ld, p), om), ((&s, &e), &a)) in st.ln_den[..n]
            .iter_mut()
            .zip(&mut st.p[..n])
            .zip(&mut st.om[..n])
            .zip(s.iter().zip(&st.e_t[..n]).zip(&st.correct[..n]))
        {
            // 1 + S = denom + lo exactly (Fast2Sum); one reciprocal serves
            // ln_1p's correction lo/denom and regime A's 1 − p = S/(1 + S)
            // (target = argmax, S < 1, e_t = 1). p itself is a quotient.
            let denom = 1.0 + s;
            let lo = if s <= 1.0 { (1.0 - denom) + s } else { (s - denom) + 1.0 };
            let inv = 1.0 / denom;
            *ld = I::ln_sum(denom, lo * inv);
            *p = e / denom;
            *om = if a && s < 1.0 { s * inv } else { 1.0 - *p };
        }
        for (((c, &gap), &ld), sat) in
            st.ce[..n].iter_mut().zip(&st.gap[..n]).zip(&st.ln_den[..n]).zip(&mut st.saturated[..n])
        {
            *c = gap + ld;
            *sat = false;
        }
        if need_ln {
            for (((lo, &s), &p), ((&a, &rare), (&rare_ln, &ld))) in st.ln_om[..n]
                .iter_mut()
                .zip(s)
                .zip(&st.p[..n])
                .zip(st.correct[..n].iter().zip(&st.rare[..n]).zip(st.rare_ln_s[..n].iter().zip(&st.ln_den[..n])))
            {
                let ln_s = if rare { rare_ln } else { I::ln(s) };
                let ln_b = I::ln_1p(-p);
                *lo = if a && s < 1.0 { ln_s - ld } else { ln_b };
            }
        }
        if let Some(kept) = &mut self.kept {
            kept.record(st);
        }
    }

    /// The block's focal losses for every γ from its staged values.
    #[inline(always)]
    fn softmax_losses<I: Isa>(&mut self) {
        let st = &mut self.stage;
        let n = st.n;
        // Out of the stage while written, so that the fallback can read it.
        let (mut fl_all, mut m, mut sq) = (take(&mut st.fl), take(&mut st.factor), take(&mut st.squares));
        let inputs_bad = abnormal(&st.ce[..n]) | abnormal(&st.om[..n]);
        for (gi, &power) in self.powers.iter().enumerate() {
            let fl = &mut fl_all[gi * BLOCK..gi * BLOCK + n];
            let (m, om, ce, alpha_t) = (&mut m[..n], &st.om[..n], &st.ce[..n], &st.alpha_t[..n]);
            let bad = inputs_bad | weigh::<I>(fl, m, om, &st.ln_om[..n], &mut sq[..n], alpha_t, ce, power, 1.0);
            if bad {
                let gamma = self.gammas[gi];
                for r in 0..n {
                    let power_ok = !matches!(power, Power::Halves(_)) || normal(om[r]);
                    if normal(m[r]) && normal(ce[r]) && power_ok {
                        continue;
                    }
                    let ln_m = match power {
                        Power::One => 0.0,
                        _ if st.cached => gamma * st.ln_om[r],
                        _ => gamma * st.ln_om_exact(r),
                    };
                    let ln_ce = || if st.cached { st.ln_ce[r] } else { st.ln_ce(r) };
                    fl[r] = weighted_product(alpha_t[r], ln_m.exp(), ln_m, ce[r], ln_ce);
                }
            }
            saturate(fl, &mut st.saturated[..n]);
            // |dFL/dz_t| of each row, from the same factor and loss.
            let gamma = self.gammas[gi];
            let grad = &mut st.grad_pos[gi * BLOCK..gi * BLOCK + n];
            for (((g, (&a, &m)), (&om, &p)), &x) in
                grad.iter_mut().zip(alpha_t.iter().zip(m.iter())).zip(om.iter().zip(&st.p[..n])).zip(fl.iter())
            {
                *g = magnitude(a, m, om, p, x, gamma);
            }
        }
        (st.fl, st.factor, st.squares) = (fl_all, m, sq);
        saturate(&mut st.ce[..n], &mut st.saturated[..n]);
    }
}

/// The class-major softmax step of a batch (`col`, with each row's argmax
/// in `top` and `j`): [`column_exps`] into `s` (one lane), or into eight
/// lanes in `sums` and then their totals.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn column_step<I: Isa>(
    isa: I,
    col: &[f64],
    top: &[f64],
    j: &[usize],
    labels: &[usize],
    s: &mut [f64],
    lanes: usize,
    sums: &mut [f64],
    carry: &mut [f64],
    zt: &mut [f64],
    et: &mut [f64],
) {
    let n = top.len();
    if lanes == 1 {
        column_exps(isa, col, top, j, labels, s, 1, zt, et);
    } else {
        let sums = &mut sums[..lanes * n];
        column_exps(isa, col, top, j, labels, sums, lanes, zt, et);
        lane_totals(s, sums, &mut carry[..n], None);
    }
}

impl Stage {
    /// Regime A of staged softmax row `r`: the target is the argmax and S < 1.
    fn regime_a(&self, r: usize) -> bool {
        self.correct[r] && self.s[r] < 1.0
    }

    /// ln S of staged softmax row `r` (from the logits where S is tiny).
    fn ln_s(&self, r: usize) -> f64 {
        if self.rare[r] { self.rare_ln_s[r] } else { self.s[r].ln() }
    }

    /// ln(1 − p_t) of staged softmax row `r`, with the C library's logs.
    fn ln_om_exact(&self, r: usize) -> f64 {
        if self.regime_a(r) { self.ln_s(r) - self.ln_den[r] } else { (-self.p[r]).ln_1p() }
    }

    /// ln CE of staged softmax row `r`, also where CE is subnormal (≈ S) or
    /// above `f64::MAX` (from half the logit gap).
    pub(super) fn ln_ce(&self, r: usize) -> f64 {
        let c = self.ce[r];
        if self.regime_a(r) {
            if c >= f64::MIN_POSITIVE { c.ln() } else { self.ln_s(r) }
        } else if c.is_finite() {
            c.ln()
        } else {
            (self.half_gap[r] + self.ln_den[r] * 0.5).ln() + std::f64::consts::LN_2
        }
    }
}
