//! Every quantity against 60-digit mpmath values: within 1e-12 relative, or
//! 1e-300 absolute where the true value is below 1e-290. The digits come from
//! `tests/reference/gen_reference.py` (run it to regenerate `cases.json`).
//! True values beyond f64's range must come back saturated at ±f64::MAX.

mod common;

use common::{ref_logits as logits, ref_num as num, ref_nums as nums};
use focal_tui::loss::{Alpha, Focal, sigmoid_focal, softmax_focal};
use serde_json::Value;

const REL: f64 = 1e-12;

/// Relative error of `got` against the exact `want`, or 0 when within the
/// absolute allowance for tiny values; saturation applied to `want`.
fn error(got: f64, want: f64) -> f64 {
    let want = want.clamp(-f64::MAX, f64::MAX);
    if !got.is_finite() {
        return f64::INFINITY;
    }
    if want.abs() < 1e-290 {
        return if (got - want).abs() <= 1e-300 { 0.0 } else { f64::INFINITY };
    }
    ((got - want) / want).abs()
}

#[test]
fn every_quantity_matches_mpmath() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/cases.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    let (mut checked, mut worst, mut worst_at) = (0usize, 0.0f64, String::new());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let z = logits(case);
        let t = case["target"].as_u64().unwrap() as usize;
        let gamma = num(&case["gamma"]);
        let alpha = match &case["alpha"] {
            Value::Array(_) => Alpha::PerClass(nums(&case["alpha"])),
            a => Alpha::Scalar(num(a)),
        };
        let r: Focal = match case["mode"].as_str().unwrap() {
            "softmax" => softmax_focal(&z, t, gamma, &alpha),
            _ => sigmoid_focal(&z, t, gamma, &alpha),
        };
        let e = &case["expect"];
        let indices: Vec<usize> = match case.get("indices") {
            Some(ix) => ix.as_array().unwrap().iter().map(|i| i.as_u64().unwrap() as usize).collect(),
            None => (0..z.len()).collect(),
        };
        let mut pairs: Vec<(String, f64, f64)> = [
            ("alpha_t", r.alpha_t),
            ("p_t", r.p_t),
            ("one_minus_p_t", r.one_minus_p_t),
            ("modulating_factor", r.modulating_factor),
            ("cross_entropy", r.cross_entropy),
            ("focal_loss", r.focal_loss),
        ]
        .into_iter()
        .map(|(k, got)| (k.to_string(), got, num(&e[k])))
        .collect();
        for (key, got) in [
            ("probabilities", &r.probabilities),
            ("gradient", &r.gradient),
            ("grad_ce", &r.grad_ce),
            ("per_class_loss", &r.per_class_loss),
        ] {
            let Some(want) = e.get(key) else { continue };
            for (&i, w) in indices.iter().zip(nums(want)) {
                pairs.push((format!("{key}[{i}]"), got[i], w));
            }
        }
        for (key, got, want) in pairs {
            let err = error(got, want);
            checked += 1;
            if err > worst {
                (worst, worst_at) = (err, format!("{name} {key}"));
            }
            if err > REL {
                failures.push(format!("{name} {key}: got {got:e}, want {want:e} (rel {err:e})"));
            }
        }
    }
    println!("{} cases, {checked} values, worst relative error {worst:e} at {worst_at}", cases.len());
    assert!(cases.len() > 300, "the reference set is complete");
    assert!(failures.is_empty(), "{} values off:\n{}", failures.len(), failures.join("\n"));
}
