//! Which loss a gradient dump is of. `loss.sum().backward()` on per-element
//! terms, on per-row losses (a class mean divides by K) and
//! `loss.backward()` on a reduced loss give the same gradient up to a
//! constant divisor; each candidate divisor is checked as the rows come,
//! and the one nearest the least-squares ratio of theirs to the exact
//! gradient of the summed terms is reported. A ratio more than
//! [`SCALE_SLACK`] from every candidate is itself a finding.

use super::compare::{At, Tolerance, Tracker};
use super::exact::Exact;

/// How far (relative) a gradient's fitted scale may be from a candidate's.
pub const SCALE_SLACK: f64 = 0.05;

/// The comparison of a gradient dump under every candidate.
pub(super) struct Gradient {
    /// What the gradient would be of, and its divisor.
    candidates: Vec<(&'static str, f64)>,
    trackers: Vec<Tracker>,
    /// Σ theirs·exact and Σ exact² over the finite values.
    fit: (f64, f64),
}

/// The candidate chosen.
pub(super) struct Verdict {
    pub(super) of: &'static str,
    /// The fitted ratio, when no candidate explains it.
    pub(super) unexplained: Option<f64>,
    pub(super) tracker: Tracker,
}

impl Gradient {
    /// The candidates for a class reduction dividing by `class_div` and a
    /// batch reduction by `batch_div`.
    pub(super) fn new(tolerance: Tolerance, class_div: f64, batch_div: f64) -> Gradient {
        let mut candidates = vec![("the summed losses", 1.0)];
        if class_div != 1.0 {
            candidates.push(("the summed per-row losses", class_div));
        }
        candidates.push(("the reduced loss", batch_div));
        let trackers = candidates.iter().map(|_| Tracker::new(tolerance)).collect();
        Gradient { candidates, trackers, fit: (0.0, 0.0) }
    }

    /// Records a row: `theirs(c)` is their component for class c.
    pub(super) fn check_row<'a>(&mut self, e: &Exact, theirs: impl Fn(usize) -> f64, at: impl Fn(usize) -> At<'a>) {
        for (c, (&x, &scale)) in e.gradient.iter().zip(&e.scale).enumerate() {
            let t = theirs(c);
            if t.is_finite() {
                self.fit.0 += t * x;
                self.fit.1 += x * x;
            }
            let at = at(c);
            for (tracker, &(_, d)) in self.trackers.iter_mut().zip(&self.candidates) {
                tracker.check(t, x, scale, d, &at);
            }
        }
    }

    /// The candidate nearest the fitted ratio (theirs ≈ exact / d: the
    /// ratio is 1/d for the right one).
    pub(super) fn finish(mut self) -> Verdict {
        let (num, den) = self.fit;
        let ratio = if den > 0.0 { num / den } else { 1.0 };
        let off = |i: usize| (ratio * self.candidates[i].1).ln().abs();
        let best = (0..self.candidates.len()).min_by(|&a, &b| off(a).total_cmp(&off(b))).unwrap_or(0);
        // A NaN or a negative ratio fits nothing.
        let fits = (ratio * self.candidates[best].1 - 1.0).abs() <= SCALE_SLACK;
        Verdict {
            of: self.candidates[best].0,
            unexplained: (!fits).then_some(ratio),
            tracker: self.trackers.swap_remove(best),
        }
    }
}
