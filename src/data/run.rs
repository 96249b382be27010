//! `focal-tui data`: stream a dataset of model outputs through the sweep and
//! report how γ and α reweight its examples. Memory stays bounded: rows are
//! read in batches of at most `BATCH_VALUES` logits (one row at least) and
//! folded into accumulators whose size does not grow with the rows (per
//! class, with the classes seen); what grows with K, the per-class report,
//! is checked against the memory available before anything is read.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::cli::DataArgs;
use crate::data::memory::{self, bytes_text};
use crate::data::source::{Chain, DataError, Skips, Source, is_stdin, path_name};
use crate::data::sweep::{Accumulator, ClassStats, Config, EXAMPLE_BYTES, Examples, Report};
use crate::data::{csv, npy};
use crate::field::Field;
use crate::format::{Table, count, pct, sig};
use crate::loss::{Alpha, Mode};
use crate::parse;

/// Logits per batch of a source read in order (16 MiB of f64), split among
/// the threads.
const BATCH_VALUES: usize = 1 << 21;
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
type Skip = (String, u64);
/// A part of the rows read into an accumulator of its own, or its error.
type Part = Result<(Accumulator, Vec<Skip>), DataError>;

/// The report for `args`, or one line naming the file, row or flag at fault.
pub fn run(args: &DataArgs) -> Result<String, String> {
    let (source, config) = prepare(args, memory::available())?;
    let (total, skipped) = accumulate(source, &config, false).map_err(|e| e.to_string())?;
    let report = total.finish();
    check_rows(&report, &skipped)?;
    Ok(if args.json { json(&report, &skipped) } else { text(&report, &skipped, &config) })
}

/// A dataset read for the explorer: every row's softmax values kept, so
/// that the sweep at another γ or α needs no second pass over the files.
pub struct Loaded {
    /// The files, as the user named them.
    pub name: String,
    pub examples: Examples,
    /// Rows skipped (--skip-invalid), and why.
    pub skipped: Vec<Skip>,
}

/// Reads `args`' dataset for the explorer (softmax only).
pub fn load(args: &DataArgs) -> Result<Loaded, String> {
    load_within(args, memory::available())
}

/// [`load`], refusing a dataset whose kept rows would not fit in `available`
/// bytes (unknown: no limit): before reading when its rows are known, else
/// as soon as they are too many.
pub fn load_within(args: &DataArgs, available: Option<u64>) -> Result<Loaded, String> {
    if args.sigmoid {
        return Err("the dataset view is softmax only: for sigmoid focal loss use `focal-tui data --sigmoid`".into());
    }
    let (mut source, config) = prepare(args, available)?;
    let name = args.csv.iter().chain(&args.logits).map(|p| path_name(p)).collect::<Vec<_>>().join(", ");
    if let Some(available) = available {
        // The kept rows' vectors grow by doubling: twice the rows' bytes at worst.
        let row = 2 * EXAMPLE_BYTES;
        let max = available / row;
        let too_many = |rows: String| {
            format!(
                "the dataset view keeps {EXAMPLE_BYTES} bytes per row (twice that while loading) and {} of memory is available, enough for {max} rows: {rows}; `focal-tui data` with the same flags streams any number of rows",
                bytes_text(available)
            )
        };
        match source.rows_left() {
            Some(rows) if rows > max => return Err(format!("{name}: {}", too_many(format!("the data has {rows}")))),
            Some(_) => {}
            None => {
                let too_many = DataError::new(&name, too_many("the data has more".into()));
                source = Box::new(Capped { inner: source, rows: 0, max, too_many });
            }
        }
    }
    let (total, skipped) = accumulate(source, &config, true).map_err(|e| e.to_string())?;
    let (report, examples) = total.finish_keeping();
    check_rows(&report, &skipped)?;
    Ok(Loaded { name, examples, skipped })
}

/// The source of `args` and the sweep its flags ask for, refused before
/// anything grows with K when it has no rows or when the per-class report
/// would not fit in `available` bytes.
fn prepare(args: &DataArgs, available: Option<u64>) -> Result<(Box<dyn Source>, Config), String> {
    let mode = if args.sigmoid { Mode::Sigmoid } else { Mode::Softmax };
    let source = open(args).map_err(|e| e.to_string())?;
    if source.rows_left() == Some(0) {
        return Err(NO_ROWS.into());
    }
    let k = source.classes();
    let gammas_text = args.gammas.as_deref().unwrap_or(Field::Gammas.default_text());
    let gammas = parse::gammas(gammas_text).map_err(|e| format!("--gammas: {e}"))?;
    let alpha_text = args.alpha.as_deref().unwrap_or(Field::Alpha.default_text());
    let per_class = class_bytes(gammas.len(), mode);
    if let Some(available) = available
        && (k as u64).saturating_mul(per_class) > available
    {
        return Err(format!(
            "{k} classes: the per-class report needs about {per_class} bytes a class, {}, but {} of memory is available",
            bytes_text((k as u64).saturating_mul(per_class)),
            bytes_text(available)
        ));
    }
    let alpha: Alpha = parse::alpha(alpha_text, Some(k), mode).map_err(|e| format!("--alpha: {e}"))?;
    Ok((source, Config { gammas, alpha, mode, ..Config::default() }))
}

/// The message for a dataset without rows.
const NO_ROWS: &str = "no rows: the data is empty";

/// Memory per class that does not depend on the rows: the report's
/// [`ClassStats`] with its two numbers per γ, and the accumulator's slot
/// (softmax) or its per-logit scratch (sigmoid).
fn class_bytes(gammas: usize, mode: Mode) -> u64 {
    let stats = std::mem::size_of::<ClassStats>() + 2 * (16 + 8 * gammas);
    let sweep = match mode {
        Mode::Softmax => 4,
        Mode::Sigmoid => 88,
    };
    (stats + sweep) as u64
}

/// A source of unknown length that stops with `too_many` past `max` rows:
/// the dataset view's memory, checked as the rows come.
struct Capped {
    inner: Box<dyn Source>,
    rows: u64,
    max: u64,
    too_many: DataError,
}

impl Source for Capped {
    fn classes(&self) -> usize {
        self.inner.classes()
    }

    fn read(&mut self, max_rows: usize, logits: &mut Vec<f64>, labels: &mut Vec<usize>) -> Result<usize, DataError> {
        let n = self.inner.read(max_rows, logits, labels)?;
        self.rows += n as u64;
        if self.rows > self.max {
            return Err(self.too_many.clone());
        }
        Ok(n)
    }

    fn skipped(&self) -> Vec<(String, u64)> {
        self.inner.skipped()
    }
}

/// An error when no row was read.
fn check_rows(report: &Report, skipped: &[Skip]) -> Result<(), String> {
    if report.rows > 0 {
        return Ok(());
    }
    let skipped = skipped.iter().map(|(_, n)| n).sum::<u64>();
    Err(if skipped > 0 { format!("no valid rows: all {skipped} were skipped") } else { NO_ROWS.into() })
}

/// Every row of `source` in one accumulator (keeping the examples when
/// `keep`), and the rows skipped by reason.
///
/// A source that splits (`.npy`) is read by every thread at once: its rows
/// in parts of decreasing size ([`Source::split`]), each thread taking the
/// next part in row order and reading it in small batches into an accumulator of
/// its own, so that reading and the sweep run in parallel on data in cache.
/// The parts' accumulators are merged in row order, so the result does not
/// depend on which thread read what. Text is read in order, and each large
/// batch is divided among the threads, each keeping one accumulator for the
/// whole run (a new one per batch would zero its histograms' megabytes
/// every time). Of several bad rows, the one reported is the first in row
/// order.
fn accumulate(mut source: Box<dyn Source>, config: &Config, keep: bool) -> Result<(Accumulator, Vec<Skip>), DataError> {
    let k = source.classes();
    let new = || {
        let acc = Accumulator::new(config, k);
        if keep { acc.keeping_examples() } else { acc }
    };
    let threads = rayon::current_num_threads();
    let parts_per_thread = if k > FEW_PARTS_ABOVE { 1 } else { PARTS_PER_THREAD };
    let mut skips = Skips::default();
    let parts: Vec<Accumulator> = match source.split(parts_per_thread * threads) {
        Some(parts) => {
            let sources: Vec<Mutex<Option<Box<dyn Source>>>> =
                parts?.into_iter().map(|p| Mutex::new(Some(p))).collect();
            // Parts are taken in row order; after an error no later one is.
            let (next, failed) = (AtomicUsize::new(0), AtomicUsize::new(usize::MAX));
            let mut done: Vec<(usize, Part)> = rayon::broadcast(|_| {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= sources.len() || i > failed.load(Ordering::Relaxed) {
                        return mine;
                    }
                    let taken = sources[i].lock().unwrap_or_else(|e| e.into_inner()).take();
                    let mut part = taken.expect("each part is taken once");
                    let mut acc = new();
                    let read = read_part(&mut *part, CACHED_VALUES / k, &mut acc).map(|()| (acc, part.skipped()));
                    if read.is_err() {
                        failed.fetch_min(i, Ordering::Relaxed);
                    }
                    mine.push((i, read));
                }
            })
            .into_iter()
            .flatten()
            .collect();
            done.sort_by_key(|&(i, _)| i);
            let mut parts = Vec::with_capacity(done.len());
            for (_, part) in done {
                let (acc, skipped) = part?;
                skipped.iter().for_each(|(reason, n)| skips.add(reason, *n));
                parts.push(acc);
            }
            parts
        }
        None => {
            // Made at the first rows: an empty input allocates nothing.
            let mut parts: Vec<Accumulator> = Vec::new();
            read_all(&mut *source, BATCH_VALUES / k, |z, y| {
                if parts.is_empty() {
                    parts = (0..threads).map(|_| new()).collect();
                }
                let rows = y.len().div_ceil(parts.len());
                parts
                    .par_iter_mut()
                    .zip(y.par_chunks(rows).zip(z.par_chunks(rows * k)))
                    .for_each(|(acc, (y, z))| acc.add(z, y));
            })?;
            source.skipped().iter().for_each(|(reason, n)| skips.add(reason, *n));
            parts
        }
    };
    let total = parts.into_iter().reduce(|mut a, b| {
        a.merge(b);
        a
    });
    Ok((total.unwrap_or_else(new), skips.to_vec()))
}

/// Reads `source` to its end into `acc`, in batches of up to `rows` rows
/// (at least one), each borrowed as stored where the source lends it.
fn read_part(source: &mut dyn Source, rows: usize, acc: &mut Accumulator) -> Result<(), DataError> {
    let rows = rows.max(1);
    let (mut logits, mut labels) = (Vec::new(), Vec::new());
    loop {
        match source.lend(rows) {
            Some(Ok(0)) => return Ok(()),
            Some(Ok(_)) => {
                let (z, y) = source.lent();
                acc.add(z, y);
            }
            Some(Err(e)) => return Err(e),
            None if read_batch(source, rows, &mut logits, &mut labels)? => acc.add(&logits, &labels),
            None => return Ok(()),
        }
    }
}

/// Reads `source` to its end in batches of up to `rows` rows (at least one),
/// handing each to `sweep`.
fn read_all(source: &mut dyn Source, rows: usize, mut sweep: impl FnMut(&[f64], &[usize])) -> Result<(), DataError> {
    let rows = rows.max(1);
    let k = source.classes();
    let (mut logits, mut labels) = (Vec::with_capacity(rows * k), Vec::with_capacity(rows));
    while read_batch(source, rows, &mut logits, &mut labels)? {
        sweep(&logits, &labels);
    }
    Ok(())
}

/// The next batch of up to `rows` rows, converted, in place of the last;
/// false at the end.
fn read_batch(
    source: &mut dyn Source,
    rows: usize,
    logits: &mut Vec<f64>,
    labels: &mut Vec<usize>,
) -> Result<bool, DataError> {
    logits.clear();
    labels.clear();
    Ok(source.read(rows, logits, labels)? > 0)
}

/// The sources of `args`: `--csv` files, or `--logits`/`--labels` pairs
/// (`.npy` by extension, text otherwise); several are shards of one dataset.
fn open(args: &DataArgs) -> Result<Box<dyn Source>, DataError> {
    let mut shards: Vec<(String, Box<dyn Source>)> = Vec::new();
    let stdin: Vec<&str> = [("--csv", &args.csv), ("--logits", &args.logits), ("--labels", &args.labels)]
        .into_iter()
        .flat_map(|(flag, paths)| paths.iter().filter(|p| is_stdin(p)).map(move |_| flag))
        .collect();
    if stdin.len() > 1 {
        let what = format!(
            "standard input (`-`) is given {} times ({}): it can be read only once",
            stdin.len(),
            stdin.join(", ")
        );
        return Err(DataError::new("command line", what));
    }
    for path in &args.csv {
        shards.push((path_name(path), csv::open_labelled(path, args.skip_invalid)?));
    }
    if args.logits.len() != args.labels.len() {
        let what = format!(
            "{} --logits but {} --labels: give one labels file per logits file",
            args.logits.len(),
            args.labels.len()
        );
        return Err(DataError::new("command line", what));
    }
    for (z, y) in args.logits.iter().zip(&args.labels) {
        // Standard input takes the format of the file it is paired with.
        let is_npy = |p: &PathBuf| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"));
        let npy = is_npy(z) || (is_stdin(z) && is_npy(y));
        let source = if npy { npy::open(z, y, args.skip_invalid)? } else { csv::open_logits(z, y, args.skip_invalid)? };
        shards.push((path_name(z), source));
    }
    match shards.len() {
        0 => Err(DataError::new("command line", "no data: give --csv FILE, or --logits FILE --labels FILE")),
        1 => Ok(shards.pop().expect("one shard").1),
        _ => Ok(Box::new(Chain::new(shards)?)),
    }
}

#[derive(Serialize)]
struct Json<'a> {
    #[serde(flatten)]
    report: &'a Report,
    /// Rows left out by --skip-invalid, by reason.
    skipped: Vec<Skipped<'a>>,
}

#[derive(Serialize)]
struct Skipped<'a> {
    reason: &'a str,
    rows: u64,
}

fn json(report: &Report, skipped: &[(String, u64)]) -> String {
    let skipped = skipped.iter().map(|(reason, rows)| Skipped { reason, rows: *rows }).collect();
    serde_json::to_string(&Json { report, skipped }).expect("numbers and strings serialise") + "\n"
}

/// The text report (also what the dataset view copies).
pub fn text(r: &Report, skipped: &[(String, u64)], config: &Config) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} focal loss · {} · {} · α = {}",
        r.mode,
        count(r.rows, "row", "rows"),
        count(r.classes as u64, "class", "classes"),
        alpha_text(&config.alpha)
    );
    let _ = writeln!(
        out,
        "accuracy {}   mean CE {}   easy examples (p_t ≥ 0.5) {}",
        pct(r.accuracy),
        sig(r.mean_cross_entropy, 7),
        pct(r.easy_fraction)
    );
    for (reason, n) in skipped {
        let _ = writeln!(out, "skipped {}: {reason}", count(*n, "row", "rows"));
    }
    out.push('\n');
    let mut sweep = Table::new(["γ", "mean FL", "easy share FL", "easy share CE", "90% of FL in", "90% of CE in"]);
    for s in &r.sweep {
        sweep
            .cell(sig(s.gamma, 4))
            .cell(sig(s.mean_focal_loss, 7))
            .cell(pct(s.easy_share))
            .cell(pct(s.easy_share_ce))
            .cell(format_args!("{} of rows", pct(s.top_share_90)))
            .cell(format_args!("{} of rows", pct(s.top_share_90_ce)));
    }
    sweep.write_to(&mut out);
    out.push('\n');
    let header = ["class", "count", "accuracy", "mean CE"].map(String::from);
    let mut classes =
        Table::new(header.into_iter().chain(r.sweep.iter().map(|s| format!("FL share γ={}", sig(s.gamma, 3)))));
    for c in &r.per_class {
        classes.cell(c.class).cell(c.count);
        match &c.means {
            Some(m) => classes.cell(pct(m.accuracy)).cell(sig(m.mean_cross_entropy, 5)),
            None => classes.cell("–").cell("–"),
        };
        for &s in &c.share {
            classes.cell(pct(s));
        }
    }
    classes.write_to(&mut out);
    out.push('\n');
    let bins = r.histogram.len();
    let top = r.histogram.iter().copied().max().unwrap_or(1).max(1);
    let _ = writeln!(out, "p_t histogram");
    for (i, &n) in r.histogram.iter().enumerate() {
        let bar = "█".repeat((40 * n).div_ceil(top) as usize);
        let _ = writeln!(
            out,
            "  {:>4}–{:<4} {bar} {n}",
            sig(i as f64 / bins as f64, 2),
            sig((i + 1) as f64 / bins as f64, 2)
        );
    }
    out
}

fn alpha_text(alpha: &Alpha) -> String {
    match alpha {
        Alpha::Scalar(a) => sig(*a, 4),
        Alpha::PerClass(v) => format!("per class ({} values)", v.len()),
    }
}
