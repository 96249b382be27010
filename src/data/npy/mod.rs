//! NumPy `.npy` files: logits `[N, K]` (float16, float32 or float64, either
//! byte order, C or Fortran order) beside labels `[N]` (any integer dtype, or
//! bool), streamed in chunks through a `BufReader` so that memory stays
//! bounded however large the arrays. Little-endian float32 logits in C
//! order (what `np.save` of a CUDA tensor's `.numpy()` writes) are read
//! straight into an f32 buffer and lent to the sweep as they are
//! ([`Source::lend`]): no conversion pass.
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
//! # Fortran order
//! `np.save(f, logits.T)` writes a column-major array. A batch of rows is
//! then K runs of `rows` values, one per column, read with K seeks: memory
//! stays bounded (one batch), at the cost of a seek per class and batch.
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
mod read;

use std::ops::Range;
use std::path::Path;

use array::Array;
use decode::{Dtype, Kind};
use header::shape_text;
pub use header::{Header, read_header};

use super::source::{DataError, Skips, Source, read_steps};

/// Bytes decoded per read: large enough to amortise the calls, small enough
/// to stay in cache.
const CHUNK: usize = 1 << 18;

/// Logits `[N, K]` from `logits` with their labels `[N]` from `labels`.
///
/// Checked at open: both headers, the dtypes, the shapes, that both files
/// hold the same N, and that neither file is shorter than its shape says.
pub fn open(logits: &Path, labels: &Path, skip_invalid: bool) -> Result<Box<dyn Source>, DataError> {
    let z = Array::open(logits, Which::Logits)?;
    let &[n, k] = z.header.shape.as_slice() else {
        return Err(z.error(format!("logits must be 2-D [N, K], got shape {}", shape_text(&z.header.shape))));
    };
    if k == 0 {
        return Err(z.error(format!("logits of shape {} have no classes", shape_text(&z.header.shape))));
    }
    let y = Array::open(labels, Which::Labels)?;
    let &[m] = y.header.shape.as_slice() else {
        let hint = if y.header.shape.len() == 2 { " (save y.ravel())" } else { "" };
        return Err(y.error(format!("labels must be 1-D [N], got shape {}{hint}", shape_text(&y.header.shape))));
    };
    if m != n {
        return Err(z.error(format!("has {n} rows of logits but {} has {m} labels: each example needs both", y.name)));
    }
    let fits = |a: &Array, items: Option<u64>| {
        items
            .and_then(|i| i.checked_mul(a.dtype.size as u64))
            .and_then(|b| b.checked_add(a.header.data_offset))
            .and_then(|b| usize::try_from(b).ok())
            .map(|_| ())
            .ok_or_else(|| a.error(format!("shape {} is too large", shape_text(&a.header.shape))))
    };
    fits(&z, n.checked_mul(k))?;
    fits(&y, Some(n))?;
    // One row or one column: Fortran and C order are the same bytes.
    let fortran = z.header.fortran_order && n > 1 && k > 1;
    if fortran && z.stream() {
        return Err(z.error(
            "Fortran-order logits are read column by column, which a pipe cannot do: save np.ascontiguousarray(logits) or write them to a file".into(),
        ));
    }
    let source = Npy::new(z, y, n, k as usize, fortran, 0..n, skip_invalid);
    source.check_lengths()?;
    Ok(Box::new(source))
}

/// The `.npy` [`Source`]: both arrays, read row batch by row batch.
struct Npy {
    logits: Array,
    labels: Array,
    n: u64,
    k: usize,
    /// The logits are column-major (and more than one row and column).
    fortran: bool,
    /// 0-based index of the next row to read.
    next_row: u64,
    /// One past the last row this source reads (`n` unless split).
    end: u64,
    skip_invalid: bool,
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
}

impl Npy {
    /// The source of rows `rows` of `[n, k]` logits and their labels,
    /// both files positioned at the first of them.
    fn new(logits: Array, labels: Array, n: u64, k: usize, fortran: bool, rows: Range<u64>, skip_invalid: bool) -> Npy {
        Npy {
            logits,
            labels,
            n,
            k,
            fortran,
            next_row: rows.start,
            end: rows.end,
            skip_invalid,
            skips: Skips::default(),
            failed: None,
            bytes: Vec::new(),
            raw_labels: Vec::new(),
            lent_logits: Vec::new(),
            lent_labels: Vec::new(),
        }
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

    /// Lends little-endian float32 logits in C order as they are stored:
    /// read into an f32 buffer and checked there, with no conversion pass.
    fn lend(&mut self, max_rows: usize) -> Option<Result<usize, DataError>> {
        const F32: Dtype = Dtype { kind: Kind::Float, size: 4, big_endian: false };
        // A batch that cannot be lent is read again: a stream cannot go back.
        let stream = self.logits.stream() || self.labels.stream();
        if stream || self.fortran || self.logits.dtype != F32 || cfg!(target_endian = "big") {
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

    /// Contiguous row ranges of what is left, each with its own file handles,
    /// of decreasing size: of P parts, part i has a share P − i of the rows
    /// (at least one), so that threads taking them in order finish close
    /// together, the last parts being small.
    fn split(&mut self, parts: usize) -> Option<Result<Vec<Box<dyn Source>>, DataError>> {
        if self.logits.stream() || self.labels.stream() {
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
                if !self.fortran {
                    logits.seek_item(first * self.k as u64)?;
                }
                labels.seek_item(first)?;
                let part = Npy::new(logits, labels, self.n, self.k, self.fortran, first..end, self.skip_invalid);
                Ok(Box::new(part) as Box<dyn Source>)
            })
            .collect();
        Some(split)
    }
}
