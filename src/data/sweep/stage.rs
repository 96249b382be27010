//! The rows of the current block, staged: per-row values (`Stage`) and the
//! per-logit buffers of a batch (`Scratch`).

use super::{BLOCK, COLUMNS_UP_TO, PLANES_UP_TO, SIGMOID_BATCH, SIGMOID_COLUMNS_UP_TO, sigmoid_batch_rows, vec_bytes};
use crate::loss::Mode;

/// A row's side of the loss CDF it has no logit of ([`Stage::fl_pos`]):
/// the histograms take only values ≥ 0.
pub(super) const NO_SAMPLE: f64 = -1.0;

/// Per-row values of the current block (BLOCK rows; `fl` is G × BLOCK),
/// one field per quantity.
#[derive(Default)]
pub(super) struct Stage {
    /// Rows staged.
    pub(super) n: usize,
    pub(super) label: Vec<usize>,
    /// The first argmax.
    pub(super) argmax: Vec<usize>,
    /// Whether the argmax is the label.
    pub(super) correct: Vec<bool>,
    /// α of the label.
    pub(super) alpha_t: Vec<f64>,
    /// Softmax: `S = Σ_{i≠j} exp(z_i − z_j)`, `e_t = exp(z_t − z_j)`, the
    /// logit gap `z_j − z_t` and half of it.
    pub(super) s: Vec<f64>,
    pub(super) e_t: Vec<f64>,
    pub(super) gap: Vec<f64>,
    pub(super) half_gap: Vec<f64>,
    /// Rows whose target is the argmax with S < 1e-290, and their ln S from
    /// the logits.
    pub(super) rare: Vec<bool>,
    pub(super) rare_ln_s: Vec<f64>,
    /// p_t, CE and the focal loss per γ (`fl[g · BLOCK + r]`).
    pub(super) p: Vec<f64>,
    pub(super) ce: Vec<f64>,
    pub(super) fl: Vec<f64>,
    /// Per γ as `fl`, the per-row gradient sums ([`super::gradient`]):
    /// the positive's (softmax: the target's) |dFL/dz|, it where easy, the
    /// negatives' and the easy negatives' (sigmoid).
    pub(super) grad_pos: Vec<f64>,
    pub(super) grad_pos_easy: Vec<f64>,
    pub(super) grad_neg: Vec<f64>,
    pub(super) grad_neg_easy: Vec<f64>,
    /// Sigmoid, per γ as `fl`: the positive's focal term with α = 1 (the
    /// balancing α's sums).
    pub(super) pos: Vec<f64>,
    /// Sigmoid, per γ as `fl`: each row's weighted focal loss of its
    /// positives and of its negatives, the samples of the per-side loss
    /// CDFs ([`super::loss_cdf`], from [`super::sigmoid_gamma`]); [`NO_SAMPLE`]
    /// for a side the row has no logit of.
    pub(super) fl_pos: Vec<f64>,
    pub(super) fl_neg: Vec<f64>,
    /// Whether CE or a focal loss was clamped to `f64::MAX`.
    pub(super) saturated: Vec<bool>,
    /// Softmax: ln(1 + S), 1 − p_t and ln(1 − p_t).
    pub(super) ln_den: Vec<f64>,
    pub(super) om: Vec<f64>,
    pub(super) ln_om: Vec<f64>,
    /// Softmax: the modulating factor `(1 − p_t)^γ` of one γ, and the
    /// repeated squares of `1 − p_t` it is powered from.
    pub(super) factor: Vec<f64>,
    pub(super) squares: Vec<f64>,
    /// Each row's p_t bin (as a float: compared in vector lanes).
    pub(super) bin: Vec<f64>,
    /// Each row's slot in [`PerClass`](super::per_class::PerClass) (where
    /// slots are not the classes).
    pub(super) slot: Vec<usize>,
    /// ln CE per row, for rows staged from [`Examples`](super::Examples)
    /// (`cached`).
    pub(super) ln_ce: Vec<f64>,
    /// The block's rows came from [`Examples`](super::Examples): their p,
    /// CE, 1 − p_t and ln(1 − p_t) are staged already.
    pub(super) cached: bool,
}

impl Stage {
    /// Room for a block of rows and `gammas` losses per row.
    pub(super) fn new(gammas: usize) -> Self {
        let f = || vec![0.0; BLOCK];
        Stage {
            n: 0,
            label: vec![0; BLOCK],
            argmax: vec![0; BLOCK],
            correct: vec![false; BLOCK],
            alpha_t: f(),
            s: f(),
            e_t: f(),
            gap: f(),
            half_gap: f(),
            rare: vec![false; BLOCK],
            rare_ln_s: f(),
            p: f(),
            ce: f(),
            fl: vec![0.0; BLOCK * gammas],
            grad_pos: vec![0.0; BLOCK * gammas],
            grad_pos_easy: vec![0.0; BLOCK * gammas],
            grad_neg: vec![0.0; BLOCK * gammas],
            grad_neg_easy: vec![0.0; BLOCK * gammas],
            pos: vec![0.0; BLOCK * gammas],
            fl_pos: vec![0.0; BLOCK * gammas],
            fl_neg: vec![0.0; BLOCK * gammas],
            saturated: vec![false; BLOCK],
            ln_den: f(),
            om: f(),
            ln_om: f(),
            factor: f(),
            squares: f(),
            bin: f(),
            slot: vec![0; BLOCK],
            ln_ce: Vec::new(),
            cached: false,
        }
    }

    /// Heap memory held, in bytes (`ln_ce`, sized only for kept examples, aside).
    pub(super) fn heap_bytes(&self) -> usize {
        let floats = [
            &self.alpha_t,
            &self.s,
            &self.e_t,
            &self.gap,
            &self.half_gap,
            &self.rare_ln_s,
            &self.p,
            &self.ce,
            &self.fl,
            &self.grad_pos,
            &self.grad_pos_easy,
            &self.grad_neg,
            &self.grad_neg_easy,
            &self.pos,
            &self.fl_pos,
            &self.fl_neg,
            &self.ln_den,
            &self.om,
            &self.ln_om,
            &self.factor,
            &self.squares,
            &self.bin,
        ];
        vec_bytes(&self.label)
            + vec_bytes(&self.slot)
            + vec_bytes(&self.argmax)
            + vec_bytes(&self.correct)
            + vec_bytes(&self.rare)
            + vec_bytes(&self.saturated)
            + floats.iter().map(|x| vec_bytes(x)).sum::<usize>()
    }
}

/// The buffers of one batch of rows, one per role; only those of the
/// sweep's mode are allocated.
#[derive(Default)]
pub(super) struct Scratch {
    /// Softmax, class-major batches (K ≤ 16, or class planes): the batch
    /// (class `c`'s logits at `c · n ..`), each replaced in place by
    /// `exp(z − z_j)`.
    pub(super) columns: Vec<f64>,
    /// Class-major batches: each row's largest logit.
    pub(super) top: Vec<f64>,
    /// Softmax, class-major batches: each row's label logit `z_t`.
    pub(super) z_t: Vec<f64>,
    /// Sigmoid, per logit (class-major for K ≤ 16 and class planes): `u = z` for the label,
    /// `−z` for the other classes, and its weight α or 1 − α.
    pub(super) u: Vec<f64>,
    pub(super) weight: Vec<f64>,
    /// Sigmoid, per logit: `e^−|u|`.
    pub(super) exp: Vec<f64>,
    /// Sigmoid, per logit: `softplus(u) = −ln(1 − p)`, built in place from
    /// its term `ln_1p(e^−|u|)`, which `bce` shares.
    pub(super) softplus: Vec<f64>,
    /// Sigmoid, per logit: `BCE = softplus(−u)`.
    pub(super) bce: Vec<f64>,
    /// Sigmoid, per logit: `1 − p = σ(−u)`.
    pub(super) om: Vec<f64>,
    /// Sigmoid, per logit and for one γ: the modulating factor, the
    /// repeated squares of `1 − p` it is powered from, and the focal loss.
    pub(super) factor: Vec<f64>,
    pub(super) squares: Vec<f64>,
    pub(super) loss: Vec<f64>,
    /// Sigmoid, per logit: `p = σ(u)` (from the reciprocal `1 − p` takes),
    /// and 1 for a negative, 0 for the positive (gradient sums).
    pub(super) p: Vec<f64>,
    pub(super) neg: Vec<f64>,
    /// Sigmoid, four batches: the masked terms and gradients summed by rows
    /// ([`super::sigmoid_gamma`]).
    pub(super) masked: Vec<f64>,
    /// Sigmoid, per row: where its positive is in the batch, its inputs and
    /// scratch ([`super::sigmoid_gamma::Batch`]).
    pub(super) pos_at: Vec<usize>,
    pub(super) pos_in: Vec<f64>,
    /// Class-major batches of K > 16: each row's eight lane sums over its
    /// classes (lane-major), and their compensation.
    pub(super) lanes: Vec<f64>,
    pub(super) carry: Vec<f64>,
}

impl Scratch {
    /// The buffers a batch of rows of `classes` logits needs in `mode`.
    pub(super) fn new(mode: Mode, classes: usize) -> Self {
        // Class-major batches hold a block of rows (a batch of rows of
        // K ≤ 16, or of class planes), sigmoid ones of more classes fewer
        // ([`sigmoid_batch_rows`]).
        let columns = BLOCK * classes.max(COLUMNS_UP_TO);
        let wide = classes > PLANES_UP_TO;
        // (Row-major, the kept rows' re-sweep takes up to `SIGMOID_BATCH`.)
        let batch = if wide { (sigmoid_batch_rows(classes) * classes).max(SIGMOID_BATCH) } else { columns };
        let v = || vec![0.0; batch];
        let per_row = || vec![0.0; BLOCK];
        // The lanes of a class-major batch's row sums (`row_sums`), with
        // their chunks' sums and errors above 64 classes.
        let lanes = match classes > COLUMNS_UP_TO {
            true if !wide => 8 * BLOCK,
            true if mode == Mode::Sigmoid && classes <= SIGMOID_COLUMNS_UP_TO => 24 * sigmoid_batch_rows(classes),
            _ => 0,
        };
        let (lanes, carry) = match lanes {
            0 => (Vec::new(), Vec::new()),
            _ => (vec![0.0; lanes], per_row()),
        };
        let scratch = match mode {
            // Only the class-major batches need buffers.
            Mode::Softmax => Scratch {
                columns: if classes <= PLANES_UP_TO { vec![0.0; columns] } else { Vec::new() },
                top: per_row(),
                z_t: per_row(),
                ..Scratch::default()
            },
            Mode::Sigmoid => Scratch {
                top: per_row(),
                u: v(),
                weight: v(),
                exp: v(),
                softplus: v(),
                bce: v(),
                om: v(),
                factor: v(),
                squares: v(),
                loss: v(),
                p: v(),
                neg: v(),
                masked: vec![0.0; 4 * batch],
                pos_at: vec![0; BLOCK],
                pos_in: vec![0.0; 7 * BLOCK],
                ..Scratch::default()
            },
        };
        Scratch { lanes, carry, ..scratch }
    }

    /// Heap memory held, in bytes.
    pub(super) fn heap_bytes(&self) -> usize {
        [
            &self.columns,
            &self.top,
            &self.z_t,
            &self.u,
            &self.weight,
            &self.exp,
            &self.softplus,
            &self.bce,
            &self.om,
            &self.factor,
            &self.squares,
            &self.loss,
            &self.p,
            &self.neg,
            &self.masked,
            &self.pos_in,
            &self.lanes,
            &self.carry,
        ]
        .iter()
        .map(|x| vec_bytes(x))
        .sum::<usize>()
            + vec_bytes(&self.pos_at)
    }
}
