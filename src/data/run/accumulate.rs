//! Every row of a source folded into one accumulator, read by every thread
//! at once.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::data::source::{DataError, Skips, Source};
use crate::data::sweep::{Accumulator, Config, PLANES_UP_TO, PerRow};

/// Logits per batch of a source read in order (1 MiB of f64), split among
/// the threads.
const BATCH_VALUES: usize = 1 << 17;
/// Logits per batch of a thread reading its own rows (256 KiB of f64): small
/// enough that the values stay in cache from the read to the sweep.
const CACHED_VALUES: usize = 1 << 15;

/// Parts per thread of a source that splits (of decreasing size, the last
/// ones small, so that a thread that finishes early waits little for the
/// others: the machine may be shared).
const PARTS_PER_THREAD: usize = 4;
/// Above this many classes a split source is read in one part per thread:
/// each part's accumulator may hold every class's sums until the merge.
const FEW_PARTS_ABOVE: usize = 1 << 12;

/// Rows skipped, and why.
pub(super) type Skip = (String, u64);
/// A part of the rows read into an accumulator of its own, or its error.
type Part = Result<(Accumulator, Vec<Skip>), DataError>;

/// Every row of `source` in one accumulator (keeping the examples when
/// `keep`), and the rows skipped by reason.
///
/// A source that splits (`.npy`) is read by every thread at once: its rows
/// in parts of decreasing size ([`Source::split`]), each thread taking the
/// next part in row order and reading it in small batches into an accumulator of
/// its own, so that reading and the sweep run in parallel on data in cache.
/// The parts' accumulators are merged in row order, so the result does not
/// depend on which thread read what, each as soon as the parts before it
/// are ([`InOrder`]): about one accumulator per thread waits, not one per
/// part. Text is read in order, and each large batch is divided among the
/// threads, each keeping one accumulator for the whole run (a new one per
/// batch would map its histograms and fault their pages in again every
/// time). Of several bad rows, the one reported is the first in row order.
pub(super) fn accumulate(
    mut source: Box<dyn Source>,
    config: &Config,
    per_row: PerRow,
    keep: bool,
) -> Result<(Accumulator, Vec<Skip>), DataError> {
    let k = source.classes();
    let new = || {
        let acc = Accumulator::new(config, k).with(per_row);
        if keep { acc.keeping_examples() } else { acc }
    };
    let threads = rayon::current_num_threads();
    let parts_per_thread = if k > FEW_PARTS_ABOVE { 1 } else { PARTS_PER_THREAD };
    let (total, skips) = match source.split(parts_per_thread * threads) {
        Some(parts) => {
            let sources: Vec<Mutex<Option<Box<dyn Source>>>> =
                parts?.into_iter().map(|p| Mutex::new(Some(p))).collect();
            // Parts are taken in row order; after an error no later one is.
            let (next, failed) = (AtomicUsize::new(0), AtomicUsize::new(usize::MAX));
            let folded = Mutex::new(InOrder::default());
            rayon::broadcast(|_| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= sources.len() || i > failed.load(Ordering::Relaxed) {
                        return;
                    }
                    let taken = sources[i].lock().unwrap_or_else(|e| e.into_inner()).take();
                    let mut part = taken.expect("each part is taken once");
                    let mut acc = new();
                    let read = read_part(&mut *part, CACHED_VALUES / k, &mut acc).map(|()| {
                        acc.pause();
                        (acc, part.skipped())
                    });
                    if read.is_err() {
                        failed.fetch_min(i, Ordering::Relaxed);
                    }
                    folded.lock().unwrap_or_else(|e| e.into_inner()).put(i, read);
                }
            });
            let folded = folded.into_inner().unwrap_or_else(|e| e.into_inner());
            if let Some(e) = folded.error {
                return Err(e);
            }
            (folded.total, folded.skips)
        }
        None => {
            // Made at the first rows: an empty input allocates nothing.
            let mut parts: Vec<Accumulator> = Vec::new();
            read_all(&mut *source, BATCH_VALUES / k, |batch| {
                if parts.is_empty() {
                    parts = (0..threads).map(|_| new()).collect();
                }
                let (z, y, t) = (&batch.logits, &batch.labels, &batch.targets);
                let rows = (z.len() / k).div_ceil(parts.len());
                if t.is_empty() {
                    parts
                        .par_iter_mut()
                        .zip(y.par_chunks(rows).zip(z.par_chunks(rows * k)))
                        .for_each(|(acc, (y, z))| acc.add(z, y));
                } else {
                    parts
                        .par_iter_mut()
                        .zip(t.par_chunks(rows * k).zip(z.par_chunks(rows * k)))
                        .for_each(|(acc, (t, z))| acc.add_targets(z, t));
                }
            })?;
            let mut skips = Skips::default();
            source.skipped().iter().for_each(|(reason, n)| skips.add(reason, *n));
            let total = parts.into_iter().reduce(|mut a, b| {
                a.merge(b);
                a
            });
            (total, skips)
        }
    };
    Ok((total.unwrap_or_else(new), skips.to_vec()))
}

/// The parts of a split source folded in row order as they are read: the
/// total of the parts before `next`, and the parts read ahead of it (about
/// one per thread), so that a part's accumulator is merged as soon as the
/// parts before it are rather than held to the end.
#[derive(Default)]
struct InOrder {
    next: usize,
    total: Option<Accumulator>,
    ahead: BTreeMap<usize, Part>,
    skips: Skips,
    /// The first part in row order that failed: nothing is folded after it.
    error: Option<DataError>,
}

impl InOrder {
    fn put(&mut self, i: usize, part: Part) {
        self.ahead.insert(i, part);
        while self.error.is_none() {
            let Some(part) = self.ahead.remove(&self.next) else { return };
            self.next += 1;
            match part {
                Ok((acc, skipped)) => {
                    skipped.iter().for_each(|(reason, n)| self.skips.add(reason, *n));
                    match &mut self.total {
                        Some(total) => total.merge(acc),
                        None => self.total = Some(acc),
                    }
                }
                Err(e) => self.error = Some(e),
            }
        }
    }
}

/// Reads `source` to its end into `acc`, in batches of up to `rows` rows
/// (at least one), each borrowed as stored where the source lends it (class
/// planes as they are, for K ≤ [`PLANES_UP_TO`]).
fn read_part(source: &mut dyn Source, rows: usize, acc: &mut Accumulator) -> Result<(), DataError> {
    let rows = rows.max(1);
    let planes = source.classes() <= PLANES_UP_TO;
    let mut batch = Batch::default();
    loop {
        match if planes { source.lend_planes(rows) } else { None } {
            Some(Ok(0)) => return Ok(()),
            Some(Ok(_)) => {
                let p = source.lent_planes();
                acc.add_planes(p.logits, p.stride, p.positions, p.labels);
                continue;
            }
            Some(Err(e)) => return Err(e),
            None => {}
        }
        match source.lend(rows) {
            Some(Ok(0)) => return Ok(()),
            Some(Ok(_)) => {
                let (z, y) = source.lent();
                acc.add(z, y);
            }
            Some(Err(e)) => return Err(e),
            None if batch.read(source, rows)? => batch.add_to(acc),
            None => return Ok(()),
        }
    }
}

/// Reads `source` to its end in batches of up to `rows` rows (at least one),
/// handing each to `sweep`.
fn read_all(source: &mut dyn Source, rows: usize, mut sweep: impl FnMut(&Batch)) -> Result<(), DataError> {
    let rows = rows.max(1);
    let mut batch = Batch::default();
    while batch.read(source, rows)? {
        sweep(&batch);
    }
    Ok(())
}

/// A batch of rows: logits, and a label or (per-class targets) K targets a row.
#[derive(Default)]
struct Batch {
    logits: Vec<f64>,
    labels: Vec<usize>,
    targets: Vec<f64>,
}

impl Batch {
    /// The next batch of up to `rows` rows, converted, in place of the
    /// last; false at the end.
    fn read(&mut self, source: &mut dyn Source, rows: usize) -> Result<bool, DataError> {
        self.logits.clear();
        self.labels.clear();
        self.targets.clear();
        let n = match source.per_class() {
            true => source.read_targets(rows, &mut self.logits, &mut self.targets)?,
            false => source.read(rows, &mut self.logits, &mut self.labels)?,
        };
        Ok(n > 0)
    }

    fn add_to(&self, acc: &mut Accumulator) {
        match self.targets.is_empty() {
            true => acc.add(&self.logits, &self.labels),
            false => acc.add_targets(&self.logits, &self.targets),
        }
    }
}
