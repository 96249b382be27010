//! Every target form (background, several classes, probabilities, label
//! smoothing, α none) in both modes against 60-digit mpmath values from
//! `tests/reference/gen_targets.py` (run it to regenerate
//! `targets_cases.json`): every value within 1e-12 relative, or 1e-300
//! absolute where the true value is below 1e-290; a gradient component,
//! where it is a difference whose terms nearly cancel, within 1e-13 of the
//! sum of its terms' magnitudes (the JSON's `scale`).

mod common;

use common::{ref_logits as logits, ref_num as num, ref_nums as nums};
use focal_tui::loss::{Alpha, Mode, Params, Target};
use serde_json::Value;

const REL: f64 = 1e-12;
const OF_TERMS: f64 = 1e-13;

fn target(v: &Value) -> Target {
    if v == "none" {
        return Target::Background;
    }
    if let Some(t) = v.get("class") {
        return Target::Class(t.as_u64().unwrap() as usize);
    }
    if let Some(list) = v.get("classes") {
        return Target::Classes(list.as_array().unwrap().iter().map(|i| i.as_u64().unwrap() as usize).collect());
    }
    Target::Probs(nums(&v["probs"]))
}

fn params(case: &Value) -> Params {
    Params {
        logits: logits(case),
        target: target(&case["target"]),
        label_smoothing: num(&case["label_smoothing"]),
        gamma: num(&case["gamma"]),
        alpha: match &case["alpha"] {
            Value::Array(_) => Some(Alpha::PerClass(nums(&case["alpha"]))),
            a if a == "none" => None,
            a => Some(Alpha::Scalar(num(a))),
        },
        mode: if case["mode"] == "softmax" { Mode::Softmax } else { Mode::Sigmoid },
    }
}

/// How far `got` is from `want`, in units of what is allowed (≤ 1 passes).
fn error(got: f64, want: f64, scale: f64) -> f64 {
    let want = want.clamp(-f64::MAX, f64::MAX);
    if !got.is_finite() {
        return f64::INFINITY;
    }
    let allowed = (REL * want.abs()).max(OF_TERMS * scale).max(if want.abs() < 1e-290 { 1e-300 } else { 0.0 });
    if allowed == 0.0 {
        return if got == want { 0.0 } else { f64::INFINITY };
    }
    (got - want).abs() / allowed
}

#[test]
fn every_target_form_matches_mpmath() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/targets_cases.json"))
        .expect("the reference file");
    let doc: Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    let (mut checked, mut worst, mut worst_at) = (0usize, 0.0f64, String::new());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let p = params(case);
        let r = p.compute();
        let k = p.logits.len();
        let e = &case["expect"];
        let indices: Vec<usize> = match case.get("indices") {
            Some(ix) => ix.as_array().unwrap().iter().map(|i| i.as_u64().unwrap() as usize).collect(),
            None => (0..k).collect(),
        };
        let mut pairs: Vec<(String, f64, f64, f64)> = [
            ("alpha_t", r.alpha_t),
            ("p_t", r.p_t),
            ("one_minus_p_t", r.one_minus_p_t),
            ("modulating_factor", r.modulating_factor),
            ("cross_entropy", r.cross_entropy),
            ("focal_loss", r.focal_loss),
        ]
        .into_iter()
        .map(|(key, got)| (key.to_string(), got, num(&e[key]), 0.0))
        .collect();
        let terms: Vec<f64> = (0..k).map(|i| r.term(i)).collect();
        let targets: Vec<f64> = (0..k).map(|i| r.target_of(i)).collect();
        for (key, got) in [
            ("probabilities", &r.probabilities),
            ("targets", &targets),
            ("per_class_loss", &terms),
            ("gradient", &r.gradient),
            ("grad_ce", &r.grad_ce),
        ] {
            let scale = case["scale"].get(key).map(nums);
            for (n, (&i, want)) in indices.iter().zip(nums(&e[key])).enumerate() {
                let s = scale.as_ref().map_or(0.0, |s| s[n]);
                pairs.push((format!("{key}[{i}]"), got[i], want, s));
            }
        }
        for (key, got, want, scale) in pairs {
            let err = error(got, want, scale);
            checked += 1;
            if err > worst {
                (worst, worst_at) = (err, format!("{name} {key}"));
            }
            if err > 1.0 {
                failures.push(format!("{name} {key}: got {got:e}, want {want:e} ({err:.3e}× allowed)"));
            }
        }
    }
    println!("{} cases, {checked} values, worst {worst:.3e}× the allowance at {worst_at}", cases.len());
    assert!(cases.len() > 150, "the reference set is complete");
    assert!(failures.is_empty(), "{} values off:\n{}", failures.len(), failures.join("\n"));
}

/// torchvision's `sigmoid_focal_loss` (value, per-class terms and autograd
/// gradient) and Keras' `BinaryFocalCrossentropy` /
/// `CategoricalFocalCrossentropy` themselves, in float64, from
/// `tests/reference/gen_libs_targets.py` (run where torch and keras are
/// installed; the output is committed). Their own rounding is ~1e-15,
/// except Keras' binary loss, which takes `log(p + 1e-7)` of the clipped
/// sigmoid (its `epsilon`): within 1e-6 there.
#[test]
fn libraries_agree() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/libs_targets_cases.json"))
        .expect("the reference file");
    let doc: Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    let mut failures = Vec::new();
    let mut worst = 0.0f64;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let r = params(case).compute();
        let mut pairs = vec![("focal_loss".to_string(), r.focal_loss, num(&case["focal_loss"]))];
        for (key, got) in [("per_class_loss", &r.per_class_loss), ("gradient", &r.gradient)] {
            if let Some(want) = case.get(key) {
                pairs.extend(nums(want).into_iter().enumerate().map(|(i, w)| (format!("{key}[{i}]"), got[i], w)));
            }
        }
        let tolerance = if name.starts_with("keras-binary") { 1e-6 } else { 1e-12 };
        for (key, got, want) in pairs {
            let err = (got - want).abs() / want.abs().max(1e-300);
            worst = worst.max(err / tolerance * 1e-12);
            if err > tolerance {
                failures.push(format!("{name} {key}: got {got:e}, the library {want:e} (rel {err:.2e})"));
            }
        }
    }
    println!("{} library cases, worst relative difference {worst:.2e} (scaled to a 1e-12 bar)", cases.len());
    assert!(cases.len() > 200);
    assert!(failures.is_empty(), "{} values differ:\n{}", failures.len(), failures.join("\n"));
}
