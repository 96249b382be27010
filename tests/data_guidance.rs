//! The sweep's guidance on α and γ (issue 18) against 60-digit mpmath
//! values (`tests/reference/gen_guidance.py` → `guidance_cases.json`): the
//! suggested α (1e-12 relative), the balancing α and the easy rows' share of
//! the gradient (1e-10), and the loss CDF (the exact sorted curve between
//! the reported envelopes) — on every path that sums them: the parallel
//! sweep, rows one at a time, class planes, per-class (one-hot) targets,
//! and the kept rows' re-sweeps (softmax and sigmoid).

mod common;
use common::{ref_alpha, ref_cases, ref_num, ref_nums};
use focal_tui::data::sweep::{Accumulator, CDF_POINTS, Config, PerRow, Report, sweep};
use focal_tui::loss::Mode;
use serde_json::Value;

fn cases() -> Vec<Value> {
    ref_cases(include_str!("reference/guidance_cases.json"))
}

struct Data {
    config: Config,
    k: usize,
    logits: Vec<f64>,
    labels: Vec<usize>,
}

fn data(case: &Value) -> Data {
    let k = case["classes"].as_u64().unwrap() as usize;
    let mode = if case["mode"] == "sigmoid" { Mode::Sigmoid } else { Mode::Softmax };
    let alpha = ref_alpha(&case["alpha"]);
    let gammas = ref_nums(&case["gammas"]);
    let (mut logits, mut labels) = (Vec::new(), Vec::new());
    for row in case["rows"].as_array().unwrap() {
        logits.extend(ref_nums(&row["logits"]));
        labels.push(row["label"].as_u64().unwrap() as usize);
    }
    Data { config: Config { gammas, alpha, mode, ..Config::default() }, k, logits, labels }
}

/// `got` within `tol` relative of `want` (absolute below 1e-290).
fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(got.is_finite(), "{what}: {got}");
    let err = (got - want).abs();
    assert!(err <= tol * want.abs() || err <= 1e-290, "{what}: {got:e} vs {want:e} (relative {:e})", err / want.abs());
}

fn compare(name: &str, case: &Value, r: &Report) {
    let e = &case["expect"];
    for (s, want) in r.alpha_suggestions.iter().zip(e["alpha_suggestions"].as_array().unwrap()) {
        assert_eq!(s.method, want["method"].as_str().unwrap(), "{name}");
        assert_eq!(s.beta, want.get("beta").map(ref_num), "{name}");
        for (c, (&got, w)) in s.alpha.iter().zip(ref_nums(&want["alpha"])).enumerate() {
            close(&format!("{name}: {} {:?} class {c}", s.method, s.beta), got, w, 1e-12);
        }
    }
    assert_eq!(r.alpha_suggestions.len(), e["alpha_suggestions"].as_array().unwrap().len(), "{name}");
    for (s, want) in r.sweep.iter().zip(e["sweep"].as_array().unwrap()) {
        let at = format!("{name} γ={}", s.gamma);
        for (c, (&got, w)) in s.balancing_alpha.iter().zip(ref_nums(&want["balancing_alpha"])).enumerate() {
            close(&format!("{at}: balancing α class {c}"), got, w, 1e-10);
        }
        close(
            &format!("{at}: easy gradient share"),
            s.easy_gradient_share,
            ref_num(&want["easy_gradient_share"]),
            1e-10,
        );
        for (got, key) in [
            (s.easy_gradient_share_positive, "easy_gradient_share_positive"),
            (s.easy_gradient_share_negative, "easy_gradient_share_negative"),
        ] {
            match want.get(key) {
                Some(w) => close(&format!("{at}: {key}"), got.expect("sigmoid shares"), ref_num(w), 1e-10),
                None => assert_eq!(got, None, "{at}: {key}"),
            }
        }
        let exact = ref_nums(&want["loss_cdf"]);
        let cdf = &s.loss_cdf;
        assert_eq!((cdf.loss.len(), cdf.loss_lower.len(), exact.len()), (CDF_POINTS, CDF_POINTS, CDF_POINTS));
        for (i, ((&hi, &lo), &x)) in cdf.loss.iter().zip(&cdf.loss_lower).zip(&exact).enumerate() {
            assert!(lo - 1e-12 <= x && x <= hi + 1e-12, "{at}: CDF at {i}%: {x} not in [{lo}, {hi}]");
            assert!(hi - lo <= cdf.max_gap + 1e-15, "{at}: CDF at {i}%");
        }
        // The bound is tight enough to say something: a bin spans 1/16.
        assert!(cdf.max_gap <= 1.0 / 16.0, "{at}: gap {}", cdf.max_gap);
    }
}

#[test]
fn guidance_matches_the_60_digit_reference_on_every_path() {
    let cases = cases();
    assert!(cases.len() >= 16);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let d = data(case);
        let (k, n) = (d.k, d.labels.len());
        compare(&format!("{name} sweep"), case, &sweep(&d.config, k, &d.logits, &d.labels));
        // Rows one at a time, and in uneven batches: the same block sums.
        let mut acc = Accumulator::new(&d.config, k);
        for (row, &t) in d.logits.chunks_exact(k).zip(&d.labels) {
            acc.add(row, &[t]);
        }
        compare(&format!("{name} rows one by one"), case, &acc.finish());
        // Class planes (positions every other one of a plane twice as long).
        if k <= 64 {
            let stride = 2 * n + 1;
            let mut planes = vec![0.0f64; k * stride];
            let positions: Vec<usize> = (0..n).map(|i| 2 * i + 1).collect();
            for (i, row) in d.logits.chunks_exact(k).enumerate() {
                for (c, &z) in row.iter().enumerate() {
                    planes[c * stride + positions[i]] = z;
                }
            }
            let mut acc = Accumulator::new(&d.config, k);
            acc.add_planes(&planes, stride, &positions, &d.labels);
            compare(&format!("{name} planes"), case, &acc.finish());
        }
        // One-hot targets (the per-class targets' path).
        let mut targets = vec![0.0; n * k];
        for (i, &t) in d.labels.iter().enumerate() {
            targets[i * k + t] = 1.0;
        }
        let mut acc = Accumulator::new(&d.config, k).with(PerRow { targets: true, ..PerRow::default() });
        acc.add_targets(&d.logits, &targets);
        compare(&format!("{name} one-hot targets"), case, &acc.finish());
        // The kept rows' re-sweep (the dataset view).
        let mut acc = Accumulator::new(&d.config, k).keeping_examples();
        acc.add(&d.logits, &d.labels);
        let resweep = match d.config.mode {
            Mode::Softmax => acc.finish_keeping().1.sweep(&d.config),
            Mode::Sigmoid => acc.finish_keeping_sigmoid().1.sweep(&d.config).0,
        };
        compare(&format!("{name} re-sweep"), case, &resweep);
    }
}

/// The reference's own checks can fail: a wrong α, a share taken at the
/// wrong easiness or a CDF read from the wrong end miss it.
#[test]
fn the_comparison_can_fail() {
    let case = &cases()[0];
    let d = data(case);
    let good = sweep(&d.config, d.k, &d.logits, &d.labels);
    let mut bad = good.clone();
    bad.sweep[2].balancing_alpha[0] *= 1.0 + 1e-9;
    assert!(std::panic::catch_unwind(|| compare("bad α", case, &bad)).is_err());
    let mut bad = good.clone();
    bad.sweep[1].easy_gradient_share = good.sweep[1].easy_share;
    assert!(std::panic::catch_unwind(|| compare("bad share", case, &bad)).is_err());
    let mut bad = good.clone();
    bad.sweep[3].loss_cdf.loss.reverse();
    assert!(std::panic::catch_unwind(|| compare("bad CDF", case, &bad)).is_err());
    let mut bad = good;
    bad.alpha_suggestions[2].alpha[1] *= 1.0 + 1e-11;
    assert!(std::panic::catch_unwind(|| compare("bad suggestion", case, &bad)).is_err());
}

/// Nothing NaN or infinite in the guidance, however extreme the rows
/// (saturated losses, one class, classes without rows).
#[test]
fn extreme_rows_give_finite_guidance() {
    for mode in [Mode::Softmax, Mode::Sigmoid] {
        let config = Config { mode, gammas: vec![0.0, 2.0, 50.0], ..Config::default() };
        let logits = [1.7e308, -1.7e308, 0.0, -1.7e308, 1.7e308, 0.0, 1e300, 0.0, -1e300, 0.0, 0.0, 0.0];
        for labels in [[0, 0, 2, 0], [1, 0, 2, 1], [0, 0, 0, 0]] {
            let r = sweep(&config, 3, &logits, &labels);
            let json = serde_json::to_string(&r).unwrap();
            assert!(!json.contains("null") && !json.contains("NaN") && !json.contains("inf"), "{json}");
            for s in &r.sweep {
                let values = s.balancing_alpha.iter().chain(&s.loss_cdf.loss).chain(&s.loss_cdf.loss_lower);
                assert!(values.chain([&s.easy_gradient_share]).all(|x| x.is_finite()), "{mode:?} {labels:?}: {s:?}");
            }
            for a in &r.alpha_suggestions {
                assert!(a.alpha.iter().all(|x| x.is_finite()), "{a:?}");
            }
        }
    }
}
