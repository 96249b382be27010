//! `.npz` and `.safetensors` containers (issue 17): the reports on a
//! container equal, bit for bit, those on the same arrays as `.npy` (whose
//! numbers tests/cli_tensors.rs and tests/data_read.rs pin against mpmath
//! and NumPy); a deflated member reads the same rows, and its report
//! differs only by the order of the sums (it is read in order, not split
//! among threads); every defect is one line naming the file; no corrupt
//! bytes make the reader panic.
//!
//! The containers in tests/data/containers/ are written by NumPy and
//! safetensors themselves (tests/reference/gen_containers.py).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::Parser;
use common::{BIN, DATA};
use focal_tui::cli::{Cli, DataArgs, TensorArgs};
use focal_tui::data::container::{LABELS, LOGITS, labels_beside, locate};
use focal_tui::data::npy;
use focal_tui::data::run;
use focal_tui::data::source::Options;
use proptest::prelude::*;
use serde_json::Value;

/// `data --json` with `args` (split at spaces); its standard output.
fn report(args: &str) -> String {
    let mut all = vec!["data", "--json"];
    all.extend(args.split_whitespace());
    let out = common::run(&all);
    assert!(out.status.success(), "{args}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// `data` with `args` (split at spaces) must fail: [`common::refusal`].
fn failure(args: &str) -> String {
    let mut all = vec!["data"];
    all.extend(args.split_whitespace());
    common::refusal(&common::run(&all), &all)
}

/// Stored `.npz` members and safetensors tensors are read in place, split
/// among threads like a `.npy`: the same report to the last bit.
#[test]
fn stored_npz_and_safetensors_report_bit_for_bit_what_the_npy_does() {
    let seg = "--logits tensors/seg_logits.npy --labels tensors/seg_labels.npy";
    let segf = "--logits tensors/seg_logits_fortran.npy --labels tensors/seg_labels_fortran.npy";
    let det = "--logits tensors/det_logits.npy --labels tensors/det_labels.npy";
    let seq = "--logits tensors/seq_logits.npy --labels tensors/seq_labels_flat.npy";
    let f8 = "--logits logits_f8.npy --labels labels_i8.npy";
    let dt = "containers/dtypes.safetensors";
    let cases = [
        ("--logits containers/seg.npz", seg, "--ignore-index 255"),
        ("--logits containers/seg.npz:logits --labels containers/seg.npz:labels", seg, "--ignore-index 255"),
        ("--logits containers/seg.npz", seg, "--ignore-index 255 --sigmoid"),
        ("--logits containers/seg_fortran.npz", segf, "--ignore-index 255"),
        ("--logits containers/det.safetensors", det, "--class-axis -1 --ignore-index -100 --sigmoid"),
        ("--logits containers/seq_named.npz:scores --labels containers/seq_named.npz:targets", seq, ""),
        // Every float dtype of the same values, and labels saved as floats.
        (&format!("--logits {dt}:f16 --labels {dt}:labels"), f8, ""),
        (&format!("--logits {dt}:bf16 --labels {dt}:labels"), f8, ""),
        (&format!("--logits {dt}:f64 --labels {dt}:labels"), f8, ""),
        (&format!("--logits {dt}:f64 --labels {dt}:labels_f32"), f8, ""),
        (&format!("--logits {dt}:f32"), "--logits logits_f4.npy --labels labels_i8.npy", ""),
        // A container's labels with .npy logits, and the other way round.
        (&format!("--logits logits_f8.npy --labels {dt}"), f8, ""),
        (&format!("--logits {dt}:f64 --labels labels_i8.npy"), f8, ""),
    ];
    for (container, npy, flags) in cases {
        assert_eq!(report(&format!("{container} {flags}")), report(&format!("{npy} {flags}")), "{container} {flags}");
    }
}

/// Every row of `logits`/`labels` (as `data` names them), read `batch` at a time.
fn rows(logits: &str, labels: Option<&str>, batch: usize, options: Options) -> (Vec<f64>, Vec<usize>) {
    let z = Path::new(DATA).join(logits);
    let z_at = locate(&z, LOGITS).unwrap();
    let y_at = match labels {
        Some(y) => locate(&Path::new(DATA).join(y), LABELS).unwrap(),
        None => labels_beside(&z).unwrap(),
    };
    let mut source = npy::open_located(&z_at, &y_at, options).unwrap();
    let (mut zs, mut ys) = (Vec::new(), Vec::new());
    while source.read(batch, &mut zs, &mut ys).unwrap() > 0 {}
    (zs, ys)
}

/// A deflated member is inflated as a stream, its class planes read in
/// strips from a window of one item: the same rows as the `.npy`, in any
/// batch size.
#[test]
fn deflated_members_read_the_same_rows_as_the_npy() {
    let ignore = Options { ignore_index: Some(255), ..Options::default() };
    let cases = [
        ("containers/seg_deflated.npz", None, "tensors/seg_logits.npy", "tensors/seg_labels.npy"),
        (
            "containers/seg_fortran_deflated.npz",
            None,
            "tensors/seg_logits_fortran.npy",
            "tensors/seg_labels_fortran.npy",
        ),
        (
            "containers/seq_named_deflated.npz:scores",
            Some("containers/seq_named_deflated.npz:targets"),
            "tensors/seq_logits.npy",
            "tensors/seq_labels_flat.npy",
        ),
        ("containers/small_deflated.npz", None, "logits_f4.npy", "labels_i8.npy"),
    ];
    for (z, y, npy_z, npy_y) in cases {
        let want = rows(npy_z, Some(npy_y), 10_000, ignore);
        assert!(!want.1.is_empty());
        for batch in [1, 3, 7, 10_000] {
            let got = rows(z, y, batch, ignore);
            assert_eq!(got.1, want.1, "{z} labels, batch {batch}");
            let (g, w): (Vec<u64>, Vec<u64>) =
                (got.0.iter().map(|v| v.to_bits()).collect(), want.0.iter().map(|v| v.to_bits()).collect());
            assert_eq!(g, w, "{z} logits, batch {batch}");
        }
    }
}

/// An item whose class planes exceed the window is read by one inflater
/// per plane: the same rows as the same arrays written as `.npy`.
#[test]
fn a_deflated_item_larger_than_the_window_reads_the_same_rows() {
    let (h, w) = (1024usize, 1024usize);
    let mut logits = Vec::with_capacity(3 * h * w * 4);
    for c in 0..3 {
        for p in 0..h * w {
            logits.extend_from_slice(&(c as f32 + (p % 7) as f32 * 0.25).to_le_bytes());
        }
    }
    let labels: Vec<u8> = (0..h * w).map(|p| (p % 3) as u8).collect();
    let z = common::scratch_file(
        "data_containers",
        "big_z.npy",
        &common::npy_file("<f4", false, "(1, 3, 1024, 1024)", &logits),
    );
    let y = common::scratch_file(
        "data_containers",
        "big_y.npy",
        &common::npy_file("|u1", false, "(1, 1024, 1024)", &labels),
    );
    let want = rows(z.to_str().unwrap(), Some(y.to_str().unwrap()), 100_000, Options::default());
    assert_eq!(want.1.len(), h * w);
    let got = rows("containers/big_item_deflated.npz", None, 100_000, Options::default());
    assert_eq!(got.1, want.1);
    assert!(got.0.iter().zip(&want.0).all(|(a, b)| a.to_bits() == b.to_bits()), "logits differ");
}

/// The report on a deflated member: its counts exact, its sums equal to
/// the `.npy`'s up to the order of the additions; and bit for bit the
/// report of the same `.npy` read in order (from standard input).
#[test]
fn deflated_reports_equal_the_npy_up_to_the_order_of_the_sums() {
    let a: Value = serde_json::from_str(&report("--logits containers/seg_deflated.npz --ignore-index 255")).unwrap();
    let b: Value = serde_json::from_str(&report(
        "--logits tensors/seg_logits.npy --labels tensors/seg_labels.npy --ignore-index 255",
    ))
    .unwrap();
    fn close(path: &str, a: &Value, b: &Value) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>(), "{path}");
                x.iter().for_each(|(k, v)| close(&format!("{path}.{k}"), v, &y[k]));
            }
            (Value::Array(x), Value::Array(y)) => {
                assert_eq!(x.len(), y.len(), "{path}");
                x.iter().zip(y).enumerate().for_each(|(i, (u, v))| close(&format!("{path}[{i}]"), u, v));
            }
            (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
                let (u, v) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                assert!((u - v).abs() <= 1e-14 * v.abs().max(1e-300), "{path}: {u} against {v}");
            }
            _ => assert_eq!(a, b, "{path}"),
        }
    }
    close("report", &a, &b);
    assert_eq!(a["rows"], 56);
    assert_eq!(a["ignored"], b["ignored"]);

    let mut child = Command::new(BIN)
        .args(["data", "--json", "--logits", "-", "--labels", "labels_i8.npy"])
        .current_dir(DATA)
        .stdin(Stdio::from(std::fs::File::open(Path::new(DATA).join("logits_f4.npy")).unwrap()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut piped = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut piped).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(report("--logits containers/small_deflated.npz"), piped);
}

/// `--skip-invalid`, `--ignore-index` and shards work on container arrays.
#[test]
fn skip_invalid_ignore_index_and_shards_work_on_containers() {
    let dt = "containers/dtypes.safetensors";
    let skipped: Value =
        serde_json::from_str(&report(&format!("--logits {dt}:f64 --labels {dt}:labels_void --skip-invalid"))).unwrap();
    assert_eq!(skipped["rows"], 5);
    assert_eq!(skipped["skipped"], serde_json::json!([{"reason": "label out of range", "rows": 1}]));
    let ignored: Value =
        serde_json::from_str(&report(&format!("--logits {dt}:f64 --labels {dt}:labels_void --ignore-index 255")))
            .unwrap();
    assert_eq!((ignored["rows"].clone(), ignored["ignored"].clone()), (5.into(), 1.into()));
    // Two containers, no --labels: each holds its own.
    let shards: Value = serde_json::from_str(&report(
        "--logits containers/seg.npz --logits containers/seg_deflated.npz --ignore-index 255",
    ))
    .unwrap();
    assert_eq!(shards["rows"], 112);
}

/// A file whose whole name is an existing path is that file, even with a
/// colon in it; otherwise `FILE:NAME` picks an array.
#[test]
fn a_colon_in_an_existing_path_is_part_of_the_name() {
    let dir = common::scratch("data_containers", "x");
    let odd = dir.with_file_name("odd:name.npz");
    std::fs::copy(Path::new(DATA).join("containers/seg.npz"), &odd).unwrap();
    let path = odd.to_str().unwrap();
    assert_eq!(
        report(&format!("--logits {path} --ignore-index 255")),
        report(&format!("--logits {path}:logits --labels {path}:labels --ignore-index 255"))
    );
}

/// The explorer's `--data` takes the same containers; one holding `labels`
/// needs no `--labels`.
#[test]
fn the_explorer_loads_a_container_without_labels() {
    let path = format!("{DATA}containers/small_deflated.npz");
    let cli = Cli::parse_from(["focal-tui", "--data", &path]);
    let loaded = run::load(&cli.data_args().unwrap()).unwrap();
    assert_eq!(loaded.examples.len(), 6);
    assert_eq!(loaded.examples.classes(), 3);
    let named = format!("{DATA}containers/seq_named.npz:scores");
    let labels = format!("{DATA}containers/seq_named.npz:targets");
    let cli = Cli::parse_from(["focal-tui", "--data", &named, "--labels", &labels]);
    assert_eq!(run::load(&cli.data_args().unwrap()).unwrap().examples.len(), 12);
}

#[test]
fn every_defect_is_one_line_naming_the_file() {
    let c = "containers";
    let dt = "containers/dtypes.safetensors";
    let cases = [
        (
            format!("--logits {c}/seg.npz:nope"),
            "containers/seg.npz: no array named 'nope' (it holds logits, labels): pick one with FILE:NAME".to_string(),
        ),
        (
            format!("--logits {c}/no_labels.npz"),
            "containers/no_labels.npz: no --labels, and no array named 'labels' (it holds logits): pick one with FILE:NAME".into(),
        ),
        (
            format!("--logits {c}/seq_named.npz"),
            "containers/seq_named.npz: no array named 'logits' (it holds scores, targets): pick one with FILE:NAME".into(),
        ),
        (
            format!("--logits {c}/bad_crc.npz --ignore-index 255"),
            "containers/bad_crc.npz:logits: read failed: CRC-32 mismatch: the member inflates to 9e15c447, the zip directory says c44f9e1d".into(),
        ),
        (
            format!("--logits {c}/truncated.npz"),
            "containers/truncated.npz: not a readable .npz (zip archive): invalid Zip archive: Could not find EOCD; is it truncated?".into(),
        ),
        (
            format!("--logits {c}/not_a_zip.npz"),
            "containers/not_a_zip.npz: not a readable .npz (zip archive): invalid Zip archive: Could not find EOCD; is it truncated?".into(),
        ),
        (
            format!("--logits {c}/truncated.safetensors"),
            "containers/truncated.safetensors: truncated: the header's tensors end at byte 522 but the file has 514".into(),
        ),
        (
            format!("--logits {c}/bad_header.safetensors"),
            "containers/bad_header.safetensors: bad safetensors header: missing field `dtype` at line 1 column 129".into(),
        ),
        (
            format!("--logits {dt}:ints"),
            "containers/dtypes.safetensors:ints: logits of dtype I32 are not supported: expected F16, BF16, F32 or F64".into(),
        ),
        (
            format!("--logits {dt}:f64 --labels {dt}:complex"),
            "containers/dtypes.safetensors:complex: labels of dtype C64 are not supported: expected an integer, BOOL or float dtype (save y.to(torch.int64))".into(),
        ),
        (
            format!("--logits {dt}:bf16_inf"),
            "containers/dtypes.safetensors:bf16_inf: row 3: the logit of class 1 is inf, not a finite number".into(),
        ),
        (
            format!("--logits {dt}:f64 --labels {dt}:labels_half"),
            "containers/dtypes.safetensors:labels_half: row 6: the label is not a whole number: float labels must be class indices".into(),
        ),
        (
            format!("--logits {dt}:f64 --labels {dt}:labels_void"),
            "containers/dtypes.safetensors:labels_void: row 3: label 255 is out of range: 3 classes give labels 0..2 (if it marks positions to leave out, pass --ignore-index 255)".into(),
        ),
        (
            format!("--logits {c}/many_planes_deflated.npz"),
            "containers/many_planes_deflated.npz:logits: a deflated member with the class axis not last in memory is read by one inflater per class plane when an item's planes exceed 8.39 MB (8.52 MB here), and 65 planes are more than 64: save it with np.savez (stored), not np.savez_compressed".into(),
        ),
        (
            "--logits logits_f8.npy:x --labels labels_i8.npy".into(),
            "logits_f8.npy: ':x' picks an array of a .npz or .safetensors container, and this is not one".into(),
        ),
        (
            "--logits logits_f8.npy".into(),
            "logits_f8.npy: no --labels: give --labels FILE (only a .npz or .safetensors holding an array named 'labels' needs none)".into(),
        ),
    ];
    for (args, want) in cases {
        assert_eq!(failure(&args), want, "{args}");
    }
}

/// Bytes with some changed, cut short, or with a run inserted.
fn mutate(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = base.len();
    (prop::collection::vec((0..len, any::<u8>()), 0..6), 0..=len, prop::collection::vec(any::<u8>(), 0..4), 0..=len)
        .prop_map(move |(flips, cut, insert, at)| {
            let mut b = base.clone();
            for (i, v) in flips {
                b[i] = v;
            }
            let at = at.min(cut);
            b.truncate(cut);
            b.splice(at..at, insert);
            b
        })
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(DATA).join("containers").join(name)).unwrap()
}

/// A report, or one line naming the container: never a panic.
fn report_or_one_line(path: PathBuf, args: DataArgs) {
    let shown = path.display().to_string();
    match run::run(&DataArgs { logits: vec![path], json: true, ..args }) {
        Ok(report) => assert!(report.starts_with('{'), "{report}"),
        Err(message) => {
            assert!(!message.contains(['\n', '\r']), "{message:?}");
            assert!(message.starts_with(&shown), "{message:?} does not name {shown}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn corrupt_npz_is_a_report_or_one_line(
        stored in mutate(fixture_bytes("seg.npz")),
        deflated in mutate(fixture_bytes("seg_deflated.npz")),
        skip in any::<bool>(),
    ) {
        let args = DataArgs { tensor: TensorArgs { ignore_index: Some(255), class_axis: None }, skip_invalid: skip, ..DataArgs::default() };
        report_or_one_line(common::scratch_file("data_containers", "fuzz.npz", &stored), args.clone());
        report_or_one_line(common::scratch_file("data_containers", "fuzz_deflated.npz", &deflated), args);
    }

    #[test]
    fn corrupt_safetensors_is_a_report_or_one_line(
        bytes in mutate(fixture_bytes("det.safetensors")),
        skip in any::<bool>(),
    ) {
        let args = DataArgs { tensor: TensorArgs { class_axis: Some(-1), ignore_index: Some(-100) }, skip_invalid: skip, ..DataArgs::default() };
        report_or_one_line(common::scratch_file("data_containers", "fuzz.safetensors", &bytes), args);
    }
}
