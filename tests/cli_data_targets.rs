//! `focal-tui data` with per-class targets (labels shaped like the logits),
//! `--background`, `--probs` and `--alpha none` (issue 17): against mpmath at
//! 60 digits and torchvision in float64 (tests/reference/gen_data_targets.py
//! writes the dumps under tests/data/targets/ and the expected values), every
//! bad input one line with status 2.

mod common;

use std::path::Path;

use common::{json, npy_file, refusal, run, scratch_file};
use serde_json::Value;

fn num(v: &Value) -> f64 {
    v.as_str().map_or_else(|| v.as_f64().unwrap(), |s| s.parse().unwrap())
}

fn close(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!((got - want).abs() <= tolerance * want.abs(), "{what}: {got} against {want}");
}

fn cases() -> Vec<Value> {
    let doc: Value = serde_json::from_str(include_str!("reference/data_targets_cases.json")).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn case_args(case: &Value) -> Vec<&str> {
    case["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect()
}

/// A float64 `.npy` of `rows` × `cols` (or `[rows]` when `cols` is 0) in the scratch folder.
fn f8(name: &str, rows: usize, cols: usize, values: &[f64]) -> String {
    let shape = if cols == 0 { format!("({rows},)") } else { format!("({rows}, {cols})") };
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    path(&scratch_file("cli_data_targets", name, &npy_file("<f8", false, &shape, &bytes)))
}

/// An int64 `.npy` of labels in the scratch folder.
fn i8_labels(name: &str, values: &[i64]) -> String {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let shape = format!("({},)", values.len());
    path(&scratch_file("cli_data_targets", name, &npy_file("<i8", false, &shape, &bytes)))
}

fn path(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

#[test]
fn every_target_form_matches_the_60_digit_reference() {
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let mut args = vec!["data", "--json"];
        args.extend(case_args(&case));
        let v = json(&args);
        assert_eq!(v["rows"], case["rows"], "{name}");
        match case["background"].as_u64() {
            Some(n) => assert_eq!(v["background"]["count"], n, "{name}"),
            None => assert!(v.get("background").is_none(), "{name}: {}", v["background"]),
        }
        assert_eq!(v["ignored"], case.get("ignored").cloned().unwrap_or(Value::from(0)), "{name}");
        for key in ["accuracy", "easy_fraction", "mean_cross_entropy"] {
            close(&format!("{name} {key}"), num(&v[key]), num(&case[key]), 1e-12);
        }
        for (g, want) in case["mean_focal_loss"].as_array().unwrap().iter().enumerate() {
            close(&format!("{name} FL γ #{g}"), num(&v["sweep"][g]["mean_focal_loss"]), num(want), 1e-12);
        }
        let counts: Vec<u64> =
            v["per_class"].as_array().unwrap().iter().map(|c| c["count"].as_u64().unwrap()).collect();
        let want: Vec<u64> = case["per_class_counts"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
        assert_eq!(counts, want, "{name}");
    }
}

#[test]
fn a_multi_label_batch_reduces_as_torchvision_does() {
    for case in cases().iter().filter(|c| c.get("torchvision_mean").is_some()) {
        let mut args = vec!["data", "--json", "--profile", "torchvision", "--gammas", "0, 0.5, 1, 2, 5"];
        args.extend(case_args(case));
        let v = json(&args);
        let rows = num(&v["rows"]);
        for g in 0..5 {
            let what = format!("{} γ #{g}", case["name"]);
            close(&format!("{what} mean"), num(&v["library_loss"][g]), num(&case["torchvision_mean"][g]), 1e-12);
            let sum = num(&v["sweep"][g]["mean_focal_loss"]) * rows;
            close(&format!("{what} sum"), sum, num(&case["torchvision_sum"][g]), 1e-12);
        }
    }
}

/// One-hot targets are the class index: every number within 1e-14, the
/// counts and histograms the same.
#[test]
fn one_hot_targets_give_the_class_index_report() {
    let (n, k) = (300, 7);
    let mut rng = common::XorShift(0x005e_ed17);
    let z: Vec<f64> = (0..n * k).map(|_| (rng.unit() - 0.5) * 16.0).collect();
    let t: Vec<i64> = (0..n).map(|_| (rng.unit() * k as f64) as i64).collect();
    let one_hot: Vec<f64> = t.iter().flat_map(|&t| (0..k).map(move |c| f64::from(u8::from(c as i64 == t)))).collect();
    let (zf, tf, yf) = (f8("oh_z.npy", n, k, &z), i8_labels("oh_t.npy", &t), f8("oh_y.npy", n, k, &one_hot));
    for mode in
        [&[][..], &["--sigmoid"], &["--sigmoid", "--alpha", "none"], &["--alpha", "0.1 0.2 0.3 0.4 0.5 0.6 0.7"]]
    {
        let base: Vec<&str> = ["data", "--json", "--logits", &zf].into_iter().chain(mode.iter().copied()).collect();
        let labels = json(&[&base[..], &["--labels", &tf]].concat());
        let targets = json(&[&base[..], &["--labels", &yf]].concat());
        for key in ["rows", "accuracy", "easy_fraction", "histogram"] {
            assert_eq!(labels[key], targets[key], "{mode:?} {key}");
        }
        close(&format!("{mode:?} CE"), num(&targets["mean_cross_entropy"]), num(&labels["mean_cross_entropy"]), 1e-14);
        for (a, b) in labels["sweep"].as_array().unwrap().iter().zip(targets["sweep"].as_array().unwrap()) {
            for key in ["mean_focal_loss", "easy_share", "top_share_90"] {
                close(&format!("{mode:?} {key}"), num(&b[key]), num(&a[key]), 1e-14);
            }
        }
        for (a, b) in labels["per_class"].as_array().unwrap().iter().zip(targets["per_class"].as_array().unwrap()) {
            assert_eq!(a["count"], b["count"], "{mode:?}");
            assert_eq!(a["accuracy"], b["accuracy"], "{mode:?}");
        }
        // Sigmoid rows of targets have a background group, empty here.
        let sigmoid = mode.contains(&"--sigmoid");
        assert_eq!(targets.get("background").map(|b| b["count"].clone()), sigmoid.then(|| Value::from(0)));
    }
}

#[test]
fn the_text_report_has_a_background_line_and_row() {
    let out = run(&[
        "data",
        "--logits",
        "targets/det_logits.npy",
        "--labels",
        "targets/det_labels.npy",
        "--class-axis",
        "-1",
        "--background",
        "5",
        "--sigmoid",
        "--alpha",
        "none",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("sigmoid focal loss · 24 rows · 5 classes · α = none\n"), "{text}");
    assert!(text.contains("\nbackground 4 rows: no positive target, every class a negative\n"), "{text}");
    let row: Vec<&str> =
        text.lines().rfind(|l| l.trim_start().starts_with("background ")).unwrap().split_whitespace().collect();
    assert_eq!(row[..4], ["background", "4", "100%", "0.92595"], "{text}");
}

#[test]
fn probabilities_of_zero_are_exact_and_an_infinite_loss_is_refused_or_skipped() {
    // Softmax: the target at probability 0 is an infinite loss; a non-target 0 contributes 0.
    let p = f8("p0.npy", 3, 3, &[0.0, 0.5, 0.5, 0.0, 0.25, 0.75, 1.0, 0.0, 0.0]);
    let y = i8_labels("p0_labels.npy", &[1, 0, 0]);
    let out = run(&["data", "--logits", &p, "--labels", &y, "--probs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "focal-tui: {p}: row 2: class 0 has target 1 at probability 0: an infinite loss (--skip-invalid leaves such rows out)\n"
        )
    );
    let v = json(&["data", "--json", "--logits", &p, "--labels", &y, "--probs", "--skip-invalid", "--gammas", "0, 2"]);
    assert_eq!(v["rows"], 2);
    assert_eq!(v["skipped"], serde_json::json!([{"reason": "infinite loss", "rows": 1}]));
    // Rows 1 and 3: CE = ln 2 and 0; FL at γ = 2: 0.25 · 0.25 · ln 2.
    let ln2 = std::f64::consts::LN_2;
    close("CE", num(&v["mean_cross_entropy"]), ln2 / 2.0, 1e-15);
    close("FL", num(&v["sweep"][1]["mean_focal_loss"]), 0.25 * 0.25 * ln2 / 2.0, 1e-15);
    // Sigmoid: a negative at probability 1 is infinite too.
    let p = f8("s1.npy", 1, 2, &[0.5, 1.0]);
    let out = run(&["data", "--logits", &p, "--labels", &i8_labels("s1_labels.npy", &[0]), "--probs", "--sigmoid"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "focal-tui: {p}: row 1: class 1 has target 0 at probability 1: an infinite loss (--skip-invalid leaves such rows out)\n"
        )
    );
}

#[test]
fn the_profiles_without_alpha_run_in_sigmoid_mode() {
    // MONAI's and Keras' sigmoid forms weigh nothing by default: --alpha none.
    let args =
        ["data", "--json", "--logits", "targets/ml_logits.npy", "--labels", "targets/ml_targets.npy", "--sigmoid"];
    let none = json(&[&args[..], &["--alpha", "none", "--gammas", "2"]].concat());
    for profile in ["monai", "keras"] {
        let v = json(&[&args[..], &["--profile", profile, "--gammas", "2"]].concat());
        assert_eq!(v["sweep"][0]["mean_focal_loss"], none["sweep"][0]["mean_focal_loss"], "{profile}");
    }
}

#[test]
fn bad_targets_probabilities_and_flags_are_one_line_and_status_2() {
    let soft_bad = f8("soft_bad.npy", 2, 3, &[0.0, 1.0, 0.5, 0.25, 1.5, 0.0]);
    let z23 = f8("z23.npy", 2, 3, &[1.0, 2.0, 3.0, -1.0, 0.0, 1.0]);
    let not_summing = f8("p_sum.npy", 2, 3, &[0.5, 0.25, 0.25, 0.5, 0.25, 0.5]);
    let labels2 = i8_labels("labels2.npy", &[0, 1]);
    let labels40 = i8_labels("labels40.npy", &[0; 40]);
    let ml = ["--logits", "targets/ml_logits.npy", "--labels", "targets/ml_targets.npy"];
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--logits", &z23, "--labels", &soft_bad, "--sigmoid"],
            format!("{soft_bad}: row 2: the target of class 1 is 1.5, outside [0, 1]"),
        ),
        (
            ml.to_vec(),
            "targets/ml_targets.npy: row 1: the targets sum to 0, not 1 (within 1e-6): softmax takes a distribution per row (--sigmoid for multi-label targets)".into(),
        ),
        (
            vec!["--logits", "targets/ml_logits.npy", "--labels", "targets/ml_targets.npy", "--probs", "--sigmoid"],
            "targets/ml_logits.npy: row 1: the probability of class 0 is -2.9972968101501465, outside [0, 1] (--probs)".into(),
        ),
        (
            vec!["--logits", &not_summing, "--labels", &labels2, "--probs"],
            format!("{not_summing}: row 2: the probabilities sum to 1.25, not 1 (within 1e-6): softmax --probs takes each row's softmax (--sigmoid for per-class probabilities)"),
        ),
        (
            vec!["--logits", "targets/det_logits.npy", "--labels", "targets/det_labels.npy", "--class-axis", "-1", "--background", "5"],
            "--background 5 needs --sigmoid: a background row has no positive class, which softmax cannot express".into(),
        ),
        (
            vec!["--logits", "targets/det_logits.npy", "--labels", "targets/det_labels.npy", "--class-axis", "-1", "--sigmoid"],
            "targets/det_labels.npy: row 3: label 5 is out of range: 5 classes give labels 0..4".into(),
        ),
        (
            [&ml[..], &["--sigmoid", "--ignore-index", "1"]].concat(),
            "targets/ml_targets.npy: --ignore-index applies to class-index labels; these are per-class targets (shaped like the logits)".into(),
        ),
        (
            [&ml[..], &["--sigmoid", "--background", "6"]].concat(),
            "targets/ml_targets.npy: --background applies to class-index labels; with per-class targets a background row is all zeros".into(),
        ),
        (
            [&ml[..], &["--logits", "targets/ml_logits.npy", "--labels", &labels40, "--sigmoid"]].concat(),
            "targets/ml_logits.npy: has one label a row but targets/ml_logits.npy has per-class targets: every shard must have the same kind of labels".into(),
        ),
        (
            vec!["--logits", "targets/soft_logits.npy", "--labels", "targets/soft_targets.npy", "--sigmoid", "--profile", "monai", "--alpha", "0.25"],
            "targets/soft_targets.npy: row 1: the target of class 2 is 0.5: the profile takes 0/1 labels (it weighs a soft label its own way)".into(),
        ),
    ];
    for (rest, want) in cases {
        let args: Vec<&str> = ["data"].into_iter().chain(rest.iter().copied()).collect();
        assert_eq!(refusal(&run(&args), &args), want, "{args:?}");
    }
}

/// A text file in the scratch folder.
fn text(name: &str, content: &str) -> String {
    path(&scratch_file("cli_data_targets", name, content.as_bytes()))
}

/// Text takes the `.npy` path's checks and messages, at the line of the
/// file at fault (a header line counts).
#[test]
fn bad_text_targets_and_probabilities_are_one_line_and_status_2() {
    let z = text("z.txt", "1 2 3\n-1 0 1\n");
    let soft_bad = text("soft_bad.txt", "# targets\n0 1 0.5\n0.25 1.5 0\n");
    let short = text("short.csv", "0,1,0.5\n1\n");
    let not_summing = text("p_sum.csv", "0.5,0.25,0.25\n0.5,0.25,0.5\n");
    let labels = text("labels.txt", "0\n1\n");
    let p_range = text("p_range.csv", "label,a,b\n1,0.5,1.5\n");
    let p0 = text("p0.csv", "1,0.25,0.75,0\n0,0,0.5,0.5\n");
    let background = text("bg.csv", "5,1,2,3,4,5\n7,1,2,3,4,5\n");
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--logits", &z, "--labels", &soft_bad, "--sigmoid"],
            format!("{soft_bad}: row 3: the target of class 1 is 1.5, outside [0, 1]"),
        ),
        (
            vec!["--logits", &z, "--labels", &soft_bad],
            format!(
                "{soft_bad}: row 2: the targets sum to 1.5, not 1 (within 1e-6): softmax takes a distribution per row (--sigmoid for multi-label targets)"
            ),
        ),
        (
            vec!["--logits", &z, "--labels", &short, "--sigmoid"],
            format!("{short}: row 2: has 1 value, expected 3 targets (one per class) as in row 1"),
        ),
        (
            vec!["--logits", &not_summing, "--labels", &labels, "--probs"],
            format!(
                "{not_summing}: row 2: the probabilities sum to 1.25, not 1 (within 1e-6): softmax --probs takes each row's softmax (--sigmoid for per-class probabilities)"
            ),
        ),
        (
            vec!["--csv", &p_range, "--probs", "--sigmoid"],
            format!("{p_range}: row 2: the probability of class 1 is 1.5, outside [0, 1] (--probs)"),
        ),
        (
            vec!["--csv", &p0, "--probs"],
            format!(
                "{p0}: row 2: class 0 has target 1 at probability 0: an infinite loss (--skip-invalid leaves such rows out)"
            ),
        ),
        (
            vec!["--csv", &background, "--background", "5"],
            "--background 5 needs --sigmoid: a background row has no positive class, which softmax cannot express"
                .into(),
        ),
        (
            vec!["--csv", &background, "--background", "5", "--sigmoid"],
            format!("{background}: row 2: label 7 is out of range: 5 classes give labels 0..4"),
        ),
        (
            vec![
                "--logits",
                &z,
                "--labels",
                &soft_bad,
                "--sigmoid",
                "--logits",
                "targets/ml_logits.npy",
                "--labels",
                "targets/ml_targets.npy",
            ],
            format!("targets/ml_logits.npy: has 6 classes but {z} has 3: every shard must have the same K"),
        ),
        (
            vec!["--logits", &z, "--labels", &labels, "--sigmoid", "--logits", &z, "--labels", &soft_bad],
            format!(
                "{z}: has per-class targets but {z} has one label a row: every shard must have the same kind of labels"
            ),
        ),
    ];
    for (rest, want) in cases {
        let args: Vec<&str> = ["data"].into_iter().chain(rest.iter().copied()).collect();
        assert_eq!(refusal(&run(&args), &args), want, "{args:?}");
    }
    // --skip-invalid leaves the row of an infinite loss out and counts it.
    let v = json(&["data", "--json", "--csv", &p0, "--probs", "--skip-invalid", "--gammas", "0"]);
    assert_eq!(v["rows"], 1);
    assert_eq!(v["skipped"], serde_json::json!([{"reason": "infinite loss", "rows": 1}]));
    close("CE", num(&v["mean_cross_entropy"]), -0.75f64.ln(), 1e-15);
}

#[test]
fn the_dataset_view_refuses_per_class_targets_with_a_message() {
    let args = focal_tui::cli::DataArgs {
        logits: vec!["tests/data/targets/ml_logits.npy".into()],
        labels: vec!["tests/data/targets/ml_targets.npy".into()],
        ..Default::default()
    };
    let e = focal_tui::data::run::load(&args).err().expect("refused");
    assert!(e.starts_with("the dataset view reads logits with one class index a row"), "{e}");
    // α off in softmax is α = 1: the view takes it.
    let args = focal_tui::cli::DataArgs {
        logits: vec!["tests/data/targets/class_logits.npy".into()],
        labels: vec!["tests/data/targets/class_labels.npy".into()],
        alpha: Some("none".into()),
        ..Default::default()
    };
    assert_eq!(focal_tui::data::run::load(&args).expect("α off in softmax").examples.len(), 30);
}
