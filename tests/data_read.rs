//! The dataset readers: every supported layout reads back the same rows in
//! any batch size, every defect gives its exact message (file and row),
//! `skip_invalid` counts what it skips, and no bytes at all make a reader
//! panic or hand out a non-finite logit or an out-of-range label.
//!
//! The `.npy` fixtures in `tests/data/` are NumPy's own output
//! (`tests/data/gen_fixtures.py`); other files are written here, into
//! `CARGO_TARGET_TMPDIR`.

mod common;
use common::{XorShiftStar, npy_file};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use focal_tui::data::csv;
use focal_tui::data::npy;
use focal_tui::data::source::{Chain, DataError, Source};
use proptest::prelude::*;

/// The logits of every fixture (tests/data/gen_fixtures.py's `Z`), row-major.
const Z: [f64; 18] =
    [1.5, -0.25, 0.0, -2.0, 3.75, 0.5, 0.25, 0.125, -1.0, 4.0, -4.0, 2.5, -0.5, 1.0, 1.25, 0.75, -3.5, 2.0];
const Y: [usize; 6] = [0, 1, 2, 0, 2, 1];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// A fresh path for a file written by a test (each test uses its own names).
fn tmp(name: &str) -> PathBuf {
    common::scratch("data_read", name)
}

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    common::scratch_file("data_read", name, bytes)
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// The error of an open that must fail (`Box<dyn Source>` is not `Debug`).
fn open_err(r: Result<Box<dyn Source>, DataError>) -> DataError {
    match r {
        Ok(_) => panic!("open should fail"),
        Err(e) => e,
    }
}

type Rows = (Vec<f64>, Vec<usize>);

/// Every row, read `batch` rows at a time; checks each call's contract.
fn read_all(source: &mut dyn Source, batch: usize) -> Result<Rows, DataError> {
    let k = source.classes();
    let (mut logits, mut labels) = (Vec::new(), Vec::new());
    loop {
        let before = labels.len();
        let n = source.read(batch, &mut logits, &mut labels)?;
        assert!(n <= batch, "{n} rows for a batch of {batch}");
        assert_eq!(labels.len(), before + n);
        assert_eq!(logits.len(), labels.len() * k);
        if n == 0 {
            // The end stays the end.
            assert_eq!(source.read(batch, &mut logits, &mut labels)?, 0);
            return Ok((logits, labels));
        }
    }
}

fn read_ok(source: Result<Box<dyn Source>, DataError>, batch: usize) -> Rows {
    let mut source = source.unwrap_or_else(|e| panic!("open: {e}"));
    read_all(source.as_mut(), batch).unwrap_or_else(|e| panic!("read: {e}"))
}

/// The first error a read gives (after opening successfully).
fn read_err(source: Result<Box<dyn Source>, DataError>) -> DataError {
    let mut source = source.unwrap_or_else(|e| panic!("open: {e}"));
    read_all(source.as_mut(), 4).expect_err("reading should fail")
}

/// Rows of `Z`/`Y` kept, by 0-based index.
fn rows_of(keep: &[usize]) -> Rows {
    (keep.iter().flat_map(|&r| Z[r * 3..r * 3 + 3].to_vec()).collect(), keep.iter().map(|&r| Y[r]).collect())
}

fn f8_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn i8_bytes(values: &[i64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

// ---------------------------------------------------------------- .npy

#[test]
fn npy_every_dtype_order_and_version_reads_the_same_rows() {
    let logits = [
        "logits_f8.npy",
        "logits_f4.npy",
        "logits_f2.npy",
        "logits_f8_be.npy",
        "logits_f4_be.npy",
        "logits_fortran.npy",
        "logits_v2.npy",
        "logits_v3.npy",
    ];
    let labels = ["labels_i8.npy", "labels_u1.npy", "labels_i4.npy", "labels_i4_be.npy", "labels_u2_be.npy"];
    for z in logits {
        for y in labels {
            let source = npy::open(&fixture(z), &fixture(y), false);
            assert_eq!(source.as_ref().map(|s| s.classes()).ok(), Some(3), "{z} {y}");
            assert_eq!(read_ok(source, 4), (Z.to_vec(), Y.to_vec()), "{z} {y}");
        }
    }
}

#[test]
fn npy_labels_of_every_integer_width_and_byte_order() {
    let z = write("widths_z.npy", &npy_file("<f8", false, "(4, 3)", &f8_bytes(&Z[..12])));
    // Booleans (`|b1`) hold no -1 and no largest value: below.
    for &(descr, size, signed) in LABEL_DTYPES.iter().filter(|d| d.0 != "|b1") {
        // 0, 2, 1, then -1 (signed) or the largest value (unsigned).
        let mut data = Vec::new();
        for v in [0i128, 2, 1, -1] {
            let bytes = v.to_le_bytes();
            let mut item = bytes[..size].to_vec();
            if descr.starts_with('>') {
                item.reverse();
            }
            data.extend(item);
        }
        let y = write("widths_y.npy", &npy_file(descr, false, "(4,)", &data));
        let last = if signed { "-1".to_string() } else { (u128::MAX >> (128 - 8 * size)).to_string() };
        let e = read_err(npy::open(&z, &y, false));
        // u8's largest value is segmentation's void label: the message names the flag that leaves it out.
        let hint = if last == "255" { " (if it marks positions to leave out, pass --ignore-index 255)" } else { "" };
        assert_eq!(e.message, format!("label {last} is out of range: 3 classes give labels 0..2{hint}"), "{descr}");
        assert_eq!(e.row, Some(4));
        let mut s = npy::open(&z, &y, true).unwrap();
        assert_eq!(read_all(s.as_mut(), 2).unwrap(), (Z[..9].to_vec(), vec![0, 2, 1]), "{descr}");
    }
    // Booleans are labels 0 and 1.
    let y = write("widths_b1.npy", &npy_file("|b1", false, "(4,)", &[0, 1, 1, 0]));
    assert_eq!(read_ok(npy::open(&z, &y, false), 3).1, vec![0, 1, 1, 0]);
}

#[test]
fn npy_headers_parse_in_every_version() {
    for (name, version, offset) in
        [("logits_f8.npy", (1, 0), 128), ("logits_v2.npy", (2, 0), 128), ("logits_v3.npy", (3, 0), 128)]
    {
        let mut file = std::fs::File::open(fixture(name)).unwrap();
        let h = npy::read_header(&mut file, name).unwrap();
        assert_eq!(
            h,
            npy::Header { version, descr: "<f8".into(), fortran_order: false, shape: vec![6, 3], data_offset: offset },
            "{name}"
        );
    }
    let mut fortran = std::fs::File::open(fixture("logits_fortran.npy")).unwrap();
    assert!(npy::read_header(&mut fortran, "f").unwrap().fortran_order);
    // Python 2 longs, double quotes, no trailing comma, extra keys.
    let dict = "{\"shape\": (2L, 3L), \"fortran_order\": False, \"descr\": \"<f8\", \"x\": [None]}\n";
    let mut odd = b"\x93NUMPY\x01\x00".to_vec();
    odd.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    odd.extend_from_slice(dict.as_bytes());
    let h = npy::read_header(&mut &odd[..], "odd").unwrap();
    assert_eq!((h.descr.as_str(), h.shape.as_slice(), h.data_offset), ("<f8", &[2, 3][..], 10 + dict.len() as u64));
}

#[test]
fn npy_batches_of_any_size_give_the_same_rows() {
    // Fortran order: a batch reads K runs of rows, crossing the columns.
    let c = read_ok(npy::open(&fixture("fortran_23x4_c.npy"), &fixture("labels_23.npy"), false), 10_000);
    assert_eq!((c.0.len(), c.1.len()), (92, 23));
    for batch in [1, 7, 10_000] {
        for z in ["fortran_23x4.npy", "fortran_23x4_c.npy"] {
            assert_eq!(read_ok(npy::open(&fixture(z), &fixture("labels_23.npy"), false), batch), c, "{z} {batch}");
        }
    }
    // Skipping keeps batches full: 1, 7 or all rows at a time, the same rows.
    for batch in [1, 2, 7, 10_000] {
        let r = read_ok(npy::open(&fixture("logits_nonfinite.npy"), &fixture("labels_bad.npy"), true), batch);
        assert_eq!(r, rows_of(&[0, 5]), "{batch}");
    }
}

/// The parts of a split, read one after another.
fn read_split(mut source: Box<dyn Source>, parts: usize, batch: usize) -> (Rows, Vec<(String, u64)>, usize) {
    let split = source.split(parts).expect("splits").expect("reopens");
    let count = split.len();
    let (mut rows, mut skipped): (Rows, Vec<(String, u64)>) = Default::default();
    for mut part in split {
        assert_eq!(part.classes(), source.classes());
        let (z, y) = read_all(part.as_mut(), batch).unwrap();
        rows.0.extend(z);
        rows.1.extend(y);
        skipped.extend(part.skipped());
    }
    (rows, skipped, count)
}

#[test]
fn npy_splits_into_consecutive_parts_that_read_the_same_rows() {
    let c = read_ok(npy::open(&fixture("fortran_23x4_c.npy"), &fixture("labels_23.npy"), false), 10_000);
    for z in ["fortran_23x4.npy", "fortran_23x4_c.npy"] {
        for (parts, batch) in [(1, 5), (2, 1), (3, 4), (23, 2), (40, 3)] {
            let source = npy::open(&fixture(z), &fixture("labels_23.npy"), false).unwrap();
            let (rows, skipped, count) = read_split(source, parts, batch);
            assert_eq!(rows, c, "{z} in {parts} parts");
            assert!(skipped.is_empty());
            assert_eq!(count, parts.min(23), "{z}: {parts} parts of 23 rows");
        }
    }
    // Part i of P has a share P − i of the rows: threads taking the parts
    // in order finish close together.
    let split = npy::open(&fixture("fortran_23x4_c.npy"), &fixture("labels_23.npy"), false).unwrap().split(4);
    let sizes: Vec<usize> =
        split.unwrap().unwrap().into_iter().map(|mut p| read_all(p.as_mut(), 100).unwrap().1.len()).collect();
    assert_eq!(sizes, [9, 7, 4, 3]);
    // A source split after a first batch splits what is left.
    let mut s = npy::open(&fixture("fortran_23x4_c.npy"), &fixture("labels_23.npy"), false).unwrap();
    let (mut z, mut y) = (Vec::new(), Vec::new());
    assert_eq!(s.read(5, &mut z, &mut y).unwrap(), 5);
    let (rows, _, _) = read_split(s, 2, 3);
    assert_eq!((rows.0.as_slice(), rows.1.as_slice()), (&c.0[20..], &c.1[5..]));
    // Skips are counted by the part that meets them.
    let s = npy::open(&fixture("logits_nonfinite.npy"), &fixture("labels_bad.npy"), true).unwrap();
    let (rows, skipped, _) = read_split(s, 2, 7);
    assert_eq!(rows, rows_of(&[0, 5]));
    let total = |reason: &str| skipped.iter().filter(|(r, _)| r == reason).map(|(_, n)| n).sum::<u64>();
    assert_eq!((total("label out of range"), total("non-finite logit")), (2, 2));
    // Text is read in order only.
    assert!(labelled("0,1,2\n", false).unwrap().split(2).is_none());
}

/// Every row, each batch lent where the source lends it and read
/// otherwise; also the number of batches lent.
fn lend_all(source: &mut dyn Source, batch: usize) -> Result<(Rows, usize), DataError> {
    let k = source.classes();
    let (mut rows, mut lent): (Rows, usize) = Default::default();
    loop {
        match source.lend(batch) {
            Some(Ok(0)) => return Ok((rows, lent)),
            Some(Ok(n)) => {
                let (z, y) = source.lent();
                assert!(n <= batch && y.len() == n && z.len() == n * k, "{n} rows lent for a batch of {batch}");
                rows.0.extend(z.iter().map(|&v| f64::from(v)));
                rows.1.extend_from_slice(y);
                lent += 1;
            }
            Some(Err(e)) => return Err(e),
            None => {
                if source.read(batch, &mut rows.0, &mut rows.1)? == 0 {
                    return Ok((rows, lent));
                }
            }
        }
    }
}

#[test]
fn npy_float32_rows_are_lent_as_stored_and_invalid_batches_read() {
    // Little-endian float32 in C order is lent; other dtypes and orders never.
    for (z, lends) in [("logits_f4.npy", true), ("logits_f4_be.npy", false), ("logits_f8.npy", false)] {
        for batch in [1, 4, 100] {
            let mut s = npy::open(&fixture(z), &fixture("labels_i8.npy"), false).unwrap();
            let (rows, lent) = lend_all(s.as_mut(), batch).unwrap();
            assert_eq!(rows, (Z.to_vec(), Y.to_vec()), "{z} {batch}");
            assert_eq!(lent > 0, lends, "{z} {batch}");
        }
    }
    // Row 2 has a NaN logit and row 4 a label out of range: their batches
    // are read instead (skipped and counted, or an error), the others lent.
    let mut z = Z.map(|v| v as f32);
    z[2 * 3 + 1] = f32::NAN;
    let logits = write(
        "lend_nan.npy",
        &npy_file("<f4", false, "(6, 3)", &z.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>()),
    );
    let mut y = Y.map(|v| v as i64);
    y[4] = 3;
    let labels = write("lend_bad.npy", &npy_file("<i8", false, "(6,)", &i8_bytes(&y)));
    let mut s = npy::open(&logits, &labels, true).unwrap();
    let (rows, lent) = lend_all(s.as_mut(), 2).unwrap();
    assert_eq!((rows, lent), (rows_of(&[0, 1, 3, 5]), 1));
    assert_eq!(s.skipped(), vec![("non-finite logit".to_string(), 1), ("label out of range".to_string(), 1)]);
    let mut s = npy::open(&logits, &labels, false).unwrap();
    let e = lend_all(s.as_mut(), 2).unwrap_err();
    assert_eq!((e.file, e.row), (shown(&logits), Some(3)));
    // Shards and parts lend too, in order.
    let shard = || npy::open(&fixture("logits_f4.npy"), &fixture("labels_i8.npy"), false).unwrap();
    let mut chain = Chain::new(vec![("a".into(), shard()), ("b".into(), shard())]).unwrap();
    let (rows, lent) = lend_all(&mut chain, 4).unwrap();
    assert_eq!((rows, lent), ((Z.repeat(2), Y.repeat(2)), 4));
    let parts = shard().split(3).unwrap().unwrap();
    let mut all: Rows = Default::default();
    for mut part in parts {
        let ((z, y), _) = lend_all(part.as_mut(), 1).unwrap();
        all.0.extend(z);
        all.1.extend(y);
    }
    assert_eq!(all, (Z.to_vec(), Y.to_vec()));
}

/// A part of a split opens its files when it is first read, so that a
/// dataset of thousands of shards, each split among the threads, stays
/// within the limit of open files.
#[cfg(target_os = "linux")]
#[test]
fn npy_parts_open_their_files_when_read() {
    let open_files = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    let shard = || npy::open(&fixture("logits_f4.npy"), &fixture("labels_i8.npy"), false).unwrap();
    let mut chain = Chain::new((0..200).map(|i| (format!("shard {i}"), shard())).collect()).unwrap();
    let before = open_files();
    let parts = chain.split(8).expect("splits").expect("parts");
    // Opened at once, the 6 parts of each shard would hold 2 400 files
    // (other tests running meanwhile open a few).
    let after = open_files();
    assert!(after < before + 100, "{before} → {after} open files");
    let (mut rows, mut classes) = (Vec::new(), Vec::new());
    for mut part in parts {
        let (z, y) = read_all(part.as_mut(), 4).unwrap();
        rows.extend(z);
        classes.extend(y);
    }
    assert_eq!((rows.len(), classes.len()), (200 * 18, 200 * 6));
}

#[test]
fn npy_invalid_rows_are_errors_or_skipped_and_counted() {
    let (f8, i8) = (fixture("logits_f8.npy"), fixture("labels_i8.npy"));
    let (nonfinite, bad) = (fixture("logits_nonfinite.npy"), fixture("labels_bad.npy"));

    let e = read_err(npy::open(&nonfinite, &i8, false));
    assert_eq!(
        e.to_string(),
        format!("{}: row 3: the logit of class 1 is NaN, not a finite number", shown(&nonfinite))
    );
    assert_eq!((e.file, e.row), (shown(&nonfinite), Some(3)));
    let mut s = npy::open(&nonfinite, &i8, true).unwrap();
    assert_eq!(read_all(s.as_mut(), 7).unwrap(), rows_of(&[0, 1, 3, 5]));
    assert_eq!(s.skipped(), vec![("non-finite logit".to_string(), 2)]);

    let e = read_err(npy::open(&f8, &bad, false));
    assert_eq!(e.to_string(), format!("{}: row 2: label -1 is out of range: 3 classes give labels 0..2", shown(&bad)));
    let mut s = npy::open(&f8, &bad, true).unwrap();
    assert_eq!(read_all(s.as_mut(), 7).unwrap(), rows_of(&[0, 2, 4, 5]));
    assert_eq!(s.skipped(), vec![("label out of range".to_string(), 2)]);

    // Both: row 2 and 4 have bad labels, rows 3 and 5 bad logits.
    let mut s = npy::open(&nonfinite, &bad, true).unwrap();
    assert_eq!(read_all(s.as_mut(), 1).unwrap(), rows_of(&[0, 5]));
    assert_eq!(s.skipped(), vec![("label out of range".to_string(), 2), ("non-finite logit".to_string(), 2)]);

    // Infinity is named too.
    let inf = write("inf.npy", &npy_file("<f8", false, "(1, 2)", &f8_bytes(&[1.0, f64::NEG_INFINITY])));
    let one = write("one_label.npy", &npy_file("<i8", false, "(1,)", &i8_bytes(&[0])));
    let e = read_err(npy::open(&inf, &one, false));
    assert_eq!(e.message, "the logit of class 1 is -inf, not a finite number");
    // K = 1 has its own wording.
    let k1 = write("k1.npy", &npy_file("<f8", false, "(1, 1)", &f8_bytes(&[1.0])));
    let y1 = write("k1_label.npy", &npy_file("|u1", false, "(1,)", &[1]));
    assert_eq!(read_err(npy::open(&k1, &y1, false)).message, "label 1 is out of range: 1 class allows only label 0");
}

#[test]
fn npy_an_error_leaves_the_batch_untouched_and_sticks() {
    let mut s = npy::open(&fixture("logits_nonfinite.npy"), &fixture("labels_i8.npy"), false).unwrap();
    let (mut logits, mut labels) = (vec![9.0; 3], vec![9]);
    let e = s.read(10, &mut logits, &mut labels).unwrap_err();
    assert_eq!((logits, labels), (vec![9.0; 3], vec![9]));
    assert_eq!(s.read(10, &mut Vec::new(), &mut Vec::new()).unwrap_err(), e);
    // Rows before the bad one come out when the batch ends before it.
    let mut s = npy::open(&fixture("logits_nonfinite.npy"), &fixture("labels_i8.npy"), false).unwrap();
    let (mut logits, mut labels) = (Vec::new(), Vec::new());
    assert_eq!(s.read(2, &mut logits, &mut labels).unwrap(), 2);
    assert_eq!(s.read(0, &mut logits, &mut labels).unwrap(), 0);
    assert!(s.read(2, &mut logits, &mut labels).is_err());
    assert_eq!((logits, labels), rows_of(&[0, 1]));
}

#[test]
fn npy_bad_files_name_the_file_and_what_is_wrong() {
    let (f8, i8) = (fixture("logits_f8.npy"), fixture("labels_i8.npy"));
    let check = |z: &Path, y: &Path, want: String| {
        assert_eq!(open_err(npy::open(z, y, false)).to_string(), want);
    };
    let labels5 = fixture("labels_5.npy");
    check(
        &f8,
        &labels5,
        format!("{}: has 6 rows of logits but {} has 5 labels: each example needs both", shown(&f8), shown(&labels5)),
    );
    let t = fixture("truncated.npy");
    check(
        &t,
        &i8,
        format!("{}: row 3: truncated: the file has 181 bytes but shape (6, 3) of '<f8' needs 272", shown(&t)),
    );
    // A key twice: NumPy refuses it (which would be meant?).
    for (key, header) in [
        ("descr", "{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (6, 3), }"),
        ("shape", "{'descr': '<f8', 'fortran_order': False, 'shape': (6, 3), 'shape': (3, 6), }"),
    ] {
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u16 + 1).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.push(b'\n');
        bytes.extend_from_slice(&f8_bytes(&Z));
        let p = write(&format!("twice_{key}.npy"), &bytes);
        check(&p, &i8, format!("{}: corrupt header: '{key}' appears twice", shown(&p)));
    }
    let c = fixture("corrupt_header.npy");
    check(&c, &i8, format!("{}: corrupt header: unexpected ';' where `,` or `)` should be at character 53", shown(&c)));
    let p = fixture("logits_1d.npy");
    check(
        &p,
        &i8,
        format!(
            "{}: logits must have a class axis and at least one other, [N, K] or [N, C, d1, …], got shape (6,)",
            shown(&p)
        ),
    );
    let p = fixture("logits_i8.npy");
    check(
        &p,
        &i8,
        format!(
            "{}: logits of dtype '<i8' are not supported: expected float16, float32 or float64 ('<f2', '<f4', '<f8', or '>' for big-endian)",
            shown(&p)
        ),
    );
    let p = fixture("labels_f8.npy");
    check(
        &f8,
        &p,
        format!(
            "{}: labels of dtype '<f8' are not supported: expected an integer dtype (save y.astype(np.int64))",
            shown(&p)
        ),
    );
    let p = fixture("labels_2d.npy");
    check(&f8, &p, format!("{}: labels must be 1-D [N], got shape (6, 1) (save y.ravel())", shown(&p)));
    let p = fixture("no_such_file.npy");
    check(&p, &i8, format!("{}: cannot open: No such file or directory (os error 2)", shown(&p)));
    let p = fixture("gen_fixtures.py");
    check(&p, &i8, format!("{}: not a .npy file: it does not start with \\x93NUMPY", shown(&p)));

    let mut v4 = std::fs::read(&f8).unwrap();
    v4[6] = 4;
    let p = write("v4.npy", &v4);
    check(&p, &i8, format!("{}: unsupported NPY format version 4.0: this reader knows 1.0, 2.0 and 3.0", shown(&p)));
    let p = write("short_header.npy", &std::fs::read(&f8).unwrap()[..40]);
    check(&p, &i8, format!("{}: truncated: the file ends after 40 bytes, inside the 128-byte NPY header", shown(&p)));
    let p = write("magic_only.npy", b"\x93NUM");
    check(&p, &i8, format!("{}: truncated: the file ends after 4 bytes, inside the NPY header", shown(&p)));
    let p = write("empty.npy", b"");
    check(&p, &i8, format!("{}: not a .npy file: it does not start with \\x93NUMPY", shown(&p)));
    let p = write("huge_header.npy", b"\x93NUMPY\x02\x00\xff\xff\xff\xff{");
    check(
        &p,
        &i8,
        format!(
            "{}: corrupt header: its length of 4294967295 bytes is implausible (NumPy writes a few hundred)",
            shown(&p)
        ),
    );
    let p = write("k0.npy", &npy_file("<f8", false, "(6, 0)", &[]));
    check(&p, &i8, format!("{}: logits of shape (6, 0) have no classes", shown(&p)));
    let p = write("complex.npy", &npy_file("<c16", false, "(6, 3)", &[]));
    check(
        &p,
        &i8,
        format!(
            "{}: logits of dtype '<c16' are not supported: expected float16, float32 or float64 ('<f2', '<f4', '<f8', or '>' for big-endian)",
            shown(&p)
        ),
    );
    let header_cases = [
        ("{'descr': '<f8', 'shape': (6, 3)}", "corrupt header: it has no 'fortran_order'"),
        (
            "{'descr': '<f8', 'fortran_order': 0, 'shape': (6, 3)}",
            "corrupt header: 'fortran_order' is not True or False",
        ),
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (6, -3)}",
            "corrupt header: 'shape' is not a tuple of whole numbers ≥ 0",
        ),
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (6)}",
            "corrupt header: 'shape' is not a tuple of whole numbers ≥ 0",
        ),
        (
            "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (6,)}",
            "a structured dtype (descr is not a string) is not supported",
        ),
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (6, 3)",
            "corrupt header: it ends where `,` or `}` should be",
        ),
        ("{'descr': '<f8} ", "corrupt header: a string is never closed"),
        ("['descr']", "corrupt header: it is not a dict"),
        ("{'descr': '<f8'} x", "corrupt header: unexpected 'x' after the dict at character 18"),
        ("{'descr': shape}", "corrupt header: `shape` at character 11 is not a value"),
        ("((((((((((((((((((((((((1))))))))))))))))))))))))", "corrupt header: nested deeper than 16 levels"),
    ];
    for (dict, want) in header_cases {
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        let p = write("header_case.npy", &bytes);
        check(&p, &i8, format!("{}: {want}", shown(&p)));
    }
}

#[test]
fn npy_truncation_names_the_first_incomplete_row() {
    let i8 = fixture("labels_i8.npy");
    // Labels cut inside row 5.
    let full = std::fs::read(&i8).unwrap();
    let cut = write("labels_cut.npy", &full[..full.len() - 12]);
    let e = open_err(npy::open(&fixture("logits_f8.npy"), &cut, false));
    assert_eq!(
        e.to_string(),
        format!("{}: row 5: truncated: the file has 164 bytes but shape (6,) of '<i8' needs 176", shown(&cut))
    );
    // Fortran order: the last column is short, so its missing rows are incomplete.
    let column_major: Vec<f64> = (0..3).flat_map(|j| (0..6).map(move |r| Z[r * 3 + j])).collect();
    let f = npy_file("<f8", true, "(6, 3)", &f8_bytes(&column_major));
    let p = write("fortran_cut.npy", &f[..f.len() - 16]);
    assert_eq!(open_err(npy::open(&p, &i8, false)).row, Some(5));
    let p = write("fortran_cut_more.npy", &f[..f.len() - 8 * 7]);
    assert_eq!(open_err(npy::open(&p, &i8, false)).row, Some(1));
    let p = write("fortran_whole.npy", &f);
    assert_eq!(read_ok(npy::open(&p, &i8, false), 4), (Z.to_vec(), Y.to_vec()));
    // No rows at all is an empty dataset, not an error.
    let z0 = write("z0.npy", &npy_file("<f8", false, "(0, 3)", &[]));
    let y0 = write("y0.npy", &npy_file("<i8", false, "(0,)", &[]));
    assert_eq!(read_ok(npy::open(&z0, &y0, false), 4), (vec![], vec![]));
}

// ------------------------------------------- .npy: fast path and fallback

/// Every label dtype: (descr, item size, signed); bools are `|b1`.
const LABEL_DTYPES: [(&str, usize, bool); 17] = [
    ("|b1", 1, false),
    ("|i1", 1, true),
    ("|u1", 1, false),
    ("<i2", 2, true),
    (">i2", 2, true),
    ("<u2", 2, false),
    (">u2", 2, false),
    ("<i4", 4, true),
    (">i4", 4, true),
    ("<u4", 4, false),
    (">u4", 4, false),
    ("<i8", 8, true),
    (">i8", 8, true),
    ("<u8", 8, false),
    (">u8", 8, false),
    ("=i8", 8, true),
    ("u2", 2, false),
];

/// Every logits dtype and byte order.
const FLOAT_DTYPES: [&str; 7] = ["<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "=f4"];

/// One value in the byte order `descr` names (`=` and none are native).
fn item_bytes(descr: &str, mut le: Vec<u8>) -> Vec<u8> {
    if descr.starts_with('>') || (cfg!(target_endian = "big") && !descr.starts_with('<')) {
        le.reverse();
    }
    le
}

fn float_item(descr: &str, v: f64) -> Vec<u8> {
    let le = match &descr[descr.len() - 2..] {
        "f2" => half::f16::from_f64(v).to_le_bytes().to_vec(),
        "f4" => (v as f32).to_le_bytes().to_vec(),
        _ => v.to_le_bytes().to_vec(),
    };
    item_bytes(descr, le)
}

fn label_item(descr: &str, size: usize, v: i128) -> Vec<u8> {
    item_bytes(descr, v.to_le_bytes()[..size].to_vec())
}

/// A dataset in any layout, and what a plain row-by-row reading of it gives.
struct Case {
    z_descr: &'static str,
    fortran: bool,
    y_descr: &'static str,
    y_size: usize,
    k: usize,
    /// Row-major; exact in float16 unless non-finite.
    z: Vec<f64>,
    y: Vec<i128>,
}

impl Case {
    fn write(&self, name: &str) -> (PathBuf, PathBuf) {
        let n = self.y.len();
        let order: Vec<usize> = if self.fortran {
            (0..self.k).flat_map(|j| (0..n).map(move |i| i * self.k + j)).collect()
        } else {
            (0..n * self.k).collect()
        };
        let z: Vec<u8> = order.iter().flat_map(|&i| float_item(self.z_descr, self.z[i])).collect();
        let y: Vec<u8> = self.y.iter().flat_map(|&v| label_item(self.y_descr, self.y_size, v)).collect();
        (
            write(&format!("{name}_z.npy"), &npy_file(self.z_descr, self.fortran, &format!("({n}, {})", self.k), &z)),
            write(&format!("{name}_y.npy"), &npy_file(self.y_descr, false, &format!("({n},)"), &y)),
        )
    }

    /// The rows kept and the skips, or the first error (file, row, message).
    fn expected(&self, z_path: &Path, y_path: &Path) -> (Rows, Vec<(String, u64)>, Option<DataError>) {
        let k = self.k;
        let (mut rows, mut skips, mut first): (Rows, Vec<(String, u64)>, Option<DataError>) = Default::default();
        for (i, &label) in self.y.iter().enumerate() {
            let row = &self.z[i * k..(i + 1) * k];
            let (reason, error) = if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                let message = format!("the logit of class {j} is {}, not a finite number", row[j]);
                ("non-finite logit", DataError::at(shown(z_path), i as u64 + 1, message))
            } else if !(0..k as i128).contains(&label) {
                let hint = match label {
                    255 | -100 => format!(" (if it marks positions to leave out, pass --ignore-index {label})"),
                    _ => String::new(),
                };
                let message = match k {
                    1 => format!("label {label} is out of range: 1 class allows only label 0{hint}"),
                    _ => format!("label {label} is out of range: {k} classes give labels 0..{}{hint}", k - 1),
                };
                ("label out of range", DataError::at(shown(y_path), i as u64 + 1, message))
            } else {
                rows.0.extend_from_slice(row);
                rows.1.push(label as usize);
                continue;
            };
            first.get_or_insert(error);
            match skips.iter_mut().find(|(r, _)| r == reason) {
                Some((_, count)) => *count += 1,
                None => skips.push((reason.to_string(), 1)),
            }
        }
        (rows, skips, first)
    }

    /// Reads the files back in batches of `batch` rows, with and without
    /// skipping and in parts, and compares with [`Case::expected`].
    fn check(&self, name: &str, batch: usize) {
        let (zp, yp) = self.write(name);
        let (rows, skips, first) = self.expected(&zp, &yp);
        let what = format!("{} {} fortran={} k={} batch {batch}", self.z_descr, self.y_descr, self.fortran, self.k);
        let mut s = npy::open(&zp, &yp, false).unwrap();
        match (read_all(s.as_mut(), batch), first) {
            (Ok(got), None) => assert!(got == rows, "{what}: rows differ"),
            (Err(e), Some(want)) => assert_eq!(e, want, "{what}"),
            (got, want) => panic!("{what}: got {:?}, want {want:?}", got.map(|r| r.1.len())),
        }
        let mut s = npy::open(&zp, &yp, true).unwrap();
        let got = read_all(s.as_mut(), batch).unwrap();
        assert!(got == rows, "{what}: rows kept differ");
        assert_eq!(s.skipped(), skips, "{what}");
        let (got, split_skips, _) = read_split(npy::open(&zp, &yp, true).unwrap(), 3, batch);
        assert!(got == rows, "{what}: rows of the parts differ");
        let total = |list: &[(String, u64)], reason: &str| {
            list.iter().filter(|(r, _)| r == reason).map(|(_, n)| n).sum::<u64>()
        };
        for reason in ["non-finite logit", "label out of range"] {
            assert_eq!(total(&split_skips, reason), total(&skips, reason), "{what}: {reason} in parts");
        }
    }
}

/// A random case: `n` rows, valid but for `bad` random defects.
#[allow(clippy::too_many_arguments)]
fn random_case(
    z_descr: &'static str,
    fortran: bool,
    label: (&'static str, usize, bool),
    k: usize,
    n: usize,
    bad: usize,
    seed: u64,
) -> Case {
    let (y_descr, y_size, signed) = label;
    let mut rng = XorShiftStar(seed | 1);
    let mut z: Vec<f64> = (0..n * k).map(|_| rng.below(64) as f64 * 0.25 - 8.0).collect();
    let is_bool = y_descr == "|b1";
    let mut y: Vec<i128> = (0..n).map(|_| rng.below(if is_bool { k.min(2) } else { k }) as i128).collect();
    let bits = 8 * y_size as u32;
    let (min, max) =
        if signed { (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1) } else { (0, (1i128 << bits) - 1) };
    for _ in 0..bad {
        let row = rng.below(n);
        if rng.below(2) == 0 {
            z[row * k + rng.below(k)] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][rng.below(3)];
        } else if is_bool {
            // Only K = 1 leaves a bool label out of range.
            if k == 1 {
                y[row] = 1;
            }
        } else {
            let wrong = [-1, min, max, k as i128, k as i128 + rng.below(100) as i128][rng.below(5)];
            y[row] = wrong.clamp(min, max);
        }
    }
    Case { z_descr, fortran, y_descr, y_size, k, z, y }
}

#[test]
fn npy_every_label_dtype_through_the_fast_path_and_the_fallback() {
    // 70 000 rows: several chunks of labels (and of logits) per batch; a
    // defect in the middle of a large chunk, at either end, and none.
    for (t, &label) in LABEL_DTYPES.iter().enumerate() {
        let z_descr = FLOAT_DTYPES[t % FLOAT_DTYPES.len()];
        let k = if label.0 == "|b1" { 2 } else { 3 };
        let clean = random_case(z_descr, false, label, k, 70_000, 0, t as u64);
        clean.check("paths_clean", 100_000);
        for (i, row) in [0, 35_123, 69_999].into_iter().enumerate() {
            let mut case = random_case(z_descr, t % 2 == 1, label, k, 70_000, 0, t as u64);
            if label.0 == "|b1" {
                case.z[row * k + 1] = f64::NAN;
            } else {
                case.y[row] = if label.2 && i != 1 { -1 } else { k as i128 };
            }
            case.check("paths_bad", [100_000, 4096, 7][i]);
        }
    }
    // Non-zero bytes other than 1 are True.
    let z = write("paths_b1_z.npy", &npy_file("<f4", false, "(3, 2)", &[0; 24]));
    let y = write("paths_b1_y.npy", &npy_file("|b1", false, "(3,)", &[0, 2, 255]));
    assert_eq!(read_ok(npy::open(&z, &y, false), 10).1, vec![0, 1, 1]);
    // A bool label of 1 with K = 1.
    let case =
        Case { z_descr: "<f8", fortran: false, y_descr: "|b1", y_size: 1, k: 1, z: vec![0.5; 3], y: vec![0, 1, 0] };
    case.check("paths_b1_k1", 10);
}

#[test]
fn npy_every_float_dtype_names_a_non_finite_logit_in_a_large_chunk() {
    for (t, z_descr) in FLOAT_DTYPES.into_iter().enumerate() {
        for fortran in [false, true] {
            for (v, text) in [(f64::NAN, "NaN"), (f64::INFINITY, "inf"), (f64::NEG_INFINITY, "-inf")] {
                let mut case = random_case(z_descr, fortran, LABEL_DTYPES[11], 4, 50_000, 0, t as u64 + 100);
                case.z[31_415 * 4 + 2] = v;
                let (zp, yp) = case.write("floats_bad");
                let e = npy::open(&zp, &yp, false).unwrap().read(100_000, &mut Vec::new(), &mut Vec::new());
                let want = format!("{}: row 31416: the logit of class 2 is {text}, not a finite number", shown(&zp));
                assert_eq!(e.unwrap_err().to_string(), want, "{z_descr} fortran={fortran}");
                case.check("floats_bad", 100_000);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn npy_random_layouts_read_as_a_row_by_row_reading_does(
        z_descr in prop::sample::select(FLOAT_DTYPES.to_vec()),
        label in prop::sample::select(LABEL_DTYPES.to_vec()),
        fortran in any::<bool>(),
        k in 1..6usize,
        n in prop_oneof![1..40usize, 20_000..60_000usize],
        bad in 0..5usize,
        seed in any::<u64>(),
        batch in prop::sample::select(vec![1usize, 5, 1000, 100_000]),
    ) {
        let batch = if n > 1000 { batch.max(1000) } else { batch };
        random_case(z_descr, fortran, label, k, n, bad, seed).check("prop", batch);
    }
}

// ---------------------------------------------------------------- CSV

fn labelled(text: impl AsRef<[u8]>, skip: bool) -> Result<Box<dyn Source>, DataError> {
    csv::labelled_from_reader(std::io::Cursor::new(text.as_ref().to_vec()), "in.csv", skip)
}

fn pair(logits: &str, labels: &str, skip: bool) -> Result<Box<dyn Source>, DataError> {
    let (z, y) = (logits.as_bytes().to_vec(), labels.as_bytes().to_vec());
    csv::logits_from_readers(std::io::Cursor::new(z), "z.csv", std::io::Cursor::new(y), "y.csv", skip)
}

/// `Z`/`Y` as text: `label sep logits` per line (or without the label).
fn z_text(sep: &str, with_label: bool) -> String {
    (0..6)
        .map(|r| {
            let mut fields: Vec<String> = Z[r * 3..r * 3 + 3].iter().map(|v| v.to_string()).collect();
            if with_label {
                fields.insert(0, Y[r].to_string());
            }
            fields.join(sep) + "\n"
        })
        .collect()
}

#[test]
fn csv_separators_headers_and_line_ends() {
    let want = (Z.to_vec(), Y.to_vec());
    for sep in [",", ", ", "\t", " ", "  \t "] {
        let text = z_text(sep, true);
        assert_eq!(read_ok(labelled(&text, false), 4), want, "{sep:?}");
        let with_header = format!("label{sep}c0{sep}c1{sep}c2\n{text}");
        assert_eq!(read_ok(labelled(&with_header, false), 4), want, "{sep:?}");
        let labels: String = Y.iter().map(|y| format!("{y}\n")).collect();
        assert_eq!(read_ok(pair(&z_text(sep, false), &labels, false), 4), want, "{sep:?}");
        assert_eq!(
            read_ok(pair(&format!("a{sep}b{sep}c\n{}", z_text(sep, false)), &format!("y\n{labels}"), false), 4),
            want
        );
    }
    // CRLF, a byte-order mark, blank lines, comments, np.savetxt's float labels.
    let text = "\u{feff}# label c0 c1 c2\r\n\r\n0.000000000000000000e+00 1.5 -0.25 0\r\n   \n1.0 -2 3.75 .5\n\n";
    assert_eq!(read_ok(labelled(text, false), 4), (Z[..6].to_vec(), vec![0, 1]));
    // A header whose values are numbers is data; `nan` is a number.
    assert_eq!(read_ok(labelled("0,1,2\n1,2,3\n", false), 4), (vec![1.0, 2.0, 2.0, 3.0], vec![0, 1]));
    assert_eq!(labelled("0,nan,2\n", false).unwrap().classes(), 2);
    // Spellings Rust's parser accepts.
    assert_eq!(read_ok(labelled("+1 1e3 -2E-1 3. .5\n", false), 4), (vec![1000.0, -0.2, 3.0, 0.5], vec![1]));
    // Old Mac line ends (a lone CR), also mixed with the others.
    let cr = z_text(",", true).replace('\n', "\r");
    assert_eq!(read_ok(labelled(format!("label,a,b,c\r{cr}"), false), 4), want);
    let mixed = "label,a,b,c\r0,1.5,-0.25,0\r\n1,-2,3.75,0.5\n\r2,0.25,0.125,-1\r";
    assert_eq!(read_ok(labelled(mixed, false), 4), (Z[..9].to_vec(), vec![0, 1, 2]));
    let labels = Y.iter().map(|y| format!("{y}\r")).collect::<String>();
    assert_eq!(read_ok(pair(&z_text(",", false).replace('\n', "\r\n"), &labels, false), 4), want);
}

/// A first row is a header when its values are names; a row of numbers
/// with a malformed one is a row with an error, in row 1 as in row 2.
#[test]
fn csv_a_header_is_a_row_of_names() {
    // Names, also beside numbers (pandas writes `label,0,1` for a DataFrame
    // of logits); quoted names.
    for header in ["label,a,b", "label,0,1", "\"y\",\"c0\",\"c1\"", "y,logit_0,logit-1"] {
        let text = format!("{header}\n0,1,2\n1,2,1\n");
        let got = read_ok(labelled(&text, false), 4);
        assert_eq!(got.1, vec![0, 1], "{header:?} is a header");
    }
    for (first, column, token) in [
        ("0,1.2.3,2", 2, "1.2.3"),
        ("0,1,2e", 3, "2e"),
        ("0,-,2", 2, "-"),
        ("0,1,.x", 3, ".x"),
        ("1,+1x,label", 2, "+1x"),
    ] {
        let text = format!("{first}\n1,1,2\n0,2,1\n");
        let want = format!("in.csv: row 1: column {column}: `{token}` is not a number");
        for skip in [false, true] {
            assert_eq!(read_err(labelled(&text, skip)).to_string(), want, "{first:?}");
        }
        // The same row second is the same error there.
        let text = format!("1,1,2\n{first}\n");
        assert_eq!(read_err(labelled(&text, false)).to_string(), want.replace("row 1", "row 2"));
    }
    // A labels file's first row too.
    let labels = "1.5.\n0\n1\n";
    assert_eq!(
        read_err(pair("1,2\n2,1\n0,0\n", labels, false)).to_string(),
        "y.csv: row 1: label `1.5.` is not a whole number"
    );
}

/// `.npy` bytes given as text are named for what they are.
#[test]
fn csv_npy_bytes_are_named() {
    let bytes = std::fs::read(fixture("logits_f4.npy")).unwrap();
    let want = "is a NumPy .npy file, not text: pass .npy arrays as --logits FILE.npy --labels FILE.npy";
    let e = open_err(csv::labelled_from_reader(std::io::Cursor::new(bytes.clone()), "x.npy", false));
    assert_eq!(e.to_string(), format!("x.npy: {want}"));
    let p = fixture("labels_i8.npy");
    let e = open_err(csv::open_logits(&write("npy_as_text.csv", b"1,2\n"), &p, false));
    assert_eq!(e.to_string(), format!("{}: {want}", shown(&p)));
}

/// A file name with a line break or an escape stays on one line.
#[test]
fn file_names_with_control_characters_are_escaped() {
    let p = tmp("bad\nname\u{1b}[31m.csv");
    std::fs::write(&p, "0,1,2x\n").unwrap();
    let e = read_err(csv::open_labelled(&p, false)).to_string();
    assert!(e.ends_with("bad\\nname\\u{1b}[31m.csv: row 1: column 3: `2x` is not a number"), "{e}");
    assert!(!e.contains(['\n', '\u{1b}']), "{e:?}");
    let missing = tmp("no\nsuch.npy");
    let e = open_err(npy::open(&missing, &fixture("labels_i8.npy"), false)).to_string();
    assert!(e.contains("no\\nsuch.npy: cannot open: ") && !e.contains('\n'), "{e:?}");
}

#[test]
fn csv_files_and_standard_input() {
    let z = write("z.csv", z_text(",", false).as_bytes());
    let y = write("y.txt", Y.iter().map(|y| format!("{y}\n")).collect::<String>().as_bytes());
    let zy = write("zy.tsv", z_text("\t", true).as_bytes());
    assert_eq!(read_ok(csv::open_logits(&z, &y, false), 7), (Z.to_vec(), Y.to_vec()));
    assert_eq!(read_ok(csv::open_labelled(&zy, false), 7), (Z.to_vec(), Y.to_vec()));
    let missing = tmp("missing.csv");
    assert_eq!(
        open_err(csv::open_labelled(&missing, false)).to_string(),
        format!("{}: cannot open: No such file or directory (os error 2)", shown(&missing))
    );
    let dash = Path::new("-");
    assert_eq!(
        open_err(csv::open_logits(dash, dash, false)).to_string(),
        "standard input: logits and labels cannot both come from standard input"
    );
    // `-` really is standard input: this test binary, run again, reads a pipe.
    let child = |mode: &str, input: &str| {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "stdin_child", "--nocapture", "--test-threads=1"])
            .env("FOCAL_DATA_STDIN_CHILD", mode)
            .env("FOCAL_DATA_LABELS", &y)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        stdout.lines().find_map(|l| l.split_once("CHILD: ").map(|(_, r)| r.to_string())).expect("the child reports")
    };
    assert_eq!(child("labelled", &z_text(",", true)), format!("{:?}", (Z.to_vec(), Y.to_vec())));
    assert_eq!(child("logits", &z_text(" ", false)), format!("{:?}", (Z.to_vec(), Y.to_vec())));
    assert_eq!(child("logits", "1 2 3\n4 5\n"), "standard input: row 2: has 2 values, expected 3 as in row 1");
}

/// Half of `csv_files_and_standard_input`: does nothing unless that test runs it.
#[test]
fn stdin_child() {
    let Some(mode) = std::env::var_os("FOCAL_DATA_STDIN_CHILD") else { return };
    let dash = Path::new("-");
    let source = match mode.to_str() {
        Some("labelled") => csv::open_labelled(dash, false),
        _ => csv::open_logits(dash, Path::new(&std::env::var_os("FOCAL_DATA_LABELS").unwrap()), false),
    };
    match source.and_then(|mut s| read_all(s.as_mut(), 3)) {
        Ok(rows) => println!("CHILD: {rows:?}"),
        Err(e) => println!("CHILD: {e}"),
    }
}

#[test]
fn csv_malformed_text_names_the_file_row_and_column() {
    let check = |r: Result<Box<dyn Source>, DataError>, want: &str| {
        let e = match r {
            Ok(mut s) => read_all(s.as_mut(), 4).expect_err(want),
            Err(e) => e,
        };
        assert_eq!(e.to_string(), want);
    };
    // Row numbers are line numbers: the header and blank lines count.
    check(
        labelled("y,a,b,c\n0,1,2,3\n\n1,1,2\n", false),
        "in.csv: row 4: has 3 values, expected 4 (a label and 3 logits) as in row 2",
    );
    check(
        labelled("0 1 2 3\n1 1 2 3 4 5\n", false),
        "in.csv: row 2: has 6 values, expected 4 (a label and 3 logits) as in row 1",
    );
    check(pair("1,2\n3\n", "0\n1\n", false), "z.csv: row 2: has 1 value, expected 2 as in row 1");
    check(pair("1,2\n3,4\n", "0\n1 1\n", false), "y.csv: row 2: has 2 values, expected 1 label");
    // K values on the labels' first line are per-class targets (tests/cli_data_targets.rs); 3 are neither.
    check(pair("1,2\n3,4\n", "0,1,1\n1\n", false), "y.csv: row 1: has 3 values, expected 1 label");
    check(labelled("0,1,2\n1,1,two\n", false), "in.csv: row 2: column 3: `two` is not a number");
    check(labelled("0,1,,2\n", false), "in.csv: row 1: column 3: empty value");
    check(labelled("0\t1\t2\t\n", false), "in.csv: row 1: column 4: empty value");
    check(labelled("0,1,2\n1.5,1,2\n", false), "in.csv: row 2: label `1.5` is not a whole number");
    check(labelled("0,1,2\nnan,1,2\n", true), "in.csv: row 2: label `nan` is not a whole number");
    check(labelled(",1,2\n", false), "in.csv: row 1: empty label");
    check(pair("1,2\n", "x\n\none\n", false), "y.csv: row 3: label `one` is not a whole number");
    check(labelled(b"0,1,2\n1,1,2\xff\n", false), "in.csv: row 2: is not UTF-8 text (byte 6)");
    check(labelled("", false), "in.csv: has no rows");
    check(labelled("\n# only a comment\n", false), "in.csv: has no rows");
    check(labelled("label,c0\n\n", false), "in.csv: has a header but no rows");
    check(pair("", "0\n", false), "z.csv: has no rows of logits");
    check(labelled("0\n1\n", false), "in.csv: row 1: has 1 value: expected the label, then one logit per class");
    // Lengths that differ are counted to the end, on either side.
    check(
        pair("1,2\n3,4\n5,6\n", "0\n1\n", false),
        "z.csv: has 3 rows of logits but y.csv has 2 labels: each example needs both",
    );
    check(
        pair("1,2\n", "c\n0\n1\n\n1\n", false),
        "z.csv: has 1 rows of logits but y.csv has 3 labels: each example needs both",
    );
    check(pair("1,2\n", "", false), "z.csv: has 1 rows of logits but y.csv has 0 labels: each example needs both");
    // Malformed text is an error even with skip_invalid.
    check(labelled("0,1,2\n1,1,x\n", true), "in.csv: row 2: column 3: `x` is not a number");
    // A binary file is not read into memory whole.
    let mut huge = vec![b'1'; 64 << 20];
    huge.push(b'2');
    let r = csv::labelled_from_reader(std::io::Cursor::new(huge), "big", false);
    assert_eq!(open_err(r).to_string(), "big: row 1: is longer than 64 MiB: is this a text file?");
}

#[test]
fn csv_invalid_rows_are_errors_or_skipped_and_counted() {
    let text = "label,a,b\n0,1,2\n1,nan,2\n2,1,2\n-1,1,2\n1,inf,-inf\n1,1e999,0\n0,3,4\n";
    let check = |skip: bool, want: &str| {
        let e = read_err(labelled(text, skip));
        assert_eq!(e.to_string(), want);
    };
    check(false, "in.csv: row 3: column 2: `nan` is not a finite number");
    let mut s = labelled(text, true).unwrap();
    assert_eq!(read_all(s.as_mut(), 1).unwrap(), (vec![1.0, 2.0, 3.0, 4.0], vec![0, 0]));
    assert_eq!(s.skipped(), vec![("non-finite logit".to_string(), 3), ("label out of range".to_string(), 2)]);
    let e = read_err(labelled("0,1,2\n-1,1,2\n", false));
    assert_eq!(e.to_string(), "in.csv: row 2: label -1 is out of range: 2 classes give labels 0..1");
    let e = read_err(labelled("0,1,2\n3.0,1,2\n", false));
    assert_eq!(e.to_string(), "in.csv: row 2: label 3.0 is out of range: 2 classes give labels 0..1");
    let e = read_err(labelled("0,1,2\n99999999999999999999999999999999999999999,1,2\n", false));
    assert_eq!(e.row, Some(2));
    // The pair form names the file each defect is in.
    let e = read_err(pair("1,2\n3,4\n", "0\n2\n", false));
    assert_eq!(e.to_string(), "y.csv: row 2: label 2 is out of range: 2 classes give labels 0..1");
    let e = read_err(pair("1,2\n3,-inf\n", "0\n1\n", false));
    assert_eq!(e.to_string(), "z.csv: row 2: column 2: `-inf` is not a finite number");
    let mut s = pair("1,2\n3,-inf\n5,6\n7,8\n", "0\n1\n5\n1\n", true).unwrap();
    assert_eq!(read_all(s.as_mut(), 10).unwrap(), (vec![1.0, 2.0, 7.0, 8.0], vec![0, 1]));
    assert_eq!(s.skipped(), vec![("non-finite logit".to_string(), 1), ("label out of range".to_string(), 1)]);
    // A batch of only skipped rows is not the end.
    let mut s = labelled("0,nan\n0,nan\n0,nan\n0,1\n", true).unwrap();
    let (mut z, mut y) = (Vec::new(), Vec::new());
    assert_eq!(s.read(1, &mut z, &mut y).unwrap(), 1);
    assert_eq!((z, y), (vec![1.0], vec![0]));
}

#[test]
fn csv_batches_of_any_size_give_the_same_rows() {
    // 50 rows, every 9th with a NaN, every 11th with a label out of range.
    let mut text = String::from("label\tx\ty\tz\n");
    let mut want: Rows = Default::default();
    for r in 0..50 {
        let label = if r % 11 == 5 { 7 } else { r % 3 };
        let z = [r as f64 * 0.5, -(r as f64), if r % 9 == 4 { f64::NAN } else { 1.0 / (r + 1) as f64 }];
        text += &format!("{label}\t{}\t{}\t{}\n", z[0], z[1], z[2]);
        if r % 9 != 4 && r % 11 != 5 {
            want.0.extend(z);
            want.1.push(label);
        }
    }
    for batch in [1, 7, 10_000] {
        assert_eq!(read_ok(labelled(&text, true), batch), want, "{batch}");
    }
}

// ---------------------------------------------------------------- Chain

#[test]
fn chain_reads_shards_in_turn_and_sums_their_skips() {
    let shards = || -> Vec<(String, Box<dyn Source>)> {
        vec![
            ("a.npy".into(), npy::open(&fixture("logits_nonfinite.npy"), &fixture("labels_i8.npy"), true).unwrap()),
            ("b.csv".into(), labelled("0,1,2,3\n5,1,2,3\n1,nan,0,0\n", true).unwrap()),
            ("c.npy".into(), npy::open(&fixture("logits_f4.npy"), &fixture("labels_bad.npy"), true).unwrap()),
        ]
    };
    let mut want = rows_of(&[0, 1, 3, 5]);
    want.0.extend([1.0, 2.0, 3.0]);
    want.1.push(0);
    let rest = rows_of(&[0, 2, 4, 5]);
    want.0.extend(rest.0);
    want.1.extend(rest.1);
    for batch in [1, 3, 7, 10_000] {
        let mut chain = Chain::new(shards()).unwrap();
        assert_eq!(chain.classes(), 3);
        assert_eq!(read_all(&mut chain, batch).unwrap(), want, "{batch}");
        assert_eq!(chain.skipped(), vec![("non-finite logit".to_string(), 3), ("label out of range".to_string(), 3)]);
    }
    // Shards of .npy split part by part; a text shard makes the chain read in order.
    let npy_shards = || -> Vec<(String, Box<dyn Source>)> {
        let z = || npy::open(&fixture("fortran_23x4.npy"), &fixture("labels_23.npy"), false).unwrap();
        vec![("a".into(), z()), ("b".into(), z())]
    };
    let whole = read_all(&mut Chain::new(npy_shards()).unwrap(), 100).unwrap();
    let (rows, _, count) = read_split(Box::new(Chain::new(npy_shards()).unwrap()), 3, 4);
    assert_eq!(count, 3);
    // Part i holds part i of each shard: the same rows, regrouped.
    let sorted = |rows: &Rows| {
        let mut pairs: Vec<(Vec<u64>, usize)> =
            rows.0.chunks(4).map(|r| r.iter().map(|v| v.to_bits()).collect()).zip(rows.1.iter().copied()).collect();
        pairs.sort();
        pairs
    };
    assert_eq!(sorted(&rows), sorted(&whole));
    assert!(Chain::new(shards()).unwrap().split(2).is_none());
    let mut mixed = shards();
    mixed.insert(1, ("d.csv".into(), labelled("0,1,2\n", false).unwrap()));
    let e = Chain::new(mixed).err().unwrap();
    assert_eq!(e.to_string(), "d.csv: has 2 classes but a.npy has 3: every shard must have the same K");
    let e = Chain::new(Vec::new()).err().unwrap();
    assert_eq!(e.to_string(), "dataset: no shards to read: give at least one data file");
    // An error in a later shard leaves the batch as it was.
    let mut chain = Chain::new(vec![
        ("a".into(), labelled("0,1\n", false).unwrap()),
        ("b".into(), labelled("0,1\n0,nan\n", false).unwrap()),
    ])
    .unwrap();
    let (mut z, mut y) = (Vec::new(), Vec::new());
    assert_eq!(
        chain.read(10, &mut z, &mut y).unwrap_err().to_string(),
        "in.csv: row 2: column 2: `nan` is not a finite number"
    );
    assert!(z.is_empty() && y.is_empty());
}

// ---------------------------------------------------------------- fuzz

/// Whatever a source hands out is finite and in range, and it never panics.
fn drain(source: Result<Box<dyn Source>, DataError>) {
    if let Ok(mut s) = source {
        let k = s.classes();
        if let Ok((z, y)) = read_all(s.as_mut(), 5) {
            assert!(z.iter().all(|v| v.is_finite()));
            assert!(y.iter().all(|&l| l < k));
        }
    }
}

/// Bytes with some flipped, cut short, or with a run inserted.
fn mutate(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = base.len();
    (prop::collection::vec((0..len, any::<u8>()), 0..8), 0..=len, prop::collection::vec(any::<u8>(), 0..4), 0..=len)
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn npy_random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), skip in any::<bool>()) {
        let _ = npy::read_header(&mut &bytes[..], "random");
        let p = write("fuzz_random.npy", &bytes);
        drain(npy::open(&p, &fixture("labels_i8.npy"), skip));
        drain(npy::open(&fixture("logits_f8.npy"), &p, skip));
    }

    #[test]
    fn npy_mutations_never_panic(
        z in mutate(std::fs::read(fixture("logits_f4_be.npy")).unwrap()),
        y in mutate(std::fs::read(fixture("labels_i4_be.npy")).unwrap()),
        skip in any::<bool>(),
    ) {
        let (pz, py) = (write("fuzz_z.npy", &z), write("fuzz_y.npy", &y));
        drain(npy::open(&pz, &py, skip));
    }

    #[test]
    fn npy_fortran_mutations_never_panic(z in mutate(std::fs::read(fixture("fortran_23x4.npy")).unwrap())) {
        let p = write("fuzz_fortran.npy", &z);
        drain(npy::open(&p, &fixture("labels_23.npy"), true));
    }

    #[test]
    fn csv_random_bytes_never_panic(a in prop::collection::vec(any::<u8>(), 0..200), b in prop::collection::vec(any::<u8>(), 0..50), skip in any::<bool>()) {
        drain(csv::labelled_from_reader(std::io::Cursor::new(a.clone()), "a", skip));
        drain(csv::logits_from_readers(std::io::Cursor::new(a), "a", std::io::Cursor::new(b), "b", skip));
    }

    #[test]
    fn csv_mutations_never_panic(text in mutate(format!("label,a,b,c\n{}", z_text(",", true)).into_bytes()), skip in any::<bool>()) {
        drain(csv::labelled_from_reader(std::io::Cursor::new(text), "m", skip));
    }

    #[test]
    fn csv_round_trips_any_finite_numbers(
        rows in prop::collection::vec((0..4usize, prop::collection::vec(any::<f64>().prop_filter("finite", |v| v.is_finite()), 4)), 1..20),
        sep in prop::sample::select(vec![",", "\t", " ", " , "]),
    ) {
        let text: String = rows
            .iter()
            .map(|(y, z)| format!("{y}{sep}{}\n", z.iter().map(|v| format!("{v:e}")).collect::<Vec<_>>().join(sep)))
            .collect();
        let got = read_ok(labelled(&text, false), 3);
        let want: Rows = (rows.iter().flat_map(|r| r.1.clone()).collect(), rows.iter().map(|r| r.0).collect());
        prop_assert_eq!(got, want);
    }
}

// ------------------------------------------------- fuzz: the whole command

/// `focal-tui data` on `args` in process, as JSON and as text: a report (no
/// `null` in the JSON), or one line.
fn run_one_line(args: &focal_tui::cli::DataArgs) {
    match focal_tui::data::run::run(args) {
        Ok(report) => assert!(report.starts_with("{\"rows\":") && !report.contains("null"), "{report}"),
        Err(message) => assert!(!message.is_empty() && !message.contains(['\n', '\r']), "{message:?}"),
    }
    let text = focal_tui::cli::DataArgs { json: false, ..args.clone() };
    match focal_tui::data::run::run(&text) {
        Ok(report) => assert!(report.contains("p_t histogram"), "{report}"),
        Err(message) => assert!(!message.is_empty() && !message.contains(['\n', '\r']), "{message:?}"),
    }
}

fn data_args(
    csv: Vec<PathBuf>,
    logits: Vec<PathBuf>,
    labels: Vec<PathBuf>,
    skip_invalid: bool,
) -> focal_tui::cli::DataArgs {
    focal_tui::cli::DataArgs { csv, logits, labels, skip_invalid, json: true, ..Default::default() }
}

/// A `.npy` header dict from hostile parts: keys missing, repeated or
/// unknown; dtypes of every kind; shapes of any rank with dimensions from 0
/// to past 2^64; a header length that lies.
fn hostile_npy() -> impl Strategy<Value = Vec<u8>> {
    let dim = prop::sample::select(vec![
        "0",
        "1",
        "2",
        "3",
        "7",
        "64",
        "1000000",
        "2147483648",
        "4294967297",
        "4611686018427387904",
        "9223372036854775808",
        "18446744073709551616",
        "-1",
        "99999999999999999999999999999999999999999",
        "2L",
        "True",
    ]);
    let shape = prop::collection::vec(dim, 0..4).prop_map(|d| match d.len() {
        1 => format!("({},)", d[0]),
        _ => format!("({})", d.join(", ")),
    });
    let descr = prop::sample::select(vec![
        "<f4", "<f2", ">f8", "<f8", "|b1", "<i8", ">u2", "|u1", "<U3", "<c8", "", "f4", "=f4", "<f4x",
    ]);
    let entry = (
        prop::sample::select(vec!["descr", "fortran_order", "shape", "other", "descr", "shape"]),
        descr,
        shape,
        any::<bool>(),
    )
        .prop_map(|(key, descr, shape, flag)| match key {
            "descr" => format!("'descr': '{descr}'"),
            "fortran_order" => format!("'fortran_order': {}", if flag { "True" } else { "False" }),
            "shape" => format!("'shape': {shape}"),
            _ => format!("'{key}': {shape}"),
        });
    let dict = prop::collection::vec(entry, 0..5).prop_map(|e| format!("{{{}}}", e.join(", ")));
    (
        dict,
        prop::sample::select(vec![(1u8, 0u8), (2, 0), (3, 0), (4, 0)]),
        -3i32..3,
        prop::collection::vec(any::<u8>(), 0..160),
    )
        .prop_map(|(dict, (major, minor), lie, data)| {
            let mut header = dict.into_bytes();
            header.push(b'\n');
            let len = (header.len() as i64 + i64::from(lie)).max(0) as u32;
            let mut out = vec![0x93, b'N', b'U', b'M', b'P', b'Y', major, minor];
            if major == 1 {
                out.extend_from_slice(&(len as u16).to_le_bytes());
            } else {
                out.extend_from_slice(&len.to_le_bytes());
            }
            out.extend_from_slice(&header);
            out.extend_from_slice(&data);
            out
        })
}

/// Text from hostile parts: numbers, names, malformed numbers, empty
/// values, non-finite spellings, every separator and line end, comments,
/// a byte-order mark, and the `.npy` magic.
fn hostile_text() -> impl Strategy<Value = Vec<u8>> {
    let token = prop::sample::select(vec![
        "0",
        "1",
        "2",
        "-1",
        "3.0",
        "1e3",
        ".5",
        "1.2.3",
        "1e",
        "-",
        "+",
        "label",
        "c0",
        "\"c1\"",
        "",
        "nan",
        "inf",
        "-inf",
        "1e999",
        "0x10",
        "２",
        "é",
        " 1 ",
        "#",
        "\u{feff}",
        "\u{1}NUMPY",
    ]);
    let sep = prop::sample::select(vec![",", "\t", " ", ", ", ";"]);
    let end = prop::sample::select(vec!["\n", "\r\n", "\r", "\n\n", "\r\r\n", ""]);
    let line = (prop::collection::vec(token, 0..6), sep, end).prop_map(|(t, sep, end)| format!("{}{end}", t.join(sep)));
    // \x01 stands for the `.npy` magic's first byte, 0x93, which is not UTF-8.
    let magic = |b: u8| if b == 1 { 0x93 } else { b };
    prop::collection::vec(line, 0..8).prop_map(move |lines| lines.concat().bytes().map(magic).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn data_on_hostile_npy_headers_is_a_report_or_one_line(z in hostile_npy(), y in hostile_npy(), skip in any::<bool>()) {
        let (pz, py) = (write("hostile_z.npy", &z), write("hostile_y.npy", &y));
        let _ = npy::read_header(&mut &z[..], "z");
        run_one_line(&data_args(vec![], vec![pz.clone()], vec![py], skip));
        run_one_line(&data_args(vec![], vec![pz], vec![fixture("labels_i8.npy")], skip));
    }

    #[test]
    fn data_on_hostile_text_is_a_report_or_one_line(a in hostile_text(), b in hostile_text(), skip in any::<bool>()) {
        let (pa, pb) = (write("hostile_a.csv", &a), write("hostile_b.txt", &b));
        run_one_line(&data_args(vec![pa.clone()], vec![], vec![], skip));
        run_one_line(&data_args(vec![], vec![pa.clone()], vec![pb.clone()], skip));
        // Shards: the same file twice, and text after .npy.
        run_one_line(&data_args(vec![pa.clone(), pa], vec![], vec![], skip));
        run_one_line(&data_args(vec![], vec![fixture("logits_f4.npy"), pb], vec![fixture("labels_i8.npy"), fixture("labels_i8.npy")], skip));
    }

    #[test]
    fn data_on_truncated_npy_is_a_report_or_one_line(cut in 0usize..400, which in any::<bool>()) {
        let (z, y) = (std::fs::read(fixture("logits_f4.npy")).unwrap(), std::fs::read(fixture("labels_i8.npy")).unwrap());
        let (z, y) = if which { (&z[..cut.min(z.len())], &y[..]) } else { (&z[..], &y[..cut.min(y.len())]) };
        let (pz, py) = (write("cut_z.npy", z), write("cut_y.npy", y));
        run_one_line(&data_args(vec![], vec![pz], vec![py], false));
    }
}
