//! A γ's unit-weight sums from the kept logit values, in one lean pass:
//! per row the positive's term `P` and the negatives' sum `N`, and per
//! class the totals that make every α-dependent share linear in the
//! weights ([`ClassTotals`]).
//!
//! # Per logit
//! Only what the kept sums need: the focal term `x = (1 − p)^γ · BCE` by
//! the sweep's own [`focal_terms`] with unit weights (the log-space
//! fallback included), and the gradient's magnitude at unit weight,
//! `m · (1 − p) + γ · p · x` ([`magnitude`]), with `p = σ(u) = e^(−BCE)`
//! (BCE = −ln σ(u)): the vectorised exponential, no `expm1` (the kept rows'
//! own re-sweep calls it for every logit with p < ½). That p is within
//! (2 + 2·BCE) ε relative; its term carries at most γ·p·BCE·m of the
//! magnitude, and p·BCE ≤ 1/e, so where the error could grow (BCE large) the
//! term is negligible: each magnitude is within a few ulp.
//!
//! # Sums
//! `P` and `N` as the kept rows' re-sweep takes them (`N` in class order,
//! the positive masked by an exact 0; the same bits as before). Per class
//! (a positive by its row's label, a negative by its class), over every row:
//! the terms and the magnitudes of the positives, of the easy positives, of
//! the negatives and of the easy negatives — easy as the split and the
//! gradient's sums take it (the split's positives by the row's p_t ≥ ½,
//! every other by the logit's own 1 − p ≤ ½). A block's terms go into eight
//! lanes per class (≤ 32 terms each for K ≤ 16, summed pairwise: ≤ 35 ε),
//! the block sums into compensated [`WideSum`]s: every total within 1e-14
//! relative. Memory: 8 · K wide sums per γ (256 · K bytes).
//!
//! Per part (the rows one accumulator of the next pass takes) and γ, the
//! positives' per-class sums at α = 1 as the sweep's blocks add them
//! ([`PerClass::add_sums`], each γ's own sum: the same bits), kept in
//! `Fixed` so that the pass after a γ added or typed completes only what α
//! changes (K per part and γ; none above `PerClass`'s dense K).

use super::{GammaTerms, SigmoidTerms, cut};
use crate::data::sweep::columns::row_sums;
use crate::data::sweep::factor::Power;
use crate::data::sweep::gradient::magnitude;
use crate::data::sweep::guidance::share;
use crate::data::sweep::limits::{abnormal, normal, saturate};
use crate::data::sweep::per_class::PerClass;
use crate::data::sweep::sigmoid::focal_terms;
use crate::data::sweep::sigmoid_examples::{Block, Shares};
use crate::data::sweep::sigmoid_gamma::class_order;
use crate::data::sweep::sums::{BIG, Neumaier, WideSum};
use crate::data::sweep::{BLOCK, COLUMNS_UP_TO, SIGMOID_BATCH, SigmoidExamples, vec_bytes};
use crate::simd::{Isa, Kernel, Simd};
use rayon::prelude::*;

/// Above this `P` or `N` a weighted sum might round past `f64::MAX`.
const TOO_BIG: f64 = 1.0715086071862673e301; // 2^1000

/// Per class, unit-weight totals over every row (module docs): of a
/// quantity's terms (`split`) and of the gradient's magnitudes (`grad`,
/// none for BCE), each `[positives, easy positives, negatives, easy
/// negatives]`, K classes each.
#[derive(Clone, Debug)]
pub(super) struct ClassTotals {
    split: [Vec<WideSum>; 4],
    grad: [Vec<WideSum>; 4],
}

impl ClassTotals {
    fn new(k: usize) -> Self {
        let v = || vec![WideSum::default(); k];
        ClassTotals { split: [v(), v(), v(), v()], grad: [v(), v(), v(), v()] }
    }

    fn merge(&mut self, other: &ClassTotals) {
        for (a, b) in self.split.iter_mut().chain(&mut self.grad).zip(other.split.iter().chain(&other.grad)) {
            for (a, b) in a.iter_mut().zip(b) {
                a.merge(b);
            }
        }
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.split.iter().chain(&self.grad).map(vec_bytes).sum()
    }

    /// The split's shares with the positives of class c weighed `pos[c]`
    /// and the negatives of class c `neg[c]`.
    pub(super) fn shares(&self, pos: &[f64], neg: &[f64]) -> Shares {
        let [p, pe, n, ne] = weighted(&self.split, pos, neg);
        let total = p + n;
        Shares {
            positives: share(p, total),
            easy_positives: share(pe, total),
            negatives: share(n, total),
            easy_negatives: share(ne, total),
        }
    }

    /// The easy logits' shares of the gradient (all, among the positives,
    /// among the negatives) at these weights: the magnitude is linear in
    /// its logit's weight (`super::super::gradient`).
    pub(super) fn gradient_shares(&self, pos: &[f64], neg: &[f64]) -> (f64, f64, f64) {
        let [p, pe, n, ne] = weighted(&self.grad, pos, neg);
        (share(pe + ne, p + n), share(pe, p), share(ne, n))
    }
}

/// `Σ_c w_c · s_c` of each of four per-class sums (the positives weighed by
/// `pos`, the negatives by `neg`), all scaled alike ([`WideSum::scaled`]):
/// non-negative terms summed compensated, within 3 ulp.
fn weighted(sums: &[Vec<WideSum>; 4], pos: &[f64], neg: &[f64]) -> [f64; 4] {
    let wide = sums.iter().flatten().any(WideSum::is_wide);
    let weights = [pos, pos, neg, neg];
    std::array::from_fn(|q| {
        let mut acc = Neumaier::default();
        for (s, &w) in sums[q].iter().zip(weights[q]) {
            acc.add(w * s.scaled(wide));
        }
        acc.value()
    })
}

impl SigmoidTerms {
    /// Computes and keeps the sums of the `missing` γs, and each row's CE
    /// and its split when not kept yet, in one pass over `ex`'s kept values
    /// on every core (module docs).
    pub(super) fn compute(&mut self, ex: &SigmoidExamples, missing: &[f64]) {
        let rows = ex.len();
        let new_ce = self.ce.len() != rows;
        let mut buffer = || {
            let mut v = self.spare.pop().unwrap_or_default();
            v.resize(rows, 0.0);
            v
        };
        let mut pos: Vec<Vec<f64>> = missing.iter().map(|_| buffer()).collect();
        let mut neg: Vec<Vec<f64>> = missing.iter().map(|_| buffer()).collect();
        self.spare.clear();
        if missing.is_empty() && !new_ce {
            return;
        }
        let mut ce = if new_ce { vec![0.0; rows] } else { Vec::new() };
        let parts = ex.parts();
        let mut jobs: Vec<Part> = parts
            .iter()
            .map(|&blocks| Part { ex, blocks, gammas: missing, pos: Vec::new(), neg: Vec::new(), ce: None })
            .collect();
        for v in &mut pos {
            for (job, cut) in jobs.iter_mut().zip(cut(v, &parts)) {
                job.pos.push(cut);
            }
        }
        for v in &mut neg {
            for (job, cut) in jobs.iter_mut().zip(cut(v, &parts)) {
                job.neg.push(cut);
            }
        }
        if new_ce {
            for (job, cut) in jobs.iter_mut().zip(cut(&mut ce, &parts)) {
                job.ce = Some(cut);
            }
        }
        let (k, simd) = (ex.classes().max(1), Simd::detect());
        let merged = jobs
            .into_par_iter()
            .enumerate()
            .map(|(i, job)| {
                let (sums, positives) = simd.run(job);
                (sums, vec![(i, positives)])
            })
            .reduce_with(|(mut a, mut pa), (b, pb)| {
                a.merge(&b);
                pa.extend(pb);
                (a, pa)
            });
        let (sums, mut positives) = merged.unwrap_or_else(|| (Sums::new(k, missing.len()), Vec::new()));
        // Each part's positives' per-class sums, for the next pass's kept
        // values (`Fixed`): a γ added completes only what α changes.
        positives.sort_by_key(|p| p.0);
        if positives.iter().all(|p| p.1.is_some()) {
            let mut per_part: Vec<_> = positives.into_iter().flat_map(|p| p.1).map(Vec::into_iter).collect();
            for &gamma in missing {
                let sums = per_part.iter_mut().map(|g| g.next().expect("one per γ")).collect();
                self.fixed.put_positives(gamma, sums);
            }
        }
        if new_ce {
            let ones = vec![1.0; k];
            self.ce_fits = sums.fits && ce.iter().all(|&c| c < f64::MAX);
            self.ce_split = sums.ce.shares(&ones, &ones);
            self.ce = ce;
        }
        let usable = |v: &[f64]| v.iter().all(|&x| x == 0.0 || (normal(x) && x < TOO_BIG));
        for (((&gamma, pos), neg), classes) in missing.iter().zip(pos).zip(neg).zip(sums.gammas) {
            let combinable = usable(&pos) && usable(&neg);
            self.gammas.push(GammaTerms { gamma, pos, neg, classes, combinable });
        }
    }
}

/// One part of the pass: its blocks, the γs, and where its rows' sums go
/// (CE: none when kept).
struct Part<'a> {
    ex: &'a SigmoidExamples,
    blocks: &'a [Block],
    gammas: &'a [f64],
    pos: Vec<&'a mut [f64]>,
    neg: Vec<&'a mut [f64]>,
    ce: Option<&'a mut [f64]>,
}

/// A part's totals per γ and of BCE; false if a CE saturated.
struct Sums {
    gammas: Vec<ClassTotals>,
    ce: ClassTotals,
    fits: bool,
}

impl Sums {
    fn new(k: usize, gammas: usize) -> Self {
        Sums { gammas: vec![ClassTotals::new(k); gammas], ce: ClassTotals::new(k), fits: true }
    }

    fn merge(&mut self, other: &Sums) {
        for (a, b) in self.gammas.iter_mut().zip(&other.gammas) {
            a.merge(b);
        }
        self.ce.merge(&other.ce);
        self.fits &= other.fits;
    }
}

impl Kernel for Part<'_> {
    /// The part's totals, and per γ its positives' per-class sums at α = 1
    /// as the sweep's blocks take them (none above `PerClass`'s dense K).
    type Output = (Sums, Option<Vec<Vec<WideSum>>>);

    #[inline(always)]
    fn run<I: Isa>(self, isa: I) -> Self::Output {
        let Part { ex, blocks, gammas, mut pos, mut neg, mut ce } = self;
        let k = ex.classes();
        let columns = k <= COLUMNS_UP_TO;
        let mut sums = Sums::new(k, gammas.len());
        let powers: Vec<Power> = gammas.iter().map(|&g| Power::of(g)).collect();
        let len = if columns { BLOCK * k } else { SIGMOID_BATCH.max(k) };
        let buffer = || vec![0.0; len];
        let ones = vec![1.0; len];
        let (mut x, mut m, mut sq, mut p) = (buffer(), buffer(), buffer(), buffer());
        let (mut negative, mut easy, mut masked) = (buffer(), buffer(), buffer());
        let (mut row, mut saturated) = (vec![0.0; BLOCK], vec![false; BLOCK]);
        let mut lanes = vec![0.0; 8 * 8 * k];
        let (mut positives, mut label) = (PerClass::new(k, gammas.len()), vec![0; BLOCK]);
        let mut r = 0;
        for block in blocks {
            let (labels, pt) = ex.rows(block);
            for (r0, nb, [om, l, b]) in ex.batches(block) {
                let (n, real) = (om.len(), nb.min(block.n - r0));
                let at = |i: usize, c: usize| if columns { c * nb + i } else { i * k + c };
                let labels = &labels[r0..r0 + real];
                let (x, m, sq, p) = (&mut x[..n], &mut m[..n], &mut sq[..n], &mut p[..n]);
                let (negative, easy, masked) = (&mut negative[..n], &mut easy[..n], &mut masked[..n]);
                // 1 for a negative, 0 for the positive; easy (module docs).
                negative.fill(1.0);
                for (e, &o) in easy.iter_mut().zip(om) {
                    *e = if o <= 0.5 { 1.0 } else { 0.0 };
                }
                for (i, &t) in labels.iter().enumerate() {
                    let j = at(i, t as usize);
                    negative[j] = 0.0;
                    easy[j] = if pt[r0 + i] >= 0.5 { 1.0 } else { 0.0 };
                }
                // p = σ(u) = e^(−BCE).
                for (p, &b) in p.iter_mut().zip(b) {
                    *p = I::exp(-b);
                }
                let shape = (k, nb, real, columns);
                let rows = r + r0..r + r0 + real;
                if let Some(ce) = ce.as_deref_mut() {
                    row_sums(&mut row[..nb], b, k, columns, &mut [], &mut []);
                    saturated[..real].fill(false);
                    saturate(&mut row[..real], &mut saturated[..real]);
                    sums.fits &= !saturated[..real].contains(&true);
                    ce[rows.clone()].copy_from_slice(&row[..real]);
                    accumulate::<false>(&mut sums.ce, &mut lanes, shape, [b, om, negative, easy], [om, om], 0.0);
                }
                let inputs_bad = abnormal(b) | abnormal(om);
                for (gi, (&gamma, &power)) in gammas.iter().zip(&powers).enumerate() {
                    focal_terms::<I>([&mut *x, &mut *m, &mut *sq], [om, l, &ones[..n], b], power, gamma, inputs_bad);
                    for (o, (i, &t)) in pos[gi][rows.clone()].iter_mut().zip(labels.iter().enumerate()) {
                        *o = x[at(i, t as usize)];
                    }
                    for ((o, &v), &f) in masked.iter_mut().zip(x.iter()).zip(negative.iter()) {
                        *o = v * f;
                    }
                    class_order(&mut row[..nb], masked, k, columns);
                    // As the sweep clamps a row's loss.
                    for (o, &v) in neg[gi][rows.clone()].iter_mut().zip(&row[..real]) {
                        *o = v.min(f64::MAX);
                    }
                    let ins = [&*x, om, &*negative, &*easy];
                    accumulate::<true>(&mut sums.gammas[gi], &mut lanes, shape, ins, [&*m, &*p], gamma);
                }
            }
            if positives.is_dense() {
                // As the sweep's block adds them (`Accumulator::block`): each
                // γ's own sum, with or without values of `BIG` and above.
                let (n, label) = (block.n, &mut label[..block.n]);
                for (l, &t) in label.iter_mut().zip(labels) {
                    *l = t as usize;
                }
                for (gi, pos) in pos.iter().enumerate() {
                    let xs = &pos[r..r + n];
                    let plain = xs.iter().fold(true, |ok, &x| ok & (x < BIG));
                    positives.add_sums(isa, label, gi..gi + 1, |_| xs, plain);
                }
            }
            r += block.n;
        }
        let positives =
            positives.is_dense().then(|| (0..gammas.len()).map(|q| positives.sums_of(q).to_vec()).collect());
        (sums, positives)
    }
}

/// Adds a batch's per-class totals (module docs) of the terms `x` (`om` =
/// 1 − p, `negative` and `easy` the masks) and, if `GRAD`, of their
/// magnitudes at γ (`m` the factors, `p` = σ(u)) to `t`: `shape` is (K,
/// the batch's rows, the real ones among them, class-major), `lanes` scratch.
#[inline(always)]
fn accumulate<const GRAD: bool>(
    t: &mut ClassTotals,
    lanes: &mut [f64],
    (k, nb, real, columns): (usize, usize, usize, bool),
    [x, om, negative, easy]: [&[f64]; 4],
    [m, p]: [&[f64]; 2],
    gamma: f64,
) {
    let quantities = if GRAD { 8 } else { 4 };
    let mut put = |lanes: &[f64], c: usize| {
        for q in 0..quantities {
            let l = &lanes[(q * k + c) * 8..(q * k + c + 1) * 8];
            let sum = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
            let total = if q < 4 { &mut t.split[q][c] } else { &mut t.grad[q - 4][c] };
            total.add(sum.min(f64::MAX));
        }
    };
    lanes.fill(0.0);
    if columns {
        // Class by class across the rows: eight rows at a time in the lanes.
        for c in 0..k {
            let s = c * nb..c * nb + real;
            let ins = [x, om, negative, easy, m, p].map(|v| &v[s.clone()]);
            let mut acc = [[0.0f64; 8]; 8];
            let full = real / 8 * 8;
            for i in (0..full).step_by(8) {
                let [x, om, ng, e, m, p] = ins.map(|v| -> &[f64; 8] { v[i..i + 8].try_into().expect("eight") });
                for l in 0..8 {
                    let v = quantities_of::<GRAD>([x[l], om[l], ng[l], e[l], m[l], p[l]], gamma);
                    for q in 0..8 {
                        acc[q][l] += v[q];
                    }
                }
            }
            for i in full..real {
                let v = quantities_of::<GRAD>(ins.map(|v| v[i]), gamma);
                for q in 0..8 {
                    acc[q][i % 8] += v[q];
                }
            }
            for (q, a) in acc.iter().enumerate().take(quantities) {
                lanes[(q * k + c) * 8..(q * k + c + 1) * 8].copy_from_slice(a);
            }
            put(lanes, c);
        }
    } else {
        for i in 0..real {
            for c in 0..k {
                let j = i * k + c;
                let v = quantities_of::<GRAD>([x[j], om[j], negative[j], easy[j], m[j], p[j]], gamma);
                for (q, &v) in v.iter().enumerate().take(quantities) {
                    lanes[(q * k + c) * 8 + i % 8] += v;
                }
            }
        }
        for c in 0..k {
            put(lanes, c);
        }
    }
}

/// The eight quantities of a logit (its term `x`, `om` = 1 − p, the masks
/// `negative` and `easy`, its factor `m` and `p`): the term, then (if
/// `GRAD`) the magnitude, each as the positive's, the easy positive's, the
/// negative's and the easy negative's (the others 0, by exact 0/1 factors).
#[inline(always)]
fn quantities_of<const GRAD: bool>([x, om, negative, easy, m, p]: [f64; 6], gamma: f64) -> [f64; 8] {
    let positive = 1.0 - negative;
    let g = if GRAD { magnitude(1.0, m, om, p, x, gamma) } else { 0.0 };
    let eg = if om <= 0.5 { 1.0 } else { 0.0 };
    let (xp, xn, gp, gn) = (x * positive, x * negative, g * positive, g * negative);
    [xp, xp * easy, xn, xn * easy, gp, gp * eg, gn, gn * eg]
}
