//! The dataset sweep end to end ([`focal_tui::data::sweep::sweep`], both
//! cores): 1 000 000 × 10 and 100 000 × 1 000 float32 logits, softmax and
//! sigmoid, the default five γs, α = 0.25 and 20 p_t bins. Rows are generated
//! deterministically in memory before timing.
//!
//! Budget: ≥ 10× faster than the same sweep in numpy float64
//! (`python3 tests/reference/gen_sweep.py --bench` times it on the same data).

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use focal_tui::data::sweep::{Accumulator, Config, SigmoidTerms, sweep};
use focal_tui::loss::{Alpha, Mode};

/// splitmix64: a counter-based hash, so that numpy can make the same data
/// without a Python loop.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The data of `bench_data` in tests/reference/gen_sweep.py: logit `i`
/// (row-major) is `(h(i) mod 2^16) / 2^12 − 8` (exact in float32), the label
/// `h(2^40 + row) mod K`, and the label's logit is raised by 2 unless
/// `(h >> 32) mod 4 = 0`: a model right about three times in four, p_t
/// spread over (0, 1).
pub fn data(rows: usize, k: usize) -> (Vec<f32>, Vec<usize>) {
    let mut logits: Vec<f32> = (0..(rows * k) as u64).map(|i| (splitmix64(i) % 65_536) as f32 / 4096.0 - 8.0).collect();
    let mut labels = Vec::with_capacity(rows);
    for (row, z) in logits.chunks_exact_mut(k).enumerate() {
        let h = splitmix64((1 << 40) + row as u64);
        let label = (h % k as u64) as usize;
        if !(h >> 32).is_multiple_of(4) {
            z[label] += 2.0;
        }
        labels.push(label);
    }
    (logits, labels)
}

fn data_sweep(c: &mut Criterion) {
    let mut group = c.benchmark_group("data_sweep");
    group.sample_size(10);
    for (rows, k) in [(1_000_000usize, 10usize), (100_000, 1_000)] {
        let (logits, labels) = data(rows, k);
        group.throughput(Throughput::Elements((rows * k) as u64));
        for mode in [Mode::Softmax, Mode::Sigmoid] {
            let config = Config { mode, ..Config::default() };
            let id = BenchmarkId::new(mode.name(), format!("{rows}x{k}"));
            group.bench_with_input(id, &(&logits, &labels), |b, (z, t)| {
                b.iter(|| sweep(&config, k, black_box(z.as_slice()), black_box(t.as_slice())))
            });
        }
    }
    group.finish();
}

/// The explorer's dataset view: the sweep again from kept examples at a new
/// γ list and α, softmax and sigmoid (budget: 50 ms for 1 000 000 rows).
fn resweep(c: &mut Criterion) {
    let mut group = c.benchmark_group("data_resweep");
    group.sample_size(10);
    let (rows, k) = (1_000_000usize, 10usize);
    let (logits, labels) = data(rows, k);
    let mut acc = Accumulator::new(&Config::default(), k).keeping_examples();
    acc.add(&logits, &labels);
    let examples = acc.finish_keeping().1;
    let config = Config { gammas: vec![0.0, 0.5, 1.0, 2.0, 5.0, 3.0], alpha: Alpha::Scalar(0.5), ..Config::default() };
    group.bench_function(format!("softmax/{rows}"), |b| b.iter(|| black_box(&examples).sweep(&config)));
    // F5 in the dataset view: a suggested per-class α (the balanced weights) applied.
    let balanced = examples.sweep(&config).alpha_suggestions[0].alpha.clone();
    let picked = Config { alpha: Alpha::PerClass(balanced.clone()), ..config.clone() };
    group.bench_function(format!("softmax_apply_alpha/{rows}"), |b| b.iter(|| black_box(&examples).sweep(&picked)));
    drop(examples);
    // Sigmoid: K values a row (the split of the loss included).
    let sigmoid = Config { mode: Mode::Sigmoid, ..Config::default() };
    let mut acc = Accumulator::new(&sigmoid, k).keeping_examples();
    acc.add(&logits, &labels);
    let examples = acc.finish_keeping_sigmoid().1;
    let config = Config { mode: Mode::Sigmoid, ..config };
    group.bench_function(format!("sigmoid/{rows}"), |b| b.iter(|| black_box(&examples).sweep(&config)));
    // A γ typed or nudged: the dataset view sweeps that γ alone.
    let one = Config { gammas: vec![3.0], ..config.clone() };
    group.bench_function(format!("sigmoid_new_gamma/{rows}"), |b| b.iter(|| black_box(&examples).sweep(&one)));
    // The same edits through the kept per-γ sums (`SigmoidTerms`, what the
    // view does now; the whole re-sweeps above are what it did before).
    let mut terms = SigmoidTerms::default();
    terms.sweep(&examples, &config, &[]);
    // An α edit: every γ kept, no pass over the logits.
    let alpha = Config { alpha: Alpha::Scalar(0.3), ..config.clone() };
    group.bench_function(format!("sigmoid_terms_alpha/{rows}"), |b| b.iter(|| terms.sweep(&examples, &alpha, &[])));
    // F5 in sigmoid: the balanced weights divided by their largest, per class.
    let top = balanced.iter().copied().fold(0.0, f64::max);
    let per_class = Config { alpha: Alpha::PerClass(balanced.iter().map(|a| a / top).collect()), ..config.clone() };
    group.bench_function(format!("sigmoid_terms_apply_alpha/{rows}"), |b| {
        b.iter(|| terms.sweep(&examples, &per_class, &[]))
    });
    // A γ-list edit swept as a whole list: γ = 4 added, the six others
    // kept (the view sweeps γ = 4 alone and keeps the list's rows, as a γ
    // keystroke below; this is its path where that does not apply).
    let mut gammas = config.gammas.clone();
    gammas.insert(5, 4.0);
    let list = Config { gammas, ..config.clone() };
    group.bench_function(format!("sigmoid_terms_list/{rows}"), |b| {
        b.iter_batched(
            || terms.clone(),
            |mut t| {
                let out = t.sweep(&examples, &list, &[]);
                (t, out)
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function(format!("sigmoid_list/{rows}"), |b| b.iter(|| black_box(&examples).sweep(&list)));
    // A γ keystroke: the new γ (3.5) alone, computed and kept beside the
    // list's in place of the last one typed (3.4).
    terms.sweep(&examples, &Config { gammas: vec![3.4], ..config.clone() }, &config.gammas);
    let one = Config { gammas: vec![3.5], ..config.clone() };
    group.bench_function(format!("sigmoid_terms_new_gamma/{rows}"), |b| {
        b.iter_batched(
            || terms.clone(),
            |mut t| {
                let out = t.sweep(&examples, &one, &config.gammas);
                (t, out)
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, data_sweep, resweep);
criterion_main!(benches);
