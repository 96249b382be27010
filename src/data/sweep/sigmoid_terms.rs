//! The sigmoid re-sweep without a pass over the logits when only α or the
//! γ list changed: each row's focal sums per γ kept at unit weights.
//!
//! # Why it is exact
//! With a scalar α a row's sigmoid focal loss is
//! `FL = α · P + (1 − α) · N`, `P` the positive's `(1 − p)^γ · BCE` and `N`
//! the sum of the negatives' (each weighed 1: [`SigmoidTerms`] keeps both
//! per row and γ, computed by the kept rows' own code with unit weights).
//! The sweep weighs each logit's term before summing the row; here the row's
//! two sums are weighed: two products and a sum more, so a row's loss
//! is within 3 ulp of the sweep's (the sweep's own is within 15 ε of the
//! exact sum), and every report number within 1e-13 of `data`'s
//! (tests/dataset_view_sigmoid.rs). This holds while `P` and `N` are 0 or
//! normal and far from overflow (below 2^1000) and no CE saturates: a γ
//! whose terms are not is swept the whole way ([`SigmoidExamples::sweep`]),
//! as is a per-class α (the negatives' weights differ by class, so `N`
//! does not factor).
//!
//! The split (the positives' and negatives' shares) is linear too: the
//! totals of `P`, of the easy rows' `P`, of `N` and of the easy negatives'
//! terms, kept per γ, weighed by α and 1 − α.
//!
//! The guidance (issue 18) follows: the gradient's magnitude is linear in
//! each logit's weight, so its unit-weight sums per γ give the easy share at
//! any α; the balancing α reads each row's `P` (the positive at α = 1); the
//! loss CDF comes from the rows' losses as the sweep's does (its bound width
//! `max_gap`, a difference, agrees to 1e-11 rather than 1e-13).
//!
//! # What an edit costs
//! One pass over the rows (the block sums, per-class sums and histograms of
//! every γ); the γs not kept yet are computed from the kept logit values in
//! the same pass, block by block, and kept. An α edit passes over no logit;
//! a γ-list edit over the logits only for its new γs. Memory: 16 bytes a
//! row per γ kept, and 8 for its CE; only the γs of the last sweep (and
//! those the caller asks to keep) are kept.

use super::gradient::GradientSums;
use super::guidance::share;
use super::limits::normal;
use super::sigmoid_examples::{Block, Shares, Split, SplitSums};
use super::sums::WideSum;
use super::{Accumulator, BLOCK, Config, Report, SigmoidExamples, vec_bytes};
use crate::loss::{Alpha, Mode};
use crate::simd::{Isa, Kernel};
use rayon::prelude::*;

/// Above this `P` or `N` a weighted sum might round past `f64::MAX`.
const TOO_BIG: f64 = 1.0715086071862673e301; // 2^1000

/// One γ's sums at unit weights.
#[derive(Clone, Debug)]
struct GammaTerms {
    gamma: f64,
    /// Per row: the positive's `(1 − p)^γ · BCE`, the negatives' sum.
    pos: Vec<f64>,
    neg: Vec<f64>,
    /// Over every row: the positives, the easy positives, the negatives,
    /// the easy negatives (module docs).
    totals: [WideSum; 4],
    /// Every `pos` and `neg` is 0 or normal and below [`TOO_BIG`].
    combinable: bool,
    /// The gradient's sums at unit weights (linear in the weights too).
    grad: GradientSums,
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
}

impl SigmoidTerms {
    /// The report and split of `config` over `ex`'s rows, the report
    /// [`SigmoidExamples::sweep`] gives to 1e-13: from the kept sums where
    /// they serve (the γs missing computed in the same pass, and kept),
    /// else the whole way. Keeps the sums of `keep`'s γs and `config`'s,
    /// drops the others.
    ///
    /// # Panics
    /// As [`SigmoidExamples::sweep`].
    pub fn sweep(&mut self, ex: &SigmoidExamples, config: &Config, keep: &[f64]) -> (Report, Split) {
        assert_eq!(config.mode, Mode::Sigmoid, "these terms are of sigmoid rows");
        let Alpha::Scalar(alpha) = config.alpha else { return ex.sweep(config) };
        let (gammas, dropped) = std::mem::take(&mut self.gammas)
            .into_iter()
            .partition(|t| keep.contains(&t.gamma) || config.gammas.contains(&t.gamma));
        self.gammas = gammas;
        self.spare.extend(dropped.into_iter().flat_map(|t: GammaTerms| [t.pos, t.neg]));
        let kept = |g: f64| self.gammas.iter().position(|t| t.gamma == g);
        if config.gammas.iter().any(|&g| kept(g).is_some_and(|i| !self.gammas[i].combinable)) {
            return ex.sweep(config);
        }
        let mut missing: Vec<f64> = config.gammas.iter().copied().filter(|&g| kept(g).is_none()).collect();
        missing.dedup();
        let weights = (alpha, 1.0 - alpha);
        let mut report = self.pass(ex, config, &missing, weights);
        let terms: Vec<&GammaTerms> =
            config.gammas.iter().map(|&g| self.gammas.iter().find(|t| t.gamma == g).expect("computed")).collect();
        if !self.ce_fits || terms.iter().any(|t| !t.combinable) {
            return ex.sweep(config);
        }
        let split =
            Split { focal: terms.iter().map(|t| shares(&t.totals, weights)).collect(), cross_entropy: self.ce_split };
        for (row, t) in report.sweep.iter_mut().zip(&terms) {
            let (all, positives, negatives) = gradient_shares(&t.grad, weights);
            row.easy_gradient_share = all;
            row.easy_gradient_share_positive = Some(positives);
            row.easy_gradient_share_negative = Some(negatives);
        }
        (report, split)
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        let spare: usize = self.spare.iter().map(vec_bytes).sum();
        vec_bytes(&self.ce) + spare + self.gammas.iter().map(|t| vec_bytes(&t.pos) + vec_bytes(&t.neg)).sum::<usize>()
    }

    /// The report of `config` with `weights` in one pass over the rows,
    /// block by block: the `missing` γs' sums computed from `ex`'s kept
    /// values (and kept), the others read.
    fn pass(&mut self, ex: &SigmoidExamples, config: &Config, missing: &[f64], weights: (f64, f64)) -> Report {
        let rows = ex.len();
        let mut buffer = || {
            let mut v = self.spare.pop().unwrap_or_default();
            v.resize(rows, 0.0);
            v
        };
        let mut pos: Vec<Vec<f64>> = missing.iter().map(|_| buffer()).collect();
        let mut neg: Vec<Vec<f64>> = missing.iter().map(|_| buffer()).collect();
        self.spare.clear();
        let new_ce = !missing.is_empty() && self.ce.len() != rows;
        let mut ce = if new_ce { vec![0.0; rows] } else { Vec::new() };
        let parts = ex.parts();
        let mut outs: Vec<Out> = parts.iter().map(|&blocks| Out { blocks, ..Out::default() }).collect();
        for (v, pos) in pos.iter_mut().map(|v| (v, true)).chain(neg.iter_mut().map(|v| (v, false))) {
            for (out, cut) in outs.iter_mut().zip(cut(v, &parts)) {
                if pos { out.pos.push(cut) } else { out.neg.push(cut) }
            }
        }
        if new_ce {
            for (out, cut) in outs.iter_mut().zip(cut(&mut ce, &parts)) {
                out.ce = cut;
            }
        }
        // Where each γ's sums come from: kept, or the `missing` one computed now.
        let sources: Vec<Source> = config
            .gammas
            .iter()
            .map(|&g| match self.gammas.iter().find(|t| t.gamma == g) {
                Some(t) => Source::Kept(t),
                None => Source::New(missing.iter().position(|&m| m == g).expect("missing")),
            })
            .collect();
        // Unit weights for the γs computed: α = 1 for the positives, and 1 for the negatives.
        let unit = Config { gammas: missing.to_vec(), alpha: Alpha::Scalar(1.0), mode: Mode::Sigmoid, bins: 1 };
        let g = missing.len();
        let kept_ce = (!new_ce).then_some(self.ce.as_slice());
        let (acc, sums, grad, fits) = outs
            .into_par_iter()
            .map(|out| {
                let mut acc = Accumulator::new(config, ex.classes());
                let mut sums = SplitSums::new(g);
                let mut unit = (g > 0).then(|| {
                    let mut acc = Accumulator::new(&unit, ex.classes());
                    acc.alpha_neg.fill(1.0);
                    acc
                });
                let simd = acc.simd;
                let pass = Pass { acc: &mut acc, unit: unit.as_mut(), ex, out, sums: &mut sums, sources: &sources };
                let fits = simd.run(Combined { pass, ce: kept_ce, weights });
                (acc, sums, unit.map_or_else(Vec::new, |u| u.grad), fits)
            })
            .reduce_with(|(mut a, mut s, mut ga, fa), (b, t, gb, fb)| {
                a.merge(b);
                s.merge(&t);
                for (x, y) in ga.iter_mut().zip(&gb) {
                    x.merge(y);
                }
                (a, s, ga, fa & fb)
            })
            .unwrap_or_else(|| {
                (
                    Accumulator::new(config, ex.classes().max(1)),
                    SplitSums::new(g),
                    vec![GradientSums::default(); g],
                    true,
                )
            });
        if new_ce {
            let fits_ce = fits && ce.iter().all(|&c| c < f64::MAX);
            (self.ce, self.ce_split, self.ce_fits) = (ce, sums.split().cross_entropy, fits_ce);
        }
        let usable = |v: &[f64]| v.iter().all(|&x| x == 0.0 || (normal(x) && x < TOO_BIG));
        for (i, (pos, neg)) in pos.into_iter().zip(neg).enumerate() {
            let totals = [sums.pos[i], sums.pos_easy[i], sums.neg[i], sums.neg_easy[i]];
            let combinable = usable(&pos) && usable(&neg);
            self.gammas.push(GammaTerms { gamma: missing[i], pos, neg, totals, combinable, grad: grad[i] });
        }
        acc.finish()
    }
}

/// Where a γ's per-row sums come from in a pass.
enum Source<'a> {
    Kept(&'a GammaTerms),
    /// The i-th γ computed in the pass.
    New(usize),
}

/// A part of the blocks and where its rows' new sums go.
#[derive(Default)]
struct Out<'a> {
    blocks: &'a [Block],
    pos: Vec<&'a mut [f64]>,
    neg: Vec<&'a mut [f64]>,
    ce: &'a mut [f64],
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

/// One part's pass: `acc` sweeps the config; `unit` (unit weights, the
/// missing γs) computes the new sums through
/// [`Accumulator::restage_block`].
struct Pass<'a, 'b> {
    acc: &'a mut Accumulator,
    unit: Option<&'a mut Accumulator>,
    ex: &'a SigmoidExamples,
    out: Out<'b>,
    sums: &'a mut SplitSums,
    sources: &'a [Source<'a>],
}

/// A [`Pass`] with the kept CE (none: computed) and the weights, compiled
/// for the instruction set; false if a CE saturated.
struct Combined<'a, 'b> {
    pass: Pass<'a, 'b>,
    ce: Option<&'a [f64]>,
    weights: (f64, f64),
}

impl Kernel for Combined<'_, '_> {
    type Output = bool;

    #[inline(always)]
    fn run<I: Isa>(self, _isa: I) -> bool {
        let Combined { pass: Pass { acc, mut unit, ex, mut out, sums, sources }, ce, weights: (a, b) } = self;
        let mut fits = true;
        let mut r = 0;
        for block in out.blocks {
            let (n, rows) = (block.n, block.row..block.row + block.n);
            if let Some(unit) = unit.as_deref_mut() {
                unit.restage_block::<I>(ex, block, sums);
                // The gradient's per-row sums, as a completed block adds them.
                let (grad, st) = (&mut unit.grad, &unit.stage);
                for (gi, g) in grad.iter_mut().enumerate() {
                    let rows = gi * BLOCK..gi * BLOCK + n;
                    let v =
                        [&st.grad_pos, &st.grad_pos_easy, &st.grad_neg, &st.grad_neg_easy].map(|v| &v[rows.clone()]);
                    g.add_block(true, v, &st.p[..n]);
                }
                for (gi, (pos, neg)) in out.pos.iter_mut().zip(out.neg.iter_mut()).enumerate() {
                    pos[r..r + n].copy_from_slice(&sums.row_pos[gi * BLOCK..gi * BLOCK + n]);
                    neg[r..r + n].copy_from_slice(&sums.row_neg[gi * BLOCK..gi * BLOCK + n]);
                }
                let st = &unit.stage;
                if !out.ce.is_empty() {
                    out.ce[r..r + n].copy_from_slice(&st.ce[..n]);
                }
                fits &= !st.saturated[..n].iter().zip(&st.ce[..n]).any(|(&s, &c)| s && c == f64::MAX);
            }
            let st = &mut acc.stage;
            ex.stage_rows(st, block);
            match (ce, unit.as_deref()) {
                (Some(kept), _) => st.ce[..n].copy_from_slice(&kept[rows.clone()]),
                (None, Some(unit)) => st.ce[..n].copy_from_slice(&unit.stage.ce[..n]),
                (None, None) => unreachable!("a CE kept or computed"),
            }
            // Each row's loss per γ, its positive's term at α = 1 (the
            // balancing α's), and its weighted sides (the per-side loss CDFs').
            let sides = st.fl_pos.chunks_exact_mut(BLOCK).zip(st.fl_neg.chunks_exact_mut(BLOCK));
            let per_gamma = st.fl.chunks_exact_mut(BLOCK).zip(st.pos.chunks_exact_mut(BLOCK)).zip(sides);
            for (((fl, pos), (fl_pos, fl_neg)), source) in per_gamma.zip(sources) {
                let (p, q) = match source {
                    Source::Kept(t) => (&t.pos[rows.clone()], &t.neg[rows.clone()]),
                    Source::New(gi) => {
                        (&sums.row_pos[gi * BLOCK..gi * BLOCK + n], &sums.row_neg[gi * BLOCK..gi * BLOCK + n])
                    }
                };
                for ((f, &p), &q) in fl[..n].iter_mut().zip(p).zip(q) {
                    *f = a * p + b * q;
                }
                for ((op, &p), (on, &q)) in fl_pos.iter_mut().zip(p).zip(fl_neg.iter_mut().zip(q)) {
                    (*op, *on) = (a * p, b * q);
                }
                pos[..n].copy_from_slice(p);
            }
            st.n = n;
            acc.flush();
            r += n;
        }
        fits
    }
}

/// The split's shares from unit-weight totals `[P, easy P, N, easy N]`.
fn shares(totals: &[WideSum; 4], (a, b): (f64, f64)) -> Shares {
    let wide = totals.iter().any(WideSum::is_wide);
    let [p, pe, n, ne] = totals.map(|t| t.scaled(wide));
    let total = a * p + b * n;
    Shares {
        positives: share(a * p, total),
        easy_positives: share(a * pe, total),
        negatives: share(b * n, total),
        easy_negatives: share(b * ne, total),
    }
}

/// The easy logits' shares of the gradient (all, among the positives,
/// among the negatives) from unit-weight sums: the magnitude is linear in
/// the weight (`super::gradient`).
fn gradient_shares(g: &GradientSums, (a, b): (f64, f64)) -> (f64, f64, f64) {
    let sums = [g.pos, g.pos_easy, g.neg, g.neg_easy];
    let wide = sums.iter().any(WideSum::is_wide);
    let [p, pe, n, ne] = sums.map(|s| s.scaled(wide));
    (share(a * pe + b * ne, a * p + b * n), g.pos_easy.share_of(&g.pos), g.neg_easy.share_of(&g.neg))
}
