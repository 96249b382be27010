//! Completing a block of staged rows: its losses, then the running sums,
//! counts, per-class sums and histograms.

use super::histogram::{LossHistograms, MAX_VALUES};
use super::isa::Block;
use super::sums::{BIG, add_block};
use super::{Accumulator, BLOCK, COUNT_BY_PASSES_UP_TO};
use crate::loss::Mode;
use crate::simd::Isa;

impl Accumulator {
    /// Completes the staged block and adds it to the running sums.
    pub(super) fn flush(&mut self) {
        if self.stage.n == 0 {
            return;
        }
        let simd = self.simd;
        simd.run(Block(self));
    }

    /// [`flush`](Self::flush) with the instruction set's kernels: the
    /// block's losses (softmax), then its sums, counts and histograms.
    #[inline(always)]
    pub(super) fn block<I: Isa>(&mut self, isa: I) {
        let n = self.stage.n;
        // Rows of per-class targets are staged complete (targets.rs).
        if self.mode == Mode::Softmax && !self.per_row.targets {
            self.softmax_block::<I>();
        }
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
        let g = self.gammas.len();
        let sigmoid = self.mode == Mode::Sigmoid;
        for (gi, sums) in self.grad.iter_mut().enumerate() {
            let rows = gi * BLOCK..gi * BLOCK + n;
            let [a, b, c, d] =
                [&st.grad_pos, &st.grad_pos_easy, &st.grad_neg, &st.grad_neg_easy].map(|v| &v[rows.clone()]);
            sums.add_block(sigmoid, [a, b, c, d], p);
        }
        let top = self.loss_hist.add_block(&st.fl, ce);
        if sigmoid {
            // The per-side CDFs' histograms follow: per γ the positives', the
            // negatives' (class-index rows of one class have none; every other
            // class-index row has both, per-class targets' rows may not).
            let negatives = self.classes > 1 || self.per_row.targets;
            for gi in 0..g {
                let rows = gi * BLOCK..gi * BLOCK + n;
                let sides = [(g + 1 + 2 * gi, &st.fl_pos[rows.clone()]), (g + 2 + 2 * gi, &st.fl_neg[rows])];
                for (h, xs) in sides.into_iter().take(if negatives { 2 } else { 1 }) {
                    match self.per_row.targets {
                        true => self.loss_hist.add_samples(h, xs),
                        false => {
                            self.loss_hist.add_all(h, xs);
                        }
                    }
                }
            }
        }
        // Values of 2^960 and above (only after saturation) need the wide
        // sums; the histograms tell whether the block has any (and a pass
        // whether the positives' unweighted terms have).
        let pos_plain =
            !sigmoid || st.pos.chunks_exact(BLOCK).all(|x| x[..n].iter().fold(true, |ok, &x| ok & (x < BIG)));
        let plain = top < LossHistograms::bin(BIG) && pos_plain;
        let quantity = |q: usize| match q {
            0 => ce,
            _ if q <= g => &st.fl[(q - 1) * BLOCK..(q - 1) * BLOCK + n],
            _ => &st.pos[(q - 1 - g) * BLOCK..(q - 1 - g) * BLOCK + n],
        };
        self.per_class.add_block(isa, &st.label[..n], &st.correct[..n], &mut st.slot[..n], quantity, plain);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::sweep::Config;
    use crate::loss::argmax;
    use crate::test_rng::uniform;

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
