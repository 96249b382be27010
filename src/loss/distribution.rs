//! Softmax focal loss of a target distribution (Keras
//! `CategoricalFocalCrossentropy`): soft targets and label smoothing.

use super::softmax::{ClassLogs, Softmax, class_logs, p_ce_over_one_minus};
use super::sum::{compensated, finish, weighted_product};
use super::target::headline;
use super::{Alpha, Focal, Mode};

/// Softmax focal loss of `logits` against the target distribution `q`
/// (already smoothed), with class weights `α_i` (`None`: all 1).
///
/// ```text
/// FL = Σ_i term_i,   term_i = −α_i · q_i · (1 − p_i)^γ · ln p_i,   CE = −Σ_i q_i ln p_i
/// ```
///
/// A one-hot `q` gives the class-index loss of [`super::softmax_focal`].
///
/// # Method
/// Each class's `p_i`, `1 − p_i`, `ln(1 − p_i)` and `−ln p_i` come from the
/// logits as in [`super::softmax_focal`] (the other classes' mass for the
/// argmax, never `1 − p` near 1); classes with `q_i = 0` contribute nothing
/// and are not evaluated. The sums are compensated sums of non-negative
/// terms.
///
/// # Gradient
/// With `h_i = m_i · [1 + γ·p_i·CE_i/(1 − p_i)] ≥ 0` (the class-index
/// bracket, finite as p_i → 1 for any γ) and `w_i = α_i·q_i`,
///
/// ```text
/// dFL/dz_k = p_k · Σ_{i≠k} w_i h_i  −  w_k h_k · (1 − p_k)
/// dCE/dz_k = p_k · Σ_{i≠k} q_i      −  q_k · (1 − p_k)       (= p_k·Σq − q_k)
/// ```
///
/// Each is a difference of two non-negative terms: where they nearly cancel
/// (`p_k ≈ q_k`), the cancellation is inherent to the value, and the result
/// is within a few ulp of the **sum of the two terms' magnitudes** (1e-13
/// of it is what the reference tests require), not of its own size. The sum
/// over the others is taken without the class itself for the argmax (the
/// one class whose `1 − p` may be tiny), and as the total minus the class
/// otherwise, where `p_k ≤ ½` keeps that within the same bound.
///
/// # Panics
/// If `logits` is empty, `q` has other than K values, or a per-class α has
/// fewer than K values.
pub fn softmax_focal_dist(logits: &[f64], q: &[f64], gamma: f64, alpha: Option<&Alpha>) -> Focal {
    let k = logits.len();
    assert_eq!(q.len(), k, "{} targets for {k} classes", q.len());
    let mut probabilities = Vec::new();
    let sm = Softmax::new(logits, &mut probabilities, None);
    let j = sm.j;
    let weight = |i: usize| alpha.map_or(1.0, |a| a.of(i));
    let mut saturated = false;
    // The gradient's sums are taken in units of the largest weight when α
    // is near f64::MAX, so that they stay finite (∞ − ∞ would be NaN).
    let w_max = (0..k).map(|i| weight(i) * q[i]).fold(0.0, f64::max);
    let unit = if w_max > 1e300 { w_max } else { 1.0 };

    let (mut terms, mut ce_terms, mut wh, mut one_minus) = (vec![0.0; k], vec![0.0; k], vec![0.0; k], vec![0.0; k]);
    for i in (0..k).filter(|&i| q[i] > 0.0) {
        let c = class_logs(&sm, logits, &probabilities, i);
        let ln_m = if gamma == 0.0 { 0.0 } else { gamma * c.ln_one_minus };
        let m = ln_m.exp();
        let w = weight(i) * q[i];
        terms[i] = finish(weighted_product(w, m, ln_m, c.ce, || c.ln_ce), &mut saturated);
        let ce = finish(c.ce, &mut saturated);
        ce_terms[i] = q[i] * ce;
        let p_ce = if c.p == 0.0 { 0.0 } else { c.p * ce };
        wh[i] = w / unit * m * (1.0 + gamma * p_ce_over_one_minus(&sm, c.p, c.one_minus, p_ce));
        one_minus[i] = c.one_minus;
    }
    let focal_loss = finish(compensated(&[&terms]), &mut saturated);
    let cross_entropy = finish(compensated(&[&ce_terms]), &mut saturated);

    let g_others_j = compensated(&[&wh[..j], &wh[j + 1..]]);
    let g = g_others_j + wh[j];
    let q_others_j = compensated(&[&q[..j], &q[j + 1..]]);
    let q_sum = q_others_j + q[j];
    let difference = |p: f64, others: f64, own: f64, one_minus: f64| {
        let pulled = if p == 0.0 { 0.0 } else { p * others };
        pulled - own * one_minus + 0.0
    };
    let mut gradient = Vec::with_capacity(k);
    let mut grad_ce = Vec::with_capacity(k);
    for (i, &p) in probabilities.iter().enumerate() {
        let (g_others, q_others) = if i == j { (g_others_j, q_others_j) } else { (g - wh[i], q_sum - q[i]) };
        gradient.push(finish(difference(p, g_others, wh[i], one_minus[i]) * unit, &mut saturated));
        grad_ce.push(difference(p, q_others, q[i], one_minus[i]));
    }

    let h = headline(q, &terms);
    let c = class_logs(&sm, logits, &probabilities, h);
    let ln_m = if gamma == 0.0 { 0.0 } else { gamma * c.ln_one_minus };
    let ClassLogs { p, one_minus: one_minus_h, ce, .. } = c;
    Focal {
        mode: Mode::Softmax,
        target: h,
        predicted: j,
        alpha_t: weight(h),
        probabilities,
        p_t: p,
        one_minus_p_t: one_minus_h,
        modulating_factor: ln_m.exp(),
        cross_entropy,
        focal_loss,
        target_ce: finish(ce, &mut saturated),
        gradient,
        grad_ce,
        per_class_loss: terms,
        targets: q.to_vec(),
        saturated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// α near f64::MAX: the gradient's sums would be ∞ − ∞; they saturate instead.
    #[test]
    fn huge_alpha_saturates_not_nan() {
        let q = [1.0 / 30.0, 14.0 / 15.0, 1.0 / 30.0];
        let r = softmax_focal_dist(&[1.5, -0.8, 0.2], &q, 5.0, Some(&Alpha::Scalar(1.7e308)));
        assert!(r.gradient.iter().chain(&r.per_class_loss).all(|g| g.is_finite()), "{:?}", r.gradient);
        assert!(r.saturated);
        assert_eq!(r.gradient[1], -f64::MAX);
    }
}
