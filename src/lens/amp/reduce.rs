//! How torch's CPU reductions group a float32 row's terms: by the vector
//! width of the kernel that runs, so a sum is bit for bit only for the CPU
//! capability it was measured under (`tests/lens_sleef.rs` pins it).
//!
//! Under the AVX-512 capability only kernels registered with
//! `ALSO_REGISTER_AVX512_DISPATCH` (softmax, log_softmax) run their AVX-512
//! build; those registered with plain `REGISTER_DISPATCH` (`sum`, `mean`,
//! `log_sigmoid`, the unary ops) register no AVX-512 entry and run their
//! AVX2 build (`DispatchStub.h`). Measured: float32 `sum()` groups by 8,
//! `log_softmax` by 16 (`tests/lens_sleef.rs`, `tests/lens_amp.rs`). Under
//! `ATEN_CPU_CAPABILITY=avx2` torch's own results differ in 4 of the 996
//! reference runs (2 of them in the loss), so the capability is pinned.

/// The CPU capability the reference data was made under
/// (`torch.backends.cpu.get_cpu_capability()`).
pub const CAPABILITY: &str = "AVX512";

/// Float lanes of an AVX-512 kernel (`log_softmax`'s sum).
pub const LANES_AVX512: usize = 16;

/// Float lanes of an AVX2 kernel (`sum()`, which has no AVX-512 build).
pub const LANES_AVX2: usize = 8;

/// torch's `cascade_sum` (`ReduceOps` `sum` of a contiguous float32 row,
/// accumulated in float32, `SumKernel.cpp`, its AVX2 build). A row shorter
/// than [`LANES_AVX2`] is one [`row_sum`]; a longer one is a `row_sum` of its whole vectors,
/// lane by lane, then, from 0, the scalar tail left to right and the lanes
/// in order.
pub fn cascade_sum(x: &[f32]) -> f32 {
    const LANES: usize = LANES_AVX2;
    if x.len() < LANES {
        return row_sum(x.len(), |i| x[i]);
    }
    let vectors = x.len() / LANES;
    let lanes: Vec<f32> = (0..LANES).map(|l| row_sum(vectors, |v| x[v * LANES + l])).collect();
    let tail = x[vectors * LANES..].iter().fold(0.0, |a, &v| a + v);
    lanes.iter().fold(tail, |a, &v| a + v)
}

/// `row_sum` over `n` terms `at(i)`: the terms as rows of four
/// (`ilp_factor`), the rows summed by [`multi_row_sum`] into four partial
/// sums, the leftover terms into the first, then the four added in order.
fn row_sum(n: usize, at: impl Fn(usize) -> f32) -> f32 {
    let rows = n / 4;
    let mut acc = multi_row_sum(rows, |i, k| at(4 * i + k));
    (4 * rows..n).for_each(|i| acc[0] += at(i));
    acc[1..].iter().fold(acc[0], |a, &v| a + v)
}

/// `multi_row_sum` with four columns: rows added into level 0 in blocks of
/// 2^p (p = max(4, ⌈log₂ rows⌉ / 4)), each full block carried up the four
/// levels as the row count's bits dictate, the rest into level 0, then the
/// levels added into level 0 in order.
fn multi_row_sum(rows: usize, at: impl Fn(usize, usize) -> f32) -> [f32; 4] {
    const LEVELS: usize = 4;
    let ceil_log2 = if rows <= 2 { 1 } else { usize::BITS - (rows - 1).leading_zeros() } as usize;
    let power = (ceil_log2 / LEVELS).max(4);
    let (step, mask) = (1 << power, (1 << power) - 1);
    let mut acc = [[0f32; 4]; LEVELS];
    let mut i = 0;
    let add_row = |acc: &mut [f32; 4], i: usize| (0..4).for_each(|k| acc[k] += at(i, k));
    while i + step <= rows {
        (i..i + step).for_each(|r| add_row(&mut acc[0], r));
        i += step;
        for j in 1..LEVELS {
            (0..4).for_each(|k| {
                acc[j][k] += acc[j - 1][k];
                acc[j - 1][k] = 0.0;
            });
            if i & (mask << (j * power)) != 0 {
                break;
            }
        }
    }
    (i..rows).for_each(|r| add_row(&mut acc[0], r));
    for j in 1..LEVELS {
        (0..4).for_each(|k| acc[0][k] += acc[j][k]);
    }
    acc[0]
}

/// A row's sum as `log_softmax`'s `vec::map_reduce_all` takes it (AVX-512
/// build): a row shorter than a vector left to right; a longer one in
/// [`LANES_AVX512`] running sums, the tail into the first lanes, then the
/// lanes halved pairwise (a tree).
pub fn lane_sum(x: &[f32]) -> f32 {
    const LANES: usize = LANES_AVX512;
    if x.len() < LANES {
        return x.iter().sum();
    }
    let mut acc = [0f32; LANES];
    acc.copy_from_slice(&x[..LANES]);
    for chunk in x[LANES..].chunks(LANES) {
        acc.iter_mut().zip(chunk).for_each(|(a, v)| *a += v);
    }
    let mut half = LANES / 2;
    while half > 0 {
        (0..half).for_each(|i| acc[i] += acc[i + half]);
        half /= 2;
    }
    acc[0]
}
