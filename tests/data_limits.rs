//! `focal-tui data` at the machine's limits, as a user meets them: memory
//! (a process capped with `ulimit -v`), open files (`ulimit -n`), FIFOs and
//! standard input, shapes far larger than their files. Each case either
//! works or fails with status 2 and one line; none panics, hangs or is
//! killed.

#![cfg(unix)]

mod common;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_focal-tui");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");

fn tmp(name: &str) -> PathBuf {
    common::scratch("data_limits", name)
}

/// A version 1.0 `.npy` file of `shape` (Python's text, e.g. `(2, 3)`)
/// whose data is `data`, then zeros up to `len` data bytes (a sparse file:
/// nothing is written for them).
fn npy(name: &str, descr: &str, shape: &str, data: &[u8], len: u64) -> PathBuf {
    let bytes = common::npy_file(descr, false, shape, data);
    let start = (bytes.len() - data.len()) as u64;
    let path = tmp(name);
    let file = std::fs::File::create(&path).unwrap();
    (&file).write_all(&bytes).unwrap();
    file.set_len(start + len.max(data.len() as u64)).unwrap();
    path
}

fn labels(name: &str, values: &[i64]) -> PathBuf {
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    npy(name, "<i8", &format!("({},)", values.len()), &data, 0)
}

/// The binary run by `sh` after `limits` (e.g. `ulimit -v 200000`), with
/// one malloc arena so that a virtual-memory cap measures what is
/// allocated, not the arenas each thread reserves.
fn run_limited(limits: &str, args: &[&str]) -> Output {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    Command::new("sh")
        .arg("-c")
        .arg(format!("{limits}; exec '{BIN}' {}", quoted.join(" ")))
        .env("MALLOC_ARENA_MAX", "1")
        // Each thread's parts hold their own loss histograms (sigmoid, 20 γs:
        // about 30 MiB of address space a part, mostly never touched): a
        // fixed count keeps the address-space bound the same on any machine.
        .env("RAYON_NUM_THREADS", "2")
        .current_dir(DATA)
        .stdin(Stdio::null())
        .output()
        .expect("sh runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn rows(out: &Output) -> u64 {
    assert!(out.status.success(), "status {:?}: {}", out.status, stderr(out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    v["rows"].as_u64().unwrap()
}

/// Status 2, nothing on stdout, and exactly `want` as the one line.
fn fails_with(out: &Output, want: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(out.stdout.is_empty());
    assert_eq!(stderr(out), format!("focal-tui: {want}\n"));
}

/// Twenty γs: per-class sums per γ are what made wide rows costly.
const GAMMAS: &str = "0,0.25,0.5,0.75,1,1.25,1.5,1.75,2,2.25,2.5,2.75,3,3.25,3.5,3.75,4,4.5,5,6";

#[test]
fn header_only_files_of_huge_shapes_are_no_rows_and_allocate_nothing() {
    let y = labels("empty_labels.npy", &[]);
    for (name, k) in [("empty_2_62.npy", 1u64 << 62), ("empty_1e9.npy", 1_000_000_000), ("empty_1e6.npy", 1_000_000)] {
        let z = npy(name, "<f4", &format!("(0, {k})"), &[], 0);
        let (z, y) = (z.to_str().unwrap(), y.to_str().unwrap());
        // 64 MB of address space: an allocation per class would not fit.
        let out = run_limited("ulimit -v 64000", &["data", "--logits", z, "--labels", y]);
        fails_with(&out, "no rows: the data is empty");
    }
}

#[test]
fn wide_rows_do_not_cost_per_class_sums_for_every_class() {
    // 10 rows of 100 000 classes, 20 γs: 4 MB of logits. Per-class sums
    // for every class in each part took ≈ 800 MB.
    let z = npy("wide_10x1e5.npy", "<f4", "(10, 100000)", &[], 4_000_000);
    let y = labels("wide_labels.npy", &(0..10).collect::<Vec<_>>());
    let (z, y) = (z.to_str().unwrap(), y.to_str().unwrap());
    for mode in ["--alpha=0.25", "--sigmoid"] {
        let out = run_limited(
            "ulimit -v 200000",
            &["data", "--logits", z, "--labels", y, "--gammas", GAMMAS, mode, "--json"],
        );
        assert_eq!(rows(&out), 10, "{mode}");
    }
    // Two CSV rows of 100 000 logits.
    let csv = tmp("wide.csv");
    let row = |label: u32| format!("{label},{}\n", vec!["0.5"; 100_000].join(","));
    std::fs::write(&csv, row(0) + &row(1)).unwrap();
    let out = run_limited("ulimit -v 160000", &["data", "--csv", csv.to_str().unwrap(), "--gammas", GAMMAS, "--json"]);
    assert_eq!(rows(&out), 2);
}

/// More shards than the limit of open files: each is opened when read.
#[test]
fn shards_beyond_the_open_file_limit() {
    let (z, y) = (format!("{DATA}logits_f4.npy"), format!("{DATA}labels_i8.npy"));
    let csv = tmp("shard.csv");
    std::fs::write(&csv, "label,a,b\n0,1,2\n1,0.5,-1\n").unwrap();
    let csv = csv.to_str().unwrap();
    let shards = 150;
    let mut npy_args = vec!["data", "--json"];
    let mut csv_args = vec!["data", "--json"];
    for _ in 0..shards {
        npy_args.extend(["--logits", &z, "--labels", &y]);
        csv_args.extend(["--csv", csv]);
    }
    // 150 shards of two files each would need 300 open at once.
    let limit = "ulimit -n 48";
    assert_eq!(rows(&run_limited(limit, &npy_args)), 6 * shards);
    assert_eq!(rows(&run_limited(limit, &csv_args)), 2 * shards);
}

/// Waits for `child` at most a minute (a hang fails the test, not the run).
fn wait(mut child: std::process::Child) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn fifos_and_standard_input_are_read_once_as_streams() {
    // Enough rows that the reader would split them among threads.
    let n = 20_000;
    let data: Vec<u8> = (0..n * 3).flat_map(|i| ((i % 7) as f32 - 3.0).to_le_bytes()).collect();
    let z = npy("stream_logits.npy", "<f4", &format!("({n}, 3)"), &data, 0);
    let y = labels("stream_labels.npy", &(0..n as i64).map(|i| i % 3).collect::<Vec<_>>());
    let report = |out: &Output| -> Value {
        assert!(out.status.success(), "{}", stderr(out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let file = report(
        &Command::new(BIN).args(["data", "--json", "--logits"]).arg(&z).arg("--labels").arg(&y).output().unwrap(),
    );
    // Read in order rather than in parts: the same rows, sums to the last bits or so.
    let same = |got: &Value, what: &str| {
        assert_eq!(got["rows"], file["rows"], "{what}");
        assert_eq!(got["per_class"][2]["count"], file["per_class"][2]["count"], "{what}");
        let (a, b) = (got["mean_cross_entropy"].as_f64().unwrap(), file["mean_cross_entropy"].as_f64().unwrap());
        assert!((a - b).abs() <= 1e-14 * b, "{what}: {a} vs {b}");
    };
    for which in ["logits", "labels"] {
        let fifo = tmp(&format!("fifo_{which}.npy"));
        let _ = std::fs::remove_file(&fifo);
        assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let source = if which == "logits" { z.clone() } else { y.clone() };
        let (zz, yy) = if which == "logits" { (&fifo, &y) } else { (&z, &fifo) };
        let child = Command::new(BIN)
            .args(["data", "--json", "--logits"])
            .arg(zz)
            .arg("--labels")
            .arg(yy)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let writer = std::thread::spawn(move || std::fs::write(&fifo, std::fs::read(source).unwrap()));
        let out = wait(child);
        writer.join().unwrap().unwrap();
        same(&report(&out), &format!("a FIFO of {which}"));
    }
    // `-` is standard input, in the format of the file it is paired with.
    for (args, input) in [
        (["--logits", "-", "--labels", y.to_str().unwrap()], &z),
        (["--logits", z.to_str().unwrap(), "--labels", "-"], &y),
    ] {
        let mut child = Command::new(BIN)
            .args(["data", "--json"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let bytes = std::fs::read(input).unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&bytes));
        let out = wait(child);
        writer.join().unwrap().unwrap();
        same(&report(&out), &format!("{args:?}"));
    }
}

#[test]
fn fortran_order_from_a_pipe_is_refused() {
    let mut child = Command::new(BIN)
        .args(["data", "--logits", "-", "--labels", "labels_i8.npy"])
        .current_dir(DATA)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(&std::fs::read(format!("{DATA}logits_fortran.npy")).unwrap());
    fails_with(
        &wait(child),
        "standard input: Fortran-order logits are read column by column, which a pipe cannot do: save np.ascontiguousarray(logits) or write them to a file",
    );
}
