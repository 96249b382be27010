//! Softmax focal loss and its gradient from logits.

use super::sum::{compensated, finish, weighted_product};
use super::{Alpha, CHUNK, Focal, Mode, PARALLEL_FROM, Params, argmax};
use crate::simd::{Isa, Kernel, Simd};
use rayon::prelude::*;

/// Softmax focal loss of `logits` for class `target`.
///
/// # Method
/// Let `j` be the first argmax and `e_i = exp(z_i − z_j)` (so `e_j = 1` and
/// every `e_i ≤ 1`: no overflow), and `S = Σ_{i≠j} e_i` (compensated). Then
/// `p_i = e_i / (1 + S)` and `ln Σ exp(z) = z_j + ln_1p(S)`. The `e_i` come
/// from the branch-free, vectorised `exp_fast` (within 1 ulp of the C
/// library's `exp`, so within 2 ulp of exact); the rest uses the C library.
/// Two regimes:
///
/// - **A: the target is the argmax and `S < 1`** (so `p_t > ½`). Here
///   `1 − p_t = S / (1 + S)` comes from the other classes' mass, never by
///   subtraction, and `ln(1 − p_t) = ln S − ln_1p(S)`. When `S` is below
///   1e-290 (it may have underflowed, as for `[0, 800]`), `ln S` is
///   recomputed as a log-sum-exp over the other classes shifted by their own
///   maximum, so it is exact even where `S` is 0 in f64.
///   `CE = ln_1p(S)`, accurate to ~1 ulp down to the smallest subnormal.
/// - **B: otherwise** `p_t ≤ ½`, so `1 − p_t = 1 − p_t` is exact to ~1 ulp
///   and `ln(1 − p_t) = ln_1p(−p_t)`. `CE = (z_j − z_t) + ln_1p(S)` adds two
///   non-negative terms.
///
/// The modulating factor is `exp(γ · ln(1 − p_t))` (exactly 1 for γ = 0).
///
/// # Gradient
/// With `p = p_t`, `m = (1 − p)^γ` and `CE = −ln p`, the chain rule through
/// `dp/dz_i = p(δ_it − p_i)` gives
///
/// ```text
/// dFL/dz_t = −α_t · m · [(1 − p) + γ·p·CE]
/// dFL/dz_i =  α_t · m · [1 + γ·p·CE/(1 − p)] · p_i        (i ≠ t)
/// ```
///
/// Both brackets are sums of non-negative terms, so there is no cancellation,
/// and `(1 − p)^(γ−1)` never appears on its own: for γ < 1 and p → 1 the
/// gradient tends to 0 instead of `0 · ∞ = NaN`. `CE/(1 − p)` is
/// `ln_1p(S)·(1 + S)/S ∈ [1, 2 ln 2]` in regime A (1 in the limit S → 0).
/// The gradient sums to zero exactly in real arithmetic.
///
/// # Special cases and accuracy
/// See the [module documentation](super).
///
/// # Panics
/// If `logits` is empty, `target ≥ K`, or a per-class α has fewer than K values.
pub fn softmax_focal(logits: &[f64], target: usize, gamma: f64, alpha: &Alpha) -> Focal {
    check_target(logits, target);
    let mut probabilities = Vec::new();
    let sm = Softmax::new(logits, &mut probabilities, None);
    focal(&sm, logits, target, gamma, alpha, Buffers { probabilities, ..Buffers::default() })
}

/// Which values an edit of a list replaced: `front..back` of the old list
/// became `front..front + len` of the new one; the others are the same, so
/// a copy of the old values is brought up to date by the same splice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Splice {
    pub front: usize,
    pub back: usize,
    pub len: usize,
}

/// How the logits relate to those of the last result (see [`SoftmaxCache`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Same,
    /// Some values replaced (typing in the logits field).
    Spliced(Splice),
    New,
}

/// [`Params::compute`] for an example edited one field at a time, as the
/// explorer recomputes it on every keystroke: the softmax of the last
/// logits is kept, so that a target, γ or α edit costs O(K) multiplications
/// instead of K exponentials and an edit of a few logits recomputes only
/// theirs; and the K-long vectors are written into the last result's
/// buffers instead of fresh allocations (at K = 100 000, new 800 kB vectors
/// cost page faults and copies). Every result is bit for bit a fresh one.
#[derive(Clone, Debug, Default)]
pub struct SoftmaxCache {
    /// The softmax of the last result's logits, when it was a softmax one.
    kept: Option<Softmax>,
}

impl SoftmaxCache {
    /// The result for `params`. `previous` is the last result (this cache's,
    /// or any for these logits while the cache is empty), and `change` how
    /// `params.logits` differ from its logits; its K-long vectors are taken
    /// (left empty) and refilled.
    ///
    /// The same logits (and `previous` a softmax result): its probabilities
    /// stay as they are (moved, not copied) and its `grad_ce` is patched at
    /// the two targets, so that only the gradient is a pass over the classes.
    /// Spliced logits: only the new values' exponentials are computed.
    /// Sigmoid mode and targets other than a class index are computed
    /// afresh, and empty the cache.
    ///
    /// # Panics
    /// As [`Params::compute`].
    pub fn compute(&mut self, params: &Params, change: Change, previous: &mut Focal) -> Focal {
        let kept = self.kept.take();
        let (Some(target), Mode::Softmax) = (params.class_index(), params.mode) else {
            return params.compute();
        };
        let Params { ref logits, gamma, .. } = *params;
        let alpha = &params.alpha_or_one();
        check_target(logits, target);
        let k = logits.len();
        // A target vector's grad_ce is not p − one-hot: it cannot be patched.
        let current = change == Change::Same
            && previous.mode == Mode::Softmax
            && previous.is_class_index()
            && previous.probabilities.len() == k
            && previous.grad_ce.len() == k;
        let mut probabilities = std::mem::take(&mut previous.probabilities);
        let sm = match (kept, change) {
            (Some(sm), _) if current => sm,
            (Some(sm), Change::Spliced(splice)) => Softmax::new(logits, &mut probabilities, Some((sm, splice))),
            _ => Softmax::new(logits, &mut probabilities, None),
        };
        let buffers = Buffers {
            probabilities,
            gradient: std::mem::take(&mut previous.gradient),
            grad_ce: std::mem::take(&mut previous.grad_ce),
            current_for: current.then_some(previous.target),
        };
        let result = focal(&sm, logits, target, gamma, alpha, buffers);
        self.kept = Some(sm);
        result
    }
}

fn check_target(logits: &[f64], target: usize) {
    let k = logits.len();
    assert!(target < k, "target {target} out of range for {k} classes");
}

/// The part of [`softmax_focal`] that depends on the logits alone besides
/// the probabilities: the argmax, the exponentials `e_i` and `S`, which
/// [`SoftmaxCache`] keeps (and the probabilities, in the result).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Softmax {
    pub j: usize,
    /// The largest logit, `z_j`.
    zj: f64,
    e: Vec<f64>,
    /// `S = Σ_{i≠j} e_i`, `1 + S` and `ln_1p(S)`.
    pub s: f64,
    pub denom: f64,
    pub ln_denom: f64,
}

impl Softmax {
    /// The softmax of `logits`, its probabilities written into `p` (its
    /// contents are replaced; its allocation is reused). `previous`: the
    /// softmax of logits that `splice` turned into these.
    ///
    /// # Panics
    /// If `logits` is empty.
    pub(crate) fn new(logits: &[f64], p: &mut Vec<f64>, previous: Option<(Softmax, Splice)>) -> Self {
        let j = argmax(logits);
        let zj = logits[j];
        let (mut e, splice) = match previous {
            Some((old, s)) => {
                // `e_i` depends on z_i and the largest logit's value only.
                let fits = s.back <= old.e.len() && old.e.len() - (s.back - s.front) + s.len == logits.len();
                let keep = fits && old.zj.to_bits() == zj.to_bits();
                (old.e, keep.then_some(s))
            }
            None => (Vec::new(), None),
        };
        match splice {
            Some(s) => {
                let new = s.front..s.front + s.len;
                e.splice(s.front..s.back, std::iter::repeat_n(0.0, s.len));
                exps_into(&mut e[new.clone()], &logits[new], zj);
            }
            None => {
                // Every entry is overwritten: only a longer list writes zeros first.
                e.resize(logits.len(), 0.0);
                exps_into(&mut e, logits, zj);
            }
        }
        let s = mass_of_others(&e, j);
        let denom = 1.0 + s;
        divide(p, &e, denom);
        Softmax { j, zj, e, s, denom, ln_denom: s.ln_1p() }
    }
}

/// Vectors to fill: `probabilities` are the softmax's (moved into the
/// result), the others' contents are replaced.
#[derive(Default)]
struct Buffers {
    probabilities: Vec<f64>,
    gradient: Vec<f64>,
    grad_ce: Vec<f64>,
    /// `Some(t)`: `grad_ce` is already the CE gradient of these
    /// probabilities for target `t`.
    current_for: Option<usize>,
}

fn focal(sm: &Softmax, logits: &[f64], target: usize, gamma: f64, alpha: &Alpha, buffers: Buffers) -> Focal {
    let Buffers { probabilities, mut gradient, mut grad_ce, current_for } = buffers;
    let j = sm.j;
    let mut saturated = false;

    let ClassLogs { p, one_minus, ln_one_minus, ce, ln_ce } = class_logs(sm, logits, &probabilities, target);
    let ln_m = if gamma == 0.0 { 0.0 } else { gamma * ln_one_minus };
    let m = ln_m.exp();
    let alpha_t = alpha.of(target);
    let focal_loss = finish(weighted_product(alpha_t, m, ln_m, ce, || ln_ce), &mut saturated);
    let ce = finish(ce, &mut saturated);

    // p·CE ≤ 1/e; p = 0 only where CE is huge, and 0·CE must stay 0.
    let p_ce = if p == 0.0 { 0.0 } else { p * ce };
    let p_ce_over_one_minus = p_ce_over_one_minus(sm, p, one_minus, p_ce);
    let scale = alpha_t * m * (1.0 + gamma * p_ce_over_one_minus);
    let grad_t = -alpha_t * m * (one_minus + gamma * p_ce);

    // dCE/dz_i = p_i − δ_it: patched at the two targets when current,
    // otherwise written in the gradient's pass.
    match current_for {
        Some(old) => {
            scaled(&mut gradient, &probabilities, scale);
            grad_ce[old] = probabilities[old];
        }
        None => scaled_and_copied(&mut gradient, &mut grad_ce, &probabilities, scale),
    }
    // p_i ≤ 1, so only an infinite scale (α near f64::MAX) can overflow;
    // then a p_i of 0 must give 0, not ∞·0.
    if scale.is_infinite() {
        for (g, &p) in gradient.iter_mut().zip(&probabilities) {
            *g = if p == 0.0 { 0.0 } else { finish(*g, &mut saturated) };
        }
    }
    gradient[target] = finish(grad_t, &mut saturated);
    grad_ce[target] = -one_minus + 0.0;

    Focal {
        mode: Mode::Softmax,
        target,
        predicted: j,
        alpha_t,
        probabilities,
        p_t: p,
        one_minus_p_t: one_minus,
        modulating_factor: m,
        cross_entropy: ce,
        focal_loss,
        target_ce: ce,
        gradient,
        grad_ce,
        per_class_loss: Vec::new(),
        targets: Vec::new(),
        saturated,
    }
}

/// One class's `p`, `1 − p`, `ln(1 − p)`, `CE = −ln p` and `ln CE`.
pub(crate) struct ClassLogs {
    pub p: f64,
    pub one_minus: f64,
    pub ln_one_minus: f64,
    pub ce: f64,
    pub ln_ce: f64,
}

/// [`ClassLogs`] of class `i`, by regime (see [`softmax_focal`]).
pub(crate) fn class_logs(sm: &Softmax, logits: &[f64], probabilities: &[f64], i: usize) -> ClassLogs {
    let Softmax { j, s, denom, ln_denom, .. } = *sm;
    let zj = logits[j];
    if i == j && s < 1.0 {
        let ln_s = if s >= 1e-290 {
            s.ln()
        } else {
            ln_mass_of_others(logits, i, |terms| compensated(&[&terms.collect::<Vec<_>>()]))
        };
        let ce = ln_denom;
        ClassLogs {
            p: 1.0 / denom,
            one_minus: s / denom,
            ln_one_minus: ln_s - ln_denom,
            ce,
            // CE = ln_1p(S) = S(1 − S/2 + …): below the normal range ln CE = ln S.
            ln_ce: if ce >= f64::MIN_POSITIVE { ce.ln() } else { ln_s },
        }
    } else {
        let p = probabilities[i];
        let ce = (zj - logits[i]) + ln_denom;
        ClassLogs {
            p,
            one_minus: 1.0 - p,
            ln_one_minus: (-p).ln_1p(),
            ce,
            // A CE above f64::MAX (logit gap > 1.8e308) still has a finite log,
            // and α·m·CE may be representable again: take it at half scale.
            ln_ce: if ce.is_finite() {
                ce.ln()
            } else {
                ((zj * 0.5 - logits[i] * 0.5) + ln_denom * 0.5).ln() + std::f64::consts::LN_2
            },
        }
    }
}

/// `p·CE/(1 − p)` of a class, given `p·CE`: in regime A,
/// `CE/(1 − p) = ln_1p(S)·(1 + S)/S → 1` as `S → 0`.
pub(super) fn p_ce_over_one_minus(sm: &Softmax, p: f64, one_minus: f64, p_ce: f64) -> f64 {
    let Softmax { s, denom, ln_denom, .. } = *sm;
    if one_minus >= 0.5 {
        p_ce / one_minus
    } else if s == 0.0 {
        p
    } else {
        p * (ln_denom * denom / s)
    }
}

/// `e_i = exp(z_i − z_j)`, with [`Isa::exp`]: every argument is ≤ 0, the
/// function is branch-free, so the loop runs 4 (AVX2) or 2 (SSE2) lanes at a
/// time, about ten times faster than K calls to the C library's `exp`.
/// Within 1 ulp of that `exp` (itself < 1 ulp), so each `e_i` is within
/// 2 ulp of exact; differences that overflow to −∞ give 0, as `exp` does.
/// One thread: vectorised, 100 000 exponentials take less time than waking
/// rayon's workers would save.
fn exps_into(e: &mut [f64], logits: &[f64], zj: f64) {
    /// `out_i = exp(z_i − z_j)`.
    struct Exps<'a> {
        out: &'a mut [f64],
        logits: &'a [f64],
        zj: f64,
    }
    impl Kernel for Exps<'_> {
        type Output = ();
        #[inline(always)]
        fn run<I: Isa>(self, _: I) {
            for (e, &z) in self.out.iter_mut().zip(self.logits) {
                *e = I::exp(z - self.zj);
            }
        }
    }
    Simd::detect().at_most_avx2().run(Exps { out: e, logits, zj });
}

/// `S = Σ_{i≠j} e_i`, compensated (from [`PARALLEL_FROM`] classes on, as
/// compensated partial sums of chunks, summed compensated again).
fn mass_of_others(e: &[f64], j: usize) -> f64 {
    // A chunk's terms without e_j (= 1): the slices before and after it.
    let chunk_sum = |base: usize, chunk: &[f64]| match j.checked_sub(base) {
        Some(at) if at < chunk.len() => compensated(&[&chunk[..at], &chunk[at + 1..]]),
        _ => compensated(&[chunk]),
    };
    if e.len() < PARALLEL_FROM {
        chunk_sum(0, e)
    } else {
        let partials: Vec<f64> =
            e.par_chunks(CHUNK).enumerate().map(|(c, chunk)| chunk_sum(c * CHUNK, chunk)).collect();
        compensated(&[&partials])
    }
}

/// `p_i = e_i / (1 + S)`.
fn divide(p: &mut Vec<f64>, e: &[f64], denom: f64) {
    // Every entry is overwritten: only a longer list writes zeros first.
    p.resize(e.len(), 0.0);
    if e.len() < PARALLEL_FROM {
        p.iter_mut().zip(e).for_each(|(p, x)| *p = x / denom);
    } else {
        p.par_iter_mut().zip(e).with_min_len(CHUNK).for_each(|(p, x)| *p = x / denom);
    }
}

/// `out_i = scale · p_i` for the gradient. One thread: a multiplication per
/// class is memory-bound, and waking rayon's workers costs more than it saves.
fn scaled(out: &mut Vec<f64>, p: &[f64], scale: f64) {
    out.clear();
    out.extend(p.iter().map(|x| scale * x));
}

/// [`scaled`], and `copy_i = p_i`, in one pass over the probabilities.
fn scaled_and_copied(out: &mut Vec<f64>, copy: &mut Vec<f64>, p: &[f64], scale: f64) {
    // Every entry is overwritten: only a longer list writes zeros first.
    out.resize(p.len(), 0.0);
    copy.resize(p.len(), 0.0);
    for ((g, c), &x) in out.iter_mut().zip(copy.iter_mut()).zip(p) {
        *g = scale * x;
        *c = x;
    }
}

/// `ln(Σ_{i≠t} exp(z_i − z_t))`, shifted by the largest other logit so that
/// it is exact where the sum itself underflows; −∞ when there is no other
/// class or every difference overflows. `sum` adds the terms
/// `exp(z_i − max)`: each caller passes the compensated sum it takes `S`
/// with (the explorer's eight-lane TwoSum, the sweep's Neumaier), which
/// round differently, so that each keeps its own bits.
pub(crate) fn ln_mass_of_others<T: Copy + Into<f64>>(
    logits: &[T],
    target: usize,
    sum: impl FnOnce(&mut dyn Iterator<Item = f64>) -> f64,
) -> f64 {
    let others = || logits.iter().enumerate().filter(move |&(i, _)| i != target).map(|(_, &z)| z.into());
    let Some(top) = others().reduce(f64::max) else {
        return f64::NEG_INFINITY;
    };
    let shift = top - logits[target].into();
    if shift == f64::NEG_INFINITY {
        return shift;
    }
    shift + sum(&mut others().map(|z| (z - top).exp())).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected digits: tests/reference/gen_reference.py (mpmath, 60 digits).
    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs()
    }

    #[test]
    fn seed_example_1_is_exact_not_the_seeds_rounding() {
        let r = softmax_focal(&[-1.0, 3.0, -0.5], 1, 2.0, &Alpha::Scalar(0.25));
        // mpmath (40 digits): 2.5353610976403687625e-5; the seed page says 2.4885e-5.
        assert!(close(r.focal_loss, 2.535_361_097_640_369e-5), "{}", r.focal_loss);
    }

    #[test]
    fn single_class_is_zero_loss_zero_gradient() {
        for gamma in [0.0, 0.5, 2.0] {
            let r = softmax_focal(&[3.0], 0, gamma, &Alpha::Scalar(0.25));
            assert_eq!((r.p_t, r.one_minus_p_t, r.cross_entropy, r.focal_loss), (1.0, 0.0, 0.0, 0.0));
            assert_eq!(r.gradient, vec![0.0]);
            assert_eq!(r.modulating_factor, if gamma == 0.0 { 1.0 } else { 0.0 });
        }
    }

    fn softmax(logits: &[f64], target: usize, gamma: f64) -> Params {
        Params {
            logits: logits.to_vec(),
            target: crate::loss::Target::Class(target),
            label_smoothing: 0.0,
            gamma,
            alpha: Some(Alpha::Scalar(0.25)),
            mode: Mode::Softmax,
        }
    }

    /// Reusing an earlier result's buffers (same logits: kept and patched;
    /// other logits: overwritten) gives exactly the fresh result, and so
    /// does switching to sigmoid and back.
    #[test]
    fn reusing_buffers_gives_the_fresh_result() {
        let z: Vec<f64> = (0..50).map(|i| ((i * 37) % 11) as f64 * 0.7 - 3.0).collect();
        let other: Vec<f64> = z.iter().map(|x| -x).collect();
        for (t0, t1, g) in [(3, 3, 2.0), (3, 17, 0.5), (17, 3, 0.0), (0, 49, 5.0)] {
            let fresh = softmax(&z, t1, g).compute();
            let mut cache = SoftmaxCache::default();
            let mut old = cache.compute(&softmax(&z, t0, 1.0), Change::New, &mut softmax(&other, 0, 1.0).compute());
            assert_eq!(cache.compute(&softmax(&z, t1, g), Change::Same, &mut old), fresh);
            let mut old = softmax(&other, t0, 1.0).compute();
            assert_eq!(SoftmaxCache::default().compute(&softmax(&z, t1, g), Change::New, &mut old), fresh);
            let sigmoid = Params { mode: Mode::Sigmoid, ..softmax(&z, t1, g) };
            let mut old = cache.compute(&sigmoid, Change::Same, &mut old);
            assert_eq!(old, sigmoid.compute());
            assert_eq!(cache.compute(&softmax(&z, t1, g), Change::Same, &mut old), fresh);
        }
    }

    /// After a target vector on the same logits (its grad_ce is not
    /// p − one-hot), a class index gives exactly the fresh result.
    #[test]
    fn a_class_after_a_target_vector_is_fresh() {
        let z = [1.5, -0.8, 0.2, 3.0];
        let mut cache = SoftmaxCache::default();
        let mut old = cache.compute(&softmax(&z, 1, 2.0), Change::New, &mut softmax(&z, 1, 2.0).compute());
        let smoothed = Params { label_smoothing: 0.1, ..softmax(&z, 1, 2.0) };
        let mut old = cache.compute(&smoothed, Change::Same, &mut old);
        assert_eq!(old, smoothed.compute());
        assert_eq!(cache.compute(&softmax(&z, 2, 2.0), Change::Same, &mut old), softmax(&z, 2, 2.0).compute());
    }

    /// A softmax kept from other logits and brought up to date by a splice
    /// (the largest logit kept, moved, replaced or changed) gives exactly
    /// the fresh result.
    #[test]
    fn spliced_logits_give_the_fresh_result() {
        let z: Vec<f64> = (0..40).map(|i| ((i * 37) % 11) as f64 * 0.7 - 3.0).collect();
        // (front, back, new values): replace, insert, delete, at either end,
        // a new largest logit, the largest one removed.
        let edits: [(usize, usize, &[f64]); 7] = [
            (5, 6, &[1.25]),
            (5, 5, &[0.5, -2.0]),
            (7, 9, &[]),
            (0, 1, &[2.0]),
            (39, 40, &[-1.0, 3.0]),
            (10, 11, &[100.0]),
            (2, 3, &[-4.0]),
        ];
        for (front, back, values) in edits {
            let mut new = z.clone();
            new.splice(front..back, values.iter().copied());
            let mut cache = SoftmaxCache::default();
            let mut old = cache.compute(&softmax(&z, 1, 2.0), Change::New, &mut softmax(&z, 1, 2.0).compute());
            let splice = Splice { front, back, len: values.len() };
            let got = cache.compute(&softmax(&new, 1, 2.0), Change::Spliced(splice), &mut old);
            assert_eq!(got, softmax_focal(&new, 1, 2.0, &Alpha::Scalar(0.25)), "{front}..{back} ← {values:?}");
        }
    }

    #[test]
    fn overflowing_logit_gap_is_a_limit_not_nan() {
        let r = softmax_focal(&[1.7e308, -1.7e308], 0, 2.0, &Alpha::Scalar(0.25));
        assert_eq!((r.p_t, r.focal_loss, r.cross_entropy), (1.0, 0.0, 0.0));
        let r = softmax_focal(&[1.7e308, -1.7e308], 1, 2.0, &Alpha::Scalar(0.25));
        assert_eq!(r.p_t, 0.0);
        assert_eq!(r.cross_entropy, f64::MAX);
        assert!(r.saturated);
        assert!(r.gradient.iter().all(|g| g.is_finite()));
    }
}
