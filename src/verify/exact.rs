//! The exact values a dump is held against, row by row, from the exact core
//! (`loss::Params::compute`, α placed as the profile places it), and the
//! scale each gradient component's error is measured against.
//!
//! # The gradient's condition
//! A gradient component is, in essence, a factor times `p − y`: for softmax
//! with target t, `dFL/dz_j = w·(δ_tj − p_j)` where
//! `w = α_t·(γ·p_t·(1 − p_t)^(γ−1)·ln p_t − (1 − p_t)^γ)`; for sigmoid,
//! `dFL/dz_j = α_j·(1 − p_tj)^γ·(σ_j − y_j) + (a term of the same sign)`.
//! Any implementation that forms `p − y` in floating point (autograd
//! through `log_softmax` or `sigmoid` does) rounds it to the size of its
//! terms, `p` and `y`, not of the difference, which vanishes as `p_t → 1`.
//! So the error of component j is measured against the sum of its terms'
//! magnitudes: `|g_j| + |w|·(δ_tj + p_j)` (softmax), `|g_j| +
//! α_j·(1 − p_tj)^γ·(σ_j + y_j)` (sigmoid) — how the crate states its own
//! gradient accuracy for targets whose difference may cancel.

use rayon::prelude::*;

use crate::loss::profile::Profile;
use crate::loss::{Alpha, Focal, Mode, Params, Target};

/// What every row is computed with.
pub(super) struct Setup {
    pub(super) profile: &'static Profile,
    pub(super) gamma: f64,
    /// α as the profile places it (`None`: no weighting).
    pub(super) alpha: Option<Alpha>,
    /// Whether the per-class terms and the gradient are needed.
    pub(super) terms: bool,
    pub(super) gradient: bool,
    /// The inputs are probabilities (`--probs`): losses only.
    pub(super) probs: bool,
}

/// One row's exact values.
pub(super) struct Exact {
    /// The library's loss of the row (its class reduction applied).
    pub(super) loss: f64,
    /// The sum over the classes, what a batch reduction divides.
    pub(super) class_sum: f64,
    /// Each class's term (empty unless asked for).
    pub(super) terms: Vec<f64>,
    /// dΣterms/dz (empty unless asked for) and each component's scale.
    pub(super) gradient: Vec<f64>,
    pub(super) scale: Vec<f64>,
}

/// What a batch of rows is labelled with, as the reader hands it out.
#[derive(Clone, Copy)]
pub(super) enum Labels<'a> {
    /// One class index a row.
    Classes(&'a [usize]),
    /// K targets a row (a one-hot, background, multi-label or soft row, or a
    /// distribution).
    Targets(&'a [f64]),
}

impl Labels<'_> {
    /// Row `i`'s class index (0 for targets), and its targets (empty for a class index).
    pub(super) fn row(&self, i: usize, k: usize) -> (usize, &[f64]) {
        match self {
            Labels::Classes(y) => (y[i], &[]),
            Labels::Targets(y) => (0, &y[i * k..(i + 1) * k]),
        }
    }
}

/// The exact values of every row of `logits` (K a row; probabilities with
/// `probs`) with `labels`, on every core.
pub(super) fn rows(setup: &Setup, k: usize, logits: &[f64], labels: Labels) -> Vec<Exact> {
    logits
        .par_chunks(k)
        .enumerate()
        .map(|(i, z)| {
            let target = match labels.row(i, k) {
                (t, []) => Target::Class(t),
                (_, y) => Target::Probs(y.to_vec()),
            };
            match setup.probs {
                true => super::probs::row(setup, z, &target),
                false => row(setup, z, target),
            }
        })
        .collect()
}

fn row(setup: &Setup, z: &[f64], target: Target) -> Exact {
    let p = Params {
        logits: z.to_vec(),
        target,
        label_smoothing: 0.0,
        gamma: setup.gamma,
        alpha: setup.alpha.clone(),
        mode: setup.profile.mode,
    };
    let r = p.compute();
    let k = z.len();
    let terms = if setup.terms { (0..k).map(|i| r.term(i)).collect() } else { Vec::new() };
    let scale = if setup.gradient { scales(setup, &r) } else { Vec::new() };
    Exact {
        loss: setup.profile.loss(&r),
        class_sum: r.focal_loss,
        terms,
        gradient: if setup.gradient { r.gradient.clone() } else { Vec::new() },
        scale,
    }
}

/// The sum of the magnitudes of each gradient component's terms (see the
/// module's doc). A scale needs its size, not its last digits: where a
/// target is not one class, each class's weight and factor are formed
/// from the probabilities directly.
fn scales(setup: &Setup, r: &Focal) -> Vec<f64> {
    let t = r.target;
    let g = &r.gradient;
    let alpha = |j: usize| setup.alpha.as_ref().map_or(1.0, |a| a.of(j));
    match r.mode {
        Mode::Softmax if r.is_class_index() => {
            // g_t = w·(1 − p_t), both exact; w = 0 where 1 − p_t underflowed (g_t is then 0).
            let w = if r.one_minus_p_t > 0.0 { (g[t] / r.one_minus_p_t).abs() } else { 0.0 };
            let w = if w.is_finite() { w } else { f64::MAX };
            (0..g.len()).map(|j| g[j].abs() + w * (f64::from(u8::from(j == t)) + r.probabilities[j])).collect()
        }
        Mode::Softmax => {
            // g_k = p_k·S − w_k·h_k with S = Σ w_i·h_i (distribution.rs).
            let gamma = setup.gamma;
            let wh: Vec<f64> = (0..g.len())
                .map(|i| {
                    let (p, q) = (r.probabilities[i], r.target_of(i));
                    if q == 0.0 {
                        return 0.0;
                    }
                    let om = 1.0 - p;
                    // p·(−ln p)/(1 − p) → 1 as p → 1.
                    let pulled = if om > 0.0 { p * -p.ln() / om } else { 1.0 };
                    (alpha(i) * q * om.powf(gamma) * (1.0 + gamma * pulled)).min(f64::MAX)
                })
                .collect();
            let s = wh.iter().sum::<f64>().min(f64::MAX);
            (0..g.len()).map(|k| g[k].abs() + r.probabilities[k] * s + wh[k]).collect()
        }
        Mode::Sigmoid => (0..g.len())
            .map(|j| {
                let s = r.probabilities[j];
                let y = r.target_of(j);
                let positive = r.is_class_index() && j == t;
                let a = match setup.alpha {
                    Some(_) => alpha(j) * y + (1.0 - alpha(j)) * (1.0 - y),
                    None => 1.0,
                };
                // 1 − p_t is σ(−z) for a class-index positive (kept exact by the core), σ(z) for a negative.
                let m = match (positive, y) {
                    (true, _) => r.modulating_factor,
                    (false, 0.0) => s.powf(setup.gamma),
                    (false, y) => (y * (1.0 - s) + (1.0 - y) * s).powf(setup.gamma),
                };
                g[j].abs() + a.abs() * m * (s + y)
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::profile::{PAPER, find};

    /// A float32 `p − y` on a confident row is far off relative to the
    /// difference, yet within a few ε32 of its terms' magnitudes: what the
    /// scale must absorb, in both modes.
    #[test]
    fn naive_float32_p_minus_y_is_within_eps_of_the_scale() {
        let z = [14.0, -1.0, 0.5];
        for mode in [Mode::Softmax, Mode::Sigmoid] {
            let setup = Setup {
                profile: find(PAPER, mode).unwrap().0,
                gamma: 0.0,
                alpha: None,
                terms: false,
                gradient: true,
                probs: false,
            };
            let e = &rows(&setup, 3, &z, Labels::Classes(&[0]))[0];
            let z32: Vec<f32> = z.iter().map(|&v| v as f32).collect();
            let p32: Vec<f32> = match mode {
                Mode::Softmax => {
                    let total: f32 = z32.iter().map(|v| v.exp()).sum();
                    z32.iter().map(|v| v.exp() / total).collect()
                }
                Mode::Sigmoid => z32.iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect(),
            };
            let naive: Vec<f64> = p32.iter().enumerate().map(|(j, &p)| f64::from(p - f32::from(j == 0))).collect();
            let relative = ((naive[0] - e.gradient[0]) / e.gradient[0]).abs();
            assert!(relative > 1e-4, "{mode:?}: the naive difference lost digits ({relative})");
            for (j, (&n, (&g, &scale))) in naive.iter().zip(e.gradient.iter().zip(&e.scale)).enumerate() {
                let of_scale = (n - g).abs() / scale;
                assert!(of_scale < 4.0 * f64::from(f32::EPSILON), "{mode:?} class {j}: {of_scale}");
            }
        }
    }
}
