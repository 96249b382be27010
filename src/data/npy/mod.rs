//! NumPy `.npy` files: logits of any rank ≥ 2 with a class axis (axis 1 by
//! default, PyTorch's `[N, C, d1, …]`; `[N, K]` is the plain case; float16,
//! float32 or float64, either byte order, C or Fortran order) beside labels
//! shaped like the positions or flat (any integer dtype, or bool); every
//! position is a row. Streamed in chunks through a `BufReader` so that
//! memory stays bounded however large the arrays. Little-endian float32
//! logits with the class axis last in memory (what `np.save` of a CUDA
//! tensor's `.numpy()` writes for `[N, K]`) are read straight into an f32
//! buffer and lent to the sweep as they are ([`Source::lend`]): no
//! conversion pass.
//!
//! # Format
//! `\x93NUMPY`, a major and minor version byte (1.0, 2.0 or 3.0), the header
//! length (u16 little-endian in 1.0, u32 from 2.0 on), then the header: a
//! Python dict literal such as
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 10), }`
//! padded with spaces to a newline (Latin-1 before 3.0, UTF-8 in 3.0). The
//! raw array follows. The dict is parsed here as a small literal (no Python
//! evaluation), so a corrupt header is an error, never a guess.
//!
//! # Class planes and Fortran order
//! With the class axis not last in memory (`[N, C, H, W]`, or
//! `np.save(f, logits.T)`'s column-major `[N, K]`) the K values of a
//! position are `inner` items apart. A batch of positions is then read in
//! strips: for each run sharing its outer index, K runs of values, one per
//! class plane, with a seek each: memory stays bounded (one batch), never a
//! whole item, at the cost of a seek per class and strip.
//!
//! # Containers
//! An array may be a byte range of a larger file ([`Place`]): an `.npz`
//! member, stored (read in place, like a file) or deflated (inflated in
//! order, not split, with what the strips need to go back: see
//! `container/inflate.rs`), or a safetensors tensor (raw items, no header).
//!
//! # Pipes and standard input
//! A file that is not a regular one (a pipe, a FIFO, a character device,
//! or `-`, standard input) is a stream: read once, in order, by one thread,
//! never opened again nor sought in (so Fortran order needs a file).
//!
//! # Truncation
//! A file shorter than its shape says is reported at open (from its length),
//! naming the first incomplete row; reading checks again in case the file is
//! not a regular one or shrinks meanwhile.

mod array;
mod decode;
mod header;
mod literal;
mod place;
mod planes;
mod read;
mod targets;
mod whole;

use std::ops::Range;
use std::path::Path;

use array::Array;
use decode::{Dtype, Kind};
pub use header::{Header, read_header, shape_text};
pub use place::{Located, Place};
pub use whole::{Floats, read_floats, read_header_at, read_labels};

use super::container::inflate::Reach;
use super::memory::bytes_text;
use super::source::{DataError, Options, Planes, Skips, Source, path_name, read_steps};

/// Bytes decoded per read: large enough to amortise the calls, small enough
/// to stay in cache.
const CHUNK: usize = 1 << 18;

/// Bytes of a strip of class planes: long runs per seek, memory bounded whatever the shape.
const STRIP: usize = 1 << 19;

/// The most a deflated member keeps to seek back into: one item's class
/// planes, which its strips span (a deflated member has no random access).
const INFLATE_WINDOW: u64 = 1 << 23;

/// The most inflaters of one deflated member, one per class plane when an
/// item's planes exceed [`INFLATE_WINDOW`] (about 110 KB each).
const MAX_INFLATERS: usize = 64;

/// Logits `[N, K]` from `logits` with their labels `[N]` from `labels`.
pub fn open(logits: &Path, labels: &Path, skip_invalid: bool) -> Result<Box<dyn Source>, DataError> {
    open_with(logits, labels, Options { skip_invalid, ..Options::default() })
}

/// Logits of any rank ≥ 2 from `logits`, the class axis as `options` says
/// (axis 1 by default: PyTorch's `[N, C, d1, …]`), with their labels from
/// `labels`: shaped like the logits without the class axis, or flat, one
/// per position. Every position is a row.
///
/// Checked at open: both headers, the dtypes, the shapes, that both files
/// hold the same positions in the same order, and that neither file is
/// shorter than its shape says.
pub fn open_with(logits: &Path, labels: &Path, options: Options) -> Result<Box<dyn Source>, DataError> {
    let file = |path: &Path| Located { path: path.to_path_buf(), name: path_name(path), place: Place::File };
    open_located(&file(logits), &file(labels), options)
}

/// [`open_with`] of arrays that may be parts of containers (`.npz`
/// members, stored or deflated; safetensors tensors).
pub fn open_located(logits: &Located, labels: &Located, options: Options) -> Result<Box<dyn Source>, DataError> {
    let mut z = Array::open(logits, Which::Logits)?;
    let shape = &z.header.shape;
    let rank = shape.len();
    if rank < 2 {
        return Err(z.error(format!(
            "logits must have a class axis and at least one other, [N, K] or [N, C, d1, …], got shape {}",
            shape_text(shape)
        )));
    }
    let axis = options.class_axis.unwrap_or(1);
    let Some(a) = usize::try_from(if axis < 0 { axis + rank as i64 } else { axis }).ok().filter(|&a| a < rank) else {
        return Err(z.error(format!(
            "class axis {axis} is out of range for logits of shape {}: {rank} axes allow -{rank}..{}",
            shape_text(shape),
            rank - 1
        )));
    };
    let k = shape[a];
    if k == 0 {
        let axis = if rank > 2 { format!(" (axis {a})") } else { String::new() };
        return Err(z.error(format!("logits of shape {} have no classes{axis}", shape_text(shape))));
    }
    let too_large = |a: &Array| a.error(format!("shape {} is too large", shape_text(&a.header.shape)));
    let k = usize::try_from(k).map_err(|_| too_large(&z))?;
    // In file order (a Fortran array is the C array of the reversed shape),
    // `outer` positions each hold K planes of `inner` values.
    let (file_shape, fa): (Vec<u64>, usize) = match z.header.fortran_order {
        true => (shape.iter().rev().copied().collect(), rank - 1 - a),
        false => (shape.clone(), a),
    };
    let product = |dims: &[u64]| dims.iter().try_fold(1u64, |p, &d| p.checked_mul(d));
    let (outer, inner) = match (product(&file_shape[..fa]), product(&file_shape[fa + 1..])) {
        (Some(o), Some(i)) => (o, i),
        _ => return Err(too_large(&z)),
    };
    let n = outer.checked_mul(inner).ok_or_else(|| too_large(&z))?;
    let positions: Vec<u64> = shape.iter().enumerate().filter(|&(i, _)| i != a).map(|(_, &d)| d).collect();
    let y = Array::open_as(labels, None)?;
    let flat = y.header.shape.as_slice() == [n];
    let same_shape = y.header.shape == *shape;
    if !same_shape {
        y.check(Which::Labels)?;
    }
    if positions.len() == 1 && !flat && !same_shape {
        if let &[m] = y.header.shape.as_slice() {
            return Err(
                z.error(format!("has {n} rows of logits but {} has {m} labels: each example needs both", y.name))
            );
        }
        let hint = if y.header.shape.len() == 2 { " (save y.ravel())" } else { "" };
        return Err(y.error(format!("labels must be 1-D [N], got shape {}{hint}", shape_text(&y.header.shape))));
    }
    if y.header.shape != positions && !flat && !same_shape {
        let expected = if positions.len() == 1 {
            shape_text(&positions)
        } else {
            format!("{} (or flat, {})", shape_text(&positions), shape_text(&[n]))
        };
        return Err(y.error(format!(
            "labels of shape {} do not match logits of shape {} with the class axis {a}: expected {expected}",
            shape_text(&y.header.shape),
            shape_text(shape)
        )));
    }
    // Positions are read in the logits' file order; the labels must be stored in the same.
    if positions.iter().filter(|&&d| d > 1).count() > 1 {
        let labels_fortran = y.header.fortran_order && !flat;
        if labels_fortran != z.header.fortran_order {
            let order = |f: bool| if f { "Fortran" } else { "C" };
            return Err(y.error(format!(
                "labels in {} order but the logits {} are in {} order: save both the same way (np.ascontiguousarray)",
                order(labels_fortran),
                z.name,
                order(z.header.fortran_order)
            )));
        }
    }
    let fits = |a: &Array, items: Option<u64>| {
        items
            .and_then(|i| i.checked_mul(a.dtype.size as u64))
            .and_then(|b| b.checked_add(a.header.data_offset))
            .and_then(|b| usize::try_from(b).ok())
            .map(|_| ())
            .ok_or_else(|| too_large(a))
    };
    fits(&z, n.checked_mul(k as u64))?;
    fits(&y, if same_shape { n.checked_mul(k as u64) } else { Some(n) })?;
    // The class axis last in file order: rows are contiguous; otherwise read in strips.
    let inner = if k == 1 || n <= 1 { 1 } else { inner };
    if inner > 1 && z.stream() {
        return Err(z.error(match z.header.fortran_order && rank == 2 {
            true => "Fortran-order logits are read column by column, which a pipe cannot do: save np.ascontiguousarray(logits) or write them to a file".into(),
            false => format!("logits of shape {} are read in strips of class planes, seeking, which a pipe cannot do: write them to a file", shape_text(shape)),
        }));
    }
    if inner > 1 && matches!(z.place, Place::Deflated(_)) {
        z.reach = deflated_reach(&z, k, inner)?;
    }
    let layout = Layout { n, k, inner };
    if same_shape || options.probs || options.background.is_some() {
        return targets::open(z, y, layout, same_shape, options);
    }
    let source = Npy::new(z, y, layout, 0..n, options);
    source.check_lengths()?;
    Ok(Box::new(source))
}

/// How deflated logits with `k` class planes of `inner` items are read in
/// strips: one inflater keeping an item's planes when they fit in
/// [`INFLATE_WINDOW`], else one inflater per plane (inflating the member
/// once per plane), up to [`MAX_INFLATERS`].
fn deflated_reach(z: &Array, k: usize, inner: u64) -> Result<Reach, DataError> {
    let block = (k as u64).saturating_mul(inner).saturating_mul(z.dtype.size as u64);
    match block <= INFLATE_WINDOW {
        true => Ok(Reach { keep: block as usize, inflaters: 1 }),
        false if k <= MAX_INFLATERS => Ok(Reach { keep: 0, inflaters: k }),
        false => Err(z.error(format!(
            "a deflated member with the class axis not last in memory is read by one inflater per class plane when an item's planes exceed {} ({} here), and {k} planes are more than {MAX_INFLATERS}: save it with np.savez (stored), not np.savez_compressed",
            bytes_text(INFLATE_WINDOW),
            bytes_text(block)
        ))),
    }
}

/// Where the logits of a position are, in file order: position p = o·inner + i
/// has class c at item (o·K + c)·inner + i; `inner` = 1 is rows of K.
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// Positions (rows).
    n: u64,
    k: usize,
    /// The stride of the class axis, in items.
    inner: u64,
}

impl Layout {
    /// The item (in file order) of class `c` at position `p`.
    fn item(self, p: u64, c: usize) -> u64 {
        let (o, i) = (p / self.inner, p % self.inner);
        (o * self.k as u64 + c as u64) * self.inner + i
    }
}

/// The `.npy` [`Source`]: both arrays, read row batch by row batch.
struct Npy {
    logits: Array,
    labels: Array,
    n: u64,
    k: usize,
    layout: Layout,
    /// 0-based index of the next row to read.
    next_row: u64,
    /// One past the last row this source reads (`n` unless split).
    end: u64,
    skip_invalid: bool,
    ignore_index: Option<i64>,
    skips: Skips,
    failed: Option<DataError>,
    /// Raw bytes of one chunk (only ever grown, so never zeroed again).
    bytes: Vec<u8>,
    /// One batch of labels as stored, widened to 64 bits ([`Dtype::labels`]).
    raw_labels: Vec<u64>,
    /// The batch of [`Source::lend`] (the logits buffer only ever grows,
    /// so it is never zeroed again; its batch is the first K × labels).
    lent_logits: Vec<f32>,
    lent_labels: Vec<usize>,
    /// Raw logits of the positions `strip_at` for every class plane, one
    /// plane after another (read only when the class axis is not last),
    /// in f32 words so that float32 planes can be lent as they are; whether
    /// those are all finite (float32 that can be lent only).
    strip: Vec<f32>,
    strip_at: Range<u64>,
    strip_finite: bool,
    /// The batch of [`Source::lend_planes`]: its first position in the
    /// strip, and its positions kept from there on (labels: `lent_labels`).
    planes_from: usize,
    lent_positions: Vec<usize>,
}

impl Npy {
    /// The source of rows `rows` of logits laid out as `layout` and their
    /// labels, both files positioned at the first of them.
    fn new(logits: Array, labels: Array, layout: Layout, rows: Range<u64>, options: Options) -> Npy {
        Npy {
            logits,
            labels,
            n: layout.n,
            k: layout.k,
            layout,
            next_row: rows.start,
            end: rows.end,
            skip_invalid: options.skip_invalid,
            ignore_index: options.ignore_index,
            skips: Skips::default(),
            failed: None,
            bytes: Vec::new(),
            raw_labels: Vec::new(),
            lent_logits: Vec::new(),
            lent_labels: Vec::new(),
            strip: Vec::new(),
            strip_at: 0..0,
            strip_finite: false,
            planes_from: 0,
            lent_positions: Vec::new(),
        }
    }
}

impl Npy {
    /// Whether the logits can be lent as stored: little-endian float32 on a
    /// little-endian machine, and both files seekable (a batch that cannot
    /// be lent is read again).
    pub(super) fn lends_f32(&self) -> bool {
        const F32: Dtype = Dtype { kind: Kind::Float, size: 4, big_endian: false };
        self.logits.seekable() && self.labels.seekable() && self.logits.dtype == F32 && !cfg!(target_endian = "big")
    }

    /// Whether `--ignore-index` is a label in range, which the range check does not catch.
    fn ignores_a_class(&self) -> bool {
        self.ignore_index.is_some_and(|i| (0..self.k as i128).contains(&i128::from(i)))
    }
}

/// One of the two files of a [`Npy`] source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Logits,
    Labels,
}

impl Source for Npy {
    fn classes(&self) -> usize {
        self.k
    }

    fn read(&mut self, max_rows: usize, logits: &mut Vec<f64>, labels: &mut Vec<usize>) -> Result<usize, DataError> {
        let mut failed = self.failed.take();
        let read = read_steps(&mut failed, max_rows, logits, labels, |room, z, y| {
            if self.next_row < self.end { self.batch(room, z, y).map(Some) } else { Ok(None) }
        });
        self.failed = failed;
        read
    }

    fn skipped(&self) -> Vec<(String, u64)> {
        self.skips.to_vec()
    }

    fn rows_left(&self) -> Option<u64> {
        Some(self.end - self.next_row)
    }

    fn shape(&self) -> Option<Vec<u64>> {
        Some(self.logits.header.shape.clone())
    }

    /// Lends little-endian float32 logits in C order as they are stored:
    /// read into an f32 buffer and checked there, with no conversion pass.
    fn lend(&mut self, max_rows: usize) -> Option<Result<usize, DataError>> {
        // A batch that cannot be lent is read again: a stream or deflated member cannot go back so far.
        if !self.lends_f32() || self.layout.inner > 1 || self.ignores_a_class() {
            return None;
        }
        if let Some(e) = &self.failed {
            return Some(Err(e.clone()));
        }
        let rows = (self.end - self.next_row).min(max_rows as u64) as usize;
        if rows == 0 {
            self.lent_labels.clear();
            return Some(Ok(0));
        }
        let lent = self.lend_rows(rows);
        if let Err(e) = &lent {
            self.failed = Some(e.clone());
        }
        lent.transpose()
    }

    fn lent(&self) -> (&[f32], &[usize]) {
        let labels = &self.lent_labels;
        (&self.lent_logits[..labels.len() * self.k], labels)
    }

    /// Lends little-endian float32 class planes as they are stored, strip
    /// by strip, the positions to leave out dropped from the batch's list.
    fn lend_planes(&mut self, max_rows: usize) -> Option<Result<usize, DataError>> {
        if !self.lends_f32() || self.layout.inner == 1 {
            return None;
        }
        if let Some(e) = &self.failed {
            return Some(Err(e.clone()));
        }
        if self.next_row == self.end {
            return Some(Ok(0));
        }
        let lent = self.lend_plane_rows(max_rows.max(1));
        if let Err(e) = &lent {
            self.failed = Some(e.clone());
        }
        lent.transpose()
    }

    fn lent_planes(&self) -> Planes<'_> {
        self.planes()
    }

    /// Contiguous row ranges of what is left, each with its own file handles,
    /// of decreasing size: of P parts, part i has a share P − i of the rows
    /// (at least one), so that threads taking them in order finish close
    /// together, the last parts being small.
    fn split(&mut self, parts: usize) -> Option<Result<Vec<Box<dyn Source>>, DataError>> {
        let parts = self.parts(parts)?;
        Some(parts.map(|parts| parts.into_iter().map(|p| Box::new(p) as Box<dyn Source>).collect()))
    }
}

impl Npy {
    /// [`Source::split`], the parts unboxed.
    fn parts(&mut self, parts: usize) -> Option<Result<Vec<Npy>, DataError>> {
        if !self.logits.seekable() || !self.labels.seekable() {
            return None;
        }
        let (start, left) = (self.next_row, self.end - self.next_row);
        let p = (parts.max(1) as u64).min(left);
        let total = u128::from(p * (p + 1) / 2);
        let mut bounds = vec![start];
        let mut weight = 0;
        for i in 0..p {
            weight += u128::from(p - i);
            let share = start + (u128::from(left) * weight / total) as u64;
            let after = bounds[bounds.len() - 1] + 1;
            bounds.push(share.max(after).min(self.end - (p - 1 - i)));
        }
        let split = bounds
            .windows(2)
            .map(|range| {
                let (first, end) = (range[0], range[1]);
                let (mut logits, mut labels) = (self.logits.reopen(), self.labels.reopen());
                if self.layout.inner == 1 {
                    logits.seek_item(first * self.k as u64)?;
                }
                labels.seek_item(first)?;
                let options =
                    Options { skip_invalid: self.skip_invalid, ignore_index: self.ignore_index, ..Options::default() };
                Ok(Npy::new(logits, labels, self.layout, first..end, options))
            })
            .collect();
        Some(split)
    }
}
