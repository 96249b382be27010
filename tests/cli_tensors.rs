//! `focal-tui data` on dumps as training code saves them (issue 17):
//! segmentation `[B, C, H, W]` with void pixels, detection `[B, A, K]`,
//! Fortran order, flat labels; against mpmath at 60 digits
//! (tests/reference/gen_tensors.py writes the dumps and the expected means).

mod common;

use std::process::Command;

use common::{BIN, DATA, json, refusal, run};
use serde_json::Value;

fn num(v: &Value) -> f64 {
    v.as_str().map_or_else(|| v.as_f64().unwrap(), |s| s.parse().unwrap())
}

fn close(what: &str, got: &Value, want: &Value) {
    let (g, w) = (num(got), num(want));
    assert!((g - w).abs() <= 1e-12 * w.abs(), "{what}: {g} against {w}");
}

#[test]
fn every_shape_and_option_matches_the_60_digit_reference() {
    let doc: Value = serde_json::from_str(include_str!("reference/tensors_cases.json")).unwrap();
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut args: Vec<&str> = vec!["data", "--json"];
        args.extend(case["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()));
        let v = json(&args);
        assert_eq!(v["rows"], case["rows"], "{name}");
        assert_eq!(v["ignored"], case["ignored"], "{name}");
        close(&format!("{name} accuracy"), &v["accuracy"], &case["accuracy"]);
        close(&format!("{name} mean CE"), &v["mean_cross_entropy"], &case["mean_cross_entropy"]);
        for (g, want) in case["mean_focal_loss"].as_array().unwrap().iter().enumerate() {
            close(&format!("{name} FL γ #{g}"), &v["sweep"][g]["mean_focal_loss"], want);
        }
    }
}

#[test]
fn the_text_report_counts_the_ignored_positions() {
    let out = run(&[
        "data",
        "--logits",
        "tensors/seg_logits.npy",
        "--labels",
        "tensors/seg_labels.npy",
        "--ignore-index",
        "255",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("softmax focal loss · 56 rows · 4 classes"), "{text}");
    assert!(text.contains("\nignored 4 positions (--ignore-index)\n"), "{text}");
}

#[test]
fn bad_shapes_and_labels_are_one_line_and_status_2() {
    let seg = ["data", "--logits", "tensors/seg_logits.npy", "--labels"];
    let cases: &[(&[&str], &str)] = &[
        (
            &["tensors/seg_labels.npy"],
            "focal-tui: tensors/seg_labels.npy: row 15: label 255 is out of range: 4 classes give labels 0..3 (if it marks positions to leave out, pass --ignore-index 255)",
        ),
        (
            &["tensors/seg_labels.npy", "--class-axis", "-5"],
            "focal-tui: tensors/seg_logits.npy: class axis -5 is out of range for logits of shape (2, 4, 5, 6): 4 axes allow -4..3",
        ),
        (
            &["tensors/seg_labels.npy", "--class-axis", "2"],
            "focal-tui: tensors/seg_labels.npy: labels of shape (2, 5, 6) do not match logits of shape (2, 4, 5, 6) with the class axis 2: expected (2, 4, 6) (or flat, (48,))",
        ),
        (
            &["tensors/seg_labels_fortran.npy", "--ignore-index", "255"],
            "focal-tui: tensors/seg_labels_fortran.npy: labels in Fortran order but the logits tensors/seg_logits.npy are in C order: save both the same way (np.ascontiguousarray)",
        ),
    ];
    for (rest, want) in cases {
        let args: Vec<&str> = seg.iter().chain(rest.iter()).copied().collect();
        assert_eq!(format!("focal-tui: {}", refusal(&run(&args), &args)), *want, "{args:?}");
    }
    // Standard input is read once, in order: class planes need a file.
    let piped = Command::new(BIN)
        .args(["data", "--logits", "-", "--labels", "tensors/seg_labels.npy", "--ignore-index", "255"])
        .current_dir(DATA)
        .stdin(std::fs::File::open(format!("{DATA}tensors/seg_logits.npy")).unwrap())
        .output()
        .unwrap();
    assert_eq!(piped.status.code(), Some(2));
    assert!(piped.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&piped.stderr),
        "focal-tui: standard input: logits of shape (2, 4, 5, 6) are read in strips of class planes, seeking, which a pipe cannot do: write them to a file\n"
    );
    let out = run(&["data", "--csv", "-", "--ignore-index", "255"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "focal-tui: standard input: --ignore-index applies to .npy arrays; this file is read as text\n"
    );
}
