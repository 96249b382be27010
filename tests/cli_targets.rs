//! `calc` with every target form: `--target none`, a class list,
//! `--target-probs`, `--label-smoothing`, `--alpha none`; their JSON keys and
//! every kind of bad input. Exact values: tests/reference_targets.rs.

use std::process::{Command, Output};

use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_focal-tui")).args(args).env("NO_COLOR", "1").output().expect("binary runs")
}

fn json(args: &[&str]) -> Value {
    let out = run(&[&["calc", "--json"], args].concat());
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("null") && !text.contains("NaN") && !text.contains("inf"), "{text}");
    serde_json::from_str(&text).expect("valid JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
}

#[test]
fn json_lists_the_targets_used_and_terms_that_sum_to_the_loss() {
    let cases: &[&[&str]] = &[
        &[],
        &["--sigmoid"],
        &["--sigmoid", "--target", "none", "--logits", "-4.6 -4.6 -4.6 -4.6"],
        &["--sigmoid", "--target", "0, 2", "--label-smoothing", "0.1"],
        &["--sigmoid", "--target-probs", "0.3 1 0", "--alpha", "none"],
        &["--target-probs", "0.2, 0.5, 0.3"],
        &["--target", "p: 0.2, 0.5, 0.3"],
        &["--target", "2", "--label-smoothing", "0.3", "--alpha", "0.5 1 2"],
        &["--logits", "0 800 -1000", "--target", "1", "--label-smoothing", "1e-10"],
    ];
    for args in cases {
        let v = json(args);
        let terms = floats(&v["per_class_loss"]);
        let targets = floats(&v["targets"]);
        assert_eq!(terms.len(), floats(&v["logits"]).len(), "{args:?}");
        assert_eq!(targets.len(), terms.len(), "{args:?}");
        let fl = v["focal_loss"].as_f64().unwrap();
        let sum: f64 = terms.iter().sum();
        assert!((sum - fl).abs() <= 1e-15 * fl.abs(), "{args:?}: terms sum to {sum}, FL {fl}");
        assert!(targets.iter().all(|y| (0.0..=1.0).contains(y)), "{args:?}");
    }
    // A class index: one-hot targets and the whole loss at the target.
    let v = json(&[]);
    assert_eq!(floats(&v["targets"]), [0.0, 1.0, 0.0]);
    assert_eq!(floats(&v["per_class_loss"]), [0.0, v["focal_loss"].as_f64().unwrap(), 0.0]);
    assert_eq!(v["target"], 1);
    // Smoothed (Keras): softmax q·(1 − ε) + ε/K, sigmoid y·(1 − ε) + ε/2.
    let v = json(&["--target", "1", "--label-smoothing", "0.3"]);
    assert_eq!(floats(&v["targets"]), [0.1, 0.7 + 0.1, 0.1]);
    let v = json(&["--sigmoid", "--target", "1", "--label-smoothing", "0.5"]);
    assert_eq!(floats(&v["targets"]), [0.25, 0.75, 0.25]);
    // Background: the headline is the class with the largest term.
    let v = json(&["--sigmoid", "--target", "none", "--logits", "-5 -2 -7"]);
    assert_eq!((v["target"].as_u64(), v["alpha_t"].as_f64()), (Some(1), Some(0.75)));
}

#[test]
fn alpha_none_and_minus_one_are_no_weighting() {
    for mode in [&[][..], &["--sigmoid"]] {
        let none = json(&[mode, &["--alpha", "none"]].concat());
        assert_eq!(
            none,
            json(&[mode, &["--alpha", "-1"]].concat())
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("alpha".into(), "none".into());
                    Value::Object(o)
                })
                .unwrap()
        );
        assert_eq!(none["alpha"], "none");
        assert_eq!(none["alpha_t"], 1.0);
    }
    // Softmax: no weighting is α = 1; sigmoid: negatives get 1, not 1 − α.
    let (none, one) = (json(&["--alpha", "none"]), json(&["--alpha", "1"]));
    assert_eq!(none["focal_loss"], one["focal_loss"]);
    let (none, one) = (json(&["--sigmoid", "--alpha", "none"]), json(&["--sigmoid", "--alpha", "1"]));
    assert!(none["focal_loss"].as_f64() > one["focal_loss"].as_f64());
}

#[test]
fn text_report_names_the_target_and_lists_targets_and_terms() {
    let out = run(&["calc", "--sigmoid", "--target", "0, 2", "--label-smoothing", "0.1"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("sigmoid focal loss · 3 classes · targets 0, 2, smoothed ε = 0.1 · γ = 2 · α = 0.25\n"));
    assert!(text.contains("  class  logit       σ(z)  target"), "{text}");
    let out = run(&["calc", "--sigmoid", "--target", "none"]);
    assert!(String::from_utf8(out.stdout).unwrap().contains("target none (background)"));
}

#[test]
fn bad_targets_are_one_line_and_status_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--target", "1, 3"],
            "--target: `1, 3` lists 2 classes: several positives are multi-label, sigmoid mode only (softmax: one class, or p: probabilities)",
        ),
        (
            &["--target", "none"],
            "--target: `none` (background) is for sigmoid mode: a softmax target is one class or p: probabilities",
        ),
        (
            &["--sigmoid", "--target", "1, 3"],
            "--target: `3` at column 4 is out of range: list distinct classes in 0..2",
        ),
        (
            &["--sigmoid", "--target", "1, 1"],
            "--target: `1` at column 4 is listed twice: list distinct classes in 0..2",
        ),
        (
            &["--sigmoid", "--target", "0, x"],
            "--target: `x` at column 4 is not a class index: list distinct classes in 0..2",
        ),
        (&["--target-probs", "0.2 0.5"], "--target-probs: 3 logits need 3 target probabilities, got 2"),
        (&["--target-probs", "0.2 1.5 0"], "--target-probs: `1.5` at column 5: a target probability is in [0, 1]"),
        (&["--target-probs", "0.2 -0.1 0.9"], "--target-probs: `-0.1` at column 5: a target probability is in [0, 1]"),
        (
            &["--target-probs", "0.2 0.5 0.4"],
            "--target-probs: target probabilities sum to 1.1: a softmax target is a distribution (sum 1 within 1e-6)",
        ),
        (&["--target-probs", "0.2 x 0.4"], "--target-probs: `x` at column 5 is not a number"),
        (
            &["--target", "p: 0.2 0.5 0.4"],
            "--target: target probabilities sum to 1.1: a softmax target is a distribution (sum 1 within 1e-6)",
        ),
        (&["--target", "p: 0.2 2 0"], "--target: `2` at column 8: a target probability is in [0, 1]"),
        (&["--label-smoothing", "1"], "--label-smoothing: ε = 1 is outside [0, 1): label smoothing is in [0, 1)"),
        (&["--label-smoothing", "-0.1"], "--label-smoothing: ε = -0.1 is outside [0, 1): label smoothing is in [0, 1)"),
        (&["--label-smoothing", "0.1 0.2"], "--label-smoothing: label smoothing is one number, got 2"),
        (
            &["--target", "1", "--target-probs", "0 1 0"],
            "the argument '--target <CLASS>' cannot be used with '--target-probs <LIST>'",
        ),
        (&["--alpha", "-1 0.5 0.5"], "--alpha: α = -1 is negative: α must be ≥ 0"),
    ];
    for (args, want) in cases {
        let args = [&["calc"], *args].concat();
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        assert_eq!(String::from_utf8(out.stderr).unwrap(), format!("focal-tui: {want}\n"), "{args:?}");
    }
    // Sigmoid targets need not sum to 1.
    assert_eq!(run(&["calc", "--sigmoid", "--target-probs", "1 1 0.5"]).status.code(), Some(0));
}
