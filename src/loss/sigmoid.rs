//! Sigmoid focal loss (RetinaNet; torchvision `sigmoid_focal_loss` with
//! `reduction = "sum"`): every class is its own binary problem.

use super::sum::{compensated, finish, weighted_product};
use super::target::headline;
use super::{Alpha, CHUNK, Focal, Mode, PARALLEL_FROM, argmax};
use rayon::prelude::*;

/// Sigmoid focal loss of `logits`, with class `target` the positive and every
/// other class a negative.
///
/// # Method
/// For class `i` let `y = [i = t]`, `u = z_i` if positive and `−z_i` if
/// negative, so that the class's own `p_t = σ(u)`. Then
///
/// ```text
/// BCE_i   = −ln σ(u)      = softplus(−u)
/// ln(1 − p_t)             = −softplus(u)
/// m_i     = exp(−γ · softplus(u))                   (1 for γ = 0)
/// w_i     = α_i if positive, 1 − α_i if negative
/// FL_i    = w_i · m_i · BCE_i
/// dFL_i/dz_i = ∓ w_i · m_i · [(1 − p_t) + γ · p_t · BCE_i]   (− for the positive)
/// ```
///
/// `softplus(x) = max(x, 0) + ln_1p(e^-|x|)` never overflows and keeps `e^x`
/// for very negative `x`, so each term is accurate to a few ulp; the totals `FL = Σ FL_i` and
/// `CE = Σ BCE_i` are compensated sums of non-negative terms.
///
/// The scalar fields of the result describe the target class's own term
/// (`p_t = σ(z_t)`, `α_t = α_t`), while `cross_entropy` and `focal_loss` are
/// the sums over all classes. α outside [0, 1] would make `1 − α` negative;
/// the parser rejects it in this mode.
///
/// # Panics
/// If `logits` is empty, `target ≥ K`, or a per-class α has fewer than K values.
pub fn sigmoid_focal(logits: &[f64], target: usize, gamma: f64, alpha: &Alpha) -> Focal {
    let k = logits.len();
    assert!(target < k, "target {target} out of range for {k} classes");
    let term = |(i, &z): (usize, &f64)| {
        let positive = i == target;
        let weight = if positive { alpha.of(i) } else { 1.0 - alpha.of(i) };
        Term::new(z, positive, gamma, weight)
    };
    // Classes are independent: from PARALLEL_FROM on, both cores share them.
    let terms: Vec<Term> = if k < PARALLEL_FROM {
        logits.iter().enumerate().map(term).collect()
    } else {
        logits.par_iter().enumerate().with_min_len(CHUNK).map(term).collect()
    };
    assemble(logits, &terms, target, Vec::new())
}

/// Sigmoid focal loss of `logits` against one label per class, given as
/// `(y_i, 1 − y_i)` with `y_i ∈ [0, 1]` (see [`super::Target::labels`]),
/// weighted `α_t = α_i·y_i + (1 − α_i)·(1 − y_i)`, or 1 with `alpha = None`
/// (torchvision's `alpha = -1`). This is torchvision's `sigmoid_focal_loss`
/// with float targets, and Keras' `BinaryFocalCrossentropy` with
/// `apply_class_balancing`, summed over the classes.
///
/// # Method
/// A label of exactly 0 or 1 is the class-index term of [`sigmoid_focal`].
/// For a soft label, with `σ = σ(z)` and `σ̄ = 1 − σ = σ(−z)` both formed
/// directly,
///
/// ```text
/// BCE     = y·softplus(−z) + (1 − y)·softplus(z)
/// 1 − p_t = y·σ̄ + (1 − y)·σ
/// ln(1 − p_t) = logaddexp(ln y − softplus(z), ln(1 − y) − softplus(−z))
/// dFL/dz  = α_t·m·[γ·r·BCE + σ·(1 − y) − y·σ̄],   r = (1 − 2y)·σ·σ̄/(1 − p_t), |r| ≤ 1
/// dCE/dz  = σ·(1 − y) − y·σ̄                        (= σ − y)
/// ```
///
/// Every piece is a sum of non-negative terms except the final difference
/// of the gradient's brackets: where `σ ≈ y` that cancellation is inherent,
/// and the result is within a few ulp of the sum of the terms' magnitudes
/// (the reference tests require 1e-13 of it), not of its own size.
///
/// The scalar fields describe the class with the largest label (ties: the
/// one with the largest term; see [`Focal`]).
///
/// # Panics
/// If `logits` is empty, `labels` has other than K pairs, or a per-class α
/// has fewer than K values.
pub fn sigmoid_focal_labels(logits: &[f64], labels: &[(f64, f64)], gamma: f64, alpha: Option<&Alpha>) -> Focal {
    let k = logits.len();
    assert_eq!(labels.len(), k, "{} labels for {k} classes", labels.len());
    let term = |(i, (&z, &(y, y_bar))): (usize, (&f64, &(f64, f64)))| {
        let a = alpha.map(|a| a.of(i));
        match (y, a) {
            (1.0, a) => Term::new(z, true, gamma, a.unwrap_or(1.0)),
            (0.0, a) => Term::new(z, false, gamma, a.map_or(1.0, |a| 1.0 - a)),
            (_, a) => Term::soft(z, y, y_bar, gamma, a.map_or(1.0, |a| a * y + (1.0 - a) * y_bar)),
        }
    };
    let terms: Vec<Term> = if k < PARALLEL_FROM {
        logits.iter().zip(labels).enumerate().map(term).collect()
    } else {
        logits.par_iter().zip(labels).enumerate().with_min_len(CHUNK).map(term).collect()
    };
    let targets: Vec<f64> = labels.iter().map(|l| l.0).collect();
    let losses: Vec<f64> = terms.iter().map(|t| t.loss).collect();
    let h = headline(&targets, &losses);
    assemble(logits, &terms, h, targets)
}

/// The result from each class's term; the scalar fields from class `h`'s.
fn assemble(logits: &[f64], terms: &[Term], h: usize, targets: Vec<f64>) -> Focal {
    let mut saturated = false;
    let t = &terms[h];
    let (alpha_t, one_minus_p_t, modulating_factor, target_ce) = (t.weight, t.one_minus, t.m, t.bce);
    let per_class_loss: Vec<f64> = terms.iter().map(|t| t.loss).collect();
    let bce: Vec<f64> = terms.iter().map(|t| t.bce).collect();
    let focal_loss = finish(compensated(&[&per_class_loss]), &mut saturated);
    let cross_entropy = finish(compensated(&[&bce]), &mut saturated);
    // weight ≤ 1 and the bracket ≤ 1 + γ/e: no term or gradient overflows.
    Focal {
        mode: Mode::Sigmoid,
        target: h,
        predicted: argmax(logits),
        alpha_t,
        p_t: t.p,
        probabilities: terms.iter().map(|t| t.sigma).collect(),
        one_minus_p_t,
        modulating_factor,
        cross_entropy,
        focal_loss,
        target_ce,
        gradient: terms.iter().map(|t| t.gradient).collect(),
        grad_ce: terms.iter().map(|t| t.grad_ce).collect(),
        per_class_loss,
        targets,
        saturated,
    }
}

/// One class's binary problem.
struct Term {
    /// σ(z).
    sigma: f64,
    /// The class's own p_t.
    p: f64,
    /// The class's own 1 − p_t, modulating factor and weight.
    one_minus: f64,
    m: f64,
    weight: f64,
    bce: f64,
    loss: f64,
    gradient: f64,
    grad_ce: f64,
}

impl Term {
    /// A hard label: `positive` (y = 1) or not (y = 0), weighted `weight`.
    fn new(z: f64, positive: bool, gamma: f64, weight: f64) -> Self {
        let (u, sign) = if positive { (z, -1.0) } else { (-z, 1.0) };
        // One exp and one ln_1p serve σ(±u) and softplus(±u):
        // softplus(x) = max(x, 0) + ln_1p(e^-|x|).
        let e = (-u.abs()).exp();
        let l = e.ln_1p();
        let (p, one_minus) = if u >= 0.0 { (1.0 / (1.0 + e), e / (1.0 + e)) } else { (e / (1.0 + e), 1.0 / (1.0 + e)) };
        let bce = (-u).max(0.0) + l; // softplus(−u)
        let ln_m = if gamma == 0.0 { 0.0 } else { -gamma * (u.max(0.0) + l) };
        let m = ln_m.exp();
        let p_b = if p == 0.0 { 0.0 } else { p * bce };
        // BCE = ln_1p(e^-u) ≈ e^-u once it leaves the normal range.
        let ln_b = || if bce >= f64::MIN_POSITIVE { bce.ln() } else { -u };
        Term {
            sigma: if positive { p } else { one_minus },
            p,
            one_minus,
            m,
            weight,
            bce,
            loss: weighted_product(weight, m, ln_m, bce, ln_b) + 0.0,
            gradient: sign * weight * m * (one_minus + gamma * p_b) + 0.0,
            grad_ce: sign * one_minus + 0.0,
        }
    }

    /// A soft label `y ∈ (0, 1)` with `y_bar = 1 − y`, weighted `weight`
    /// (see [`sigmoid_focal_labels`]).
    fn soft(z: f64, y: f64, y_bar: f64, gamma: f64, weight: f64) -> Self {
        let e = (-z.abs()).exp();
        let l = e.ln_1p();
        let (sigma, sigma_bar) =
            if z >= 0.0 { (1.0 / (1.0 + e), e / (1.0 + e)) } else { (e / (1.0 + e), 1.0 / (1.0 + e)) };
        // softplus(z) = −ln σ̄ and softplus(−z) = −ln σ.
        let (sp, sp_neg) = (z.max(0.0) + l, (-z).max(0.0) + l);
        let bce = y * sp_neg + y_bar * sp;
        let p = y * sigma + y_bar * sigma_bar;
        let one_minus = y * sigma_bar + y_bar * sigma;
        let ln_m = if gamma == 0.0 { 0.0 } else { gamma * log_add_exp(y.ln() - sp, y_bar.ln() - sp_neg) };
        let m = ln_m.exp();
        // ln softplus(x) = x where softplus(x) = ln_1p(e^x) ≈ e^x leaves the normal range.
        let ln_sp = |x: f64, sp: f64| if sp >= f64::MIN_POSITIVE { sp.ln() } else { x };
        let ln_b = || log_add_exp(y.ln() + ln_sp(-z, sp_neg), y_bar.ln() + ln_sp(z, sp));
        let r = if one_minus >= f64::MIN_POSITIVE { (y_bar - y) * sigma * sigma_bar / one_minus } else { 0.0 };
        let pulled = gamma * r * bce;
        let (up, down) = (sigma * y_bar + pulled.max(0.0), y * sigma_bar + (-pulled).max(0.0));
        Term {
            sigma,
            p,
            one_minus,
            m,
            weight,
            bce,
            loss: weighted_product(weight, m, ln_m, bce, ln_b) + 0.0,
            gradient: weight * m * (up - down) + 0.0,
            grad_ce: sigma * y_bar - y * sigma_bar + 0.0,
        }
    }
}

/// `ln(e^a + e^b)`, exact where either is −∞.
fn log_add_exp(a: f64, b: f64) -> f64 {
    let top = a.max(b);
    if top == f64::NEG_INFINITY { top } else { top + (-(a - b).abs()).exp().ln_1p() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negatives_get_one_minus_alpha() {
        // One positive at z = 0 and one negative at z = 0, γ = 0:
        // BCE = ln 2 each, FL = 0.25·ln 2 + 0.75·ln 2 = ln 2.
        let r = sigmoid_focal(&[0.0, 0.0], 1, 0.0, &Alpha::Scalar(0.25));
        assert!((r.focal_loss - std::f64::consts::LN_2).abs() < 1e-16);
        assert_eq!(r.alpha_t, 0.25);
        assert_eq!(r.per_class_loss[0], 0.75 * std::f64::consts::LN_2);
    }
}
