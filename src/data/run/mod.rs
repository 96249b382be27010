//! `focal-tui data`: stream a dataset of model outputs through the sweep and
//! report how γ and α reweight its examples. Memory stays bounded: rows are
//! read in batches of at most `BATCH_VALUES` logits (one row at least) and
//! folded into accumulators whose size does not grow with the rows (per
//! class, with the classes seen); what grows with K, the per-class report,
//! is checked against the memory available before anything is read.
mod accumulate;
mod guidance;
mod report;

use std::path::PathBuf;

use crate::cli::DataArgs;
use crate::data::memory::{self, bytes_text};
use crate::data::source::{Chain, DataError, Options, Source, is_stdin, path_name};
use crate::data::sweep::{
    ClassStats, Config, EXAMPLE_BYTES, Examples, PerRow, Report, SIGMOID_ELEMENT_BYTES, SIGMOID_ROW_BYTES,
    SigmoidExamples,
};
use crate::data::{container, csv, npy};
use crate::field::Field;
use crate::loss::profile;
use crate::loss::{Alpha, Mode, Target};
use crate::parse;
use accumulate::{Skip, accumulate};
use report::json;
pub use report::text;

/// The report for `args`, or one line naming the file, row or flag at fault.
pub fn run(args: &DataArgs) -> Result<String, String> {
    let (source, config, per_row) = prepare(args, memory::available())?;
    let (total, skipped) = accumulate(source, &config, per_row, false).map_err(|e| e.to_string())?;
    let report = total.finish();
    check_rows(&report, &skipped)?;
    let library = match &args.profile {
        Some(name) => Some(report::Library::new(profile::find(name, config.mode)?.0, &report)?),
        None => None,
    };
    Ok(if args.json {
        json(&report, &skipped, library.as_ref())
    } else {
        report::text_weighted(&report, &skipped, &config, !per_row.unweighted)
            + &library.map_or(String::new(), |l| l.text(&report))
    })
}

/// A dataset read for the explorer: every row's values kept in the mode
/// asked for (softmax: [`Examples`]; sigmoid: [`SigmoidExamples`], per
/// class), so that the sweep at another γ or α needs no second pass over
/// the files.
pub struct Loaded {
    /// The files, as the user named them.
    pub name: String,
    /// The mode the rows were kept for (`--sigmoid`).
    pub mode: Mode,
    /// Softmax rows (empty when loaded for sigmoid).
    pub examples: Examples,
    /// Sigmoid rows (when loaded for sigmoid).
    pub sigmoid: Option<SigmoidExamples>,
    /// Rows skipped (--skip-invalid) and positions ignored (--ignore-index), and why.
    pub skipped: Vec<Skip>,
    /// The logits' shape, when the reader knows it (one `.npy` file).
    pub shape: Option<Vec<u64>>,
}

impl Loaded {
    /// K, the number of classes.
    pub fn classes(&self) -> usize {
        self.sigmoid.as_ref().map_or(self.examples.classes(), SigmoidExamples::classes)
    }
}

/// Reads `args`' dataset for the explorer, in the mode `args.sigmoid` asks for.
pub fn load(args: &DataArgs) -> Result<Loaded, String> {
    load_within(args, memory::available())
}

/// Bytes the dataset view keeps per row of `classes` logits in `mode`.
pub fn kept_row_bytes(mode: Mode, classes: usize) -> u64 {
    match mode {
        Mode::Softmax => EXAMPLE_BYTES,
        Mode::Sigmoid => SIGMOID_ROW_BYTES + classes as u64 * SIGMOID_ELEMENT_BYTES,
    }
}

/// [`load`], refusing a dataset whose kept rows would not fit in `available`
/// bytes (unknown: no limit): before reading when its rows are known, else
/// as soon as they are too many.
pub fn load_within(args: &DataArgs, available: Option<u64>) -> Result<Loaded, String> {
    let (mut source, config, per_row) = prepare(args, available)?;
    // α off in softmax is α = 1, which the view re-sweeps as any α.
    if per_row.targets || per_row.probs || (per_row.unweighted && config.mode == Mode::Sigmoid) {
        return Err("the dataset view reads logits with one class index a row, weighed by α: per-class targets, --background, --probs and sigmoid α none are for `focal-tui data`".into());
    }
    let name = args.csv.iter().chain(&args.logits).map(|p| path_name(p)).collect::<Vec<_>>().join(", ");
    let shape = source.shape();
    if let Some(available) = available {
        // The kept rows' vectors grow by doubling: twice the rows' bytes at worst.
        let bytes = kept_row_bytes(config.mode, source.classes());
        let max = available / (2 * bytes);
        let too_many = |rows: String| {
            format!(
                "the dataset view keeps {bytes} bytes per row (twice that while loading) and {} of memory is available, enough for {max} rows: {rows}; `focal-tui data` with the same flags streams any number of rows",
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
    let (total, skipped) = accumulate(source, &config, per_row, true).map_err(|e| e.to_string())?;
    let (report, examples, sigmoid) = match config.mode {
        Mode::Softmax => {
            let (report, examples) = total.finish_keeping();
            (report, examples, None)
        }
        Mode::Sigmoid => {
            let (report, kept) = total.finish_keeping_sigmoid();
            (report, Examples::default(), Some(kept))
        }
    };
    check_rows(&report, &skipped)?;
    Ok(Loaded { name, mode: config.mode, examples, sigmoid, skipped, shape })
}

/// The source of `args` and the sweep its flags ask for, refused before
/// anything grows with K when it has no rows or when the per-class report
/// would not fit in `available` bytes.
fn prepare(args: &DataArgs, available: Option<u64>) -> Result<(Box<dyn Source>, Config, PerRow), String> {
    let asked = if args.sigmoid { Mode::Sigmoid } else { Mode::Softmax };
    let name = args.profile.as_deref().unwrap_or(profile::PAPER);
    let (lib, _) = profile::find(name, asked).map_err(|e| format!("--profile: {e}"))?;
    let mode = lib.mode;
    check_background(args.meaning.background, mode)?;
    let zero_one = lib.targets == profile::Targets::ZeroOne;
    let source = open(args, mode, zero_one).map_err(|e| e.to_string())?;
    if source.rows_left() == Some(0) {
        return Err(NO_ROWS.into());
    }
    let k = source.classes();
    let gammas_text = args.gammas.as_deref().unwrap_or(Field::Gammas.default_text());
    let gammas = parse::gammas(gammas_text).map_err(|e| format!("--gammas: {e}"))?;
    let alpha_text = args.alpha.as_deref().unwrap_or(lib.alpha);
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
    // `none` (or -1): no weighting, every term weighs 1.
    let weights = parse::weights(alpha_text, Some(k), mode).map_err(|e| format!("--alpha: {e}"))?;
    lib.check(&sample_target(source.per_class(), args.meaning.background.is_some(), mode, k), 0.0, weights.as_ref())
        .map_err(|e| format!("--profile {name}: {e}"))?;
    let per_row = PerRow { targets: source.per_class(), probs: args.meaning.probs, unweighted: weights.is_none() };
    let alpha = lib.place(weights, k).unwrap_or(Alpha::Scalar(1.0));
    Ok((source, Config { gammas, alpha, mode, ..Config::default() }, per_row))
}

/// `--background` is for sigmoid rows only.
pub(crate) fn check_background(background: Option<i64>, mode: Mode) -> Result<(), String> {
    match (background, mode) {
        (Some(b), Mode::Softmax) => Err(format!(
            "--background {b} needs --sigmoid: a background row has no positive class, which softmax cannot express"
        )),
        _ => Ok(()),
    }
}

/// A target of the rows' kind, for a profile's check: class indices with a
/// background label (which the reader hands out as targets, all zeros for
/// the background) are a class or background; per-class targets are a
/// distribution (softmax) or labels (sigmoid; a soft one refused as read
/// when the library takes 0/1 labels only).
pub(crate) fn sample_target(per_class: bool, background: bool, mode: Mode, k: usize) -> Target {
    match (per_class, mode) {
        (false, _) => Target::Class(0),
        // The reader refuses --background with targets shaped like the logits.
        (true, _) if background => Target::Background,
        (true, Mode::Softmax) => Target::Probs(vec![1.0 / k as f64; k]),
        (true, Mode::Sigmoid) => Target::Classes(vec![0]),
    }
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

/// The sources of `args`: `--csv` files, or `--logits`/`--labels` pairs
/// (`.npy`, `.npz` or `.safetensors` by extension, `FILE:NAME` in a
/// container, text otherwise; no `--labels` for containers holding
/// `labels`); several are shards of one dataset.
pub(crate) fn open(args: &DataArgs, mode: Mode, zero_one: bool) -> Result<Box<dyn Source>, DataError> {
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
    let options = Options {
        skip_invalid: args.skip_invalid,
        class_axis: args.tensor.class_axis,
        ignore_index: args.tensor.ignore_index,
        background: args.meaning.background,
        probs: args.meaning.probs,
        mode,
        zero_one,
    };
    // The explorer's --data without --labels lands here: a container holds its labels.
    let (arrays, csvs): (Vec<&PathBuf>, Vec<&PathBuf>) = args.csv.iter().partition(|p| container::is_container(p));
    for path in csvs {
        reject_npy_flags(args, path)?;
        shards.push((path_name(path), csv::open_labelled_with(path, &options)?));
    }
    if !args.labels.is_empty() && args.logits.len() != args.labels.len() {
        let what = format!(
            "{} --logits but {} --labels: give one labels file per logits file (or none, for containers holding 'labels')",
            args.logits.len(),
            args.labels.len()
        );
        return Err(DataError::new("command line", what));
    }
    let labels = args.labels.iter().map(Some).chain(std::iter::repeat(None));
    for (z, y) in args.logits.iter().chain(arrays).zip(labels) {
        // Standard input takes the format of the file it is paired with.
        let npy = container::is_array(z) || (is_stdin(z) && y.is_some_and(|y| container::is_array(y)));
        let source = match y {
            Some(y) if !npy => {
                reject_npy_flags(args, z)?;
                csv::open_logits_with(z, y, &options)?
            }
            _ => {
                let logits = container::locate(z, container::LOGITS)?;
                let labels = match y {
                    Some(y) => container::locate(y, container::LABELS)?,
                    None => container::labels_beside(z)?,
                };
                npy::open_located(&logits, &labels, options)?
            }
        };
        shards.push((path_name(z), source));
    }
    match shards.len() {
        0 => Err(DataError::new("command line", "no data: give --csv FILE, or --logits FILE --labels FILE")),
        1 => Ok(shards.pop().expect("one shard").1),
        _ => Ok(Box::new(Chain::new(shards)?)),
    }
}

/// Text rows are [N, K]: the tensor flags would be silently ignored.
fn reject_npy_flags(args: &DataArgs, path: &std::path::Path) -> Result<(), DataError> {
    let flag = match (args.tensor.class_axis, args.tensor.ignore_index) {
        (Some(_), _) => "--class-axis",
        (_, Some(_)) => "--ignore-index",
        _ => return Ok(()),
    };
    Err(DataError::new(path_name(path), format!("{flag} applies to .npy arrays; this file is read as text")))
}
