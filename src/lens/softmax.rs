//! The part of a naive evaluation that depends on the logits alone, and
//! the gradient read from it class by class.

use std::sync::Arc;

use super::trace::Trace;
use super::{Naive, Precision};

/// The part of [`naive`](super::naive) that depends on the logits alone:
/// the rounded logits, their exponentials, the sum and the probabilities
/// (K `expf` calls). The explorer keeps it while only the target, γ or α
/// change, which then cost a few scalar operations.
#[derive(Clone, Debug)]
pub struct NaiveSoftmax {
    pub(super) f: Precision,
    pub(super) z: Vec<f32>,
    pub(super) e: Vec<f32>,
    pub(super) s: f32,
    pub(super) p: Arc<[f32]>,
    /// Classes whose finite logit overflows the format.
    pub(super) too_big: Vec<usize>,
    /// The class of largest `z` (the last of equals) whose `exp` overflowed
    /// from a finite `z`, and how many did.
    pub(super) overflowed: Option<(usize, usize)>,
    /// Every `e_i` is finite.
    pub(super) e_finite: bool,
    /// Classes whose gradient entries carry every 0 / ±inf / NaN flag of
    /// the others (see [`extremes`]).
    pub(super) extremes: Vec<usize>,
}

impl NaiveSoftmax {
    /// # Panics
    /// If `logits` is empty.
    pub fn new(logits: &[f64], f: Precision) -> Self {
        let r = |x: f32| f.round(x);
        let z: Vec<f32> = logits.iter().map(|&x| f.round_f64(x)).collect();
        let e: Vec<f32> = z.iter().map(|&x| r(x.exp())).collect();
        let s = e[1..].iter().fold(e[0], |acc, &x| r(acc + x));
        let p: Arc<[f32]> = e.iter().map(|&x| r(x / s)).collect();
        let k = z.len();
        let too_big = (0..k).filter(|&i| z[i].is_infinite() && logits[i].is_finite()).collect();
        let overflowed: Vec<usize> = (0..k).filter(|&i| e[i].is_infinite() && z[i].is_finite()).collect();
        let top = overflowed.iter().copied().max_by(|&a, &b| z[a].total_cmp(&z[b]));
        let overflowed = top.map(|top| (top, overflowed.len()));
        let e_finite = e.iter().all(|e| e.is_finite());
        let extremes = extremes(&p);
        NaiveSoftmax { f, z, e, s, p, too_big, overflowed, e_finite, extremes }
    }

    /// [`naive`](super::naive) for these logits (the same `logits` as `new` took).
    ///
    /// # Panics
    /// If `target ≥ K`.
    pub fn naive(&self, logits: &[f64], target: usize, gamma: f64, alpha_t: f64) -> Naive {
        let k = logits.len();
        assert!(target < k, "target {target} out of range for {k} classes");
        let t = Trace::run(self, target, gamma, alpha_t);
        let reasons = t.reasons(logits, gamma, alpha_t);
        Naive {
            precision: self.f,
            p_t: f64::from(t.p_t),
            cross_entropy: f64::from(t.ce),
            focal_loss: f64::from(t.fl),
            gradient: t.gradient,
            reasons,
        }
    }
}

/// dFL/dz of the naive code, each class's value computed when it is read:
/// `r(G · r(δ_it − p_i))` from the format's probabilities, which it shares
/// with the [`NaiveSoftmax`] (the lens shows one entry, and writing K values
/// per format on every keystroke would cost more than the rest of the lens).
#[derive(Clone, Debug, PartialEq)]
pub struct NaiveGradient {
    pub(super) f: Precision,
    pub(super) p: Arc<[f32]>,
    pub(super) big_g: f32,
    pub(super) target: usize,
    pub(super) at_target: f32,
}

impl NaiveGradient {
    /// K.
    pub fn len(&self) -> usize {
        self.p.len()
    }

    pub fn is_empty(&self) -> bool {
        self.p.is_empty()
    }

    /// dFL/dz_i, widened to `f64` exactly.
    ///
    /// # Panics
    /// If `i ≥ K`.
    pub fn get(&self, i: usize) -> f64 {
        let r = |x: f32| self.f.round(x);
        f64::from(if i == self.target { self.at_target } else { r(self.big_g * r(0.0 - self.p[i])) })
    }

    /// Every class's value, in order.
    pub fn iter(&self) -> impl Iterator<Item = f64> + Clone + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// The classes of the two smallest and the two largest `p_i` and the first
/// two NaN ones (two of each, so that one is left besides any target).
///
/// They carry every 0 / ±inf / NaN flag of the gradient's other entries
/// `r(G · r(0 − p_i))`: for `p_i ≥ 0` the magnitude never decreases as `p_i`
/// grows (each rounding is monotone), so ±inf and "not 0" appear at the
/// largest `p_i` if anywhere; a NaN needs G or `p_i` NaN, or `G = ±inf` with
/// `p_i = 0` (the smallest), or `G = 0` with `p_i = inf` (the largest).
fn extremes(p: &[f32]) -> Vec<usize> {
    let (mut low, mut high, mut nan) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &x) in p.iter().enumerate() {
        if x.is_nan() {
            if nan.len() < 2 {
                nan.push(i);
            }
        } else {
            keep_two(&mut low, i, |j| x < p[j]);
            keep_two(&mut high, i, |j| x > p[j]);
        }
    }
    [low, high, nan].concat()
}

/// Adds class `i` to `best` (at most two, best first) if `before(j)` ranks
/// it before a kept class `j`, or fewer than two are kept.
fn keep_two(best: &mut Vec<usize>, i: usize, before: impl Fn(usize) -> bool) {
    if best.len() == 2 && !before(best[1]) {
        return;
    }
    let at = best.iter().position(|&j| before(j)).unwrap_or(best.len());
    best.insert(at, i);
    best.truncate(2);
}
