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
//! over the negatives as the row's loss is summed
//! ([`super::sigmoid_gamma`]: ≤ K ε for K ≤ 16, about 8 ε above; told apart
//! by exact 0/1 factors: no difference of sums is formed), each all and
//! easy. Each share is within 1e-12 relative.

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
    /// sums of [`super::sigmoid_gamma::gamma_terms`].
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

/// `|dFL/dz| = w · m · (1 − p) + γ · p · FL` (module docs), at most
/// `f64::MAX`.
#[inline(always)]
pub(super) fn magnitude(w: f64, m: f64, om: f64, p: f64, fl: f64, gamma: f64) -> f64 {
    at_most_max(w * m * om + gamma * p * fl)
}

/// `x.min(f64::MAX)` (a NaN too becomes `f64::MAX`), as one vector
/// minimum.
#[inline(always)]
pub(super) fn at_most_max(x: f64) -> f64 {
    if x < f64::MAX { x } else { f64::MAX }
}
