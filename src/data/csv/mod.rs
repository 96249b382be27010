//! Text tables of logits: CSV, TSV or white-space separated, as pandas,
//! `np.savetxt` or a `print` loop write them, read line by line so that
//! memory stays bounded (one line at a time) however long the file.
//!
//! Two layouts: K logits per row with the labels in a second file, one per
//! line ([`open_logits`]), or the label first, then the K logits
//! ([`open_labelled`], the `--csv` form). The path `-` is standard input, so
//! a producer can pipe straight in.
//!
//! # Per-class targets, `--probs`, `--background`
//! A labels file whose first data line has K values (K > 1) holds per-class
//! targets, K a line (multi-label 0/1, soft labels, distributions), as a
//! `.npy` of the logits' shape does; one value a line is a class index
//! (with K = 1 there is no telling the two apart: a class index). With
//! `--probs` the K values of a row are probabilities, and `--background B`
//! makes label B a row with every class a negative. Such rows are read as K
//! targets each and checked as the `.npy` reader checks them
//! ([`crate::data::targets::Check`]), with the same messages, at the line
//! of the file at fault.
//!
//! # What a line may be
//! - Blank lines, and lines starting with `#` (the comments of
//!   `np.savetxt(..., header=...)`), are ignored.
//! - The separator is detected from the first data line: a tab if it has
//!   one, else a comma if it has one, else runs of white space. With commas
//!   and tabs, spaces around a value are allowed but an empty value is an
//!   error (a missing logit must not shift the columns).
//! - Lines end with `\n`, `\r\n` or a lone `\r` (old Mac files).
//! - The first line is a header, and skipped, when some of its values are
//!   names (`label,c0,c1`; `label,0,1` from pandas) and none is a malformed
//!   number: `0,1.2.3,2` is a data row with a bad value, an error in row 1
//!   as in any other. A header made only of numbers (`0,1,2`) is taken as
//!   data: there is no telling it apart.
//! - Numbers are Rust's `f64` syntax; `nan`, `inf` and values that overflow
//!   (`1e999`) are non-finite logits. A label is a whole number, also when
//!   written as a float (`3.0`, or `3.000000000000000000e+00` from
//!   `np.savetxt`).
//!
//! Row numbers in messages are 1-based line numbers of the file, blank and
//! header lines included, so they match an editor's.
//!
//! A regular file is closed once its first rows have told K, and opened
//! again when its rows are read, so that hundreds of shards stay within the
//! limit of open files; standard input and other streams are read once.

mod fields;
mod lines;
mod rows;
mod table;

use std::io::Read;
use std::path::Path;

pub use super::source::STDIN;
use super::source::{DataError, Options, Source, is_regular, is_stdin, open_file, path_name};
use lines::Lines;
use rows::Csv;
use table::Table;

/// K logits per line of `path`, one label (or K targets) per line of
/// `labels` (either may be `-`, standard input).
pub fn open_logits(path: &Path, labels: &Path, skip_invalid: bool) -> Result<Box<dyn Source>, DataError> {
    open_logits_with(path, labels, &Options { skip_invalid, ..Options::default() })
}

/// [`open_logits`], the rows read as `options` say (`--probs`,
/// `--background`, the mode their targets are checked for).
pub fn open_logits_with(path: &Path, labels: &Path, options: &Options) -> Result<Box<dyn Source>, DataError> {
    if is_stdin(path) && is_stdin(labels) {
        return Err(DataError::new(STDIN, "logits and labels cannot both come from standard input"));
    }
    logits_from_lines(input(path)?, input(labels)?, options)
}

/// The `--csv` form: each line of `path` (`-` is standard input) is a label, then K logits.
pub fn open_labelled(path: &Path, skip_invalid: bool) -> Result<Box<dyn Source>, DataError> {
    open_labelled_with(path, &Options { skip_invalid, ..Options::default() })
}

/// [`open_labelled`], the rows read as `options` say.
pub fn open_labelled_with(path: &Path, options: &Options) -> Result<Box<dyn Source>, DataError> {
    labelled_from_lines(input(path)?, options)
}

/// [`open_logits`] on any readers; the names are what errors call them.
pub fn logits_from_readers(
    logits: impl Read + Send + 'static,
    logits_name: &str,
    labels: impl Read + Send + 'static,
    labels_name: &str,
    skip_invalid: bool,
) -> Result<Box<dyn Source>, DataError> {
    let options = Options { skip_invalid, ..Options::default() };
    logits_from_lines(Lines::new(logits, logits_name, None), Lines::new(labels, labels_name, None), &options)
}

fn logits_from_lines(logits: Lines, labels: Lines, options: &Options) -> Result<Box<dyn Source>, DataError> {
    let table = Table::open(logits)?;
    if table.width == 0 {
        return Err(table.empty("rows of logits"));
    }
    let labels = Table::open(labels)?;
    // K values on the labels' first line: a target per class.
    let per_class = table.width > 1 && labels.width == table.width;
    Ok(Box::new(Csv::new(table, Some(labels), per_class, options)))
}

/// [`open_labelled`] on any reader; `name` is what errors call it.
pub fn labelled_from_reader(
    reader: impl Read + Send + 'static,
    name: &str,
    skip_invalid: bool,
) -> Result<Box<dyn Source>, DataError> {
    labelled_from_lines(Lines::new(reader, name, None), &Options { skip_invalid, ..Options::default() })
}

fn labelled_from_lines(lines: Lines, options: &Options) -> Result<Box<dyn Source>, DataError> {
    let name = lines.name.clone();
    let table = Table::open(lines)?;
    if table.width == 0 {
        return Err(table.empty("rows"));
    }
    if table.width == 1 {
        return Err(DataError::at(
            &name,
            table.first_line,
            "has 1 value: expected the label, then one logit per class",
        ));
    }
    Ok(Box::new(Csv::new(table, None, false, options)))
}

/// The lines of `path` (`-`: standard input), to be opened again when
/// `path` is a regular file.
fn input(path: &Path) -> Result<Lines, DataError> {
    let name = path_name(path);
    let file = open_file(path).map_err(|e| DataError::new(&name, format!("cannot open: {e}")))?;
    let again = (!is_stdin(path) && is_regular(&file)).then(|| path.to_path_buf());
    Ok(Lines::new(file, &name, again))
}
