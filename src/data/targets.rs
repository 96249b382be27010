//! Rows read as per-class targets: what a row of targets, a background
//! label or a row of probabilities must be, checked as a reader reads it,
//! so that a bad value is reported with its file and row rather than
//! surfacing as a NaN or an infinite mean. Format-independent: a reader
//! hands each row's values here.

use super::source::{NON_FINITE, OUT_OF_RANGE, Options, out_of_range};
use crate::loss::Mode;
use crate::loss::sum::compensated;

/// Why a row was skipped: a target is outside [0, 1].
pub const TARGET_RANGE: &str = "target outside [0, 1]";
/// Why a row was skipped: softmax targets that are not a distribution.
pub const TARGET_SUM: &str = "targets not summing to 1";
/// Why a row was skipped: a probability is outside [0, 1].
pub const PROB_RANGE: &str = "probability outside [0, 1]";
/// Why a row was skipped: softmax probabilities that do not sum to 1.
pub const PROB_SUM: &str = "probabilities not summing to 1";
/// Why a row was skipped: a target class at probability 0, or a negative at 1.
pub const INFINITE: &str = "infinite loss";

/// How far from 1 a distribution's sum may be.
pub const SUM_TOLERANCE: f64 = 1e-6;

/// What is wrong with a row: the reason it is counted under with
/// `--skip-invalid`, whether the labels file (not the logits) is at fault,
/// and the message.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub reason: &'static str,
    pub in_labels: bool,
    pub message: String,
}

/// A row's fate: its K targets appended, left out (`--ignore-index`), or
/// refused.
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    Kept,
    Ignored,
    Bad(Problem),
}

/// The checks of a reader's options.
#[derive(Clone, Copy, Debug)]
pub struct Check {
    mode: Mode,
    probs: bool,
    background: Option<i64>,
    ignore_index: Option<i64>,
    zero_one: bool,
}

impl Check {
    pub fn new(options: &Options) -> Self {
        Check {
            mode: options.mode,
            probs: options.probs,
            background: options.background,
            ignore_index: options.ignore_index,
            zero_one: options.zero_one,
        }
    }

    /// A row of logits `x` with its class-index `label`: one-hot, or all
    /// zeros for the background label, appended to `out` when the row is kept.
    pub fn label(&self, x: &[f64], label: i128, out: &mut Vec<f64>) -> Row {
        let k = x.len();
        if self.ignore_index.is_some_and(|i| i128::from(i) == label) {
            return Row::Ignored;
        }
        if let Some(problem) = self.inputs(x) {
            return Row::Bad(problem);
        }
        let background = self.background.is_some_and(|b| i128::from(b) == label);
        if !background && !(0..k as i128).contains(&label) {
            return Row::Bad(Problem { reason: OUT_OF_RANGE, in_labels: true, message: out_of_range(label, k) });
        }
        let start = out.len();
        out.extend((0..k).map(|c| if !background && c as i128 == label { 1.0 } else { 0.0 }));
        self.finite_loss(x, start, out)
    }

    /// A row of logits `x` with its K targets `y`, appended to `out` when
    /// the row is kept.
    pub fn targets(&self, x: &[f64], y: &[f64], out: &mut Vec<f64>) -> Row {
        if let Some(problem) = self.inputs(x) {
            return Row::Bad(problem);
        }
        if let Some(c) = y.iter().position(|v| !(0.0..=1.0).contains(v)) {
            let message = format!("the target of class {c} is {}, outside [0, 1]", y[c]);
            return Row::Bad(Problem { reason: TARGET_RANGE, in_labels: true, message });
        }
        if self.zero_one
            && let Some(c) = y.iter().position(|&v| v != 0.0 && v != 1.0)
        {
            let message = format!(
                "the target of class {c} is {}: the profile takes 0/1 labels (it weighs a soft label its own way)",
                y[c]
            );
            return Row::Bad(Problem { reason: TARGET_RANGE, in_labels: true, message });
        }
        if self.mode == Mode::Softmax
            && let Some(sum) = off_one(y)
        {
            let message = format!(
                "the targets sum to {sum}, not 1 (within 1e-6): softmax takes a distribution per row (--sigmoid for multi-label targets)"
            );
            return Row::Bad(Problem { reason: TARGET_SUM, in_labels: true, message });
        }
        let start = out.len();
        out.extend_from_slice(y);
        self.finite_loss(x, start, out)
    }

    /// What is wrong with the logits or probabilities themselves.
    fn inputs(&self, x: &[f64]) -> Option<Problem> {
        let what = if self.probs { "probability" } else { "logit" };
        if let Some(j) = x.iter().position(|v| !v.is_finite()) {
            let message = format!("the {what} of class {j} is {}, not a finite number", x[j]);
            return Some(Problem { reason: NON_FINITE, in_labels: false, message });
        }
        if !self.probs {
            return None;
        }
        if let Some(c) = x.iter().position(|v| !(0.0..=1.0).contains(v)) {
            let message = format!("the probability of class {c} is {}, outside [0, 1] (--probs)", x[c]);
            return Some(Problem { reason: PROB_RANGE, in_labels: false, message });
        }
        match (self.mode, off_one(x)) {
            (Mode::Softmax, Some(sum)) => Some(Problem {
                reason: PROB_SUM,
                in_labels: false,
                message: format!(
                    "the probabilities sum to {sum}, not 1 (within 1e-6): softmax --probs takes each row's softmax (--sigmoid for per-class probabilities)"
                ),
            }),
            _ => None,
        }
    }

    /// Kept, unless with probabilities a term is infinite: a class with a
    /// positive target at probability 0, or (sigmoid) one with a target
    /// below 1 at probability 1. The row's targets, `out[start..]`, are
    /// taken back then.
    fn finite_loss(&self, x: &[f64], start: usize, out: &mut Vec<f64>) -> Row {
        if !self.probs {
            return Row::Kept;
        }
        let y = &out[start..];
        let sigmoid = self.mode == Mode::Sigmoid;
        let Some(c) = x.iter().zip(y).position(|(&p, &y)| (y > 0.0 && p == 0.0) || (sigmoid && y < 1.0 && p == 1.0))
        else {
            return Row::Kept;
        };
        let message = format!(
            "class {c} has target {} at probability {}: an infinite loss (--skip-invalid leaves such rows out)",
            y[c], x[c]
        );
        out.truncate(start);
        Row::Bad(Problem { reason: INFINITE, in_labels: false, message })
    }
}

/// The sum of `x` (non-negative) when it is not 1 within [`SUM_TOLERANCE`].
fn off_one(x: &[f64]) -> Option<f64> {
    let sum = compensated(&[x]);
    ((sum - 1.0).abs() > SUM_TOLERANCE).then_some(sum)
}
