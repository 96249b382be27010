//! `.npy` logits of any rank with a class axis (issue 17): every position a
//! row, read in strips, equal to the same array reshaped in memory; labels
//! that mean "leave out"; and every shape defect's message.

mod common;
use common::npy_file;
use std::path::PathBuf;

use focal_tui::data::npy;
use focal_tui::data::source::{DataError, IGNORED, Options, Source};
use proptest::prelude::*;

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    common::scratch_file("data_tensors", name, bytes)
}

fn shape_text(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// Every multi-index of `shape`, C order (last axis fastest) or Fortran order (first fastest).
fn indices(shape: &[usize], fortran: bool) -> Vec<Vec<usize>> {
    let total: usize = shape.iter().product();
    (0..total)
        .map(|mut f| {
            let mut idx = vec![0; shape.len()];
            let fastest_first: Vec<usize> =
                if fortran { (0..shape.len()).collect() } else { (0..shape.len()).rev().collect() };
            for a in fastest_first {
                idx[a] = f % shape[a];
                f /= shape[a];
            }
            idx
        })
        .collect()
}

/// The value stored at a multi-index: distinct, exact in float16.
fn value(idx: &[usize]) -> f64 {
    idx.iter().fold(0.0, |acc, &i| acc * 7.0 + i as f64) * 0.25 - 3.0
}

/// The array as NumPy would save it: `logits` of `shape` in the given
/// order, and labels of the positions' shape in the same order (or flat).
struct Dump {
    shape: Vec<usize>,
    axis: usize,
    fortran: bool,
    /// The expected rows: positions in file order, K logits each, and labels.
    rows: Vec<f64>,
    labels: Vec<usize>,
}

fn dump(shape: &[usize], axis: usize, fortran: bool, seed: u64) -> Dump {
    let k = shape[axis];
    let positions: Vec<usize> = shape.iter().enumerate().filter(|&(i, _)| i != axis).map(|(_, &d)| d).collect();
    let (mut rows, mut labels) = (Vec::new(), Vec::new());
    let mut state = seed | 1;
    for p in indices(&positions, fortran) {
        for c in 0..k {
            let mut idx = p.clone();
            idx.insert(axis, c);
            rows.push(value(&idx));
        }
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        labels.push((state % k as u64) as usize);
    }
    Dump { shape: shape.to_vec(), axis, fortran, rows, labels }
}

impl Dump {
    fn files(&self, name: &str, descr: &str, flat_labels: bool) -> (PathBuf, PathBuf) {
        let data: Vec<u8> = indices(&self.shape, self.fortran)
            .iter()
            .flat_map(|idx| match descr {
                "<f8" => value(idx).to_le_bytes().to_vec(),
                ">f4" => (value(idx) as f32).to_be_bytes().to_vec(),
                _ => (value(idx) as f32).to_le_bytes().to_vec(),
            })
            .collect();
        let z = write(&format!("{name}_z.npy"), &npy_file(descr, self.fortran, &shape_text(&self.shape), &data));
        let positions: Vec<usize> =
            self.shape.iter().enumerate().filter(|&(i, _)| i != self.axis).map(|(_, &d)| d).collect();
        let label_shape = if flat_labels { vec![positions.iter().product()] } else { positions };
        let bytes: Vec<u8> = self.labels.iter().flat_map(|&l| (l as i64).to_le_bytes()).collect();
        let y = write(
            &format!("{name}_y.npy"),
            &npy_file("<i8", self.fortran && !flat_labels, &shape_text(&label_shape), &bytes),
        );
        (z, y)
    }
}

fn options(axis: i64) -> Options {
    Options { class_axis: Some(axis), ..Options::default() }
}

fn read_all(source: &mut dyn Source, batch: usize) -> Result<(Vec<f64>, Vec<usize>), DataError> {
    let (mut logits, mut labels) = (Vec::new(), Vec::new());
    while source.read(batch, &mut logits, &mut labels)? > 0 {}
    Ok((logits, labels))
}

/// Reads `source` to its end as `data` does: positions lent as class planes
/// where it lends them, read otherwise; returns the rows, the labels and
/// how many batches were lent.
fn read_lending(source: &mut dyn Source, batch: usize) -> Result<(Vec<f64>, Vec<usize>, usize), DataError> {
    let (k, mut lent) = (source.classes(), 0);
    let (mut logits, mut labels) = (Vec::new(), Vec::new());
    loop {
        match source.lend_planes(batch) {
            Some(Ok(0)) => return Ok((logits, labels, lent)),
            Some(Ok(_)) => {
                let p = source.lent_planes();
                assert_eq!(p.positions.len(), p.labels.len());
                for (&i, &t) in p.positions.iter().zip(p.labels) {
                    logits.extend((0..k).map(|c| f64::from(p.logits[c * p.stride + i])));
                    labels.push(t);
                }
                lent += 1;
            }
            Some(Err(e)) => return Err(e),
            None if source.read(batch, &mut logits, &mut labels)? > 0 => {}
            None => return Ok((logits, labels, lent)),
        }
    }
}

fn open_err(r: Result<Box<dyn Source>, DataError>) -> String {
    match r {
        Ok(_) => panic!("open should fail"),
        Err(e) => e.to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any rank, class axis (counted from either end), order, dtype, batch
    /// size and split: the rows are the array's positions in file order with
    /// their K values, as a reshape in memory gives them.
    #[test]
    fn the_class_axis_reader_is_a_reshape_in_memory(
        shape in prop::collection::vec(1usize..5, 2..5),
        axis_pick in 0usize..8,
        from_end in any::<bool>(),
        fortran in any::<bool>(),
        descr in prop::sample::select(vec!["<f8", "<f4", ">f4"]),
        flat in any::<bool>(),
        batch in 1usize..40,
        parts in 1usize..4,
        seed in any::<u64>(),
    ) {
        let rank = shape.len();
        let axis = axis_pick % rank;
        let d = dump(&shape, axis, fortran, seed);
        let nontrivial = shape.iter().enumerate().filter(|&(i, &s)| i != axis && s > 1).count();
        // Flat labels are C order: with Fortran logits they match only when the order cannot matter.
        let flat = flat && !(fortran && nontrivial > 1);
        let (z, y) = d.files("prop", descr, flat);
        let given = if from_end { axis as i64 - rank as i64 } else { axis as i64 };
        let mut source = npy::open_with(&z, &y, options(given)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(source.classes(), shape[axis]);
        let whole = read_all(source.as_mut(), batch).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&whole, &(d.rows.clone(), d.labels.clone()));
        let mut source = npy::open_with(&z, &y, options(given)).unwrap();
        let mut joined = (Vec::new(), Vec::new());
        for mut part in source.split(parts).expect("a file splits").unwrap() {
            let (l, y) = read_all(part.as_mut(), batch).unwrap();
            joined.0.extend(l);
            joined.1.extend(y);
        }
        prop_assert_eq!(joined, whole);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// Little-endian float32 class planes lent as they are (the positions to
    /// leave out dropped from each batch's list) give the rows of a reshape
    /// in memory, in any batch and split, and count what they leave out.
    #[test]
    fn lent_planes_are_a_reshape_in_memory(
        shape in prop::collection::vec(1usize..6, 2..5),
        axis_pick in 0usize..8,
        fortran in any::<bool>(),
        void_every in 0usize..5,
        batch in 1usize..40,
        parts in 1usize..4,
        seed in any::<u64>(),
    ) {
        let axis = axis_pick % shape.len();
        let mut d = dump(&shape, axis, fortran, seed);
        let k = shape[axis];
        let void: Vec<usize> = (0..d.labels.len()).filter(|p| void_every > 0 && p % (void_every + 1) == 1).collect();
        for &p in &void {
            d.labels[p] = 255;
        }
        let (z, y) = d.files("lend", "<f4", false);
        let keep: Vec<usize> = (0..d.labels.len()).filter(|p| !void.contains(p)).collect();
        let want: (Vec<f64>, Vec<usize>) =
            (keep.iter().flat_map(|&p| d.rows[p * k..(p + 1) * k].to_vec()).collect(), keep.iter().map(|&p| d.labels[p]).collect());
        let opts = Options { class_axis: Some(axis as i64), ignore_index: Some(255), ..Options::default() };
        let mut source = npy::open_with(&z, &y, opts).unwrap();
        let (mut got, mut lent, mut ignored) = ((Vec::new(), Vec::new()), 0, 0);
        for mut part in source.split(parts).expect("a file splits").unwrap() {
            let (l, y, n) = read_lending(part.as_mut(), batch).unwrap();
            got.0.extend(l);
            got.1.extend(y);
            lent += n;
            for (reason, n) in part.skipped() {
                prop_assert_eq!(reason, IGNORED);
                ignored += n;
            }
        }
        prop_assert_eq!(got, want);
        prop_assert_eq!(ignored, void.len() as u64);
        // Planes are lent exactly where the class axis is not last in file order.
        let after: usize = if fortran { shape[..axis].iter().product() } else { shape[axis + 1..].iter().product() };
        prop_assert_eq!(lent > 0, k > 1 && d.labels.len() > 1 && after > 1);
    }
}

/// A strip holding a non-finite logit, or a label that is neither a class
/// nor the ignore index, is not lent: read instead, it is skipped and
/// counted (or the error names it) exactly as without lending.
#[test]
fn planes_with_a_bad_value_are_read_as_usual() {
    let mut d = dump(&[2, 3, 4, 5], 1, false, 17);
    d.labels[3] = 255;
    d.labels[25] = 7;
    let (z, y) = d.files("bad_planes", "<f4", false);
    let mut bytes = std::fs::read(&z).unwrap();
    // The logit of class 1 at position 30 (item 1, position 10): NaN.
    let at = bytes.len() - 4 * 120 + 4 * ((3 + 1) * 20 + 10);
    bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let z = write("bad_planes_nan.npy", &bytes);
    let opts = |skip_invalid| Options { ignore_index: Some(255), skip_invalid, ..Options::default() };
    let e = read_lending(npy::open_with(&z, &y, opts(false)).unwrap().as_mut(), 8).unwrap_err();
    assert_eq!(e.row, Some(26), "{e}");
    let mut s = npy::open_with(&z, &y, opts(true)).unwrap();
    let (rows, labels, _) = read_lending(s.as_mut(), 8).unwrap();
    let keep: Vec<usize> = (0..40).filter(|&p| ![3, 25, 30].contains(&p)).collect();
    assert_eq!(labels, keep.iter().map(|&p| d.labels[p]).collect::<Vec<_>>());
    assert_eq!(rows, keep.iter().flat_map(|&p| d.rows[p * 3..p * 3 + 3].to_vec()).collect::<Vec<_>>());
    let mut skipped = s.skipped();
    skipped.sort();
    assert_eq!(
        skipped,
        vec![(IGNORED.to_string(), 1), ("label out of range".into(), 1), ("non-finite logit".into(), 1)]
    );
}

#[test]
fn segmentation_default_axis_and_detection_last_axis() {
    let seg = dump(&[2, 3, 4, 5], 1, false, 7);
    let (z, y) = seg.files("seg", "<f4", false);
    let mut s = npy::open_with(&z, &y, Options::default()).unwrap();
    assert_eq!(s.classes(), 3);
    assert_eq!(read_all(s.as_mut(), 7).unwrap(), (seg.rows.clone(), seg.labels.clone()));
    let det = dump(&[2, 6, 4], 2, false, 9);
    let (z, y) = det.files("det", "<f4", false);
    let mut s = npy::open_with(&z, &y, options(-1)).unwrap();
    assert_eq!(s.classes(), 4);
    assert_eq!(read_all(s.as_mut(), 5).unwrap(), (det.rows, det.labels));
}

/// Labels `[B, H, W]` with void pixels at 255: left out and counted with
/// `--ignore-index`, an error naming the flag without it.
#[test]
fn ignored_labels_are_left_out_and_counted() {
    let mut seg = dump(&[2, 3, 4, 5], 1, false, 11);
    let void = [0usize, 7, 8, 39];
    for &p in &void {
        seg.labels[p] = 255;
    }
    let (z, y) = seg.files("void", "<f4", false);
    let e = read_all(npy::open_with(&z, &y, Options::default()).unwrap().as_mut(), 8).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: row 1: label 255 is out of range: 3 classes give labels 0..2 (if it marks positions to leave out, pass --ignore-index 255)",
            y.display()
        )
    );
    for batch in [1, 3, 40] {
        let opts = Options { ignore_index: Some(255), ..Options::default() };
        let mut s = npy::open_with(&z, &y, opts).unwrap();
        let (rows, labels) = read_all(s.as_mut(), batch).unwrap();
        let keep: Vec<usize> = (0..40).filter(|p| !void.contains(p)).collect();
        assert_eq!(labels, keep.iter().map(|&p| seg.labels[p]).collect::<Vec<_>>());
        assert_eq!(rows, keep.iter().flat_map(|&p| seg.rows[p * 3..p * 3 + 3].to_vec()).collect::<Vec<_>>());
        assert_eq!(s.skipped(), vec![(IGNORED.to_string(), void.len() as u64)]);
    }
}

/// An ignore index that is also a class (0) is left out too: the range check alone would keep it.
#[test]
fn an_ignore_index_inside_the_classes_is_left_out() {
    let seg = dump(&[1, 3, 2, 2], 1, false, 3);
    let (z, y) = seg.files("void0", "<f4", false);
    let opts = Options { ignore_index: Some(0), ..Options::default() };
    let (_, labels) = read_all(npy::open_with(&z, &y, opts).unwrap().as_mut(), 4).unwrap();
    assert_eq!(labels, seg.labels.iter().copied().filter(|&l| l != 0).collect::<Vec<_>>());
    assert!(labels.len() < seg.labels.len(), "the fixture has a label 0");
}

#[test]
fn shape_defects_name_the_file_and_what_is_wrong() {
    let seg = dump(&[2, 3, 4, 5], 1, false, 5);
    let (z, y) = seg.files("bad", "<f4", false);
    let zs = z.display();
    assert_eq!(
        open_err(npy::open_with(&z, &y, options(4))),
        format!("{zs}: class axis 4 is out of range for logits of shape (2, 3, 4, 5): 4 axes allow -4..3")
    );
    assert_eq!(
        open_err(npy::open_with(&z, &y, options(-5))),
        format!("{zs}: class axis -5 is out of range for logits of shape (2, 3, 4, 5): 4 axes allow -4..3")
    );
    let y2 = write("bad_y2.npy", &npy_file("<i8", false, "(2, 5, 4)", &[0; 320]));
    assert_eq!(
        open_err(npy::open_with(&z, &y2, Options::default())),
        format!(
            "{}: labels of shape (2, 5, 4) do not match logits of shape (2, 3, 4, 5) with the class axis 1: expected (2, 4, 5) (or flat, (40,))",
            y2.display()
        )
    );
    let yf = write("bad_yf.npy", &npy_file("<i8", true, "(2, 4, 5)", &[0; 320]));
    assert_eq!(
        open_err(npy::open_with(&z, &yf, Options::default())),
        format!(
            "{}: labels in Fortran order but the logits {zs} are in C order: save both the same way (np.ascontiguousarray)",
            yf.display()
        )
    );
    let z1 = write("bad_z1.npy", &npy_file("<f4", false, "(6,)", &[0; 24]));
    assert_eq!(
        open_err(npy::open_with(&z1, &y, Options::default())),
        format!(
            "{}: logits must have a class axis and at least one other, [N, K] or [N, C, d1, …], got shape (6,)",
            z1.display()
        )
    );
}

/// A truncated strided file names the first position it cannot complete.
#[test]
fn a_truncated_strided_file_names_the_first_incomplete_position() {
    let seg = dump(&[2, 3, 4, 5], 1, false, 5);
    let (z, y) = seg.files("trunc", "<f4", false);
    let bytes = std::fs::read(&z).unwrap();
    // Item 107 = 60 + 2·20 + 7 (the last plane of the second outer block) is the first missing: positions 1..27 are complete.
    let cut = write("trunc_cut.npy", &bytes[..bytes.len() - 4 * (120 - 107)]);
    let e = open_err(npy::open_with(&cut, &y, Options::default()));
    assert!(e.starts_with(&format!("{}: row 28: truncated", cut.display())), "{e}");
}

/// Class planes longer than one strip of the reader's buffer: positions on
/// both sides of every strip boundary, in any batch and split.
#[test]
fn planes_longer_than_a_strip_read_every_position() {
    let d = dump(&[2, 64, 3001], 1, false, 13);
    let (z, y) = d.files("long", "<f8", false);
    for (batch, parts) in [(700, 1), (1, 1), (4096, 3)] {
        let mut source = npy::open_with(&z, &y, Options::default()).unwrap();
        let mut got = (Vec::new(), Vec::new());
        for mut part in source.split(parts).unwrap().unwrap() {
            let (l, y) = read_all(part.as_mut(), batch).unwrap();
            got.0.extend(l);
            got.1.extend(y);
        }
        assert!(got == (d.rows.clone(), d.labels.clone()), "batch {batch}, {parts} parts");
    }
}
