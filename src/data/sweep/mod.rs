//! The focal-loss sweep over a labelled dataset: for every γ of a list, the
//! mean focal loss, the share of it that easy examples carry, how
//! concentrated it is on the hardest examples, and the same per class — in
//! one pass, exact to 1e-12 relative, in memory independent of the number of
//! rows. Pure: no I/O, no UI types.
//!
//! # Per example
//! The formulas of [`crate::loss::softmax_focal`] and
//! [`crate::loss::sigmoid_focal`], specialised to what the sweep needs and
//! without per-example allocation:
//!
//! - **softmax**: `j` the first argmax, `e_i = exp(z_i − z_j)`,
//!   `S = Σ_{i≠j} e_i`, `p_t = e_t / (1 + S)`, `CE = (z_j − z_t) + ln_1p(S)`.
//!   When the target is the argmax and `S < 1`, `1 − p_t = S / (1 + S)` and
//!   `ln(1 − p_t) = ln S − ln_1p(S)` (no `1 − p_t` is formed where `p_t` is
//!   near 1; below `S = 1e-290`, `ln S` is a log-sum-exp over the other
//!   classes, exact where `S` underflows); otherwise `p_t ≤ ½`,
//!   `1 − p_t` is exact to an ulp and `ln(1 − p_t) = ln_1p(−p_t)`.
//! - **sigmoid**: every class its own binary problem, the label the positive
//!   (weight α), every other class a negative (weight 1 − α); with `u = ±z`,
//!   `BCE = softplus(−u)`, `1 − p = σ(−u)`, `ln(1 − p) = −softplus(u)`; the
//!   example's CE and FL are the sums over its classes.
//! - For every γ: `FL = α_t · (1 − p_t)^γ · CE`, the factor exactly 1 for
//!   γ = 0. For γ a multiple of ½ up to 32 the factor is `(1 − p_t)^⌊γ⌋`
//!   by binary powering, times `√(1 − p_t)` for a half: at most 2 log2 γ + 2
//!   roundings, more accurate than `exp(γ · ln(1 − p_t))`, whose error grows
//!   with `|γ · ln(1 − p_t)|` (the default γs 0, ½, 1, 2, 5 all take this
//!   path); other γs take the exponential. Wherever the factor or CE leaves
//!   the normal range the product is `exp(ln α + γ · ln(1 − p_t) + ln CE)`,
//!   exactly as [`crate::loss::sum::weighted_product`] takes it; values above
//!   `f64::MAX` saturate to it ([`crate::loss::sum::finish`]) and are counted
//!   in [`Report::saturated`].
//!
//! `exp` (for x ≤ 0), `ln` and `ln_1p` are this module's own branch-free
//! versions (Cody–Waite reduction and a degree-9 Chebyshev polynomial;
//! fdlibm's `log`), so that the compiler vectorises them over a batch of rows;
//! the unit tests hold each within 1 ulp of the C library's. Where one
//! reciprocal `1/(1 + x)` serves both `ln_1p`'s correction term and `1 − p`
//! (sigmoid; softmax with the target the argmax) that `1 − p` is within
//! 1.5 ulp instead of 0.5. On x86-64 the hot loops are compiled three times
//! (AVX-512, AVX2 — both with FMA — and the SSE2 baseline) and the widest the
//! CPU supports runs; with AVX-512, the sums of exponentials, the
//! transposition of float32 batches and the per-class sums (K ≤ 16, see
//! Speed) are written with intrinsics (`vmath::avx512`: the same bits,
//! faster).
//! FMA changes the last bit of some per-example values,
//! so CPUs with and without FMA differ by an ulp or two (the unit tests
//! check 1e-14 between them). A row's sum over its K classes is plain for
//! K ≤ 16 (≤ 15 ε) and compensated above (plain over chunks of eight, the
//! chunk sums with TwoSum: ≤ 8 ε). Per-example values agree with
//! `softmax_focal` / `sigmoid_focal` to 1e-13 (tests/data_sweep.rs; the
//! crate's `exp(γ·ln(1 − p))` is itself only that exact when
//! `|γ·ln(1 − p)|` is large).
//!
//! # Means
//! Rows are staged in blocks of 256; a block's per-example values are summed
//! in 32 lanes and then pairwise (≤ 12 ε relative), per class in row order
//! (≤ 255 ε), and the block sums go into compensated (Neumaier)
//! accumulators, which [`Accumulator::merge`] combines compensated. Every
//! mean is therefore within 1e-13 relative of the exact mean of the
//! per-example values (the mpmath references in tests/data_sweep.rs agree to
//! 1e-13). Block boundaries depend only on the order of the rows, not on how
//! they are split into [`Accumulator::add`] calls, so any batching gives
//! bit-identical results; merging the same accumulators in another order
//! changes a mean by about an ulp (≤ 1e-15), and splitting the rows among
//! accumulators differently regroups the blocks (≤ 1e-13). Sums are split
//! at 2^960 so that they never overflow, however many rows.
//!
//! # Concentration (`top_share_90`)
//! The smallest fraction of examples that carries 90 % of the total loss
//! needs the distribution of the per-example losses. It is kept in a
//! histogram with 16 bins per binade (the f64's exponent and its top 4
//! mantissa bits, so every value from 0 to `f64::MAX` has its bin), per γ and
//! for CE, with the exact count and the exact sum of each bin (an integer sum
//! of significands, independent of the order of the rows). Walking the bins
//! from the largest, the bin where the cumulative loss reaches 90 %
//! contributes `⌈R / mean⌉` of its examples, `R` the loss still needed.
//! Since every loss in a bin of normal numbers lies in `[lo, lo·17/16)`, the
//! reported fraction `f` and the exact one `f*` (sort all losses, take the
//! fewest largest) satisfy
//!
//! ```text
//! f*  ≤  f  <  f* · (1 + 1/16) + 1/N
//! ```
//!
//! (for a crossing bin of losses ≥ 2.2e-308; below that bins are wider; an
//! exact tie, such as equal losses, is resolved downwards).
//! Memory: 512 KiB per histogram, γs + 1 histograms per accumulator —
//! 3 MiB for the default five γs, whatever the number of rows; [`sweep`]
//! keeps two accumulators per thread.
//!
//! # Speed
//! Per block of rows, everything runs in vector lanes: for K ≤ 16 the batch
//! is transposed (class-major) so that argmax, exponentials and row sums run
//! across rows; for larger K each row's exponentials are summed as they are
//! computed. A block's sums of each loss (over all rows and over the easy
//! ones) take one pass, and saturation only reads the losses unless one is
//! +∞. With up to 32 classes (p_t bins), a block's rows are counted per
//! class (bin) by one compare-and-count pass each, not by an increment at a
//! computed address per row; with AVX-512 and up to 16 classes, the
//! per-class sums are masked adds into the lanes of registers (the same
//! additions in the same order). On the 2-core development VM (AVX-512)
//! `benches/data_sweep.rs` runs 1 000 000 × 10 float32 rows in 40–60 ms
//! (softmax); what dominates there is the per-γ bookkeeping of each row
//! (its loss-histogram bin: a read-modify-write at a computed address, six
//! per row), not the arithmetic. README: end to end against numpy.

mod columns;
mod factor;
mod histogram;
mod isa;
mod limits;
mod per_class;
mod sums;

use columns::{column_argmax, row_sums, transpose};
use factor::{Power, weigh};
use histogram::{LossHistograms, MAX_VALUES};
#[cfg(target_arch = "x86_64")]
use isa::{batch_avx2, batch_avx512, block_avx2, block_avx512};
use limits::{abnormal, normal, saturate};
use per_class::PerClass;
use sums::{BIG, LaneSum, Neumaier, WideSum, ZERO_SUM, add_block, put};

use crate::loss::sum::weighted_product;
use crate::loss::{Alpha, Mode, argmax};
#[cfg(target_arch = "x86_64")]
use crate::vmath::avx512;
use crate::vmath::{Simd, exp_fast, ln_1p_fast, ln_fast, ln_sum};
use std::mem::take;

use rayon::prelude::*;
use serde::Serialize;

/// The γ values of the paper's Figure 1 and Table 1.
pub const DEFAULT_GAMMAS: [f64; 5] = [0.0, 0.5, 1.0, 2.0, 5.0];
/// Bins of the p_t histogram over [0, 1].
pub const DEFAULT_BINS: usize = 20;
/// The share of the total loss that `top_share_90` is about.
pub const TOP_MASS: f64 = 0.9;
/// Relative width of a loss-histogram bin: every normal loss in a bin lies in
/// `[lo, lo · (1 + LOSS_BIN_WIDTH))`.
pub const LOSS_BIN_WIDTH: f64 = 1.0 / 16.0;

/// Rows per block: the unit of staging and of the pairwise sums.
const BLOCK: usize = 256;
/// Logits per batch of rows run through the vectorised kernels together
/// (class-major batches: K ≤ 16 times a block of rows).
const BATCH: usize = 4096;
/// Logits per row-major sigmoid batch (its nine buffers stay in L1/L2).
const SIGMOID_BATCH: usize = 1024;
/// Parts per rayon thread in [`sweep`] (whole blocks of rows each).
const PARTS_PER_THREAD: usize = 2;
/// Up to this K a batch is transposed and processed class-major.
const COLUMNS_UP_TO: usize = 16;
/// Up to this many classes (p_t bins), a block's rows are counted per class
/// (bin) by a compare-and-count pass per class in vector lanes: cheaper
/// than an increment at a computed address per row.
const COUNT_BY_PASSES_UP_TO: usize = 32;
/// Below this `S`, `ln S` is recomputed from the logits (as the crate does).
const TINY_S: f64 = 1e-290;

/// A logit as a file stores it (float32 or float64): converted exactly to
/// f64 for the arithmetic, and compared in its own type where only the
/// order matters (the same order, the conversion being exact).
pub trait Logit: Copy + Into<f64> + PartialOrd + 'static {}
impl<T: Copy + Into<f64> + PartialOrd + 'static> Logit for T {}

/// What to sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// γ values, each finite and ≥ 0.
    pub gammas: Vec<f64>,
    /// Scalar, or one weight per class (K of them).
    pub alpha: Alpha,
    pub mode: Mode,
    /// Bins of the p_t histogram over [0, 1], at least 1.
    pub bins: usize,
}

impl Default for Config {
    /// γ ∈ {0, 0.5, 1, 2, 5}, α = 0.25, softmax, 20 bins.
    fn default() -> Self {
        Config { gammas: DEFAULT_GAMMAS.to_vec(), alpha: Alpha::Scalar(0.25), mode: Mode::Softmax, bins: DEFAULT_BINS }
    }
}

/// The sweep's result; every number is finite. A class with no rows has no
/// means (absent from JSON); shares of a zero total are 0; the dataset-wide
/// means and fractions of an empty sweep are 0 (`data` refuses one before
/// reporting).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub rows: u64,
    pub classes: usize,
    /// `"softmax"` or `"sigmoid"`.
    pub mode: &'static str,
    /// Share of rows whose first argmax is the label.
    pub accuracy: f64,
    /// Mean CE (−ln p_t; in sigmoid mode the sum of the classes' BCE).
    pub mean_cross_entropy: f64,
    /// Share of rows with p_t ≥ 0.5 (the label's σ in sigmoid mode).
    pub easy_fraction: f64,
    /// Rows with a CE or focal loss above `f64::MAX`, clamped to it.
    pub saturated: u64,
    /// One row per γ, in the order of [`Config::gammas`].
    pub sweep: Vec<SweepRow>,
    /// One entry per class, 0..K.
    pub per_class: Vec<ClassStats>,
    /// Rows per p_t bin: bin `i` holds `⌊p_t · bins⌋ = i` (p_t = 1 in the last).
    pub histogram: Vec<u64>,
}

/// The sweep at one γ.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepRow {
    pub gamma: f64,
    pub mean_focal_loss: f64,
    /// Share of the total focal loss carried by easy examples (p_t ≥ 0.5).
    pub easy_share: f64,
    /// The same share of the total cross entropy (independent of γ).
    pub easy_share_ce: f64,
    /// Smallest fraction of the examples that carries 90 % of the total focal
    /// loss (the paper's Figure 4), to the bound in the module documentation.
    pub top_share_90: f64,
    /// The same for the cross entropy (independent of γ).
    pub top_share_90_ce: f64,
}

/// One class's rows (the rows whose label it is).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassStats {
    pub class: usize,
    pub count: u64,
    /// `None` when the class has no rows: a mean over none is undefined.
    #[serde(flatten)]
    pub means: Option<ClassMeans>,
    /// This class's share of the total focal loss, one per γ.
    pub share: Vec<f64>,
}

/// The means over a class's rows (at least one).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassMeans {
    pub accuracy: f64,
    pub mean_cross_entropy: f64,
    /// One per γ.
    pub mean_focal_loss: Vec<f64>,
}

/// Runs the whole sweep on every core: rows in chunks, one [`Accumulator`]
/// per rayon job, merged. `logits` is row-major, `classes` values per row
/// (f64, or any type that converts exactly: f32, `half::f16`).
///
/// # Panics
/// As [`Accumulator::new`] and [`Accumulator::add`].
pub fn sweep<T: Logit + Sync>(config: &Config, classes: usize, logits: &[T], labels: &[usize]) -> Report {
    assert!(classes > 0, "at least one class");
    assert_eq!(logits.len(), labels.len() * classes, "{} logits for {} rows of {classes}", logits.len(), labels.len());
    // A few contiguous parts per thread: an accumulator costs its
    // histograms' pages and a merge, so there are few of them.
    let parts = PARTS_PER_THREAD * rayon::current_num_threads();
    let rows_per_part = labels.len().div_ceil(parts).next_multiple_of(BLOCK).max(BLOCK);
    labels
        .par_chunks(rows_per_part)
        .zip(logits.par_chunks(rows_per_part * classes))
        .map(|(labels, logits)| {
            let mut acc = Accumulator::new(config, classes);
            acc.add(logits, labels);
            acc
        })
        .reduce_with(|mut a, b| {
            a.merge(b);
            a
        })
        .unwrap_or_else(|| Accumulator::new(config, classes))
        .finish()
}

/// Bytes an [`Examples`] row holds: its label, whether it is right, and
/// five f64.
pub const EXAMPLE_BYTES: u64 = 4 + 1 + 5 * 8;

/// Each row's softmax values, kept by [`Accumulator::keeping_examples`], so
/// that the sweep at other γs and αs ([`Examples::sweep`]) costs a few
/// multiplications per row and γ instead of K exponentials: what the
/// explorer's dataset view recomputes on every keystroke. [`EXAMPLE_BYTES`] a row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Examples {
    classes: usize,
    label: Vec<u32>,
    correct: Vec<bool>,
    p: Vec<f64>,
    /// −ln p_t, before saturation (+∞ where it exceeds `f64::MAX`).
    ce: Vec<f64>,
    /// 1 − p_t and ln(1 − p_t), each from the logits (module docs).
    om: Vec<f64>,
    ln_om: Vec<f64>,
    /// ln CE, for the losses that leave the normal range.
    ln_ce: Vec<f64>,
}

impl Examples {
    /// Rows kept.
    pub fn len(&self) -> usize {
        self.label.len()
    }

    pub fn is_empty(&self) -> bool {
        self.label.is_empty()
    }

    /// K, the number of classes of the rows.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.label.capacity() * 4 + self.correct.capacity() + 8 * self.p.capacity() * 5
    }

    /// The sweep's report over these rows at `config`'s γs, α and bins, on
    /// every core. Equal to the report of the logits the rows came from,
    /// bit for bit, but in rows whose loss leaves the normal range, which
    /// may differ by an ulp (ln(1 − p_t) from this module's log instead of
    /// the C library's) and in the regrouping of blocks among threads
    /// (module docs, ≤ 1e-13).
    ///
    /// # Panics
    /// If `config` is in sigmoid mode, or as [`Accumulator::new`].
    pub fn sweep(&self, config: &Config) -> Report {
        assert_eq!(config.mode, Mode::Softmax, "examples hold softmax rows");
        let parts = PARTS_PER_THREAD * rayon::current_num_threads();
        let rows_per_part = self.len().div_ceil(parts).next_multiple_of(BLOCK).max(BLOCK);
        let starts: Vec<usize> = (0..self.len()).step_by(rows_per_part).collect();
        starts
            .par_iter()
            .map(|&start| {
                let mut acc = Accumulator::new(config, self.classes);
                acc.add_examples(self, start..(start + rows_per_part).min(self.len()));
                acc
            })
            .reduce_with(|mut a, b| {
                a.merge(b);
                a
            })
            .unwrap_or_else(|| Accumulator::new(config, self.classes.max(1)))
            .finish()
    }

    /// Appends `other`'s rows after these.
    fn append(&mut self, mut other: Examples) {
        self.label.append(&mut other.label);
        self.correct.append(&mut other.correct);
        self.p.append(&mut other.p);
        self.ce.append(&mut other.ce);
        self.om.append(&mut other.om);
        self.ln_om.append(&mut other.ln_om);
        self.ln_ce.append(&mut other.ln_ce);
    }
}

/// Running sums of a sweep over any number of rows, in bounded memory
/// ([`Accumulator::heap_bytes`]). Feed rows with [`add`](Accumulator::add),
/// combine partial results of other threads with
/// [`merge`](Accumulator::merge), and read the [`Report`] with
/// [`finish`](Accumulator::finish).
pub struct Accumulator {
    classes: usize,
    gammas: Vec<f64>,
    powers: Vec<Power>,
    mode: Mode,
    bins: usize,
    alpha: Alpha,
    simd: Simd,
    /// α of each class as the target (softmax) or the positive (sigmoid);
    /// empty for a scalar α in softmax, which needs no table.
    alpha_pos: Vec<f64>,
    /// 1 − α of each class as a negative (sigmoid).
    alpha_neg: Vec<f64>,
    rows: u64,
    correct: u64,
    easy: u64,
    saturated: u64,
    ce: WideSum,
    ce_easy: WideSum,
    fl: Vec<WideSum>,
    fl_easy: Vec<WideSum>,
    /// Count, correct count and sums of each class.
    per_class: PerClass,
    pt_hist: Vec<u64>,
    /// One per γ, then CE.
    loss_hist: LossHistograms,
    stage: Stage,
    scratch: Scratch,
    /// Every row's per-example values, when kept ([`Accumulator::keeping_examples`]).
    kept: Option<Examples>,
}

/// Per-row values of the current block (BLOCK rows; `fl` is G × BLOCK).
#[derive(Default)]
struct Stage {
    n: usize,
    label: Vec<usize>,
    argmax: Vec<usize>,
    correct: Vec<bool>,
    alpha_t: Vec<f64>,
    s: Vec<f64>,
    e_t: Vec<f64>,
    gap: Vec<f64>,
    half_gap: Vec<f64>,
    /// Rows whose target is the argmax with S < 1e-290, and their ln S from
    /// the logits.
    rare: Vec<bool>,
    rare_ln_s: Vec<f64>,
    p: Vec<f64>,
    ce: Vec<f64>,
    fl: Vec<f64>,
    saturated: Vec<bool>,
    ln_den: Vec<f64>,
    om: Vec<f64>,
    ln_om: Vec<f64>,
    m: Vec<f64>,
    sq: Vec<f64>,
    /// Each row's p_t bin (as a float: compared in vector lanes).
    bin: Vec<f64>,
    /// Each row's slot in [`PerClass`] (where slots are not the classes).
    slot: Vec<usize>,
    /// ln CE per row, for rows staged from [`Examples`] (`cached`).
    ln_ce: Vec<f64>,
    /// The block's rows came from [`Examples`]: their p, CE, 1 − p_t and
    /// ln(1 − p_t) are staged already.
    cached: bool,
}

impl Stage {
    /// Regime A of staged softmax row `r`: the target is the argmax and S < 1.
    fn regime_a(&self, r: usize) -> bool {
        self.correct[r] && self.s[r] < 1.0
    }

    /// ln S of staged softmax row `r` (from the logits where S is tiny).
    fn ln_s(&self, r: usize) -> f64 {
        if self.rare[r] { self.rare_ln_s[r] } else { self.s[r].ln() }
    }

    /// ln(1 − p_t) of staged softmax row `r`, with the C library's logs.
    fn ln_om_exact(&self, r: usize) -> f64 {
        if self.regime_a(r) { self.ln_s(r) - self.ln_den[r] } else { (-self.p[r]).ln_1p() }
    }

    /// ln CE of staged softmax row `r`, also where CE is subnormal (≈ S) or
    /// above `f64::MAX` (from half the logit gap).
    fn ln_ce(&self, r: usize) -> f64 {
        let c = self.ce[r];
        if self.regime_a(r) {
            if c >= f64::MIN_POSITIVE { c.ln() } else { self.ln_s(r) }
        } else if c.is_finite() {
            c.ln()
        } else {
            (self.half_gap[r] + self.ln_den[r] * 0.5).ln() + std::f64::consts::LN_2
        }
    }
}

/// Flat per-logit buffers of one batch of rows.
#[derive(Default)]
struct Scratch {
    a: Vec<f64>,
    w: Vec<f64>,
    e: Vec<f64>,
    l: Vec<f64>,
    b: Vec<f64>,
    om: Vec<f64>,
    m: Vec<f64>,
    sq: Vec<f64>,
    x: Vec<f64>,
}

impl Accumulator {
    /// An empty accumulator for rows of `classes` logits.
    ///
    /// # Panics
    /// If `classes` is 0, `bins` is 0, or a per-class α has other than
    /// `classes` values.
    pub fn new(config: &Config, classes: usize) -> Self {
        assert!(classes > 0, "at least one class");
        assert!(config.bins > 0, "at least one p_t bin");
        if let Alpha::PerClass(v) = &config.alpha {
            assert_eq!(v.len(), classes, "{} α values for {classes} classes", v.len());
        }
        let g = config.gammas.len();
        let alpha_pos: Vec<f64> = match (&config.alpha, config.mode) {
            (Alpha::Scalar(_), Mode::Softmax) => Vec::new(),
            _ => (0..classes).map(|c| config.alpha.of(c)).collect(),
        };
        let alpha_neg = match config.mode {
            Mode::Softmax => Vec::new(),
            Mode::Sigmoid => alpha_pos.iter().map(|a| 1.0 - a).collect(),
        };
        let batch = if classes <= COLUMNS_UP_TO { BATCH } else { SIGMOID_BATCH.max(classes) };
        let v = || vec![0.0; batch];
        let scratch = match config.mode {
            // Only the class-major batches of K ≤ 16 need a buffer.
            Mode::Softmax => Scratch { a: vec![0.0; BATCH], e: vec![0.0; BLOCK], ..Scratch::default() },
            Mode::Sigmoid => Scratch { a: v(), w: v(), e: v(), l: v(), b: v(), om: v(), m: v(), sq: v(), x: v() },
        };
        let f = || vec![0.0; BLOCK];
        let stage = Stage {
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
            fl: vec![0.0; BLOCK * g],
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
        };
        Accumulator {
            classes,
            gammas: config.gammas.clone(),
            powers: config.gammas.iter().map(|&g| Power::of(g)).collect(),
            mode: config.mode,
            bins: config.bins,
            alpha: config.alpha.clone(),
            simd: Simd::detect(),
            alpha_pos,
            alpha_neg,
            rows: 0,
            correct: 0,
            easy: 0,
            saturated: 0,
            ce: WideSum::default(),
            ce_easy: WideSum::default(),
            fl: vec![WideSum::default(); g],
            fl_easy: vec![WideSum::default(); g],
            per_class: PerClass::new(classes, g + 1),
            pt_hist: vec![0; config.bins],
            loss_hist: LossHistograms::new(g + 1),
            stage,
            scratch,
            kept: None,
        }
    }

    /// This accumulator, also keeping each row's per-example values for
    /// [`Examples::sweep`] ([`Accumulator::finish_keeping`] hands them out).
    ///
    /// # Panics
    /// In sigmoid mode, whose per-example loss is a sum over the classes
    /// that no per-example value determines.
    pub fn keeping_examples(mut self) -> Self {
        assert_eq!(self.mode, Mode::Softmax, "only softmax rows have per-example values");
        self.kept = Some(Examples { classes: self.classes, ..Examples::default() });
        self
    }

    /// [`finish`](Self::finish), and the kept examples (in the order their
    /// rows were added and merged; empty unless kept).
    pub fn finish_keeping(mut self) -> (Report, Examples) {
        self.flush();
        let kept = self.kept.take().unwrap_or_default();
        (self.finish(), kept)
    }

    /// Adds the rows `range` of kept examples, as [`add`](Self::add) added
    /// their logits: no exponential or logarithm, and the same bits but in
    /// the rare rows whose loss leaves the normal range (within an ulp).
    fn add_examples(&mut self, ex: &Examples, range: std::ops::Range<usize>) {
        assert_eq!((ex.classes, self.mode), (self.classes, Mode::Softmax), "examples of another sweep");
        if !self.stage.cached {
            self.flush();
        }
        let mut done = range.start;
        while done < range.end {
            let take = (range.end - done).min(BLOCK - self.stage.n);
            let (rows, st) = (done..done + take, &mut self.stage);
            if st.n == 0 {
                st.cached = true;
                st.ln_ce.resize(BLOCK, 0.0);
            }
            let at = st.n..st.n + take;
            for (l, &t) in st.label[at.clone()].iter_mut().zip(&ex.label[rows.clone()]) {
                *l = t as usize;
            }
            match &self.alpha {
                Alpha::Scalar(a) => st.alpha_t[at.clone()].fill(*a),
                Alpha::PerClass(_) => {
                    for (a, &t) in st.alpha_t[at.clone()].iter_mut().zip(&ex.label[rows.clone()]) {
                        *a = self.alpha_pos[t as usize];
                    }
                }
            }
            st.correct[at.clone()].copy_from_slice(&ex.correct[rows.clone()]);
            st.p[at.clone()].copy_from_slice(&ex.p[rows.clone()]);
            st.ce[at.clone()].copy_from_slice(&ex.ce[rows.clone()]);
            st.om[at.clone()].copy_from_slice(&ex.om[rows.clone()]);
            st.ln_om[at.clone()].copy_from_slice(&ex.ln_om[rows.clone()]);
            st.ln_ce[at.clone()].copy_from_slice(&ex.ln_ce[rows]);
            st.saturated[at].fill(false);
            st.n += take;
            done += take;
            if st.n == BLOCK {
                self.flush();
            }
        }
    }

    /// Adds rows: `logits` row-major, K per row, and one label per row.
    /// Logits must be finite (the readers reject others).
    ///
    /// # Panics
    /// If `logits.len() ≠ K · labels.len()`, a label is ≥ K, or the rows
    /// would reach 2^40 (the loss histograms' capacity; 40 TB of float32
    /// logits at K = 10).
    pub fn add<T: Logit>(&mut self, logits: &[T], labels: &[usize]) {
        let k = self.classes;
        assert_eq!(logits.len(), labels.len() * k, "{} logits for {} rows of {k}", logits.len(), labels.len());
        if let Some(t) = labels.iter().find(|&&t| t >= k) {
            panic!("label {t} out of range for {k} classes");
        }
        let per_batch = match self.mode {
            Mode::Sigmoid if k > COLUMNS_UP_TO => (SIGMOID_BATCH / k).max(1),
            _ => (BATCH / k).max(1),
        };
        if self.stage.cached {
            self.flush();
        }
        let mut done = 0;
        while done < labels.len() {
            let take = (labels.len() - done).min(per_batch).min(BLOCK - self.stage.n);
            let (z, t) = (&logits[done * k..(done + take) * k], &labels[done..done + take]);
            match self.simd {
                // SAFETY: `Simd::detect` found the features these are compiled for.
                #[cfg(target_arch = "x86_64")]
                Simd::Avx512 => unsafe { batch_avx512(self, z, t) },
                #[cfg(target_arch = "x86_64")]
                Simd::Avx2 => unsafe { batch_avx2(self, z, t) },
                _ => self.batch::<false, false, T>(z, t),
            }
            self.stage.n += take;
            done += take;
            if self.stage.n == BLOCK {
                self.flush();
            }
        }
    }

    /// Adds another accumulator's rows (same configuration and K).
    ///
    /// # Panics
    /// If the configurations or K differ.
    pub fn merge(&mut self, mut other: Accumulator) {
        assert!(
            self.classes == other.classes
                && self.gammas == other.gammas
                && self.mode == other.mode
                && self.bins == other.bins
                && self.alpha == other.alpha,
            "merging accumulators of different sweeps"
        );
        self.flush();
        other.flush();
        self.rows += other.rows;
        assert!(self.rows < MAX_VALUES, "a sweep holds fewer than 2^40 rows");
        self.correct += other.correct;
        self.easy += other.easy;
        self.saturated += other.saturated;
        self.ce.merge(&other.ce);
        self.ce_easy.merge(&other.ce_easy);
        for (a, b) in self.fl.iter_mut().zip(&other.fl) {
            a.merge(b);
        }
        for (a, b) in self.fl_easy.iter_mut().zip(&other.fl_easy) {
            a.merge(b);
        }
        self.per_class.merge(&other.per_class);
        for (a, b) in self.pt_hist.iter_mut().zip(&other.pt_hist) {
            *a += b;
        }
        self.loss_hist.merge(&other.loss_hist);
        if let (Some(a), Some(b)) = (&mut self.kept, other.kept.take()) {
            a.append(b);
        }
    }

    /// The report over every row added or merged.
    pub fn finish(mut self) -> Report {
        self.flush();
        let rows = self.rows;
        let g = self.gammas.len();
        let fraction = |part: u64, all: u64| if all == 0 { 0.0 } else { part as f64 / all as f64 };
        let easy_share_ce = self.ce_easy.share_of(&self.ce);
        let top_share_90_ce = self.loss_hist.get(g).top_share(TOP_MASS, rows);
        let sweep = self
            .gammas
            .iter()
            .enumerate()
            .map(|(i, &gamma)| SweepRow {
                gamma,
                mean_focal_loss: self.fl[i].mean(rows).unwrap_or(0.0),
                easy_share: self.fl_easy[i].share_of(&self.fl[i]),
                easy_share_ce,
                top_share_90: self.loss_hist.get(i).top_share(TOP_MASS, rows),
                top_share_90_ce,
            })
            .collect();
        let per_class = (0..self.classes)
            .map(|c| {
                let pc = &self.per_class;
                let slot = pc.find(c);
                let (n, correct) = slot.map_or((0, 0), |s| (pc.count[s], pc.correct[s]));
                let sums: Vec<&WideSum> = match slot {
                    Some(s) => (0..=g).map(|q| &pc.sums[pc.at(s, q)]).collect(),
                    None => vec![&ZERO_SUM; g + 1],
                };
                let means = sums[0].mean(n).map(|mean_cross_entropy| ClassMeans {
                    accuracy: fraction(correct, n),
                    mean_cross_entropy,
                    mean_focal_loss: sums[1..].iter().filter_map(|s| s.mean(n)).collect(),
                });
                ClassStats {
                    class: c,
                    count: n,
                    means,
                    share: sums[1..].iter().zip(&self.fl).map(|(s, total)| s.share_of(total)).collect(),
                }
            })
            .collect();
        Report {
            rows,
            classes: self.classes,
            mode: self.mode.name(),
            accuracy: fraction(self.correct, rows),
            mean_cross_entropy: self.ce.mean(rows).unwrap_or(0.0),
            easy_fraction: fraction(self.easy, rows),
            saturated: self.saturated,
            sweep,
            per_class,
            histogram: self.pt_hist,
        }
    }

    /// Heap memory held, in bytes. It does not grow with the rows added:
    /// about (γs + 1) · 512 KiB, plus (γs + 1) · 40 + 20 bytes for each
    /// class seen (every class up to 64), 4 per class above 64 classes, and
    /// in sigmoid mode 88 per class (72 · max(K, 1024) at least).
    pub fn heap_bytes(&self) -> usize {
        fn v<T>(x: &Vec<T>) -> usize {
            x.capacity() * std::mem::size_of::<T>()
        }
        let st = &self.stage;
        let sc = &self.scratch;
        let floats = [
            &st.alpha_t,
            &st.s,
            &st.e_t,
            &st.gap,
            &st.half_gap,
            &st.rare_ln_s,
            &st.p,
            &st.ce,
            &st.fl,
            &st.ln_den,
            &st.om,
            &st.ln_om,
            &st.m,
            &st.sq,
            &st.bin,
            &sc.a,
            &sc.w,
            &sc.e,
            &sc.l,
            &sc.b,
            &sc.om,
            &sc.m,
            &sc.sq,
            &sc.x,
        ];
        v(&self.gammas)
            + v(&self.powers)
            + v(&self.alpha_pos)
            + v(&self.alpha_neg)
            + v(&self.fl)
            + v(&self.fl_easy)
            + self.per_class.heap_bytes()
            + v(&self.pt_hist)
            + self.loss_hist.heap_bytes()
            + v(&st.label)
            + v(&st.slot)
            + v(&st.argmax)
            + v(&st.correct)
            + v(&st.rare)
            + v(&st.saturated)
            + floats.iter().map(|x| v(x)).sum::<usize>()
    }

    /// One batch of rows (at most a block's remaining room).
    #[inline(always)]
    fn batch<const F: bool, const W: bool, T: Logit>(&mut self, logits: &[T], labels: &[usize]) {
        let columns = self.classes <= COLUMNS_UP_TO;
        match self.mode {
            Mode::Softmax if columns => self.softmax_columns::<F, W, T>(logits, labels),
            Mode::Softmax => self.softmax_rows::<F, W, T>(logits, labels),
            Mode::Sigmoid => self.sigmoid_rows::<F, W, T>(logits, labels, columns),
        }
    }

    /// [`softmax_rows`](Self::softmax_rows) for small K: the batch transposed
    /// (class-major) so that the argmax, the exponentials and the sums run
    /// across rows in vector lanes; each row's `S` is summed in class order.
    #[inline(always)]
    fn softmax_columns<const F: bool, const W: bool, T: Logit>(&mut self, logits: &[T], labels: &[usize]) {
        let (k, nb) = (self.classes, labels.len());
        let st = &mut self.stage;
        let base = st.n;
        let sc = &mut self.scratch;
        let (col, top) = (&mut sc.a[..k * nb], &mut sc.e[..nb]);
        let j = &mut st.argmax[base..base + nb];
        let done = transpose::<W, T>(col, logits, k, false, Some((&mut *top, &mut *j)));
        column_argmax(top, j, col, done);
        // e = exp(z − z_j) in place, and S = Σ_{i≠j} e_i in class order;
        // z_t (in `gap` for now) and e_t picked in the same pass (selects in
        // vector lanes rather than gathers, which are slow on many CPUs).
        let range = base..base + nb;
        let (s, zt, et) = (&mut st.s[range.clone()], &mut st.gap[range.clone()], &mut st.e_t[range.clone()]);
        s.fill(0.0);
        let mut done = 0;
        #[cfg(target_arch = "x86_64")]
        if W {
            // SAFETY: W only in `batch_avx512`, run where the CPU has AVX-512F.
            done = unsafe { avx512::column_exps(col, top, j, labels, s, zt, et) };
        }
        for (i, c) in col.chunks_exact_mut(nb).enumerate() {
            for r in done..nb {
                let z = c[r];
                let e = exp_fast::<F>(z - top[r]);
                c[r] = e;
                s[r] += if j[r] == i { 0.0 } else { e };
                let hit = labels[r] == i;
                zt[r] = if hit { z } else { zt[r] };
                et[r] = if hit { e } else { et[r] };
            }
        }
        st.label[range.clone()].copy_from_slice(labels);
        for ((gap, half), &zj) in st.gap[range.clone()].iter_mut().zip(&mut st.half_gap[range.clone()]).zip(top.iter())
        {
            let zt = *gap;
            *gap = zj - zt;
            *half = zj * 0.5 - zt * 0.5;
        }
        self.row_flags(labels, logits);
    }

    /// The staged rows' `correct`, `alpha_t` and `rare` flags (and ln S of
    /// the rare rows), from their labels and `argmax` and `s`.
    #[inline(always)]
    fn row_flags<T: Logit>(&mut self, labels: &[usize], logits: &[T]) {
        let st = &mut self.stage;
        let range = st.n..st.n + labels.len();
        let mut any_rare = false;
        for ((((c, rare), &j), &t), &s) in st.correct[range.clone()]
            .iter_mut()
            .zip(&mut st.rare[range.clone()])
            .zip(&st.argmax[range.clone()])
            .zip(labels)
            .zip(&st.s[range.clone()])
        {
            *c = j == t;
            *rare = j == t && s < TINY_S;
            any_rare |= *rare;
        }
        match &self.alpha {
            Alpha::Scalar(a) => st.alpha_t[range.clone()].fill(*a),
            Alpha::PerClass(_) => {
                for (a, &t) in st.alpha_t[range.clone()].iter_mut().zip(labels) {
                    *a = self.alpha_pos[t];
                }
            }
        }
        if any_rare {
            let k = self.classes;
            for (i, &t) in labels.iter().enumerate() {
                let r = range.start + i;
                if st.rare[r] {
                    st.rare_ln_s[r] = ln_mass_of_others(&logits[i * k..(i + 1) * k], t);
                }
            }
        }
    }

    /// Softmax, first half, for K > 16: per row the argmax, then `S` in one
    /// pass (`exp(z − z_j)` summed as it is computed, nothing stored), `e_t`,
    /// and the logit gap.
    #[inline(always)]
    fn softmax_rows<const F: bool, const W: bool, T: Logit>(&mut self, logits: &[T], labels: &[usize]) {
        let k = self.classes;
        let st = &mut self.stage;
        let base = st.n;
        for (i, (row, &t)) in logits.chunks_exact(k).zip(labels).enumerate() {
            let j = argmax(row);
            let zj: f64 = row[j].into();
            let mut sum = LaneSum::default();
            sum.add_exps::<F, W, T>(row, zj, j);
            let r = base + i;
            let zt: f64 = row[t].into();
            st.argmax[r] = j;
            st.s[r] = sum.value();
            // The same function as the vector lanes: the same bits.
            st.e_t[r] = exp_fast::<F>(zt - zj);
            st.gap[r] = zj - zt;
            st.half_gap[r] = zj * 0.5 - zt * 0.5;
        }
        st.label[base..base + labels.len()].copy_from_slice(labels);
        self.row_flags(labels, logits);
    }

    /// Softmax, second half, over the whole block: logs, modulating factors
    /// and losses, vectorised across rows (from the first step on, unless
    /// the rows came from [`Examples`] with these values staged).
    #[inline(always)]
    fn softmax_block<const F: bool>(&mut self) {
        if !self.stage.cached {
            self.softmax_values::<F>();
        }
        self.softmax_losses::<F>();
    }

    /// The block's p_t, CE, 1 − p_t and (when needed) ln(1 − p_t) from its
    /// staged S, e_t and logit gaps; kept, when examples are kept.
    #[inline(always)]
    fn softmax_values<const F: bool>(&mut self) {
        let st = &mut self.stage;
        let n = st.n;
        let s = &st.s[..n];
        let need_ln = self.kept.is_some() || self.powers.iter().any(|p| matches!(p, Power::Exp(_)));
        for (((ld, p), om), ((&s, &e), &a)) in st.ln_den[..n]
            .iter_mut()
            .zip(&mut st.p[..n])
            .zip(&mut st.om[..n])
            .zip(s.iter().zip(&st.e_t[..n]).zip(&st.correct[..n]))
        {
            // 1 + S = denom + lo exactly (Fast2Sum); one reciprocal serves
            // ln_1p's correction lo/denom and regime A's 1 − p = S/(1 + S)
            // (target = argmax, S < 1, e_t = 1). p itself is a quotient.
            let denom = 1.0 + s;
            let lo = if s <= 1.0 { (1.0 - denom) + s } else { (s - denom) + 1.0 };
            let inv = 1.0 / denom;
            *ld = ln_sum::<F>(denom, lo * inv);
            *p = e / denom;
            *om = if a && s < 1.0 { s * inv } else { 1.0 - *p };
        }
        for (((c, &gap), &ld), sat) in
            st.ce[..n].iter_mut().zip(&st.gap[..n]).zip(&st.ln_den[..n]).zip(&mut st.saturated[..n])
        {
            *c = gap + ld;
            *sat = false;
        }
        if need_ln {
            for (((lo, &s), &p), ((&a, &rare), (&rare_ln, &ld))) in st.ln_om[..n]
                .iter_mut()
                .zip(s)
                .zip(&st.p[..n])
                .zip(st.correct[..n].iter().zip(&st.rare[..n]).zip(st.rare_ln_s[..n].iter().zip(&st.ln_den[..n])))
            {
                let ln_s = if rare { rare_ln } else { ln_fast::<F>(s) };
                let ln_b = ln_1p_fast::<F>(-p);
                *lo = if a && s < 1.0 { ln_s - ld } else { ln_b };
            }
        }
        if let Some(kept) = &mut self.kept {
            kept.label.extend(st.label[..n].iter().map(|&t| t as u32));
            kept.correct.extend_from_slice(&st.correct[..n]);
            kept.p.extend_from_slice(&st.p[..n]);
            kept.ce.extend_from_slice(&st.ce[..n]);
            kept.om.extend_from_slice(&st.om[..n]);
            kept.ln_om.extend_from_slice(&st.ln_om[..n]);
            kept.ln_ce.extend((0..n).map(|r| st.ln_ce(r)));
        }
    }

    /// The block's focal losses for every γ from its staged values.
    #[inline(always)]
    fn softmax_losses<const F: bool>(&mut self) {
        let st = &mut self.stage;
        let n = st.n;
        // Out of the stage while written, so that the fallback can read it.
        let (mut fl_all, mut m, mut sq) = (take(&mut st.fl), take(&mut st.m), take(&mut st.sq));
        let inputs_bad = abnormal(&st.ce[..n]) | abnormal(&st.om[..n]);
        for (gi, &power) in self.powers.iter().enumerate() {
            let fl = &mut fl_all[gi * BLOCK..gi * BLOCK + n];
            let (m, om, ce, alpha_t) = (&mut m[..n], &st.om[..n], &st.ce[..n], &st.alpha_t[..n]);
            let bad = inputs_bad | weigh::<F>(fl, m, om, &st.ln_om[..n], &mut sq[..n], alpha_t, ce, power, 1.0);
            if bad {
                let gamma = self.gammas[gi];
                for r in 0..n {
                    let power_ok = !matches!(power, Power::Halves(_)) || normal(om[r]);
                    if normal(m[r]) && normal(ce[r]) && power_ok {
                        continue;
                    }
                    let ln_m = match power {
                        Power::One => 0.0,
                        _ if st.cached => gamma * st.ln_om[r],
                        _ => gamma * st.ln_om_exact(r),
                    };
                    let ln_ce = || if st.cached { st.ln_ce[r] } else { st.ln_ce(r) };
                    fl[r] = weighted_product(alpha_t[r], ln_m.exp(), ln_m, ce[r], ln_ce);
                }
            }
            saturate(fl, &mut st.saturated[..n]);
        }
        (st.fl, st.m, st.sq) = (fl_all, m, sq);
        saturate(&mut st.ce[..n], &mut st.saturated[..n]);
    }

    /// Sigmoid: everything per logit, vectorised over the batch; for small K
    /// (`columns`) the batch is transposed (class-major) so that the sums
    /// over each row's classes run across rows in vector lanes.
    #[inline(always)]
    fn sigmoid_rows<const F: bool, const W: bool, T: Logit>(&mut self, logits: &[T], labels: &[usize], columns: bool) {
        let (k, nb) = (self.classes, labels.len());
        let len = logits.len();
        let st = &mut self.stage;
        let base = st.n;
        let sc = &mut self.scratch;
        let (u, w, e, l, b) =
            (&mut sc.a[..len], &mut sc.w[..len], &mut sc.e[..len], &mut sc.l[..len], &mut sc.b[..len]);
        let (om, m, sq, x) = (&mut sc.om[..len], &mut sc.m[..len], &mut sc.sq[..len], &mut sc.x[..len]);
        // Logit (row r, class c) is at `at(r, c)`.
        let at = |r: usize, c: usize| if columns { c * nb + r } else { r * k + c };
        // u = z for the positive, −z for the negatives; w their weights.
        if columns {
            transpose::<W, T>(u, logits, k, true, None);
            for (wc, &a) in w.chunks_exact_mut(nb).zip(&self.alpha_neg) {
                wc.fill(a);
            }
            let (top, j) = (&mut x[..nb], &mut st.argmax[base..base + nb]);
            for (t, v) in top.iter_mut().zip(&u[..nb]) {
                *t = -*v;
            }
            j.fill(0);
            for (i, c) in u.chunks_exact(nb).enumerate().skip(1) {
                for ((t, j), &v) in top.iter_mut().zip(j.iter_mut()).zip(c) {
                    let gt = -v > *t;
                    *t = if gt { -v } else { *t };
                    *j = if gt { i } else { *j };
                }
            }
        } else {
            for (i, ((row, ur), wr)) in
                logits.chunks_exact(k).zip(u.chunks_exact_mut(k)).zip(w.chunks_exact_mut(k)).enumerate()
            {
                for (o, &z) in ur.iter_mut().zip(row) {
                    *o = -z.into();
                }
                wr.copy_from_slice(&self.alpha_neg);
                st.argmax[base + i] = argmax(row);
            }
        }
        for (i, (row, &t)) in logits.chunks_exact(k).zip(labels).enumerate() {
            let r = base + i;
            u[at(i, t)] = row[t].into();
            w[at(i, t)] = self.alpha_pos[t];
            st.label[r] = t;
            st.correct[r] = st.argmax[r] == t;
            st.saturated[r] = false;
        }
        // softplus(x) = max(x, 0) + ln_1p(e^-|x|): BCE = softplus(−u) in b,
        // −ln(1 − p) = softplus(u) in l, 1 − p = σ(−u) in om.
        for (((e, l), om), &u) in e.iter_mut().zip(l.iter_mut()).zip(om.iter_mut()).zip(u.iter()) {
            let v = exp_fast::<F>(-u.abs());
            // 1 + v = hi + lo exactly (v ≤ 1); one reciprocal serves ln_1p's
            // correction lo/hi and 1 − p = σ(−u).
            let hi = 1.0 + v;
            let inv = 1.0 / hi;
            *e = v;
            *l = ln_sum::<F>(hi, ((1.0 - hi) + v) * inv);
            *om = if u >= 0.0 { v * inv } else { inv };
        }
        for ((b, l), &u) in b.iter_mut().zip(l.iter_mut()).zip(u.iter()) {
            let lv = *l;
            *b = pos(-u) + lv;
            *l = pos(u) + lv;
        }
        let ce = &mut st.ce[base..base + nb];
        row_sums(ce, b, k, columns);
        saturate(ce, &mut st.saturated[base..base + nb]);
        for (i, &t) in labels.iter().enumerate() {
            let (et, ut) = (e[at(i, t)], u[at(i, t)]);
            st.p[base + i] = if ut >= 0.0 { 1.0 / (1.0 + et) } else { et / (1.0 + et) };
        }
        let inputs_bad = abnormal(b) | abnormal(om);
        for (gi, &power) in self.powers.iter().enumerate() {
            let bad = inputs_bad | weigh::<F>(x, m, om, l, sq, w, b, power, -1.0);
            if bad {
                let gamma = self.gammas[gi];
                for i in 0..len {
                    let (mv, bv) = (m[i], b[i]);
                    let power_ok = !matches!(power, Power::Halves(_)) || normal(om[i]);
                    if normal(mv) && normal(bv) && power_ok {
                        continue;
                    }
                    let ln_m = if gamma == 0.0 { 0.0 } else { -gamma * l[i] };
                    let uv = u[i];
                    x[i] =
                        weighted_product(w[i], ln_m.exp(), ln_m, bv, || if normal(bv) { bv.ln() } else { -uv }) + 0.0;
                }
            }
            let fl = &mut st.fl[gi * BLOCK + base..gi * BLOCK + base + nb];
            row_sums(fl, x, k, columns);
            saturate(fl, &mut st.saturated[base..base + nb]);
        }
    }

    /// Completes the staged block and adds it to the running sums.
    fn flush(&mut self) {
        if self.stage.n == 0 {
            return;
        }
        match self.simd {
            // SAFETY: `Simd::detect` found the features these are compiled for.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => unsafe { block_avx512(self) },
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { block_avx2(self) },
            _ => self.block::<false, false>(),
        }
    }

    #[inline(always)]
    fn block<const F: bool, const W: bool>(&mut self) {
        let n = self.stage.n;
        if self.mode == Mode::Softmax {
            self.softmax_block::<F>();
        }
        let g = self.gammas.len();
        let w = g + 1;
        let st = &mut self.stage;
        let (p, ce) = (&st.p[..n], &st.ce[..n]);
        self.rows += n as u64;
        assert!(self.rows < MAX_VALUES, "a sweep holds fewer than 2^40 rows");
        self.correct += st.correct[..n].iter().map(|&c| u64::from(c)).sum::<u64>();
        self.saturated += st.saturated[..n].iter().map(|&c| u64::from(c)).sum::<u64>();
        self.easy += p.iter().map(|&p| u64::from(p >= 0.5)).sum::<u64>();
        add_block(&mut self.ce, &mut self.ce_easy, ce, p);
        for ((all, easy), fl) in self.fl.iter_mut().zip(&mut self.fl_easy).zip(st.fl.chunks_exact(BLOCK)) {
            add_block(all, easy, &fl[..n], p);
        }
        let top = self.loss_hist.add_block(&st.fl, ce);
        // Per class: plain sums within the block (quantity-major: CE, then
        // FL per γ), then compensated; values of 2^960 and above (only after
        // saturation) go to the wide sums directly.
        let k = self.classes;
        let labels = &st.label[..n];
        let plain = top < LossHistograms::bin(BIG);
        let pc = &mut self.per_class;
        let dense = pc.dense();
        if !dense {
            pc.assign(labels, &mut st.slot[..n]);
        }
        let slots = if dense { labels } else { &st.slot[..n] };
        if k <= COUNT_BY_PASSES_UP_TO {
            for (c, (count, correct)) in pc.count.iter_mut().zip(&mut pc.correct).enumerate() {
                let (mut n_c, mut ok_c) = (0, 0);
                for (&t, &ok) in labels.iter().zip(&st.correct[..n]) {
                    let hit = u64::from(t == c);
                    n_c += hit;
                    ok_c += hit & u64::from(ok);
                }
                *count += n_c;
                *correct += ok_c;
            }
        } else {
            for (&s, &ok) in slots.iter().zip(&st.correct[..n]) {
                pc.count[s] += 1;
                pc.correct[s] += u64::from(ok);
            }
        }
        let quantity = |q: usize| if q == 0 { ce } else { &st.fl[(q - 1) * BLOCK..(q - 1) * BLOCK + n] };
        // With AVX-512 and few classes, the same sums in register lanes.
        let in_lanes = cfg!(target_arch = "x86_64") && W && plain && k <= 16;
        #[cfg(target_arch = "x86_64")]
        if in_lanes {
            // SAFETY: W only in `block_avx512`, run where the CPU has AVX-512F.
            unsafe { avx512::class_sums(&mut pc.block, k, labels, w, quantity) };
        }
        for q in (0..w).filter(|_| !in_lanes) {
            let xs = quantity(q);
            if dense {
                let local = &mut pc.block[q * k..(q + 1) * k];
                if plain {
                    for (&c, &x) in labels.iter().zip(xs) {
                        local[c] += x;
                    }
                } else {
                    let wide = &mut pc.sums[q * k..(q + 1) * k];
                    for (&c, &x) in labels.iter().zip(xs) {
                        put(&mut local[c], &mut wide[c], x);
                    }
                }
            } else {
                pc.add_sparse(slots, q, xs, plain);
            }
        }
        if dense {
            for (local, wide) in pc.block.iter_mut().zip(&mut pc.sums) {
                if *local != 0.0 {
                    wide.add(std::mem::take(local));
                }
            }
        } else {
            pc.merge_block(slots);
        }
        self.pt_histogram(n);
    }

    /// Adds the block's p_t to their bins and empties the block.
    #[inline(always)]
    fn pt_histogram(&mut self, n: usize) {
        let bins = self.bins;
        let st = &mut self.stage;
        if bins <= COUNT_BY_PASSES_UP_TO {
            let (scale, last) = (bins as f64, (bins - 1) as f64);
            for (b, &p) in st.bin[..n].iter_mut().zip(&st.p[..n]) {
                *b = (p * scale).floor().min(last);
            }
            for (b, count) in self.pt_hist.iter_mut().enumerate() {
                let b = b as f64;
                *count += st.bin[..n].iter().map(|&x| u64::from(x == b)).sum::<u64>();
            }
        } else {
            for &p in &st.p[..n] {
                self.pt_hist[((p * bins as f64) as usize).min(bins - 1)] += 1;
            }
        }
        self.stage.n = 0;
        self.stage.cached = false;
    }
}

#[inline(always)]
fn pos(x: f64) -> f64 {
    if x > 0.0 { x } else { 0.0 }
}

/// `ln Σ_{i≠t} exp(z_i − z_t)`, exact where the sum underflows (the crate's
/// formula: shifted by the largest other logit); −∞ without other classes.
fn ln_mass_of_others<T: Logit>(row: &[T], t: usize) -> f64 {
    let others = || row.iter().enumerate().filter(move |&(i, _)| i != t).map(|(_, &z)| z.into());
    let Some(top) = others().reduce(f64::max) else {
        return f64::NEG_INFINITY;
    };
    let shift = top - row[t].into();
    if shift == f64::NEG_INFINITY {
        return shift;
    }
    let mut acc = Neumaier::default();
    for z in others() {
        acc.add((z - top).exp());
    }
    shift + acc.value().ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vmath::tests::uniform;

    /// Class counts and p_t bins counted by passes (few classes, few bins)
    /// and by increments (many) agree with plain counting: the classes
    /// against a direct count, the bins by folding 2B bins into B (p·2B is
    /// exactly twice p·B).
    #[test]
    fn counting_by_passes_and_by_increments_agree() {
        for k in [3, 10, COUNT_BY_PASSES_UP_TO + 8] {
            let rows = 3 * BLOCK + 17;
            let logits = uniform(rows * k, -4.0, 4.0, 90 + k as u64);
            let labels: Vec<usize> = uniform(rows, 0.0, k as f64, 91).iter().map(|&x| x as usize).collect();
            let report = |bins: usize| {
                let mut acc = Accumulator::new(&Config { bins, ..Config::default() }, k);
                acc.add(&logits, &labels);
                acc.finish()
            };
            // Half the limit and the limit by passes, twice it by increments.
            let reports = [1, 2, 4].map(|m| report(m * COUNT_BY_PASSES_UP_TO / 2));
            for pair in reports.windows(2) {
                let folded: Vec<u64> = pair[1].histogram.chunks(2).map(|b| b[0] + b[1]).collect();
                assert_eq!(pair[0].histogram, folded, "k={k}");
            }
            assert_eq!(reports[0].histogram.iter().sum::<u64>(), rows as u64);
            for (c, stats) in reports[0].per_class.iter().enumerate() {
                let mine = || labels.iter().enumerate().filter(move |&(_, &t)| t == c);
                let right = mine().filter(|&(r, _)| argmax(&logits[r * k..(r + 1) * k]) == c).count();
                assert_eq!(stats.count, mine().count() as u64, "k={k} class {c}");
                let accuracy = stats.means.as_ref().map(|m| m.accuracy);
                assert_eq!(accuracy, (stats.count > 0).then(|| right as f64 / stats.count as f64), "k={k} class {c}");
            }
        }
    }
}
