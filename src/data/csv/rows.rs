//! The text [`Source`]: each row's logits and label (or K targets)
//! assembled from its table(s), checked, and skipped or reported.

use super::table::Table;
use crate::data::source::{
    DataError, IGNORED, NON_FINITE, OUT_OF_RANGE, Options, Skips, Source, out_of_range, read_steps,
};
use crate::data::targets::{Check, Row};

/// A label: a whole number (also written as a float), as given.
fn whole(text: &str) -> Result<i128, String> {
    if let Ok(v) = text.parse::<i128>() {
        return Ok(v);
    }
    match text.parse::<f64>() {
        // Saturating: a huge whole float is out of range like any other.
        Ok(v) if v.is_finite() && v.fract() == 0.0 => Ok(v as i128),
        _ if text.is_empty() => Err("empty label".to_string()),
        _ => Err(format!("label `{text}` is not a whole number")),
    }
}

/// A value of `table`'s current row, in `column` (1-based), for messages.
#[inline]
fn number(table: &Table, column: usize, text: &str) -> Result<f64, DataError> {
    text.parse::<f64>().map_err(|_| malformed(table, column, text))
}

/// The error for a value that is not a number (the message out of the hot loop).
#[cold]
fn malformed(table: &Table, column: usize, text: &str) -> DataError {
    match text.is_empty() {
        true => table.error(format!("column {column}: empty value")),
        false => table.error(format!("column {column}: `{text}` is not a number")),
    }
}

/// The text [`Source`]: one table, and the labels' table unless the labels
/// are the table's first column.
pub(super) struct Csv {
    table: Table,
    labels: Option<Table>,
    k: usize,
    /// The labels' table holds K targets a line, not a class index.
    per_class: bool,
    /// Rows read as K targets each (per-class targets, `--probs`,
    /// `--background`), checked as the `.npy` reader checks them.
    check: Option<Check>,
    skip_invalid: bool,
    skips: Skips,
    failed: Option<DataError>,
}

/// Why a row is invalid: the skip reason, and the error if it is not skipped.
type Invalid = (&'static str, DataError);

/// A row as read: what is wrong with its logits, if anything, and its
/// class-index label unless its labels are targets.
type Parsed = (Option<Invalid>, Option<Label>);

/// A class-index label as read: its value, and the error of a value outside
/// `0..K` naming it as written (`3.0`).
type Label = (i128, Option<DataError>);

impl Csv {
    /// The rows of `table` (K logits a line, or a label first when `labels`
    /// is `None`) with `labels` (one class index a line, or K targets when
    /// `per_class`), read as `options` say.
    pub(super) fn new(mut table: Table, mut labels: Option<Table>, per_class: bool, options: &Options) -> Csv {
        table.close();
        labels.iter_mut().for_each(Table::close);
        // The labelled form's first value is the label.
        let k = table.width - usize::from(labels.is_none());
        let targets = per_class || options.probs || options.background.is_some();
        let check = targets.then(|| Check::new(options));
        let (skip_invalid, skips, failed) = (options.skip_invalid, Skips::default(), None);
        Csv { table, labels, k, per_class, check, skip_invalid, skips, failed }
    }

    /// Moves both tables to their next row; false at the end of both.
    fn advance(&mut self) -> Result<bool, DataError> {
        let more = self.table.next_row()?.is_some();
        if let Some(y) = &mut self.labels
            && y.next_row()?.is_some() != more
        {
            return Err(mismatch(&mut self.table, y)?);
        }
        Ok(more)
    }

    /// The current row's logits appended to `logits` and, with per-class
    /// targets, its K targets to `targets`; malformed text is an error no
    /// flag skips. A non-finite logit is reported before the label.
    fn parse(&self, logits: &mut Vec<f64>, targets: &mut Vec<f64>) -> Result<Parsed, DataError> {
        let (table, k) = (&self.table, self.k);
        let mut fields = match &self.labels {
            Some(_) => table.values(k, || format!("{k} as in row {}", table.first_line))?,
            None => {
                table.values(k + 1, || format!("{} (a label and {k} logits) as in row {}", k + 1, table.first_line))?
            }
        };
        // The label column comes first in the labelled form.
        let own_label = if self.labels.is_none() { fields.next() } else { None };
        let first_column = if self.labels.is_some() { 1 } else { 2 };
        let mut invalid: Option<Invalid> = None;
        for (j, text) in fields.enumerate() {
            let v = number(table, first_column + j, text)?;
            if !v.is_finite() && invalid.is_none() {
                let message = format!("column {}: `{text}` is not a finite number", first_column + j);
                invalid = Some((NON_FINITE, table.error(message)));
            }
            logits.push(v);
        }
        let (label_table, text) = match (&self.labels, own_label) {
            (Some(y), _) if self.per_class => {
                let values = y.values(k, || format!("{k} targets (one per class) as in row {}", y.first_line))?;
                for (j, text) in values.enumerate() {
                    targets.push(number(y, j + 1, text)?);
                }
                return Ok((invalid, None));
            }
            (Some(y), _) => (y, y.values(1, || "1 label".to_string())?.next().unwrap_or("")),
            (None, text) => (table, text.unwrap_or("")),
        };
        let value = whole(text).map_err(|m| label_table.error(m))?;
        let outside = (!(0..k as i128).contains(&value)).then(|| label_table.error(out_of_range(text, k)));
        Ok((invalid, Some((value, outside))))
    }

    /// The table a label or target of the current row is in.
    fn label_table(&self) -> &Table {
        self.labels.as_ref().unwrap_or(&self.table)
    }

    /// A row found invalid: skipped and counted, or the error.
    fn refuse(&mut self, (reason, error): Invalid) -> Result<Option<bool>, DataError> {
        if !self.skip_invalid {
            return Err(error);
        }
        self.skips.add(reason, 1);
        Ok(Some(false))
    }

    /// Reads one row of a class index: appends it (true), skips it (false),
    /// or None at the end.
    fn row(&mut self, logits: &mut Vec<f64>, labels: &mut Vec<usize>) -> Result<Option<bool>, DataError> {
        if !self.advance()? {
            return Ok(None);
        }
        let start = logits.len();
        let (invalid, label) = self.parse(logits, &mut Vec::new())?;
        let (label, outside) = label.expect("class-index labels");
        match invalid.or(outside.map(|e| (OUT_OF_RANGE, e))) {
            None => {
                labels.push(label as usize);
                Ok(Some(true))
            }
            Some(invalid) => {
                logits.truncate(start);
                self.refuse(invalid)
            }
        }
    }

    /// Reads one row of K targets (see [`Check`]): appends it (true), skips
    /// it (false), or None at the end.
    fn target_row(&mut self, logits: &mut Vec<f64>, targets: &mut Vec<f64>) -> Result<Option<bool>, DataError> {
        if !self.advance()? {
            return Ok(None);
        }
        let (k, start, t_start) = (self.k, logits.len(), targets.len());
        let (invalid, label) = self.parse(logits, targets)?;
        let check = self.check.expect("rows of targets are checked");
        let row = match (invalid, label) {
            (Some(invalid), _) => Err(invalid),
            (None, Some((label, _))) => Ok(check.label(&logits[start..], label, targets)),
            (None, None) => {
                let y = targets.split_off(t_start);
                Ok(check.targets(&logits[start..], &y, targets))
            }
        };
        targets.truncate(t_start + k * usize::from(matches!(row, Ok(Row::Kept))));
        let problem = match row {
            Ok(Row::Kept) => return Ok(Some(true)),
            Ok(Row::Bad(p)) => {
                let table = if p.in_labels { self.label_table() } else { &self.table };
                (p.reason, table.error(p.message))
            }
            // Text takes no --ignore-index; a position left out is counted as such anyway.
            Ok(Row::Ignored) => {
                logits.truncate(start);
                self.skips.add(IGNORED, 1);
                return Ok(Some(false));
            }
            Err(invalid) => invalid,
        };
        logits.truncate(start);
        self.refuse(problem)
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
        if self.check.is_some() {
            return Err(DataError::new(&self.table.lines.name, "rows of per-class targets, not of one label each"));
        }
        let mut failed = self.failed.take();
        let read = read_steps(&mut failed, max_rows, logits, labels, |_, z, y| Ok(self.row(z, y)?.map(usize::from)));
        self.failed = failed;
        read
    }

    fn per_class(&self) -> bool {
        self.check.is_some()
    }

    fn read_targets(
        &mut self,
        max_rows: usize,
        logits: &mut Vec<f64>,
        targets: &mut Vec<f64>,
    ) -> Result<usize, DataError> {
        let mut failed = self.failed.take();
        let read =
            read_steps(&mut failed, max_rows, logits, targets, |_, z, t| Ok(self.target_row(z, t)?.map(usize::from)));
        self.failed = failed;
        read
    }

    fn skipped(&self) -> Vec<(String, u64)> {
        self.skips.to_vec()
    }
}
