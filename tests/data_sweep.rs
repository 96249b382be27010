//! The dataset sweep (`focal_tui::data::sweep`): every aggregate against
//! 60-digit mpmath values (`tests/reference/gen_sweep.py`, run it to
//! regenerate `sweep_cases.json`), per-example values against the crate's own
//! `softmax_focal` / `sigmoid_focal`, the 90 % share against the exact sorted
//! value, batching and merge-order invariance, and properties.

mod common;
use common::XorShift;
use focal_tui::data::sweep::{
    Accumulator, Config, DEFAULT_GAMMAS, Examples, LOSS_BIN_WIDTH, Report, SIGMOID_ELEMENT_BYTES, SIGMOID_ROW_BYTES,
    Shares, SigmoidExamples, SigmoidTerms, TOP_MASS, sweep,
};
use focal_tui::loss::{Alpha, Mode, sigmoid_focal, softmax_focal};
use proptest::prelude::*;
use serde_json::Value;

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

fn first_argmax(z: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in z.iter().enumerate() {
        if v > z[best] {
            best = i;
        }
    }
    best
}

/// Rows as gen_sweep.py's `generate` makes them.
fn generate(rows: usize, k: usize, spec: &Value) -> (Vec<f64>, Vec<usize>) {
    let int = |key: &str| spec[key].as_u64().unwrap_or_else(|| panic!("gen.{key}"));
    let mut rng = XorShift(int("seed"));
    let (bits, shift) = (int("bits"), int("shift") as i32);
    let (pct, boost) = (int("correct_pct"), spec["boost"].as_f64().expect("gen.boost"));
    let half = 1i64 << (bits - 1);
    let (mut logits, mut labels) = (Vec::new(), Vec::new());
    for _ in 0..rows {
        let z: Vec<f64> =
            (0..k).map(|_| (((rng.next() >> 11) % (1 << bits)) as i64 - half) as f64 * 2f64.powi(-shift)).collect();
        let mut z = z;
        let r = rng.next();
        let t = if r % 100 < pct { first_argmax(&z) } else { ((r >> 8) % k as u64) as usize };
        if boost != 0.0 && (r >> 32).is_multiple_of(2) {
            z[t] += boost;
        }
        logits.extend(z);
        labels.push(t);
    }
    (logits, labels)
}

fn num(v: &Value) -> f64 {
    v.as_str().expect("a decimal string").parse().expect("a number")
}

/// `got` within 1e-12 relative of `want` (1e-300 absolute below 1e-290);
/// returns the relative error (0 for absolute matches).
fn check(what: &str, got: f64, want: &Value, worst: &mut (f64, String)) {
    if want.is_null() {
        assert!(got.is_nan(), "{what}: {got} where the reference has no value");
        return;
    }
    let want = num(want);
    if want.abs() < 1e-290 {
        assert!((got - want).abs() <= 1e-300, "{what}: {got:e} vs {want:e}");
        return;
    }
    let rel = (got - want).abs() / want.abs();
    assert!(rel <= 1e-12, "{what}: {got:e} vs {want:e} (relative {rel:e})");
    if rel > worst.0 {
        *worst = (rel, what.to_string());
    }
}

/// The reported 90 % share against the exact one: `f* − 1/N ≤ f ≤ f*·(1 +
/// 1/16) + 1/N` (the −1/N only for a near-tie rounded the other way).
fn check_top(what: &str, got: f64, exact: f64, rows: f64) {
    let slack = 1.0 / rows + 1e-12;
    assert!(
        got >= exact - slack && got <= exact * (1.0 + LOSS_BIN_WIDTH) + slack,
        "{what}: {got} vs exact {exact} over {rows} rows"
    );
}

struct Case {
    name: String,
    config: Config,
    classes: usize,
    logits: Vec<f64>,
    labels: Vec<usize>,
    expect: Value,
}

fn cases() -> Vec<Case> {
    let text = include_str!("reference/sweep_cases.json");
    let doc: Value = serde_json::from_str(text).expect("sweep_cases.json parses");
    let list = doc["cases"].as_array().expect("cases");
    list.iter()
        .map(|c| {
            let k = c["classes"].as_u64().expect("classes") as usize;
            let gammas = c["gammas"].as_array().expect("gammas").iter().map(num).collect();
            let alpha = match &c["alpha"] {
                Value::Array(a) => Alpha::PerClass(a.iter().map(num).collect()),
                a => Alpha::Scalar(num(a)),
            };
            let mode = if c["mode"] == "softmax" { Mode::Softmax } else { Mode::Sigmoid };
            let bins = c["bins"].as_u64().expect("bins") as usize;
            let (mut logits, mut labels) = (Vec::new(), Vec::new());
            for row in c["rows"].as_array().expect("rows") {
                logits.extend(row["logits"].as_array().expect("logits").iter().map(num));
                labels.push(row["label"].as_u64().expect("label") as usize);
            }
            if !c["gen"].is_null() {
                let (z, t) = generate(c["gen_rows"].as_u64().expect("gen_rows") as usize, k, &c["gen"]);
                logits.extend(z);
                labels.extend(t);
            }
            Case {
                name: c["name"].as_str().expect("name").to_string(),
                config: Config { gammas, alpha, mode, bins },
                classes: k,
                logits,
                labels,
                expect: c["expect"].clone(),
            }
        })
        .collect()
}

/// Every value of the report against the reference.
fn compare(case: &Case, r: &Report, worst: &mut (f64, String)) {
    let e = &case.expect;
    let name = &case.name;
    let n = e["rows"].as_u64().expect("rows");
    assert_eq!(r.rows, n, "{name}: rows");
    assert_eq!(r.classes, case.classes);
    assert_eq!(r.saturated, e["saturated"].as_u64().expect("saturated"), "{name}: saturated");
    check(&format!("{name}: accuracy"), r.accuracy, &e["accuracy"], worst);
    check(&format!("{name}: easy_fraction"), r.easy_fraction, &e["easy_fraction"], worst);
    check(&format!("{name}: mean CE"), r.mean_cross_entropy, &e["mean_cross_entropy"], worst);
    let hist: Vec<u64> = e["histogram"].as_array().expect("histogram").iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(r.histogram, hist, "{name}: p_t histogram");
    let sweep = e["sweep"].as_array().expect("sweep");
    assert_eq!(r.sweep.len(), sweep.len());
    for (row, want) in r.sweep.iter().zip(sweep) {
        let at = format!("{name} γ={}", row.gamma);
        assert_eq!(row.gamma, num(&want["gamma"]));
        check(&format!("{at}: mean FL"), row.mean_focal_loss, &want["mean_focal_loss"], worst);
        check(&format!("{at}: easy share"), row.easy_share, &want["easy_share"], worst);
        check(&format!("{at}: easy share CE"), row.easy_share_ce, &want["easy_share_ce"], worst);
        check_top(&format!("{at}: top share"), row.top_share_90, num(&want["top_share_90"]), n as f64);
        check_top(&format!("{at}: top share CE"), row.top_share_90_ce, num(&want["top_share_90_ce"]), n as f64);
    }
    let classes = e["per_class"].as_array().expect("per_class");
    for (c, want) in r.per_class.iter().zip(classes) {
        let at = format!("{name} class {}", c.class);
        assert_eq!(c.count, want["count"].as_u64().expect("count"), "{at}: count");
        // The reference's means over no rows are null: ours are absent.
        let Some(means) = &c.means else {
            assert!(want["accuracy"].is_null() && want["mean_cross_entropy"].is_null(), "{at}: means expected");
            continue;
        };
        check(&format!("{at}: accuracy"), means.accuracy, &want["accuracy"], worst);
        check(&format!("{at}: mean CE"), means.mean_cross_entropy, &want["mean_cross_entropy"], worst);
        for (g, (m, s)) in means.mean_focal_loss.iter().zip(&c.share).enumerate() {
            check(&format!("{at} γ#{g}: mean FL"), *m, &want["mean_focal_loss"][g], worst);
            check(&format!("{at} γ#{g}: share"), *s, &want["share"][g], worst);
        }
    }
}

fn run(case: &Case, batch: usize) -> Report {
    let k = case.classes;
    let mut acc = Accumulator::new(&case.config, k);
    for (z, t) in case.logits.chunks(batch * k).zip(case.labels.chunks(batch)) {
        acc.add(z, t);
    }
    acc.finish()
}

fn json(r: &Report) -> String {
    serde_json::to_string(r).expect("a report serialises")
}

// ---------------------------------------------------------------------------
// against mpmath
// ---------------------------------------------------------------------------

#[test]
fn every_aggregate_matches_the_60_digit_reference() {
    let cases = cases();
    assert!(cases.len() >= 30);
    let mut worst = (0.0, String::new());
    for case in &cases {
        compare(case, &run(case, usize::MAX / (case.classes + 1)), &mut worst);
        compare(case, &sweep(&case.config, case.classes, &case.logits, &case.labels), &mut worst);
    }
    eprintln!("{} reference datasets: worst relative error {:e} ({})", cases.len(), worst.0, worst.1);
}

#[test]
fn reference_datasets_in_small_batches_give_the_same_bits() {
    for case in cases() {
        let all = json(&run(&case, usize::MAX / (case.classes + 1)));
        for batch in [1, 7, 100] {
            assert_eq!(json(&run(&case, batch)), all, "{}: batches of {batch}", case.name);
        }
    }
}

// ---------------------------------------------------------------------------
// per example, against the crate
// ---------------------------------------------------------------------------

/// Rows that exercise every regime: random, confident, uniform, extreme.
fn varied_rows(k: usize, seed: u64) -> Vec<(Vec<f64>, usize)> {
    let mut rng = XorShift(seed);
    let mut unit = move || rng.unit();
    let mut rows = Vec::new();
    for i in 0..400 {
        let spread = [0.01, 1.0, 8.0, 40.0, 300.0, 1e4][i % 6];
        let mut z: Vec<f64> = (0..k).map(|_| (unit() - 0.5) * spread).collect();
        let t = (unit() * k as f64) as usize % k;
        if i % 5 == 0 {
            z[t] += [2.0, 30.0, 745.0, 800.0][i / 5 % 4];
        }
        rows.push((z, t));
    }
    let pad = |z: &[f64]| z.iter().copied().chain(std::iter::repeat(0.0)).take(k).collect::<Vec<_>>();
    for z in [
        vec![0.0, 800.0],
        vec![1000.0, 0.0],
        vec![1e300, -1e300],
        vec![-1e300, 1e300],
        vec![1.7e308, -1.7e308],
        vec![0.0, 745.0, 740.0],
        vec![0.0, 0.0, 0.0],
        vec![-745.0, 745.0],
        vec![150.0, -150.0],
    ] {
        for t in 0..k.min(3) {
            rows.push((pad(&z), t));
        }
    }
    rows
}

#[test]
fn per_example_values_match_softmax_focal_and_sigmoid_focal() {
    let gammas = vec![0.0, 0.5, 1.0, 2.0, 5.0, 0.25, 1.7, 3.3, 20.0];
    let mut worst: f64 = 0.0;
    for k in [1, 2, 3, 10, 16, 17, 40] {
        for mode in [Mode::Softmax, Mode::Sigmoid] {
            let alphas =
                [Alpha::Scalar(0.25), Alpha::PerClass((0..k).map(|c| (c as f64 + 1.0) / (k as f64 + 1.0)).collect())];
            for alpha in alphas {
                let config = Config { gammas: gammas.clone(), alpha: alpha.clone(), mode, bins: 20 };
                for (z, t) in varied_rows(k, 7 + k as u64) {
                    if k == 1 && t > 0 {
                        continue;
                    }
                    let mut acc = Accumulator::new(&config, k);
                    acc.add(&z, &[t]);
                    let r = acc.finish();
                    let mut saturated = false;
                    for (row, &g) in r.sweep.iter().zip(&gammas) {
                        let want = match mode {
                            Mode::Softmax => softmax_focal(&z, t, g, &alpha),
                            Mode::Sigmoid => sigmoid_focal(&z, t, g, &alpha),
                        };
                        let close = |a: f64, b: f64| {
                            if b.abs() < 1e-290 {
                                assert!((a - b).abs() <= 1e-300, "{z:?} t={t} γ={g} {mode:?}: {a:e} vs {b:e}");
                                0.0
                            } else {
                                let rel = (a - b).abs() / b.abs();
                                assert!(rel <= 1e-12, "{z:?} t={t} γ={g} {mode:?}: {a:e} vs {b:e} ({rel:e})");
                                rel
                            }
                        };
                        worst = worst.max(close(row.mean_focal_loss, want.focal_loss));
                        worst = worst.max(close(r.mean_cross_entropy, want.cross_entropy));
                        assert_eq!(r.accuracy, f64::from(u8::from(want.predicted == t)));
                        saturated |= want.saturated;
                        let bin = ((want.p_t * 20.0) as usize).min(19);
                        assert_eq!(r.histogram[bin], 1, "{z:?} t={t}: p_t {}", want.p_t);
                    }
                    assert_eq!(r.saturated, u64::from(saturated), "{z:?} t={t}");
                }
            }
        }
    }
    eprintln!("per-example worst relative difference to the crate: {worst:e}");
}

// ---------------------------------------------------------------------------
// the 90 % share against the exact sorted value
// ---------------------------------------------------------------------------

/// The smallest fraction of `losses` whose sum reaches 90 % of the total.
fn exact_top_share(losses: &[f64]) -> f64 {
    let mut sorted = losses.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = exact_sum(&sorted);
    if total == 0.0 {
        return 0.0;
    }
    let target = TOP_MASS * total;
    let (mut sum, mut carry) = (0.0f64, 0.0f64);
    for (i, &x) in sorted.iter().enumerate() {
        let t = sum + x;
        carry += if sum.abs() >= x.abs() { (sum - t) + x } else { (x - t) + sum };
        sum = t;
        if sum + carry >= target {
            return (i + 1) as f64 / losses.len() as f64;
        }
    }
    1.0
}

fn exact_sum(x: &[f64]) -> f64 {
    let (mut sum, mut carry) = (0.0f64, 0.0f64);
    for &v in x {
        let t = sum + v;
        carry += if sum.abs() >= v.abs() { (sum - t) + v } else { (v - t) + sum };
        sum = t;
    }
    sum + carry
}

#[test]
fn top_share_is_within_the_bin_width_of_the_sorted_value() {
    for (k, mode, spread, boost) in [
        (10, Mode::Softmax, 8.0, 2.0),
        (10, Mode::Sigmoid, 8.0, 2.0),
        (3, Mode::Softmax, 60.0, 20.0),
        (5, Mode::Softmax, 0.001, 0.0),
        (20, Mode::Sigmoid, 30.0, 5.0),
    ] {
        let n = 20_000;
        let mut rng = XorShift(99 + k as u64);
        let mut unit = move || rng.unit();
        let mut logits = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..n {
            let start = logits.len();
            logits.extend((0..k).map(|_| (unit() - 0.5) * spread));
            let t = (unit() * k as f64) as usize % k;
            if unit() < 0.8 {
                logits[start + t] += boost;
            }
            labels.push(t);
        }
        let config = Config { mode, ..Config::default() };
        let r = sweep(&config, k, &logits, &labels);
        let per_example = |g: f64| -> Vec<f64> {
            logits
                .chunks(k)
                .zip(&labels)
                .map(|(z, &t)| match mode {
                    Mode::Softmax => softmax_focal(z, t, g, &config.alpha).focal_loss,
                    Mode::Sigmoid => sigmoid_focal(z, t, g, &config.alpha).focal_loss,
                })
                .collect()
        };
        for row in &r.sweep {
            let exact = exact_top_share(&per_example(row.gamma));
            check_top(&format!("k={k} {mode:?} γ={}", row.gamma), row.top_share_90, exact, n as f64);
        }
        let ce: Vec<f64> = logits
            .chunks(k)
            .zip(&labels)
            .map(|(z, &t)| match mode {
                Mode::Softmax => softmax_focal(z, t, 0.0, &Alpha::Scalar(1.0)).cross_entropy,
                Mode::Sigmoid => sigmoid_focal(z, t, 0.0, &Alpha::Scalar(1.0)).cross_entropy,
            })
            .collect();
        check_top(&format!("k={k} {mode:?} CE"), r.sweep[0].top_share_90_ce, exact_top_share(&ce), n as f64);
    }
}

#[test]
fn top_share_of_equal_losses_is_ninety_percent() {
    // Identical rows: every loss equal, 90 % of them carry 90 % of the total.
    for n in [1usize, 9, 10, 1000, 4097] {
        let logits: Vec<f64> = [0.5, -1.0, 2.0].repeat(n);
        let r = sweep(&Config::default(), 3, &logits, &vec![0; n]);
        let want = (0.9 * n as f64).ceil() / n as f64;
        for row in &r.sweep {
            assert!((row.top_share_90 - want).abs() < 1e-12, "{n}: {} vs {want}", row.top_share_90);
        }
    }
}

#[test]
fn one_loss_carrying_everything_is_one_example() {
    // 999 easy rows and one very hard one: the hard one carries > 90 %.
    let mut logits: Vec<f64> = [30.0, 0.0].repeat(999);
    logits.extend([0.0, 1e6]);
    let mut labels = vec![0; 999];
    labels.push(0);
    let r = sweep(&Config::default(), 2, &logits, &labels);
    for row in &r.sweep {
        assert_eq!(row.top_share_90, 1.0 / 1000.0);
        assert_eq!(row.top_share_90_ce, 1.0 / 1000.0);
        assert!(row.easy_share < 1e-9);
    }
}

// ---------------------------------------------------------------------------
// batching and merging
// ---------------------------------------------------------------------------

fn dataset(n: usize, k: usize, seed: u64) -> (Vec<f64>, Vec<usize>) {
    let mut rng = XorShift(seed);
    let mut unit = move || rng.unit();
    let mut logits = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        let start = logits.len();
        logits.extend((0..k).map(|_| (unit() - 0.5) * 16.0));
        let t = i % k;
        if unit() < 0.7 {
            logits[start + t] += 3.0;
        }
        labels.push(t);
    }
    (logits, labels)
}

fn configs(k: usize) -> Vec<Config> {
    vec![
        Config::default(),
        Config { mode: Mode::Sigmoid, ..Config::default() },
        Config {
            gammas: vec![0.3, 2.0, 7.25],
            alpha: Alpha::PerClass((0..k).map(|c| c as f64 / k as f64).collect()),
            ..Config::default()
        },
        Config { gammas: vec![1.0, 3.5], mode: Mode::Sigmoid, bins: 7, ..Config::default() },
    ]
}

#[test]
fn any_batching_gives_identical_bits() {
    for k in [2, 10, 40] {
        let (logits, labels) = dataset(1500, k, 5);
        for config in configs(k) {
            let run = |batch: usize| {
                let mut acc = Accumulator::new(&config, k);
                for (z, t) in logits.chunks(batch * k).zip(labels.chunks(batch)) {
                    acc.add(z, t);
                }
                json(&acc.finish())
            };
            let all = run(labels.len());
            for batch in [1, 7, 255, 256, 257] {
                assert_eq!(run(batch), all, "K={k}, batches of {batch}, {config:?}");
            }
        }
    }
}

/// Counts identical, means and shares within `tol` relative.
fn assert_same(a: &Report, b: &Report, tol: f64, what: &str) {
    let close = |x: f64, y: f64| x == y || (x - y).abs() <= tol * y.abs() || (x.is_nan() && y.is_nan());
    assert_eq!((a.rows, a.saturated, &a.histogram), (b.rows, b.saturated, &b.histogram), "{what}");
    assert!(close(a.accuracy, b.accuracy) && close(a.mean_cross_entropy, b.mean_cross_entropy), "{what}");
    for (x, y) in a.sweep.iter().zip(&b.sweep) {
        assert!(close(x.mean_focal_loss, y.mean_focal_loss), "{what}: {x:?} vs {y:?}");
        assert!(close(x.easy_share, y.easy_share) && close(x.easy_share_ce, y.easy_share_ce), "{what}");
        assert_eq!((x.top_share_90, x.top_share_90_ce), (y.top_share_90, y.top_share_90_ce), "{what}");
    }
    for (x, y) in a.per_class.iter().zip(&b.per_class) {
        assert_eq!(x.count, y.count, "{what}");
        assert_eq!(x.means.is_some(), y.means.is_some(), "{what}");
        if let (Some(m), Some(n)) = (&x.means, &y.means) {
            assert!(close(m.accuracy, n.accuracy) && close(m.mean_cross_entropy, n.mean_cross_entropy), "{what}");
            for (p, q) in m.mean_focal_loss.iter().zip(&n.mean_focal_loss) {
                assert!(close(*p, *q), "{what}: class {}: {p} vs {q}", x.class);
            }
        }
        for (p, q) in x.share.iter().zip(&y.share) {
            assert!(close(*p, *q), "{what}: class {}: {p} vs {q}", x.class);
        }
    }
}

#[test]
fn merging_in_any_order_agrees() {
    for k in [3, 10, 40] {
        let (logits, labels) = dataset(2000, k, 17);
        for config in configs(k) {
            let part = |i: usize| {
                let rows = [0, 300, 301, 1400, 2000];
                let mut acc = Accumulator::new(&config, k);
                acc.add(&logits[rows[i] * k..rows[i + 1] * k], &labels[rows[i]..rows[i + 1]]);
                acc
            };
            let mut seq = Accumulator::new(&config, k);
            seq.add(&logits, &labels);
            let seq = seq.finish();
            // The same four parts merged in any order: within 1e-15.
            let merged = |order: &[usize]| {
                let mut acc = part(order[0]);
                for &i in &order[1..] {
                    acc.merge(part(i));
                }
                acc.finish()
            };
            let first = merged(&[0, 1, 2, 3]);
            let orders: [&[usize]; 3] = [&[3, 2, 1, 0], &[2, 0, 3, 1], &[1, 3, 0, 2]];
            for order in orders {
                assert_same(&merged(order), &first, 1e-15, &format!("K={k} order {order:?}"));
            }
            // Pairs first: (0 + 1) + (2 + 3).
            let (mut a, mut b) = (part(0), part(2));
            a.merge(part(1));
            b.merge(part(3));
            a.merge(b);
            assert_same(&a.finish(), &first, 1e-15, &format!("K={k} pairs"));
            // Other parts group the rows into other blocks, whose plain sums
            // differ by a few ε: within 1e-13 of one pass.
            assert_same(&first, &seq, 1e-13, &format!("K={k} parts vs one pass"));
            assert_same(&sweep(&config, k, &logits, &labels), &seq, 1e-13, &format!("K={k} sweep()"));
        }
    }
}

#[test]
fn float32_and_float16_logits_give_the_float64_report() {
    let (logits, labels) = dataset(700, 6, 3);
    let f32s: Vec<f32> = logits.iter().map(|&z| z as f32).collect();
    let f16s: Vec<half::f16> = logits.iter().map(|&z| half::f16::from_f64(z)).collect();
    for config in configs(6) {
        let widened: Vec<f64> = f32s.iter().map(|&z| f64::from(z)).collect();
        assert_eq!(json(&sweep(&config, 6, &f32s, &labels)), json(&sweep(&config, 6, &widened, &labels)));
        let widened: Vec<f64> = f16s.iter().map(|&z| z.to_f64()).collect();
        let mut a = Accumulator::new(&config, 6);
        a.add(&f16s, &labels);
        let mut b = Accumulator::new(&config, 6);
        b.add(&widened, &labels);
        assert_eq!(json(&a.finish()), json(&b.finish()));
    }
}

// ---------------------------------------------------------------------------
// bounds, edges
// ---------------------------------------------------------------------------

#[test]
fn memory_does_not_grow_with_the_rows() {
    for (k, config) in
        [(10, Config::default()), (1000, Config::default()), (10, Config { mode: Mode::Sigmoid, ..Config::default() })]
    {
        let (logits, labels) = dataset(3000, k, 1);
        let mut acc = Accumulator::new(&config, k);
        // Memory grows with the classes seen (up to K), then no more.
        acc.add(&logits, &labels);
        let before = acc.heap_bytes();
        for _ in 0..20 {
            acc.add(&logits, &labels);
        }
        assert_eq!(acc.heap_bytes(), before, "K={k}");
        // Sigmoid: per γ two more loss histograms (the per-side CDFs).
        let bound = if config.mode == Mode::Sigmoid { 12 << 20 } else { 8 << 20 };
        assert!(before < bound, "K={k}: {before} bytes");
    }
    // Even 20 γs stay far below 64 MiB per accumulator.
    let config = Config { gammas: (0..20).map(f64::from).collect(), ..Config::default() };
    assert!(Accumulator::new(&config, 10_000).heap_bytes() < 32 << 20);
}

/// Per-class sums are kept for the classes rows have, not for all K: two
/// rows of ten million classes hold two classes' sums (and a 4-byte slot
/// per class), not 240 bytes per class.
#[test]
fn memory_grows_with_the_classes_seen_not_with_k() {
    let k = 10_000_000;
    let config = Config::default();
    let mut acc = Accumulator::new(&config, k);
    let empty = acc.heap_bytes();
    assert!(empty < 4 * k + (8 << 20), "{empty} bytes");
    let mut logits = vec![0.0f32; 2 * k];
    logits[7] = 3.0;
    logits[k + 9_999_999] = 1.0;
    acc.add(&logits, &[7, 9_999_999]);
    assert!(acc.heap_bytes() < empty + (1 << 20), "{} bytes", acc.heap_bytes());
    let report = acc.finish();
    assert_eq!((report.rows, report.per_class.len()), (2, k));
    assert_eq!((report.per_class[7].count, report.per_class[9_999_999].count, report.per_class[8].count), (1, 1, 0));
    assert_eq!(report.per_class[7].means.as_ref().map(|m| m.accuracy), Some(1.0));
}

#[test]
fn extremes_stay_finite_and_saturation_is_counted() {
    let rows: &[(&[f64], usize)] = &[
        (&[1.7e308, -1.7e308], 1),
        (&[1.7e308, -1.7e308], 0),
        (&[-1.7e308, 1.7e308], 0),
        (&[f64::MAX, -f64::MAX], 1),
        (&[0.0, 1e300], 0),
        (&[5e-324, -5e-324], 1),
    ];
    for mode in [Mode::Softmax, Mode::Sigmoid] {
        let config = Config { mode, gammas: vec![0.0, 0.5, 2.0, 0.3], ..Config::default() };
        let mut acc = Accumulator::new(&config, 2);
        for (z, t) in rows {
            acc.add(z, &[*t]);
        }
        let r = acc.finish();
        let finite = |x: f64| x.is_finite() && x >= 0.0;
        assert!(finite(r.mean_cross_entropy), "{mode:?}: {r:?}");
        for row in &r.sweep {
            assert!(finite(row.mean_focal_loss) && finite(row.top_share_90) && finite(row.easy_share), "{row:?}");
        }
        assert!(
            r.per_class
                .iter()
                .filter_map(|c| c.means.as_ref())
                .all(|m| finite(m.mean_cross_entropy) && m.mean_focal_loss.iter().all(|&x| finite(x)))
        );
        let want: u64 = rows
            .iter()
            .map(|(z, t)| {
                let f = |g| match mode {
                    Mode::Softmax => softmax_focal(z, *t, g, &config.alpha).saturated,
                    Mode::Sigmoid => sigmoid_focal(z, *t, g, &config.alpha).saturated,
                };
                u64::from(config.gammas.iter().any(|&g| f(g)))
            })
            .sum();
        assert_eq!(r.saturated, want, "{mode:?}");
        assert!(r.saturated >= 2);
    }
}

#[test]
fn an_empty_sweep_reports_no_rows() {
    let r = Accumulator::new(&Config::default(), 4).finish();
    assert_eq!(r.rows, 0);
    assert!(r.accuracy == 0.0 && r.mean_cross_entropy == 0.0);
    assert!(r.sweep.iter().all(|s| s.mean_focal_loss == 0.0 && s.easy_share == 0.0 && s.top_share_90 == 0.0));
    assert!(r.per_class.iter().all(|c| c.count == 0 && c.means.is_none()));
    assert_eq!(r.histogram, vec![0; 20]);
    let text = json(&r);
    assert!(!text.contains("null") && text.contains("\"mode\":\"softmax\""), "{text}");
    let v: Value = serde_json::from_str(&json(&sweep(&Config::default(), 4, &[0.0; 8], &[1, 2]))).unwrap();
    for key in [
        "rows",
        "classes",
        "accuracy",
        "mean_cross_entropy",
        "easy_fraction",
        "saturated",
        "sweep",
        "per_class",
        "histogram",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    for key in ["gamma", "mean_focal_loss", "easy_share", "easy_share_ce", "top_share_90", "top_share_90_ce"] {
        assert!(v["sweep"][0].get(key).is_some(), "{key}");
    }
}

#[test]
fn a_class_without_rows_has_no_means_and_no_share() {
    let r = sweep(&Config::default(), 3, &[1.0, 0.0, 0.0, 0.0, 2.0, 0.0], &[0, 1]);
    let c = &r.per_class[2];
    assert_eq!(c.count, 0);
    assert_eq!(c.means, None);
    assert!(c.share.iter().all(|&s| s == 0.0));
    assert_eq!(r.accuracy, 1.0);
    // In JSON: count and share, no means (and never `null`).
    let text = json(&r);
    assert!(text.contains(r#"{"class":2,"count":0,"share":[0.0,0.0,0.0,0.0,0.0]}"#), "{text}");
    assert!(text.contains(r#"{"class":0,"count":1,"accuracy":1.0,"mean_cross_entropy":"#), "{text}");
}

#[test]
#[should_panic(expected = "label 3 out of range")]
fn a_label_out_of_range_panics() {
    Accumulator::new(&Config::default(), 3).add(&[0.0; 6], &[0, 3]);
}

#[test]
#[should_panic(expected = "logits for")]
fn a_ragged_batch_panics() {
    Accumulator::new(&Config::default(), 3).add(&[0.0; 5], &[0, 1]);
}

#[test]
fn accumulators_move_between_threads() {
    fn send<T: Send>() {}
    send::<Accumulator>();
    send::<Report>();
}

#[test]
fn easy_share_is_not_monotone_in_gamma_in_sigmoid_mode() {
    // Row A is easy for its label (σ(3) ≈ 0.95) but has a hard negative
    // (z = 6) whose term decays slowly with γ; row B is hard (σ(−0.5)) with
    // easy negatives. A larger γ shifts the total towards A: the easy share
    // grows, so only the softmax mode's monotonicity is a property.
    let config = Config { mode: Mode::Sigmoid, gammas: vec![0.0, 1.0, 2.0, 5.0], ..Config::default() };
    let r = sweep(&config, 3, &[3.0, 6.0, -9.0, -0.5, -9.0, -9.0], &[0, 0]);
    let shares: Vec<f64> = r.sweep.iter().map(|s| s.easy_share).collect();
    assert!(shares.windows(2).any(|w| w[1] > w[0]), "{shares:?}");
}

// ---------------------------------------------------------------------------
// properties
// ---------------------------------------------------------------------------

fn arb_case() -> impl Strategy<Value = (Config, usize, Vec<f64>, Vec<usize>)> {
    (
        1usize..8,
        1usize..60,
        any::<bool>(),
        any::<bool>(),
        prop::sample::subsequence(vec![0.0, 0.5, 1.0, 2.0, 5.0, 0.3, 3.7], 1..7),
    )
        .prop_flat_map(|(k, n, sigmoid, per_class, gammas)| {
            let logit = prop_oneof![
                8 => -30.0f64..30.0,
                1 => prop::sample::select(vec![0.0, 800.0, -800.0, 1e300, -1e300, 40.0]),
            ];
            let alpha = if per_class {
                prop::collection::vec(0.0f64..=1.0, k).prop_map(Alpha::PerClass).boxed()
            } else {
                (0.0f64..=1.0).prop_map(Alpha::Scalar).boxed()
            };
            (
                Just(k),
                prop::collection::vec(logit, n * k),
                prop::collection::vec(0..k, n),
                alpha,
                Just(sigmoid),
                Just(gammas),
                1usize..30,
            )
        })
        .prop_map(|(k, logits, labels, alpha, sigmoid, gammas, bins)| {
            let mode = if sigmoid { Mode::Sigmoid } else { Mode::Softmax };
            (Config { gammas, alpha, mode, bins }, k, logits, labels)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn shares_and_fractions_are_in_the_unit_interval((config, k, logits, labels) in arb_case()) {
        let r = sweep(&config, k, &logits, &labels);
        let unit = |x: f64| (0.0..=1.0).contains(&x);
        prop_assert!(unit(r.accuracy) && unit(r.easy_fraction));
        prop_assert_eq!(r.histogram.iter().sum::<u64>(), r.rows);
        for (g, s) in r.sweep.iter().enumerate() {
            prop_assert!(s.mean_focal_loss >= 0.0 && s.mean_focal_loss.is_finite());
            prop_assert!(unit(s.easy_share) && unit(s.easy_share_ce) && unit(s.top_share_90) && unit(s.top_share_90_ce));
            let total: f64 = r.per_class.iter().map(|c| c.share[g]).sum();
            prop_assert!(r.per_class.iter().all(|c| unit(c.share[g])));
            prop_assert!(total == 0.0 || (total - 1.0).abs() < 1e-12, "class shares sum to {}", total);
            // Some example carries a positive loss ⇒ at least one is needed.
            if s.mean_focal_loss > 0.0 {
                prop_assert!(s.top_share_90 >= 1.0 / r.rows as f64);
            }
        }
        prop_assert_eq!(r.per_class.iter().map(|c| c.count).sum::<u64>(), r.rows);
    }

    #[test]
    fn gamma_zero_is_alpha_weighted_cross_entropy((config, k, logits, labels) in arb_case()) {
        // Softmax: FL(γ = 0) = α_t · CE, so per class mean FL = α_c · mean CE
        // and overall Σ_c α_c · count_c · mean CE_c / N. Sigmoid with one α
        // for every class: FL(γ = 0) = Σ_i w_i BCE_i, = α · CE when α = ½.
        let mut config = config;
        config.gammas = vec![0.0, 2.0];
        if config.mode == Mode::Sigmoid {
            config.alpha = Alpha::Scalar(0.5);
        }
        let r = sweep(&config, k, &logits, &labels);
        let weight = |c: usize| match (config.mode, &config.alpha) {
            (Mode::Sigmoid, _) => 0.5,
            (Mode::Softmax, a) => a.of(c),
        };
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-13 * b.abs() + 1e-300;
        let mut weighted = 0.0;
        for c in r.per_class.iter().filter(|c| c.count > 0) {
            let m = c.means.as_ref().expect("a class with rows has means");
            prop_assert!(close(m.mean_focal_loss[0], weight(c.class) * m.mean_cross_entropy),
                "class {}: {} vs {}", c.class, m.mean_focal_loss[0], weight(c.class) * m.mean_cross_entropy);
            weighted += weight(c.class) * m.mean_cross_entropy * c.count as f64;
        }
        let want = weighted / r.rows as f64;
        prop_assert!((r.sweep[0].mean_focal_loss - want).abs() <= 1e-12 * want + 1e-300,
            "{} vs {}", r.sweep[0].mean_focal_loss, want);
        if let Alpha::Scalar(_) = config.alpha {
            // A constant weight changes neither the easy share nor the 90 % share.
            prop_assert!((r.sweep[0].easy_share - r.sweep[0].easy_share_ce).abs() <= 1e-13);
        }
    }

    #[test]
    fn softmax_loss_and_easy_share_fall_as_gamma_grows((config, k, logits, labels) in arb_case()) {
        // Per example (1 − p_t)^γ falls with γ, and an easy example's factor
        // (1 − p_t ≤ ½) falls at least as fast as any hard one's: so in
        // softmax mode both the mean and the easy share are non-increasing.
        let config = Config { mode: Mode::Softmax, gammas: vec![0.0, 0.3, 0.5, 1.0, 2.0, 3.7, 5.0], ..config };
        let r = sweep(&config, k, &logits, &labels);
        for w in r.sweep.windows(2) {
            prop_assert!(w[1].mean_focal_loss <= w[0].mean_focal_loss * (1.0 + 1e-13) + 1e-300,
                "mean: γ {} → {}: {} → {}", w[0].gamma, w[1].gamma, w[0].mean_focal_loss, w[1].mean_focal_loss);
            prop_assert!(w[1].easy_share <= w[0].easy_share + 1e-12,
                "easy share: γ {} → {}: {} → {}", w[0].gamma, w[1].gamma, w[0].easy_share, w[1].easy_share);
        }
    }

    #[test]
    fn batches_and_merges_agree_with_one_pass((config, k, logits, labels) in arb_case(), split in 0.0f64..1.0) {
        let mut one = Accumulator::new(&config, k);
        one.add(&logits, &labels);
        let one = one.finish();
        let cut = (split * labels.len() as f64) as usize;
        let halves = || {
            let (mut a, mut b) = (Accumulator::new(&config, k), Accumulator::new(&config, k));
            a.add(&logits[..cut * k], &labels[..cut]);
            b.add(&logits[cut * k..], &labels[cut..]);
            (a, b)
        };
        let (mut a, b) = halves();
        a.merge(b);
        let (a2, mut b2) = halves();
        b2.merge(a2);
        let (ab, ba) = (a.finish(), b2.finish());
        assert_same(&ab, &ba, 1e-15, "a + b vs b + a");
        assert_same(&ab, &one, 1e-13, "merged halves vs one pass");
        let mut batched = Accumulator::new(&config, k);
        for (z, t) in logits.chunks(3 * k).zip(labels.chunks(3)) {
            batched.add(z, t);
        }
        prop_assert_eq!(json(&batched.finish()), json(&one));
    }
}

#[test]
fn defaults_are_the_papers() {
    let c = Config::default();
    assert_eq!(c.gammas, DEFAULT_GAMMAS.to_vec());
    assert_eq!((c.alpha, c.mode, c.bins), (Alpha::Scalar(0.25), Mode::Softmax, 20));
}

// ---------------------------------------------------------------------------
// kept examples (the explorer's dataset view)
// ---------------------------------------------------------------------------

/// The rows' kept examples, read in `parts` accumulators merged in order.
fn kept(k: usize, logits: &[f64], labels: &[usize], parts: usize) -> Examples {
    let config = Config::default();
    let rows = labels.len().div_ceil(parts).max(1);
    labels
        .chunks(rows)
        .zip(logits.chunks(rows * k))
        .map(|(t, z)| {
            let mut acc = Accumulator::new(&config, k).keeping_examples();
            acc.add(z, t);
            acc
        })
        .reduce(|mut a, b| {
            a.merge(b);
            a
        })
        .expect("rows")
        .finish_keeping()
        .1
}

#[test]
fn kept_examples_resweep_like_the_logits_at_any_gamma_and_alpha() {
    for k in [2, 10, 40] {
        let (logits, labels) = dataset(3000, k, 23);
        let examples = kept(k, &logits, &labels, 3);
        assert_eq!((examples.len(), examples.classes()), (3000, k));
        for config in configs(k).into_iter().filter(|c| c.mode == Mode::Softmax) {
            let fresh = sweep(&config, k, &logits, &labels);
            assert_same(&examples.sweep(&config), &fresh, 1e-13, &format!("K={k} {config:?}"));
        }
    }
    // The 60-digit references, extremes included, through kept examples.
    let mut worst = (0.0, String::new());
    for case in cases().iter().filter(|c| c.config.mode == Mode::Softmax) {
        let examples = kept(case.classes, &case.logits, &case.labels, 2);
        compare(case, &examples.sweep(&case.config), &mut worst);
    }
    assert!(worst.0 <= 1e-12, "{worst:?}");
}

#[test]
fn finishing_keeps_the_report_in_either_mode() {
    let (logits, labels) = dataset(700, 5, 29);
    let config = Config::default();
    let mut acc = Accumulator::new(&config, 5).keeping_examples();
    acc.add(&logits, &labels);
    let (report, examples) = acc.finish_keeping();
    assert_eq!(json(&report), json(&sweep(&config, 5, &logits, &labels)));
    assert_eq!(json(&examples.sweep(&config)), json(&report));
    // 45 bytes a row, as documented.
    assert!(examples.heap_bytes() >= 700 * 45 && examples.heap_bytes() < 2 * 700 * 45 + 4096);
    let mut plain = Accumulator::new(&config, 5);
    plain.add(&logits, &labels);
    assert!(plain.finish_keeping().1.is_empty());
    // Sigmoid keeps its own values, not softmax rows.
    let sigmoid = Config { mode: Mode::Sigmoid, ..Config::default() };
    let mut acc = Accumulator::new(&sigmoid, 5).keeping_examples();
    acc.add(&logits, &labels);
    let (report, examples) = acc.finish_keeping_sigmoid();
    assert_eq!(json(&report), json(&sweep(&sigmoid, 5, &logits, &labels)));
    assert_eq!(json(&examples.sweep(&sigmoid).0), json(&report));
    // 24 bytes a logit and 13 a row, as documented, and one block's filler.
    let bytes = 700 * (5 * SIGMOID_ELEMENT_BYTES + SIGMOID_ROW_BYTES) as usize;
    assert!(
        examples.heap_bytes() >= bytes && examples.heap_bytes() < 2 * bytes + 256 * 5 * 24,
        "{}",
        examples.heap_bytes()
    );
}

// ---------------------------------------------------------------------------
// kept sigmoid rows and the positives' / negatives' split
// ---------------------------------------------------------------------------

/// The rows' kept sigmoid values, read in `parts` accumulators merged in order.
fn kept_sigmoid(k: usize, logits: &[f64], labels: &[usize], parts: usize) -> SigmoidExamples {
    let config = Config { mode: Mode::Sigmoid, ..Config::default() };
    let rows = labels.len().div_ceil(parts).max(1);
    labels
        .chunks(rows)
        .zip(logits.chunks(rows * k))
        .map(|(t, z)| {
            let mut acc = Accumulator::new(&config, k).keeping_examples();
            // Uneven batches: blocks filled by several of them.
            for (t, z) in t.chunks(100).zip(z.chunks(100 * k)) {
                acc.add(z, t);
            }
            acc
        })
        .reduce(|mut a, b| {
            a.merge(b);
            a
        })
        .expect("rows")
        .finish_keeping_sigmoid()
        .1
}

#[test]
fn kept_sigmoid_rows_resweep_like_the_logits_at_any_gamma_and_alpha() {
    // K ≤ 16 class-major blocks, kept so; K = 40 and 100 class-major
    // batches (a block, eight rows), kept row-major.
    for k in [2, 10, 16, 40, 100] {
        let (logits, labels) = dataset(3000, k, 23);
        let examples = kept_sigmoid(k, &logits, &labels, 3);
        assert_eq!((examples.len(), examples.classes()), (3000, k));
        for config in configs(k) {
            let config = Config { mode: Mode::Sigmoid, ..config };
            let fresh = sweep(&config, k, &logits, &labels);
            assert_same(&examples.sweep(&config).0, &fresh, 1e-13, &format!("K={k} {config:?}"));
        }
    }
    // The 60-digit references, extremes included, through kept rows.
    let mut worst = (0.0, String::new());
    for case in cases().iter().filter(|c| c.config.mode == Mode::Sigmoid) {
        let examples = kept_sigmoid(case.classes, &case.logits, &case.labels, 2);
        compare(case, &examples.sweep(&case.config).0, &mut worst);
    }
    assert!(worst.0 <= 1e-12, "{worst:?}");
}

/// The kept per-γ sums (`SigmoidTerms`, what the dataset view re-sweeps an
/// α or γ-list edit with): the sweep of the logits to 1e-13 at any α and γ
/// list, the split the kept rows' own sweep gives to 1e-13, whether the γs
/// were computed now or kept from an earlier list (then bit for bit a fresh
/// computation's), a per-class α (its row losses from the kept logit
/// values, its shares from per-class totals) likewise; extremes (terms below
/// the normal range, huge ones) go the whole way, so equal the kept rows'
/// sweep bit for bit; and the 60-digit references through it.
#[test]
fn kept_sigmoid_sums_resweep_like_the_logits_at_any_alpha_and_gamma_list() {
    let lists: [&[f64]; 4] =
        [&[0.0, 0.5, 1.0, 2.0, 5.0], &[0.0, 0.5, 1.0, 2.0, 5.0, 3.0], &[2.0, 0.25, 7.3], &[5.0, 1.0]];
    for k in [2, 10, 16, 40, 100] {
        let (logits, labels) = dataset(3000, k, 29);
        let examples = kept_sigmoid(k, &logits, &labels, 3);
        let mut terms = SigmoidTerms::default();
        for (i, gammas) in lists.iter().enumerate() {
            // Scalar, and per class (the negatives' weights differ by class).
            let per_class = Alpha::PerClass((0..k).map(|c| (c + 1) as f64 / k as f64).collect());
            for alpha in [0.25, 0.0, 1.0, 0.7].map(Alpha::Scalar).into_iter().chain([per_class]) {
                let config = Config { gammas: gammas.to_vec(), alpha, mode: Mode::Sigmoid, bins: 7 };
                let what = format!("K={k} {config:?}");
                let (report, split) = terms.sweep(&examples, &config, &[]);
                assert_same(&report, &sweep(&config, k, &logits, &labels), 1e-13, &what);
                let (whole, whole_split) = examples.sweep(&config);
                assert_same(&report, &whole, 1e-13, &what);
                // The guidance: the gradient's shares (linear in the weights)
                // and the balancing α to 1e-13; a per-class α's row losses are
                // the sweep's bits, so its loss CDF is the same.
                for (x, y) in report.sweep.iter().zip(&whole.sweep) {
                    let shares = |r: &focal_tui::data::sweep::SweepRow| {
                        [
                            r.easy_gradient_share,
                            r.easy_gradient_share_positive.unwrap(),
                            r.easy_gradient_share_negative.unwrap(),
                        ]
                    };
                    let pairs = shares(x).into_iter().zip(shares(y));
                    for (a, b) in pairs.chain(x.balancing_alpha.iter().copied().zip(y.balancing_alpha.iter().copied()))
                    {
                        assert!((a - b).abs() <= 1e-13 * b.abs(), "{what}: γ = {}: {a} vs {b}", x.gamma);
                    }
                    if matches!(config.alpha, Alpha::PerClass(_)) {
                        assert_eq!(x.loss_cdf, y.loss_cdf, "{what}");
                    }
                }
                let shares = |s: &Shares| [s.positives, s.easy_positives, s.negatives, s.easy_negatives];
                for (a, b) in split
                    .focal
                    .iter()
                    .chain([&split.cross_entropy])
                    .zip(whole_split.focal.iter().chain([&whole_split.cross_entropy]))
                {
                    for (x, y) in shares(a).into_iter().zip(shares(b)) {
                        assert!((x - y).abs() <= 1e-13 * y + 1e-300, "{what}: {a:?} vs {b:?}");
                    }
                }
                // Reused γs give what fresh ones give.
                if i > 0 {
                    let fresh = SigmoidTerms::default().sweep(&examples, &config, &[]);
                    assert_eq!((&report, &split), (&fresh.0, &fresh.1), "{what}");
                }
            }
        }
    }
    for k in [3, 40] {
        let (mut logits, labels) = dataset(1500, k, 31);
        // BCE e^-720, below the normal range.
        logits[..4].copy_from_slice(&[720.0, -720.0, 0.0, -0.0]);
        let examples = kept_sigmoid(k, &logits, &labels, 2);
        let config = Config { gammas: vec![0.0, 2.0, 2.3], mode: Mode::Sigmoid, ..Config::default() };
        let (report, split) = SigmoidTerms::default().sweep(&examples, &config, &[]);
        assert_eq!((report, split), examples.sweep(&config), "K={k}: extremes go the whole way");
    }
    let mut worst = (0.0, String::new());
    for case in cases().iter().filter(|c| c.config.mode == Mode::Sigmoid) {
        let examples = kept_sigmoid(case.classes, &case.logits, &case.labels, 2);
        compare(case, &SigmoidTerms::default().sweep(&examples, &case.config, &[]).0, &mut worst);
    }
    assert!(worst.0 <= 1e-12, "{worst:?}");
}

/// The split against `sigmoid_focal`'s per-class terms (the single-example
/// core, which shares no code with the sweep), summed exactly: positives
/// the label's term, easy where z_t ≥ 0; negatives the others, easy where
/// z ≤ 0.
#[test]
fn the_split_sums_sigmoid_focals_positive_and_negative_terms() {
    for k in [3, 40] {
        let (mut logits, labels) = dataset(1500, k, 31);
        // Extremes: terms far below the normal range, and huge ones.
        logits[..4].copy_from_slice(&[800.0, -800.0, 0.0, -0.0]);
        let examples = kept_sigmoid(k, &logits, &labels, 2);
        for alpha in [Alpha::Scalar(0.25), Alpha::PerClass((0..k).map(|c| (c + 1) as f64 / (k + 1) as f64).collect())] {
            let config =
                Config { gammas: vec![0.0, 2.0, 2.3], mode: Mode::Sigmoid, alpha: alpha.clone(), ..Config::default() };
            let (report, split) = examples.sweep(&config);
            assert_eq!(split.focal.len(), 3);
            // γ = 0 with α = ½ is half the BCE in every term: the CE split.
            let cases = config.gammas.iter().map(|&g| (g, alpha.clone())).chain([(0.0, Alpha::Scalar(0.5))]);
            for (i, (gamma, alpha)) in cases.enumerate() {
                let mut parts: [Vec<f64>; 4] = Default::default();
                for (row, &t) in logits.chunks(k).zip(&labels) {
                    let f = sigmoid_focal(row, t, gamma, &alpha);
                    for (c, &x) in f.per_class_loss.iter().enumerate() {
                        let (all, easy) = if c == t { (0, row[c] >= 0.0) } else { (2, row[c] <= 0.0) };
                        parts[all].push(x);
                        if easy {
                            parts[all + 1].push(x);
                        }
                    }
                }
                let sums = parts.map(|p| exact_sum(&p));
                let total = sums[0] + sums[2];
                let want = sums.map(|s| s / total);
                let got = split.focal.get(i).unwrap_or(&split.cross_entropy);
                let got = [got.positives, got.easy_positives, got.negatives, got.easy_negatives];
                for (g, w) in got.iter().zip(want) {
                    assert!(
                        (g - w).abs() <= 1e-13 * w.max(1e-300) + 1e-300,
                        "K={k} γ={gamma} {alpha:?}: {got:?} vs {want:?}"
                    );
                }
                if i < 3 {
                    let mean = report.sweep[i].mean_focal_loss;
                    assert!((total / 1500.0 - mean).abs() <= 1e-12 * mean, "{total} vs {mean}");
                }
            }
        }
    }
}
