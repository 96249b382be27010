//! What several integration tests need: the bytes of a `.npy` file,
//! reproducible pseudo-random numbers, the reference files' numbers and
//! scratch files.

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

/// A version 1.0 `.npy` file of `descr` and `shape` (Python's text, e.g.
/// `(2, 3)`) holding `data`, laid out as NumPy writes it (header padded to 64).
pub fn npy_file(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let order = if fortran { "True" } else { "False" };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// xorshift64 from a non-zero seed: the generator of `gen_sweep.py`.
pub struct XorShift(pub u64);

impl XorShift {
    /// The next word.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// The next word's top 53 bits as a value in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// xorshift64* from a non-zero seed.
pub struct XorShiftStar(pub u64);

impl XorShiftStar {
    /// The next value in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// A reference file's number: decimal digits in a string, as the mpmath
/// generators write them (Rust's parser rounds correctly, also for
/// exponents far outside f64).
pub fn ref_num(v: &serde_json::Value) -> f64 {
    v.as_str().expect("digits are strings").parse().expect("a decimal number")
}

/// A reference file's list of numbers.
pub fn ref_nums(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(ref_num).collect()
}

/// A reference file's α: one number, or a list of them (one per class).
pub fn ref_alpha(v: &serde_json::Value) -> focal_tui::loss::Alpha {
    match v {
        serde_json::Value::Array(_) => focal_tui::loss::Alpha::PerClass(ref_nums(v)),
        a => focal_tui::loss::Alpha::Scalar(ref_num(a)),
    }
}

/// A reference file's `cases` (its text, as `include_str!` gives it).
pub fn ref_cases(text: &str) -> Vec<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_str(text).expect("the reference parses");
    doc["cases"].as_array().expect("cases").clone()
}

/// A case's logits: listed, or made by the generator's formula
/// `((a·i + b) mod m) / scale − offset` for the K = 1 000 … cases.
pub fn ref_logits(case: &serde_json::Value) -> Vec<f64> {
    if let Some(z) = case.get("logits") {
        return ref_nums(z);
    }
    let g = &case["logits_gen"];
    let int = |k: &str| g[k].as_u64().expect("integer generator parameter");
    let (a, b, m) = (int("a"), int("b"), int("m"));
    let (scale, offset) = (g["scale"].as_f64().unwrap(), g["offset"].as_f64().unwrap());
    (0..int("k")).map(|i| ((a * i + b) % m) as f64 / scale - offset).collect()
}

/// A path for a file a test writes: `name` in the folder `dir` (one per
/// test binary) of cargo's scratch directory for integration tests.
pub fn scratch(dir: &str, name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// [`scratch`] holding `bytes`.
pub fn scratch_file(dir: &str, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = scratch(dir, name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_focal-tui");

/// The tests' data folder, where [`run`] runs the binary.
pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");

/// The binary run with `args` in [`DATA`].
pub fn run(args: &[&str]) -> std::process::Output {
    run_in(DATA, args)
}

/// The binary run with `args` in the folder `dir`.
pub fn run_in(dir: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN).args(args).current_dir(dir).output().expect("binary runs")
}

/// The JSON object a successful [`run`] prints.
pub fn json(args: &[&str]) -> serde_json::Value {
    let out = run(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// What a refused run says: status 2, nothing on stdout, one line on
/// stderr, returned without its `focal-tui: `.
pub fn refusal(out: &std::process::Output, args: &[&str]) -> String {
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "{args:?}: stdout {:?}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    let line = err.strip_suffix('\n').unwrap_or(&err);
    line.strip_prefix("focal-tui: ").unwrap_or(line).to_string()
}
