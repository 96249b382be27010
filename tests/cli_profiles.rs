//! `calc --profile`: the libraries' values through the command line, the
//! keys it adds, the defaults it brings, and every knob a library cannot
//! express. The profiles' values against the libraries: tests/reference_profiles.rs.

use std::process::{Command, Output};

use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_focal-tui")).args(args).env("NO_COLOR", "1").output().expect("binary runs")
}

fn json(args: &[&str]) -> Value {
    let out = run(&[&["calc", "--json"], args].concat());
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&String::from_utf8(out.stdout).unwrap()).expect("valid JSON")
}

fn list(v: &Value) -> String {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap().to_string()).collect::<Vec<_>>().join(", ")
}

/// A few single examples of each library through `calc --profile`, against
/// the library's own value (tolerances as in tests/reference_profiles.rs).
#[test]
fn calc_gives_the_libraries_values() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/profiles_cases.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut seen = std::collections::HashMap::new();
    for case in doc["cases"].as_array().unwrap() {
        let (name, mode) = (case["profile"].as_str().unwrap(), case["mode"].as_str().unwrap());
        // Single examples with a class index, three per library and mode.
        let Some(t) = case.get("labels").and_then(|l| l[0].as_u64()) else { continue };
        let count = seen.entry((name, mode)).or_insert(0);
        if case["logits"].as_array().unwrap().len() != 1
            || *count == 3
            || case["logits"][0].as_array().unwrap().len() < 2
        {
            continue;
        }
        *count += 1;
        let (logits, target, gamma) = (list(&case["logits"][0]), t.to_string(), case["gamma"].to_string());
        let alpha = case["alpha"].as_f64().map_or("none".to_string(), |a| a.to_string());
        let mut args = vec!["--profile", name, "--logits", &logits, "--target", &target, "--gamma", &gamma];
        args.extend(["--alpha", &alpha]);
        if mode == "sigmoid" {
            args.push("--sigmoid");
        }
        let v = json(&args);
        let (got, want) = (v["library_loss"].as_f64().unwrap(), case["value"].as_f64().unwrap());
        let tol = if name == "monai" { 1e-4 } else { 1e-6 };
        assert!((got - want).abs() <= tol * want.abs() + 1e-9 * f64::from(name == "monai"), "{got} ≠ {want}: {case}");
        assert_eq!(v["profile"], name);
        assert_eq!(v["mode"], mode);
    }
    assert_eq!(seen.len(), 9, "{seen:?}");
}

/// `--profile paper` is today's result, number for number, plus its keys;
/// without `--profile` the JSON has no profile keys.
#[test]
fn paper_is_todays_result() {
    for extra in [&[][..], &["--sigmoid"], &["--target", "0", "--alpha", "0.5 1 2"], &["--sigmoid", "--target", "none"]]
    {
        let plain = json(extra);
        let paper = json(&[extra, &["--profile", "paper"]].concat());
        for (key, value) in plain.as_object().unwrap() {
            assert_eq!(&paper[key], value, "{key} with {extra:?}");
        }
        assert_eq!(paper["library_loss"], plain["focal_loss"]);
        assert_eq!(paper["library_gradient"], plain["gradient"]);
        assert!(plain.get("profile").is_none() && plain.get("library_loss").is_none());
    }
}

/// The knobs as keys, the one line in the text, and the defaults a library
/// brings when γ or α is not given.
#[test]
fn knobs_defaults_and_the_line_that_names_the_library() {
    let v = json(&["--profile", "kornia", "--target", "0"]);
    assert_eq!(
        (&v["alpha_placement"], &v["class_reduction"], &v["batch_reduction"], &v["library"]),
        (&"background_first".into(), &"sum".into(), &"mean_over_elements".into(), &"kornia 0.9".into())
    );
    assert!((v["library_loss"].as_f64().unwrap() - 0.017_523_88).abs() < 1e-8, "{v}");
    let u = json(&["--profile", "ultralytics"]);
    assert_eq!(
        (&u["mode"], &u["sigmoid_implied"], &u["gamma"], &u["alpha"]),
        (&"sigmoid".into(), &true.into(), &1.5.into(), &0.25.into())
    );
    assert_eq!(u["batch_reduction"], "sum_of_row_means");
    assert_eq!(json(&["--profile", "ultralytics", "--gamma", "3"])["gamma"], 3.0);
    assert_eq!(json(&["--profile", "monai"])["alpha"], "none");
    assert_eq!(json(&["--profile", "keras", "--sigmoid"])["alpha"], "none");
    assert_eq!(json(&["--profile", "keras"])["alpha"], 0.25);

    let out = run(&["calc", "--profile", "torchvision", "--target", "0"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().nth(1).unwrap();
    assert_eq!(
        line,
        "as torchvision 0.29 computes it: FL = 0.2093957; α on positives, 1 − α on negatives; summed over classes; \
         a batch: the mean over N·K elements (torchvision has only a sigmoid form: --sigmoid implied)"
    );
    let kornia = String::from_utf8(run(&["calc", "--profile", "kornia", "--target", "0"]).stdout).unwrap();
    assert!(
        kornia.contains("as kornia 0.9 computes it: FL = 0.01752388; class 0 gets 1 − α, every other class α;"),
        "{kornia}"
    );
}

/// Status 2, one line naming the flag and what the library cannot do,
/// nothing on stdout.
#[test]
fn what_a_library_cannot_express_is_an_error() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--profile", "pytorch"],
            "--profile: unknown profile `pytorch` (known: paper, torchvision, kornia, monai, keras, mmdet, ultralytics)",
        ),
        (&["--profile", "mmdet", "--alpha", "none"], "--profile mmdet: mmdet 3.3 cannot turn α off"),
        (
            &["--profile", "torchvision", "--alpha", "0.2 0.3 0.5"],
            "--profile torchvision: torchvision 0.29 takes one α, not one per class",
        ),
        (&["--profile", "kornia", "--label-smoothing", "0.1"], "--profile kornia: kornia 0.9 has no label smoothing"),
        (
            &["--profile", "kornia", "--sigmoid", "--target-probs", "0.2 1 0"],
            "--profile kornia: kornia 0.9's sigmoid form takes 0/1 labels: it weighs a soft label its own way",
        ),
        (
            &["--profile", "monai", "--sigmoid", "--target", "p: 0.5 0 1"],
            "--profile monai: MONAI 1.6's sigmoid form takes 0/1 labels: it weighs a soft label its own way",
        ),
        (
            &["--profile", "kornia", "--target-probs", "0.2 0.5 0.3"],
            "--profile kornia: kornia 0.9 takes one class index",
        ),
        (&["--profile", "mmdet", "--target", "0, 2"], "--profile mmdet: mmdet 3.3 takes one class index or background"),
    ];
    for (args, message) in cases {
        let out = run(&[&["calc"], *args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(String::from_utf8(out.stderr).unwrap(), format!("focal-tui: {message}\n"), "{args:?}");
    }
}

/// `data --profile`: each library's batches with class-index labels, as
/// CSV through the sweep, against the library's own value for its default
/// reduction (`mean` where the default is `none`).
#[test]
fn data_reduces_a_batch_as_the_library_does() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/profiles_cases.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let dir = std::env::temp_dir().join(format!("focal-tui-data-profiles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut checked = std::collections::BTreeMap::new();
    for (n, case) in doc["cases"].as_array().unwrap().iter().enumerate() {
        let name = case["profile"].as_str().unwrap();
        let reduction = if matches!(name, "torchvision" | "kornia") { "mean" } else { "default" };
        let labels: Option<Vec<u64>> =
            case.get("labels").and_then(|l| l.as_array().unwrap().iter().map(Value::as_u64).collect());
        let rows = case["logits"].as_array().unwrap();
        let (Some(labels), Some(alpha)) = (labels, case["alpha"].as_f64()) else { continue };
        if case["reduction"] != reduction || rows.len() < 2 {
            continue;
        }
        let csv: String = rows.iter().zip(&labels).map(|(z, t)| format!("{t},{}\n", list(z))).collect();
        let path = dir.join(format!("{n}.csv"));
        std::fs::write(&path, csv).unwrap();
        let (gamma, alpha) = (case["gamma"].to_string(), alpha.to_string());
        let mut args = vec!["data", "--json", "--csv", path.to_str().unwrap(), "--profile", name];
        args.extend(["--gammas", &gamma, "--alpha", &alpha]);
        if case["mode"] == "sigmoid" {
            args.push("--sigmoid");
        }
        let out = run(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let (got, want) = (v["library_loss"][0].as_f64().unwrap(), case["value"].as_f64().unwrap());
        let tol = match name {
            "monai" => 1e-4,
            "keras" => 1e-6,
            _ => 1e-9,
        };
        assert!((got - want).abs() <= tol * want.abs() + 1e-9 * f64::from(name == "monai"), "{got} ≠ {want}: {case}");
        assert_eq!(v["profile"], name);
        *checked.entry((name, case["mode"].as_str().unwrap())).or_insert(0) += 1;
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(checked.len(), 9, "{checked:?}");
}

/// `data --profile`: an unknown name, and a default α the sigmoid sweep cannot take.
#[test]
fn data_profile_errors() {
    let dir = std::env::temp_dir().join(format!("focal-tui-data-profile-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("d.csv");
    std::fs::write(&path, "0,1.5,-0.8,0.2\n1,0.1,0.2,3\n").unwrap();
    let csv = path.to_str().unwrap();
    for (args, message) in [
        (
            vec!["--profile", "nope"],
            "--profile: unknown profile `nope` (known: paper, torchvision, kornia, monai, keras, mmdet, ultralytics)",
        ),
        (
            vec!["--profile", "kornia", "--alpha", "0.1 0.2 0.3"],
            "--profile kornia: kornia 0.9 takes one α, not one per class",
        ),
    ] {
        let out = run(&[&["data", "--csv", csv][..], &args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        assert_eq!(String::from_utf8(out.stderr).unwrap(), format!("focal-tui: {message}\n"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The README's table of "Why does my number differ?" is what `calc
/// --profile` prints, to its four digits.
#[test]
fn the_readme_table_is_what_calc_prints() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section =
        readme.split("## Why does my number differ?").nth(1).expect("the section").split("\n## ").next().unwrap();
    let mut rows = 0;
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let flags: Vec<&str> = cells[1].split('`').nth(1).unwrap().split(' ').collect();
        for (t, cell) in [(0, cells[6]), (1, cells[7])] {
            let target = t.to_string();
            let mut args = vec!["--profile", flags[0], "--logits", "1.5, -0.8, 0.2", "--gamma", "2", "--alpha", "0.25"];
            args.extend(["--target", &target]);
            args.extend(&flags[1..]);
            let got = json(&args)["library_loss"].as_f64().unwrap();
            assert_eq!(sig4(got), sig4(cell.parse().unwrap()), "{line}");
        }
        rows += 1;
    }
    assert_eq!(rows, 11);
}

/// `x` to four significant digits.
fn sig4(x: f64) -> f64 {
    format!("{x:.3e}").parse().unwrap()
}
