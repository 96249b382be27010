//! Each kernel against its plain scalar form, bit for bit.

use super::*;
use crate::simd::math::exp_fast;
use crate::simd::math::tests::{Fused, exp_points};
use crate::simd::{Kernel, Level};
use crate::test_rng::{uniform, xorshift};

/// This CPU runs the functions under test: elsewhere the build script
/// marks these tests ignored.
fn assert_avx2() {
    assert!(Level::hardware() >= Level::Avx2, "built where AVX2 was found, run where it is not");
}

/// `f` with an AVX2 token, compiled with the features (by the one
/// trampoline, `run_avx2`).
fn on_avx2<R>(f: impl FnOnce(Avx2) -> R) -> R {
    struct Call<F>(F);
    impl<R, F: FnOnce(Avx2) -> R> Kernel for Call<F> {
        type Output = R;
        #[inline(always)]
        fn run<I: Isa>(self, _: I) -> R {
            (self.0)(Avx2(()))
        }
    }
    assert_avx2();
    super::super::run_avx2(Call(f))
}

#[inline(always)]
fn exps(_: Avx2, x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    for (o, x) in out.chunks_exact_mut(4).zip(x.chunks_exact(4)) {
        // SAFETY: the token proves AVX2 and FMA; whole groups of four.
        unsafe { _mm256_storeu_pd(o.as_mut_ptr(), exp4(_mm256_loadu_pd(x.as_ptr()))) };
    }
    out
}

#[test]
#[cfg_attr(no_avx2, ignore = "needs an AVX2 CPU")]
fn exp4_is_exp_fast_bit_for_bit() {
    let x = exp_points(4);
    let ours = on_avx2(|isa| exps(isa, &x));
    for (&x, &e) in x.iter().zip(&ours) {
        assert_eq!(e.to_bits(), exp_fast::<Fused>(x).to_bits(), "exp({x:e}): {e:e}");
    }
}

/// Each row's first largest value and its index, over class-major `col`.
fn argmax(col: &[f64], nb: usize) -> (Vec<f64>, Vec<usize>) {
    let (mut top, mut j) = (vec![0.0; nb], vec![0; nb]);
    for r in 0..nb {
        top[r] = col[r];
        for (i, c) in col.chunks_exact(nb).enumerate().skip(1) {
            if c[r] > top[r] {
                (top[r], j[r]) = (c[r], i);
            }
        }
    }
    (top, j)
}

/// The portable loop of `softmax_columns` (zeroed lanes, FMA): lane `l` of
/// row `r` at `l · nb + r`, then `zt`, `et`.
fn plain_step(col: &[f64], top: &[f64], j: &[usize], labels: &[usize], lanes: usize) -> [Vec<f64>; 3] {
    let nb = top.len();
    let mut want = [vec![0.0; lanes * nb], vec![-1.0; nb], vec![-2.0; nb]];
    for (i, c) in col.chunks_exact(nb.max(1)).enumerate() {
        for r in 0..nb {
            let z = c[r];
            let e = exp_fast::<Fused>(z - top[r]);
            want[0][(i % lanes) * nb + r] += if j[r] == i { 0.0 } else { e };
            if labels[r] == i {
                (want[1][r], want[2][r]) = (z, e);
            }
        }
    }
    want
}

#[inline(always)]
fn column_step(
    isa: Avx2,
    col: &[f64],
    top: &[f64],
    j: &[usize],
    labels: &[usize],
    lanes: usize,
) -> ([Vec<f64>; 3], usize) {
    let nb = top.len();
    // The lanes start as garbage: the kernel sets them, no zeroing.
    let [mut s, mut zt, mut et] = [vec![f64::NAN; lanes * nb], vec![-1.0; nb], vec![-2.0; nb]];
    let done = isa.column_exps(col, top, j, labels, &mut s, lanes, &mut zt, &mut et);
    ([s, zt, et], done)
}

#[test]
#[cfg_attr(no_avx2, ignore = "needs an AVX2 CPU")]
fn column_exps_are_the_portable_loops_bits() {
    let mut next = xorshift(13);
    for (k, lanes) in [(1, 1), (2, 1), (10, 1), (16, 1), (17, 8), (19, 8), (64, 8)] {
        for nb in [0, 3, 4, 5, 64, 409] {
            let col: Vec<f64> = uniform(k * nb, -20.0, 20.0, 17 + (k * nb) as u64);
            let labels: Vec<usize> = (0..nb).map(|_| (next() % k as u64) as usize).collect();
            let (top, j) = argmax(&col, nb);
            let want = plain_step(&col, &top, &j, &labels, lanes);
            let (ours, done) = on_avx2(|isa| column_step(isa, &col, &top, &j, &labels, lanes));
            assert_eq!(done, nb / 4 * 4);
            for (o, w) in ours.iter().zip(&want) {
                for (i, (a, b)) in o.iter().zip(w).enumerate() {
                    if i % nb.max(1) < done {
                        assert_eq!(a.to_bits(), b.to_bits(), "k={k} nb={nb} at {i}");
                    } else {
                        assert!(a.is_nan() || *a < 0.0, "k={k} nb={nb}: {i} written past the rows done");
                    }
                }
            }
        }
    }
}

/// `planes_softmax`'s outputs: top, j, lanes (lane-major by the rows
/// done), zt, et, and the rows done.
type Fused4 = (Vec<f64>, Vec<usize>, Vec<f64>, Vec<f64>, Vec<f64>, usize);

#[inline(always)]
fn planes_fused(isa: Avx2, values: &[f32], stride: usize, positions: &[usize], labels: &[usize], k: usize) -> Fused4 {
    let (n, lanes) = (positions.len(), if k <= 16 { 1 } else { 8 });
    let (mut top, mut j, mut s) = (vec![f64::NAN; n], vec![usize::MAX; n], vec![f64::NAN; lanes * n]);
    let (mut zt, mut et) = (vec![f64::NAN; n], vec![f64::NAN; n]);
    let done =
        isa.planes_softmax(values, stride, positions, labels, k, &mut top, &mut j, &mut s, lanes, &mut zt, &mut et);
    (top, j, s, zt, et, done)
}

/// The fused plane kernel gives the bits of the plain loops over the
/// gathered class-major batch for the whole groups of four, and writes
/// nothing past them: one lane and eight, runs of positions and runs with
/// some left out, ties and extremes (S = 0, e_t = 0).
#[test]
#[cfg_attr(no_avx2, ignore = "needs an AVX2 CPU")]
fn planes_softmax_is_the_gathered_batchs_step() {
    let mut next = xorshift(43);
    let pool = [0.0f32, -0.0, 1.5, -2.0, 1.5, 800.0, -800.0, 7.0, 1e-30, -3.25, 30.0, -0.5];
    for k in [1, 2, 3, 16, 17, 19, 33, 64] {
        let lanes = if k <= 16 { 1 } else { 8 };
        for stride in [0, 3, 4, 5, 9, 64, 301] {
            for left_out in [false, true] {
                let positions: Vec<usize> = (0..stride).filter(|_| !left_out || !next().is_multiple_of(10)).collect();
                let n = positions.len();
                let values: Vec<f32> = (0..k * stride).map(|_| pool[(next() % 12) as usize]).collect();
                let labels: Vec<usize> = (0..n).map(|_| (next() % k as u64) as usize).collect();
                let value = |c: usize, p: usize| f64::from(values[c * stride + p]);
                let col: Vec<f64> = (0..k).flat_map(|c| positions.iter().map(move |&p| value(c, p))).collect();
                let (top, j) = argmax(&col, n);
                let want = plain_step(&col, &top, &j, &labels, lanes);
                let ours = on_avx2(|isa| planes_fused(isa, &values, stride, &positions, &labels, k));
                let done = ours.5;
                assert_eq!(done, n / 4 * 4);
                let what = format!("k={k} stride={stride} left_out={left_out}");
                for r in 0..n {
                    let row = [ours.0[r], ours.3[r], ours.4[r]].map(f64::to_bits);
                    if r >= done {
                        assert!(row.iter().all(|&b| f64::from_bits(b).is_nan()) && ours.1[r] == usize::MAX, "{what}");
                        continue;
                    }
                    assert_eq!(row, [top[r], want[1][r], want[2][r]].map(f64::to_bits), "{what} row {r}");
                    assert_eq!(ours.1[r], j[r], "{what} row {r}");
                    for l in 0..lanes {
                        assert_eq!(
                            ours.2[l * done + r].to_bits(),
                            want[0][l * n + r].to_bits(),
                            "{what} row {r} lane {l}"
                        );
                    }
                }
                assert!(ours.2[lanes * done..].iter().all(|x| x.is_nan()), "{what}: lanes written past the rows done");
            }
        }
    }
}

#[inline(always)]
fn transposed(isa: Avx2, z: &[f32], k: usize, negate: bool) -> (Vec<f64>, Vec<f64>, Vec<usize>, usize) {
    let n = z.len() / k;
    let (mut col, mut top, mut j) = (vec![f64::NAN; z.len()], vec![f64::NAN; n], vec![usize::MAX; n]);
    let done = isa.transpose(&mut col, z, k, negate, Some((&mut top, &mut j)));
    (col, top, j, done)
}

/// The transpose moves every value of the whole groups of eight (negated
/// or not) and finds each row's first largest logit, writing nothing past
/// them.
#[test]
#[cfg_attr(no_avx2, ignore = "needs an AVX2 CPU")]
fn transpose_moves_the_values_and_finds_each_rows_first_largest() {
    let mut next = xorshift(23);
    // Few distinct values (ties, ±0), so that "first" matters.
    let pool = [0.0f32, -0.0, 1.5, -2.0, 1.5, f32::MAX, -f32::MAX, 7.0, 1e-40, -3.0];
    for k in 1..=16 {
        for n in [0, 1, 7, 8, 9, 53, 409] {
            let z: Vec<f32> = (0..k * n).map(|_| pool[(next() % 10) as usize]).collect();
            for negate in [false, true] {
                let (col, top, j, done) = on_avx2(|isa| transposed(isa, &z, k, negate));
                assert_eq!(done, n / 8 * 8);
                for r in 0..n {
                    let row = &z[r * k..(r + 1) * k];
                    let first = (1..k).fold(0, |b, c| if row[c] > row[b] { c } else { b });
                    if r >= done {
                        assert!(top[r].is_nan() && j[r] == usize::MAX, "k={k}: row {r} written");
                        assert!((0..k).all(|c| col[c * n + r].is_nan()), "k={k}: row {r} written");
                        continue;
                    }
                    assert_eq!((top[r].to_bits(), j[r]), (f64::from(row[first]).to_bits(), first), "k={k} row {r}");
                    for (c, &v) in row.iter().enumerate() {
                        let want = if negate { -f64::from(v) } else { f64::from(v) };
                        assert_eq!(col[c * n + r].to_bits(), want.to_bits(), "k={k} negate={negate} ({r}, {c})");
                    }
                }
            }
        }
    }
}
