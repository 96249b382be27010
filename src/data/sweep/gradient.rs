//! The gradient's sums behind `easy_gradient_share` (issue 18): per γ, Σ of
//! |dFL/dz| over the target logits (softmax) or over every logit (sigmoid,
//! positives and negatives apart), and over the easy ones.
//!
//! # The magnitude
//! With `m = (1 − p)^γ`, `CE = −ln p` and `FL = α · m · CE`,
//! `dFL/dz = −α · m · [(1 − p) + γ · p · CE]` for the logit whose
//! probability is p (softmax: the target logit, p = p_t; sigmoid: each
//! logit, p = σ(u) of its own binary problem, `u = ±z`), so
//!
//! ```text
//! |dFL/dz| = α · m · (1 − p) + γ · p · FL
//! ```
//!
//! from the values the sweep keeps: `1 − p` as it is kept (never formed as
//! `1 − p`), p (softmax p_t; sigmoid σ(u) from the same reciprocal as
//! `1 − p`), m and FL as the sweep computed them (FL in log space where it
//! leaves the normal range). Both terms are non-negative, so each
//! magnitude is within a few ulp; terms above `f64::MAX` (only after FL
//! saturated) are clamped to it.
//!
//! # Easy
//! Softmax: the row's p_t ≥ ½, as the other easy shares. Sigmoid: the
//! logit's own `1 − p ≤ ½` (σ(u) ≥ ½), as the positives'/negatives' split
//! of [`super::Split`]. A positive is the label's logit, a negative every
//! other (per-class targets: a target ≥ ½).
//!
//! # Sums
//! Per row, staged and summed with the block's other per-row values
//! (`add_block`, ≤ 12 ε), so that any batching gives the same bits.
//! Softmax: the target's magnitude. Sigmoid: the positive's, and the sum
//! over the negatives in class order (≤ K ε; told apart by exact 0/1
//! factors: no difference of sums is formed), each all and easy. Each
//! share is within 1e-12 relative.

use super::sigmoid::unweighted;
use super::sums::{WideSum, add_block, add_block_all};

/// The sums of one γ: over the positives (softmax: the target logits) and
/// the negatives (sigmoid only), all of them and the easy ones.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct GradientSums {
    pub(super) pos: WideSum,
    pub(super) pos_easy: WideSum,
    pub(super) neg: WideSum,
    pub(super) neg_easy: WideSum,
}

/// What a γ's sums report: the easy share of the whole, and (sigmoid) of
/// the positives' and of the negatives'.
pub(super) struct Shares {
    pub(super) all: f64,
    pub(super) positives: f64,
    pub(super) negatives: f64,
}

impl GradientSums {
    pub(super) fn merge(&mut self, other: &GradientSums) {
        self.pos.merge(&other.pos);
        self.pos_easy.merge(&other.pos_easy);
        self.neg.merge(&other.neg);
        self.neg_easy.merge(&other.neg_easy);
    }

    pub(super) fn shares(&self) -> Shares {
        let (mut all, mut easy) = (self.pos, self.pos_easy);
        all.merge(&self.neg);
        easy.merge(&self.neg_easy);
        Shares {
            all: easy.share_of(&all),
            positives: self.pos_easy.share_of(&self.pos),
            negatives: self.neg_easy.share_of(&self.neg),
        }
    }

    /// Adds a block's per-row sums (`n` rows, `p` their p_t): softmax, the
    /// target's magnitude, easy by the row's p_t; sigmoid, each of the four
    /// sums of [`row_gradients`].
    #[inline(always)]
    pub(super) fn add_block(&mut self, sigmoid: bool, [pos, pos_easy, neg, neg_easy]: [&[f64]; 4], p: &[f64]) {
        if !sigmoid {
            add_block(&mut self.pos, &mut self.pos_easy, pos, p);
            return;
        }
        for (sum, x) in
            [(&mut self.pos, pos), (&mut self.pos_easy, pos_easy), (&mut self.neg, neg), (&mut self.neg_easy, neg_easy)]
        {
            add_block_all(sum, x);
        }
    }
}

/// A sigmoid batch's per-row gradient sums at one γ: of each row (`nb`
/// of them, class-major when `columns`, else row-major with K = `k`), the
/// positive's magnitude (`pos`, and in `pos_easy` where it is easy), and
/// the sum over its negatives (`neg`, `neg_easy`), in class order whatever
/// the layout (the same bits row-major and class-major, as the row's loss).
/// Inputs per logit: weights `w`, factors `m`, `1 − p` in `om`, `p`, focal
/// terms `x`, BCE `b`, and `negative` 1 for a negative, 0 for the
/// positive. `labels` are the batch's real rows (the rest of a class-major
/// block is filler). In the same pass over the positives, each row's
/// positive term with α = 1 ([`unweighted`], the balancing α's) goes to
/// `unit` (as many rows as it holds).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn row_gradients(
    gamma: f64,
    [w, m, om, p, x, b, negative]: [&[f64]; 7],
    labels: &[usize],
    (k, nb, columns): (usize, usize, bool),
    [pos, pos_easy, neg, neg_easy]: [&mut [f64]; 4],
    unit: &mut [f64],
) {
    neg.fill(0.0);
    neg_easy.fill(0.0);
    if columns {
        // Class by class across the rows, in vector lanes.
        for c in 0..k {
            let s = c * nb..(c + 1) * nb;
            let ins = w[s.clone()].iter().zip(&m[s.clone()]).zip(&om[s.clone()]);
            let more = p[s.clone()].iter().zip(&x[s.clone()]).zip(&negative[s]);
            for ((n, e), (((&w, &m), &om), ((&p, &x), &ng))) in
                neg.iter_mut().zip(neg_easy.iter_mut()).zip(ins.zip(more))
            {
                let gn = magnitude(w, m, om, p, x, gamma) * ng;
                *n += gn;
                *e += if om <= 0.5 { gn } else { 0.0 };
            }
        }
    } else {
        for r in 0..nb {
            let s = r * k..(r + 1) * k;
            let (mut n, mut e) = (0.0, 0.0);
            let ins = w[s.clone()].iter().zip(&m[s.clone()]).zip(&om[s.clone()]);
            let more = p[s.clone()].iter().zip(&x[s.clone()]).zip(&negative[s]);
            for (((&w, &m), &om), ((&p, &x), &ng)) in ins.zip(more) {
                let gn = magnitude(w, m, om, p, x, gamma) * ng;
                n += gn;
                e += if om <= 0.5 { gn } else { 0.0 };
            }
            neg[r] = n;
            neg_easy[r] = e;
        }
    }
    for v in neg.iter_mut() {
        *v = v.min(f64::MAX);
    }
    for v in neg_easy.iter_mut() {
        *v = v.min(f64::MAX);
    }
    for (i, &t) in labels.iter().enumerate() {
        let j = if columns { t * nb + i } else { i * k + t };
        let (wj, mj, omj, xj) = (w[j], m[j], om[j], x[j]);
        let g = magnitude(wj, mj, omj, p[j], xj, gamma);
        pos[i] = g;
        pos_easy[i] = if omj <= 0.5 { g } else { 0.0 };
        if let Some(o) = unit.get_mut(i) {
            *o = unweighted(xj, wj, mj, b[j]);
        }
    }
}

/// `|dFL/dz| = w · m · (1 − p) + γ · p · FL` (module docs), at most
/// `f64::MAX`.
#[inline(always)]
pub(super) fn magnitude(w: f64, m: f64, om: f64, p: f64, fl: f64, gamma: f64) -> f64 {
    (w * m * om + gamma * p * fl).min(f64::MAX)
}
