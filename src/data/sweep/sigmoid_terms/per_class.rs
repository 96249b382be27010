//! A per-class α's row losses from the kept logit values, lean: the one
//! thing of a per-class α that is not linear in the weights.
//!
//! With one α per class a row's loss `FL = α_t · P + Σ_{c≠t} (1 − α_c) · n_c`
//! does not factor into the kept `P` and `N`; what needs each row's loss
//! (the loss histograms behind `top_share_90` and the loss CDF, the easy
//! rows' and each class's share, `saturated`) takes it from the kept values
//! by the sweep's own operations: per logit its weight, [`focal_terms`]
//! (the factor by `weigh`'s same operations, the log-space fallback
//! included) and each row's sums as the sweep takes them ([`row_sums`],
//! the negatives' in [`class_order`]) — the bits of
//! the sweep of the logits, with nothing else per logit (no gradient, no
//! split: those are linear, [`super::unit::ClassTotals`]). No memory beyond
//! the accumulator's batch buffers.

use crate::data::sweep::columns::row_sums;
use crate::data::sweep::factor::{Power, with_factor};
use crate::data::sweep::gradient::at_most_max;
use crate::data::sweep::limits::{abnormal, normal, saturate};
use crate::data::sweep::sigmoid::{focal_terms, weights_and_mask};
use crate::data::sweep::sigmoid_examples::Block;
use crate::data::sweep::sigmoid_gamma::class_order;
use crate::data::sweep::{Accumulator, BLOCK, COLUMNS_UP_TO, SigmoidExamples};
use crate::simd::Isa;

/// Stages the losses of `block`'s rows (staged already) at every γ of
/// `acc` with its per-class weights, as the sweep computes them, and flags
/// the rows that saturated.
#[inline(always)]
pub(super) fn losses<I: Isa>(acc: &mut Accumulator, ex: &SigmoidExamples, block: &Block) {
    let (k, n) = (acc.classes, block.n);
    let columns = k <= COLUMNS_UP_TO;
    let (labels, _) = ex.rows(block);
    let (st, sc) = (&mut acc.stage, &mut acc.scratch);
    for (r0, nb, [om, l, b]) in ex.batches(block) {
        let (len, real) = (om.len(), nb.min(n - r0));
        let (w, x, m, sq) = (&mut sc.weight[..len], &mut sc.loss[..len], &mut sc.factor[..len], &mut sc.squares[..len]);
        let (neg, masked) = (&mut sc.neg[..len], &mut sc.masked[..len]);
        let alpha = (&acc.alpha_neg[..], &acc.alpha_pos[..]);
        weights_and_mask(w, neg, alpha, labels[r0..r0 + real].iter().map(|&t| t as usize), (k, nb, columns));
        let neg = &*neg;
        let inputs_bad = abnormal(b) | abnormal(om);
        // Class-major: every γ's rows fused, a class at a time (its values
        // stay in L1 across the γs); the γs that cannot be, term by term.
        let mut fused: Vec<bool> = acc.powers.iter().map(|&p| columns && !inputs_bad && fusable(p)).collect();
        if fused.contains(&true) {
            for (gi, _) in fused.iter().enumerate().filter(|(_, f)| **f) {
                st.fl[gi * BLOCK..gi * BLOCK + nb].fill(0.0);
                st.fl_neg[gi * BLOCK..gi * BLOCK + nb].fill(0.0);
            }
            for c in 0..k {
                let class = [om, &*w, b, neg].map(|v| &v[c * nb..(c + 1) * nb]);
                for (gi, (ok, &power)) in fused.iter_mut().zip(&acc.powers).enumerate() {
                    if *ok {
                        let rows = gi * BLOCK..gi * BLOCK + nb;
                        *ok = class_terms([&mut st.fl[rows.clone()], &mut st.fl_neg[rows]], class, power);
                    }
                }
            }
        }
        for (gi, (&gamma, &power)) in acc.gammas.iter().zip(&acc.powers).enumerate() {
            let rows = gi * BLOCK + r0..gi * BLOCK + r0 + nb;
            if !fused[gi] {
                focal_terms::<I>([&mut *x, &mut *m, &mut *sq], [om, l, w, b], power, gamma, inputs_bad);
                row_sums(&mut st.fl[rows.clone()], x, k, columns, &mut sc.lanes, &mut sc.carry);
                for ((o, &v), &f) in masked.iter_mut().zip(x.iter()).zip(neg) {
                    *o = v * f;
                }
                class_order(&mut st.fl_neg[rows.clone()], masked, k, columns);
            }
            for v in &mut st.fl_neg[rows.clone()] {
                *v = at_most_max(*v);
            }
            saturate(&mut st.fl[rows][..real], &mut st.saturated[r0..r0 + real]);
        }
    }
}

/// Whether [`class_terms`] takes this γ.
fn fusable(power: Power) -> bool {
    matches!(power, Power::One) || matches!(power, Power::Halves(h) if h <= 12)
}

/// Adds one class's terms `w · m · BCE` of a class-major batch to its
/// rows' losses `fl`, no per-logit store: the factor by `weigh`'s own
/// inline operations for γ ≤ 6 a multiple of ½ ([`fusable`]), the term as
/// `weigh` takes it; class by class from 0 this is the row's sum in class
/// order as [`row_sums`] takes it — the same bits as [`focal_terms`] then
/// [`row_sums`] (`fused_losses_are_the_sweeps_bits`). False (the rows to be
/// computed that way) where a factor leaves the normal range (the log-space
/// fallback's cases).
#[inline(always)]
fn class_terms([fl, fl_neg]: [&mut [f64]; 2], [om, w, b, neg]: [&[f64]; 4], power: Power) -> bool {
    with_factor!(power, else false, |factor, check| {
        let mut bad = false;
        for ((s, sn), ((&o, &w), (&c, &ng))) in fl.iter_mut().zip(fl_neg.iter_mut()).zip(om.iter().zip(w).zip(b.iter().zip(neg))) {
            let f: f64 = factor(o, 0.0);
            let t = w * f * c;
            *s += t;
            *sn += t * ng;
            bad |= check & !normal(f);
        }
        !bad
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::Portable;
    use crate::test_rng::uniform;

    /// `class_terms` class by class from 0, for every γ it takes; every
    /// logit a negative, so that the negatives' sums are the losses.
    fn fused(fl: &mut [f64], [om, w, b]: [&[f64]; 3], power: Power) -> bool {
        let nb = fl.len();
        let (ones, mut fl_neg) = (vec![1.0; om.len()], vec![0.0; nb]);
        fl.fill(0.0);
        let mut ok = fusable(power);
        for c in 0..om.len() / nb {
            let class = [om, w, b, &ones].map(|v| &v[c * nb..(c + 1) * nb]);
            ok &= class_terms([&mut *fl, &mut fl_neg], class, power);
        }
        assert_eq!(fl, &fl_neg[..]);
        ok
    }

    /// The fused rows are `focal_terms` then `row_sums`, bit for bit, for
    /// every γ they take (and they refuse the others).
    #[test]
    fn fused_losses_are_the_sweeps_bits() {
        let (k, nb) = (10, BLOCK);
        let om = uniform(k * nb, 1e-3, 1.0, 41);
        let l: Vec<f64> = om.iter().map(|o: &f64| -o.ln()).collect();
        let b = uniform(k * nb, 1e-2, 9.0, 42);
        let w = uniform(k * nb, 0.0, 1.0, 43);
        let (mut x, mut m, mut sq) = (vec![0.0; k * nb], vec![0.0; k * nb], vec![0.0; k * nb]);
        let (mut want, mut got) = (vec![0.0; nb], vec![0.0; nb]);
        for h in 0..=14u32 {
            let gamma = f64::from(h) / 2.0;
            let power = Power::of(gamma);
            focal_terms::<Portable>([&mut x, &mut m, &mut sq], [&om, &l, &w, &b], power, gamma, false);
            row_sums(&mut want, &x, k, true, &mut [], &mut []);
            assert_eq!(fused(&mut got, [&om, &w, &b], power), h <= 12, "γ = {gamma}");
            if h <= 12 {
                assert_eq!(got, want, "γ = {gamma}");
            }
        }
        // A factor below the normal range: the log-space fallback's case.
        let mut tiny = om.clone();
        tiny[7] = 1e-200;
        assert!(!fused(&mut got, [&tiny, &w, &b], Power::of(2.0)));
    }
}
