//! The sweep's entry points into the instruction sets: a batch of rows
//! ([`Batch`]) or of class-plane rows ([`PlaneBatch`]) and a full block
//! ([`Block`]), each run by
//! [`Simd::run`](crate::simd::Simd::run) compiled for the detected set.

use super::planes::Input;
use super::{Accumulator, Logit};
use crate::simd::{Isa, Kernel};

/// [`Accumulator::batch`] of these rows.
pub(super) struct Batch<'a, T> {
    pub(super) acc: &'a mut Accumulator,
    pub(super) logits: &'a [T],
    pub(super) labels: &'a [usize],
}

impl<T: Logit> Kernel for Batch<'_, T> {
    type Output = ();

    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        self.acc.batch(isa, self.logits, self.labels)
    }
}

/// [`Accumulator::planes_batch`] of these rows.
pub(super) struct PlaneBatch<'a, T> {
    pub(super) acc: &'a mut Accumulator,
    pub(super) input: Input<'a, T>,
    pub(super) labels: &'a [usize],
}

impl<T: Logit> Kernel for PlaneBatch<'_, T> {
    type Output = ();

    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        self.acc.planes_batch(isa, self.input, self.labels)
    }
}

/// [`Accumulator::block`] of the staged rows.
pub(super) struct Block<'a>(pub(super) &'a mut Accumulator);

impl Kernel for Block<'_> {
    type Output = ();

    #[inline(always)]
    fn run<I: Isa>(self, isa: I) {
        self.0.block(isa)
    }
}

#[cfg(test)]
mod tests {
    use crate::data::sweep::{Accumulator, Config, DEFAULT_GAMMAS};
    use crate::loss::{Alpha, Mode};
    use crate::simd::Simd;
    use crate::test_rng::uniform;

    /// Deterministic rows with a spread of easy and hard examples, and the
    /// extremes.
    fn rows(n: usize, k: usize) -> (Vec<f64>, Vec<usize>) {
        let z = uniform(n * k, -12.0, 12.0, 33);
        let t = uniform(n, 0.0, k as f64, 35).iter().map(|&x| x as usize).collect();
        (z, t)
    }

    /// Every instruction set the CPU has gives the same report to a few ulp.
    #[test]
    fn instruction_sets_agree() {
        for (k, mode, gammas) in [
            (10, Mode::Softmax, DEFAULT_GAMMAS.to_vec()),
            (40, Mode::Softmax, vec![0.25, 1.5, 3.0]),
            (10, Mode::Sigmoid, DEFAULT_GAMMAS.to_vec()),
            (3, Mode::Sigmoid, vec![0.3, 2.0]),
        ] {
            let (mut z, t) = rows(3000, k);
            z[..2].copy_from_slice(&[0.0, 800.0]);
            let config = Config { gammas, mode, alpha: Alpha::Scalar(0.25), bins: 10 };
            let run = |simd: Simd| {
                let mut acc = Accumulator::new(&config, k);
                acc.simd = simd;
                acc.add(&z, &t);
                acc.finish()
            };
            let base = run(Simd::portable());
            for simd in Simd::available().into_iter().skip(1) {
                let other = run(simd);
                assert_eq!(other.histogram, base.histogram);
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs();
                assert!(close(other.mean_cross_entropy, base.mean_cross_entropy));
                for (a, b) in other.sweep.iter().zip(&base.sweep) {
                    assert!(close(a.mean_focal_loss, b.mean_focal_loss), "{simd:?} {k} {mode:?}: {a:?} vs {b:?}");
                    assert!(close(a.easy_share, b.easy_share));
                }
            }
        }
    }
}
