//! `focal-tui calc` as a script sees it: stdout, stderr and the exit status.
//! Expected digits are mpmath's (tests/reference/gen_reference.py; the seed's
//! examples are also in README.md's numerics section).

use std::process::{Command, Output};

use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_focal-tui")).args(args).env("NO_COLOR", "1").output().expect("binary runs")
}

fn stdout(args: &[&str]) -> String {
    let out = run(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&stdout(args)).expect("valid JSON")
}

fn close(v: &Value, want: f64) -> bool {
    let got = v.as_f64().expect("a number");
    (got - want).abs() <= 1e-12 * want.abs()
}

const SEED_1: [&str; 9] = ["calc", "--logits", "-1, 3, -0.5", "--target", "1", "--gamma", "2", "--alpha", "0.25"];

#[test]
fn text_report_has_exact_digits_aligned() {
    let out = stdout(&SEED_1);
    // mpmath: FL = 2.5353610976403687625e-5, CE = 0.047372991226490104539,
    // p_t = 0.95373159772100496578, (1 − p_t)^γ = 0.0021407650494509128768.
    for line in [
        "  focal loss FL     2.535361e-5",
        "  cross-entropy CE  0.04737299",
        "  p_t               0.9537316    probability of the target class",
        "  (1 − p_t)^γ       0.002140765  modulating factor",
        "  α_t               0.25         scalar α applied to the target class",
        "  predicted         class 1      correct (target 1)",
        "  p_t       | 1 − p_t   | (1 − p_t)^γ | −log(p_t) (CE) | FL (α=0.25, γ=2)",
        "  0.9537316 | 0.0462684 | 0.002140765 | 0.04737299     | 2.535361e-5",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
    }
    assert!(!out.contains("2.4885"), "the seed's wrong rounding must not appear");
    assert!(out.lines().all(|l| l == l.trim_end()), "no trailing spaces");
}

#[test]
fn defaults_are_the_seeds_hard_example() {
    // mpmath: FL = 0.56214296365219774037 for [1.5, -0.8, 0.2], target 1, γ 2, α 0.25.
    let v = json(&["calc", "--json"]);
    assert!(close(&v["focal_loss"], 0.562_142_963_652_197_7));
    assert_eq!(v["target"], 1);
    assert_eq!(v["gamma"], 2.0);
    assert_eq!(v["alpha"], 0.25);
}

#[test]
fn json_has_exactly_the_documented_keys() {
    let v = json(&[&SEED_1[..], &["--json"]].concat());
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = vec![
        "mode",
        "logits",
        "target",
        "gamma",
        "alpha",
        "alpha_t",
        "probabilities",
        "p_t",
        "one_minus_p_t",
        "modulating_factor",
        "cross_entropy",
        "focal_loss",
        "gradient",
        "targets",
        "per_class_loss",
    ];
    let mut got = keys.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(v["mode"], "softmax");
    assert!(close(&v["focal_loss"], 2.535_361_097_640_369e-5));
    assert!(close(&v["one_minus_p_t"], 0.046_268_402_278_995_034));
    assert_eq!(v["probabilities"].as_array().unwrap().len(), 3);
}

#[test]
fn json_floats_round_trip_and_are_never_null() {
    let out = stdout(&["calc", "--json", "--logits", "1.7e308 -1.7e308 0", "--target", "1", "--gamma", "0.5"]);
    assert!(!out.contains("null") && !out.contains("NaN") && !out.contains("inf"), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["logits"][0].as_f64(), Some(1.7e308));
    // CE = 3.4e308 exceeds f64: saturated, not inf.
    assert_eq!(v["cross_entropy"].as_f64(), Some(f64::MAX));
    // Shortest round trip: 0.1 prints as 0.1, not 0.1000000000000000055511.
    let v = json(&["calc", "--json", "--logits", "0.1 0.2", "--target", "0", "--alpha", "0.1"]);
    assert!(stdout(&["calc", "--json", "--logits", "0.1 0.2", "--target", "0"]).contains("\"logits\":[0.1,0.2]"));
    assert_eq!(v["alpha"], 0.1);
}

#[test]
fn leading_minus_works_both_ways() {
    let a = stdout(&["calc", "--logits", "-1, 3, -0.5", "--target", "1"]);
    let b = stdout(&["calc", "--logits=-1,3,-0.5", "--target=1"]);
    assert_eq!(a, b);
}

#[test]
fn confident_cases_are_exact() {
    // [0, 40] target 1: 1 − p_t = 4.2483542552915889e-18 (mpmath); naive code says 0.
    let v = json(&["calc", "--json", "--logits", "0 40", "--target", "1"]);
    assert!(close(&v["one_minus_p_t"], 4.248_354_255_291_589e-18));
    // [1000, 0] target 1: CE = 1000 exactly (plus e^-1000, far below an ulp).
    let v = json(&["calc", "--json", "--logits", "1000, 0", "--target", "1"]);
    assert_eq!(v["cross_entropy"].as_f64(), Some(1000.0));
    // [0, 800] target 1, γ = 0.1: the factor is e^-80 = 1.8048513878454153e-35
    // although 1 − p_t = e^-800 underflows.
    let v = json(&["calc", "--json", "--logits", "0, 800", "--target", "1", "--gamma", "0.1"]);
    assert!(close(&v["modulating_factor"], 1.804_851_387_845_415_3e-35));
}

#[test]
fn sigmoid_mode_adds_per_class_loss() {
    let v = json(&["calc", "--json", "--sigmoid", "--logits", "0 0", "--target", "1", "--gamma", "0"]);
    assert_eq!(v["mode"], "sigmoid");
    // γ = 0: 0.75·ln 2 for the negative, 0.25·ln 2 for the positive.
    let per = v["per_class_loss"].as_array().unwrap();
    assert!(close(&per[0], 0.75 * std::f64::consts::LN_2) && close(&per[1], 0.25 * std::f64::consts::LN_2));
    assert!(close(&v["focal_loss"], std::f64::consts::LN_2));
    let out = stdout(&["calc", "--sigmoid", "--logits", "0 0", "--target", "1"]);
    assert!(out.contains("positive α, negatives 1 − α = 0.75"), "{out}");
}

#[test]
fn many_classes_list_the_target_and_the_top() {
    let logits: Vec<String> = (0..1000).map(|i| format!("{}", (i % 97) as f64 / 10.0)).collect();
    let out = stdout(&["calc", "--logits", &logits.join(","), "--target", "500"]);
    assert!(out.contains("… 980 more classes (--json lists all)"), "{out}");
    assert!(out.contains("→ 500"));
    let v = json(&["calc", "--json", "--logits", &logits.join(","), "--target", "500"]);
    assert_eq!(v["gradient"].as_array().unwrap().len(), 1000);
}

/// Every kind of bad input: status 2, one line on stderr, nothing on stdout.
#[test]
fn bad_input_is_one_line_and_status_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["calc", "--logits", ""], "focal-tui: --logits: no logits: type at least one number, e.g. 1.5, -0.8, 0.2"),
        (&["calc", "--logits", "1,,2"], "focal-tui: --logits: empty value before `,` at column 3"),
        (&["calc", "--logits", "1, x, 2"], "focal-tui: --logits: `x` at column 4 is not a number"),
        (&["calc", "--logits", "nan 1"], "focal-tui: --logits: `nan` at column 1 is not a finite number"),
        (&["calc", "--logits", "1 inf"], "focal-tui: --logits: `inf` at column 3 is not a finite number"),
        (&["calc", "--logits", "1e999"], "focal-tui: --logits: `1e999` at column 1 overflows: |x| must be ≤ 1.8e308"),
        (&["calc", "--target", "3"], "focal-tui: --target: class 3 does not exist: 3 logits give classes 0..2"),
        (&["calc", "--target", "-1"], "focal-tui: --target: `-1` is not a class index: type a whole number in 0..2"),
        (&["calc", "--target", "one"], "focal-tui: --target: `one` is not a class index: type a whole number in 0..2"),
        (&["calc", "--gamma", "-2"], "focal-tui: --gamma: γ = -2 is negative: γ must be ≥ 0"),
        (&["calc", "--gamma", "nan"], "focal-tui: --gamma: `nan` at column 1 is not a finite number"),
        (&["calc", "--alpha", "-0.25"], "focal-tui: --alpha: α = -0.25 is negative: α must be ≥ 0"),
        (&["calc", "--alpha", "0.1 0.2"], "focal-tui: --alpha: 3 logits need 1 α or 3 (one per class), got 2"),
        (
            &["calc", "--sigmoid", "--alpha", "2"],
            "focal-tui: --alpha: α = 2 is above 1: in sigmoid mode negatives get 1 − α, so α must be in [0, 1]",
        ),
        (&["calc", "--bogus"], "focal-tui: unexpected argument '--bogus' found"),
        (&["calc", "--logits"], "focal-tui: a value is required for '--logits <LIST>' but none was supplied"),
        // Clap's error names what is missing, on the same line.
        (&["--labels", "y.npy"], "focal-tui: the following required arguments were not provided: --data <FILE>"),
        (&["--skip-invalid"], "focal-tui: the following required arguments were not provided: --data <FILE>"),
        (&["--class-axis", "-1"], "focal-tui: the following required arguments were not provided: --data <FILE>"),
        (&["--ignore-index", "255"], "focal-tui: the following required arguments were not provided: --data <FILE>"),
    ];
    for (args, want) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err, format!("{want}\n"), "{args:?}");
    }
}

#[test]
fn help_and_version_exit_0() {
    assert!(stdout(&["--help"]).contains("calc"));
    assert!(stdout(&["calc", "--help"]).contains("--json"));
    assert!(stdout(&["--version"]).starts_with("focal-tui "));
}

/// A full disk is one line on stderr and status 1, for `calc` and `data`.
#[test]
fn a_write_error_is_one_line_and_status_1() {
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/val_logits.npy");
    let labels = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/val_labels.npy");
    for args in [&["calc"][..], &["calc", "--json"], &["data", "--logits", data, "--labels", labels]] {
        let out = Command::new(env!("CARGO_BIN_EXE_focal-tui")).args(args).stdout(full()).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("cannot write") && err.contains("No space left"), "{args:?}: {err}");
    }
}

/// A reader that stops early (`| head -c1`) ends the output quietly.
#[test]
fn a_closed_pipe_exits_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let logits = (1..=20_000).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let mut child = Command::new(env!("CARGO_BIN_EXE_focal-tui"))
        .args(["calc", "--json", "--target", "0", "--logits", &logits])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The read end is closed here, with most of the output (≈ 1 MB) unread.
    let out = child.wait_with_output().unwrap();
    assert_eq!(first, *b"{");
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// Completions and the man page come from the parser's own clap definition:
/// they name its subcommands and flags.
#[test]
fn completions_and_the_man_page_follow_the_command_line() {
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef focal-tui"), ("fish", "complete -c focal-tui")] {
        let script = stdout(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: {script}");
        for word in ["calc", "data", "completions", "gammas", "marker", "json", "skip-invalid"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let man = stdout(&["man"]);
    assert!(man.starts_with(".ie") || man.contains(".TH focal-tui 1"), "{man}");
    assert!(man.contains(".TH focal-tui 1") && man.contains(".SH NAME"));
    for word in ["calc", "completions", "\\-\\-gamma", "\\-\\-data"] {
        assert!(man.contains(word), "the man page lacks {word}");
    }
    let out = run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("tcsh"), "{err}");
}
