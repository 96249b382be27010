//! Sigmoid focal loss (RetinaNet; torchvision `sigmoid_focal_loss` with
//! `reduction = "sum"`): every class is its own binary problem.

use super::sum::{compensated, finish, weighted_product};
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
    let term = |(i, &z): (usize, &f64)| Term::new(z, i == target, gamma, alpha.of(i));
    // Classes are independent: from PARALLEL_FROM on, both cores share them.
    let terms: Vec<Term> = if k < PARALLEL_FROM {
        logits.iter().enumerate().map(term).collect()
    } else {
        logits.par_iter().enumerate().with_min_len(CHUNK).map(term).collect()
    };
    let mut saturated = false;
    let t = &terms[target];
    let (alpha_t, one_minus_p_t, modulating_factor, target_ce) = (t.weight, t.one_minus, t.m, t.bce);
    let per_class_loss: Vec<f64> = terms.iter().map(|t| t.loss).collect();
    let bce: Vec<f64> = terms.iter().map(|t| t.bce).collect();
    let focal_loss = finish(compensated(&[&per_class_loss]), &mut saturated);
    let cross_entropy = finish(compensated(&[&bce]), &mut saturated);
    // weight ≤ 1 and the bracket ≤ 1 + γ/e: no term or gradient overflows.
    Focal {
        mode: Mode::Sigmoid,
        target,
        predicted: argmax(logits),
        alpha_t,
        p_t: terms[target].sigma,
        probabilities: terms.iter().map(|t| t.sigma).collect(),
        one_minus_p_t,
        modulating_factor,
        cross_entropy,
        focal_loss,
        target_ce,
        gradient: terms.iter().map(|t| t.gradient).collect(),
        grad_ce: terms.iter().map(|t| t.grad_ce).collect(),
        per_class_loss,
        saturated,
    }
}

/// One class's binary problem.
struct Term {
    /// σ(z).
    sigma: f64,
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
    fn new(z: f64, positive: bool, gamma: f64, alpha: f64) -> Self {
        let (u, sign, weight) = if positive { (z, -1.0, alpha) } else { (-z, 1.0, 1.0 - alpha) };
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
            one_minus,
            m,
            weight,
            bce,
            loss: weighted_product(weight, m, ln_m, bce, ln_b) + 0.0,
            gradient: sign * weight * m * (one_minus + gamma * p_b) + 0.0,
            grad_ce: sign * one_minus + 0.0,
        }
    }
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
