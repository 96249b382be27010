//! `calc --amp`: the AMP lens through the command line, against torch's own
//! values (`tests/reference/amp_cases.json`, `amp_libs_cases.json`), the JSON key `amp`, the text
//! lines, and what it refuses. The emulation itself: tests/lens_amp.rs.

use std::process::{Command, Output};

use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_focal-tui")).args(args).env("NO_COLOR", "1").output().expect("binary runs")
}

fn json(args: &[&str]) -> Value {
    let out = run(&[&["calc", "--json", "--amp"], args].concat());
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&String::from_utf8(out.stdout).unwrap()).expect("valid JSON")
}

/// A JSON number, or one of the strings a non-finite result is written as.
fn number(v: &Value) -> f64 {
    match v {
        Value::String(s) => s.parse().expect("NaN, inf or -inf"),
        v => v.as_f64().unwrap(),
    }
}

fn torch(v: &Value) -> f64 {
    v.as_str().unwrap().replace("nan", "NaN").parse().unwrap()
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// The example and a saturated one for every profile the lens
/// emulates, through `calc --amp --json`: torch's gradients bit for bit,
/// its low-precision losses bit for bit, float32 losses within a few ulp.
#[test]
fn calc_gives_torchs_values() {
    let docs: Vec<Value> = ["amp_cases.json", "amp_libs_cases.json"]
        .iter()
        .map(|f| {
            let path = format!("{}/tests/reference/{f}", env!("CARGO_MANIFEST_DIR"));
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        })
        .collect();
    let mut checked = 0;
    for case in docs.iter().flat_map(|doc| doc["cases"].as_array().unwrap()) {
        let name = case["name"].as_str().unwrap();
        if name != "issue example" && name != "confident by 12.0, gamma 0.5" {
            continue;
        }
        let logits: Vec<&str> = case["logits"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let target = case["target"].to_string();
        let alpha = case["alpha"].as_str().unwrap_or("none");
        let mut args = vec!["--profile", case["profile"].as_str().unwrap(), "--target", &target];
        let logits = logits.join(",");
        args.extend(["--logits", &logits, "--gamma", case["gamma"].as_str().unwrap(), "--alpha", alpha]);
        if case["mode"] == "sigmoid" {
            args.push("--sigmoid");
        }
        let got = json(&args);
        for dtype in ["float16", "bfloat16"] {
            let (g, w) = (&got["amp"][dtype], &case["expect"][dtype]);
            assert_eq!(g["loss_dtype"], w["loss_dtype"], "{args:?}");
            let (gl, wl) = (number(&g["loss"]), torch(&w["loss"]));
            let tolerance = if w["loss_dtype"] == "float32" { 4.0 * f64::from(f32::EPSILON) * wl.abs() } else { 0.0 };
            assert!(same(gl, wl) || (gl - wl).abs() <= tolerance, "{args:?} {dtype}: {gl} vs {wl}");
            for (a, b) in g["gradient"].as_array().unwrap().iter().zip(w["gradient"].as_array().unwrap()) {
                assert!(same(number(a), torch(b)), "{args:?} {dtype}: {a} vs {b}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * 2 * (6 + 3));
}

#[test]
fn json_keys_text_lines_and_flags() {
    let v = json(&["--logits", "12,0,-1", "--target", "0", "--gamma", "0.5"]);
    let f16 = &v["amp"]["float16"];
    assert_eq!(v["amp"]["code"], "log_softmax → gather → exp → −α·(1 − p_t)^γ·log p_t");
    assert_eq!(f16["gradient"][0], "NaN");
    assert_eq!(f16["flags"], serde_json::json!(["loss 0", "NaN gradient"]));
    assert_eq!(f16["reason"], "γ < 1 and p_t rounds to 1 in float16 → (1 − p_t)^(γ−1) = inf → NaN gradient");
    // Nothing to flag: no flags, a null reason.
    let v = json(&["--target", "0"]);
    assert_eq!(v["amp"]["bfloat16"]["flags"], serde_json::json!([]));
    assert!(v["amp"]["bfloat16"]["reason"].is_null());
    // Without --amp there is no such key.
    let out = run(&["calc", "--json"]);
    assert!(!String::from_utf8(out.stdout).unwrap().contains("\"amp\""));

    let out =
        run(&["calc", "--amp", "--profile", "torchvision", "--logits", "12,0,-1", "--target", "0", "--gamma", "0.5"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let tail: Vec<&str> = text.lines().rev().take(3).collect();
    assert_eq!(
        tail[2],
        "AMP, torch.autocast on the CPU (torchvision sigmoid_focal_loss: sigmoid, BCE-with-logits, (1 − p_t)^γ):"
    );
    assert!(
        tail[1].starts_with("  float16   loss 0.48939 (float32)    gradient at the target NaN  NaN gradient: γ < 1"),
        "{}",
        tail[1]
    );
    assert!(tail[0].starts_with("  bfloat16  loss 0.4896195 (float32)"), "{}", tail[0]);
}

/// What the lens cannot show is an error naming `--amp` and why.
#[test]
fn what_the_lens_cannot_show_is_an_error() {
    for (args, message) in [
        (&["--profile", "keras"][..], "--amp: Keras is not PyTorch: torch.autocast does not apply"),
        (&["--target", "0,2", "--sigmoid"], "--amp: the AMP lens takes one class index as the target, unsmoothed"),
        (&["--label-smoothing", "0.1"], "--amp: the AMP lens takes one class index as the target, unsmoothed"),
        (&["--alpha", "0.1,0.2,0.7"], "--amp: the AMP lens takes one α, not one per class"),
    ] {
        let out = run(&[&["calc", "--amp"], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        assert_eq!(String::from_utf8(out.stderr).unwrap(), format!("focal-tui: {message}\n"));
    }
}
