//! The sigmoid loss CDFs of the positives and of the negatives (the paper's
//! Figure 4, issue 18) against 60-digit mpmath curves
//! (`tests/reference/gen_guidance.py` → `guidance_sides_cases.json`): the
//! exact sorted curve of each side between the reported envelopes, the
//! envelopes within their stated gap, and every path's points those of the
//! parallel sweep — rows one at a time, class planes, one-hot targets, the
//! kept rows' re-sweep and the kept per-γ sums (the dataset view); per-class
//! targets (background, multi-label, soft rows) in one accumulator and
//! merged.

mod common;
use common::{ref_alpha, ref_cases, ref_nums};
use focal_tui::data::sweep::{Accumulator, CDF_POINTS, Config, LossCdf, PerRow, Report, SigmoidTerms, SweepRow, sweep};
use focal_tui::loss::{Alpha, Mode};
use serde_json::Value;

fn cases() -> Vec<Value> {
    ref_cases(include_str!("reference/guidance_sides_cases.json"))
}

struct Data {
    config: Config,
    k: usize,
    logits: Vec<f64>,
    labels: Vec<usize>,
    /// Per-class targets, K a row (one-hot for class indices).
    targets: Vec<f64>,
}

fn data(case: &Value) -> Data {
    let k = case["classes"].as_u64().unwrap() as usize;
    let alpha = ref_alpha(&case["alpha"]);
    let config = Config { gammas: ref_nums(&case["gammas"]), alpha, mode: Mode::Sigmoid, ..Config::default() };
    let (mut logits, mut labels, mut targets) = (Vec::new(), Vec::new(), Vec::new());
    for row in case["rows"].as_array().unwrap() {
        logits.extend(ref_nums(&row["logits"]));
        match row.get("label") {
            Some(t) => {
                let t = t.as_u64().unwrap() as usize;
                labels.push(t);
                targets.extend((0..k).map(|c| if c == t { 1.0 } else { 0.0 }));
            }
            None => targets.extend(ref_nums(&row["targets"])),
        }
    }
    Data { config, k, logits, labels, targets }
}

/// The two sides of a sweep row.
fn sides(s: &SweepRow) -> [(&'static str, &LossCdf); 2] {
    let get = |c| Option::as_ref(c).expect("sigmoid: both sides");
    [("loss_cdf_positives", get(&s.loss_cdf_positives)), ("loss_cdf_negatives", get(&s.loss_cdf_negatives))]
}

/// Each side's exact curve within the envelopes, which are within their gap.
fn compare(name: &str, case: &Value, r: &Report) {
    let want = case["expect"]["sweep"].as_array().unwrap();
    assert_eq!(r.sweep.len(), want.len(), "{name}");
    for (s, want) in r.sweep.iter().zip(want) {
        for (key, cdf) in sides(s) {
            let at = format!("{name} γ={} {key}", s.gamma);
            let exact = ref_nums(&want[key]);
            assert_eq!((cdf.loss.len(), cdf.loss_lower.len(), exact.len()), (CDF_POINTS, CDF_POINTS, CDF_POINTS));
            for (i, ((&hi, &lo), &x)) in cdf.loss.iter().zip(&cdf.loss_lower).zip(&exact).enumerate() {
                assert!(lo - 1e-12 <= x && x <= hi + 1e-12, "{at}: CDF at {i}%: {x} not in [{lo}, {hi}]");
                assert!(lo <= hi && hi - lo <= cdf.max_gap + 1e-15, "{at}: CDF at {i}%");
            }
            assert!(cdf.max_gap <= 1.0 / 16.0, "{at}: gap {}", cdf.max_gap);
        }
    }
}

/// Every point of both sides (both envelopes) within 1e-12 of `base`'s.
fn agree(name: &str, r: &Report, base: &Report) {
    for (s, b) in r.sweep.iter().zip(&base.sweep) {
        for ((key, x), (_, y)) in sides(s).into_iter().zip(sides(b)) {
            let pairs = x.loss.iter().zip(&y.loss).chain(x.loss_lower.iter().zip(&y.loss_lower));
            for (i, (p, q)) in pairs.enumerate() {
                assert!((p - q).abs() <= 1e-12, "{name} γ={} {key} point {i}: {p} vs {q}", s.gamma);
            }
        }
    }
}

/// The reports of every path that sweeps `d`'s rows, named.
fn paths(d: &Data) -> Vec<(String, Report)> {
    let (k, n) = (d.k, d.targets.len() / d.k);
    let with_targets = || Accumulator::new(&d.config, k).with(PerRow { targets: true, ..PerRow::default() });
    if d.labels.is_empty() {
        // Per-class targets: one accumulator, and rows split in two merged.
        let mut one = with_targets();
        one.add_targets(&d.logits, &d.targets);
        let half = n / 3 * k;
        let (mut a, mut b) = (with_targets(), with_targets());
        a.add_targets(&d.logits[..half], &d.targets[..half]);
        b.add_targets(&d.logits[half..], &d.targets[half..]);
        a.merge(b);
        return vec![("targets".into(), one.finish()), ("targets merged".into(), a.finish())];
    }
    let mut out = vec![("sweep".to_string(), sweep(&d.config, k, &d.logits, &d.labels))];
    let mut acc = Accumulator::new(&d.config, k);
    for (row, &t) in d.logits.chunks_exact(k).zip(&d.labels) {
        acc.add(row, &[t]);
    }
    out.push(("rows one by one".into(), acc.finish()));
    // Class planes (positions every other one of a plane twice as long).
    let stride = 2 * n + 1;
    let mut planes = vec![0.0f64; k * stride];
    for (i, row) in d.logits.chunks_exact(k).enumerate() {
        for (c, &z) in row.iter().enumerate() {
            planes[c * stride + 2 * i + 1] = z;
        }
    }
    let positions: Vec<usize> = (0..n).map(|i| 2 * i + 1).collect();
    let mut acc = Accumulator::new(&d.config, k);
    acc.add_planes(&planes, stride, &positions, &d.labels);
    out.push(("planes".into(), acc.finish()));
    let mut acc = with_targets();
    acc.add_targets(&d.logits, &d.targets);
    out.push(("one-hot targets".into(), acc.finish()));
    // The dataset view: the kept rows' re-sweep, and the kept per-γ sums.
    let mut acc = Accumulator::new(&d.config, k).keeping_examples();
    acc.add(&d.logits, &d.labels);
    let kept = acc.finish_keeping_sigmoid().1;
    out.push(("re-sweep".into(), kept.sweep(&d.config).0));
    let mut terms = SigmoidTerms::default();
    out.push(("kept sums".into(), terms.sweep(&kept, &d.config, &[]).0));
    // An α edit from the kept sums (no pass over the logits): one side's
    // curve is the same at any scalar α.
    if let Alpha::Scalar(_) = d.config.alpha {
        let other = Config { alpha: Alpha::Scalar(0.6), ..d.config.clone() };
        terms.sweep(&kept, &other, &[]);
        out.push(("kept sums after an α edit".into(), terms.sweep(&kept, &d.config, &[]).0));
    }
    out
}

#[test]
fn each_sides_loss_cdf_matches_the_60_digit_reference_on_every_path() {
    let cases = cases();
    assert!(cases.len() >= 7);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let d = data(case);
        let paths = paths(&d);
        for (path, r) in &paths {
            compare(&format!("{name} {path}"), case, r);
            agree(&format!("{name} {path}"), r, &paths[0].1);
        }
    }
}

/// Rows of one class have no negative; softmax has no sides.
#[test]
fn one_class_has_no_negatives_and_softmax_no_sides() {
    let d = data(&cases().into_iter().find(|c| c["name"] == "sigmoid-one-class").expect("the case"));
    let r = sweep(&d.config, 1, &d.logits, &d.labels);
    for s in &r.sweep {
        let [(_, pos), (_, neg)] = sides(s);
        assert!(neg.loss.iter().chain(&neg.loss_lower).all(|&x| x == 0.0) && neg.max_gap == 0.0, "{neg:?}");
        assert_eq!(pos.loss[CDF_POINTS - 1], 1.0);
    }
    let softmax = Config { mode: Mode::Softmax, ..d.config };
    let r = sweep(&softmax, 1, &d.logits, &d.labels);
    assert!(r.sweep.iter().all(|s| s.loss_cdf_positives.is_none() && s.loss_cdf_negatives.is_none()));
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("loss_cdf_positives") && !json.contains("loss_cdf_negatives"));
}

/// The checks can fail: the sides swapped, the all-rows curve taken for a
/// side, a curve read from the wrong end, points off by 1e-11, or the
/// background rows counted as positives of loss 0.
#[test]
fn the_comparison_can_fail() {
    let all = cases();
    let case = &all[0];
    let d = data(case);
    let good = sweep(&d.config, d.k, &d.logits, &d.labels);
    compare("good", case, &good);
    let fails = |what: &str, bad: &Report| {
        let caught = std::panic::catch_unwind(|| {
            compare(what, case, bad);
            agree(what, bad, &good);
        });
        assert!(caught.is_err(), "{what} passed");
    };
    let mut bad = good.clone();
    let row = &mut bad.sweep[1];
    std::mem::swap(&mut row.loss_cdf_positives, &mut row.loss_cdf_negatives);
    fails("swapped", &bad);
    let mut bad = good.clone();
    bad.sweep[2].loss_cdf_negatives = Some(bad.sweep[2].loss_cdf.clone());
    fails("all rows", &bad);
    let mut bad = good.clone();
    bad.sweep[0].loss_cdf_negatives.as_mut().unwrap().loss.reverse();
    fails("reversed", &bad);
    let mut bad = good.clone();
    bad.sweep[2].loss_cdf_positives.as_mut().unwrap().loss_lower[40] += 1e-11;
    fails("a point off", &bad);
    // Background rows as positive samples of loss 0: the positives' curve
    // starts later.
    let case = all.iter().find(|c| c["name"] == "targets-background-multilabel-soft").expect("the case");
    let d = data(case);
    let mut targets = d.targets.clone();
    for row in targets.chunks_exact_mut(d.k) {
        if row.iter().all(|&y| y == 0.0) {
            row[0] = 0.5;
        }
    }
    let mut acc = Accumulator::new(&d.config, d.k).with(PerRow { targets: true, ..PerRow::default() });
    acc.add_targets(&d.logits, &targets);
    let bad = acc.finish();
    assert!(std::panic::catch_unwind(|| compare("background as positives", case, &bad)).is_err());
}
