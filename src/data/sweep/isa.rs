//! The instruction sets: the hot loops compiled again with AVX2 + FMA and
//! with AVX-512 + FMA (run where `Simd::detect` finds them), and the type
//! test that sends float32 and float64 rows to the AVX-512 kernels.

use super::{Accumulator, Logit};
use std::any::TypeId;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) fn batch_avx512<T: Logit>(acc: &mut Accumulator, logits: &[T], labels: &[usize]) {
    acc.batch::<true, true, T>(logits, labels)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(super) fn batch_avx2<T: Logit>(acc: &mut Accumulator, logits: &[T], labels: &[usize]) {
    acc.batch::<true, false, T>(logits, labels)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) fn block_avx512(acc: &mut Accumulator) {
    acc.block::<true, true>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(super) fn block_avx2(acc: &mut Accumulator) {
    acc.block::<true, false>()
}

/// `z` as a slice of `U` when `T` is `U`.
#[inline(always)]
pub(super) fn same_type<T: 'static, U: 'static>(z: &[T]) -> Option<&[U]> {
    // SAFETY: T and U are the same type.
    (TypeId::of::<T>() == TypeId::of::<U>())
        .then(|| unsafe { std::slice::from_raw_parts(z.as_ptr().cast::<U>(), z.len()) })
}

#[cfg(test)]
mod tests {
    use crate::data::sweep::{Accumulator, Config, DEFAULT_GAMMAS};
    use crate::loss::{Alpha, Mode};
    use crate::vmath::Simd;
    use crate::vmath::tests::uniform;

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
            let base = run(Simd::Base);
            for simd in [Simd::Avx2, Simd::Avx512] {
                if Simd::detect() == Simd::Base || (simd == Simd::Avx512 && Simd::detect() != Simd::Avx512) {
                    continue;
                }
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
