//! Each kernel against its portable form, bit for bit.

use super::*;
use crate::simd::math::exp_fast;
use crate::simd::math::tests::{Fused, exp_points};
use crate::simd::{Kernel, Level};
use crate::test_rng::{uniform, xorshift};

/// This CPU runs the functions under test: elsewhere the build script
/// marks these tests ignored (re-run it, `touch build.rs`, after moving
/// the build to another CPU).
fn assert_avx512() {
    assert_eq!(Level::hardware(), Level::Avx512, "built where AVX-512 was found, run where it is not");
}

/// `f` with an AVX-512 token, compiled with the features (by the one
/// trampoline, `run_avx512`).
fn on_avx512<R>(f: impl FnOnce(Avx512) -> R) -> R {
    struct Call<F>(F);
    impl<R, F: FnOnce(Avx512) -> R> Kernel for Call<F> {
        type Output = R;
        #[inline(always)]
        fn run<I: Isa>(self, _: I) -> R {
            (self.0)(Avx512(()))
        }
    }
    assert_avx512();
    super::super::run_avx512(Call(f))
}

#[inline(always)]
fn exps(_: Avx512, x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    for (o, x) in out.chunks_exact_mut(8).zip(x.chunks_exact(8)) {
        // SAFETY: the token proves AVX-512F; whole groups of eight.
        unsafe { _mm512_storeu_pd(o.as_mut_ptr(), exp8(_mm512_loadu_pd(x.as_ptr()))) };
    }
    out
}

#[test]
#[cfg_attr(no_avx512, ignore = "needs an AVX-512 CPU")]
fn exp8_is_exp_fast_bit_for_bit() {
    let x = exp_points(8);
    let ours = on_avx512(|isa| exps(isa, &x));
    for (&x, &e) in x.iter().zip(&ours) {
        assert_eq!(e.to_bits(), exp_fast::<Fused>(x).to_bits(), "exp({x:e}): {e:e}");
    }
}

#[inline(always)]
fn column_step(
    isa: Avx512,
    col: &[f64],
    top: &[f64],
    j: &[usize],
    labels: &[usize],
    lanes: usize,
    out: &mut [Vec<f64>; 3],
) -> usize {
    let [s, zt, et] = out;
    isa.column_exps(col, top, j, labels, s, lanes, zt, et)
}

#[test]
#[cfg_attr(no_avx512, ignore = "needs an AVX-512 CPU")]
fn column_exps_are_the_portable_loops_bits() {
    assert_avx512();
    let mut next = xorshift(13);
    // Sums in one lane (K ≤ 16) and in the row path's eight (above).
    for (k, lanes) in [(1, 1), (2, 1), (10, 1), (16, 1), (17, 8), (19, 8), (64, 8)] {
        for nb in [0, 7, 8, 9, 64, 409] {
            let col0: Vec<f64> = uniform(k * nb, -20.0, 20.0, 17 + (k * nb) as u64);
            let labels: Vec<usize> = (0..nb).map(|_| (next() % k as u64) as usize).collect();
            let (mut top, mut j) = (vec![f64::NEG_INFINITY; nb], vec![0; nb]);
            for (i, c) in col0.chunks_exact(nb.max(1)).enumerate().take(k) {
                for r in 0..nb {
                    if c[r] > top[r] {
                        (top[r], j[r]) = (c[r], i);
                    }
                }
            }
            // The lanes start as garbage: the kernel sets them, no zeroing.
            let fresh = || [vec![f64::NAN; lanes * nb], vec![-1.0; nb], vec![-2.0; nb]];
            // The portable loop of `softmax_columns` on zeroed lanes, with FMA.
            let mut want = fresh();
            want[0].fill(0.0);
            for (i, c) in col0.chunks_exact(nb.max(1)).enumerate().take(k) {
                for r in 0..nb {
                    let z = c[r];
                    let e = exp_fast::<Fused>(z - top[r]);
                    want[0][(i % lanes) * nb + r] += if j[r] == i { 0.0 } else { e };
                    if labels[r] == i {
                        (want[1][r], want[2][r]) = (z, e);
                    }
                }
            }
            let mut ours = fresh();
            let done = on_avx512(|isa| column_step(isa, &col0, &top, &j, &labels, lanes, &mut ours));
            assert_eq!(done, nb / 8 * 8);
            let bits = |v: &[f64], rows: &dyn Fn(usize) -> bool| {
                v.iter().enumerate().filter(|&(i, _)| rows(i)).map(|(_, x)| x.to_bits()).collect::<Vec<_>>()
            };
            let mine = |i: usize| i % nb.max(1) < done;
            for (o, w) in ours.iter().zip(&want) {
                assert_eq!(bits(o, &mine), bits(w, &mine), "k={k} nb={nb}");
            }
        }
    }
}

#[inline(always)]
fn summed(isa: Avx512, local: &mut [f64], k: usize, labels: &[usize], xs: &[Vec<f64>]) {
    assert!(isa.class_sums(local, k, labels, xs.len(), |q| &xs[q]));
}

#[test]
#[cfg_attr(no_avx512, ignore = "needs an AVX-512 CPU")]
fn class_sums_are_the_plain_loops_bits() {
    assert_avx512();
    let mut next = xorshift(9);
    // Two, three and four registers a quantity.
    for k in 1..=32 {
        for quantities in [1, 2, 5, 6, 7, 13] {
            let n = 300;
            let labels: Vec<usize> = (0..n).map(|_| (next() % k as u64) as usize).collect();
            // Magnitudes over 40 binades, so that the order of the
            // additions shows in the bits.
            let xs: Vec<Vec<f64>> = (0..quantities)
                .map(|_| (0..n).map(|_| (next() >> 11) as f64 * 2f64.powi((next() % 40) as i32 - 73)).collect())
                .collect();
            let start: Vec<f64> = (0..k * quantities).map(|i| i as f64 * 0.1).collect();
            let mut plain = start.clone();
            for (q, x) in xs.iter().enumerate() {
                for (&c, &v) in labels.iter().zip(x) {
                    plain[q * k + c] += v;
                }
            }
            let mut ours = start;
            on_avx512(|isa| summed(isa, &mut ours, k, &labels, &xs));
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&ours), bits(&plain), "k={k} quantities={quantities}");
        }
    }
}

#[inline(always)]
fn transposed(isa: Avx512, z: &[f32], k: usize, negate: bool) -> (Vec<f64>, usize) {
    let mut col = vec![f64::NAN; z.len()];
    let done = isa.transpose(&mut col, z, k, negate, None);
    (col, done)
}

#[inline(always)]
fn with_argmax(isa: Avx512, z: &[f32], k: usize) -> (Vec<f64>, Vec<f64>, Vec<usize>, usize) {
    let n = z.len() / k;
    let (mut col, mut top, mut j) = (vec![f64::NAN; z.len()], vec![f64::NAN; n], vec![usize::MAX; n]);
    let done = isa.transpose(&mut col, z, k, false, Some((&mut top, &mut j)));
    (col, top, j, done)
}

#[test]
#[cfg_attr(no_avx512, ignore = "needs an AVX-512 CPU")]
fn transpose_finds_each_rows_first_largest() {
    assert_avx512();
    let mut next = xorshift(23);
    for k in 1..=16 {
        let n = 53;
        // Few distinct values (ties, ±0), so that "first" matters.
        let pool = [0.0f32, -0.0, 1.5, -2.0, 1.5, f32::MAX, -f32::MAX, 7.0];
        let z: Vec<f32> = (0..k * n).map(|_| pool[(next() % 8) as usize]).collect();
        let (col, top, j, done) = on_avx512(|isa| with_argmax(isa, &z, k));
        assert_eq!(done, n / 16 * 16);
        for r in 0..n {
            let row = &z[r * k..(r + 1) * k];
            let first = (1..k).fold(0, |b, c| if row[c] > row[b] { c } else { b });
            if r < done {
                assert_eq!((top[r].to_bits(), j[r]), (f64::from(row[first]).to_bits(), first), "k={k} row {r}");
                assert_eq!(col[first * n + r].to_bits(), top[r].to_bits());
            } else {
                assert!(top[r].is_nan() && j[r] == usize::MAX, "k={k}: row {r} written");
            }
        }
    }
}

#[test]
#[cfg_attr(no_avx512, ignore = "needs an AVX-512 CPU")]
fn transpose_moves_every_value_of_whole_groups() {
    assert_avx512();
    let mut next = xorshift(5);
    for k in 1..=16 {
        for n in [0, 1, 15, 16, 17, 40, 64, 409] {
            // Random bit patterns (NaN payloads, ±0, infinities too): a
            // transpose moves bits.
            let z: Vec<f32> = (0..k * n).map(|_| f32::from_bits(next() as u32)).collect();
            for negate in [false, true] {
                let (col, done) = on_avx512(|isa| transposed(isa, &z, k, negate));
                assert_eq!(done, n / 16 * 16);
                for c in 0..k {
                    for r in 0..n {
                        let got = col[c * n + r];
                        if r >= done {
                            assert!(
                                got.is_nan() && got.to_bits() == f64::NAN.to_bits(),
                                "k={k} n={n}: row {r} written"
                            );
                            continue;
                        }
                        let v = f64::from(z[r * k + c]);
                        let want = if negate { -v } else { v };
                        // NaNs convert quietened either way; compare them as NaN.
                        let same = got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan());
                        assert!(same, "k={k} n={n} negate={negate}: ({r}, {c}) {got:e} vs {want:e}");
                    }
                }
            }
        }
    }
}

#[inline(always)]
fn gathered(isa: Avx512, values: &[f32], stride: usize, positions: &[usize], k: usize, negate: bool) -> PlaneRows {
    let n = positions.len();
    let (mut col, mut top, mut j) = (vec![f64::NAN; k * n], vec![f64::NAN; n], vec![usize::MAX; n]);
    let done = isa.gather_planes(&mut col, values, stride, positions, k, negate, Some((&mut top, &mut j)));
    (col, top, j, done)
}

/// A class-major batch, each row's largest value and its index, and the rows done.
type PlaneRows = (Vec<f64>, Vec<f64>, Vec<usize>, usize);

/// Class planes gathered eight rows at a time are the plain loop's values
/// and first argmax (runs of positions and runs with some left out; ties
/// and ±0, so that "first" matters; negated for sigmoid), and rows past
/// the whole groups are left to the caller.
#[test]
#[cfg_attr(no_avx512, ignore = "needs an AVX-512 CPU")]
fn gather_planes_are_the_plain_loops_values() {
    assert_avx512();
    let mut next = xorshift(41);
    let pool = [0.0f32, -0.0, 1.5, -2.0, 1.5, f32::MAX, -f32::MAX, 7.0, 1e-30, -3.25];
    for k in [1, 2, 3, 16, 19, 33, 64] {
        for stride in [0, 7, 8, 9, 64, 301] {
            // Every position, or about one in ten left out.
            for left_out in [false, true] {
                let positions: Vec<usize> = (0..stride).filter(|_| !left_out || !next().is_multiple_of(10)).collect();
                let n = positions.len();
                let values: Vec<f32> = (0..k * stride).map(|_| pool[(next() % 10) as usize]).collect();
                for negate in [false, true] {
                    let (col, top, j, done) = on_avx512(|isa| gathered(isa, &values, stride, &positions, k, negate));
                    assert_eq!(done, n / 8 * 8);
                    for (r, &p) in positions.iter().enumerate() {
                        let z = |c: usize| f64::from(values[c * stride + p]);
                        let first = (1..k).fold(0, |b, c| if z(c) > z(b) { c } else { b });
                        let what = format!("k={k} stride={stride} left_out={left_out} negate={negate} row {r}");
                        if r >= done {
                            assert!(top[r].is_nan() && j[r] == usize::MAX, "{what}: written");
                            assert!((0..k).all(|c| col[c * n + r].is_nan()), "{what}: written");
                            continue;
                        }
                        assert_eq!((top[r].to_bits(), j[r]), (z(first).to_bits(), first), "{what}");
                        for c in 0..k {
                            let want = if negate { -z(c) } else { z(c) };
                            assert_eq!(col[c * n + r].to_bits(), want.to_bits(), "{what} class {c}");
                        }
                    }
                }
            }
        }
    }
}

/// The fused plane kernel's outputs: top, j, lane sums (`lanes · done`), z_t, e_t, done.
type Fused8 = (Vec<f64>, Vec<usize>, Vec<f64>, Vec<f64>, Vec<f64>, usize);

#[inline(always)]
fn planes_fused(isa: Avx512, values: &[f32], stride: usize, positions: &[usize], labels: &[usize], k: usize) -> Fused8 {
    let (n, lanes) = (positions.len(), if k <= 16 { 1 } else { 8 });
    let (mut top, mut j, mut s) = (vec![f64::NAN; n], vec![usize::MAX; n], vec![f64::NAN; lanes * n]);
    let (mut zt, mut et) = (vec![f64::NAN; n], vec![f64::NAN; n]);
    let done =
        isa.planes_softmax(values, stride, positions, labels, k, &mut top, &mut j, &mut s, lanes, &mut zt, &mut et);
    (top, j, s, zt, et, done)
}

/// The same rows by the two kernels it fuses: `gather_planes` (with the
/// argmax) then `column_exps`, lane `l` of row `r` at `l · n + r`.
#[inline(always)]
fn planes_unfused(
    isa: Avx512,
    values: &[f32],
    stride: usize,
    positions: &[usize],
    labels: &[usize],
    k: usize,
) -> Fused8 {
    let (n, lanes) = (positions.len(), if k <= 16 { 1 } else { 8 });
    let (mut col, mut top, mut j) = (vec![f64::NAN; k * n], vec![f64::NAN; n], vec![usize::MAX; n]);
    isa.gather_planes(&mut col, values, stride, positions, k, false, Some((&mut top, &mut j)));
    let (mut s, mut zt, mut et) = (vec![f64::NAN; lanes * n], vec![f64::NAN; n], vec![f64::NAN; n]);
    let done = isa.column_exps(&col, &top, &j, labels, &mut s, lanes, &mut zt, &mut et);
    (top, j, s, zt, et, done)
}

/// The fused plane kernel gives the bits of the gathered batch's softmax
/// step (itself the portable loop's, above) for the whole groups of eight,
/// and writes nothing past them: one lane and eight, runs of positions and
/// runs with some left out, ties and extremes (S = 0, e_t = 0).
#[test]
#[cfg_attr(no_avx512, ignore = "needs an AVX-512 CPU")]
fn planes_softmax_is_the_gathered_batchs_step() {
    assert_avx512();
    let mut next = xorshift(43);
    let pool = [0.0f32, -0.0, 1.5, -2.0, 1.5, 800.0, -800.0, 7.0, 1e-30, -3.25, 30.0, -0.5];
    for k in [1, 2, 3, 16, 17, 19, 33, 64] {
        let lanes = if k <= 16 { 1 } else { 8 };
        for stride in [0, 7, 8, 9, 64, 301] {
            for left_out in [false, true] {
                let positions: Vec<usize> = (0..stride).filter(|_| !left_out || !next().is_multiple_of(10)).collect();
                let n = positions.len();
                let values: Vec<f32> = (0..k * stride).map(|_| pool[(next() % 12) as usize]).collect();
                let labels: Vec<usize> = (0..n).map(|_| (next() % k as u64) as usize).collect();
                let ours = on_avx512(|isa| planes_fused(isa, &values, stride, &positions, &labels, k));
                let want = on_avx512(|isa| planes_unfused(isa, &values, stride, &positions, &labels, k));
                let done = ours.5;
                assert_eq!(done, n / 8 * 8);
                let what = format!("k={k} stride={stride} left_out={left_out}");
                for r in 0..n {
                    let row = [ours.0[r], ours.3[r], ours.4[r]].map(f64::to_bits);
                    if r >= done {
                        assert!(row.iter().all(|&b| f64::from_bits(b).is_nan()) && ours.1[r] == usize::MAX, "{what}");
                        continue;
                    }
                    assert_eq!(row, [want.0[r], want.3[r], want.4[r]].map(f64::to_bits), "{what} row {r}");
                    assert_eq!(ours.1[r], want.1[r], "{what} row {r}");
                    for l in 0..lanes {
                        assert_eq!(
                            ours.2[l * done + r].to_bits(),
                            want.2[l * n + r].to_bits(),
                            "{what} row {r} lane {l}"
                        );
                    }
                }
                assert!(ours.2[lanes * done..].iter().all(|x| x.is_nan()), "{what}: lanes written past the rows done");
            }
        }
    }
}
