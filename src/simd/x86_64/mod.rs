//! x86-64: the feature detection, the two instruction sets beyond the
//! baseline, and the `#[target_feature]` trampolines that compile a
//! [`Kernel`] for them.

mod avx2;
mod avx512;

use super::{Kernel, Level};

/// The widest set this CPU has. AVX-512 is taken only with AVX2 and FMA as
/// well, which its kernels and trampoline are compiled for.
pub(super) fn hardware() -> Level {
    use std::arch::is_x86_feature_detected as has;
    if has!("avx2") && has!("fma") {
        if has!("avx512f") { Level::Avx512 } else { Level::Avx2 }
    } else {
        Level::Portable
    }
}

/// AVX2 with FMA: the portable loops, four lanes and fused multiply-adds,
/// and the kernels of `avx2/`. Made only by [`run_avx2`], where the CPU
/// has both.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2(());

/// AVX-512F with AVX2 and FMA, and the kernels of `avx512/`. Made only
/// by [`run_avx512`], where the CPU has all three.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx512(());

/// `z` as a slice of `U` when `T` is `U`.
#[inline(always)]
fn same_type<T: 'static, U: 'static>(z: &[T]) -> Option<&[U]> {
    // SAFETY: T and U are the same type.
    (std::any::TypeId::of::<T>() == std::any::TypeId::of::<U>())
        .then(|| unsafe { std::slice::from_raw_parts(z.as_ptr().cast::<U>(), z.len()) })
}

/// Emits `$name(kernel)`: `kernel` run with the token `$isa`, inside a
/// function compiled with `$features`, which `hardware` found at `$level`.
macro_rules! trampoline {
    ($(#[$doc:meta])* $name:ident, $isa:ident, $features:literal, $level:expr) => {
        $(#[$doc])*
        pub(super) fn $name<K: Kernel>(kernel: K) -> K::Output {
            /// # Safety
            #[doc = concat!("The CPU must have ", $features, ".")]
            #[target_feature(enable = $features)]
            unsafe fn compiled<K: Kernel>(kernel: K) -> K::Output {
                kernel.run($isa(()))
            }
            debug_assert!(Level::hardware() >= $level);
            // SAFETY: a `Simd` of this level is made only where `hardware`
            // found these features.
            unsafe { compiled(kernel) }
        }
    };
}

trampoline!(
    /// `kernel` compiled with AVX2 and FMA.
    run_avx2,
    Avx2,
    "avx2,fma",
    Level::Avx2
);
trampoline!(
    /// `kernel` compiled with AVX-512F, AVX2 and FMA.
    run_avx512,
    Avx512,
    "avx512f,avx2,fma",
    Level::Avx512
);
