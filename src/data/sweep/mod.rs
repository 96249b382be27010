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
//! 1.5 ulp instead of 0.5. The hot loops are generic over the instruction
//! set ([`crate::simd`]): on x86-64 they are compiled three times (AVX-512,
//! AVX2 — both with FMA — and the SSE2 baseline) and the widest the CPU
//! supports runs; with AVX-512, the sums of exponentials, the
//! transposition of float32 batches, the gathering of float32 class planes
//! and the per-class sums (K ≤ 32, see Speed) are kernels written with
//! intrinsics (the same bits, faster).
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
//! 3 MiB for the default five γs, whatever the number of rows (sigmoid
//! adds two per γ for the positives' and negatives' loss CDFs: 8 MiB;
//! zeroed pages, so only the bins used are touched); [`sweep`] keeps two
//! accumulators per thread.
//!
//! # Speed
//! Per block of rows, everything runs in vector lanes: for K ≤ 16 the batch
//! is transposed (class-major) so that argmax, exponentials and row sums run
//! across rows; for larger K each row's exponentials are summed as they are
//! computed. Sigmoid rows of up to [`SIGMOID_COLUMNS_UP_TO`] classes are
//! transposed too, so that the γ pass keeps a register block of rows' sums
//! (the negatives' in class order) while it walks their classes. Rows
//! stored as class planes (a `[B, C, H, W]` dump,
//! [`Accumulator::add_planes`]) are class-major already: for K ≤ 64 they
//! take the class-major path without a transposition, each row's sums over
//! its classes in the row path's eight lanes, so that the bits are those of
//! the same rows row-major; with AVX-512 the softmax step runs straight
//! from the planes, eight rows at a time, with no class-major batch. A
//! block's sums of each loss (over all rows and over the easy ones) take
//! one pass, and saturation only reads the losses unless one is +∞. With up to 32 classes (p_t bins), a block's rows are counted per
//! class (bin) by one compare-and-count pass each, not by an increment at a
//! computed address per row; with AVX-512 and up to 32 classes, the
//! per-class sums are masked adds into the lanes of registers (the same
//! additions in the same order). What dominates `benches/data_sweep.rs` is
//! the per-γ bookkeeping of each row (its loss-histogram bin: a
//! read-modify-write at a computed address, six per row), not the
//! arithmetic; the numbers are in docs/PERFORMANCE.md.
//!
//! # Code
//! [`Accumulator`] (`accumulator.rs`) stages rows a block at a time
//! (`stage.rs`). A batch of rows goes through `softmax.rs` or `sigmoid.rs`
//! (class-major batches: `columns.rs`; the factor `(1 − p)^γ` and the
//! weighted loss: `factor.rs`; the normal range: `limits.rs`); a full block
//! goes into the running sums (`block.rs`, with `sums.rs`, `per_class.rs`
//! and `histogram.rs`). Rows with a target per class (multi-label, soft,
//! background, distributions, probabilities) take a path of their own,
//! `targets.rs`, staged into the same block sums. `examples.rs` keeps each
//! row's softmax values for the dataset view, `sigmoid_examples.rs` each
//! row's sigmoid values per class and the positives'/negatives' split;
//! `planes.rs` feeds rows stored as class planes; `isa.rs` holds the entry points that
//! [`crate::simd::Simd::run`] compiles for each instruction set.

mod accumulator;
mod block;
mod columns;
mod examples;
mod factor;
mod gradient;
pub mod guidance;
mod histogram;
mod isa;
mod limits;
mod loss_cdf;
mod per_class;
mod planes;
mod sigmoid;
mod sigmoid_examples;
mod sigmoid_gamma;
mod sigmoid_terms;
mod softmax;
mod stage;
mod sums;
mod targets;
mod zeroed;

pub use accumulator::Accumulator;
pub use examples::{EXAMPLE_BYTES, Examples};
pub use guidance::AlphaSuggestion;
pub use loss_cdf::{CDF_POINTS, LossCdf};
pub use sigmoid_examples::{SIGMOID_ELEMENT_BYTES, SIGMOID_ROW_BYTES, Shares, SigmoidExamples, Split};
pub use sigmoid_terms::SigmoidTerms;
pub use targets::PerRow;

use crate::loss::{Alpha, Mode};

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
/// Up to this K, sigmoid rows are transposed and swept class-major, so that
/// the one pass of `sigmoid_gamma` holds a register block of rows' sums
/// while it walks their classes (a row-major row's sums in class order are
/// one chain of additions each); above, row-major.
const SIGMOID_COLUMNS_UP_TO: usize = 2048;

/// Rows per sigmoid batch of K classes: class-major, a block's worth up to
/// K = 64 (as the class planes' scratch holds) and one register block of
/// the one pass above; row-major past [`SIGMOID_COLUMNS_UP_TO`], as many
/// as [`SIGMOID_BATCH`] logits hold. The scratch never exceeds the class
/// planes' (a block of 64 classes).
fn sigmoid_batch_rows(k: usize) -> usize {
    match k {
        _ if k <= COLUMNS_UP_TO => (BATCH / k).max(1),
        _ if k <= PLANES_UP_TO => BLOCK,
        _ if k <= SIGMOID_COLUMNS_UP_TO => sigmoid_gamma::LANES,
        _ => (SIGMOID_BATCH / k).max(1),
    }
}
/// Parts per rayon thread in [`sweep`] (whole blocks of rows each).
const PARTS_PER_THREAD: usize = 2;
/// Up to this K a batch is transposed and processed class-major.
const COLUMNS_UP_TO: usize = 16;
/// Up to this K, logits stored as class planes ([`Accumulator::add_planes`])
/// are processed class-major as they are: each row's sums over its classes
/// taken in the row path's eight lanes (K < 64 has no 64-class chunk to
/// compensate), so that the bits are the row path's.
pub const PLANES_UP_TO: usize = 64;
/// Up to this many classes (p_t bins), a block's rows are counted per class
/// (bin) by a compare-and-count pass per class in vector lanes: cheaper
/// than an increment at a computed address per row.
const COUNT_BY_PASSES_UP_TO: usize = 32;

/// Heap bytes of a vector's buffer.
fn vec_bytes<T>(x: &Vec<T>) -> usize {
    x.capacity() * std::mem::size_of::<T>()
}

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
    /// Sigmoid rows of per-class targets without a positive (a background
    /// label, or every target 0): counted here, not in a class. Absent for
    /// class-index rows and softmax.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background: Option<Background>,
    /// Rows per p_t bin: bin `i` holds `⌊p_t · bins⌋ = i` (p_t = 1 in the last).
    pub histogram: Vec<u64>,
    /// Class weights from the class counts ([`guidance`]): `balanced`,
    /// `inverse_sqrt`, `effective_number` per β.
    pub alpha_suggestions: Vec<AlphaSuggestion>,
    /// What the guidance could not do, or where it is degenerate (classes
    /// without rows, one class, flat weights, classes with no loss).
    pub guidance_notes: Vec<String>,
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
    /// The α per class that gives every class the same share of the total
    /// focal loss at this γ, mean 1 over the classes with rows ([`guidance`]).
    pub balancing_alpha: Vec<f64>,
    /// Share of Σ |dFL/dz| carried by easy examples (softmax: the target
    /// logit of rows with p_t ≥ ½; sigmoid: every logit with its own p ≥ ½).
    pub easy_gradient_share: f64,
    /// Sigmoid: the same share among the positives' logits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub easy_gradient_share_positive: Option<f64>,
    /// Sigmoid: the same share among the negatives' logits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub easy_gradient_share_negative: Option<f64>,
    /// The paper's Figure 4: the share of the total focal loss carried by
    /// the lowest-loss rows, at 101 row fractions, with its bound.
    pub loss_cdf: LossCdf,
    /// Sigmoid: the same over the rows' positive samples, each the focal
    /// loss of the row's positive logits ([`loss_cdf`] module docs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_cdf_positives: Option<LossCdf>,
    /// Sigmoid: the same over the rows' negative samples, each the sum of
    /// the focal losses of the row's negative logits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_cdf_negatives: Option<LossCdf>,
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

/// The background rows (see [`Report::background`]), as a class's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Background {
    pub count: u64,
    /// `None` when there are none.
    #[serde(flatten)]
    pub means: Option<ClassMeans>,
    /// Their share of the total focal loss, one per γ.
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
