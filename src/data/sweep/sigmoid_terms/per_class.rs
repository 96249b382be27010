//! A per-class α's row losses from the kept logit values, lean: the one
//! thing of a per-class α that is not linear in the weights.
//!
//! With one α per class a row's loss `FL = α_t · P + Σ_{c≠t} (1 − α_c) · n_c`
//! does not factor into the kept `P` and `N`; what needs each row's loss
//! (the loss histograms behind `top_share_90` and the loss CDF, the easy
//! rows' and each class's share, `saturated`) takes it from the kept values
//! by the sweep's own operations: per logit its weight, [`focal_terms`]
//! (the factor by `weigh`'s same operations, the log-space fallback
//! included) and each row's sum in class order ([`row_sums`]) — the bits of
//! the sweep of the logits, with nothing else per logit (no gradient, no
//! split: those are linear, [`super::unit::ClassTotals`]). No memory beyond
//! the accumulator's batch buffers.

use crate::data::sweep::columns::row_sums;
use crate::data::sweep::limits::{abnormal, saturate};
use crate::data::sweep::sigmoid::focal_terms;
use crate::data::sweep::sigmoid_examples::Block;
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
        // The weights as the sweep sets them.
        if columns {
            for (wc, &a) in w.chunks_exact_mut(nb).zip(&acc.alpha_neg) {
                wc.fill(a);
            }
        } else {
            for wr in w.chunks_exact_mut(k) {
                wr.copy_from_slice(&acc.alpha_neg);
            }
        }
        for (i, &t) in labels[r0..r0 + real].iter().enumerate() {
            let t = t as usize;
            w[if columns { t * nb + i } else { i * k + t }] = acc.alpha_pos[t];
        }
        let inputs_bad = abnormal(b) | abnormal(om);
        for (gi, (&gamma, &power)) in acc.gammas.iter().zip(&acc.powers).enumerate() {
            focal_terms::<I>([&mut *x, &mut *m, &mut *sq], [om, l, w, b], power, gamma, inputs_bad);
            let fl = &mut st.fl[gi * BLOCK + r0..gi * BLOCK + r0 + nb];
            row_sums(fl, x, k, columns, &mut sc.lanes, &mut sc.carry);
            saturate(&mut fl[..real], &mut st.saturated[r0..r0 + real]);
        }
    }
}
