//! Each row's sigmoid values, kept per class so that the dataset view sweeps
//! again at other γs and αs without the logits, and the split of the loss
//! between the positives and the negatives (the paper's point: under cross
//! entropy the easy negatives dominate).
//!
//! # What is kept
//! For every logit (row r, class c), with `u = z` for the label and `−z`
//! for the other classes, the values the sweep computes from it
//! (`sigmoid.rs`): `1 − p = σ(−u)`, `−ln(1 − p) = softplus(u)` and
//! `BCE = softplus(−u)`, three f64; per row its label, whether it is right
//! and p_t = σ(z_label). The focal loss of a logit at any γ and α is then
//! `w · (1 − p)^γ · BCE` with the sweep's own factor ([`weigh`]): the same
//! operations on the same values, so the same bits as the sweep of the
//! logits (the log-space fallback takes `ln BCE = −softplus(u)` where BCE
//! is subnormal: there u > 708 and softplus(u) = u exactly). Only the
//! grouping of blocks among threads may differ (≤ 1e-13, as for the softmax
//! [`Examples`](super::Examples)).
//!
//! Memory: [`SIGMOID_ELEMENT_BYTES`] per logit and [`SIGMOID_ROW_BYTES`] per
//! row — 253 bytes a row at K = 10 — plus, for K ≤ 16, the unused tail of
//! each accumulator's last block (whole blocks are class-major).
//!
//! # The split
//! Per γ, the focal loss summed over the positives (each row's label) and
//! over the negatives (every other class), and over the easy ones of each
//! (p_t ≥ ½ for the logit's own binary problem: σ(u) ≥ ½, i.e. 1 − p ≤ ½),
//! as shares of the total; the same for the unweighted BCE. A row's
//! negatives are summed in class order as the row's loss is (masked by
//! exact 0/1 factors, so no difference of sums is formed), then a block's
//! rows as the sweep sums them.

use super::columns::row_sums;
use super::limits::{abnormal, saturate};
use super::sigmoid::weights_and_mask;
use super::sigmoid_gamma::{Batch, Buffers, Layout, Logits, RowSums};
use super::stage::Stage;
use super::sums::{WideSum, add_block, add_block_all};
use super::{Accumulator, BLOCK, COLUMNS_UP_TO, Config, PARTS_PER_THREAD, Report, SIGMOID_BATCH, vec_bytes};
use crate::loss::Mode;
use crate::simd::{Isa, Kernel};
use rayon::prelude::*;

/// Bytes kept per logit: 1 − p, softplus(u) and BCE.
pub const SIGMOID_ELEMENT_BYTES: u64 = 3 * 8;
/// Bytes kept per row: its label, whether it is right, and p_t.
pub const SIGMOID_ROW_BYTES: u64 = 4 + 1 + 8;

/// `1 − p`, `softplus(u)` and BCE of `u = 0`: the filler of a block's unused
/// rows (finite and normal, so that no check trips on them).
const FILLER: [f64; 3] = [0.5, std::f64::consts::LN_2, std::f64::consts::LN_2];

/// Where a block's values are: `n` rows from row `row`, its logits from
/// `at` — class-major with a stride of [`BLOCK`] for K ≤ 16 (as the sweep's
/// batches), row-major above.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Block {
    pub(super) row: usize,
    pub(super) n: usize,
    at: usize,
}

/// Each row's sigmoid values per class, kept by
/// [`Accumulator::keeping_examples`] in sigmoid mode, so that
/// [`SigmoidExamples::sweep`] needs no exponential or logarithm.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SigmoidExamples {
    classes: usize,
    pub(super) blocks: Vec<Block>,
    label: Vec<u32>,
    correct: Vec<bool>,
    p: Vec<f64>,
    /// Per logit: 1 − p, softplus(u) = −ln(1 − p), BCE = softplus(−u).
    om: Vec<f64>,
    softplus: Vec<f64>,
    bce: Vec<f64>,
}

/// The positives' and negatives' shares of the total loss (module docs).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Split {
    /// One per γ of the sweep, of the focal loss.
    pub focal: Vec<Shares>,
    /// Of the unweighted BCE (the sweep's CE).
    pub cross_entropy: Shares,
}

/// Shares of a total, each in [0, 1]: positives + negatives = 1 (to
/// rounding; both 0 for a zero total).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Shares {
    pub positives: f64,
    /// The easy positives' share of the total (p_t ≥ ½).
    pub easy_positives: f64,
    pub negatives: f64,
    /// The easy negatives' share of the total (σ(−z) ≥ ½).
    pub easy_negatives: f64,
}

impl SigmoidExamples {
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
        vec_bytes(&self.blocks)
            + vec_bytes(&self.label)
            + vec_bytes(&self.correct)
            + vec_bytes(&self.p)
            + vec_bytes(&self.om)
            + vec_bytes(&self.softplus)
            + vec_bytes(&self.bce)
    }

    /// The sweep's report over these rows at `config`'s γs, α and bins, on
    /// every core, and the split of each loss: the report of the logits the
    /// rows came from, to the grouping of blocks among threads (module docs).
    ///
    /// # Panics
    /// If `config` is in softmax mode, or as [`Accumulator::new`].
    pub fn sweep(&self, config: &Config) -> (Report, Split) {
        assert_eq!(config.mode, Mode::Sigmoid, "these examples hold sigmoid rows");
        let (acc, sums) = self
            .parts()
            .into_par_iter()
            .map(|blocks| {
                let mut acc = Accumulator::new(config, self.classes);
                let mut sums = SplitSums::new(config.gammas.len());
                for block in blocks {
                    let simd = acc.simd;
                    simd.run(Resweep { acc: &mut acc, ex: self, block, sums: &mut sums });
                }
                (acc, sums)
            })
            .reduce_with(|(mut a, mut s), (b, t)| {
                a.merge(b);
                s.merge(&t);
                (a, s)
            })
            .unwrap_or_else(|| (Accumulator::new(config, self.classes.max(1)), SplitSums::new(config.gammas.len())));
        (acc.finish(), sums.split())
    }

    /// The blocks in a few runs per thread, each swept by one accumulator.
    pub(super) fn parts(&self) -> Vec<&[Block]> {
        let parts = PARTS_PER_THREAD * rayon::current_num_threads();
        self.blocks.chunks(self.blocks.len().div_ceil(parts).max(1)).collect()
    }

    /// Stages `block`'s labels, rightness and p_t (none saturated yet).
    #[inline(always)]
    pub(super) fn stage_rows(&self, st: &mut Stage, block: &Block) {
        let (n, rows) = (block.n, block.row..block.row + block.n);
        for (l, &t) in st.label[..n].iter_mut().zip(&self.label[rows.clone()]) {
            *l = t as usize;
        }
        st.correct[..n].copy_from_slice(&self.correct[rows.clone()]);
        st.p[..n].copy_from_slice(&self.p[rows]);
        st.saturated[..n].fill(false);
    }

    /// `block`'s batches: rows `r0..`, the batch's rows `nb` (class-major:
    /// the whole block, its unused rows filler; row-major: as many as the
    /// scratch holds) and their kept values (1 − p, softplus(u), BCE).
    pub(super) fn batches<'a>(&'a self, block: &Block) -> impl Iterator<Item = (usize, usize, [&'a [f64]; 3])> + 'a {
        let (k, &Block { n, at, .. }) = (self.classes, block);
        let columns = k <= COLUMNS_UP_TO;
        let per_batch = if columns { BLOCK } else { (SIGMOID_BATCH / k).max(1) };
        (0..n).step_by(per_batch).map(move |r0| {
            let nb = if columns { BLOCK } else { per_batch.min(n - r0) };
            let (from, len) = (at + r0 * k, nb * k);
            (r0, nb, [&self.om, &self.softplus, &self.bce].map(|v| &v[from..from + len]))
        })
    }

    /// `block`'s labels and p_t.
    pub(super) fn rows(&self, block: &Block) -> (&[u32], &[f64]) {
        let rows = block.row..block.row + block.n;
        (&self.label[rows.clone()], &self.p[rows])
    }

    /// Appends a batch of rows the sweep just computed (rows `base..` of its
    /// block): per logit `om`, `softplus`, `bce` laid out as the batch
    /// (class-major when `columns`), per row from the stage. They are kept
    /// class-major for K ≤ 16, else row-major (a class-major batch of more
    /// classes transposed): the layout of [`Self::batches`].
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record(
        &mut self,
        base: usize,
        labels: &[usize],
        correct: &[bool],
        p: &[f64],
        [om, softplus, bce]: [&[f64]; 3],
        columns: bool,
    ) {
        let (k, nb) = (self.classes, labels.len());
        let kept_columns = k <= COLUMNS_UP_TO;
        if base == 0 {
            let at = self.om.len();
            self.blocks.push(Block { row: self.label.len(), n: 0, at });
            if kept_columns {
                for (kept, filler) in [&mut self.om, &mut self.softplus, &mut self.bce].into_iter().zip(FILLER) {
                    kept.resize(at + BLOCK * k, filler);
                }
            }
        }
        let block = self.blocks.last_mut().expect("a block was started");
        for (kept, batch) in [&mut self.om, &mut self.softplus, &mut self.bce].into_iter().zip([om, softplus, bce]) {
            match (columns, kept_columns) {
                (true, true) => {
                    for (c, values) in batch.chunks_exact(nb).enumerate() {
                        let to = block.at + c * BLOCK + base;
                        kept[to..to + nb].copy_from_slice(values);
                    }
                }
                (true, false) => kept.extend((0..nb * k).map(|i| batch[(i % k) * nb + i / k])),
                _ => kept.extend_from_slice(&batch[..nb * k]),
            }
        }
        block.n += nb;
        self.label.extend(labels.iter().map(|&t| t as u32));
        self.correct.extend_from_slice(correct);
        self.p.extend_from_slice(p);
    }

    /// Appends `other`'s rows after these.
    pub(super) fn append(&mut self, mut other: SigmoidExamples) {
        let (rows, at) = (self.label.len(), self.om.len());
        self.blocks.extend(other.blocks.iter().map(|b| Block { row: b.row + rows, n: b.n, at: b.at + at }));
        self.label.append(&mut other.label);
        self.correct.append(&mut other.correct);
        self.p.append(&mut other.p);
        self.om.append(&mut other.om);
        self.softplus.append(&mut other.softplus);
        self.bce.append(&mut other.bce);
    }

    /// An empty store for rows of `classes` classes.
    pub(super) fn new(classes: usize) -> Self {
        SigmoidExamples { classes, ..SigmoidExamples::default() }
    }
}

/// The split's running sums: per γ (then BCE), over the positives, the
/// easy positives, the negatives and the easy negatives; and a block's
/// per-row sums of each quantity (`q · BLOCK + r`).
pub(super) struct SplitSums {
    pub(super) pos: Vec<WideSum>,
    pub(super) pos_easy: Vec<WideSum>,
    pub(super) neg: Vec<WideSum>,
    pub(super) neg_easy: Vec<WideSum>,
    pub(super) row_pos: Vec<f64>,
    pub(super) row_neg: Vec<f64>,
    row_neg_easy: Vec<f64>,
}

impl SplitSums {
    pub(super) fn new(gammas: usize) -> Self {
        let sums = || vec![WideSum::default(); gammas + 1];
        let rows = || vec![0.0; BLOCK * (gammas + 1)];
        SplitSums {
            pos: sums(),
            pos_easy: sums(),
            neg: sums(),
            neg_easy: sums(),
            row_pos: rows(),
            row_neg: rows(),
            row_neg_easy: rows(),
        }
    }

    pub(super) fn merge(&mut self, other: &SplitSums) {
        for (a, b) in [(&mut self.pos, &other.pos), (&mut self.pos_easy, &other.pos_easy)]
            .into_iter()
            .chain([(&mut self.neg, &other.neg), (&mut self.neg_easy, &other.neg_easy)])
        {
            for (a, b) in a.iter_mut().zip(b) {
                a.merge(b);
            }
        }
    }

    /// A batch's row sums of `x` into `all` (as [`row_sums`] sums them),
    /// and quantity `q`'s per-row sums of rows `r0..` (`real` of them): the
    /// positive's, the negatives' and the easy negatives' (`x` times the 0/1
    /// masks `neg` and `easy`, summed in class order as the row's loss is).
    /// Class-major batches take every sum in one pass; row-major ones take
    /// `row_sums`' compensated sums through `masked` (scratch).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn rows(
        &mut self,
        q: usize,
        (r0, real): (usize, usize),
        labels: &[usize],
        x: &[f64],
        all: &mut [f64],
        [neg, easy]: [&[f64]; 2],
        masked: &mut [f64],
        (k, columns): (usize, bool),
    ) {
        let nb = x.len() / k;
        let from = q * BLOCK + r0;
        let (row_neg, row_easy) = (&mut self.row_neg[from..from + nb], &mut self.row_neg_easy[from..from + nb]);
        if columns {
            all.fill(0.0);
            row_neg.fill(0.0);
            row_easy.fill(0.0);
            for ((c, nc), ec) in x.chunks_exact(nb).zip(neg.chunks_exact(nb)).zip(easy.chunks_exact(nb)) {
                for r in 0..nb {
                    let v = c[r];
                    all[r] += v;
                    row_neg[r] += v * nc[r];
                    row_easy[r] += v * ec[r];
                }
            }
        } else {
            row_sums(all, x, k, false, &mut [], &mut []);
            for (mask, out) in [(neg, &mut *row_neg), (easy, &mut *row_easy)] {
                for ((m, &v), &f) in masked.iter_mut().zip(x).zip(mask) {
                    *m = v * f;
                }
                row_sums(out, masked, k, false, &mut [], &mut []);
            }
        }
        // As the sweep clamps a row's loss.
        for v in row_neg[..real].iter_mut().chain(&mut row_easy[..real]) {
            *v = v.min(f64::MAX);
        }
        let at = |r: usize, c: usize| if columns { c * nb + r } else { r * k + c };
        for (o, (i, &t)) in self.row_pos[from..from + real].iter_mut().zip(labels.iter().enumerate()) {
            *o = x[at(i, t)];
        }
    }

    /// Quantity `q`'s per-row sums of the negatives and the easy negatives
    /// (`nb` rows from row `r0`) and its positives (`real` rows), to be
    /// written.
    fn parts(&mut self, q: usize, r0: usize, (nb, real): (usize, usize)) -> [&mut [f64]; 3] {
        let from = q * BLOCK + r0;
        [
            &mut self.row_neg[from..from + nb],
            &mut self.row_neg_easy[from..from + nb],
            &mut self.row_pos[from..from + real],
        ]
    }

    /// Adds a block's `n` rows of every quantity (`p` their p_t).
    fn add_block(&mut self, n: usize, p: &[f64]) {
        for q in 0..self.pos.len() {
            let rows = q * BLOCK..q * BLOCK + n;
            add_block(&mut self.pos[q], &mut self.pos_easy[q], &self.row_pos[rows.clone()], p);
            add_block_all(&mut self.neg[q], &self.row_neg[rows.clone()]);
            add_block_all(&mut self.neg_easy[q], &self.row_neg_easy[rows]);
        }
    }

    pub(super) fn split(&self) -> Split {
        let shares = |q: usize| {
            let mut total = self.pos[q];
            total.merge(&self.neg[q]);
            Shares {
                positives: self.pos[q].share_of(&total),
                easy_positives: self.pos_easy[q].share_of(&total),
                negatives: self.neg[q].share_of(&total),
                easy_negatives: self.neg_easy[q].share_of(&total),
            }
        };
        let g = self.pos.len() - 1;
        Split { focal: (0..g).map(shares).collect(), cross_entropy: shares(g) }
    }
}

/// One kept block through [`Accumulator::resweep_block`], compiled for the
/// instruction set.
struct Resweep<'a> {
    acc: &'a mut Accumulator,
    ex: &'a SigmoidExamples,
    block: &'a Block,
    sums: &'a mut SplitSums,
}

impl Kernel for Resweep<'_> {
    type Output = ();

    #[inline(always)]
    fn run<I: Isa>(self, _isa: I) {
        self.acc.resweep_block::<I>(self.ex, self.block, self.sums)
    }
}

impl Accumulator {
    /// This accumulator in sigmoid mode, also keeping each row's values for
    /// [`SigmoidExamples::sweep`] ([`Accumulator::finish_keeping_sigmoid`]
    /// hands them out).
    pub(super) fn keeping_sigmoid(mut self) -> Self {
        self.kept_sigmoid = Some(SigmoidExamples::new(self.classes));
        self
    }

    /// [`finish`](Self::finish), and the kept sigmoid rows (in the order
    /// their rows were added and merged; empty unless kept).
    pub fn finish_keeping_sigmoid(mut self) -> (Report, SigmoidExamples) {
        self.flush();
        let kept = self.kept_sigmoid.take().unwrap_or_default();
        (self.finish(), kept)
    }

    /// Stages a kept block's rows, computes their losses at this sweep's γs
    /// and α from the kept values (and the split's per-row sums), and
    /// completes the block.
    #[inline(always)]
    fn resweep_block<I: Isa>(&mut self, ex: &SigmoidExamples, block: &Block, sums: &mut SplitSums) {
        self.flush();
        self.restage_block::<I>(ex, block, sums);
        self.stage.n = block.n;
        self.flush();
    }

    /// Stages a kept block's rows (the stage empty) and computes their CE
    /// and losses at this sweep's γs and weights from the kept values, and
    /// the split's per-row sums (added to `sums`); the block is not
    /// completed.
    #[inline(always)]
    fn restage_block<I: Isa>(&mut self, ex: &SigmoidExamples, block: &Block, sums: &mut SplitSums) {
        assert_eq!((ex.classes, self.mode), (self.classes, Mode::Sigmoid), "examples of another sweep");
        let n = block.n;
        let columns = self.classes <= COLUMNS_UP_TO;
        ex.stage_rows(&mut self.stage, block);
        for (r0, nb, kept) in ex.batches(block) {
            self.resweep_batch::<I>((r0, nb.min(n - r0)), kept, columns, sums);
        }
        sums.add_block(n, &self.stage.p[..n]);
    }

    /// Rows `r0..` of the staged block (`real` of the batch's rows; the
    /// rest filler) from their kept values: the weights, CE, the focal
    /// loss per γ (as `sigmoid_rows` takes them), and the split's sums.
    #[inline(always)]
    fn resweep_batch<I: Isa>(
        &mut self,
        (r0, real): (usize, usize),
        [om, l, b]: [&[f64]; 3],
        columns: bool,
        sums: &mut SplitSums,
    ) {
        let (k, len) = (self.classes, om.len());
        let nb = len / k;
        let st = &mut self.stage;
        let sc = &mut self.scratch;
        let (w, x, m, sq) = (&mut sc.weight[..len], &mut sc.loss[..len], &mut sc.factor[..len], &mut sc.squares[..len]);
        let (neg, easy, masked) = (&mut sc.u[..len], &mut sc.exp[..len], &mut sc.bce[..len]);
        let masked4 = &mut sc.masked[..4 * len];
        // p = σ(u): 1 − (1 − p) is exact to an ulp where 1 − p ≤ ½, and
        // −expm1(−softplus(u)) keeps its relative accuracy below.
        let pl = &mut sc.p[..len];
        for ((p, &o), &l) in pl.iter_mut().zip(om).zip(l) {
            *p = if o <= 0.5 { 1.0 - o } else { -(-l).exp_m1() };
        }
        let pl = &*pl;
        // The weights as the sweep sets them; the masks of the negatives
        // and of the easy negatives (exact 0/1 factors).
        let labels = &st.label[r0..r0 + real];
        let alpha = (&self.alpha_neg[..], &self.alpha_pos[..]);
        weights_and_mask(w, neg, alpha, labels.iter().copied(), (k, nb, columns));
        for ((e, &n), &o) in easy.iter_mut().zip(neg.iter()).zip(om) {
            *e = if o <= 0.5 { n } else { 0.0 };
        }
        let ce = &mut st.ce[r0..r0 + nb];
        let (neg, easy) = (&*neg, &*easy);
        sums.rows(self.gammas.len(), (r0, real), labels, b, ce, [neg, easy], masked, (k, columns));
        saturate(&mut ce[..real], &mut st.saturated[r0..r0 + real]);
        let inputs_bad = abnormal(b) | abnormal(om);
        let values = Logits { om, l, w: &*w, b, p: pl, neg };
        let mut batch =
            Batch::new(values, labels, Layout { k, nb, columns }, inputs_bad, &mut sc.pos_at, &mut sc.pos_in);
        for (gi, &power) in self.powers.iter().enumerate() {
            let rows = gi * BLOCK + r0..gi * BLOCK + r0 + nb;
            let [fl, gn, gne] = [&mut st.fl, &mut st.grad_neg, &mut st.grad_neg_easy].map(|v| &mut v[rows.clone()]);
            let real_rows = gi * BLOCK + r0..gi * BLOCK + r0 + real;
            let [gp, gpe, unit] =
                [&mut st.grad_pos, &mut st.grad_pos_easy, &mut st.pos].map(|v| &mut v[real_rows.clone()]);
            let [fl_neg, fl_neg_easy, fl_pos] = sums.parts(gi, r0, (nb, real));
            let (x, m, sq, masked) = (&mut *x, &mut *m, &mut *sq, &mut *masked4);
            let buf = Buffers { x, m, sq, masked, lanes: &mut [], carry: &mut [] };
            let out = RowSums { fl, fl_neg, fl_neg_easy, grad_neg: [gn, gne], fl_pos, grad_pos: [gp, gpe], unit };
            batch.gamma_terms::<I>(power, self.gammas[gi], buf, out);
            saturate(&mut st.fl[gi * BLOCK + r0..gi * BLOCK + r0 + real], &mut st.saturated[r0..r0 + real]);
            // The per-side loss CDFs' samples, as the sweep's.
            let side = gi * BLOCK + r0..gi * BLOCK + r0 + real;
            st.fl_pos[side.clone()].copy_from_slice(&sums.row_pos[side.clone()]);
            st.fl_neg[side.clone()].copy_from_slice(&sums.row_neg[side]);
        }
    }
}
