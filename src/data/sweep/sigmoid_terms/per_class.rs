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
use crate::data::sweep::limits::{abnormal, at_most_max_all, saturate};
use crate::data::sweep::sigmoid::{focal_terms, weights_and_mask};
use crate::data::sweep::sigmoid_examples::Block;
use crate::data::sweep::sigmoid_gamma::{LANES, class_order};
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
        let labels = &labels[r0..r0 + real];
        let inputs_bad = abnormal(b) | abnormal(om);
        let alpha = (&acc.alpha_neg[..], &acc.alpha_pos[..]);
        // Class-major: each γ's rows in registers, eight at a time, walking
        // the classes in order (the weights from the labels, no per-logit
        // store); the γs that cannot be, term by term.
        let mut fused: Vec<bool> = acc.powers.iter().map(|&p| columns && !inputs_bad && fusable(p)).collect();
        if fused.contains(&true) {
            let mut label = [NONE; BLOCK];
            label[..real].copy_from_slice(labels);
            for (gi, (ok, &power)) in fused.iter_mut().zip(&acc.powers).enumerate().filter(|(_, (ok, _))| **ok) {
                let rows = gi * BLOCK..gi * BLOCK + nb;
                *ok = gamma_rows([&mut st.fl[rows.clone()], &mut st.fl_neg[rows]], [om, b], &label[..nb], alpha, power);
            }
        }
        let (w, x, m, sq) = (&mut sc.weight[..len], &mut sc.loss[..len], &mut sc.factor[..len], &mut sc.squares[..len]);
        let (neg, masked) = (&mut sc.neg[..len], &mut sc.masked[..len]);
        if fused.contains(&false) {
            weights_and_mask(w, neg, alpha, labels.iter().map(|&t| t as usize), (k, nb, columns));
        }
        let neg = &*neg;
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
            at_most_max_all(&mut st.fl_neg[rows.clone()]);
            saturate(&mut st.fl[rows][..real], &mut st.saturated[r0..r0 + real]);
        }
    }
}

/// Whether [`gamma_rows`] takes this γ.
fn fusable(power: Power) -> bool {
    matches!(power, Power::One) || matches!(power, Power::Halves(h) if h <= 12)
}

/// No label: a class-major batch's filler rows (every logit a negative).
const NONE: u32 = u32::MAX;

/// One γ's rows `fl` (the loss) and `fl_neg` (its negatives' terms) of a
/// class-major batch of K ≤ 16 from its `1 − p` and BCE (`om`, `b`), the
/// rows' `labels` ([`NONE`] for filler) and the per-class weights `(α⁻,
/// α⁺)`: eight rows in registers walk the classes from 0, each logit's
/// term `w · m · BCE` with its factor by `weigh`'s own inline operations
/// for γ ≤ 6 a multiple of ½ ([`fusable`]), its weight and negatives' mask
/// as [`weights_and_mask`] sets them — the same bits as [`focal_terms`]
/// then [`row_sums`] and [`class_order`] (`fused_losses_are_the_sweeps_bits`).
/// The sums are stored after the classes' loop, not between its loads.
/// False (the rows to be computed that way) where a factor leaves the
/// normal range (the log-space fallback's cases).
#[inline(always)]
fn gamma_rows(
    [fl, fl_neg]: [&mut [f64]; 2],
    [om, b]: [&[f64]; 2],
    labels: &[u32],
    (alpha_neg, alpha_pos): (&[f64], &[f64]),
    power: Power,
) -> bool {
    let nb = fl.len();
    debug_assert_eq!(nb % LANES, 0);
    with_factor!(power, else false, |factor, check| {
        // The factor is at most 1: below the normal range is all to check.
        // Two groups of eight rows at once: two chains of adds in flight.
        let mut least = f64::INFINITY;
        let pairs = nb / (2 * LANES) * 2 * LANES;
        for r0 in (0..pairs).step_by(2 * LANES) {
            least = least.min(group::<2>(r0, [&mut *fl, &mut *fl_neg], [om, b], labels, (alpha_neg, alpha_pos), &factor));
        }
        for r0 in (pairs..nb).step_by(LANES) {
            least = least.min(group::<1>(r0, [&mut *fl, &mut *fl_neg], [om, b], labels, (alpha_neg, alpha_pos), &factor));
        }
        !(check && least < f64::MIN_POSITIVE)
    })
}

/// [`gamma_rows`] for `G` groups of eight rows from row `r0`, walking the
/// classes in order; returns the least factor.
#[inline(always)]
fn group<const G: usize>(
    r0: usize,
    [fl, fl_neg]: [&mut [f64]; 2],
    [om, b]: [&[f64]; 2],
    labels: &[u32],
    (alpha_neg, alpha_pos): (&[f64], &[f64]),
    factor: &impl Fn(f64, f64) -> f64,
) -> f64 {
    let nb = fl.len();
    let k = om.len() / nb;
    let rows = G * LANES;
    let label: &[u32] = &labels[r0..r0 + rows];
    let (mut s, mut sn, mut low) = ([[0.0f64; LANES]; G], [[0.0f64; LANES]; G], [[1.0f64; LANES]; G]);
    for c in 0..k {
        let at = c * nb + r0..c * nb + r0 + rows;
        let (o, bce) = (&om[at.clone()], &b[at]);
        let (an, ap) = (alpha_neg[c], alpha_pos[c]);
        for q in 0..G {
            for j in 0..LANES {
                let i = q * LANES + j;
                let positive = label[i] == c as u32;
                let (w, ng) = if positive { (ap, 0.0) } else { (an, 1.0) };
                let f: f64 = factor(o[i], 0.0);
                let t = w * f * bce[i];
                s[q][j] += t;
                sn[q][j] += t * ng;
                low[q][j] = if f < low[q][j] { f } else { low[q][j] };
            }
        }
    }
    for q in 0..G {
        let at = r0 + q * LANES..r0 + (q + 1) * LANES;
        fl[at.clone()].copy_from_slice(&s[q]);
        fl_neg[at].copy_from_slice(&sn[q]);
    }
    low.iter().flatten().fold(f64::INFINITY, |l, &f| if f < l { f } else { l })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::Portable;
    use crate::test_rng::uniform;

    /// The fused rows are `weights_and_mask`, `focal_terms`, then
    /// `row_sums` (the loss) and `class_order` (the negatives' terms), bit
    /// for bit, for every γ they take (and they refuse the others): K = 10,
    /// labels anywhere, the last rows filler, one α per class a side.
    #[test]
    fn fused_losses_are_the_sweeps_bits() {
        let (k, nb, real) = (10, BLOCK, BLOCK - 13);
        let om = uniform(k * nb, 1e-3, 1.0, 41);
        let l: Vec<f64> = om.iter().map(|o: &f64| -o.ln()).collect();
        let b = uniform(k * nb, 1e-2, 9.0, 42);
        let (alpha_neg, alpha_pos) = (uniform(k, 0.0, 1.0, 43), uniform(k, 0.0, 1.0, 44));
        let labels: Vec<u32> = uniform(real, 0.0, k as f64, 45).iter().map(|&x| x as u32).collect();
        let mut label = vec![NONE; nb];
        label[..real].copy_from_slice(&labels);
        let (mut w, mut neg) = (vec![0.0; k * nb], vec![0.0; k * nb]);
        let alpha = (&alpha_neg[..], &alpha_pos[..]);
        weights_and_mask(&mut w, &mut neg, alpha, labels.iter().map(|&t| t as usize), (k, nb, true));
        let (mut x, mut m, mut sq) = (vec![0.0; k * nb], vec![0.0; k * nb], vec![0.0; k * nb]);
        let (mut want, mut want_neg, mut got, mut got_neg) =
            (vec![0.0; nb], vec![0.0; nb], vec![0.0; nb], vec![0.0; nb]);
        for h in 0..=14u32 {
            let gamma = f64::from(h) / 2.0;
            let power = Power::of(gamma);
            focal_terms::<Portable>([&mut x, &mut m, &mut sq], [&om, &l, &w, &b], power, gamma, false);
            row_sums(&mut want, &x, k, true, &mut [], &mut []);
            let masked: Vec<f64> = x.iter().zip(&neg).map(|(&v, &f)| v * f).collect();
            class_order(&mut want_neg, &masked, k, true);
            let ok = fusable(power) && gamma_rows([&mut got, &mut got_neg], [&om, &b], &label, alpha, power);
            assert_eq!(ok, h <= 12, "γ = {gamma}");
            if h <= 12 {
                assert_eq!(got, want, "γ = {gamma}");
                assert_eq!(got_neg, want_neg, "γ = {gamma}");
            }
        }
        // A factor below the normal range: the log-space fallback's case.
        let mut tiny = om.clone();
        tiny[7] = 1e-200;
        assert!(!gamma_rows([&mut got, &mut got_neg], [&tiny, &b], &label, alpha, Power::of(2.0)));
    }
}
