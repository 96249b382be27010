//! The running sums of a sweep: rows in, a [`Report`] out, in bounded memory.

use super::factor::Power;
use super::gradient::GradientSums;
use super::guidance::{alpha_suggestions, at_gamma, balancing_alpha};
use super::histogram::{LossHistograms, MAX_VALUES};
use super::isa::Batch;
use super::loss_cdf::LossCdf;
use super::per_class::PerClass;
use super::planes::Input;
use super::stage::{Scratch, Stage};
use super::sums::WideSum;
use super::targets::{PerRow, RowScratch};
use super::{
    BATCH, BLOCK, Background, COLUMNS_UP_TO, ClassMeans, ClassStats, Config, Examples, Logit, Report, SigmoidExamples,
    SweepRow, TOP_MASS, sigmoid_batch_rows, vec_bytes,
};
use crate::loss::{Alpha, Mode};
use crate::simd::{Isa, Simd};

/// Running sums of a sweep over any number of rows, in bounded memory
/// ([`Accumulator::heap_bytes`]). Feed rows with [`add`](Accumulator::add),
/// combine partial results of other threads with
/// [`merge`](Accumulator::merge), and read the [`Report`] with
/// [`finish`](Accumulator::finish).
pub struct Accumulator {
    /// The configuration and K.
    pub(super) classes: usize,
    pub(super) gammas: Vec<f64>,
    pub(super) mode: Mode,
    pub(super) bins: usize,
    pub(super) alpha: Alpha,
    /// How each γ's factor is taken.
    pub(super) powers: Vec<Power>,
    /// The instruction set the hot loops run with.
    pub(super) simd: Simd,
    /// α of each class as the target (softmax) or the positive (sigmoid);
    /// empty for a scalar α in softmax, which needs no table.
    pub(super) alpha_pos: Vec<f64>,
    /// 1 − α of each class as a negative (sigmoid).
    pub(super) alpha_neg: Vec<f64>,
    /// Rows added, and how many of them are right, easy (p_t ≥ ½) and
    /// saturated.
    pub(super) rows: u64,
    pub(super) correct: u64,
    pub(super) easy: u64,
    pub(super) saturated: u64,
    /// The sums of CE and of the focal loss per γ, over all rows and over
    /// the easy ones.
    pub(super) ce: WideSum,
    pub(super) ce_easy: WideSum,
    pub(super) fl: Vec<WideSum>,
    pub(super) fl_easy: Vec<WideSum>,
    /// Per γ, the sums of |dFL/dz| ([`super::gradient`]).
    pub(super) grad: Vec<GradientSums>,
    /// Count, correct count and sums of each class.
    pub(super) per_class: PerClass,
    /// Rows per p_t bin.
    pub(super) pt_hist: Vec<u64>,
    /// One per γ, then CE; sigmoid: then per γ the positives' and the
    /// negatives' ([`Accumulator::side_cdf`]).
    pub(super) loss_hist: LossHistograms,
    /// The current block's rows, and the buffers of a batch.
    pub(super) stage: Stage,
    pub(super) scratch: Scratch,
    /// Every row's per-example values, when kept ([`Accumulator::keeping_examples`]).
    pub(super) kept: Option<Examples>,
    /// What the rows hold beyond a label ([`Accumulator::with`]), and the
    /// buffers of a row of per-class targets.
    pub(super) per_row: PerRow,
    pub(super) row: RowScratch,
    /// Every row's sigmoid values, when kept.
    pub(super) kept_sigmoid: Option<SigmoidExamples>,
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
            grad: vec![GradientSums::default(); g],
            per_class: PerClass::new(classes, per_class_sums(config.mode, g)),
            pt_hist: vec![0; config.bins],
            loss_hist: LossHistograms::new(g + 1 + if config.mode == Mode::Sigmoid { 2 * g } else { 0 }),
            stage: Stage::new(g),
            scratch: Scratch::new(config.mode, classes),
            kept: None,
            per_row: PerRow::default(),
            row: RowScratch::default(),
            kept_sigmoid: None,
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
        self.ready();
        let k = self.classes;
        assert_eq!(logits.len(), labels.len() * k, "{} logits for {} rows of {k}", logits.len(), labels.len());
        if let Some(t) = labels.iter().find(|&&t| t >= k) {
            panic!("label {t} out of range for {k} classes");
        }
        let per_batch = match self.mode {
            Mode::Sigmoid => sigmoid_batch_rows(k),
            Mode::Softmax => (BATCH / k).max(1),
        };
        if self.stage.cached {
            self.flush();
        }
        let mut done = 0;
        while done < labels.len() {
            let take = (labels.len() - done).min(per_batch).min(BLOCK - self.stage.n);
            let (z, t) = (&logits[done * k..(done + take) * k], &labels[done..done + take]);
            let simd = self.simd;
            simd.run(Batch { acc: self, logits: z, labels: t });
            self.stage.n += take;
            done += take;
            if self.stage.n == BLOCK {
                self.flush();
            }
        }
    }

    /// Frees the batch buffers while no rows are added (the rows so far are
    /// summed; merging and finishing need no buffers): a run's next part on
    /// this thread reuses their memory instead of touching its own. Rows
    /// added later allocate them again.
    pub fn pause(&mut self) {
        self.flush();
        self.scratch = Scratch::default();
    }

    /// The batch buffers, allocated again after [`pause`](Self::pause).
    pub(super) fn ready(&mut self) {
        if self.scratch.top.is_empty() {
            self.scratch = Scratch::new(self.mode, self.classes);
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
                && self.alpha == other.alpha
                && self.per_row == other.per_row,
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
        for (a, b) in self.grad.iter_mut().zip(&other.grad) {
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
        if let (Some(a), Some(b)) = (&mut self.kept_sigmoid, other.kept_sigmoid.take()) {
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
        let class_stats = |c: usize| {
            let (n, correct, sums) = self.per_class.of(c);
            let means = sums[0].mean(n).map(|mean_cross_entropy| ClassMeans {
                accuracy: fraction(correct, n),
                mean_cross_entropy,
                mean_focal_loss: sums[1..=g].iter().filter_map(|s| s.mean(n)).collect(),
            });
            ClassStats {
                class: c,
                count: n,
                means,
                share: sums[1..=g].iter().zip(&self.fl).map(|(s, total)| s.share_of(total)).collect(),
            }
        };
        let per_class: Vec<ClassStats> = (0..self.classes).map(class_stats).collect();
        let mut guidance_notes = Vec::new();
        let counts: Vec<u64> = per_class.iter().map(|c| c.count).collect();
        let (alpha_suggestions, notes) = alpha_suggestions(&counts);
        guidance_notes.extend(notes);
        let sweep = self
            .gammas
            .iter()
            .enumerate()
            .map(|(i, &gamma)| {
                let (balancing_alpha, notes) = balancing_alpha(&self.class_losses(i), &at_gamma(gamma));
                guidance_notes.extend(notes);
                let shares = self.grad[i].shares();
                let sigmoid = self.mode == Mode::Sigmoid;
                SweepRow {
                    gamma,
                    mean_focal_loss: self.fl[i].mean(rows).unwrap_or(0.0),
                    easy_share: self.fl_easy[i].share_of(&self.fl[i]),
                    easy_share_ce,
                    top_share_90: self.loss_hist.get(i).top_share(TOP_MASS, rows),
                    top_share_90_ce,
                    balancing_alpha,
                    easy_gradient_share: shares.all,
                    easy_gradient_share_positive: sigmoid.then_some(shares.positives),
                    easy_gradient_share_negative: sigmoid.then_some(shares.negatives),
                    loss_cdf: self.loss_hist.get(i).cdf(rows),
                    loss_cdf_positives: sigmoid.then(|| self.side_cdf(g + 1 + 2 * i)),
                    loss_cdf_negatives: sigmoid.then(|| self.side_cdf(g + 2 + 2 * i)),
                }
            })
            .collect();
        // Sigmoid rows of per-class targets: the background group follows the classes.
        let background = (self.per_row.targets && self.mode == Mode::Sigmoid).then(|| {
            let ClassStats { count, means, share, .. } = class_stats(self.classes);
            Background { count, means, share }
        });
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
            background,
            histogram: self.pt_hist,
            alpha_suggestions,
            guidance_notes,
        }
    }

    /// The loss CDF of loss histogram `h` over the samples it holds
    /// (sigmoid: one side's, module docs of [`super::loss_cdf`]).
    fn side_cdf(&self, h: usize) -> LossCdf {
        let hist = self.loss_hist.get(h);
        hist.cdf(hist.values())
    }

    /// Each class's focal loss at γ number `gi` with α = 1 (any common
    /// scale; `None` for a class without rows), for the balancing α.
    /// Softmax: the class's share of the total over its α (every row of a
    /// class has the same α); sigmoid: its rows' positives' terms with α =
    /// 1 (the negatives weigh 1 − α = 0), summed per class.
    fn class_losses(&self, gi: usize) -> Vec<Option<f64>> {
        let g = self.gammas.len();
        (0..self.classes)
            .map(|c| {
                let (n, _, sums) = self.per_class.of(c);
                (n > 0).then(|| match self.mode {
                    Mode::Softmax => {
                        let a = self.alpha.of(c);
                        if a > 0.0 { (sums[1 + gi].share_of(&self.fl[gi]) / a).min(f64::MAX) } else { 0.0 }
                    }
                    Mode::Sigmoid => sums[1 + g + gi].mean(n).map_or(0.0, |m| m * (n as f64 / self.rows as f64)),
                })
            })
            .collect()
    }

    /// Heap memory held, in bytes. It does not grow with the rows added:
    /// about (γs + 1) · 512 KiB (sigmoid: (3 · γs + 1) · 512 KiB, with the
    /// per-side loss CDFs' histograms; untouched pages cost no memory),
    /// plus (γs + 1) · 40 + 20 bytes for each class seen (every class up to
    /// 64), 4 per class above 64 classes, and in sigmoid mode 88 per class
    /// (72 · max(K, 1024) at least).
    pub fn heap_bytes(&self) -> usize {
        vec_bytes(&self.gammas)
            + vec_bytes(&self.powers)
            + vec_bytes(&self.alpha_pos)
            + vec_bytes(&self.alpha_neg)
            + vec_bytes(&self.fl)
            + vec_bytes(&self.fl_easy)
            + vec_bytes(&self.grad)
            + self.per_class.heap_bytes()
            + vec_bytes(&self.pt_hist)
            + self.loss_hist.heap_bytes()
            + self.stage.heap_bytes()
            + self.scratch.heap_bytes()
            + self.row.heap_bytes()
    }

    /// One batch of rows (at most a block's remaining room).
    #[inline(always)]
    pub(super) fn batch<I: Isa, T: Logit>(&mut self, isa: I, logits: &[T], labels: &[usize]) {
        match self.mode {
            Mode::Softmax if self.classes <= COLUMNS_UP_TO => self.softmax_columns(isa, Input::Rows(logits), labels),
            Mode::Softmax => self.softmax_rows(isa, logits, labels),
            Mode::Sigmoid => self.sigmoid_rows(isa, Input::Rows(logits), labels),
        }
    }
}

/// Sums per class: CE, the focal loss per γ, and in sigmoid mode the
/// positives' focal terms with α = 1 per γ (the balancing α's).
pub(super) fn per_class_sums(mode: Mode, gammas: usize) -> usize {
    1 + gammas + if mode == Mode::Sigmoid { gammas } else { 0 }
}
