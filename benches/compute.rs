//! The full result (probabilities, loss, both gradients) for K = 3, 1 000 and
//! 100 000 classes. Budgets on the 2-core dev machine: K = 1 000 ≤ 20 µs,
//! K = 100 000 ≤ 2 ms. And the AMP lens (both dtypes of one profile, as the
//! lens pane computes them) for K = 3 and 100.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use focal_tui::lens::Precision;
use focal_tui::lens::amp::{Formula, amp};
use focal_tui::loss::{Alpha, sigmoid_focal, softmax_focal};

/// Deterministic logits in [-15, 16.3] on a 1/64 grid.
fn logits(k: usize) -> Vec<f64> {
    (0..k).map(|i| ((7919 * i + 13) % 2003) as f64 / 64.0 - 15.0).collect()
}

fn compute(c: &mut Criterion) {
    let mut group = c.benchmark_group("compute");
    for k in [3usize, 1_000, 100_000] {
        let z = logits(k);
        let alpha = Alpha::Scalar(0.25);
        group.bench_with_input(BenchmarkId::new("softmax", k), &z, |b, z| {
            b.iter(|| softmax_focal(black_box(z), k / 2, 2.0, &alpha))
        });
        group.bench_with_input(BenchmarkId::new("sigmoid", k), &z, |b, z| {
            b.iter(|| sigmoid_focal(black_box(z), k / 2, 2.0, &alpha))
        });
    }
    group.finish();
}

fn amp_lens(c: &mut Criterion) {
    let mut group = c.benchmark_group("amp");
    let formulas =
        [Formula::PaperSoftmax, Formula::Torchvision, Formula::Kornia, Formula::MonaiSoftmax, Formula::MonaiSigmoid];
    for k in [3usize, 100] {
        let z: Vec<f64> = logits(k).iter().map(|x| x / 4.0).collect();
        for f in formulas {
            group.bench_with_input(BenchmarkId::new(format!("{f:?}"), k), &z, |b, z| {
                b.iter(|| [Precision::F16, Precision::Bf16].map(|p| amp(f, black_box(z), k / 2, 2.0, Some(0.25), p)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, compute, amp_lens);
criterion_main!(benches);
