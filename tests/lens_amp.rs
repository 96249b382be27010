//! The AMP lens against torch itself: each profile's code under
//! `torch.autocast("cpu")` in float16 and bfloat16 (`tests/reference/gen_amp.py`,
//! run it to regenerate `amp_cases.json` and `amp_libs_cases.json`):
//! losses, gradients and flags, bit for bit.

use focal_tui::lens::Precision;
use focal_tui::lens::amp::reduce::CAPABILITY;
use focal_tui::lens::amp::{Formula, amp, flags};
use focal_tui::loss::Mode;
use focal_tui::loss::profile::find;
use serde_json::Value;

fn num(v: &Value) -> f64 {
    match v.as_str().expect("values are strings") {
        "nan" => f64::NAN,
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        s => s.parse().expect("a decimal number"),
    }
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

struct Case {
    name: String,
    formula: Formula,
    logits: Vec<f64>,
    target: usize,
    gamma: f64,
    alpha: Option<f64>,
    expect: Value,
}

/// Every case of both files: `amp_cases.json` (the common softmax form,
/// torchvision, kornia's softmax, MONAI) and `amp_libs_cases.json`
/// (kornia's sigmoid form, mmdet, ultralytics).
fn cases() -> Vec<Case> {
    let docs: Vec<Value> = ["amp_cases.json", "amp_libs_cases.json"]
        .iter()
        .map(|f| serde_json::from_str(&std::fs::read_to_string(format!("tests/reference/{f}")).expect(f)).unwrap())
        .collect();
    for doc in &docs {
        assert_eq!(doc["cpu_capability"], CAPABILITY, "a reference was made under another CPU capability");
    }
    docs.iter()
        .flat_map(|doc| doc["cases"].as_array().unwrap())
        .map(|c| {
            let mode = if c["mode"] == "softmax" { Mode::Softmax } else { Mode::Sigmoid };
            let profile = find(c["profile"].as_str().unwrap(), mode).unwrap().0;
            Case {
                name: format!("{} {} {}", c["profile"], c["mode"], c["name"]),
                formula: Formula::of(profile).unwrap(),
                logits: c["logits"].as_array().unwrap().iter().map(num).collect(),
                target: c["target"].as_u64().unwrap() as usize,
                gamma: num(&c["gamma"]),
                alpha: if c["alpha"].is_null() { None } else { Some(num(&c["alpha"])) },
                expect: c["expect"].clone(),
            }
        })
        .collect()
}

/// Losses (float32 ones included: Sleef's `exp`/`log1p`/`log` and torch's
/// sum grouping are emulated, `src/lens/amp/sleef.rs`), gradients and flags,
/// bit for bit, under the CPU capability the references were made with.
#[test]
fn amp_matches_torch() {
    let (mut values, mut f32_losses) = (0, 0);
    for c in cases() {
        for p in [Precision::F16, Precision::Bf16] {
            let want = &c.expect[p.name()];
            let r = amp(c.formula, &c.logits, c.target, c.gamma, c.alpha, p);
            let at = format!("{} in {}", c.name, p.name());
            assert_eq!(r.loss_dtype.name(), want["loss_dtype"], "{at}");
            let loss = num(&want["loss"]);
            f32_losses += usize::from(r.loss_dtype == Precision::F32);
            assert!(same(r.loss, loss), "{at}: loss {:e} vs torch {loss:e}", r.loss);
            let grad: Vec<f64> = want["gradient"].as_array().unwrap().iter().map(num).collect();
            assert_eq!(r.gradient.len(), grad.len(), "{at}");
            for (i, (&g, &w)) in r.gradient.iter().zip(&grad).enumerate() {
                assert!(same(g, w), "{at}: gradient[{i}] {g:e} vs torch {w:e}");
            }
            values += 1 + grad.len();
            assert_eq!(r.flags, flags(loss, &grad), "{at}");
        }
    }
    eprintln!("{values} values bit for bit, {f32_losses} float32 losses among them");
    assert!(values > 23_000 && f32_losses > 900);
}

fn run(formula: Formula, logits: &[f64], gamma: f64, p: Precision) -> focal_tui::lens::amp::Amp {
    amp(formula, logits, 0, gamma, Some(0.25), p)
}

/// The reasons name the cause: γ < 1 with p_t rounded to 1 is a NaN
/// gradient in the common softmax form and torchvision's, not in kornia's
/// (its guard), and MONAI's float32 holds out to a wider margin.
#[test]
fn reasons_name_the_cause() {
    let confident = [12.0, 0.0, -1.0];
    for p in [Precision::F16, Precision::Bf16] {
        for formula in [Formula::PaperSoftmax, Formula::Torchvision] {
            let r = run(formula, &confident, 0.5, p);
            assert!(r.flags.contains(&"NaN gradient"), "{formula:?} {p:?}");
            let want = format!("γ < 1 and p_t rounds to 1 in {} → (1 − p_t)^(γ−1) = inf → NaN gradient", p.name());
            assert_eq!(r.reason.as_deref(), Some(want.as_str()), "{formula:?}");
        }
        let r = run(Formula::Kornia, &confident, 0.5, p);
        assert!(!r.flags.contains(&"NaN gradient"));
        assert!(r.reason.unwrap().contains("detached copy"));
        let r = run(Formula::MonaiSoftmax, &[40.0, 0.0, -1.0], 0.5, p);
        assert!(r.reason.unwrap().contains("p_t rounds to 1 in float32"));
        let r = run(Formula::PaperSoftmax, &confident, 2.0, p);
        assert_eq!(r.flags, ["loss 0", "zero gradient"]);
        assert!(r.reason.unwrap().contains("→ loss 0"));
        let r = run(Formula::MonaiSoftmax, &confident, 0.5, p);
        assert!(r.flags.is_empty() || !r.flags.contains(&"NaN gradient"), "{:?}", r.flags);
        let r = run(Formula::MonaiSoftmax, &[40.0, 0.0, -1.0], 0.5, p);
        assert!(r.reason.unwrap().contains("NaN gradient"));
        // An ordinary example: nothing to flag.
        let r = run(Formula::PaperSoftmax, &[1.5, -0.8, 0.2], 2.0, p);
        assert!(r.flags.is_empty() && r.reason.is_none(), "{r:?}");
    }
    let r = run(Formula::PaperSoftmax, &[70000.0, 0.0], 2.0, Precision::F16);
    assert!(r.reason.unwrap().starts_with("a logit overflows float16"));
}

/// The detection libraries form `1 − p_t` in the low dtype as torchvision
/// does: γ < 1 on a confident positive is a NaN gradient there too; kornia's
/// sigmoid form takes `exp(γ·log σ)` and never is.
#[test]
fn reasons_for_the_sigmoid_libraries() {
    let confident = [12.0, 0.0, -1.0];
    for p in [Precision::F16, Precision::Bf16] {
        for formula in [Formula::Mmdet, Formula::Ultralytics] {
            let r = run(formula, &confident, 0.5, p);
            assert!(r.flags.contains(&"NaN gradient"), "{formula:?} {p:?}: {r:?}");
            let want = format!("γ < 1 and p_t rounds to 1 in {} → (1 − p_t)^(γ−1) = inf → NaN gradient", p.name());
            assert_eq!(r.reason.as_deref(), Some(want.as_str()), "{formula:?}");
            let r = run(formula, &[1.5, -0.8, 0.2], 2.0, p);
            assert!(r.flags.is_empty() && r.reason.is_none(), "{r:?}");
        }
        let r = run(Formula::KorniaSigmoid, &confident, 0.5, p);
        assert!(!r.flags.iter().any(|f| f.contains("NaN")), "{r:?}");
    }
    // mmdet's negative keeps σ itself: at z = −12 its 1 − p_t is σ(−12) in
    // float16, torchvision's 1 − (1 − σ) = 0; the positive at 12 is 0 in both.
    let r = run(Formula::Mmdet, &[12.0, -12.0], 0.5, Precision::F16);
    let t = run(Formula::Torchvision, &[12.0, -12.0], 0.5, Precision::F16);
    assert!(r.loss > 0.0 && t.loss == 0.0, "{r:?} {t:?}");
}

/// Any finite input, however extreme: every formula returns, with one flag
/// per non-finite or zero result.
#[test]
fn extreme_inputs_never_panic() {
    let rows: [&[f64]; 5] =
        [&[0.0], &[1e30, -1e30], &[-1e-30, 1e-30, 0.0], &[65504.0, -65504.0, 3.0], &[f64::MAX, f64::MIN]];
    for formula in [
        Formula::PaperSoftmax,
        Formula::Torchvision,
        Formula::Kornia,
        Formula::MonaiSoftmax,
        Formula::MonaiSigmoid,
        Formula::KorniaSigmoid,
        Formula::Mmdet,
        Formula::Ultralytics,
    ] {
        for z in rows {
            for gamma in [0.0, 0.5, 2.0, 20.0] {
                for p in [Precision::F16, Precision::Bf16] {
                    for alpha in [None, Some(0.0), Some(1.0)] {
                        let r = amp(formula, z, z.len() - 1, gamma, alpha, p);
                        assert_eq!(r.flags, flags(r.loss, &r.gradient));
                        assert_eq!(r.gradient.len(), z.len());
                    }
                }
            }
        }
    }
}
