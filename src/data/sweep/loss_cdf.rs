//! The paper's Figure 4 on the user's data: the cumulative distribution of
//! the normalised loss — rows sorted by loss, the fraction of the total
//! loss that the lowest-loss fraction of the rows carries — from the loss
//! histograms, with the error bounded.
//!
//! # Points and bound
//! At row fractions `i / 100`, i = 0..=100, the curve is `S_k / S_N`: the
//! sum of the `k = ⌊i · N / 100⌋` smallest losses over the sum of all N.
//! Walking the bins upwards, the bins below the k-th loss contribute their
//! exact sums; of the bin holding it, with `c` losses summing to `s` in
//! `[lo, hi)` (the bin's edges), the `j` smallest contribute between
//!
//! ```text
//! max(j · lo, s − (c − j) · hi)   and   j · s / c
//! ```
//!
//! (the j smallest of c values average at most their mean; each of the
//! others is below hi). `loss` is the upper envelope (equal losses within
//! the bin), `loss_lower` the lower one; the exact curve lies between them
//! (to the rounding of a few additions, ≤ 1e-14) and `max_gap` is their
//! largest difference. A bin of normal losses spans a factor 17/16, so the
//! gap at a point is at most 1/16 of the loss in one bin over the total.
//!
//! # Positives and negatives (sigmoid)
//! The paper draws Figure 4 separately for positive and negative samples.
//! Here a row is a window: its **positive sample** is the focal loss of its
//! positive logits (class indices: the label's logit; per-class targets:
//! the logits whose target is ≥ ½, summed in class order — the rule the
//! gradient's split uses; a background row has none), its **negative
//! sample** the sum of its negative logits' focal losses in class order (a
//! background row's whole loss; none for a row of one class, or whose every
//! target is ≥ ½). Each weighted as in the row's loss (α, 1 − α), each side
//! a curve of its own over the rows that have it, normalised by its own
//! total: `loss_cdf_positives`, `loss_cdf_negatives`. Both come from a
//! loss histogram per side and γ with the same exact counts and significand
//! sums, so the same bound holds, with N the side's samples. The negatives'
//! sum is formed by masking (exact 0/1 factors), never as FL − P.

use super::histogram::{HIST_SHIFT, LossHistogram};
use super::sums::Neumaier;
use crate::simd::math::pow2;
use serde::Serialize;

/// Row fractions of the curve: `i / (CDF_POINTS − 1)`.
pub const CDF_POINTS: usize = 101;

/// One γ's curve at [`CDF_POINTS`] row fractions (module docs).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LossCdf {
    /// The share of the total loss carried by the lowest-loss fraction
    /// `i / 100` of the rows (upper envelope).
    pub loss: Vec<f64>,
    /// The lower envelope: the exact curve lies between the two.
    pub loss_lower: Vec<f64>,
    /// The largest `loss − loss_lower`.
    pub max_gap: f64,
}

impl LossHistogram<'_> {
    /// The curve of the module docs over `rows` values (all zeros for no
    /// rows or a total of 0).
    pub(super) fn cdf(&self, rows: u64) -> LossCdf {
        let zeros = || vec![0.0; CDF_POINTS];
        if rows == 0 || self.lo > self.hi {
            return LossCdf { loss: zeros(), loss_lower: zeros(), max_gap: 0.0 };
        }
        // Values relative to the top bin's exponent (as `top_share`): a
        // bin's values are significand · 2^(max(e, 1) − 1075).
        let exponent = |b: usize| ((b >> 4) as i32).max(1);
        let top = exponent(self.hi);
        let scale = |b: usize| pow2(exponent(b) - top);
        let value = |b: usize| self.significands(b) as f64 * scale(b);
        // The bin's lowest significand, and the next bin's.
        let edge = |b: usize| ((b as u64 & 15) << HIST_SHIFT | if b >= 16 { 1 << 52 } else { 0 }) as f64;
        let edges = |b: usize| (edge(b) * scale(b), (edge(b) + (1u64 << HIST_SHIFT) as f64) * scale(b));
        let mut total = Neumaier::default();
        for b in self.lo..=self.hi {
            total.add(value(b));
        }
        let total = total.value();
        if total <= 0.0 {
            return LossCdf { loss: zeros(), loss_lower: zeros(), max_gap: 0.0 };
        }
        let (mut loss, mut loss_lower) = (Vec::with_capacity(CDF_POINTS), Vec::with_capacity(CDF_POINTS));
        let (mut b, mut below, mut below_sum) = (self.lo, 0u64, Neumaier::default());
        for i in 0..CDF_POINTS {
            let k = (i as u128 * u128::from(rows) / (CDF_POINTS as u128 - 1)) as u64;
            while b < self.hi && below + self.count(b) < k {
                below += self.count(b);
                below_sum.add(value(b));
                b += 1;
            }
            let j = k - below;
            let before = below_sum.value();
            let (hi, lo) = if j == 0 {
                (before, before)
            } else {
                let (c, s) = (self.count(b) as f64, value(b));
                let (lo_edge, hi_edge) = edges(b);
                let j = j as f64;
                let up = j * (s / c);
                (before + up, before + (j * lo_edge).max(s - (c - j) * hi_edge).min(up))
            };
            loss.push((hi / total).clamp(0.0, 1.0));
            loss_lower.push((lo / total).clamp(0.0, 1.0));
        }
        let max_gap = loss.iter().zip(&loss_lower).map(|(a, b)| a - b).fold(0.0, f64::max);
        LossCdf { loss, loss_lower, max_gap }
    }
}
