//! What every dataset reader provides: a [`Source`] of rows (K logits and one
//! label each) read in batches, the [`DataError`] that says what is wrong and
//! where, and [`Chain`], which reads the shards of one dataset in turn.
//!
//! Readers check every row: a non-finite logit or a label outside `0..K`
//! would otherwise surface much later as a NaN mean or an index panic, far
//! from the file and row that caused it.

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// What is wrong with the data, and where: the file and, when known, the 1-based row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataError {
    /// The file as the user named it (`standard input` for `-`).
    pub file: String,
    /// 1-based: the row of an array, or the line of a text file.
    pub row: Option<u64>,
    pub message: String,
}

impl DataError {
    /// An error about the file as a whole.
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        DataError { file: file.into(), row: None, message: message.into() }
    }

    /// An error at one row of the file.
    pub fn at(file: impl Into<String>, row: u64, message: impl Into<String>) -> Self {
        DataError { file: file.into(), row: Some(row), message: message.into() }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.row {
            Some(row) => write!(f, "{}: row {row}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for DataError {}

/// The name of standard input in messages.
pub const STDIN: &str = "standard input";

/// Whether `path` is `-`, standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// A path as messages show it: control characters escaped (`\n`, `\u{1b}`),
/// so that a file name can neither break the one-line error nor drive the
/// terminal; `-` is standard input.
pub fn path_name(path: &Path) -> String {
    if is_stdin(path) {
        return STDIN.to_string();
    }
    let mut name = String::new();
    for c in path.display().to_string().chars() {
        if c.is_control() {
            name.extend(c.escape_debug());
        } else {
            name.push(c);
        }
    }
    name
}

/// Opens `path` for reading, `-` being standard input (as a `File`, so that
/// a reader can ask whether it is a regular file or a stream).
pub fn open_file(path: &Path) -> io::Result<File> {
    if is_stdin(path) {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            return io::stdin().as_fd().try_clone_to_owned().map(File::from);
        }
        #[cfg(not(unix))]
        return Err(io::Error::other("standard input cannot be read as a file here"));
    }
    File::open(path)
}

/// Whether `file` is a regular file: one that can be read again, from any
/// offset. Pipes, FIFOs, sockets and character devices are streams, read
/// once, in order.
pub fn is_regular(file: &File) -> bool {
    file.metadata().is_ok_and(|m| m.is_file())
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub(crate) fn fill(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Rows of model outputs: K logits and one integer label per example, read in batches so that memory stays bounded however large the file.
pub trait Source: Send {
    /// K, the number of classes (columns of logits).
    fn classes(&self) -> usize;

    /// Appends up to `max_rows` rows: logits row-major to `logits` (K values per row) and labels to `labels`. Returns the number of rows appended; 0 means the end. Rows with a non-finite logit or a label outside 0..K are an error naming the file and row — unless the source was opened with skip_invalid, in which case they are skipped and counted.
    ///
    /// Skipped rows do not count towards `max_rows`: a call returns 0 only
    /// at the end, never because a whole batch was skipped. `max_rows = 0`
    /// reads nothing. On an error both vectors are left as they were before
    /// the call, and every later call returns the same error.
    fn read(&mut self, max_rows: usize, logits: &mut Vec<f64>, labels: &mut Vec<usize>) -> Result<usize, DataError>;

    /// Rows skipped so far, by reason (e.g. ("non-finite logit", 3), ("label out of range", 1)).
    fn skipped(&self) -> Vec<(String, u64)>;

    /// The rows left to read, counting those that will be skipped, when
    /// known before reading them (a `.npy` header says; text does not).
    fn rows_left(&self) -> Option<u64> {
        None
    }

    /// The logits' shape as stored, when the reader knows it (a `.npy`
    /// header); for the dataset view's title.
    fn shape(&self) -> Option<Vec<u64>> {
        None
    }

    /// Readies the next batch of up to `max_rows` rows to be borrowed from
    /// the source's own buffer ([`Source::lent`]) as float32 logits, with no
    /// conversion: where the file stores them so and every row of the batch
    /// is valid. Returns the rows readied (0 at the end), or `None`
    /// when this batch cannot be lent, having consumed nothing: read it with
    /// [`Source::read`], which converts, skips and reports as usual.
    fn lend(&mut self, _max_rows: usize) -> Option<Result<usize, DataError>> {
        None
    }

    /// The batch of the last [`Source::lend`] that readied rows: K logits
    /// per row, row-major, and the labels.
    fn lent(&self) -> (&[f32], &[usize]) {
        (&[], &[])
    }

    /// Readies the next positions to be borrowed as class planes
    /// ([`Source::lent_planes`]), float32 as stored, where the file stores the
    /// class axis before the positions (`[B, C, H, W]`), the logits are
    /// little-endian float32 and finite and every label is in range or the
    /// `--ignore-index` (those positions are left out and counted). Returns
    /// the positions consumed (0 at the end; the rows kept may be fewer), or
    /// `None` when this batch cannot be lent, having consumed nothing: read
    /// it with [`Source::read`].
    fn lend_planes(&mut self, _max_rows: usize) -> Option<Result<usize, DataError>> {
        None
    }

    /// The batch of the last [`Source::lend_planes`] that consumed positions.
    fn lent_planes(&self) -> Planes<'_> {
        Planes::default()
    }

    /// Whether rows carry K targets each ([`Source::read_targets`]) instead
    /// of one label ([`Source::read`]).
    fn per_class(&self) -> bool {
        false
    }

    /// [`Source::read`] for a source of per-class targets: K targets per
    /// row appended to `targets`, row-major, checked (see
    /// [`crate::data::targets`]).
    fn read_targets(
        &mut self,
        _max_rows: usize,
        _logits: &mut Vec<f64>,
        _targets: &mut Vec<f64>,
    ) -> Result<usize, DataError> {
        Err(DataError::new("dataset", "rows of one label each, not of per-class targets"))
    }

    /// The rows not yet read as `parts` sources of contiguous, consecutive
    /// row ranges that can be read at the same time (fewer when there are
    /// fewer rows), or `None` when the input can only be read in order
    /// (text, standard input). Rows read afterwards from `self` are
    /// unspecified.
    fn split(&mut self, _parts: usize) -> Option<Result<Vec<Box<dyn Source>>, DataError>> {
        None
    }
}

/// Rows lent as class planes ([`Source::lend_planes`]): row `i` is class
/// `c`'s `logits[c · stride + positions[i]]` for every class, labelled
/// `labels[i]`; the positions increase.
#[derive(Clone, Copy, Debug, Default)]
pub struct Planes<'a> {
    pub logits: &'a [f32],
    pub stride: usize,
    pub positions: &'a [usize],
    pub labels: &'a [usize],
}

/// The body of [`Source::read`] (or [`Source::read_targets`], `labels`
/// then K targets a row) for a reader that yields rows in steps:
/// `step(room, logits, labels)` appends up to `room` rows and returns how
/// many it kept, or `None` at the end. Steps are taken until `max_rows` rows
/// are kept; on an error the vectors are cut back to where they were, and
/// `failed` keeps the error for every later call.
pub(crate) fn read_steps<T>(
    failed: &mut Option<DataError>,
    max_rows: usize,
    logits: &mut Vec<f64>,
    labels: &mut Vec<T>,
    mut step: impl FnMut(usize, &mut Vec<f64>, &mut Vec<T>) -> Result<Option<usize>, DataError>,
) -> Result<usize, DataError> {
    if let Some(e) = failed {
        return Err(e.clone());
    }
    let (logits_len, labels_len) = (logits.len(), labels.len());
    let mut total = 0;
    while total < max_rows {
        match step(max_rows - total, logits, labels) {
            Ok(None) => break,
            Ok(Some(kept)) => total += kept,
            Err(e) => {
                logits.truncate(logits_len);
                labels.truncate(labels_len);
                *failed = Some(e.clone());
                return Err(e);
            }
        }
    }
    Ok(total)
}

/// How the flags of `data` ask a reader to take its arrays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Skip (and count) invalid rows instead of stopping at the first.
    pub skip_invalid: bool,
    /// The class axis of the logits (negative: from the end); `None`: axis 1.
    pub class_axis: Option<i64>,
    /// A label that marks a position to leave out (counted as [`IGNORED`]).
    pub ignore_index: Option<i64>,
    /// A label meaning every class is a negative (sigmoid).
    pub background: Option<i64>,
    /// The logits are probabilities.
    pub probs: bool,
    /// The loss the rows are for (what a row of targets or probabilities must sum to).
    pub mode: crate::loss::Mode,
    /// Per-class targets must be 0 or 1 (a library that weighs soft labels its own way).
    pub zero_one: bool,
}

/// Why a position was left out: its label is the `--ignore-index`.
pub const IGNORED: &str = "ignored";

/// Why a row was skipped: a logit is NaN or ±∞.
pub const NON_FINITE: &str = "non-finite logit";
/// Why a row was skipped: its label is negative or ≥ K.
pub const OUT_OF_RANGE: &str = "label out of range";

/// Counts of skipped rows by reason, in the order the reasons first occurred
/// (a handful of reasons, so a list beats a map and keeps the order stable).
#[derive(Clone, Debug, Default)]
pub(crate) struct Skips(Vec<(String, u64)>);

impl Skips {
    pub(crate) fn add(&mut self, reason: &str, count: u64) {
        match self.0.iter_mut().find(|(r, _)| r == reason) {
            Some((_, n)) => *n += count,
            None => self.0.push((reason.to_string(), count)),
        }
    }

    pub(crate) fn to_vec(&self) -> Vec<(String, u64)> {
        self.0.clone()
    }
}

/// The message for a label outside `0..k`; `label` is shown as given.
pub(crate) fn out_of_range(label: impl fmt::Display, k: usize) -> String {
    let label = label.to_string();
    // The two common "void" labels (segmentation's 255, PyTorch's −100) are almost never a class.
    let hint = match label.as_str() {
        "255" | "-100" => format!(" (if it marks positions to leave out, pass --ignore-index {label})"),
        _ => String::new(),
    };
    match k {
        1 => format!("label {label} is out of range: 1 class allows only label 0{hint}"),
        _ => format!("label {label} is out of range: {k} classes give labels 0..{}{hint}", k - 1),
    }
}

/// Several sources (shards of one dataset) read one after another; they must agree on K (error naming the shard otherwise).
///
/// A finished shard is dropped at once (closing its file, so that a dataset
/// of thousands of shards never holds them all open); its skip counts are
/// kept.
pub struct Chain {
    shards: VecDeque<Box<dyn Source>>,
    k: usize,
    finished: Skips,
}

impl Chain {
    /// The shards in reading order, each with the name its errors should
    /// use (normally its file). At least one shard is needed, since K would
    /// otherwise be unknown.
    pub fn new(shards: Vec<(String, Box<dyn Source>)>) -> Result<Chain, DataError> {
        let Some((first, source)) = shards.first() else {
            return Err(DataError::new("dataset", "no shards to read: give at least one data file"));
        };
        let k = source.classes();
        for (name, shard) in &shards[1..] {
            let kk = shard.classes();
            if kk != k {
                return Err(DataError::new(
                    name.clone(),
                    format!("has {kk} classes but {first} has {k}: every shard must have the same K"),
                ));
            }
            if shard.per_class() != source.per_class() {
                let kind = |per_class: bool| if per_class { "per-class targets" } else { "one label a row" };
                return Err(DataError::new(
                    name.clone(),
                    format!(
                        "has {} but {first} has {}: every shard must have the same kind of labels",
                        kind(shard.per_class()),
                        kind(source.per_class())
                    ),
                ));
            }
        }
        Ok(Chain { shards: shards.into_iter().map(|(_, s)| s).collect(), k, finished: Skips::default() })
    }

    /// A batch of up to `max_rows` rows across shard boundaries, each
    /// shard's part read by `read` (labels or targets into `out`).
    fn fill<T>(
        &mut self,
        max_rows: usize,
        logits: &mut Vec<f64>,
        out: &mut Vec<T>,
        read: impl Fn(&mut dyn Source, usize, &mut Vec<f64>, &mut Vec<T>) -> Result<usize, DataError>,
    ) -> Result<usize, DataError> {
        let (logits_len, out_len) = (logits.len(), out.len());
        let mut total = 0;
        while total < max_rows
            && let Some(shard) = self.shards.front_mut()
        {
            match read(&mut **shard, max_rows - total, logits, out) {
                Ok(0) => self.finish_front(),
                Ok(n) => total += n,
                Err(e) => {
                    logits.truncate(logits_len);
                    out.truncate(out_len);
                    return Err(e);
                }
            }
        }
        Ok(total)
    }

    /// Drops the front shard, which is at its end, keeping its skip counts.
    fn finish_front(&mut self) {
        if let Some(shard) = self.shards.pop_front() {
            for (reason, n) in shard.skipped() {
                self.finished.add(&reason, n);
            }
        }
    }
}

impl Source for Chain {
    fn classes(&self) -> usize {
        self.k
    }

    /// Fills the batch across shard boundaries, so batches stay full-sized.
    fn read(&mut self, max_rows: usize, logits: &mut Vec<f64>, labels: &mut Vec<usize>) -> Result<usize, DataError> {
        self.fill(max_rows, logits, labels, |shard, n, z, y| shard.read(n, z, y))
    }

    fn per_class(&self) -> bool {
        self.shards.front().is_some_and(|shard| shard.per_class())
    }

    fn read_targets(
        &mut self,
        max_rows: usize,
        logits: &mut Vec<f64>,
        targets: &mut Vec<f64>,
    ) -> Result<usize, DataError> {
        self.fill(max_rows, logits, targets, |shard, n, z, y| shard.read_targets(n, z, y))
    }

    /// The front shard's batch; a shard at its end is dropped first.
    fn lend(&mut self, max_rows: usize) -> Option<Result<usize, DataError>> {
        while let Some(shard) = self.shards.front_mut() {
            match shard.lend(max_rows)? {
                Ok(0) => self.finish_front(),
                done => return Some(done),
            }
        }
        Some(Ok(0))
    }

    fn lent(&self) -> (&[f32], &[usize]) {
        self.shards.front().map_or((&[], &[]), |shard| shard.lent())
    }

    /// The front shard's planes; a shard at its end is dropped first.
    fn lend_planes(&mut self, max_rows: usize) -> Option<Result<usize, DataError>> {
        while let Some(shard) = self.shards.front_mut() {
            match shard.lend_planes(max_rows)? {
                Ok(0) => self.finish_front(),
                done => return Some(done),
            }
        }
        Some(Ok(0))
    }

    fn lent_planes(&self) -> Planes<'_> {
        self.shards.front().map_or(Planes::default(), |shard| shard.lent_planes())
    }

    /// Part `i` reads part `i` of every shard, when every shard splits.
    fn split(&mut self, parts: usize) -> Option<Result<Vec<Box<dyn Source>>, DataError>> {
        let mut chains: Vec<VecDeque<Box<dyn Source>>> = (0..parts).map(|_| VecDeque::new()).collect();
        for shard in &mut self.shards {
            match shard.split(parts)? {
                Ok(split) => chains.iter_mut().zip(split).for_each(|(chain, part)| chain.push_back(part)),
                Err(e) => return Some(Err(e)),
            }
        }
        let k = self.k;
        Some(Ok(chains
            .into_iter()
            .map(|shards| Box::new(Chain { shards, k, finished: Skips::default() }) as Box<dyn Source>)
            .collect()))
    }

    fn rows_left(&self) -> Option<u64> {
        self.shards.iter().try_fold(0u64, |sum, shard| sum.checked_add(shard.rows_left()?))
    }

    fn skipped(&self) -> Vec<(String, u64)> {
        let mut all = self.finished.clone();
        for shard in &self.shards {
            for (reason, n) in shard.skipped() {
                all.add(&reason, n);
            }
        }
        all.to_vec()
    }
}
