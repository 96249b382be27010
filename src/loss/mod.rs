//! Focal loss from raw logits, exact to the last few bits. Pure math: no UI
//! types, no I/O. Every formula of the crate lives under this module.
//!
//! ```text
//! FL = −α_t · (1 − p_t)^γ · ln p_t          CE = −ln p_t
//! ```
//!
//! # Method
//! Everything is derived from the logits in log space, never from rounded
//! probabilities:
//! - `ln p_t`, `ln(1 − p_t)` and `1 − p_t` come from max-shifted sums of the
//!   *other* classes' mass (see `softmax.rs`), so no `1 − p` is ever formed
//!   where `p` may be near 1;
//! - the modulating factor is `exp(γ · ln(1 − p_t))`, representable even when
//!   `1 − p_t` itself underflows (`[0, 800]`, γ = 0.1 gives ≈ e^-80);
//! - products that may leave the normal range are taken in log space
//!   ([`sum::weighted_product`]); sums of many classes are compensated
//!   ([`sum::compensated`]).
//!
//! # Special cases
//! - γ = 0 gives a modulating factor of exactly 1 (0^0 = 1), so FL = α_t·CE.
//! - K = 1: p_t = 1, CE = 0, FL = 0, gradient 0.
//! - Logit differences that overflow (`[1.7e308, -1.7e308]`) behave as the
//!   limit they represent: a probability of exactly 0 or 1, never NaN.
//! - Values whose true magnitude exceeds `f64::MAX` (CE of `[1.7e308,
//!   -1.7e308]` with target 1 is 3.4e308) saturate to `±f64::MAX` and set
//!   [`Focal::saturated`]. No result is ever NaN or infinite for finite input.
//! - `-0.0` is normalised to `0.0`.
//!
//! # Accuracy
//! Every reported quantity is within 1e-12 relative of the exact value (and
//! within 1e-300 absolute where that value is below 1e-290), for K up to
//! 100 000, any finite logits and γ up to 20; the typical error is a few ulp.
//! `tests/reference.rs` checks this against 60-digit mpmath values generated
//! by `tests/reference/gen_reference.py`.
//!
//! # Targets
//! A [`Target`] other than one class index (background, several classes,
//! probabilities, label smoothing) is computed by [`softmax_focal_dist`] and
//! [`sigmoid_focal_labels`], with the same care and the same accuracy, except
//! for one kind of value: a gradient component is then a difference (p − y
//! in essence) whose terms may nearly cancel; there it is within a few ulp
//! of the sum of its terms' magnitudes rather than of itself (1e-13 of that
//! sum is what `tests/reference_targets.rs` requires, against
//! `tests/reference/gen_targets.py`). A class index with no smoothing takes
//! the class-index path, bit for bit as before.

mod curve;
mod distribution;
pub mod profile;
mod sigmoid;
mod softmax;
pub mod sum;
mod target;

pub use curve::{PointLoss, at_probability};
pub use distribution::softmax_focal_dist;
pub use sigmoid::{sigmoid_focal, sigmoid_focal_labels};
pub(crate) use softmax::ln_mass_of_others;
pub use softmax::{Change, SoftmaxCache, Splice, softmax_focal};
pub(crate) use softmax::{Softmax, class_logs};
pub use target::Target;

/// From this many classes on, a pass over the classes runs on every core
/// (rayon), in chunks of [`CHUNK`] classes: for fewer, waking the workers
/// costs more than it saves.
pub(crate) const PARALLEL_FROM: usize = 16_384;
pub(crate) const CHUNK: usize = 4_096;

/// Which focal loss: softmax over classes (one target), or an independent
/// sigmoid per class (RetinaNet / torchvision `sigmoid_focal_loss`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Softmax,
    Sigmoid,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Softmax => "softmax",
            Mode::Sigmoid => "sigmoid",
        }
    }
}

/// The class weight α.
///
/// Softmax: a scalar is applied to the target class whatever it is
/// (α_t = α); a vector gives one weight per class (α_t = `α[t]`).
/// Sigmoid: the target class is the positive of its binary problem and gets
/// α (or `α[i]`); every other class is a negative and gets 1 − α (or `1 − α[i]`).
#[derive(Clone, Debug, PartialEq)]
pub enum Alpha {
    Scalar(f64),
    PerClass(Vec<f64>),
}

impl Alpha {
    /// The weight of class `i` as the positive (softmax: the weight of class `i`).
    pub fn of(&self, i: usize) -> f64 {
        match self {
            Alpha::Scalar(a) => *a,
            Alpha::PerClass(v) => v[i],
        }
    }
}

/// One example: what the user typed, validated (see [`crate::parse`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub logits: Vec<f64>,
    pub target: Target,
    /// Label smoothing ε ∈ [0, 1) (see [`Target::distribution`], [`Target::labels`]).
    pub label_smoothing: f64,
    pub gamma: f64,
    /// `None`: no class weighting, α_t = 1 (torchvision's `alpha = -1`).
    pub alpha: Option<Alpha>,
    pub mode: Mode,
}

impl Params {
    /// The class index, when the target is one class and nothing smooths it:
    /// the textbook case, computed by [`softmax_focal`] / [`sigmoid_focal`].
    pub fn class_index(&self) -> Option<usize> {
        let t = self.target.class().filter(|_| self.label_smoothing == 0.0)?;
        (self.alpha.is_some() || self.mode == Mode::Softmax).then_some(t)
    }

    /// α as the class-index functions take it (`None` in softmax mode is α = 1).
    pub(crate) fn alpha_or_one(&self) -> std::borrow::Cow<'_, Alpha> {
        self.alpha.as_ref().map_or(std::borrow::Cow::Owned(Alpha::Scalar(1.0)), std::borrow::Cow::Borrowed)
    }

    /// The full result for this example in its mode.
    ///
    /// # Panics
    /// If a class is out of range or a per-class list has other than K
    /// values; the parser never produces such `Params`.
    pub fn compute(&self) -> Focal {
        let k = self.logits.len();
        match (self.class_index(), self.mode) {
            (Some(t), Mode::Softmax) => softmax_focal(&self.logits, t, self.gamma, &self.alpha_or_one()),
            (Some(t), Mode::Sigmoid) => sigmoid_focal(&self.logits, t, self.gamma, &self.alpha_or_one()),
            (None, Mode::Softmax) => {
                let q = self.target.distribution(k, self.label_smoothing);
                softmax_focal_dist(&self.logits, &q, self.gamma, self.alpha.as_ref())
            }
            (None, Mode::Sigmoid) => {
                let labels = self.target.labels(k, self.label_smoothing);
                sigmoid_focal_labels(&self.logits, &labels, self.gamma, self.alpha.as_ref())
            }
        }
    }
}

/// Everything the tool reports for one example.
///
/// In sigmoid mode the scalar fields describe the target class's own binary
/// term, except `cross_entropy` and `focal_loss`, which are sums over all
/// classes (`per_class_loss` holds the focal terms).
///
/// For any other target than one class index (see [`Target`]), `target` is
/// the *headline* class: the first with the largest target, or among equal
/// largest targets (background, several positives) the one with the largest
/// term; `alpha_t`, `p_t`, `one_minus_p_t`, `modulating_factor` and
/// `target_ce` are that class's, `cross_entropy` and `focal_loss` the sums.
#[derive(Clone, Debug, PartialEq)]
pub struct Focal {
    pub mode: Mode,
    pub target: usize,
    /// Index of the largest logit (the first one on ties).
    pub predicted: usize,
    pub alpha_t: f64,
    /// Softmax probabilities, or σ(z_i) per class in sigmoid mode.
    pub probabilities: Vec<f64>,
    pub p_t: f64,
    pub one_minus_p_t: f64,
    /// `(1 − p_t)^γ`.
    pub modulating_factor: f64,
    pub cross_entropy: f64,
    pub focal_loss: f64,
    /// The target class's own `−ln p_t` (equal to `cross_entropy` in softmax mode).
    pub target_ce: f64,
    /// dFL/dz_i.
    pub gradient: Vec<f64>,
    /// dCE/dz_i (the same loss with γ = 0 and α = 1).
    pub grad_ce: Vec<f64>,
    /// Each class's focal term; empty for a softmax class-index target
    /// (where it is the focal loss at the target, 0 elsewhere: see [`Focal::term`]).
    pub per_class_loss: Vec<f64>,
    /// The target of each class actually used (smoothed); empty for a class
    /// index (one-hot: see [`Focal::target_of`]).
    pub targets: Vec<f64>,
    /// Some value exceeded `f64::MAX` and was clamped to it.
    pub saturated: bool,
}

impl Focal {
    /// Whether the target was one class index, unsmoothed.
    pub fn is_class_index(&self) -> bool {
        self.targets.is_empty()
    }

    /// The target of class `i` (smoothed).
    pub fn target_of(&self, i: usize) -> f64 {
        match self.targets.get(i) {
            Some(&y) => y,
            None => f64::from(u8::from(i == self.target)),
        }
    }

    /// Class `i`'s term of the focal loss.
    pub fn term(&self, i: usize) -> f64 {
        match self.per_class_loss.get(i) {
            Some(&l) => l,
            None if i == self.target => self.focal_loss,
            None => 0.0,
        }
    }

    /// The target's own row of the modulating-factor table, with its exact
    /// values (in sigmoid mode: the target class's binary term).
    pub fn target_row(&self) -> PointLoss {
        PointLoss {
            p_t: self.p_t,
            one_minus_p_t: self.one_minus_p_t,
            modulating_factor: self.modulating_factor,
            cross_entropy: self.target_ce,
            focal_loss: match (self.mode, self.is_class_index()) {
                (Mode::Softmax, true) => self.focal_loss,
                (Mode::Sigmoid, true) => self.per_class_loss[self.target],
                // Sigmoid: the headline class's own term; softmax: its loss
                // as if its target were 1.
                (_, false) => (self.alpha_t * self.modulating_factor * self.target_ce).min(f64::MAX),
            },
        }
    }
}

/// Index of the first largest value (a NaN is never larger; one at index 0
/// is kept, as nothing is larger than it). `values` must not be empty.
/// Compared as stored: the sweep's float32 logits fill 16 lanes of a
/// 512-bit vector.
///
/// The largest value is found in sixteen independent lanes, which the
/// compiler vectorises, and then its first position, a block of 64 at a
/// time: two branch-light passes instead of one loop of dependent compares.
/// Inlined, so that it takes the instruction set of the sweep's loops.
#[inline(always)]
pub(crate) fn argmax<T: Copy + PartialOrd>(values: &[T]) -> usize {
    const LANES: usize = 16;
    const BLOCK: usize = 64;
    let first = values[0];
    let larger = |m: T, v: T| if v > m { v } else { m };
    let mut top = [first; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (t, &v) in top.iter_mut().zip(chunk) {
            *t = larger(*t, v);
        }
    }
    // A NaN at index 0 stays the maximum and equals nothing: index 0.
    let max = chunks.remainder().iter().chain(&top).fold(first, |m, &v| larger(m, v));
    let block = values.chunks(BLOCK).position(|b| b.iter().fold(false, |hit, &v| hit | (v == max))).unwrap_or(0);
    block * BLOCK + values[block * BLOCK..].iter().position(|&v| v == max).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    /// The first index of the largest value, as a plain scan finds it
    /// (ties, ±0, NaN anywhere, lengths around the lane and block sizes).
    #[test]
    fn argmax_is_the_first_largest() {
        let scan = |values: &[f64]| {
            let mut best = 0;
            for (i, &v) in values.iter().enumerate() {
                if v > values[best] {
                    best = i;
                }
            }
            best
        };
        let mut next = crate::test_rng::xorshift(42u64);
        let pool = [0.0, -0.0, 1.0, -1.0, 3.5, f64::NAN, -1e308, 1e308, f64::INFINITY, f64::NEG_INFINITY];
        for len in [1, 2, 7, 8, 9, 63, 64, 65, 130, 1000] {
            for _ in 0..200 {
                let values: Vec<f64> = (0..len).map(|_| pool[(next() % 10) as usize]).collect();
                assert_eq!(super::argmax(&values), scan(&values), "{values:?}");
            }
        }
    }

    /// A planted largest value (once or twice) at either end or inside,
    /// in float64 and float32, and all values equal.
    #[test]
    fn argmax_is_the_first_largest_in_lanes_too() {
        fn with_value<T: Copy + PartialOrd + Into<f64>>(z: &[T]) -> (usize, f64) {
            let j = super::argmax(z);
            (j, z[j].into())
        }
        for k in [1, 2, 5, 31, 32, 33, 64, 100, 1000] {
            let base = crate::test_rng::uniform(k, -5.0, 5.0, k as u64);
            for (at, again) in [(0, None), (k / 3, None), (k - 1, None), (k / 2, Some(k - 1)), (k - 1, Some(k / 2))] {
                let mut z = base.clone();
                z[at] = 10.0;
                if let Some(b) = again {
                    z[b] = 10.0;
                }
                let first = z.iter().position(|&v| v == 10.0).unwrap();
                assert_eq!(with_value(&z), (first, 10.0), "k={k} at {at} {again:?}");
                let z32: Vec<f32> = z.iter().map(|&v| v as f32).collect();
                assert_eq!(with_value(&z32), (first, 10.0), "f32, k={k} at {at} {again:?}");
            }
            assert_eq!(with_value(&vec![1.5f32; k]), (0, 1.5), "k={k} all equal");
        }
    }
}
