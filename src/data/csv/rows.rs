//! The text [`Source`]: each row's logits and label assembled from its
//! table(s), checked, and skipped or reported.

use super::table::Table;
use crate::data::source::{DataError, NON_FINITE, OUT_OF_RANGE, Skips, Source, out_of_range, read_steps};

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
pub(super) struct Csv {
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
    pub(super) fn new(mut table: Table, mut labels: Option<Table>, skip_invalid: bool) -> Csv {
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
