//! The sigmoid re-sweep without a pass over the logits when only α or the
//! γ list changed: each row's focal sums per γ kept at unit weights.
//!
//! # Why it is exact
//! With a scalar α a row's sigmoid focal loss is
//! `FL = α · P + (1 − α) · N`, `P` the positive's `(1 − p)^γ · BCE` and `N`
//! the sum of the negatives' (each weighed 1: [`SigmoidTerms`] keeps both
//! per row and γ, computed by the sweep's own [`focal_terms`] with unit
//! weights, `unit`). The sweep weighs each logit's term before summing the
//! row; here the row's two sums are weighed: two products and a sum more, so
//! a row's loss is within 3 ulp of the sweep's (the sweep's own is within
//! 15 ε of the exact sum), and every report number within 1e-13 of `data`'s
//! (tests/dataset_view_sigmoid.rs). This holds while `P` and `N` are 0 or
//! normal and far from overflow (below 2^1000) and no CE saturates: a γ
//! whose terms are not is swept the whole way ([`SigmoidExamples::sweep`]).
//!
//! With one α per class (what F5 applies) `FL = α_t · P + Σ_{c≠t} (1 − α_c)
//! · n_c` does not factor into `P` and `N`. Everything but the row losses
//! is still linear in the weights, per class: the split (the positives'
//! and negatives' shares, and of their easy ones) and the gradient's sums
//! (its magnitude `w · m · (1 − p) + γ · p · FL` is linear in the logit's
//! weight `w`) are `Σ_c α_c · T⁺_c + (1 − α_c) · T⁻_c` of unit-weight totals
//! per class and γ ([`unit::ClassTotals`]: the positives by their label,
//! the negatives by their class; within 1e-14 each, so every share within
//! 1e-13). The row losses (the loss histograms behind `top_share_90` and
//! the loss CDF, the easy rows' and each class's share, the class means)
//! come from one lean pass over the kept logit values, per logit only its
//! weight and `w · m · BCE` by `weigh`'s own operations, summed in class
//! order as the sweep sums a row ([`per_class::losses`]): the sweep's bits,
//! so the loss CDF is the sweep's exactly. The balancing α reads each
//! row's `P` (the positive at α = 1), kept.
//!
//! The guidance (issue 18) follows: the easy share of the gradient at any
//! α from the per-class totals; the loss CDF of a scalar α from the rows'
//! losses as the sweep's (its bound width `max_gap`, a difference, agrees
//! to 1e-11 rather than 1e-13).
//!
//! # What an edit costs
//! The γs not kept yet first, in one lean pass over the kept logit values
//! (`unit`: per logit the term, the gradient's magnitude with `p = e^(−BCE)`
//! and the per-class totals; no `expm1`, no block bookkeeping), and kept.
//! Then one pass over the rows: the block sums, per-class sums and
//! histograms of every γ, from `α · P + (1 − α) · N` (a scalar α: no
//! logit read) or from the lean pass over the logits (a per-class α), only
//! what α changes once a pass has kept the rest (`fixed`). Memory:
//! 16 bytes a row per γ kept, and 8 for its CE, plus 8 · K wide sums
//! (256 · K bytes) per γ for the per-class totals; a per-class α needs
//! nothing more (the accumulators' batch buffers). Only the γs of the last
//! sweep (and those the caller asks to keep) are kept.
//!
//! [`focal_terms`]: super::sigmoid::focal_terms

mod fixed;
mod per_class;
mod unit;

use super::sigmoid_examples::{Block, Shares, Split};
use super::{Accumulator, BLOCK, Config, Report, SigmoidExamples, vec_bytes};
use crate::loss::{Alpha, Mode};
use crate::simd::{Isa, Kernel};
use fixed::{Fixed, PartValues};
use rayon::prelude::*;
use unit::ClassTotals;

/// One γ's sums at unit weights.
#[derive(Clone, Debug)]
struct GammaTerms {
    gamma: f64,
    /// Per row: the positive's `(1 − p)^γ · BCE`, the negatives' sum.
    pos: Vec<f64>,
    neg: Vec<f64>,
    /// Per class, the split's and the gradient's totals (`unit`).
    classes: ClassTotals,
    /// Every `pos` and `neg` is 0 or normal and below 2^1000.
    combinable: bool,
}

/// Each row's per-γ focal sums at unit weights, for the γs of the last
/// sweep, so that [`SigmoidTerms::sweep`] re-sweeps an α or γ-list edit
/// without a pass over the logits for the γs it holds (module docs).
#[derive(Clone, Debug, Default)]
pub struct SigmoidTerms {
    /// Per row: CE (the row's BCE summed), and the CE's split; empty
    /// until the first γ is computed.
    ce: Vec<f64>,
    ce_split: Shares,
    /// No CE saturated.
    ce_fits: bool,
    gammas: Vec<GammaTerms>,
    /// The buffers of γs dropped, for the next ones: a γ typed or nudged
    /// replaces the last, and fresh pages would cost more than the sums.
    spare: Vec<Vec<f64>>,
    /// What an α edit cannot change, from the last pass ([`fixed`]).
    fixed: Fixed,
}

impl SigmoidTerms {
    /// The report and split of `config` over `ex`'s rows, the report
    /// [`SigmoidExamples::sweep`] gives to 1e-13: from the kept sums where
    /// they serve (the γs missing computed first, and kept), else the
    /// whole way. Keeps the sums of `keep`'s γs and `config`'s, drops the
    /// others.
    ///
    /// # Panics
    /// As [`SigmoidExamples::sweep`].
    pub fn sweep(&mut self, ex: &SigmoidExamples, config: &Config, keep: &[f64]) -> (Report, Split) {
        assert_eq!(config.mode, Mode::Sigmoid, "these terms are of sigmoid rows");
        let (gammas, dropped) = std::mem::take(&mut self.gammas)
            .into_iter()
            .partition(|t| keep.contains(&t.gamma) || config.gammas.contains(&t.gamma));
        self.gammas = gammas;
        let held = &self.gammas;
        self.fixed.retain(|g| held.iter().any(|t| t.gamma == g));
        self.spare.extend(dropped.into_iter().flat_map(|t: GammaTerms| [t.pos, t.neg]));
        let kept = |g: f64| self.gammas.iter().position(|t| t.gamma == g);
        if config.gammas.iter().any(|&g| kept(g).is_some_and(|i| !self.gammas[i].combinable)) {
            return ex.sweep(config);
        }
        let mut missing: Vec<f64> = config.gammas.iter().copied().filter(|&g| kept(g).is_none()).collect();
        missing.dedup();
        self.compute(ex, &missing);
        let terms: Vec<&GammaTerms> =
            config.gammas.iter().map(|&g| self.gammas.iter().find(|t| t.gamma == g).expect("computed")).collect();
        if !self.ce_fits || terms.iter().any(|t| !t.combinable) {
            return ex.sweep(config);
        }
        let mut report = pass(&self.ce, &mut self.fixed, ex, config, &terms);
        // The shares linear in the weights, from the per-class totals.
        let (pos, neg): (Vec<f64>, Vec<f64>) =
            (0..ex.classes()).map(|c| (config.alpha.of(c), 1.0 - config.alpha.of(c))).unzip();
        let split =
            Split { focal: terms.iter().map(|t| t.classes.shares(&pos, &neg)).collect(), cross_entropy: self.ce_split };
        for (row, t) in report.sweep.iter_mut().zip(&terms) {
            let (all, positives, negatives) = t.classes.gradient_shares(&pos, &neg);
            row.easy_gradient_share = all;
            row.easy_gradient_share_positive = Some(positives);
            row.easy_gradient_share_negative = Some(negatives);
        }
        (report, split)
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        let spare: usize = self.spare.iter().map(vec_bytes).sum();
        let gammas = self.gammas.iter().map(|t| vec_bytes(&t.pos) + vec_bytes(&t.neg) + t.classes.heap_bytes());
        vec_bytes(&self.ce) + spare + gammas.sum::<usize>() + self.fixed.heap_bytes()
    }
}

/// The report of `config` in one pass over the rows, block by block, from
/// the kept CE and sums of its γs (`terms`, in its order): a scalar α's
/// losses `α · P + (1 − α) · N`, a per-class α's from the kept logit values
/// ([`per_class::losses`]); what α cannot change from `fixed` where it
/// serves, else kept there. Its gradient shares are left to the caller.
fn pass(ce: &[f64], fixed: &mut Fixed, ex: &SigmoidExamples, config: &Config, terms: &[&GammaTerms]) -> Report {
    let weights = match config.alpha {
        Alpha::Scalar(a) => Some((a, 1.0 - a)),
        Alpha::PerClass(_) => None,
    };
    let mut rows = 0;
    let parts: Vec<(&[Block], usize)> = ex
        .parts()
        .into_iter()
        .map(|blocks| {
            let from = rows;
            rows += blocks.iter().map(|b| b.n).sum::<usize>();
            (blocks, from)
        })
        .collect();
    let lean = fixed.serves(parts.len(), config.bins, &config.gammas);
    if !lean {
        fixed.start(parts.len(), config.bins);
    }
    let kept = &*fixed;
    let merged = parts
        .into_par_iter()
        .enumerate()
        .map(|(i, (blocks, from))| {
            let mut acc = Accumulator::new(config, ex.classes());
            let simd = acc.simd;
            simd.run(Combined { acc: &mut acc, ex, blocks, from, ce, terms, weights, lean });
            let values = if lean {
                kept.set(i, &mut acc);
                None
            } else {
                PartValues::of(&acc)
            };
            (acc, vec![(i, values)])
        })
        .reduce_with(|(mut a, mut va), (b, vb)| {
            a.merge(b);
            va.extend(vb);
            (a, va)
        });
    let (mut acc, mut values) = merged.unwrap_or_else(|| (Accumulator::new(config, ex.classes().max(1)), Vec::new()));
    if lean {
        fixed.set_ce_histogram(&mut acc);
    } else {
        values.sort_by_key(|v| v.0);
        fixed.take(values.into_iter().map(|v| v.1).collect(), &acc);
    }
    acc.finish()
}

/// `v` cut into the rows of each part.
fn cut<'a>(mut v: &'a mut [f64], parts: &[&[Block]]) -> Vec<&'a mut [f64]> {
    parts
        .iter()
        .map(|blocks| {
            let (head, rest) = std::mem::take(&mut v).split_at_mut(blocks.iter().map(|b| b.n).sum());
            v = rest;
            head
        })
        .collect()
}

/// One part's pass (its `blocks`, from row `from`): `acc` sweeps the
/// config from the kept CE and sums (`terms`); `weights` the scalar α's,
/// none for a per-class α; `lean`: only what depends on α ([`fixed::lean`],
/// the rest set from [`Fixed`]); compiled for the instruction set.
struct Combined<'a> {
    acc: &'a mut Accumulator,
    ex: &'a SigmoidExamples,
    blocks: &'a [Block],
    from: usize,
    ce: &'a [f64],
    terms: &'a [&'a GammaTerms],
    weights: Option<(f64, f64)>,
    lean: bool,
}

impl Kernel for Combined<'_> {
    type Output = ();

    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        let Combined { acc, ex, blocks, from, ce, terms, weights, lean } = self;
        let mut r = from;
        for block in blocks {
            let n = block.n;
            let rows = r..r + n;
            ex.stage_rows(&mut acc.stage, block);
            if !lean {
                acc.stage.ce[..n].copy_from_slice(&ce[rows.clone()]);
            }
            if weights.is_none() {
                per_class::losses::<I>(acc, ex, block);
            }
            // Each row's loss per γ (scalar α; a per-class one's are staged),
            // its positive's term at α = 1 (the balancing α's), and its
            // weighted sides (the per-side loss CDFs').
            let st = &mut acc.stage;
            if weights.is_none() {
                // Each row's α_t, once for every γ.
                for (a, &c) in st.alpha_t[..n].iter_mut().zip(&st.label[..n]) {
                    *a = acc.alpha_pos[c];
                }
            }
            let sides = st.fl_pos.chunks_exact_mut(BLOCK).zip(st.fl_neg.chunks_exact_mut(BLOCK));
            let per_gamma = st.fl.chunks_exact_mut(BLOCK).zip(st.pos.chunks_exact_mut(BLOCK)).zip(sides);
            for (((fl, pos), (fl_pos, fl_neg)), t) in per_gamma.zip(terms) {
                let (p, q) = (&t.pos[rows.clone()], &t.neg[rows.clone()]);
                if let Some((a, b)) = weights {
                    for ((f, &p), &q) in fl[..n].iter_mut().zip(p).zip(q) {
                        *f = a * p + b * q;
                    }
                    for ((op, &p), (on, &q)) in fl_pos.iter_mut().zip(p).zip(fl_neg.iter_mut().zip(q)) {
                        (*op, *on) = (a * p, b * q);
                    }
                } else {
                    for ((op, &p), &a) in fl_pos[..n].iter_mut().zip(p).zip(&st.alpha_t[..n]) {
                        *op = a * p;
                    }
                }
                if !lean {
                    pos[..n].copy_from_slice(p);
                }
            }
            st.n = n;
            if lean {
                fixed::lean(acc, isa);
            } else {
                acc.flush();
            }
            r += n;
        }
    }
}
