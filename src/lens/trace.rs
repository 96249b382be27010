//! One naive evaluation for a target, γ and α_t, step by step in the
//! format, from the logits' shared [`NaiveSoftmax`].

use std::sync::Arc;

use super::precision::Precision;
use super::softmax::{NaiveGradient, NaiveSoftmax};

/// Every intermediate of one naive evaluation, each a value of the format
/// held in an `f32` (the per-class ones in `base`).
pub(super) struct Trace<'a> {
    pub(super) base: &'a NaiveSoftmax,
    pub(super) f: Precision,
    pub(super) target: usize,
    pub(super) p_t: f32,
    pub(super) ce: f32,
    pub(super) one_minus: f32,
    pub(super) gamma: f32,
    pub(super) m: f32,
    pub(super) alpha: f32,
    pub(super) fl: f32,
    pub(super) gradient: NaiveGradient,
    /// Some gradient entry is NaN / ±inf / not 0 (for the reasons).
    pub(super) grad_nan: bool,
    pub(super) grad_inf: bool,
    pub(super) grad_nonzero: bool,
}

impl<'a> Trace<'a> {
    pub(super) fn run(base: &'a NaiveSoftmax, target: usize, gamma: f64, alpha_t: f64) -> Trace<'a> {
        let f = base.f;
        let r = |x: f32| f.round(x);
        let p = &base.p;
        let p_t = p[target];
        let log_p = r(p_t.ln());
        let ce = -log_p;
        let one_minus = r(1.0 - p_t);
        let g = f.round_f64(gamma);
        let m = r(one_minus.powf(g));
        let a = f.round_f64(alpha_t);
        let fl = r(r(a * m) * ce);

        let pw = r(one_minus.powf(r(g - 1.0)));
        let term = r(r(r(g * p_t) * pw) * log_p);
        let big_g = r(a * r(term - m));
        let at_target = r(big_g * r(1.0 - p_t));
        let gradient = NaiveGradient { f, p: Arc::clone(p), big_g, target, at_target };
        // The target's entry and the other extremes carry every flag.
        let (mut grad_nan, mut grad_inf, mut grad_nonzero) = (false, false, false);
        let others = base.extremes.iter().filter(|&&i| i != target);
        for x in others.map(|&i| gradient.get(i)).chain([f64::from(at_target)]) {
            grad_nan |= x.is_nan();
            grad_inf |= x.is_infinite();
            grad_nonzero |= x != 0.0;
        }
        Trace {
            base,
            f,
            target,
            p_t,
            ce,
            one_minus,
            gamma: g,
            m,
            alpha: a,
            fl,
            gradient,
            grad_nan,
            grad_inf,
            grad_nonzero,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flags taken from the extremes are those of a pass over every
    /// class, whatever the target (ties, zeros, NaN and inf included).
    #[test]
    fn extremes_carry_every_gradient_flag() {
        let mut next = crate::test_rng::xorshift(987_654_321u64);
        let specials = [0.0, -200.0, 200.0, 12.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
        let scalars = [0.0, 0.5, 2.0, 1e30, f64::INFINITY, f64::NAN, 1e-30];
        for round in 0..3000 {
            let k = 1 + (next() % 7) as usize;
            let z: Vec<f64> = (0..k)
                .map(|_| match next() % 4 {
                    0 => specials[(next() % 7) as usize],
                    _ => (next() % 4000) as f64 / 100.0 - 20.0,
                })
                .collect();
            let (gamma, alpha) = (scalars[round % 7], scalars[(round / 7) % 7]);
            for f in Precision::ALL {
                let base = NaiveSoftmax::new(&z, f);
                for t in 0..k {
                    let trace = Trace::run(&base, t, gamma, alpha);
                    let all: Vec<f64> = trace.gradient.iter().collect();
                    let want = (
                        all.iter().any(|x| x.is_nan()),
                        all.iter().any(|x| x.is_infinite()),
                        all.iter().any(|&x| x != 0.0),
                    );
                    assert_eq!(
                        (trace.grad_nan, trace.grad_inf, trace.grad_nonzero),
                        want,
                        "{z:?} {t} {gamma} {alpha} {f:?}"
                    );
                }
            }
        }
    }
}
