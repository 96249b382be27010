//! What an α edit cannot change, kept from the last pass that computed
//! it, so that the next α edit's pass does only the bookkeeping that
//! depends on α.
//!
//! A pass over the kept sums (`Combined`) completes each block as the sweep
//! does ([`Accumulator::flush`]). Of that, the rows' counts (correct, easy,
//! per class), CE's sums (all, easy, per class), the p_t histogram, CE's
//! loss histogram and, per γ, the per-class sums of the positives' terms at
//! α = 1 depend only on the rows and the γ: they are kept per part (the
//! rows one accumulator takes) the first time, and set into each part's
//! accumulator on the next pass instead of being summed again ([`lean`]);
//! a new γ's positives' sums come from that γ's own pass
//! ([`Fixed::put_positives`]), so a γ added or typed is lean too.
//! A part's sums then hold the same bits: every per-class sum is its own
//! sequence of block sums ([`PerClass::add_sums`]), whatever else the block
//! adds, and the parts are merged as before. The gradient's sums, which
//! the caller replaces by the per-class totals', are skipped too. Memory:
//! per part its counts and K + 2 wide sums, K per γ, the p_t bins; one loss
//! histogram (CE's; 512 KiB, touched only where the losses fall).
//!
//! [`PerClass::add_sums`]: crate::data::sweep::per_class::PerClass::add_sums

use crate::data::sweep::histogram::LossHistograms;
use crate::data::sweep::sums::{BIG, WideSum, add_block};
use crate::data::sweep::{Accumulator, BLOCK, vec_bytes};
use crate::simd::Isa;

/// One part's values that do not depend on α (module docs).
#[derive(Clone, Debug)]
struct Part {
    correct: u64,
    easy: u64,
    ce: WideSum,
    ce_easy: WideSum,
    /// Per class: rows, right ones, CE's sum.
    count: Vec<u64>,
    right: Vec<u64>,
    class_ce: Vec<WideSum>,
    pt_hist: Vec<u64>,
}

/// The values of every part that do not depend on α (module docs), for
/// `parts` parts and `bins` p_t bins.
#[derive(Clone, Default)]
pub(super) struct Fixed {
    parts: usize,
    bins: usize,
    each: Vec<Part>,
    /// Per γ, each part's per-class sums of the positives' terms at α = 1.
    positives: Vec<(f64, Vec<Vec<WideSum>>)>,
    /// CE's loss histogram over every row.
    ce_hist: Option<LossHistograms>,
}

impl std::fmt::Debug for Fixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let gammas: Vec<f64> = self.positives.iter().map(|(g, _)| *g).collect();
        f.debug_struct("Fixed").field("parts", &self.parts).field("bins", &self.bins).field("gammas", &gammas).finish()
    }
}

impl Fixed {
    /// Whether a pass of `parts` parts, `bins` p_t bins and these γs can
    /// take everything from here (then [`lean`] completes its blocks).
    pub(super) fn serves(&self, parts: usize, bins: usize, gammas: &[f64]) -> bool {
        self.parts == parts
            && self.bins == bins
            && self.ce_hist.is_some()
            && gammas.iter().all(|&g| self.positives.iter().any(|(p, _)| *p == g))
    }

    /// Heap bytes held.
    pub(super) fn heap_bytes(&self) -> usize {
        let part =
            |p: &Part| vec_bytes(&p.count) + vec_bytes(&p.right) + vec_bytes(&p.class_ce) + vec_bytes(&p.pt_hist);
        let positives = self.positives.iter().map(|(_, v)| vec_bytes(v) + v.iter().map(vec_bytes).sum::<usize>());
        vec_bytes(&self.each)
            + self.each.iter().map(part).sum::<usize>()
            + vec_bytes(&self.positives)
            + positives.sum::<usize>()
            + self.ce_hist.as_ref().map_or(0, LossHistograms::heap_bytes)
    }

    /// Forgets the γs not in `keep`.
    pub(super) fn retain(&mut self, keep: impl Fn(f64) -> bool) {
        self.positives.retain(|(g, _)| keep(*g));
    }

    /// Starts keeping a pass of `parts` parts over `bins` p_t bins (the
    /// values of another layout dropped).
    pub(super) fn start(&mut self, parts: usize, bins: usize) {
        if (self.parts, self.bins) != (parts, bins) {
            *self = Fixed { parts, bins, ..Fixed::default() };
        }
    }

    /// Takes the parts' values (in part order) and CE's histogram (from
    /// the merged accumulator) of a pass completed the whole way.
    pub(super) fn take(&mut self, values: Vec<Option<PartValues>>, merged: &Accumulator) {
        if values.len() != self.parts || values.iter().any(Option::is_none) {
            return;
        }
        self.each.clear();
        let mut positives: Vec<(f64, Vec<Vec<WideSum>>)> = Vec::new();
        for v in values.into_iter().flatten() {
            self.each.push(v.part);
            for (g, sums) in v.positives {
                match positives.iter_mut().find(|(p, _)| *p == g) {
                    Some((_, all)) => all.push(sums),
                    None => positives.push((g, vec![sums])),
                }
            }
        }
        for (g, sums) in positives {
            self.positives.retain(|(p, _)| *p != g);
            self.positives.push((g, sums));
        }
        let mut ce_hist = LossHistograms::new(1);
        ce_hist.add_histogram(0, &merged.loss_hist, merged.gammas.len());
        self.ce_hist = Some(ce_hist);
    }

    /// Keeps a γ's positives' per-class sums at α = 1, one per part, taken
    /// by another pass over the same parts (a new γ's, `unit`).
    pub(super) fn put_positives(&mut self, gamma: f64, sums: Vec<Vec<WideSum>>) {
        if sums.len() == self.parts {
            self.positives.retain(|(p, _)| *p != gamma);
            self.positives.push((gamma, sums));
        }
    }

    /// Sets part `i`'s kept values into its accumulator, completed by
    /// [`lean`].
    pub(super) fn set(&self, i: usize, acc: &mut Accumulator) {
        let p = &self.each[i];
        let g = acc.gammas.len();
        acc.correct = p.correct;
        acc.easy = p.easy;
        acc.ce = p.ce;
        acc.ce_easy = p.ce_easy;
        acc.per_class.set_counts(&p.count, &p.right);
        acc.per_class.set_sums(0, &p.class_ce);
        for gi in 0..g {
            let (_, sums) = self.positives.iter().find(|(p, _)| *p == acc.gammas[gi]).expect("served");
            acc.per_class.set_sums(1 + g + gi, &sums[i]);
        }
        acc.pt_hist.copy_from_slice(&p.pt_hist);
    }

    /// Sets CE's histogram into the merged accumulator.
    pub(super) fn set_ce_histogram(&self, merged: &mut Accumulator) {
        let g = merged.gammas.len();
        merged.loss_hist.add_histogram(g, self.ce_hist.as_ref().expect("served"), 0);
    }
}

/// One part's values that do not depend on α, for [`Fixed::take`].
pub(super) struct PartValues {
    part: Part,
    positives: Vec<(f64, Vec<WideSum>)>,
}

impl PartValues {
    /// From a part's accumulator, completed the whole way; none where its
    /// per-class sums are not class by class (K > 64).
    pub(super) fn of(acc: &Accumulator) -> Option<Self> {
        if !acc.per_class.is_dense() {
            return None;
        }
        let g = acc.gammas.len();
        let (count, right) = acc.per_class.counts();
        let part = Part {
            correct: acc.correct,
            easy: acc.easy,
            ce: acc.ce,
            ce_easy: acc.ce_easy,
            count: count.to_vec(),
            right: right.to_vec(),
            class_ce: acc.per_class.sums_of(0).to_vec(),
            pt_hist: acc.pt_hist.clone(),
        };
        let positives = (0..g).map(|gi| (acc.gammas[gi], acc.per_class.sums_of(1 + g + gi).to_vec())).collect();
        Some(PartValues { part, positives })
    }
}

/// Completes the staged block of a pass the [`Fixed`] values serve: only
/// what depends on α (module docs) — the focal losses' sums, their loss
/// histograms and the per-side ones, their per-class sums.
#[inline(always)]
pub(super) fn lean<I: Isa>(acc: &mut Accumulator, isa: I) {
    let st = &mut acc.stage;
    let (n, g) = (st.n, acc.gammas.len());
    acc.rows += n as u64;
    acc.saturated += st.saturated[..n].iter().map(|&c| u64::from(c)).sum::<u64>();
    let p = &st.p[..n];
    let negatives = acc.classes > 1;
    let mut top = 0;
    for gi in 0..g {
        let rows = gi * BLOCK..gi * BLOCK + n;
        add_block(&mut acc.fl[gi], &mut acc.fl_easy[gi], &st.fl[rows.clone()], p);
        top = top.max(acc.loss_hist.add_all(gi, &st.fl[rows.clone()]));
        acc.loss_hist.add_all(g + 1 + 2 * gi, &st.fl_pos[rows.clone()]);
        if negatives {
            acc.loss_hist.add_all(g + 2 + 2 * gi, &st.fl_neg[rows]);
        }
    }
    let plain = top < LossHistograms::bin(BIG);
    let fl = |q: usize| &st.fl[(q - 1) * BLOCK..(q - 1) * BLOCK + n];
    acc.per_class.add_sums(isa, &st.label[..n], 1..1 + g, fl, plain);
    st.n = 0;
    st.cached = false;
}

#[cfg(test)]
mod tests {
    use super::super::SigmoidTerms;
    use crate::data::sweep::{Accumulator, BLOCK, Config};
    use crate::loss::{Alpha, Mode};
    use crate::test_rng::uniform;

    /// An α edit completed from the kept values (the lean pass) gives the
    /// bits of the same edit completed the whole way (fresh terms): the
    /// report and the split, scalar and per-class α, one class, K = 10 and
    /// K = 40, p_t bins changed in between, a γ list whose γs were kept by
    /// earlier passes of other lists, and new γs (3, then 4.5 alone, as a
    /// keystroke) whose positives' sums the new γ's own pass kept.
    #[test]
    fn lean_passes_give_the_whole_passes_bits() {
        for k in [1, 10, 40] {
            let rows = 9 * BLOCK + 37;
            let logits = uniform(rows * k, -6.0, 6.0, 70 + k as u64);
            let labels: Vec<usize> = uniform(rows, 0.0, k as f64, 71).iter().map(|&x| x as usize).collect();
            let sigmoid = Config { mode: Mode::Sigmoid, ..Config::default() };
            let mut acc = Accumulator::new(&sigmoid, k).keeping_examples();
            acc.add(&logits, &labels);
            let ex = acc.finish_keeping_sigmoid().1;
            let per_class = Alpha::PerClass((0..k).map(|c| (c + 1) as f64 / (k + 1) as f64).collect());
            let alphas = [Alpha::Scalar(0.25), Alpha::Scalar(0.7), per_class, Alpha::Scalar(1.0)];
            let lists: [&[f64]; 4] = [&[0.0, 0.5, 2.0, 5.0], &[2.0, 0.5], &[3.0, 2.0, 0.5], &[4.5]];
            let mut terms = SigmoidTerms::default();
            for (i, gammas) in lists.iter().enumerate() {
                for (j, alpha) in alphas.iter().enumerate() {
                    // The bins change once (list 0's last α), so that lists
                    // 2 and 3 are lean from their first α (their new γs).
                    let bins = if (i, j) == (0, 3) { 7 } else { 20 };
                    let config = Config { gammas: gammas.to_vec(), alpha: alpha.clone(), mode: Mode::Sigmoid, bins };
                    if i >= 2 && j == 0 {
                        // The new γ's own pass keeps what makes this pass lean.
                        let new: Vec<f64> = gammas.iter().copied().filter(|g| !lists[0].contains(g)).collect();
                        terms.compute(&ex, &new);
                        assert!(terms.fixed.serves(ex.parts().len(), bins, gammas), "K={k} list {i}: not lean");
                    }
                    let kept = terms.sweep(&ex, &config, &[0.0, 0.5, 2.0, 5.0]);
                    let whole = SigmoidTerms::default().sweep(&ex, &config, &[]);
                    assert_eq!(kept, whole, "K={k} list {i} α {j}");
                }
            }
        }
    }
}
