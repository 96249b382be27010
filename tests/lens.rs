//! The precision lens: the naive focal loss emulated in float32, float16 and
//! bfloat16 against an independent numpy / ml_dtypes implementation
//! (`tests/reference/gen_lens.py`, run it to regenerate `lens_cases.json`),
//! the reasons it gives for notable failures, and that it never panics.

use focal_tui::lens::{Naive, Precision, classify, naive};
use focal_tui::loss::{Alpha, softmax_focal};
use half::{bf16, f16};
use proptest::prelude::*;
use serde_json::Value;

/// Finite values may differ by this many units in the last place of the
/// format: the C library's `expf`/`logf`/`powf` are not always correctly
/// rounded, the reference's elementary functions are.
const MAX_ULPS: u64 = 2;

fn num(v: &Value) -> f64 {
    match v.as_str().expect("values are strings") {
        "nan" => f64::NAN,
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        s => s.parse().expect("a decimal number"),
    }
}

/// The position of `x` (a value of the format) among the format's values,
/// so that neighbours differ by 1 and ±0 are equal.
fn ordinal(x: f64, p: Precision) -> i64 {
    let x = x as f32; // exact: x is a value of the format
    let (bits, sign_bit) = match p {
        Precision::F32 => (u64::from(x.to_bits()), 1u64 << 31),
        Precision::F16 => (u64::from(f16::from_f32(x).to_bits()), 1 << 15),
        Precision::Bf16 => (u64::from(bf16::from_f32(x).to_bits()), 1 << 15),
    };
    let magnitude = (bits & (sign_bit - 1)) as i64;
    if bits & sign_bit != 0 { -magnitude } else { magnitude }
}

fn ulps(a: f64, b: f64, p: Precision) -> u64 {
    ordinal(a, p).abs_diff(ordinal(b, p))
}

fn kind(x: f64) -> &'static str {
    classify(x).unwrap_or("finite")
}

/// Every (label, got, want) of one result against one expectation object.
fn pairs(r: &Naive, want: &Value) -> Vec<(String, f64, f64)> {
    let mut out = vec![
        ("p_t".to_string(), r.p_t, num(&want["p_t"])),
        ("cross_entropy".to_string(), r.cross_entropy, num(&want["cross_entropy"])),
        ("focal_loss".to_string(), r.focal_loss, num(&want["focal_loss"])),
    ];
    let grad = want["gradient"].as_array().expect("a gradient array");
    assert_eq!(grad.len(), r.gradient.len());
    out.extend(r.gradient.iter().zip(grad).enumerate().map(|(i, (g, w))| (format!("gradient[{i}]"), g, num(w))));
    out
}

#[test]
fn every_value_matches_numpy() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/lens_cases.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    // Per format: worst ulp against the reference (asserted) and against
    // numpy's own exp/log/pow ufuncs (reported only), with where.
    let mut worst: [(u64, String); 3] = Default::default();
    let mut worst_ufuncs: [(u64, String); 3] = Default::default();
    let mut ufunc_kind_differences = 0;
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let logits: Vec<f64> = case["logits"].as_array().unwrap().iter().map(num).collect();
        let target = case["target"].as_u64().unwrap() as usize;
        let (gamma, alpha) = (num(&case["gamma"]), num(&case["alpha"]));
        for (slot, p) in Precision::ALL.into_iter().enumerate() {
            let r = naive(&logits, target, gamma, alpha, p);
            for (label, got, want) in pairs(&r, &case["expect"][p.name()]) {
                checked += 1;
                let at = || format!("{name} / {} / {label}: got {got:e}, numpy {want:e}", p.name());
                if kind(got) != kind(want) {
                    failures.push(format!("{} (classified {} vs {})", at(), kind(got), kind(want)));
                } else if got.is_finite() {
                    let d = ulps(got, want, p);
                    if d > worst[slot].0 {
                        worst[slot] = (d, at());
                    }
                    if d > MAX_ULPS {
                        failures.push(format!("{} ({d} ulp)", at()));
                    }
                }
            }
            for (label, got, want) in pairs(&r, &case["numpy_ufuncs"][p.name()]) {
                if kind(got) != kind(want) {
                    ufunc_kind_differences += 1;
                } else if got.is_finite() {
                    let d = ulps(got, want, p);
                    if d > worst_ufuncs[slot].0 {
                        worst_ufuncs[slot] = (d, format!("{name} / {label}"));
                    }
                }
            }
        }
    }
    println!("{} cases, {checked} values", cases.len());
    let place = |at: &String| if at.is_empty() { String::new() } else { format!(" ({at})") };
    for (p, (w, at)) in Precision::ALL.into_iter().zip(&worst) {
        println!("{}: worst {w} ulp against the reference{}", p.name(), place(at));
    }
    for (p, (w, at)) in Precision::ALL.into_iter().zip(&worst_ufuncs) {
        println!("{}: worst {w} ulp against numpy's own exp/log/pow ufuncs, not asserted{}", p.name(), place(at));
    }
    println!("classified differently from numpy's own ufuncs: {ufunc_kind_differences} (not asserted)");
    assert!(cases.len() >= 80, "only {} cases", cases.len());
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

fn has(r: &Naive, needle: &str) -> bool {
    r.reasons.iter().any(|s| s.contains(needle))
}

#[test]
fn fp16_exp_overflow_makes_the_loss_nan() {
    let r = naive(&[12.0, 0.0], 0, 2.0, 0.25, Precision::F16);
    assert!(!r.focal_loss.is_finite(), "{r:?}");
    assert!(has(&r, "exp overflows"), "{:?}", r.reasons);
    assert_eq!(
        r.reasons,
        [
            "float16 exp overflows above ≈ 11.09: exp(12) = inf",
            "p_t = inf/inf = NaN, and so are CE, FL and the gradient",
        ]
    );
    // float32 holds exp(12) = 162755 and 1 + 162755 easily; bfloat16 holds
    // exp(12) but not 1 + exp(12), so it rounds p_t to 1 instead.
    let r = naive(&[12.0, 0.0], 0, 2.0, 0.25, Precision::F32);
    assert!(r.reasons.is_empty() && r.focal_loss > 0.0, "{r:?}");
    let r = naive(&[12.0, 0.0], 0, 2.0, 0.25, Precision::Bf16);
    assert_eq!((r.p_t, r.focal_loss), (1.0, 0.0));
    assert!(has(&r, "rounds to 1"), "{:?}", r.reasons);
}

#[test]
fn p_t_rounding_to_one_with_gamma_below_one_gives_a_nan_gradient() {
    // [0, 20]: e^-20 = 2e-9 is below half an ulp of 1 in float32 and bfloat16.
    for p in [Precision::F32, Precision::Bf16] {
        let r = naive(&[0.0, 20.0], 1, 0.5, 0.25, p);
        assert_eq!(r.p_t, 1.0);
        assert_eq!(r.focal_loss, 0.0);
        assert!(r.gradient.iter().all(|g| g.is_nan()), "{r:?}");
        assert!(has(&r, "γ < 1"), "{:?}", r.reasons);
    }
    // In float16 exp(20) already overflows: NaN for another reason.
    let r = naive(&[0.0, 20.0], 1, 0.5, 0.25, Precision::F16);
    assert!(r.gradient.iter().all(|g| g.is_nan()) && has(&r, "exp overflows"), "{r:?}");
    // float16 rounds p_t to 1 already at a logit gap of 8: 1 + e^8 rounds to e^8.
    assert_eq!(naive(&[0.0, 8.0], 1, 0.5, 0.25, Precision::F16).p_t, 1.0);
    let r = naive(&[0.0, 10.0], 1, 0.5, 0.25, Precision::F16);
    assert!(r.gradient.iter().all(|g| g.is_nan()), "{r:?}");
    assert_eq!(
        r.reasons,
        [
            "p_t rounds to 1: 1 − p_t = 0 and ln p_t = 0, so CE = FL = 0",
            "p_t rounds to 1: γ < 1 gives a NaN gradient, (1 − p_t)^(γ − 1) = 0^-0.5 = inf and inf·0 = NaN",
        ]
    );
    // float32 still resolves p_t = 1 − 4.5e-5 there.
    assert!(naive(&[0.0, 10.0], 1, 0.5, 0.25, Precision::F32).reasons.is_empty());
    // γ = 0 too: 0 · 0^-1 = 0 · inf.
    let r = naive(&[0.0, 20.0], 1, 0.0, 0.25, Precision::F32);
    assert!(r.gradient.iter().all(|g| g.is_nan()) && has(&r, "γ < 1"), "{r:?}");
    // γ ≥ 1 has no NaN, the gradient just vanishes.
    let r = naive(&[0.0, 20.0], 1, 2.0, 0.25, Precision::F32);
    assert_eq!(r.gradient.iter().collect::<Vec<_>>(), [0.0, 0.0]);
    assert_eq!(r.reasons, ["p_t rounds to 1: 1 − p_t = 0 and ln p_t = 0, so CE = FL = 0, and the gradient vanishes"]);
}

#[test]
fn f32_loss_vanishes_at_a_logit_gap_of_40() {
    let r = naive(&[0.0, 40.0], 1, 2.0, 0.25, Precision::F32);
    assert_eq!((r.p_t, r.focal_loss), (1.0, 0.0));
    assert!(has(&r, "rounds to 1"), "{:?}", r.reasons);
    // The exact loss is tiny but not zero.
    let exact = softmax_focal(&[0.0, 40.0], 1, 2.0, &Alpha::Scalar(0.25)).focal_loss;
    assert!(exact > 0.0 && exact < 1e-50, "{exact}");
}

#[test]
fn f32_seed_example_is_close_to_exact() {
    let exact = softmax_focal(&[-1.0, 3.0, -0.5], 1, 2.0, &Alpha::Scalar(0.25)).focal_loss;
    assert!((exact - 2.535_361_097_640_369e-5).abs() <= 1e-16, "{exact}");
    let r = naive(&[-1.0, 3.0, -0.5], 1, 2.0, 0.25, Precision::F32);
    let rel = ((r.focal_loss - exact) / exact).abs();
    // p_t = 0.95373154 is 1 ulp (6e-8) off in float32, which is 1.3e-6 of
    // 1 − p_t = 0.0463; squared by γ = 2 and with the rounding of ln p_t the
    // naive float32 FL is 2.5353713e-5, 4.0e-6 above the exact value: 1e-6
    // is more than float32 can deliver here.
    assert!(rel < 5e-6, "relative error {rel:e}: {} vs {exact}", r.focal_loss);
    assert!(r.reasons.is_empty(), "{:?}", r.reasons);
    // Ordinary inputs are not flagged in any format.
    for p in Precision::ALL {
        for (z, t) in [(&[-1.0, 3.0, -0.5][..], 1), (&[1.5, -0.8, 0.2][..], 1)] {
            let r = naive(z, t, 2.0, 0.25, p);
            assert!(r.reasons.is_empty() && r.focal_loss > 0.0, "{r:?}");
        }
    }
}

#[test]
fn reasons_for_notable_cases() {
    let reasons = |z: &[f64], t: usize, gamma: f64, alpha: f64, p: Precision| naive(z, t, gamma, alpha, p).reasons;
    let f16 = Precision::F16;
    assert_eq!(
        reasons(&[1000.0, 0.0], 1, 2.0, 0.25, Precision::F32),
        [
            "float32 exp overflows above ≈ 88.72: exp(1000) = inf",
            "p_t = 1/inf = 0: log gives −inf, so CE = inf, FL = inf, and γ·p_t·…·ln p_t = 0·(−inf) = NaN in the \
             gradient",
        ]
    );
    assert_eq!(
        reasons(&[11.0, 11.0], 0, 2.0, 0.25, f16),
        [
            "the sum of exps overflows float16 (max 65504)",
            "p_t = 59870/inf = 0: log gives −inf, so CE = inf, FL = inf, and γ·p_t·…·ln p_t = 0·(−inf) = NaN in the \
             gradient",
        ]
    );
    assert_eq!(
        reasons(&[-20.0, -20.0], 0, 2.0, 0.25, f16),
        ["every exp underflows to 0 (below ≈ -17.33), so p = 0/0 = NaN, and so are CE, FL and the gradient"]
    );
    assert_eq!(
        reasons(&[-20.0, 0.0], 0, 2.0, 0.25, f16),
        ["exp(-20) underflows to 0 (below ≈ -17.33), so p_t = 0: log gives −inf, so CE = inf, FL = inf, and \
             γ·p_t·…·ln p_t = 0·(−inf) = NaN in the gradient"]
    );
    assert_eq!(
        reasons(&[-60.0, 60.0], 0, 2.0, 0.25, Precision::F32),
        [
            "p_t underflows to 0: log gives −inf, so CE = inf, FL = inf, and γ·p_t·…·ln p_t = 0·(−inf) = NaN in the gradient"
        ]
    );
    assert_eq!(
        reasons(&[0.0, 3.0], 1, 20.0, 0.25, f16),
        ["(1 − p_t)^γ = 0.04736^20 underflows to 0, so FL = 0", "the gradient underflows to 0 in every class"]
    );
    assert_eq!(
        reasons(&[0.0, 5.0], 1, 3.0, 0.25, f16),
        [
            "FL = α_t·(1 − p_t)^γ·CE = 0.25·2.98e-7·0.006859 underflows to 0",
            "the gradient underflows to 0 in every class"
        ]
    );
    assert_eq!(
        reasons(&[70000.0, 0.0], 1, 2.0, 0.25, f16),
        [
            "logit 70000 overflows float16 (max 65504) to inf",
            "p_t = 1/inf = 0: log gives −inf, so CE = inf, FL = inf, and γ·p_t·…·ln p_t = 0·(−inf) = NaN in the \
             gradient",
        ]
    );
    assert_eq!(reasons(&[1.5, -0.8, 0.2], 1, 2.0, 1e-9, f16), ["α_t = 1e-9 rounds to 0 in float16"]);
    assert_eq!(
        reasons(&[3.0], 0, 0.5, 0.25, f16),
        ["one class, so p_t = 1: γ < 1 gives a NaN gradient, (1 − p_t)^(γ − 1) = 0^-0.5 = inf and inf·0 = NaN"]
    );
    // K = 1 with γ ≥ 1 is exactly right: p_t = 1, FL = 0, gradient 0.
    assert!(reasons(&[3.0], 0, 2.0, 0.25, f16).is_empty());
    // α = 0 makes FL = 0·inf = NaN once p_t is 0.
    let r = naive(&[1000.0, 0.0], 1, 2.0, 0.0, Precision::F32);
    assert!(r.focal_loss.is_nan() && r.reasons[1].contains("FL = NaN"), "{:?}", r.reasons);
}

#[test]
fn non_finite_inputs_are_results_not_panics() {
    for p in Precision::ALL {
        for z in [[f64::NAN, 0.0], [f64::INFINITY, 0.0], [f64::NEG_INFINITY, 0.0], [f64::INFINITY, f64::NEG_INFINITY]] {
            for (gamma, alpha) in [(2.0, 0.25), (f64::NAN, 0.25), (2.0, f64::INFINITY), (f64::INFINITY, 1.0)] {
                let r = naive(&z, 1, gamma, alpha, p);
                let bad = [r.p_t, r.cross_entropy, r.focal_loss]
                    .iter()
                    .copied()
                    .chain(r.gradient.iter())
                    .any(|x| !x.is_finite());
                assert!(!bad || !r.reasons.is_empty(), "{z:?} {gamma} {alpha}: {r:?}");
            }
        }
    }
}

/// Any finite f64: ordinary logits mostly, sometimes huge or tiny ones.
fn logit() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -30.0..30.0f64,
        1 => -1e4..1e4f64,
        1 => prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn naive_never_panics_and_explains_every_nan_and_inf(
        (z, t) in prop::collection::vec(logit(), 1..=8).prop_flat_map(|z| { let k = z.len(); (Just(z), 0..k) }),
        gamma in prop_oneof![Just(0.0), Just(0.5), Just(1.0), 0.0..=20.0f64],
        alpha in prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64],
    ) {
        for p in Precision::ALL {
            let r = naive(&z, t, gamma, alpha, p);
            prop_assert_eq!(r.precision, p);
            prop_assert_eq!(r.gradient.len(), z.len());
            let values = [r.p_t, r.cross_entropy, r.focal_loss].into_iter().chain(r.gradient.iter());
            let non_finite = values.clone().any(|x| !x.is_finite());
            prop_assert!(!non_finite || !r.reasons.is_empty(), "unexplained: {:?}", r);
            // Every value is one of the format's values.
            for x in values {
                prop_assert!(x.is_nan() || f64::from(x as f32) == x);
            }
            for line in &r.reasons {
                prop_assert!(!line.is_empty() && !line.contains('\n'));
            }
        }
    }
}
