//! The rows of the current block, staged: per-row values (`Stage`) and the
//! per-logit buffers of a batch (`Scratch`).

use super::{BATCH, BLOCK, COLUMNS_UP_TO, SIGMOID_BATCH, vec_bytes};
use crate::loss::Mode;

/// Per-row values of the current block (BLOCK rows; `fl` is G × BLOCK).
#[derive(Default)]
pub(super) struct Stage {
    pub(super) n: usize,
    pub(super) label: Vec<usize>,
    pub(super) argmax: Vec<usize>,
    pub(super) correct: Vec<bool>,
    pub(super) alpha_t: Vec<f64>,
    pub(super) s: Vec<f64>,
    pub(super) e_t: Vec<f64>,
    pub(super) gap: Vec<f64>,
    pub(super) half_gap: Vec<f64>,
    /// Rows whose target is the argmax with S < 1e-290, and their ln S from
    /// the logits.
    pub(super) rare: Vec<bool>,
    pub(super) rare_ln_s: Vec<f64>,
    pub(super) p: Vec<f64>,
    pub(super) ce: Vec<f64>,
    pub(super) fl: Vec<f64>,
    pub(super) saturated: Vec<bool>,
    pub(super) ln_den: Vec<f64>,
    pub(super) om: Vec<f64>,
    pub(super) ln_om: Vec<f64>,
    pub(super) m: Vec<f64>,
    pub(super) sq: Vec<f64>,
    /// Each row's p_t bin (as a float: compared in vector lanes).
    pub(super) bin: Vec<f64>,
    /// Each row's slot in [`PerClass`] (where slots are not the classes).
    pub(super) slot: Vec<usize>,
    /// ln CE per row, for rows staged from [`Examples`] (`cached`).
    pub(super) ln_ce: Vec<f64>,
    /// The block's rows came from [`Examples`]: their p, CE, 1 − p_t and
    /// ln(1 − p_t) are staged already.
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
            saturated: vec![false; BLOCK],
            ln_den: f(),
            om: f(),
            ln_om: f(),
            m: f(),
            sq: f(),
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
            &self.ln_den,
            &self.om,
            &self.ln_om,
            &self.m,
            &self.sq,
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

/// Flat per-logit buffers of one batch of rows.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) a: Vec<f64>,
    pub(super) w: Vec<f64>,
    pub(super) e: Vec<f64>,
    pub(super) l: Vec<f64>,
    pub(super) b: Vec<f64>,
    pub(super) om: Vec<f64>,
    pub(super) m: Vec<f64>,
    pub(super) sq: Vec<f64>,
    pub(super) x: Vec<f64>,
}

impl Scratch {
    /// The buffers a batch of rows of `classes` logits needs in `mode`.
    pub(super) fn new(mode: Mode, classes: usize) -> Self {
        let batch = if classes <= COLUMNS_UP_TO { BATCH } else { SIGMOID_BATCH.max(classes) };
        let v = || vec![0.0; batch];
        match mode {
            // Only the class-major batches of K ≤ 16 need a buffer.
            Mode::Softmax => Scratch { a: vec![0.0; BATCH], e: vec![0.0; BLOCK], ..Scratch::default() },
            Mode::Sigmoid => Scratch { a: v(), w: v(), e: v(), l: v(), b: v(), om: v(), m: v(), sq: v(), x: v() },
        }
    }

    /// Heap memory held, in bytes.
    pub(super) fn heap_bytes(&self) -> usize {
        [&self.a, &self.w, &self.e, &self.l, &self.b, &self.om, &self.m, &self.sq, &self.x]
            .iter()
            .map(|x| vec_bytes(x))
            .sum()
    }
}
