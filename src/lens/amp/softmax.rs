//! The softmax forms as each library's code runs under autocast, forward
//! and then backward in autograd's order, each op rounding as its kernel
//! does (see [`ops`](super::ops)).

use super::Run;
use super::ops::{Dt, F32};

/// The paper's form written the common way, every op in the low dtype:
/// `logp = log_softmax(z); logp_t = logp[t]; p_t = exp(logp_t);
/// loss = −α · (1 − p_t)^γ · logp_t` (α off: `−(1 − p_t)^γ · logp_t`).
pub(super) fn paper(z: &[f32], t: usize, gamma: f64, alpha: Option<f64>, l: Dt) -> Run {
    let ls = l.log_softmax(z);
    let lt = ls[t];
    let pt = l.exp(lt);
    let om = l.sub(1.0, pt);
    let m = l.pow(om, gamma);
    let a = alpha.map_or(-m, |a| l.mul_scalar(m, -a));
    let loss = l.mul(a, lt);

    // The seed is 1: `a · logp_t` passes logp_t to a and a to logp_t.
    let g_m = alpha.map_or(-lt, |a| l.mul_scalar(lt, -a));
    let g_pt = -l.pow_backward(g_m, om, gamma);
    let g_lt = l.add(a, l.mul(g_pt, pt));
    let mut g = vec![0.0; z.len()];
    g[t] = g_lt;
    let grad = l.log_softmax_backward(&g, &ls);
    Run::new(loss, l, grad, l, &[om], Some(lt))
}

/// kornia's `focal_loss` (reduction `none`, summed over the classes), every
/// op in the low dtype: `base = 1 − exp(logp)`; where `base` is 0 the factor
/// `base^γ` is taken from a detached copy (no gradient through it);
/// `loss_i = α_i · ((−base_i^γ) · logp_i·[i = t]) · [i = t]` with α_0 = 1 − α
/// and α_i = α for i > 0.
pub(super) fn kornia(z: &[f32], t: usize, gamma: f64, alpha: Option<f64>, l: Dt) -> Run {
    let k = z.len();
    let ls = l.log_softmax(z);
    let e: Vec<f32> = ls.iter().map(|&x| l.exp(x)).collect();
    let base: Vec<f32> = e.iter().map(|&x| l.sub(1.0, x)).collect();
    let fw: Vec<f32> = base.iter().map(|&b| l.pow(b, gamma)).collect();
    let oh = |i: usize| if i == t { 1.0 } else { 0.0 };
    let lm = |i: usize| if i == t { ls[i] } else { 0.0 };
    // The class vector is built from Python numbers in the low dtype.
    let af: Vec<f32> = (0..k)
        .map(|i| alpha.map_or(1.0, |a| l.0.round_f64(f64::from((if i == 0 { 1.0 - a } else { a }) as f32))))
        .collect();
    let x: Vec<f32> = (0..k).map(|i| l.mul(-fw[i], lm(i))).collect();
    let out: Vec<f32> = (0..k)
        .map(|i| {
            let lt = l.mul(x[i], oh(i));
            if alpha.is_some() { l.mul(af[i], lt) } else { lt }
        })
        .collect();
    let loss = l.sum(&out);

    let g_ls: Vec<f32> = (0..k)
        .map(|i| {
            let g_x = l.mul(af[i], oh(i));
            let g_lm = if i == t { l.mul(g_x, -fw[i]) } else { 0.0 };
            let g_fw = -l.mul(g_x, lm(i));
            let g_base = if base[i] == 0.0 { 0.0 } else { l.pow_backward(g_fw, base[i], gamma) };
            l.add(g_lm, l.mul(-g_base, e[i]))
        })
        .collect();
    let grad = l.log_softmax_backward(&g_ls, &ls);
    Run::new(loss, l, grad, l, &base[t..=t], Some(ls[t]))
}

/// MONAI's `FocalLoss(use_softmax=True)`: the logits cast to float32
/// first, then `loss = α_i · ((−(1 − exp(logp))^γ) · logp) · y`, α_0 = 1 − α
/// and α_i = α for i > 0, the mean over the classes; the gradient cast back.
pub(super) fn monai(z: &[f32], t: usize, gamma: f64, alpha: Option<f64>, l: Dt) -> Run {
    let f = F32;
    let k = z.len();
    let ls = f.log_softmax(z);
    let e: Vec<f32> = ls.iter().map(|&x| f.exp(x)).collect();
    let om: Vec<f32> = e.iter().map(|&x| 1.0 - x).collect();
    let m: Vec<f32> = om.iter().map(|&x| f.pow(x, gamma)).collect();
    let y = |i: usize| if i == t { 1.0f32 } else { 0.0 };
    let af = |i: usize| alpha.map_or(1.0, |a| (if i == 0 { 1.0 - a } else { a }) as f32);
    let out: Vec<f32> = (0..k).map(|i| af(i) * ((-m[i] * ls[i]) * y(i))).collect();
    let loss = f.sum(&out) / k as f32;

    let g = 1.0 / k as f32;
    let g_ls: Vec<f32> = (0..k)
        .map(|i| {
            let g_l1 = g * af(i) * y(i);
            let g_m = -(g_l1 * ls[i]);
            let g_e = -f.pow_backward(g_m, om[i], gamma);
            g_l1 * -m[i] + g_e * e[i]
        })
        .collect();
    let grad = f.log_softmax_backward(&g_ls, &ls).into_iter().map(|x| l.r(x)).collect();
    Run::new(loss, f, grad, f, &om[t..=t], Some(ls[t]))
}
