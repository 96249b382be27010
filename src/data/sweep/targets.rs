//! Rows with a target per class: multi-label, soft or background rows
//! (sigmoid), target distributions (softmax), and probabilities as inputs.
//! A path of its own beside the class-index batches: each row's values by
//! the crate's exact formulas, staged into the same block sums.
//!
//! # Per row
//! - **sigmoid**, class c with target `y ∈ [0, 1]` and `σ = σ(z)`,
//!   `σ̄ = σ(−z)` (both formed directly, never `1 − σ`), `ȳ = 1 − y`:
//!   `BCE = y·(−ln σ) + ȳ·(−ln σ̄)`, `1 − p_t = y·σ̄ + ȳ·σ`,
//!   `ln(1 − p_t) = logaddexp(ln y + ln σ̄, ln ȳ + ln σ)`,
//!   `α_t = α·y + (1 − α)·ȳ` (1 with α off), `term = α_t·(1 − p_t)^γ·BCE`;
//!   a target of exactly 0 or 1 is the hard term (torchvision's
//!   `sigmoid_focal_loss`, [`crate::loss::sigmoid_focal_labels`]). The row's CE and FL are
//!   the sums over its classes, as the class-index path takes them (plain up to
//!   16 terms, ≤ 15 ε; compensated lanes above, ≤ 8 ε).
//! - **softmax**, target distribution q: `term_c = α_c·q_c·(1 − p_c)^γ·(−ln p_c)`,
//!   `CE = −Σ q_c ln p_c` (Keras `CategoricalFocalCrossentropy`,
//!   [`crate::loss::softmax_focal_dist`]); each class's `p`, `1 − p` and logs from the
//!   crate's softmax (the other classes' mass for the argmax); classes with
//!   `q_c = 0` contribute exactly 0.
//! - **probabilities** (`PerRow::probs`): sigmoid `σ = p`, `σ̄ = 1 − p` (exact
//!   for p ≥ ½ by Sterbenz, correctly rounded below), `ln σ = ln p`,
//!   `ln σ̄ = ln_1p(−p)`: the values `z = logit(p) = ln p − ln(1 − p)` would
//!   give, without forming z. Softmax: `ln p` is the log-softmax as given (no
//!   re-normalisation), `1 − p` and `ln_1p(−p)` as above. 0 and 1 are exact:
//!   a term whose target is positive at probability 0 (or whose negative is
//!   at 1) is infinite, which the readers refuse before the sweep; a
//!   non-target probability 0 contributes exactly 0.
//!
//! # What the report's per-row quantities mean here
//! A row's **headline class** is the first with the largest target; among
//! equal largest targets (a multi-label row, a background row) the hardest
//! (smallest p_t). Its p_t is the row's **p_t**: the p_t histogram, the easy
//! rows (p_t ≥ ½) and the easy shares. A row is **right** when the logits'
//! first argmax is a class with the largest target (one-hot: the class-index
//! accuracy; multi-label: precision at 1); a **background** row (sigmoid, every
//! target 0) when no class is predicted (every σ ≤ ½, the same as easy).
//! **Per class**, a row counts for its headline class; background rows
//! form a group of their own ([`super::Report::background`]). One-hot rows
//! give the class-index report within 1e-14 with the same counts and
//! histogram (not the same bits: another order of operations;
//! tests/cli_data_targets.rs).

use super::factor::Power;
use super::gradient::magnitude;
use super::limits::normal;
use super::sigmoid::unweighted;
use super::stage::NO_SAMPLE;
use super::sums::sum_row;
use super::{Accumulator, BLOCK, COLUMNS_UP_TO};
use crate::loss::sum::weighted_product;
use crate::loss::{Alpha, Mode, Softmax, argmax, class_logs};

/// What a sweep's rows hold beyond the class-index case.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerRow {
    /// K targets per row ([`Accumulator::add_targets`]) instead of a label.
    pub targets: bool,
    /// The inputs are probabilities, not logits (with `targets`).
    pub probs: bool,
    /// α off: every term weighs 1 (torchvision's α = −1, MONAI's `None`).
    pub unweighted: bool,
}

/// One class's values in a row: its weight in CE (q in softmax, 1 in
/// sigmoid) and in FL (times α), p_t, 1 − p_t, ln(1 − p_t), its loss before
/// weighting (BCE, or −ln p) and that loss's log where `ln` would not do
/// (softmax: below the normal range; taken only when a product needs it).
#[derive(Clone, Copy, Default)]
pub(super) struct Term {
    q: f64,
    w: f64,
    p: f64,
    om: f64,
    ln_om: f64,
    ce: f64,
    ln_ce: Option<f64>,
}

/// The per-row buffers (K entries each, reused row after row).
#[derive(Default)]
pub(super) struct RowScratch {
    terms: Vec<Term>,
    probabilities: Vec<f64>,
    /// One quantity's value per term, to be summed.
    values: Vec<f64>,
}

impl RowScratch {
    pub(super) fn heap_bytes(&self) -> usize {
        super::vec_bytes(&self.terms) + super::vec_bytes(&self.probabilities) + super::vec_bytes(&self.values)
    }
}

impl Accumulator {
    /// This accumulator for rows as `per_row` says: α off, and (with
    /// targets) a background group after the classes in sigmoid mode.
    pub fn with(mut self, per_row: PerRow) -> Self {
        if per_row.unweighted {
            self.alpha = Alpha::Scalar(1.0);
            let k = self.classes;
            (self.alpha_pos, self.alpha_neg) = match self.mode {
                Mode::Softmax => (Vec::new(), Vec::new()),
                Mode::Sigmoid => (vec![1.0; k], vec![1.0; k]),
            };
        }
        if per_row.targets && self.mode == Mode::Sigmoid {
            let sums = super::accumulator::per_class_sums(self.mode, self.gammas.len());
            self.per_class = super::per_class::PerClass::new(self.classes + 1, sums);
        }
        self.per_row = per_row;
        self
    }

    /// Adds rows of per-class targets: `logits` (probabilities with
    /// [`PerRow::probs`]) and `targets` row-major, K per row, every value
    /// checked by the reader (finite; targets in [0, 1], softmax ones
    /// summing to 1; no infinite term).
    ///
    /// # Panics
    /// If the lengths differ or are not whole rows, or this accumulator was
    /// not made [`with`](Self::with) targets.
    pub fn add_targets(&mut self, logits: &[f64], targets: &[f64]) {
        self.ready();
        let k = self.classes;
        assert!(self.per_row.targets, "an accumulator of class-index rows");
        assert!(
            logits.len() == targets.len() && logits.len().is_multiple_of(k),
            "{} logits, {} targets",
            logits.len(),
            targets.len()
        );
        for (z, y) in logits.chunks_exact(k).zip(targets.chunks_exact(k)) {
            match self.mode {
                Mode::Sigmoid => self.sigmoid_terms(z, y),
                Mode::Softmax => self.softmax_terms(z, y),
            }
            self.stage_row(z, y);
            self.stage.n += 1;
            if self.stage.n == BLOCK {
                self.flush();
            }
        }
    }

    /// Each class's term of a sigmoid row (every class has one).
    fn sigmoid_terms(&mut self, x: &[f64], y: &[f64]) {
        let (probs, unweighted) = (self.per_row.probs, self.per_row.unweighted);
        let terms = &mut self.row.terms;
        terms.clear();
        for (c, (&x, &y)) in x.iter().zip(y).enumerate() {
            // σ, σ̄ and their logs, from the logit or the probability.
            let (s, sb, ln_s, ln_sb) = if probs {
                (x, 1.0 - x, x.ln(), (-x).ln_1p())
            } else {
                let e = (-x.abs()).exp();
                let (l, inv) = (e.ln_1p(), 1.0 / (1.0 + e));
                let (s, sb) = if x >= 0.0 { (inv, e * inv) } else { (e * inv, inv) };
                (s, sb, -((-x).max(0.0) + l), -(x.max(0.0) + l))
            };
            let (a_pos, a_neg) = (self.alpha_pos[c], self.alpha_neg[c]);
            let (w, p, om, ln_om, ce) = match y {
                1.0 => (a_pos, s, sb, ln_sb, -ln_s),
                0.0 => (a_neg, sb, s, ln_s, -ln_sb),
                _ => {
                    let yb = 1.0 - y;
                    let w = if unweighted { 1.0 } else { a_pos * y + a_neg * yb };
                    let ln_om = log_add_exp(y.ln() + ln_sb, yb.ln() + ln_s);
                    (w, y * s + yb * sb, y * sb + yb * s, ln_om, y * -ln_s + yb * -ln_sb)
                }
            };
            terms.push(Term { q: 1.0, w, p, om, ln_om, ce: ce + 0.0, ln_ce: None });
        }
    }

    /// Each class's term of a softmax row (zero weight where q = 0).
    fn softmax_terms(&mut self, x: &[f64], q: &[f64]) {
        let probs = self.per_row.probs;
        let weight = |c: usize| match &self.alpha {
            Alpha::Scalar(a) => *a,
            Alpha::PerClass(_) => self.alpha_pos[c],
        };
        let row = &mut self.row;
        row.terms.clear();
        let sm = (!probs).then(|| Softmax::new(x, &mut row.probabilities, None));
        for (c, (&x_c, &q_c)) in x.iter().zip(q).enumerate() {
            let term = match &sm {
                _ if q_c == 0.0 => Term::default(),
                Some(sm) => {
                    let l = class_logs(sm, x, &row.probabilities, c);
                    let (w, p, om, ln_om) = (weight(c) * q_c, l.p, l.one_minus, l.ln_one_minus);
                    Term { q: q_c, w, p, om, ln_om, ce: l.ce, ln_ce: Some(l.ln_ce) }
                }
                None => {
                    let ce = -x_c.ln() + 0.0;
                    let (w, om, ln_om) = (weight(c) * q_c, 1.0 - x_c, (-x_c).ln_1p());
                    Term { q: q_c, w, p: x_c, om, ln_om, ce, ln_ce: None }
                }
            };
            row.terms.push(term);
        }
    }

    /// Stages the row whose terms were just taken: CE, the focal loss per
    /// γ, its headline class (or the background group), p_t and whether it
    /// is right; and the gradient's sums ([`super::gradient`], each term as
    /// its own logit's: softmax the row's sum over its targets, staged;
    /// sigmoid each term, a positive where its target is ≥ ½) and, sigmoid,
    /// the unweighted terms of its positive targets (y > 0).
    fn stage_row(&mut self, x: &[f64], y: &[f64]) {
        let (st, k) = (&mut self.stage, self.classes);
        let sigmoid = self.mode == Mode::Sigmoid;
        let RowScratch { terms, values, .. } = &mut self.row;
        let terms = &*terms;
        let r = st.n;
        let top = y.iter().copied().fold(0.0, f64::max);
        // The hardest of the classes with the largest target: the largest 1 − p_t.
        let mut h = 0;
        let mut found = false;
        for (c, (&y, t)) in y.iter().zip(terms).enumerate() {
            if y == top && (!found || t.ln_om > terms[h].ln_om) {
                (h, found) = (c, true);
            }
        }
        st.p[r] = terms[h].p;
        let background = self.mode == Mode::Sigmoid && top == 0.0;
        st.correct[r] = if background { st.p[r] >= 0.5 } else { y[argmax(x)] == top };
        st.label[r] = if background { k } else { h };
        let mut saturated = false;
        // q·CE with q = 0 is 0, whatever CE (an unread class's is 0 too).
        values.clear();
        values.extend(terms.iter().filter(|t| t.q > 0.0).map(|t| t.q * t.ce));
        st.ce[r] = clamp(row_sum(values), &mut saturated);
        for (gi, (&power, &gamma)) in self.powers.iter().zip(&self.gammas).enumerate() {
            values.clear();
            // pos, pos easy, neg, neg easy (softmax: the target's, in pos).
            let (mut grad, mut pos) = ([0.0; 4], 0.0);
            // The per-side loss CDFs' samples (sigmoid): the positives' and
            // the negatives' terms, each in class order.
            let mut sides = [NO_SAMPLE; 2];
            for (t, &y) in terms.iter().zip(y).filter(|(t, _)| t.q > 0.0) {
                let ln_m = if gamma == 0.0 { 0.0 } else { gamma * t.ln_om };
                let m = match power {
                    Power::One => 1.0,
                    Power::Halves(h) if normal(t.om) => {
                        let whole = t.om.powi((h / 2) as i32);
                        if h % 2 == 1 { whole * t.om.sqrt() } else { whole }
                    }
                    _ => ln_m.exp(),
                };
                let v = weighted_product(t.w, m, ln_m, t.ce, || t.ln_ce.unwrap_or_else(|| t.ce.ln())) + 0.0;
                values.push(v);
                let g = magnitude(t.w, m, t.om, t.p, v, gamma);
                let q = if !sigmoid || y >= 0.5 { 0 } else { 2 };
                let side = &mut sides[q / 2];
                *side = side.max(0.0) + v;
                grad[q] += g;
                grad[q + 1] += if sigmoid && t.p >= 0.5 { g } else { 0.0 };
                if sigmoid && y > 0.0 {
                    pos += unweighted(v, t.w, m, t.ce);
                }
            }
            let sums = [&mut st.grad_pos, &mut st.grad_pos_easy, &mut st.grad_neg, &mut st.grad_neg_easy];
            for (v, g) in sums.into_iter().zip(grad) {
                v[gi * BLOCK + r] = g.min(f64::MAX);
            }
            st.pos[gi * BLOCK + r] = pos.min(f64::MAX);
            st.fl_pos[gi * BLOCK + r] = sides[0].min(f64::MAX);
            st.fl_neg[gi * BLOCK + r] = sides[1].min(f64::MAX);
            st.fl[gi * BLOCK + r] = clamp(row_sum(values), &mut saturated);
        }
        st.saturated[r] = saturated;
    }
}

/// A row's sum of non-negative terms as the class-index path sums it:
/// plain up to 16 terms (≤ 15 ε), in compensated lanes above (≤ 8 ε).
fn row_sum(x: &[f64]) -> f64 {
    if x.len() <= COLUMNS_UP_TO { x.iter().sum() } else { sum_row(x) }
}

/// `ln(e^a + e^b)`, exact where either is −∞.
fn log_add_exp(a: f64, b: f64) -> f64 {
    let top = a.max(b);
    if top == f64::NEG_INFINITY { top } else { top + (-(a - b).abs()).exp().ln_1p() }
}

/// +∞ to `f64::MAX`, flagged.
fn clamp(x: f64, saturated: &mut bool) -> f64 {
    crate::loss::sum::finish(x, saturated)
}
