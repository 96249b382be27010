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

use crate::loss::sum::weighted_product;
use crate::loss::{Alpha, Mode, argmax};
#[cfg(target_arch = "x86_64")]
use crate::vmath::avx512;
use crate::vmath::{Simd, exp_fast, ln_1p_fast, ln_fast, ln_sum, pow2};
use std::any::TypeId;
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
/// Sums are split here so that they never overflow (see [`WideSum`]).
const BIG: f64 = 9.7453140114e+288; // 2^960
const INV_BIG: f64 = 1.0261342003245941e-289; // 2^-960
/// Up to this K every class's block sums are merged at the end of a block;
/// above, only the classes the block's rows touched.
const MERGE_ALL_UP_TO: usize = 64;
/// Up to this K a batch is transposed and processed class-major.
const COLUMNS_UP_TO: usize = 16;
/// Up to this many classes (p_t bins), a block's rows are counted per class
/// (bin) by a compare-and-count pass per class in vector lanes: cheaper
/// than an increment at a computed address per row.
const COUNT_BY_PASSES_UP_TO: usize = 32;
/// Below this `S`, `ln S` is recomputed from the logits (as the crate does).
const TINY_S: f64 = 1e-290;
/// γ up to this (a multiple of ½) takes the powering path.
const MAX_POWER_GAMMA: f64 = 32.0;

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

/// How `(1 − p)^γ` is taken for one γ.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Power {
    /// γ = 0: exactly 1.
    One,
    /// γ = h / 2: `(1 − p)^⌊h/2⌋ · √(1 − p)` if h is odd.
    Halves(u32),
    /// `exp(γ · ln(1 − p))`.
    Exp(f64),
}

impl Power {
    fn of(gamma: f64) -> Power {
        if gamma == 0.0 {
            Power::One
        } else if gamma <= MAX_POWER_GAMMA && (2.0 * gamma).fract() == 0.0 {
            Power::Halves((2.0 * gamma) as u32)
        } else {
            Power::Exp(gamma)
        }
    }
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
            + v(&self.loss_hist.range)
            + self.loss_hist.range.len() * LossHistograms::HEAP_BYTES
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

// ---------------------------------------------------------------------------
// Instruction sets
// ---------------------------------------------------------------------------

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn batch_avx512<T: Logit>(acc: &mut Accumulator, logits: &[T], labels: &[usize]) {
    acc.batch::<true, true, T>(logits, labels)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn batch_avx2<T: Logit>(acc: &mut Accumulator, logits: &[T], labels: &[usize]) {
    acc.batch::<true, false, T>(logits, labels)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn block_avx512(acc: &mut Accumulator) {
    acc.block::<true, true>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn block_avx2(acc: &mut Accumulator) {
    acc.block::<true, false>()
}

// ---------------------------------------------------------------------------
// Row and block helpers
// ---------------------------------------------------------------------------

/// Whether some value is outside the normal range (in vector lanes).
#[inline(always)]
fn abnormal(xs: &[f64]) -> bool {
    xs.iter().fold(false, |bad, &x| bad | !normal(x))
}

/// Normal (≥ 2^-1022) and finite.
#[inline(always)]
fn normal(x: f64) -> bool {
    (f64::MIN_POSITIVE..=f64::MAX).contains(&x)
}

/// `x` below 2^960 goes to the block's plain sum, above to the wide sum.
#[inline(always)]
fn put(local: &mut f64, wide: &mut WideSum, x: f64) {
    if x < BIG {
        *local += x;
    } else {
        wide.add(x);
    }
}

/// `x = w · m · c` with `m = (1 − p)^γ` from `om = 1 − p` (or from `ln_om`,
/// see [`modulating`]), `m` kept for the fallback; true when some `m` is
/// outside the normal range, so that its product needs
/// [`weighted_product`]'s log space. The other cause, `c` or a powered `om`
/// outside it, does not depend on γ: the callers check it once for all γs
/// ([`abnormal`]). For γ ≤ 6 a multiple of ½ the factor is taken inline
/// (the operations of [`modulating`]'s binary powering, so the same bits),
/// in one pass.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn weigh<const F: bool>(
    x: &mut [f64],
    m: &mut [f64],
    om: &[f64],
    ln_om: &[f64],
    sq: &mut [f64],
    w: &[f64],
    c: &[f64],
    power: Power,
    sign: f64,
) -> bool {
    macro_rules! fused {
        ($pow:expr, $check:expr) => {{
            let mut bad = false;
            for ((((x, m), &o), &w), &c) in x.iter_mut().zip(m.iter_mut()).zip(om).zip(w).zip(c) {
                let f: f64 = $pow(o);
                *m = f;
                *x = w * f * c;
                bad |= $check & !normal(f);
            }
            bad
        }};
    }
    // √o for odd h, then o^⌊h/2⌋ by squaring: o², o⁴, ... as in `modulating`.
    let sqrt = |o: f64| o.sqrt();
    match power {
        Power::One => fused!(|_| 1.0, false),
        Power::Halves(1) => fused!(sqrt, true),
        Power::Halves(2) => fused!(|o| o, true),
        Power::Halves(3) => fused!(|o: f64| sqrt(o) * o, true),
        Power::Halves(4) => fused!(|o: f64| o * o, true),
        Power::Halves(5) => fused!(|o: f64| sqrt(o) * (o * o), true),
        Power::Halves(6) => fused!(|o: f64| o * (o * o), true),
        Power::Halves(7) => fused!(|o: f64| (sqrt(o) * o) * (o * o), true),
        Power::Halves(8) => fused!(|o: f64| (o * o) * (o * o), true),
        Power::Halves(9) => fused!(|o: f64| sqrt(o) * ((o * o) * (o * o)), true),
        Power::Halves(10) => fused!(|o: f64| o * ((o * o) * (o * o)), true),
        Power::Halves(11) => fused!(|o: f64| (sqrt(o) * o) * ((o * o) * (o * o)), true),
        Power::Halves(12) => fused!(|o: f64| (o * o) * ((o * o) * (o * o)), true),
        _ => {
            modulating::<F>(m, om, ln_om, sq, power, sign);
            let mut bad = false;
            for (((x, &m), &w), &c) in x.iter_mut().zip(m.iter()).zip(w).zip(c) {
                *x = w * m * c;
                bad |= !normal(m);
            }
            bad
        }
    }
}

/// Modulating factors `(1 − p)^γ` from `om = 1 − p` (powers) or from
/// `ln_om = sign · ln(1 − p)` (exponential); `sq` is scratch.
#[inline(always)]
fn modulating<const F: bool>(m: &mut [f64], om: &[f64], ln_om: &[f64], sq: &mut [f64], power: Power, sign: f64) {
    match power {
        Power::One => m.fill(1.0),
        Power::Halves(h) => {
            if h & 1 == 1 {
                for (m, &o) in m.iter_mut().zip(om) {
                    *m = o.sqrt();
                }
            } else {
                m.fill(1.0);
            }
            let mut e = h >> 1;
            if e == 0 {
                return;
            }
            sq.copy_from_slice(om);
            loop {
                if e & 1 == 1 {
                    for (m, &b) in m.iter_mut().zip(sq.iter()) {
                        *m *= b;
                    }
                }
                e >>= 1;
                if e == 0 {
                    break;
                }
                for b in sq.iter_mut() {
                    *b *= *b;
                }
            }
        }
        Power::Exp(gamma) => {
            let g = sign * gamma;
            for (m, &l) in m.iter_mut().zip(ln_om) {
                *m = exp_fast::<F>(g * l);
            }
        }
    }
}

/// [`crate::loss::sum::finish`] over a slice, without a branch: +∞ becomes `f64::MAX` and
/// sets the row's flag (the values are non-negative).
#[inline(always)]
fn saturate(x: &mut [f64], saturated: &mut [bool]) {
    // Almost always every value is finite and ≥ +0 (bits below +∞'s) and
    // nothing changes: checked in vector lanes, reading only.
    if x.iter().fold(true, |ok, &x| ok & (x.to_bits() < f64::INFINITY.to_bits())) {
        return;
    }
    for (x, sat) in x.iter_mut().zip(saturated) {
        let inf = *x == f64::INFINITY;
        *sat |= inf;
        *x = if inf { f64::MAX } else { *x + 0.0 };
    }
}

/// Adds a block's sum of `x` to `all`, and its sum where `p ≥ 0.5` to
/// `easy`; a sum that overflows goes term by term.
#[inline(always)]
fn add_block(all: &mut WideSum, easy: &mut WideSum, x: &[f64], p: &[f64]) {
    let (s, e) = block_sums(x, p);
    for (wide, s, only_easy) in [(all, s, false), (easy, e, true)] {
        if s.is_finite() {
            wide.add(s);
        } else {
            for (&v, &p) in x.iter().zip(p) {
                if !only_easy || p >= 0.5 {
                    wide.add(v);
                }
            }
        }
    }
}

/// Sums of up to [`BLOCK`] terms (all of them, and those where `p ≥ 0.5`),
/// in one pass: each in 32 lanes (8 terms each), then pairwise: relative
/// error ≤ 12 ε for non-negative terms.
#[inline(always)]
fn block_sums(x: &[f64], p: &[f64]) -> (f64, f64) {
    let (mut all, mut easy) = ([0.0f64; 32], [0.0f64; 32]);
    let p = &p[..x.len()];
    let (mut xs, mut ps) = (x.chunks_exact(32), p.chunks_exact(32));
    for (c, p) in (&mut xs).zip(&mut ps) {
        for i in 0..32 {
            all[i] += c[i];
            easy[i] += if p[i] >= 0.5 { c[i] } else { 0.0 };
        }
    }
    for (((a, e), &v), &p) in all.iter_mut().zip(&mut easy).zip(xs.remainder()).zip(ps.remainder()) {
        *a += v;
        *e += if p >= 0.5 { v } else { 0.0 };
    }
    (pairwise(all), pairwise(easy))
}

/// The sum of 32 lanes, pairwise.
#[inline(always)]
fn pairwise(mut acc: [f64; 32]) -> f64 {
    let mut half = 16;
    while half > 0 {
        let (a, b) = acc.split_at_mut(half);
        for (a, &b) in a.iter_mut().zip(&b[..half]) {
            *a += b;
        }
        half /= 2;
    }
    acc[0]
}

/// A compensated sum in eight lanes: chunks of eight terms per lane are
/// summed plainly (≤ 7 ε), the chunk sums with TwoSum, so the result is
/// within about 8 ε of the exact sum of non-negative terms.
#[derive(Default)]
struct LaneSum {
    sum: [f64; 8],
    err: [f64; 8],
}

impl LaneSum {
    /// Adds `exp(z_i − shift)` for every `i` but `skip`; `W`: in code
    /// compiled for AVX-512, by [`avx512::add_exps`] (the same bits).
    #[inline(always)]
    fn add_exps<const F: bool, const W: bool, T: Logit>(&mut self, z: &[T], shift: f64, skip: usize) {
        #[cfg(target_arch = "x86_64")]
        if W {
            // SAFETY (both): W only in `batch_avx512`, run where the CPU has AVX-512F.
            if let Some(z) = same_type::<T, f32>(z) {
                return unsafe { avx512::add_exps(&mut self.sum, &mut self.err, z, shift, skip) };
            }
            if let Some(z) = same_type::<T, f64>(z) {
                return unsafe { avx512::add_exps(&mut self.sum, &mut self.err, z, shift, skip) };
            }
        }
        let mut chunks = z.chunks_exact(64);
        let mut base = 0;
        for c in &mut chunks {
            let mut part = [0.0f64; 8];
            if skip.wrapping_sub(base) < 64 {
                for (s, c) in c.chunks_exact(8).enumerate() {
                    for (l, (p, &z)) in part.iter_mut().zip(c).enumerate() {
                        let e = exp_fast::<F>(z.into() - shift);
                        *p += if base + 8 * s + l == skip { 0.0 } else { e };
                    }
                }
            } else {
                for c in c.chunks_exact(8) {
                    for (p, &z) in part.iter_mut().zip(c) {
                        *p += exp_fast::<F>(z.into() - shift);
                    }
                }
            }
            self.add_lanes(&part);
            base += 64;
        }
        // The tail in groups of 8, padded with −∞ (e^−∞ = 0).
        let mut part = [0.0f64; 8];
        for (s, c) in chunks.remainder().chunks(8).enumerate() {
            let mut d = [f64::NEG_INFINITY; 8];
            for (d, &z) in d.iter_mut().zip(c) {
                *d = z.into() - shift;
            }
            for (l, (p, &d)) in part.iter_mut().zip(&d).enumerate() {
                let e = exp_fast::<F>(d);
                *p += if base + 8 * s + l == skip { 0.0 } else { e };
            }
        }
        self.add_lanes(&part);
    }

    #[inline(always)]
    fn add_lanes(&mut self, part: &[f64; 8]) {
        for ((s, e), &x) in self.sum.iter_mut().zip(&mut self.err).zip(part) {
            let (t, d) = two_sum(*s, x);
            *s = t;
            *e += d;
        }
    }

    /// The total; +∞ when it overflowed.
    fn value(&self) -> f64 {
        let mut acc = Neumaier::default();
        for &s in &self.sum {
            acc.add(s);
        }
        let v = acc.sum + (acc.carry + self.err.iter().sum::<f64>());
        if v.is_nan() || acc.sum.is_infinite() { f64::INFINITY } else { v }
    }
}

/// `z` as a slice of `U` when `T` is `U`.
#[inline(always)]
fn same_type<T: 'static, U: 'static>(z: &[T]) -> Option<&[U]> {
    // SAFETY: T and U are the same type.
    (TypeId::of::<T>() == TypeId::of::<U>())
        .then(|| unsafe { std::slice::from_raw_parts(z.as_ptr().cast::<U>(), z.len()) })
}

/// Σ of a row's non-negative terms ([`LaneSum`]: within about 8 ε). +∞
/// when it overflows.
#[inline(always)]
fn sum_row(x: &[f64]) -> f64 {
    let mut sum = LaneSum::default();
    let mut chunks = x.chunks_exact(64);
    for c in &mut chunks {
        let mut part = [0.0f64; 8];
        for c in c.chunks_exact(8) {
            for (p, &v) in part.iter_mut().zip(c) {
                *p += v;
            }
        }
        sum.add_lanes(&part);
    }
    let mut part = [0.0f64; 8];
    for c in chunks.remainder().chunks(8) {
        for (p, &v) in part.iter_mut().zip(c) {
            *p += v;
        }
    }
    sum.add_lanes(&part);
    sum.value()
}

/// `a + b = s + e` exactly.
#[inline(always)]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

#[inline(always)]
fn pos(x: f64) -> f64 {
    if x > 0.0 { x } else { 0.0 }
}

/// `col[c · n + r] = ±logits[r · k + c]`: rows of `k` ≤ 16 logits to
/// class-major (`n` rows). Where it can, also fills `argmax` for the first
/// rows; returns how many (the rest are [`column_argmax`]'s).
#[inline(always)]
fn transpose<const W: bool, T: Logit>(
    col: &mut [f64],
    logits: &[T],
    k: usize,
    negate: bool,
    argmax: Option<(&mut [f64], &mut [usize])>,
) -> usize {
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if W && let Some(z) = same_type::<T, f32>(logits) {
        // SAFETY: W only in `batch_avx512`, run where the CPU has AVX-512F.
        done = unsafe { avx512::transpose(col, z, k, negate, argmax) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = argmax;
    macro_rules! by_k {
        ($($k:literal)*) => {
            match k {
                $($k => transpose_k::<$k, T>(col, logits, negate, done),)*
                _ => unreachable!("transpose is for K ≤ {COLUMNS_UP_TO}"),
            }
        };
    }
    by_k!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
    done
}

/// [`transpose`] for a constant K of the rows from `from` on, a column at a
/// time: strided loads (the batch is in L1), sequential stores. Not inlined
/// into the AVX callers, whose gathers are several times slower here than
/// scalar loads.
#[inline(never)]
fn transpose_k<const K: usize, T: Logit>(col: &mut [f64], logits: &[T], negate: bool, from: usize) {
    let n = logits.len() / K;
    for (c, col) in col.chunks_exact_mut(n).take(K).enumerate() {
        for (x, row) in col[from..].iter_mut().zip(logits[from * K..].chunks_exact(K)) {
            let z: f64 = row[c].into();
            *x = if negate { -z } else { z };
        }
    }
}

/// Per row of a class-major batch from row `from` on, the largest value
/// and its first index.
#[inline(always)]
fn column_argmax(top: &mut [f64], j: &mut [usize], col: &[f64], from: usize) {
    let n = top.len();
    top[from..].copy_from_slice(&col[from..n]);
    j[from..].fill(0);
    for (i, c) in col.chunks_exact(n).enumerate().skip(1) {
        for ((t, j), &v) in top[from..].iter_mut().zip(&mut j[from..]).zip(&c[from..]) {
            let gt = v > *t;
            *t = if gt { v } else { *t };
            *j = if gt { i } else { *j };
        }
    }
}

/// `out[r] = Σ_c x(r, c)` over each row's `k` classes: in class order across
/// rows for a class-major batch (`columns`, K ≤ 16: ≤ 15 ε), compensated
/// ([`sum_row`]) for a row-major one. +∞ when a sum overflows.
#[inline(always)]
fn row_sums(out: &mut [f64], x: &[f64], k: usize, columns: bool) {
    if columns {
        let n = out.len();
        out.fill(0.0);
        for c in x.chunks_exact(n) {
            for (o, &v) in out.iter_mut().zip(c) {
                *o += v;
            }
        }
    } else {
        for (o, row) in out.iter_mut().zip(x.chunks_exact(k)) {
            *o = sum_row(row);
        }
    }
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

// ---------------------------------------------------------------------------
// Per-class sums
// ---------------------------------------------------------------------------

/// The sums of a class no row has: zero.
static ZERO_SUM: WideSum = WideSum { small: Neumaier { sum: 0.0, carry: 0.0 }, big: Neumaier { sum: 0.0, carry: 0.0 } };

/// Each class's count, correct count and sums (CE, then FL per γ), kept in
/// slots. Up to [`MERGE_ALL_UP_TO`] classes, slot c is class c and the sums
/// are quantity-major (what the block loops and the AVX-512 lanes index);
/// above, a class gets a slot when a row first has it, its sums slot-major,
/// so that memory grows with the classes seen, not with K: a file of two
/// rows of ten million logits holds two classes' sums.
struct PerClass {
    classes: usize,
    /// Sums per class: 1 + G.
    w: usize,
    /// Above [`MERGE_ALL_UP_TO`] classes: each class's slot + 1, 0 for none
    /// (zeroed on allocation: untouched pages cost nothing).
    slot_of: Vec<u32>,
    /// The class of each slot.
    class_of: Vec<usize>,
    count: Vec<u64>,
    correct: Vec<u64>,
    sums: Vec<WideSum>,
    /// The current block's plain sums, same layout, merged at its end.
    block: Vec<f64>,
    /// Slots the block's rows touched (sparse layout only).
    touched: Vec<bool>,
    touched_list: Vec<usize>,
}

impl PerClass {
    fn new(classes: usize, w: usize) -> Self {
        let dense = classes <= MERGE_ALL_UP_TO;
        let n = if dense { classes } else { 0 };
        PerClass {
            classes,
            w,
            slot_of: if dense { Vec::new() } else { vec![0; classes] },
            class_of: (0..n).collect(),
            count: vec![0; n],
            correct: vec![0; n],
            sums: vec![WideSum::default(); n * w],
            block: vec![0.0; n * w],
            touched: Vec::new(),
            touched_list: Vec::new(),
        }
    }

    /// Slot c is class c (and every class has one).
    fn dense(&self) -> bool {
        self.slot_of.is_empty()
    }

    /// Where sum `q` of slot `s` is.
    fn at(&self, s: usize, q: usize) -> usize {
        if self.dense() { q * self.classes + s } else { s * self.w + q }
    }

    /// Class `c`'s slot, if it has one.
    fn find(&self, c: usize) -> Option<usize> {
        if self.dense() {
            return Some(c);
        }
        self.slot_of[c].checked_sub(1).map(|s| s as usize)
    }

    /// Class `c`'s slot, made when it has none.
    fn slot(&mut self, c: usize) -> usize {
        if let Some(s) = self.find(c) {
            return s;
        }
        let s = self.class_of.len();
        self.slot_of[c] = u32::try_from(s + 1).expect("fewer than 2^32 classes seen");
        self.class_of.push(c);
        self.count.push(0);
        self.correct.push(0);
        self.sums.resize(self.sums.len() + self.w, WideSum::default());
        self.block.resize(self.block.len() + self.w, 0.0);
        self.touched.push(false);
        s
    }

    // The sparse layout's steps stay out of the dense path's inlined loops.

    /// The slots of a block's rows (`labels`) in `slots`.
    #[inline(never)]
    fn assign(&mut self, labels: &[usize], slots: &mut [usize]) {
        for (s, &c) in slots.iter_mut().zip(labels) {
            *s = self.slot(c);
        }
    }

    /// Adds each row's value `xs` to sum `q` of its slot's block sums
    /// (to the wide sums where it is `BIG` or more, unless `plain`).
    #[inline(never)]
    fn add_sparse(&mut self, slots: &[usize], q: usize, xs: &[f64], plain: bool) {
        for (&s, &x) in slots.iter().zip(xs) {
            let at = s * self.w + q;
            if plain {
                self.block[at] += x;
            } else {
                put(&mut self.block[at], &mut self.sums[at], x);
            }
        }
    }

    /// Merges the block sums of the slots `slots` touched into their sums.
    #[inline(never)]
    fn merge_block(&mut self, slots: &[usize]) {
        for &s in slots {
            if !self.touched[s] {
                self.touched[s] = true;
                self.touched_list.push(s);
            }
        }
        for s in self.touched_list.drain(..) {
            self.touched[s] = false;
            for at in s * self.w..(s + 1) * self.w {
                self.sums[at].add(std::mem::take(&mut self.block[at]));
            }
        }
    }

    /// Adds another accumulator's per-class counts and sums.
    fn merge(&mut self, other: &PerClass) {
        if self.dense() {
            for (a, b) in self.count.iter_mut().zip(&other.count) {
                *a += b;
            }
            for (a, b) in self.correct.iter_mut().zip(&other.correct) {
                *a += b;
            }
            for (a, b) in self.sums.iter_mut().zip(&other.sums) {
                a.merge(b);
            }
            return;
        }
        for (s, &c) in other.class_of.iter().enumerate() {
            let t = self.slot(c);
            self.count[t] += other.count[s];
            self.correct[t] += other.correct[s];
            for q in 0..self.w {
                self.sums[t * self.w + q].merge(&other.sums[s * self.w + q]);
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        fn v<T>(x: &Vec<T>) -> usize {
            x.capacity() * std::mem::size_of::<T>()
        }
        v(&self.slot_of)
            + v(&self.class_of)
            + v(&self.count)
            + v(&self.correct)
            + v(&self.sums)
            + v(&self.block)
            + v(&self.touched)
            + v(&self.touched_list)
    }
}

// ---------------------------------------------------------------------------
// Compensated sums
// ---------------------------------------------------------------------------

/// Neumaier's compensated sum: within ~2 ulp of the exact sum of the terms
/// added (non-negative here).
#[derive(Clone, Copy, Debug, Default)]
struct Neumaier {
    sum: f64,
    carry: f64,
}

impl Neumaier {
    #[inline(always)]
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.carry += if self.sum.abs() >= x.abs() { (self.sum - t) + x } else { (x - t) + self.sum };
        self.sum = t;
    }

    fn value(self) -> f64 {
        self.sum + self.carry
    }

    fn merge(&mut self, other: Neumaier) {
        self.add(other.sum);
        self.add(other.carry);
    }
}

/// A compensated sum of non-negative finite terms that cannot overflow:
/// terms below 2^960 are summed as they are (< 2^1023 for fewer than 2^63
/// of them), larger ones scaled by 2^-960.
#[derive(Clone, Copy, Debug, Default)]
struct WideSum {
    small: Neumaier,
    big: Neumaier,
}

impl WideSum {
    #[inline(always)]
    fn add(&mut self, x: f64) {
        if x < BIG {
            self.small.add(x);
        } else {
            self.big.add(x * INV_BIG);
        }
    }

    fn merge(&mut self, other: &WideSum) {
        self.small.merge(other.small);
        self.big.merge(other.big);
    }

    /// The sum over `n` terms divided by `n` (`None` for none), ≤ `f64::MAX`.
    fn mean(&self, n: u64) -> Option<f64> {
        if n == 0 {
            return None;
        }
        let n = n as f64;
        let m = self.small.value() / n + (self.big.value() / n) * BIG;
        Some(m.min(f64::MAX))
    }

    /// The sum, scaled by 2^-960 when `wide`.
    fn scaled(&self, wide: bool) -> f64 {
        if wide { self.small.value() * INV_BIG + self.big.value() } else { self.small.value() }
    }

    /// `self / total` in [0, 1] (`self` a part of `total`); 0 when the total is 0.
    fn share_of(&self, total: &WideSum) -> f64 {
        let wide = self.big.sum != 0.0 || total.big.sum != 0.0;
        let (part, all) = (self.scaled(wide), total.scaled(wide));
        if all > 0.0 { (part / all).clamp(0.0, 1.0) } else { 0.0 }
    }
}

// ---------------------------------------------------------------------------
// Loss histogram
// ---------------------------------------------------------------------------

/// Bits of a non-negative f64 below its exponent and top 4 mantissa bits.
const HIST_SHIFT: u32 = 48;
const HIST_BINS: usize = 1 << 15;
/// The mantissa bits below a bin's (the same top 4 for all its values).
const LOW: u64 = (1 << HIST_SHIFT) - 1;
/// Where a bin's count starts in its packed `u128` (below: Σ of `LOW` bits).
const COUNT_SHIFT: u32 = 88;
/// Values a histogram can hold: neither packed field overflows below this.
const MAX_VALUES: u64 = 1 << (128 - COUNT_SHIFT);

/// Counts and exact significand sums of non-negative values, 16 bins per
/// binade: bin `b` holds the values whose bits shifted right by 48 are `b`.
/// Several histograms (one per γ, then CE) share one allocation: a new
/// accumulator maps, and later unmaps, one region rather than one per
/// histogram (the page-table work showed in every run).
struct LossHistograms {
    /// [`HIST_BINS`] per histogram, one histogram after another. Per bin,
    /// packed in one `u128` so that a value is one 128-bit add (no branch,
    /// no second array): the count above bit 88, below it the exact sum of
    /// the values' 48 mantissa bits under the bin's (< 2^88 for fewer than
    /// 2^40 values). With the bits the bin fixes (its top 4 mantissa bits
    /// and, for normal numbers, the implicit bit) times the count, the exact
    /// sum of the significands, the same whatever the order of the additions.
    bins: Box<[u128]>,
    /// Per histogram, the range of bins that may be non-empty (lo > hi when
    /// empty).
    range: Vec<(usize, usize)>,
}

/// One of [`LossHistograms`], to read.
struct LossHistogram<'a> {
    bins: &'a [u128],
    lo: usize,
    hi: usize,
}

impl LossHistograms {
    const HEAP_BYTES: usize = HIST_BINS * 16;

    fn new(count: usize) -> Self {
        // Zeroed on the heap (calloc: pages are touched only where used).
        LossHistograms { bins: vec![0u128; count * HIST_BINS].into_boxed_slice(), range: vec![(HIST_BINS, 0); count] }
    }

    /// Histogram `h`.
    fn get(&self, h: usize) -> LossHistogram<'_> {
        let (lo, hi) = self.range[h];
        LossHistogram { bins: &self.bins[h * HIST_BINS..(h + 1) * HIST_BINS], lo, hi }
    }

    /// The bin of a non-negative value (bins rise with the value).
    #[inline(always)]
    fn bin(x: f64) -> usize {
        (x.to_bits() >> HIST_SHIFT) as usize & (HIST_BINS - 1)
    }

    /// Adds a block: histogram `g` gets `fl[g · BLOCK ..][..n]`, the last
    /// one `ce` (n values). Returns the highest bin of any value (0 for none).
    #[inline(always)]
    fn add_block(&mut self, fl: &[f64], ce: &[f64]) -> usize {
        let g = self.range.len() - 1;
        let mut top = 0;
        for (gi, (bins, range)) in self.bins.chunks_exact_mut(HIST_BINS).zip(&mut self.range).enumerate() {
            let xs = if gi < g { &fl[gi * BLOCK..gi * BLOCK + ce.len()] } else { ce };
            if xs.is_empty() {
                continue;
            }
            // The bins' range from the extreme bit patterns (non-negative
            // values order as their bits), in vector lanes.
            let (mut lo, mut hi) = (u64::MAX, 0u64);
            for &x in xs {
                lo = lo.min(x.to_bits());
                hi = hi.max(x.to_bits());
            }
            for &x in xs {
                Self::add(bins, x);
            }
            let (lo, hi) = (Self::bin(f64::from_bits(lo)), Self::bin(f64::from_bits(hi)));
            *range = (range.0.min(lo), range.1.max(hi));
            top = top.max(hi);
        }
        top
    }

    /// Adds a non-negative value to `bins` (one histogram's).
    #[inline(always)]
    fn add(bins: &mut [u128], x: f64) {
        bins[Self::bin(x)] += 1 << COUNT_SHIFT | u128::from(x.to_bits() & LOW);
    }

    fn merge(&mut self, other: &LossHistograms) {
        let mine = self.bins.chunks_exact_mut(HIST_BINS).zip(&mut self.range);
        for ((bins, range), (h, &(lo, hi))) in mine.zip(other.range.iter().enumerate()) {
            if lo > hi {
                continue;
            }
            let theirs = &other.bins[h * HIST_BINS..(h + 1) * HIST_BINS];
            for b in lo..=hi {
                bins[b] += theirs[b];
            }
            *range = (range.0.min(lo), range.1.max(hi));
        }
    }
}

impl LossHistogram<'_> {
    /// The number of values in bin `b`.
    fn count(&self, b: usize) -> u64 {
        (self.bins[b] >> COUNT_SHIFT) as u64
    }

    /// The exact sum of the significands of bin `b`'s values.
    fn significands(&self, b: usize) -> u128 {
        let fixed = (b as u128 & 15) << HIST_SHIFT | if b >= 16 { 1 << 52 } else { 0 };
        u128::from(self.count(b)) * fixed + (self.bins[b] & ((1 << COUNT_SHIFT) - 1))
    }

    /// The smallest fraction of the `rows` values whose sum reaches `mass` of
    /// the total (0 when the total is 0), to the bound in the module docs.
    fn top_share(&self, mass: f64, rows: u64) -> f64 {
        if rows == 0 || self.lo > self.hi {
            return 0.0;
        }
        // A bin's values are significand · 2^(max(e, 1) − 1075); scale them
        // all relative to the top bin so that nothing overflows.
        let exponent = |b: usize| ((b >> 4) as i32).max(1);
        let top = exponent(self.hi);
        let value = |b: usize| self.significands(b) as f64 * pow2(exponent(b) - top);
        let mut total = Neumaier::default();
        for b in self.lo..=self.hi {
            total.add(value(b));
        }
        let target = mass * total.value();
        if target <= 0.0 {
            return 0.0;
        }
        let mut cumulative = Neumaier::default();
        let mut taken = 0u64;
        for b in (self.lo..=self.hi).rev() {
            let count = self.count(b);
            if count == 0 {
                continue;
            }
            let v = value(b);
            let before = cumulative.value();
            if before + v >= target {
                // ⌈R / mean⌉, with ties to within 1e-12 (equal losses)
                // resolved downwards rather than by rounding noise.
                let mean = v / count as f64;
                let need = ((target - before) / mean * (1.0 - 1e-12)).ceil();
                let take = if need >= count as f64 { count } else { (need as u64).max(1) };
                return (taken + take) as f64 / rows as f64;
            }
            cumulative.add(v);
            taken += count;
        }
        taken as f64 / rows as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vmath::tests::uniform;

    #[test]
    fn powers_match_the_exponential() {
        let om = uniform(256, 1e-3, 1.0, 21);
        let ln_om: Vec<f64> = om.iter().map(|x| x.ln()).collect();
        let (mut m, mut sq) = (vec![0.0; 256], vec![0.0; 256]);
        for h in 1..=64u32 {
            modulating::<false>(&mut m, &om, &ln_om, &mut sq, Power::Halves(h), 1.0);
            let g = f64::from(h) / 2.0;
            for ((&m, &o), &l) in m.iter().zip(&om).zip(&ln_om) {
                let want = (g * l).exp();
                // exp(γ·ln x) itself is off by up to |γ ln x| ε.
                assert!((m - want).abs() <= (8.0 + (g * l).abs()) * f64::EPSILON * want, "{o}^{g}: {m} vs {want}");
            }
        }
        // The inline factors of `weigh` are the same operations: same bits.
        let (ones, mut x, mut m2) = (vec![1.0; 256], vec![0.0; 256], vec![0.0; 256]);
        for h in 0..=16u32 {
            let power = if h == 0 { Power::One } else { Power::Halves(h) };
            modulating::<false>(&mut m, &om, &ln_om, &mut sq, power, 1.0);
            weigh::<false>(&mut x, &mut m2, &om, &ln_om, &mut sq, &ones, &ones, power, 1.0);
            assert_eq!(m, m2, "h = {h}");
            assert_eq!(x, m, "h = {h}");
        }
        assert_eq!(Power::of(0.0), Power::One);
        assert_eq!(Power::of(2.5), Power::Halves(5));
        assert_eq!(Power::of(0.25), Power::Exp(0.25));
        assert_eq!(Power::of(33.0), Power::Exp(33.0));
    }

    #[test]
    fn pairwise_and_row_sums_are_accurate() {
        let x = uniform(256, 0.0, 1.0, 9);
        let exact: f64 = {
            let mut n = Neumaier::default();
            x.iter().for_each(|&v| n.add(v));
            n.value()
        };
        let p: Vec<f64> = (0..256).map(|i| if i % 3 == 0 { 0.7 } else { 0.2 }).collect();
        let easy: f64 = x.iter().step_by(3).sum();
        let (all, easy_sum) = block_sums(&x, &p);
        assert!((all - exact).abs() <= 4.0 * f64::EPSILON * exact);
        assert!((easy_sum - easy).abs() <= 1e-13);
        assert!((block_sums(&x[..100], &p).0 - x[..100].iter().sum::<f64>()).abs() <= 1e-13);
        assert!((sum_row(&x) - exact).abs() <= 2.0 * f64::EPSILON * exact);
        assert_eq!(sum_row(&[f64::MAX, f64::MAX, 1.0].repeat(8)), f64::INFINITY);
    }

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

    /// The AVX-512 row sum of exponentials is the portable one's bits
    /// (float32 and float64 rows; the skipped class in a whole chunk, in the
    /// tail, or absent).
    #[test]
    fn avx512_lane_sums_are_the_portable_bits() {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f,avx2,fma")]
            fn sums<const W: bool, T: Logit>(z: &[T], shift: f64, skip: usize) -> ([f64; 8], [f64; 8]) {
                let mut sum = LaneSum::default();
                sum.add_exps::<true, W, T>(z, shift, skip);
                (sum.sum, sum.err)
            }
            if Simd::detect() != Simd::Avx512 {
                eprintln!("no AVX-512 on this CPU: nothing to compare");
                return;
            }
            for k in [17, 63, 64, 65, 130, 1000, 4099] {
                let z = uniform(k, -30.0, 2.0, 7 + k as u64);
                let z32: Vec<f32> = z.iter().map(|&v| v as f32).collect();
                for skip in [0, k / 2, k - 1, k] {
                    // SAFETY (all four): the CPU has AVX-512F, AVX2 and FMA.
                    let bits =
                        |(s, e): ([f64; 8], [f64; 8])| s.iter().chain(&e).map(|v| v.to_bits()).collect::<Vec<_>>();
                    let (a, b) = unsafe { (sums::<true, f64>(&z, 2.0, skip), sums::<false, f64>(&z, 2.0, skip)) };
                    assert_eq!(bits(a), bits(b), "f64 k={k} skip={skip}");
                    let (a, b) = unsafe { (sums::<true, f32>(&z32, 2.0, skip), sums::<false, f32>(&z32, 2.0, skip)) };
                    assert_eq!(bits(a), bits(b), "f32 k={k} skip={skip}");
                }
            }
        }
    }

    #[test]
    fn lane_sums_are_compensated() {
        for k in [17, 63, 64, 65, 1000, 4099] {
            let z = uniform(k, -30.0, 0.0, 3 + k as u64);
            for skip in [0, k / 2, k - 1] {
                let mut exact = Neumaier::default();
                for (i, &v) in z.iter().enumerate() {
                    if i != skip {
                        exact.add(exp_fast::<false>(v));
                    }
                }
                let mut sum = LaneSum::default();
                sum.add_exps::<false, false, f64>(&z, 0.0, skip);
                let (a, b) = (sum.value(), exact.value());
                assert!((a - b).abs() <= 2.0 * f64::EPSILON * b, "k={k} skip={skip}: {a} vs {b}");
                let e: Vec<f64> = z.iter().map(|&v| exp_fast::<false>(v)).collect();
                let mut all = Neumaier::default();
                e.iter().for_each(|&v| all.add(v));
                assert!((sum_row(&e) - all.value()).abs() <= 2.0 * f64::EPSILON * all.value());
            }
        }
    }

    #[test]
    fn histogram_bins_hold_exact_significand_sums() {
        // Values of one normal bin whose low bits sum far past 2^64, values
        // of a subnormal bin, zero and the largest float: every bin's count
        // and significand sum as the bits say, merged or not.
        let big = f64::from_bits(0x3ff0_ffff_ffff_ffff); // 1.0625 − ulp: bin 0x3ff0
        let sub = f64::from_bits(0x0003_0000_0000_0005); // subnormal, bin 3
        let values = [(big, 1u64 << 17), (sub, 3), (0.0, 2), (f64::MAX, 1)];
        let (mut h, mut other) = (LossHistograms::new(2), LossHistograms::new(2));
        for &(x, n) in &values {
            for i in 0..n {
                if i % 2 == 0 {
                    LossHistograms::add(&mut h.bins[HIST_BINS..], x)
                } else {
                    LossHistograms::add(&mut other.bins[HIST_BINS..], x)
                }
            }
        }
        other.range[1] = (0, HIST_BINS - 1);
        h.merge(&other);
        let h = h.get(1);
        for &(x, n) in &values {
            let b = LossHistograms::bin(x);
            let bits = x.to_bits();
            let significand = (bits & ((1 << 52) - 1)) | if bits >> 52 != 0 { 1 << 52 } else { 0 };
            assert_eq!(h.count(b), n, "{x:e}");
            assert_eq!(h.significands(b), u128::from(significand) * u128::from(n), "{x:e}");
        }
    }

    #[test]
    fn wide_sums_do_not_overflow() {
        let mut w = WideSum::default();
        for _ in 0..1000 {
            w.add(f64::MAX);
        }
        assert_eq!(w.mean(1000), Some(f64::MAX));
        let mut part = WideSum::default();
        part.add(f64::MAX);
        assert!((part.share_of(&w) - 1e-3).abs() < 1e-15);
    }

    #[test]
    fn big_scales_are_powers_of_two() {
        assert_eq!(BIG, 2f64.powi(960));
        assert_eq!(INV_BIG, 2f64.powi(-960));
    }

    /// Deterministic rows with a spread of easy and hard examples, and the
    /// extremes.
    fn rows(n: usize, k: usize) -> (Vec<f64>, Vec<usize>) {
        let z = uniform(n * k, -12.0, 12.0, 33);
        let t = uniform(n, 0.0, k as f64, 35).iter().map(|&x| x as usize).collect();
        (z, t)
    }

    /// Every instruction set the CPU has gives the same report to a few ulp.
    #[test]
    fn instruction_sets_agree() {
        for (k, mode, gammas) in [
            (10, Mode::Softmax, DEFAULT_GAMMAS.to_vec()),
            (40, Mode::Softmax, vec![0.25, 1.5, 3.0]),
            (10, Mode::Sigmoid, DEFAULT_GAMMAS.to_vec()),
            (3, Mode::Sigmoid, vec![0.3, 2.0]),
        ] {
            let (mut z, t) = rows(3000, k);
            z[..2].copy_from_slice(&[0.0, 800.0]);
            let config = Config { gammas, mode, alpha: Alpha::Scalar(0.25), bins: 10 };
            let run = |simd: Simd| {
                let mut acc = Accumulator::new(&config, k);
                acc.simd = simd;
                acc.add(&z, &t);
                acc.finish()
            };
            let base = run(Simd::Base);
            for simd in [Simd::Avx2, Simd::Avx512] {
                if Simd::detect() == Simd::Base || (simd == Simd::Avx512 && Simd::detect() != Simd::Avx512) {
                    continue;
                }
                let other = run(simd);
                assert_eq!(other.histogram, base.histogram);
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs();
                assert!(close(other.mean_cross_entropy, base.mean_cross_entropy));
                for (a, b) in other.sweep.iter().zip(&base.sweep) {
                    assert!(close(a.mean_focal_loss, b.mean_focal_loss), "{simd:?} {k} {mode:?}: {a:?} vs {b:?}");
                    assert!(close(a.easy_share, b.easy_share));
                }
            }
        }
    }
}
