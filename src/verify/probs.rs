//! A row's exact values when the inputs are probabilities (`--probs`): an
//! implementation that takes `p` (a `binary_cross_entropy` on sigmoid
//! outputs, a focal loss on softmax outputs) is held against the loss of
//! those probabilities as given, not of logits they came from.
//!
//! # Per class
//! - **sigmoid**, target `y ∈ [0, 1]`, `ȳ = 1 − y`: `σ = p`, `σ̄ = 1 − p`
//!   (exact for p ≥ ½ by Sterbenz, correctly rounded below), `−ln σ`,
//!   `−ln σ̄ = −ln_1p(−p)`; `BCE = y·(−ln σ) + ȳ·(−ln σ̄)`,
//!   `1 − p_t = y·σ̄ + ȳ·σ`, weight `α·y + (1 − α)·ȳ` (1 with α off),
//!   `term = weight·(1 − p_t)^γ·BCE`. A target of exactly 0 or 1 keeps
//!   only its own side (so that a probability of 0 or 1 on the other side
//!   contributes 0, not 0·∞).
//! - **softmax**, target distribution q (one-hot for a class index):
//!   `term_c = α_c·q_c·(1 − p_c)^γ·(−ln p_c)`, with `1 − p_c` as above and
//!   `ln p_c` the log of the probability as given (no re-normalisation: a
//!   row summing to 1 within 1e-6 is taken as it is); `q_c = 0` gives 0.
//!
//! Every factor is within an ulp or two and the product and the sum of
//! non-negative terms add a few more: a few ε64 in all. The readers have
//! refused infinite terms (a positive target at probability 0, a sigmoid
//! negative at 1). No gradient: one of the logits would need the logits.

use super::exact::{Exact, Setup};
use crate::loss::sum::compensated;
use crate::loss::{Mode, Target};

/// Row `p`'s exact values against `target` (a class index, or K targets).
pub(super) fn row(setup: &Setup, p: &[f64], target: &Target) -> Exact {
    let k = p.len();
    let y = |c: usize| match target {
        Target::Probs(y) => y[c],
        _ => f64::from(u8::from(target.class() == Some(c))),
    };
    let alpha = |c: usize| setup.alpha.as_ref().map(|a| a.of(c));
    let gamma = setup.gamma;
    let terms: Vec<f64> = (0..k)
        .map(|c| {
            let (p, y) = (p[c], y(c));
            let term = match setup.profile.mode {
                Mode::Sigmoid => {
                    let (ce_pos, ce_neg) = (|| -p.ln(), || -(-p).ln_1p());
                    let (weight, om, ce) = match y {
                        1.0 => (alpha(c).unwrap_or(1.0), 1.0 - p, ce_pos()),
                        0.0 => (alpha(c).map_or(1.0, |a| 1.0 - a), p, ce_neg()),
                        y => {
                            let yb = 1.0 - y;
                            let weight = alpha(c).map_or(1.0, |a| a * y + (1.0 - a) * yb);
                            (weight, y * (1.0 - p) + yb * p, y * ce_pos() + yb * ce_neg())
                        }
                    };
                    weight * om.powf(gamma) * ce
                }
                Mode::Softmax if y == 0.0 => 0.0,
                Mode::Softmax => alpha(c).unwrap_or(1.0) * y * (1.0 - p).powf(gamma) * -p.ln(),
            };
            term + 0.0
        })
        .collect();
    let class_sum = compensated(&[&terms]);
    Exact {
        loss: class_sum / setup.profile.classes.divisor(k),
        class_sum,
        terms: if setup.terms { terms } else { Vec::new() },
        gradient: Vec::new(),
        scale: Vec::new(),
    }
}
