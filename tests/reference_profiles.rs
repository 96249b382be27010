//! The library profiles against the libraries themselves
//! (`tests/reference/gen_profiles.py` → `profiles_cases.json`): each single
//! example's value and gradient, and each batch's value and gradient with
//! every reduction the library offers, computed from the exact core through
//! the profile's knobs. Within each library's own accuracy: float64 1e-9;
//! MONAI computes in float32 (1e-4); Keras' binary loss puts its epsilon
//! inside the log (1e-6, away from the extremes as the generator keeps it);
//! mmdet's "÷ positives" adds float32's epsilon to the divisor (1e-6).
//! Cases a profile refuses (soft labels for kornia's and MONAI's binary
//! losses, which weigh them their own way) must be refused, not computed.

use focal_tui::loss::profile::{BatchReduction, Profile, find};
use focal_tui::loss::{Alpha, Mode, Params, Target};
use serde_json::Value;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

/// One row's target as the core takes it: the label where the case has
/// labels (None: background), else 0/1 labels as a class list, else probabilities.
fn target(case: &Value, row: usize, y: &[f64]) -> Target {
    if let Some(labels) = case.get("labels") {
        return match labels[row].as_u64() {
            Some(t) => Target::Class(t as usize),
            None => Target::Background,
        };
    }
    if y.iter().all(|&v| v == 0.0 || v == 1.0) {
        return Target::Classes((0..y.len()).filter(|&i| y[i] == 1.0).collect());
    }
    Target::Probs(y.to_vec())
}

fn row_params(case: &Value, row: usize, mode: Mode) -> Params {
    let y = floats(&case["y"][row]);
    Params {
        logits: floats(&case["logits"][row]),
        target: target(case, row, &y),
        label_smoothing: 0.0,
        gamma: case["gamma"].as_f64().unwrap(),
        alpha: case["alpha"].as_f64().map(Alpha::Scalar),
        mode,
    }
}

/// The library's accuracy for this case.
/// The library's accuracy for this case: relative, and an absolute floor.
fn tolerance(case: &Value) -> (f64, f64) {
    let rel = match (
        case["profile"].as_str().unwrap(),
        case["mode"].as_str().unwrap(),
        case["reduction"].as_str().unwrap(),
    ) {
        ("monai", _, _) => 1e-4,
        ("keras", "sigmoid", _) => 1e-6,
        ("mmdet", _, "positives") => 1e-6,
        _ => 1e-9,
    };
    // MONAI's float32 forms 1 − p and z − ln σ(z) by subtraction.
    (rel, if case["profile"] == "monai" { 1e-9 } else { 0.0 })
}

/// Keras clips its softmax to [1e-7, 1 − 1e-7]: compared away from there.
fn clipped(case: &Value, focal: &focal_tui::loss::Focal) -> bool {
    case["profile"] == "keras"
        && case["mode"] == "softmax"
        && focal.probabilities.iter().any(|&p| !(1e-6..=1.0 - 1e-6).contains(&p))
}

/// A reduction the generator asked the library for, as a knob.
fn reduction(profile: &Profile, name: &str) -> Option<BatchReduction> {
    Some(match (profile.name, profile.mode, name) {
        // Their default reduction is `none`: the map, summed.
        ("torchvision" | "kornia", _, "default") => BatchReduction::Sum,
        (_, _, "default") => profile.batch,
        // A `none` map is summed, as the generator does.
        (_, _, "none") => BatchReduction::Sum,
        (_, _, "positives") => BatchReduction::Positives,
        // Keras' `sum` adds each row's value, and a binary row is a class mean.
        ("keras", Mode::Sigmoid, "sum") => BatchReduction::SumOfRowMeans,
        // MONAI's `sum` first averages over the spatial dimensions, and for
        // [N, K] (none) torch's mean over an empty list is over every element.
        ("monai", _, "sum") => BatchReduction::Elements,
        (_, _, "sum") => BatchReduction::Sum,
        (_, _, "mean") => BatchReduction::Elements,
        _ => return None,
    })
}

/// Within `tol` of the larger of `want` and `scale`, or `floor` absolute.
fn close(got: f64, want: f64, tol: f64, scale: f64, floor: f64) -> bool {
    (got - want).abs() <= (tol * want.abs().max(scale)).max(floor) + 1e-300
}

#[test]
fn profiles_match_the_libraries() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/profiles_cases.json"))
        .expect("the reference file");
    let doc: Value = serde_json::from_str(&text).unwrap();
    let (mut checked, mut refused, mut clipped_cases) = (0, 0, 0);
    for case in doc["cases"].as_array().unwrap() {
        let mode = if case["mode"] == "softmax" { Mode::Softmax } else { Mode::Sigmoid };
        let (profile, implied) = find(case["profile"].as_str().unwrap(), mode).unwrap();
        assert!(!implied && profile.mode == mode, "{case}");
        let rows = case["logits"].as_array().unwrap().len();
        let (tol, floor) = tolerance(case);
        let mut total = 0.0;
        let mut grads = Vec::new();
        let mut positives = 0u64;
        let mut refusal = None;
        for row in 0..rows {
            let p = row_params(case, row, mode);
            positives += floats(&case["y"][row]).iter().filter(|&&y| y == 1.0).count() as u64;
            match profile.compute(&p) {
                Ok((focal, _)) if clipped(case, &focal) => refusal = Some(String::new()),
                Ok((focal, value)) => {
                    total += focal.focal_loss;
                    grads.push((focal.gradient, value));
                }
                Err(e) => refusal = Some(e),
            }
        }
        match refusal.as_deref() {
            Some("") => {
                clipped_cases += 1;
                continue;
            }
            // Only soft sigmoid labels are refused among the libraries' own cases.
            Some(e) => {
                assert!(e.contains("0/1 labels"), "{e}: {case}");
                refused += 1;
                continue;
            }
            None => {}
        }
        let k = grads[0].0.len();
        let (want, want_grad) = (case["value"].as_f64().unwrap(), &case["grad"]);
        let (got, divisor) = if case["reduction"] == "default" && rows == 1 {
            (grads[0].1.loss, profile.classes.divisor(k))
        } else {
            let red = reduction(profile, case["reduction"].as_str().unwrap()).expect("a known reduction");
            let d = red.divisor(rows as u64, k, positives).unwrap();
            (total / d, d)
        };
        assert!(close(got, want, tol, 0.0, floor), "{got} ≠ {want} (tolerance {tol}): {case}");
        let scale = grads.iter().flat_map(|g| g.0.iter()).fold(0.0f64, |m, g| m.max(g.abs())) / divisor;
        for (row, (core, _)) in grads.iter().enumerate() {
            for (i, g) in core.iter().enumerate() {
                // A library's NaN gradient (null) is its own: ours is finite.
                let Some(w) = want_grad[row][i].as_f64() else { continue };
                assert!(close(g / divisor, w, tol, scale, floor), "dz[{row}][{i}] {} ≠ {w}: {case}", g / divisor);
            }
        }
        checked += 1;
    }
    eprintln!("{checked} checked, {refused} refused, {clipped_cases} clipped by Keras");
    assert!(
        checked > 800 && refused > 0 && clipped_cases < 40,
        "{checked} checked, {refused} refused, {clipped_cases} clipped"
    );
}

/// The measured table of the issue (four digits), through the profiles.
#[test]
fn the_measured_conventions() {
    let value = |name: &str, mode: Mode, t: usize| {
        let (profile, _) = find(name, mode).unwrap();
        let p = Params {
            logits: vec![1.5, -0.8, 0.2],
            target: Target::Class(t),
            label_smoothing: 0.0,
            gamma: 2.0,
            alpha: Some(Alpha::Scalar(0.25)),
            mode: profile.mode,
        };
        profile.compute(&p).unwrap().1.loss
    };
    let rows = [
        ("paper", Mode::Softmax, [0.005841, 0.5621]),
        ("kornia", Mode::Softmax, [0.01752, 0.5621]),
        ("monai", Mode::Softmax, [0.005841, 0.1874]),
        ("torchvision", Mode::Sigmoid, [0.2094, 1.1733]),
        ("keras", Mode::Softmax, [0.005841, 0.5621]),
        ("keras", Mode::Sigmoid, [0.06980, 0.3911]),
    ];
    for (name, mode, want) in rows {
        for (t, want) in want.into_iter().enumerate() {
            let got = value(name, mode, t);
            assert!((got - want).abs() < 5e-4 * want, "{name} target {t}: {got} ≠ {want}");
        }
    }
}
