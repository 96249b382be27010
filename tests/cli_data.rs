//! `focal-tui data` as a script sees it: the report of a dataset read from
//! .npy, CSV or standard input, and one line plus status 2 for bad data.
//! Expected means: mpmath at 50 digits on the fixture's exact values
//! (tests/data/gen_fixtures.py writes the fixtures).

mod common;
use common::npy_file;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_focal-tui");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(DATA)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    // The binary may stop before it reads its input (a bad command line).
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn json(args: &[&str], stdin: &str) -> Value {
    let out = run(args, stdin);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn close(v: &Value, want: f64) -> bool {
    (v.as_f64().unwrap() - want).abs() <= 1e-12 * want.abs()
}

#[test]
fn npy_report_has_the_keys_and_exact_means() {
    let v = json(&["data", "--logits", "logits_f4.npy", "--labels", "labels_i8.npy", "--json"], "");
    for key in ["rows", "classes", "mode", "accuracy", "mean_cross_entropy", "sweep", "per_class", "histogram"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!((v["rows"].as_u64(), v["classes"].as_u64(), v["mode"].as_str()), (Some(6), Some(3), Some("softmax")));
    // mpmath: mean CE 1.5042605311909905546, mean FL (γ 2, α 0.25) 0.30985678296661838039.
    assert!(close(&v["mean_cross_entropy"], 1.504_260_531_190_990_6));
    let sweep = v["sweep"].as_array().unwrap();
    assert_eq!(sweep.len(), 5);
    let g2 = sweep.iter().find(|s| s["gamma"] == 2.0).unwrap();
    assert!(close(&g2["mean_focal_loss"], 0.309_856_782_966_618_4));
    assert!(g2.get("easy_share").is_some());
    // The same data big-endian, as float64, and in Fortran order gives the same report.
    for logits in ["logits_f8_be.npy", "logits_fortran.npy"] {
        let w = json(&["data", "--logits", logits, "--labels", "labels_i8.npy", "--json"], "");
        assert_eq!(w["mean_cross_entropy"], v["mean_cross_entropy"], "{logits}");
    }
}

#[test]
fn csv_from_standard_input_and_shards() {
    let csv = "label,c0,c1\n0,2.0,-1.0\n1,0.5,0.25\n1,-3,4\n";
    let v = json(&["data", "--csv", "-", "--gammas", "0, 2", "--json"], csv);
    assert_eq!(v["rows"].as_u64(), Some(3));
    assert_eq!(v["sweep"].as_array().unwrap().len(), 2);
    // Two shards are one dataset: the same rows twice give the same means and twice the count.
    let dir = std::env::temp_dir().join(format!("focal-cli-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shard = dir.join("shard.csv");
    std::fs::write(&shard, csv).unwrap();
    let shard = shard.to_str().unwrap();
    let w = json(&["data", "--csv", shard, "--csv", shard, "--gammas", "0, 2", "--json"], "");
    assert_eq!(w["rows"].as_u64(), Some(6));
    assert!(close(&w["mean_cross_entropy"], v["mean_cross_entropy"].as_f64().unwrap()));
    let text = String::from_utf8(run(&["data", "--csv", shard], "").stdout).unwrap();
    assert!(text.contains("softmax focal loss · 3 rows · 2 classes · α = 0.25"), "{text}");
    assert!(text.contains("p_t histogram"), "{text}");
}

/// Old Mac files end their lines with a lone CR.
#[test]
fn csv_with_cr_line_ends() {
    let v = json(&["data", "--csv", "-", "--json"], "label,a,b\r0,1,2\r1,2,1\r");
    assert_eq!(v["rows"].as_u64(), Some(2));
}

#[test]
fn skip_invalid_reports_what_it_skipped() {
    let v = json(&["data", "--logits", "logits_f4.npy", "--labels", "labels_bad.npy", "--skip-invalid", "--json"], "");
    assert_eq!(v["rows"].as_u64(), Some(4));
    assert_eq!(v["skipped"][0]["reason"], "label out of range");
    assert_eq!(v["skipped"][0]["rows"].as_u64(), Some(2));
}

/// Bad data: status 2, nothing on stdout, one line naming the file and row.
#[test]
fn bad_data_is_one_line_and_status_2() {
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["data", "--logits", "logits_nonfinite.npy", "--labels", "labels_i8.npy"],
            "",
            "focal-tui: logits_nonfinite.npy: row 3: the logit of class 1 is NaN, not a finite number",
        ),
        (
            &["data", "--logits", "logits_f4.npy", "--labels", "labels_bad.npy"],
            "",
            "focal-tui: labels_bad.npy: row 2: label -1 is out of range: 3 classes give labels 0..2",
        ),
        (
            &["data", "--logits", "logits_f4.npy", "--labels", "labels_5.npy"],
            "",
            "focal-tui: logits_f4.npy: has 6 rows of logits but labels_5.npy has 5 labels: each example needs both",
        ),
        (
            &["data", "--logits", "truncated.npy", "--labels", "labels_i8.npy"],
            "",
            "focal-tui: truncated.npy: row 3: truncated: the file has 181 bytes but shape (6, 3) of '<f8' needs 272",
        ),
        (
            &["data", "--logits", "corrupt_header.npy", "--labels", "labels_i8.npy"],
            "",
            "focal-tui: corrupt_header.npy: corrupt header: unexpected ';' where `,` or `)` should be at character 53",
        ),
        (
            &["data", "--csv", "-"],
            "label,a,b\n1,0.5,2\n0,1\n",
            "focal-tui: standard input: row 3: has 2 values, expected 3 (a label and 2 logits) as in row 2",
        ),
        (
            &["data", "--csv", "-"],
            "1,0.5,inf\n",
            "focal-tui: standard input: row 1: column 3: `inf` is not a finite number",
        ),
        (
            &["data", "--csv", "-", "--alpha", "0.1 0.2 0.3"],
            "1,0.5,2\n",
            "focal-tui: --alpha: 2 logits need 1 α or 2 (one per class), got 3",
        ),
        (&["data"], "", "focal-tui: command line: no data: give --csv FILE, or --logits FILE --labels FILE"),
        // A bad first row is a row with an error, not a header.
        (
            &["data", "--csv", "-"],
            "0,1.2.3,2\n1,1,2\n0,2,1\n",
            "focal-tui: standard input: row 1: column 2: `1.2.3` is not a number",
        ),
        (
            &["data", "--csv", "logits_f4.npy"],
            "",
            "focal-tui: logits_f4.npy: is a NumPy .npy file, not text: pass .npy arrays as --logits FILE.npy --labels FILE.npy",
        ),
        (
            &["data", "--csv", "-", "--csv", "-"],
            "0,1,2\n",
            "focal-tui: command line: standard input (`-`) is given 2 times (--csv, --csv): it can be read only once",
        ),
        (
            &["data", "--logits", "-", "--labels", "-"],
            "0,1,2\n",
            "focal-tui: command line: standard input (`-`) is given 2 times (--logits, --labels): it can be read only once",
        ),
    ];
    for (args, stdin, want) in cases {
        let out = run(args, stdin);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        assert_eq!(String::from_utf8(out.stderr).unwrap(), format!("{want}\n"), "{args:?}");
    }
}

/// A class with no rows (a validation split without it, rows skipped, boolean
/// labels that are all true): the text report shows "–" for its means, and
/// JSON has no means for it and no `null` anywhere.
#[test]
fn a_class_without_rows_is_reported_without_means() {
    let dir = std::env::temp_dir().join(format!("focal-empty-class-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (z, y) = (dir.join("z.npy"), dir.join("y.npy"));
    let logits: Vec<u8> = [0.0f32, 1.0, 1.0, 0.0, 2.0, 0.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&z, npy_file("<f4", false, "(3, 2)", &logits)).unwrap();
    std::fs::write(&y, npy_file("|b1", false, "(3,)", &[1, 1, 1])).unwrap();
    let (z, y) = (z.to_str().unwrap(), y.to_str().unwrap());
    let cases: [(&[&str], &str, usize); 3] = [
        (&["data", "--csv", "-"], "0,1,2\n", 1),
        (&["data", "--csv", "-", "--skip-invalid"], "0,1,2\n1,nan,1\n", 1),
        (&["data", "--logits", z, "--labels", y], "", 0),
    ];
    for (args, stdin, empty) in cases {
        let out = run(args, stdin);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let row = text.lines().find(|l| l.trim_start().starts_with(&format!("{empty}      0"))).expect(&text);
        assert_eq!(row.split_whitespace().take(4).collect::<Vec<_>>(), [&empty.to_string(), "0", "–", "–"], "{text}");
        let json_args: Vec<&str> = args.iter().copied().chain(["--json"]).collect();
        let out = run(&json_args, stdin);
        let raw = String::from_utf8(out.stdout).unwrap();
        assert!(!raw.contains("null"), "{raw}");
        let v: Value = serde_json::from_str(&raw).unwrap();
        let class = &v["per_class"][empty];
        assert_eq!(class["count"], 0);
        assert!(class.get("accuracy").is_none() && class.get("mean_focal_loss").is_none(), "{class}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A file read in parts by every thread, with a bad row in several parts:
/// the row named is the first in row order, whichever part was read first,
/// and nothing reaches standard output.
#[test]
fn of_several_bad_rows_in_parts_the_first_is_named() {
    let (rows, k) = (200_000usize, 4usize);
    let mut z: Vec<f32> = (0..rows * k).map(|i| (i % 7) as f32 - 3.0).collect();
    for bad in [150_000, 61_234, 190_000] {
        z[bad * k + 1] = f32::NAN;
    }
    let bytes: Vec<u8> = z.iter().flat_map(|v| v.to_le_bytes()).collect();
    let labels: Vec<u8> = (0..rows as i64).flat_map(|i| (i % k as i64).to_le_bytes()).collect();
    let dir = std::env::temp_dir().join(format!("focal-tui-parts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (zp, yp) = (dir.join("z.npy"), dir.join("y.npy"));
    std::fs::write(&zp, npy_file("<f4", false, &format!("({rows}, {k})"), &bytes)).unwrap();
    std::fs::write(&yp, npy_file("<i8", false, &format!("({rows},)"), &labels)).unwrap();
    let (zs, ys) = (zp.to_str().unwrap(), yp.to_str().unwrap());
    for _ in 0..3 {
        let out = run(&["data", "--logits", zs, "--labels", ys, "--json"], "");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(out.stdout.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
        // Rows are named from 1.
        assert!(err.contains("row 61235:") && err.contains("NaN"), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
