//! Each row's softmax values, kept so that the dataset view sweeps again
//! at other γs and αs without the logits.

use super::stage::Stage;
use super::{Accumulator, BLOCK, Config, PARTS_PER_THREAD, Report};
use crate::loss::{Alpha, Mode};
use rayon::prelude::*;

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

    /// Appends the staged block's rows (softmax values computed).
    #[inline(always)]
    pub(super) fn record(&mut self, st: &Stage) {
        let n = st.n;
        self.label.extend(st.label[..n].iter().map(|&t| t as u32));
        self.correct.extend_from_slice(&st.correct[..n]);
        self.p.extend_from_slice(&st.p[..n]);
        self.ce.extend_from_slice(&st.ce[..n]);
        self.om.extend_from_slice(&st.om[..n]);
        self.ln_om.extend_from_slice(&st.ln_om[..n]);
        self.ln_ce.extend((0..n).map(|r| st.ln_ce(r)));
    }

    /// Appends `other`'s rows after these.
    pub(super) fn append(&mut self, mut other: Examples) {
        self.label.append(&mut other.label);
        self.correct.append(&mut other.correct);
        self.p.append(&mut other.p);
        self.ce.append(&mut other.ce);
        self.om.append(&mut other.om);
        self.ln_om.append(&mut other.ln_om);
        self.ln_ce.append(&mut other.ln_ce);
    }
}

impl Accumulator {
    /// This accumulator, also keeping each row's per-example values for
    /// [`Examples::sweep`] ([`Accumulator::finish_keeping`] hands them out),
    /// or in sigmoid mode each row's values per class for
    /// [`SigmoidExamples::sweep`](super::SigmoidExamples::sweep)
    /// ([`Accumulator::finish_keeping_sigmoid`]).
    pub fn keeping_examples(mut self) -> Self {
        if self.mode == Mode::Sigmoid {
            return self.keeping_sigmoid();
        }
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
        self.ready();
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
}
