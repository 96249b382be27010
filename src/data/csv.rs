//! Text tables of logits: CSV, TSV or white-space separated, as pandas,
//! `np.savetxt` or a `print` loop write them, read line by line so that
//! memory stays bounded (one line at a time) however long the file.
//!
//! Two layouts: K logits per row with the labels in a second file, one per
//! line ([`open_logits`]), or the label first, then the K logits
//! ([`open_labelled`], the `--csv` form). The path `-` is standard input, so
//! a producer can pipe straight in.
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

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

pub use super::source::STDIN;
use super::source::{
    DataError, NON_FINITE, OUT_OF_RANGE, Skips, Source, is_regular, is_stdin, open_file, out_of_range, path_name,
    read_steps,
};

/// What a text reader says of `.npy` bytes.
const NPY_NOT_TEXT: &str = "is a NumPy .npy file, not text: pass .npy arrays as --logits FILE.npy --labels FILE.npy";

/// A longer line is taken for a binary file: reading on would hold it all in
/// memory. (A million logits of 25 characters fit.)
const MAX_LINE: usize = 64 << 20;

/// K logits per line of `path`, one label per line of `labels` (either may be `-`, standard input).
pub fn open_logits(path: &Path, labels: &Path, skip_invalid: bool) -> Result<Box<dyn Source>, DataError> {
    if is_stdin(path) && is_stdin(labels) {
        return Err(DataError::new(STDIN, "logits and labels cannot both come from standard input"));
    }
    logits_from_lines(input(path)?, input(labels)?, skip_invalid)
}

/// The `--csv` form: each line of `path` (`-` is standard input) is a label, then K logits.
pub fn open_labelled(path: &Path, skip_invalid: bool) -> Result<Box<dyn Source>, DataError> {
    labelled_from_lines(input(path)?, skip_invalid)
}

/// [`open_logits`] on any readers; the names are what errors call them.
pub fn logits_from_readers(
    logits: impl Read + Send + 'static,
    logits_name: &str,
    labels: impl Read + Send + 'static,
    labels_name: &str,
    skip_invalid: bool,
) -> Result<Box<dyn Source>, DataError> {
    logits_from_lines(Lines::new(logits, logits_name, None), Lines::new(labels, labels_name, None), skip_invalid)
}

fn logits_from_lines(logits: Lines, labels: Lines, skip_invalid: bool) -> Result<Box<dyn Source>, DataError> {
    let table = Table::open(logits)?;
    if table.width == 0 {
        return Err(table.empty("rows of logits"));
    }
    let labels = Table::open(labels)?;
    Ok(Box::new(Csv::new(table, Some(labels), skip_invalid)))
}

/// [`open_labelled`] on any reader; `name` is what errors call it.
pub fn labelled_from_reader(
    reader: impl Read + Send + 'static,
    name: &str,
    skip_invalid: bool,
) -> Result<Box<dyn Source>, DataError> {
    labelled_from_lines(Lines::new(reader, name, None), skip_invalid)
}

fn labelled_from_lines(lines: Lines, skip_invalid: bool) -> Result<Box<dyn Source>, DataError> {
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
    Ok(Box::new(Csv::new(table, None, skip_invalid)))
}

/// The lines of `path` (`-`: standard input), to be opened again when
/// `path` is a regular file.
fn input(path: &Path) -> Result<Lines, DataError> {
    let name = path_name(path);
    let file = open_file(path).map_err(|e| DataError::new(&name, format!("cannot open: {e}")))?;
    let again = (!is_stdin(path) && is_regular(&file)).then(|| path.to_path_buf());
    Ok(Lines::new(file, &name, again))
}

/// The lines of one input, numbered; blank and comment lines skipped.
struct Lines {
    /// `None` while a file is closed between its first rows and the rest.
    reader: Option<BufReader<Box<dyn Read + Send>>>,
    /// The file to open again, when the input is one.
    path: Option<PathBuf>,
    name: String,
    /// 1-based number of the current line (0 before the first).
    number: u64,
    /// The current line without its line break.
    buf: Vec<u8>,
    /// The last line ended with `\r`: a `\n` next completes its break.
    after_cr: bool,
}

impl Lines {
    fn new(reader: impl Read + Send + 'static, name: &str, path: Option<PathBuf>) -> Lines {
        let reader: Box<dyn Read + Send> = Box::new(reader);
        let reader = Some(BufReader::with_capacity(1 << 16, reader));
        Lines { reader, path, name: name.to_string(), number: 0, buf: Vec::new(), after_cr: false }
    }

    /// Reads the next line into `buf`, without its break (`\n`, `\r\n` or
    /// `\r`); false at the end of the input.
    fn read_line(&mut self) -> Result<bool, DataError> {
        let Lines { reader, name, number, buf, after_cr, .. } = self;
        let reader = reader.as_mut().expect("an open input");
        buf.clear();
        let mut any = false;
        loop {
            let chunk = match reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(DataError::new(&*name, format!("read failed after line {number}: {e}"))),
            };
            if chunk.is_empty() {
                return Ok(any);
            }
            if std::mem::take(after_cr) && chunk[0] == b'\n' {
                reader.consume(1);
                continue;
            }
            any = true;
            let end = chunk.iter().position(|&b| b == b'\n' || b == b'\r');
            let take = end.unwrap_or(chunk.len());
            buf.extend_from_slice(&chunk[..take]);
            if let Some(end) = end {
                *after_cr = chunk[end] == b'\r';
            }
            reader.consume(end.map_or(take, |end| end + 1));
            if buf.len() > MAX_LINE {
                return Err(DataError::at(&*name, *number + 1, "is longer than 64 MiB: is this a text file?"));
            }
            if end.is_some() {
                return Ok(true);
            }
        }
    }

    /// Moves to the next line with content; false at the end of the input.
    fn advance(&mut self) -> Result<bool, DataError> {
        loop {
            if !self.read_line()? {
                return Ok(false);
            }
            self.number += 1;
            if self.number == 1 && self.buf.starts_with(b"\x93NUMPY") {
                return Err(DataError::new(&self.name, NPY_NOT_TEXT));
            }
            if self.number == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.buf.drain(..3); // the byte-order mark Excel writes
            }
            let first = self.buf.iter().find(|b| !b.is_ascii_whitespace());
            if first.is_some_and(|&b| b != b'#') {
                return Ok(true);
            }
        }
    }

    /// The current line (without its line break).
    fn text(&self) -> Result<&str, DataError> {
        std::str::from_utf8(&self.buf).map_err(|e| {
            DataError::at(&self.name, self.number, format!("is not UTF-8 text (byte {})", e.valid_up_to() + 1))
        })
    }
}

/// How the values of a line are separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Separator {
    Comma,
    Tab,
    Space,
}

impl Separator {
    fn detect(line: &str) -> Separator {
        if line.contains('\t') {
            Separator::Tab
        } else if line.contains(',') {
            Separator::Comma
        } else {
            Separator::Space
        }
    }

    fn fields(self, line: &str) -> Fields<'_> {
        Fields { rest: Some(line), sep: self }
    }
}

/// The values of one line, trimmed (allocates nothing).
struct Fields<'a> {
    rest: Option<&'a str>,
    sep: Separator,
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        let split = match self.sep {
            Separator::Space => {
                let rest = rest.trim_start();
                if rest.is_empty() {
                    self.rest = None;
                    return None;
                }
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                Some(rest.split_at(end))
            }
            Separator::Comma => rest.split_once(','),
            Separator::Tab => rest.split_once('\t'),
        };
        match split {
            Some((field, tail)) => {
                self.rest = Some(tail);
                Some(field.trim())
            }
            None => {
                self.rest = None;
                Some(rest.trim())
            }
        }
    }
}

/// One input's data rows: the header skipped, the separator and the number
/// of values per row fixed by the first data row.
struct Table {
    lines: Lines,
    sep: Separator,
    /// Values per row (0: the input has no data rows).
    width: usize,
    /// Line number of the first data row (the one `width` comes from).
    first_line: u64,
    header: bool,
    /// The current line is the first data row, not handed out yet.
    pending: bool,
    /// Data rows handed out so far.
    rows: u64,
    ended: bool,
}

/// Whether a first line is a header: some of its values are names and none
/// is a malformed number (`1.2.3`, `1e`), which makes it a row with an error.
fn is_header(text: &str) -> bool {
    let mut names = false;
    for value in Separator::detect(text).fields(text) {
        if value.is_empty() || value.parse::<f64>().is_ok() {
            continue;
        }
        if value.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.')) {
            return false;
        }
        names = true;
    }
    names
}

impl Table {
    fn open(mut lines: Lines) -> Result<Table, DataError> {
        let mut has_row = lines.advance()?;
        let mut header = false;
        if has_row {
            // Lossy: a header may be in any encoding; it is skipped anyway.
            header = is_header(&String::from_utf8_lossy(&lines.buf));
            if header {
                has_row = lines.advance()?;
            }
        }
        let (sep, width) = if has_row {
            let text = lines.text()?;
            let sep = Separator::detect(text);
            (sep, sep.fields(text).count())
        } else {
            (Separator::Space, 0)
        };
        let first_line = lines.number;
        Ok(Table { lines, sep, width, first_line, header, pending: has_row, rows: 0, ended: !has_row })
    }

    /// The error for an input without data rows.
    fn empty(&self, what: &str) -> DataError {
        let message = if self.header { format!("has a header but no {what}") } else { format!("has no {what}") };
        DataError::new(&self.lines.name, message)
    }

    /// Closes a file until its rows are read ([`Table::next_row`] opens it
    /// again); a stream stays open.
    fn close(&mut self) {
        if self.lines.path.is_some() {
            self.lines.reader = None;
        }
    }

    /// Opens a closed file again, at its first data row.
    fn reopen(&mut self) -> Result<(), DataError> {
        let Some(path) = self.lines.path.clone().filter(|_| self.lines.reader.is_none()) else {
            return Ok(());
        };
        let name = &self.lines.name;
        let file = File::open(&path).map_err(|e| DataError::new(name, format!("cannot open again: {e}")))?;
        let again = Table::open(Lines::new(file, name, Some(path)))?;
        if (again.sep, again.width, again.first_line) != (self.sep, self.width, self.first_line) {
            return Err(DataError::new(name, "changed while it was being read"));
        }
        self.lines = again.lines;
        Ok(())
    }

    /// Moves to the next data row; its line number, or None at the end.
    fn next_row(&mut self) -> Result<Option<u64>, DataError> {
        if self.pending {
            self.reopen()?;
            self.pending = false;
        } else if self.ended || !self.lines.advance()? {
            self.ended = true;
            return Ok(None);
        }
        self.rows += 1;
        Ok(Some(self.lines.number))
    }

    /// Reads to the end; the number of data rows in the whole input.
    fn count_rows(&mut self) -> Result<u64, DataError> {
        while self.next_row()?.is_some() {}
        Ok(self.rows)
    }

    /// The current row's values, checked to number `width`; `expected`
    /// describes them for the message.
    fn values(&self, width: usize, expected: impl FnOnce() -> String) -> Result<Fields<'_>, DataError> {
        let text = self.lines.text()?;
        let count = self.sep.fields(text).count();
        if count != width {
            let noun = if count == 1 { "value" } else { "values" };
            return Err(self.error(format!("has {count} {noun}, expected {}", expected())));
        }
        Ok(self.sep.fields(text))
    }

    /// An error at the current line.
    fn error(&self, message: String) -> DataError {
        DataError::at(&self.lines.name, self.lines.number, message)
    }
}

/// A label: a whole number (also written as a float). `Ok(None)`: outside `0..k`.
fn label(text: &str, k: usize) -> Result<Option<usize>, String> {
    if let Ok(v) = text.parse::<i128>() {
        return Ok(usize::try_from(v).ok().filter(|&v| v < k));
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v.fract() == 0.0 => Ok((v >= 0.0 && v < k as f64).then_some(v as usize)),
        _ if text.is_empty() => Err("empty label".to_string()),
        _ => Err(format!("label `{text}` is not a whole number")),
    }
}

/// The text [`Source`]: one table, and the labels' table unless the labels
/// are the table's first column.
struct Csv {
    table: Table,
    labels: Option<Table>,
    k: usize,
    skip_invalid: bool,
    skips: Skips,
    failed: Option<DataError>,
}

/// Why a row is invalid: the skip reason, and the error if it is not skipped.
type Invalid = (&'static str, DataError);

impl Csv {
    fn new(mut table: Table, mut labels: Option<Table>, skip_invalid: bool) -> Csv {
        table.close();
        labels.iter_mut().for_each(Table::close);
        // The labelled form's first value is the label.
        let k = table.width - usize::from(labels.is_none());
        Csv { table, labels, k, skip_invalid, skips: Skips::default(), failed: None }
    }

    /// Reads one row: appends it (true), skips it (false), or None at the end.
    fn row(&mut self, logits: &mut Vec<f64>, labels: &mut Vec<usize>) -> Result<Option<bool>, DataError> {
        let Some(_) = self.table.next_row()? else {
            if let Some(y) = &mut self.labels
                && y.next_row()?.is_some()
            {
                return Err(mismatch(&mut self.table, y)?);
            }
            return Ok(None);
        };
        if let Some(y) = &mut self.labels
            && y.next_row()?.is_none()
        {
            return Err(mismatch(&mut self.table, y)?);
        }
        let k = self.k;
        let start = logits.len();
        let result = self.parse(k, logits);
        match result {
            Ok(Ok(label)) => {
                labels.push(label);
                Ok(Some(true))
            }
            Ok(Err((reason, error))) => {
                logits.truncate(start);
                if self.skip_invalid {
                    self.skips.add(reason, 1);
                    Ok(Some(false))
                } else {
                    Err(error)
                }
            }
            Err(e) => {
                logits.truncate(start);
                Err(e)
            }
        }
    }

    /// The current row's logits appended and its label returned, or why the
    /// row is invalid (a non-finite logit first, then the label), or a hard
    /// error (malformed text, which no flag skips).
    fn parse(&self, k: usize, logits: &mut Vec<f64>) -> Result<Result<usize, Invalid>, DataError> {
        let table = &self.table;
        let mut fields = match &self.labels {
            Some(_) => table.values(k, || format!("{k} as in row {}", table.first_line))?,
            None => {
                table.values(k + 1, || format!("{} (a label and {k} logits) as in row {}", k + 1, table.first_line))?
            }
        };
        let first_column = if self.labels.is_some() { 1 } else { 2 };
        // The label column comes first in the labelled form.
        let own_label = if self.labels.is_none() { fields.next() } else { None };
        let mut invalid: Option<Invalid> = None;
        for (j, text) in fields.enumerate() {
            let column = first_column + j;
            match text.parse::<f64>() {
                Ok(v) => {
                    if !v.is_finite() && invalid.is_none() {
                        let message = format!("column {column}: `{text}` is not a finite number");
                        invalid = Some((NON_FINITE, table.error(message)));
                    }
                    logits.push(v);
                }
                Err(_) if text.is_empty() => return Err(table.error(format!("column {column}: empty value"))),
                Err(_) => return Err(table.error(format!("column {column}: `{text}` is not a number"))),
            }
        }
        let (label_table, text) = match (&self.labels, own_label) {
            (Some(y), _) => (y, y.values(1, || "1 label".to_string())?.next().unwrap_or("")),
            (None, text) => (table, text.unwrap_or("")),
        };
        let label = label(text, k).map_err(|m| label_table.error(m))?;
        Ok(match (invalid, label) {
            (Some(invalid), _) => Err(invalid),
            (None, None) => Err((OUT_OF_RANGE, label_table.error(out_of_range(text, k)))),
            (None, Some(label)) => Ok(label),
        })
    }
}

/// The error for logits and labels of different lengths (both read to the
/// end to count them: it is the error path, and both counts help).
fn mismatch(logits: &mut Table, labels: &mut Table) -> Result<DataError, DataError> {
    let n = logits.count_rows()?;
    let m = labels.count_rows()?;
    Ok(DataError::new(
        &logits.lines.name,
        format!("has {n} rows of logits but {} has {m} labels: each example needs both", labels.lines.name),
    ))
}

impl Source for Csv {
    fn classes(&self) -> usize {
        self.k
    }

    fn read(&mut self, max_rows: usize, logits: &mut Vec<f64>, labels: &mut Vec<usize>) -> Result<usize, DataError> {
        let mut failed = self.failed.take();
        let read = read_steps(&mut failed, max_rows, logits, labels, |_, z, y| Ok(self.row(z, y)?.map(usize::from)));
        self.failed = failed;
        read
    }

    fn skipped(&self) -> Vec<(String, u64)> {
        self.skips.to_vec()
    }
}
