//! Why a naive evaluation went wrong: one line per failure, causes before
//! consequences, in the words the lens shows.

use super::classify;
use super::trace::Trace;
use crate::format::sig;

impl Trace<'_> {
    /// One line per failure, causes before consequences.
    pub(super) fn reasons(&self, logits: &[f64], gamma: f64, alpha_t: f64) -> Vec<String> {
        let f = self.f;
        let name = f.name();
        let t = self.target;
        let base = self.base;
        let k = base.z.len();
        let mut out = Vec::new();
        // Which results a specific reason already accounts for.
        let (mut pt_done, mut ce_done, mut fl_done, mut grad_done) = (false, false, false, false);

        // Inputs the format cannot hold.
        let too_big = &base.too_big;
        if let Some(&i) = too_big.first() {
            let inf = if base.z[i] > 0.0 { "inf" } else { "−inf" };
            out.push(format!(
                "logit {} overflows {name} (max {}) to {inf}{}",
                sig(logits[i], 6),
                sig(f.max(), 6),
                more(too_big.len() - 1, "logit")
            ));
        }
        for (symbol, given, held) in [("γ", gamma, self.gamma), ("α_t", alpha_t, self.alpha)] {
            if held.is_infinite() && given.is_finite() {
                out.push(format!("{symbol} = {} overflows {name} (max {})", sig(given, 6), sig(f.max(), 6)));
            } else if held == 0.0 && given != 0.0 {
                out.push(format!("{symbol} = {} rounds to 0 in {name}", sig(given, 6)));
            }
        }

        // The exponentials and their sum.
        if let Some((top, overflowed)) = base.overflowed {
            out.push(format!(
                "{name} exp overflows above ≈ {}: exp({}) = inf{}",
                threshold(f.exp_overflows_above()),
                sig(logits[top], 6),
                more(overflowed - 1, "logit")
            ));
        } else if base.s.is_infinite() && base.e_finite {
            out.push(format!("the sum of exps overflows {name} (max {})", sig(f.max(), 6)));
        }
        if base.s == 0.0 {
            out.push(format!(
                "every exp underflows to 0 (below ≈ {}), so p = 0/0 = NaN, and so are CE, FL and the gradient",
                threshold(f.exp_underflows_below())
            ));
            (pt_done, ce_done, fl_done, grad_done) = (true, true, true, true);
        }

        // p_t and what follows from it.
        let grad_nan = self.grad_nan;
        if self.p_t.is_nan() && !pt_done {
            if base.e[t].is_infinite() && base.s.is_infinite() {
                out.push("p_t = inf/inf = NaN, and so are CE, FL and the gradient".to_string());
                (pt_done, ce_done, fl_done, grad_done) = (true, true, true, true);
            }
        } else if self.p_t == 0.0 {
            let mut line = if base.s.is_infinite() {
                format!("p_t = {}/inf = 0", sig(f64::from(base.e[t]), 4))
            } else if base.e[t] == 0.0 {
                format!(
                    "exp({}) underflows to 0 (below ≈ {}), so p_t = 0",
                    sig(logits[t], 6),
                    threshold(f.exp_underflows_below())
                )
            } else {
                "p_t underflows to 0".to_string()
            };
            line.push_str(": log gives −inf, so CE = inf");
            if !self.fl.is_finite() {
                line.push_str(&format!(", FL = {}", word(self.fl)));
            }
            if grad_nan {
                line.push_str(", and γ·p_t·…·ln p_t = 0·(−inf) = NaN in the gradient");
            }
            out.push(line);
            (pt_done, ce_done, fl_done, grad_done) = (true, true, !self.fl.is_finite(), grad_nan);
        } else if self.p_t == 1.0 {
            let nan_reason = |who: &str| {
                format!(
                    "{who}: γ < 1 gives a NaN gradient, (1 − p_t)^(γ − 1) = 0^{} = inf and inf·0 = NaN",
                    sig(f64::from(self.gamma) - 1.0, 4)
                )
            };
            if k > 1 {
                let mut line = "p_t rounds to 1: 1 − p_t = 0 and ln p_t = 0, so CE = FL = 0".to_string();
                if !self.grad_nonzero {
                    line.push_str(", and the gradient vanishes");
                }
                out.push(line);
                if grad_nan && self.gamma < 1.0 {
                    out.push(nan_reason("p_t rounds to 1"));
                    grad_done = true;
                }
            } else if grad_nan && self.gamma < 1.0 {
                out.push(nan_reason("one class, so p_t = 1"));
                grad_done = true;
            }
        } else if self.p_t > 0.0 && self.p_t < 1.0 && self.fl == 0.0 && self.alpha != 0.0 {
            // The loss vanished although 0 < p_t < 1.
            if self.m == 0.0 && self.gamma > 0.0 {
                out.push(format!(
                    "(1 − p_t)^γ = {}^{} underflows to 0, so FL = 0",
                    sig(f64::from(self.one_minus), 4),
                    sig(f64::from(self.gamma), 4)
                ));
            } else {
                out.push(format!(
                    "FL = α_t·(1 − p_t)^γ·CE = {}·{}·{} underflows to 0",
                    sig(f64::from(self.alpha), 4),
                    sig(f64::from(self.m), 4),
                    sig(f64::from(self.ce), 4)
                ));
            }
        }

        // 0 < p_t < 1 and α_t ≠ 0: the exact gradient is not 0.
        if self.p_t > 0.0 && self.p_t < 1.0 && self.alpha != 0.0 && k > 1 && !self.grad_nonzero {
            out.push("the gradient underflows to 0 in every class".to_string());
        }

        // Anything not explained above.
        if !pt_done && !self.p_t.is_finite() {
            out.push(format!("p_t is {}", word(self.p_t)));
        }
        if !ce_done && !self.ce.is_finite() {
            out.push(format!("CE is {}", word(self.ce)));
        }
        if !fl_done && !self.fl.is_finite() {
            out.push(format!("FL is {}", word(self.fl)));
        }
        if !grad_done {
            let finite = !self.grad_nan && !self.grad_inf;
            for (what, bad) in [("NaN", f64::is_nan as fn(f64) -> bool), ("inf", f64::is_infinite)] {
                if finite {
                    break;
                }
                let classes: Vec<usize> = (0..k).filter(|&i| bad(self.gradient.get(i))).collect();
                if !classes.is_empty() {
                    out.push(format!("gradient is {what} in {}", classes_text(&classes, k)));
                }
            }
        }
        out
    }
}

/// A threshold to two decimals: "11.09", "-103.97".
pub(super) fn threshold(x: f64) -> String {
    format!("{x:.2}")
}

/// ", and for 2 more logits" (nothing for 0).
fn more(n: usize, what: &str) -> String {
    match n {
        0 => String::new(),
        1 => format!(", and for 1 more {what}"),
        _ => format!(", and for {n} more {what}s"),
    }
}

/// "NaN", "inf" or "−inf".
fn word(x: f32) -> &'static str {
    match classify(f64::from(x)) {
        Some("+inf") => "inf",
        Some(c) => c,
        None => "finite",
    }
}

/// "class 3", "classes 0, 2 and 5", "every class", "5 of 9 classes (0, 1, 2, …)".
fn classes_text(classes: &[usize], k: usize) -> String {
    let list = |c: &[usize]| c.iter().map(usize::to_string).collect::<Vec<_>>();
    match classes {
        [i] if k > 1 => format!("class {i}"),
        _ if classes.len() == k => "every class".to_string(),
        _ if classes.len() <= 4 => {
            let l = list(classes);
            format!("classes {} and {}", l[..l.len() - 1].join(", "), l[l.len() - 1])
        }
        _ => format!("{} of {k} classes ({}, …)", classes.len(), list(&classes[..3]).join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_lists() {
        assert_eq!(classes_text(&[3], 5), "class 3");
        assert_eq!(classes_text(&[0], 1), "every class");
        assert_eq!(classes_text(&[0, 2, 4], 5), "classes 0, 2 and 4");
        assert_eq!(classes_text(&[0, 1, 2, 3, 4], 9), "5 of 9 classes (0, 1, 2, …)");
    }
}
