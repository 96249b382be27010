//! The one seam between the algorithms and the instruction sets, in the
//! style of memchr and simdutf8: the CPU is detected once ([`Simd::detect`]),
//! the hot loops are written once, generic over an [`Isa`], and
//! [`Simd::run`] monomorphises a [`Kernel`] for the detected set inside a
//! function compiled with that set's features (`x86_64/mod.rs`: the only
//! `#[target_feature]` functions). The algorithms (`data::sweep`, `loss`,
//! `data::npy`) hold no `unsafe` and no `cfg(target_arch)`.
//!
//! - [`Portable`]: the compilation target's baseline (SSE2 on x86-64, any
//!   other architecture), no fused multiply-adds.
//! - `Avx2` (x86-64): the same loops with AVX2 and FMA, and three kernels
//!   written with intrinsics (`x86_64/avx2/`; the same bits).
//! - `Avx512` (x86-64): AVX-512F, AVX2 and FMA, and five kernels written with
//!   intrinsics (`x86_64/avx512/`; the same bits as the portable loops with
//!   FMA).
//!
//! `FOCAL_TUI_ISA=portable|avx2|avx512` caps the choice (read once; a set
//! the CPU lacks falls back to the best it has), so that the portable path
//! is tested on x86-64 too.

pub(crate) mod bytes;
pub(crate) mod math;
#[cfg(target_arch = "x86_64")]
mod x86_64;

use std::sync::OnceLock;

/// The environment variable that caps the instruction set.
pub const ISA_VARIABLE: &str = "FOCAL_TUI_ISA";

/// An instruction set the hot loops are compiled for. The scalar functions
/// are associated functions (safe on any CPU: only their speed needs the
/// features); the wide kernels are methods, because a value of an `Isa`
/// other than [`Portable`] exists only where the CPU has its features. A
/// kernel returns how much of the work it did (0 rows, `false`): the
/// portable defaults do none and leave it to the caller's loop.
pub(crate) trait Isa: Copy + 'static {
    /// `madd` is fused (only where compiled with FMA, or it is a libm call).
    const FMA: bool;

    /// `a · b + c`, fused when [`Isa::FMA`].
    #[inline(always)]
    fn madd(a: f64, b: f64, c: f64) -> f64 {
        if Self::FMA { a.mul_add(b, c) } else { a * b + c }
    }

    /// [`math::exp_fast`]: `e^x` for `x ≤ 0`.
    #[inline(always)]
    fn exp(x: f64) -> f64 {
        math::exp_fast::<Self>(x)
    }

    /// [`math::ln_sum`]: `ln(hi · (1 + c))`.
    #[inline(always)]
    fn ln_sum(hi: f64, c: f64) -> f64 {
        math::ln_sum::<Self>(hi, c)
    }

    /// [`math::ln_fast`]: `ln x`.
    #[inline(always)]
    fn ln(x: f64) -> f64 {
        math::ln_fast::<Self>(x)
    }

    /// [`math::ln_1p_fast`]: `ln(1 + x)`.
    #[inline(always)]
    fn ln_1p(x: f64) -> f64 {
        math::ln_1p_fast::<Self>(x)
    }

    /// Adds `exp(z_i − shift)` for every `i` but `skip` to the eight-lane
    /// compensated sum `(sum, err)` in the order of the sweep's `LaneSum`;
    /// true when done.
    #[inline(always)]
    fn add_exps<T: Copy + Into<f64> + 'static>(
        self,
        _sum: &mut [f64; 8],
        _err: &mut [f64; 8],
        _z: &[T],
        _shift: f64,
        _skip: usize,
    ) -> bool {
        false
    }

    /// `col[c · n + r] = ±z[r · k + c]` (`k ≤ 16`) for the first rows, with
    /// each row's first argmax when asked; returns the rows done.
    #[inline(always)]
    fn transpose<T: Copy + Into<f64> + 'static>(
        self,
        _col: &mut [f64],
        _z: &[T],
        _k: usize,
        _negate: bool,
        _argmax: Option<(&mut [f64], &mut [usize])>,
    ) -> usize {
        0
    }

    /// `col[c · n + r] = ±values[c · stride + positions[r]]` (`k` float32
    /// class planes, `n` positions) for the first rows, with each row's
    /// first argmax when asked; returns the rows done.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn gather_planes<T: Copy + Into<f64> + 'static>(
        self,
        _col: &mut [f64],
        _values: &[T],
        _stride: usize,
        _positions: &[usize],
        _k: usize,
        _negate: bool,
        _argmax: Option<(&mut [f64], &mut [usize])>,
    ) -> usize {
        0
    }

    /// The class-major softmax step of the sweep (`e = exp(z − top)`,
    /// class `i`'s `e` added off the argmax to the row's sum in lane
    /// `i mod lanes` of `s`, lane-major, which the first `lanes` classes
    /// set; the label's `z` and `e` picked) for the first rows; returns the
    /// rows done.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn column_exps(
        self,
        _col: &[f64],
        _top: &[f64],
        _j: &[usize],
        _labels: &[usize],
        _s: &mut [f64],
        _lanes: usize,
        _zt: &mut [f64],
        _et: &mut [f64],
    ) -> usize {
        0
    }

    /// [`gather_planes`](Isa::gather_planes) and [`column_exps`](Isa::column_exps)
    /// in one pass, for `k ≤ 64` float32 class planes, with nothing stored
    /// between them: each row's first argmax (`top`, `j`), its sums in
    /// `lanes` (1 or 8) lanes, lane `l` at `l · done + r` of `s` (`done`
    /// the rows done), and the label's `z` and `e`; for the first rows
    /// (whole groups); returns the rows done.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn planes_softmax<T: Copy + Into<f64> + 'static>(
        self,
        _values: &[T],
        _stride: usize,
        _positions: &[usize],
        _labels: &[usize],
        _k: usize,
        _top: &mut [f64],
        _j: &mut [usize],
        _s: &mut [f64],
        _lanes: usize,
        _zt: &mut [f64],
        _et: &mut [f64],
    ) -> usize {
        0
    }

    /// `local[q · k + c] += xs(q)[r]` for each row's class `c = labels[r]`
    /// and each of the `quantities` (`k ≤ 32`, every label `< k`), in row
    /// order; true when done.
    #[inline(always)]
    fn class_sums<'a>(
        self,
        _local: &mut [f64],
        _k: usize,
        _labels: &[usize],
        _quantities: usize,
        _xs: impl Fn(usize) -> &'a [f64],
    ) -> bool {
        false
    }
}

/// The baseline: every CPU of the target, no FMA, no wide kernels.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Portable;

impl Isa for Portable {
    const FMA: bool = false;
}

/// A computation written once for any [`Isa`]; [`Simd::run`] calls `run`
/// compiled for the chosen set. `run` must be `#[inline(always)]` (and so
/// must what it calls in the hot loops), so that its body is compiled
/// inside the `#[target_feature]` function, with the set's instructions.
pub(crate) trait Kernel {
    type Output;
    fn run<I: Isa>(self, isa: I) -> Self::Output;
}

/// The instruction sets of this build, narrowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Level {
    const ALL: &[Level] = &[
        Level::Portable,
        #[cfg(target_arch = "x86_64")]
        Level::Avx2,
        #[cfg(target_arch = "x86_64")]
        Level::Avx512,
    ];

    fn name(self) -> &'static str {
        match self {
            Level::Portable => "portable",
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => "avx512",
        }
    }

    /// The widest set the CPU has.
    fn hardware() -> Level {
        static HARDWARE: OnceLock<Level> = OnceLock::new();
        #[cfg(target_arch = "x86_64")]
        let found = || x86_64::hardware();
        #[cfg(not(target_arch = "x86_64"))]
        let found = || Level::Portable;
        *HARDWARE.get_or_init(found)
    }

    /// `requested` (a name of [`ISA_VARIABLE`]) if `hardware` has it, else
    /// the widest below it that it has; `hardware` for none or an unknown name.
    fn capped(requested: Option<&str>, hardware: Level) -> Level {
        let named = |l: &&Level| requested.is_some_and(|r| r.trim().eq_ignore_ascii_case(l.name()));
        match Level::ALL.iter().find(named) {
            Some(&wanted) => wanted.min(hardware),
            None => hardware,
        }
    }
}

/// The instruction set the hot loops run with. Only made from the CPU's
/// features ([`Simd::detect`], [`Simd::available`]), so that running a
/// kernel with it is safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Simd(Level);

impl Simd {
    /// The widest set the CPU has, capped by [`ISA_VARIABLE`]; detected once.
    pub(crate) fn detect() -> Simd {
        static CHOSEN: OnceLock<Simd> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let requested = std::env::var(ISA_VARIABLE).ok();
            Simd(Level::capped(requested.as_deref(), Level::hardware()))
        })
    }

    /// The baseline, on any CPU.
    #[cfg(test)]
    pub(crate) fn portable() -> Simd {
        Simd(Level::Portable)
    }

    /// Every set the CPU has, narrowest first, whatever [`ISA_VARIABLE`]
    /// says: for the tests that compare them.
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Simd> {
        Level::ALL.iter().filter(|&&l| l <= Level::hardware()).map(|&l| Simd(l)).collect()
    }

    /// The set of this name (`portable`, `avx2`, `avx512`) if the CPU has it.
    #[cfg(test)]
    pub(crate) fn named(name: &str) -> Option<Simd> {
        Simd::available().into_iter().find(|s| s.name() == name)
    }

    #[cfg(test)]
    pub(crate) fn name(self) -> &'static str {
        self.0.name()
    }

    /// AVX-512 as AVX2: for loops that gain nothing from the wider
    /// registers (the explorer's exponentials).
    pub(crate) fn at_most_avx2(self) -> Simd {
        #[cfg(target_arch = "x86_64")]
        if self.0 == Level::Avx512 {
            return Simd(Level::Avx2);
        }
        self
    }

    /// `kernel`, compiled for this instruction set.
    #[inline]
    pub(crate) fn run<K: Kernel>(self, kernel: K) -> K::Output {
        match self.0 {
            Level::Portable => kernel.run(Portable),
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => x86_64::run_avx2(kernel),
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => x86_64::run_avx512(kernel),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A requested set is capped at the CPU's; unknown names and none
    /// leave the CPU's widest.
    #[test]
    fn the_variable_caps_the_instruction_set() {
        let widest = *Level::ALL.last().expect("at least portable");
        for &hardware in Level::ALL {
            assert_eq!(Level::capped(Some("portable"), hardware), Level::Portable);
            assert_eq!(Level::capped(Some(" Portable\n"), hardware), Level::Portable);
            assert_eq!(Level::capped(None, hardware), hardware);
            assert_eq!(Level::capped(Some("sse9"), hardware), hardware);
            assert_eq!(Level::capped(Some(widest.name()), hardware), hardware);
            for &wanted in Level::ALL {
                assert_eq!(Level::capped(Some(wanted.name()), hardware), wanted.min(hardware));
            }
        }
        assert_eq!(Simd::available()[0], Simd::portable());
        assert!(Simd::available().contains(&Simd::detect()));
    }
}
