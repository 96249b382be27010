//! The sigmoid forms of the detection libraries as their code runs under
//! autocast (see [`softmax`](super::softmax) for the conventions): mmdet's
//! `py_sigmoid_focal_loss` and ultralytics' `FocalLoss`. Both take the
//! logits of one anchor with its one-hot labels in the low dtype and
//! differ from torchvision's code in where `1 − p_t` is formed and in what
//! dtype α meets the factor.

use super::Run;
use super::ops::{Dt, F32, log_sigmoid};

/// `binary_cross_entropy_with_logits(x, y)` in float32 (autocast casts both).
fn bce(x: f32, y: f32) -> f32 {
    (1.0 - y) * x - log_sigmoid(x)
}

/// Its gradient for `g`, in float32, cast back to the logits' dtype.
fn bce_backward(x: f32, y: f32, g: f32, l: Dt) -> f32 {
    l.r((1.0 / (1.0 + (-x).exp()) - y) * g)
}

/// mmdet 3.3.0 `FocalLoss(gamma, alpha)(z, labels)`, its CPU path
/// (`mmdet/models/losses/focal_loss.py`): the labels one-hot (int64, then
/// `type_as(pred)`: the low dtype), `σ = sigmoid(z)` and
/// `pt = (1 − σ)·y + σ·(1 − y)` — already `1 − p_t`, so a negative's is σ
/// itself, never `1 − (1 − σ)` — then `focal_weight = (α·y + (1 − α)·(1 − y))
/// · pt^γ`, all in the low dtype; `loss = bce · focal_weight` in float32
/// (promotion), and the default reduction, the mean over the K classes.
/// `alpha = None` (which mmdet cannot express) leaves the α factor out.
pub(super) fn mmdet(z: &[f32], t: usize, gamma: f64, alpha: Option<f64>, l: Dt) -> Run {
    let k = z.len();
    // `loss.mean()`'s backward: 1/K in float32 (the loss weight 1.0 changes nothing).
    let g = 1.0 / k as f32;
    let (mut out, mut om, mut grad) = (Vec::with_capacity(k), Vec::with_capacity(k), Vec::with_capacity(k));
    for (i, &x) in z.iter().enumerate() {
        let y = if i == t { 1.0f32 } else { 0.0 };
        let s = l.sigmoid(x);
        let w = l.sub(1.0, y);
        let pt = l.add(l.mul(l.sub(1.0, s), y), l.mul(s, w));
        let a = alpha.map(|a| l.add(l.mul_scalar(y, a), l.mul_scalar(w, 1.0 - a)));
        let p = l.pow(pt, gamma);
        let fw = a.map_or(p, |a| l.mul(a, p));
        let ce = bce(x, y);
        out.push(ce * fw);
        om.push(pt);

        let g_ce = g * fw;
        let g_fw = l.r(g * ce);
        let g_p = a.map_or(g_fw, |a| l.mul(g_fw, a));
        let g_pt = l.pow_backward(g_p, pt, gamma);
        // σ's two uses: σ·(1 − y), and (1 − σ)·y.
        let g_s = l.add(l.mul(g_pt, w), -l.mul(g_pt, y));
        grad.push(l.add(l.sigmoid_backward(g_s, s), bce_backward(x, y, g_ce, l)));
    }
    let loss = F32.sum(&out) / k as f32;
    Run::new(loss, F32, grad, l, &om, None)
}

/// ultralytics 8.4.190 `FocalLoss(gamma, alpha)(z, y)`
/// (`ultralytics/utils/loss.py`), `y` one-hot in the low dtype: `loss =
/// bce(z, y)` in float32; `p_t = y·σ + (1 − y)·(1 − σ)` and `(1.0 − p_t)^γ`
/// in the low dtype, multiplied into the float32 loss in place; α a tensor
/// cast to the logits' dtype (so α itself is rounded to it), `α_t = y·α +
/// (1 − y)·(1 − α)` in the low dtype, multiplied in when α > 0; then
/// `loss.mean(1).sum()`.
pub(super) fn ultralytics(z: &[f32], t: usize, gamma: f64, alpha: Option<f64>, l: Dt) -> Run {
    let k = z.len();
    let g = 1.0 / k as f32;
    // `torch.tensor(alpha)` is float32, then `.to(pred.dtype)`.
    let alpha = alpha.filter(|&a| a > 0.0).map(|a| l.r(a as f32));
    let (mut out, mut om, mut grad) = (Vec::with_capacity(k), Vec::with_capacity(k), Vec::with_capacity(k));
    for (i, &x) in z.iter().enumerate() {
        let y = if i == t { 1.0f32 } else { 0.0 };
        let ce = bce(x, y);
        let s = l.sigmoid(x);
        let w = l.sub(1.0, y);
        let pt = l.add(l.mul(y, s), l.mul(w, l.sub(1.0, s)));
        let o = l.sub(1.0, pt);
        let m = l.pow(o, gamma);
        let af = alpha.map(|a| l.add(l.mul(y, a), l.mul(w, l.sub(1.0, a))));
        let l1 = ce * m;
        out.push(af.map_or(l1, |af| l1 * af));
        om.push(o);

        let g_l1 = af.map_or(g, |af| g * af);
        let g_ce = g_l1 * m;
        let g_m = l.r(g_l1 * ce);
        let g_pt = -l.pow_backward(g_m, o, gamma);
        // σ's two uses: y·σ, and (1 − y)·(1 − σ).
        let g_s = l.add(l.mul(g_pt, y), -l.mul(g_pt, w));
        grad.push(l.add(l.sigmoid_backward(g_s, s), bce_backward(x, y, g_ce, l)));
    }
    let loss = F32.sum(&out) / k as f32;
    Run::new(loss, F32, grad, l, &om, None)
}
