//! What an example's answer is: one class, none (background), several
//! classes, or a probability per class; and label smoothing of it.

/// The target of one example.
///
/// Sigmoid mode sees it as one label `y_i ∈ [0, 1]` per class: a class
/// index is one-hot, [`Target::Background`] all zeros, [`Target::Classes`]
/// multi-hot. Softmax mode sees it as a distribution `q` over the classes:
/// a class index is one-hot; background and a class list have no softmax
/// meaning (the parser rejects them there).
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Class(usize),
    /// No positive class (RetinaNet's background anchors).
    Background,
    /// Several positive classes, distinct and in range.
    Classes(Vec<usize>),
    /// One target per class, each in [0, 1] (softmax: summing to 1).
    Probs(Vec<f64>),
}

impl Target {
    /// The class index, when the target is one class.
    pub fn class(&self) -> Option<usize> {
        match self {
            Target::Class(t) => Some(*t),
            _ => None,
        }
    }

    /// The unsmoothed target of each of `k` classes.
    fn raw(&self, k: usize) -> Vec<f64> {
        match self {
            Target::Class(t) => (0..k).map(|i| if i == *t { 1.0 } else { 0.0 }).collect(),
            Target::Background => vec![0.0; k],
            Target::Classes(list) => {
                let mut y = vec![0.0; k];
                list.iter().for_each(|&i| y[i] = 1.0);
                y
            }
            Target::Probs(q) => q.clone(),
        }
    }

    /// Softmax: `q_i ← q_i·(1 − ε) + ε/K` (Keras `label_smoothing`).
    pub fn distribution(&self, k: usize, smoothing: f64) -> Vec<f64> {
        let mut q = self.raw(k);
        if smoothing > 0.0 {
            let (keep, share) = (1.0 - smoothing, smoothing / k as f64);
            q.iter_mut().for_each(|q| *q = *q * keep + share);
        }
        q
    }

    /// Sigmoid: each class's `(y_i, 1 − y_i)` with `y ← y·(1 − ε) + ε/2`
    /// (Keras). `1 − y` is smoothed on its own rather than subtracted, so
    /// that a smoothed 1 keeps its small complement to full precision.
    pub fn labels(&self, k: usize, smoothing: f64) -> Vec<(f64, f64)> {
        let (keep, share) = (1.0 - smoothing, smoothing / 2.0);
        // 1 − y is exact for y ≥ ½ (Sterbenz) and correctly rounded below.
        let pair = |y: f64| if smoothing > 0.0 { (y * keep + share, (1.0 - y) * keep + share) } else { (y, 1.0 - y) };
        self.raw(k).into_iter().map(pair).collect()
    }
}

/// Lets tests and callers compare a one-class target with its index.
impl PartialEq<usize> for Target {
    fn eq(&self, other: &usize) -> bool {
        self.class() == Some(*other)
    }
}

/// The class the scalar fields of a result describe: the first with the
/// largest target; among equal largest targets (background, a class list),
/// the one with the largest term.
pub(super) fn headline(targets: &[f64], terms: &[f64]) -> usize {
    let top = targets.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut best: Option<usize> = None;
    for (i, (&y, &l)) in targets.iter().zip(terms).enumerate() {
        if y == top && best.is_none_or(|b| l > terms[b]) {
            best = Some(i);
        }
    }
    best.unwrap_or(0)
}
