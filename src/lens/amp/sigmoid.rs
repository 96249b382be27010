//! The sigmoid forms as each library's code runs under autocast (see
//! [`softmax`](super::softmax) for the conventions).

use super::Run;
use super::ops::{Dt, F32, log_sigmoid, log_sigmoid_backward};

/// torchvision's `sigmoid_focal_loss` (reduction `none`, summed over the
/// classes), the one-hot targets `y` in the low dtype as RetinaNet builds
/// them: `p = sigmoid(z)` in the low dtype; `ce =
/// binary_cross_entropy_with_logits(z, y)` in float32 (autocast casts both);
/// `p_t = p·y + (1 − p)·(1 − y)`, `(1 − p_t)^γ` in the low dtype;
/// `loss = α_t · (ce · (1 − p_t)^γ)` in float32 by type promotion, α_t =
/// `α·y + (1 − α)·(1 − y)` in the low dtype.
pub(super) fn torchvision(z: &[f32], t: usize, gamma: f64, alpha: Option<f64>, l: Dt) -> Run {
    let k = z.len();
    let y = |i: usize| if i == t { 1.0f32 } else { 0.0 };
    let mut out = Vec::with_capacity(k);
    let mut om = Vec::with_capacity(k);
    let mut grad = Vec::with_capacity(k);
    for (i, &x) in z.iter().enumerate() {
        let y = y(i);
        let p = l.sigmoid(x);
        let ce = (1.0 - y) * x - log_sigmoid(x);
        let w = l.sub(1.0, y);
        let q = l.sub(1.0, p);
        let pt = l.add(l.mul(p, y), l.mul(q, w));
        let o = l.sub(1.0, pt);
        let m = l.pow(o, gamma);
        let at = alpha.map(|a| l.add(l.mul_scalar(y, a), l.mul_scalar(w, 1.0 - a)));
        let l1 = ce * m;
        out.push(at.map_or(l1, |at| at * l1));
        om.push(o);

        // The seed is 1: `α_t · l1` passes α_t to l1.
        let g_l1 = at.unwrap_or(1.0);
        let g_ce = g_l1 * m;
        let g_pt = -l.pow_backward(l.r(g_l1 * ce), o, gamma);
        let g_p = l.add(l.mul(g_pt, y), -l.mul(g_pt, w));
        let g_sigmoid = l.sigmoid_backward(g_p, p);
        let g_ce_z = l.r((1.0 / (1.0 + (-x).exp()) - y) * g_ce);
        grad.push(l.add(g_sigmoid, g_ce_z));
    }
    let loss = F32.sum(&out);
    Run::new(loss, F32, grad, l, &om, None)
}

/// MONAI's `FocalLoss()` (sigmoid): the logits cast to float32 first, then
/// `loss = α_t · (exp(γ · logsigmoid(−z·(2y − 1))) · (z − z·y − logsigmoid(z)))`,
/// α_t = `y·α + (1 − y)·(1 − α)`, the mean over the classes; the gradient
/// cast back.
pub(super) fn monai(z: &[f32], t: usize, gamma: f64, alpha: Option<f64>, l: Dt) -> Run {
    let k = z.len();
    let g = 1.0 / k as f32;
    let gm = gamma as f32;
    let mut out = Vec::with_capacity(k);
    let mut grad = Vec::with_capacity(k);
    for (i, &x) in z.iter().enumerate() {
        let y = if i == t { 1.0f32 } else { 0.0 };
        let loss0 = (x - x * y) - log_sigmoid(x);
        let b3 = y * 2.0 - 1.0;
        let b4 = -x * b3;
        let inv = log_sigmoid(b4);
        let c2 = (inv * gm).exp();
        let af = alpha.map(|a| {
            let a = a as f32;
            y * a + (1.0 - y) * (1.0 - a)
        });
        let l1 = c2 * loss0;
        out.push(af.map_or(l1, |af| af * l1));

        // Autograd adds x's four gradients in the order their paths finish.
        let g_l1 = af.map_or(g, |af| g * af);
        let g_c2 = g_l1 * loss0;
        let g_loss0 = g_l1 * c2;
        let g_inv = (g_c2 * c2) * gm;
        let g_b4 = log_sigmoid_backward(g_inv, b4);
        let from_b = -(g_b4 * b3);
        let from_ls = log_sigmoid_backward(-g_loss0, x);
        let from_a1 = -g_loss0 * y;
        grad.push(l.r(((from_b + from_ls) + g_loss0) + from_a1));
    }
    let loss = F32.sum(&out) / k as f32;
    Run::new(loss, F32, grad, F32, &[], None)
}
