//! kornia's sigmoid form as its code runs under autocast (see
//! [`softmax`](super::softmax) for the conventions).

use super::Run;
use super::ops::{Dt, log_sigmoid};

/// kornia 0.9 `binary_focal_loss_with_logits(z, y, alpha, gamma, "none")`
/// summed over the classes, `y` one-hot in the low dtype. Everything runs
/// in the low dtype (`logsigmoid`, `exp` and the products are on neither
/// autocast list): `lp = logsigmoid(z)`, `ln = logsigmoid(−z)`,
/// `pos = −exp(γ·ln)·y·lp`, `neg = −exp(γ·lp)·(1 − y)·ln`, times α and
/// `1 − α` (Python numbers), added. The factor `(1 − p_t)^γ` is
/// `exp(γ·log σ(∓z))`: no `1 − p` is formed and no power of 0 is taken,
/// so it cannot give a NaN gradient; the ignore mask (all true) multiplies
/// by one.
pub(super) fn kornia(z: &[f32], t: usize, gamma: f64, alpha: Option<f64>, l: Dt) -> Run {
    let k = z.len();
    let (mut out, mut grad) = (Vec::with_capacity(k), Vec::with_capacity(k));
    for (i, &x) in z.iter().enumerate() {
        let y = if i == t { 1.0f32 } else { 0.0 };
        let w = l.sub(1.0, y);
        let (lp, ln) = (l.r(log_sigmoid(x)), l.r(log_sigmoid(-x)));
        let (b1, b2) = (l.exp(l.mul_scalar(ln, gamma)), l.exp(l.mul_scalar(lp, gamma)));
        let (d1, d2) = (l.mul(-b1, y), l.mul(-b2, w));
        let (e1, e2) = (l.mul(d1, lp), l.mul(d2, ln));
        let (pos, neg) = alpha.map_or((e1, e2), |a| (l.mul_scalar(e1, a), l.mul_scalar(e2, 1.0 - a)));
        out.push(l.add(pos, neg));

        // The seed 1 through `α·pos` and `(1 − α)·neg`.
        let (g1, g2) = alpha.map_or((1.0, 1.0), |a| (l.mul_scalar(1.0, a), l.mul_scalar(1.0, 1.0 - a)));
        // e = d·log σ; d = −exp(a)·y; a = γ·log σ (exp's backward: g·result).
        let back = |g: f32, d: f32, log: f32, y: f32, b: f32| {
            let g_d = l.mul(g, log);
            let g_a = l.mul(-l.mul(g_d, y), b);
            (l.mul(g, d), l.mul_scalar(g_a, gamma))
        };
        let (lp_from_e1, ln_from_a1) = back(g1, d1, lp, y, b1);
        let (ln_from_e2, lp_from_a2) = back(g2, d2, ln, w, b2);
        let g_lp = l.add(lp_from_e1, lp_from_a2);
        let g_ln = l.add(ln_from_a1, ln_from_e2);
        let from_lp = log_sigmoid_backward(g_lp, x, l);
        let from_ln = -log_sigmoid_backward(g_ln, -x, l);
        grad.push(l.add(from_lp, from_ln));
    }
    let loss = l.sum(&out);
    Run::new(loss, l, grad, l, &[], None)
}

/// `log_sigmoid`'s backward in a low dtype: as [`super::ops::log_sigmoid_backward`]
/// in float32, but with the forward's buffer `exp(−|x|)`, which torch keeps
/// in the input's dtype, rounded to it (measured against torch: the
/// float32 buffer is off by an ulp of the result), the result rounded once.
fn log_sigmoid_backward(g: f32, x: f32, l: Dt) -> f32 {
    let z = l.r((-x.abs()).exp());
    let (d, s) = if x < 0.0 { (1.0, 1.0) } else { (0.0, -1.0) };
    l.r(g * (d - s * (z / (1.0 + z))))
}
