//! Rows whose logits are stored as class planes (a `[B, C, H, W]` dump read
//! in strips): fed to the class-major path as they are, with no
//! transposition into rows and back.

use super::columns::column_argmax;
use super::isa::PlaneBatch;
use super::{Accumulator, BLOCK, Logit, PLANES_UP_TO};
use crate::loss::Mode;
use crate::simd::Isa;

/// Where a batch's logits are.
#[derive(Clone, Copy)]
pub(super) enum Input<'a, T> {
    /// K per row, row-major.
    Rows(&'a [T]),
    /// Class `c` of row `i` at `values[c · stride + positions[i]]`.
    Planes { values: &'a [T], stride: usize, positions: &'a [usize] },
}

impl<T: Logit> Input<'_, T> {
    /// Row `i`'s `k` logits, converted (exactly) to f64.
    pub(super) fn row(self, i: usize, k: usize) -> Vec<f64> {
        match self {
            Input::Rows(z) => z[i * k..(i + 1) * k].iter().map(|&v| v.into()).collect(),
            Input::Planes { values, stride, positions } => {
                (0..k).map(|c| values[c * stride + positions[i]].into()).collect()
            }
        }
    }
}

impl Accumulator {
    /// Adds rows stored as class planes: row `i` is position `positions[i]`
    /// (increasing) of planes `stride` apart, class `c` of it at
    /// `logits[c · stride + positions[i]]`. The same rows as [`add`](Self::add)
    /// of them gathered row-major, the same bits, K ≤ [`PLANES_UP_TO`].
    ///
    /// # Panics
    /// If K > [`PLANES_UP_TO`], the lengths disagree, a position is outside
    /// the planes, a label is ≥ K, or as [`add`](Self::add).
    pub fn add_planes<T: Logit>(&mut self, logits: &[T], stride: usize, positions: &[usize], labels: &[usize]) {
        self.ready();
        let k = self.classes;
        assert!(k <= PLANES_UP_TO, "class planes of {k} classes: at most {PLANES_UP_TO}");
        assert_eq!(positions.len(), labels.len(), "{} positions for {} labels", positions.len(), labels.len());
        if let Some(&last) = positions.last() {
            assert!((k - 1) * stride + last < logits.len(), "position {last} outside planes of {stride}");
        }
        if let Some(t) = labels.iter().find(|&&t| t >= k) {
            panic!("label {t} out of range for {k} classes");
        }
        let per_batch = match self.mode {
            Mode::Softmax => self.scratch.columns.len() / k,
            Mode::Sigmoid => self.scratch.u.len() / k,
        };
        if self.stage.cached {
            self.flush();
        }
        let mut done = 0;
        while done < labels.len() {
            let take = (labels.len() - done).min(per_batch).min(BLOCK - self.stage.n);
            let (p, t) = (&positions[done..done + take], &labels[done..done + take]);
            let simd = self.simd;
            simd.run(PlaneBatch {
                acc: self,
                input: Input::Planes { values: logits, stride, positions: p },
                labels: t,
            });
            self.stage.n += take;
            done += take;
            if self.stage.n == BLOCK {
                self.flush();
            }
        }
    }

    /// One batch of class-plane rows (at most a block's remaining room).
    #[inline(always)]
    pub(super) fn planes_batch<I: Isa, T: Logit>(&mut self, isa: I, input: Input<'_, T>, labels: &[usize]) {
        match self.mode {
            Mode::Softmax => self.softmax_columns(isa, input, labels),
            Mode::Sigmoid => self.sigmoid_rows(isa, input, labels),
        }
    }
}

/// `col[c · n + i] = ±values[c · stride + positions[i]]` for the `n`
/// positions, and each row's largest value (unnegated) and its first index
/// in `top` and `j`: the instruction set's kernel takes the rows it can;
/// the rest are a straight conversion of each plane where their positions
/// are consecutive, a gather where some were left out, and
/// [`column_argmax`]'s comparisons.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn fill_columns<I: Isa, T: Logit>(
    isa: I,
    col: &mut [f64],
    values: &[T],
    stride: usize,
    positions: &[usize],
    negate: bool,
    top: &mut [f64],
    j: &mut [usize],
) {
    let n = positions.len();
    let k = col.len() / n.max(1);
    let done = isa.gather_planes(col, values, stride, positions, k, negate, Some((&mut *top, &mut *j)));
    if done < n {
        let (first, last) = (positions[done], positions[n - 1]);
        let sign = if negate { -1.0 } else { 1.0 };
        for (c, out) in col.chunks_exact_mut(n).enumerate() {
            let (plane, out) = (&values[c * stride..], &mut out[done..]);
            if last - first + 1 == n - done {
                for (o, &v) in out.iter_mut().zip(&plane[first..=last]) {
                    *o = sign * v.into();
                }
            } else {
                for (o, &p) in out.iter_mut().zip(&positions[done..]) {
                    *o = sign * plane[p].into();
                }
            }
        }
    }
    column_argmax(top, j, col, done, negate);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::sweep::{Config, DEFAULT_GAMMAS};
    use crate::loss::Alpha;
    use crate::simd::Simd;
    use crate::test_rng::{Rng, uniform};

    /// Class planes of `items` items of `inner` positions (float32, with
    /// extremes: a row whose S underflows, and ties), labels, and which
    /// positions are left out.
    fn planes(items: usize, k: usize, inner: usize, seed: u64) -> (Vec<f32>, Vec<usize>, Vec<bool>) {
        let z: Vec<f32> = uniform(items * k * inner, -12.0, 12.0, seed).iter().map(|&v| v as f32).collect();
        let mut rng = Rng::new(seed + 1);
        let labels: Vec<usize> = (0..items * inner).map(|_| rng.below(k)).collect();
        let left_out = (0..items * inner).map(|_| rng.below(10) == 0).collect();
        let mut z = z;
        // Position 0: the label's logit 800 above the others (S < 1e-290);
        // position 1: every class tied.
        for c in 0..k {
            z[c * inner] = if c == labels[0] { 800.0 } else { 0.0 };
            z[c * inner + 1] = 1.5;
        }
        (z, labels, left_out)
    }

    /// Rows fed as class planes give the bits of the same rows fed
    /// row-major, in softmax and sigmoid, for K up to `PLANES_UP_TO`, on
    /// every instruction set, whatever the batches (runs of positions with
    /// some left out, or all of them).
    #[test]
    fn planes_give_the_row_paths_bits() {
        let (items, inner) = (3, 700);
        for k in [1, 3, 10, 16, 17, 19, 24, 33, PLANES_UP_TO] {
            let (z, labels, left_out) = planes(items, k, inner, 40 + k as u64);
            let alpha = if k == 19 { Alpha::PerClass(uniform(k, 0.1, 0.9, 5)) } else { Alpha::Scalar(0.25) };
            for mode in [Mode::Softmax, Mode::Sigmoid] {
                let mut gammas = DEFAULT_GAMMAS.to_vec();
                gammas.push(0.3);
                let config = Config { gammas, mode, alpha: alpha.clone(), bins: 10 };
                for simd in Simd::available() {
                    for skip in [false, true] {
                        let kept = |p: usize| !(skip && left_out[p]);
                        let mut rows = Accumulator::new(&config, k);
                        rows.simd = simd;
                        let (mut zr, mut yr) = (Vec::new(), Vec::new());
                        for p in (0..items * inner).filter(|&p| kept(p)) {
                            let (o, i) = (p / inner, p % inner);
                            zr.extend((0..k).map(|c| z[(o * k + c) * inner + i]));
                            yr.push(labels[p]);
                        }
                        rows.add(&zr, &yr);
                        let mut cols = Accumulator::new(&config, k);
                        cols.simd = simd;
                        // Runs of 301 positions within an item, as a strip reader lends them.
                        for o in 0..items {
                            let item = &z[o * k * inner..(o + 1) * k * inner];
                            for start in (0..inner).step_by(301) {
                                let run = start..(start + 301).min(inner);
                                let positions: Vec<usize> = run.clone().filter(|&i| kept(o * inner + i)).collect();
                                let y: Vec<usize> = positions.iter().map(|&i| labels[o * inner + i]).collect();
                                cols.add_planes(
                                    &item[start..],
                                    inner,
                                    &positions.iter().map(|&i| i - start).collect::<Vec<_>>(),
                                    &y,
                                );
                            }
                        }
                        let (a, b) = (rows.finish(), cols.finish());
                        assert_eq!(a, b, "k={k} {mode:?} {simd:?} skip={skip}");
                        let bits = |r: &crate::data::sweep::Report| {
                            r.sweep.iter().map(|s| s.mean_focal_loss.to_bits()).collect::<Vec<_>>()
                        };
                        assert_eq!(bits(&a), bits(&b));
                    }
                }
            }
        }
    }
}
