//! Why an AMP run went wrong, in one line: the first cause that applies.

use super::{Formula, Run};
use crate::format::sig;
use crate::lens::Precision;

pub(super) fn why(formula: Formula, run: &Run, z: &[f32], gamma: f64, f: Precision) -> Option<String> {
    let grad_nan = run.gradient.iter().any(|g| g.is_nan());
    let saturated = run.saturated > 0;
    if let Some(x) = z.iter().find(|x| x.is_infinite()) {
        return Some(format!("a logit overflows {} (max {}) to {x}", f.name(), sig(f.max(), 6)));
    }
    // Where p_t is formed: MONAI casts to float32 first.
    let pt = run.p_t_dtype.name();
    let below_one = gamma > 0.0 && gamma < 1.0;
    if grad_nan && saturated && below_one {
        return Some(format!("γ < 1 and p_t rounds to 1 in {pt} → (1 − p_t)^(γ−1) = inf → NaN gradient"));
    }
    if grad_nan {
        return Some("NaN gradient: an intermediate overflowed and met a 0 in the chain rule".into());
    }
    if run.loss == 0.0 {
        let reason = if run.log_p_t == Some(0.0) && z.len() > 1 {
            format!("log_softmax rounds log p_t to 0 in {pt} (its sum of exps rounds to 1) → loss 0")
        } else if saturated && gamma > 0.0 {
            format!("p_t rounds to 1 in {pt} → (1 − p_t)^γ = 0 → loss 0")
        } else if z.len() == 1 && run.log_p_t.is_some() {
            "K = 1: p_t = 1 exactly, the loss is 0".into()
        } else {
            format!("the loss underflows {}", run.loss_dtype.name())
        };
        return Some(if formula == Formula::Kornia && saturated && below_one {
            format!("{reason}; kornia's detached copy of the factor keeps the gradient from NaN")
        } else {
            reason
        });
    }
    if run.loss.is_infinite() {
        return Some(format!("the loss overflows {}", run.loss_dtype.name()));
    }
    if run.gradient.iter().all(|&g| g == 0.0) {
        return Some(if saturated {
            format!("p_t rounds to 1 in {pt} → every gradient entry is 0")
        } else {
            format!("every gradient entry underflows {}", f.name())
        });
    }
    None
}
