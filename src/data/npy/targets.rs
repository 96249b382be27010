//! `.npy` rows read as per-class targets: labels shaped like the logits
//! (float, integer or bool; the same class axis and layout), or class
//! indices made one-hot (all zeros for `--background`) when the rows need
//! targets anyway (`--background`, `--probs`). Every row is checked
//! ([`crate::data::targets::Check`]) as it is read.

use super::array::Array;
use super::header::shape_text;
use super::{Layout, Npy};
use crate::data::source::{DataError, IGNORED, Options, Skips, Source};
use crate::data::targets::{Check, Row};

/// The [`Source`] of rows with K targets each.
struct Targets {
    /// The logits, and their class-index labels when `per_class` is `None`.
    logits: Npy,
    /// The per-class targets, read as a second array of the logits' layout.
    per_class: Option<Npy>,
    check: Check,
    skip_invalid: bool,
    skips: Skips,
    failed: Option<DataError>,
    /// A batch's targets as read.
    raw: Vec<f64>,
}

/// The source of `logits` laid out as `layout` with `labels`: per-class
/// targets when `same_shape`, else one label per position.
pub(super) fn open(
    logits: Array,
    labels: Array,
    layout: Layout,
    same_shape: bool,
    options: Options,
) -> Result<Box<dyn Source>, DataError> {
    let plain = Options::default();
    let n = layout.n;
    let (per_class, labels) = if same_shape {
        if options.ignore_index.is_some() {
            return Err(labels.error(
                "--ignore-index applies to class-index labels; these are per-class targets (shaped like the logits)"
                    .into(),
            ));
        }
        if options.background.is_some() {
            return Err(labels.error(
                "--background applies to class-index labels; with per-class targets a background row is all zeros"
                    .into(),
            ));
        }
        let dims = logits.header.shape.iter().filter(|&&d| d > 1).count();
        if dims > 1 && labels.header.fortran_order != logits.header.fortran_order {
            let order = |f: bool| if f { "Fortran" } else { "C" };
            return Err(labels.error(format!(
                "targets of shape {} in {} order but the logits {} are in {} order: save both the same way (np.ascontiguousarray)",
                shape_text(&labels.header.shape),
                order(labels.header.fortran_order),
                logits.name,
                order(logits.header.fortran_order)
            )));
        }
        // The targets' own labels array, and the logits', are never read.
        let (unread, unread_too) = (labels.reopen(), labels.reopen());
        let targets = Npy::new(labels, unread, layout, 0..n, plain);
        targets.check_lengths()?;
        (Some(targets), unread_too)
    } else {
        (None, labels)
    };
    let logits = Npy::new(logits, labels, layout, 0..n, plain);
    logits.check_lengths()?;
    Ok(Box::new(Targets::new(logits, per_class, &options)))
}

impl Targets {
    fn new(logits: Npy, per_class: Option<Npy>, options: &Options) -> Self {
        Targets {
            logits,
            per_class,
            check: Check::new(options),
            skip_invalid: options.skip_invalid,
            skips: Skips::default(),
            failed: None,
            raw: Vec::new(),
        }
    }

    /// One batch of at most `max_rows` rows; invalid ones dropped (or the
    /// error for the first). Returns the rows kept.
    fn batch(&mut self, max_rows: usize, logits: &mut Vec<f64>, targets: &mut Vec<f64>) -> Result<usize, DataError> {
        let z = &mut self.logits;
        let (first, k) = (z.next_row, z.k);
        let rows = (z.end - first).min(max_rows as u64) as usize;
        let start = logits.len();
        z.read_logits(rows, logits)?;
        self.raw.clear();
        match &mut self.per_class {
            Some(y) => {
                y.read_logits(rows, &mut self.raw)?;
                y.next_row += rows as u64;
            }
            None => {
                z.read_labels(rows)?;
            }
        }
        z.next_row += rows as u64;
        let mut kept = 0;
        for i in 0..rows {
            let x = &logits[start + i * k..start + (i + 1) * k];
            let row = match &self.per_class {
                Some(_) => self.check.targets(x, &self.raw[i * k..(i + 1) * k], targets),
                None => self.check.label(x, z.labels.dtype.label_value(z.raw_labels[i]), targets),
            };
            match row {
                Row::Kept => {
                    logits.copy_within(start + i * k..start + (i + 1) * k, start + kept * k);
                    kept += 1;
                }
                Row::Ignored => self.skips.add(IGNORED, 1),
                Row::Bad(p) if self.skip_invalid => self.skips.add(p.reason, 1),
                Row::Bad(p) => {
                    let file = match (&self.per_class, p.in_labels) {
                        (_, false) => &z.logits.name,
                        (Some(y), true) => &y.logits.name,
                        (None, true) => &z.labels.name,
                    };
                    return Err(DataError::at(file.clone(), first + i as u64 + 1, p.message));
                }
            }
        }
        logits.truncate(start + kept * k);
        Ok(kept)
    }
}

impl Source for Targets {
    fn classes(&self) -> usize {
        self.logits.k
    }

    fn read(&mut self, _: usize, _: &mut Vec<f64>, _: &mut Vec<usize>) -> Result<usize, DataError> {
        Err(self.logits.logits.error("rows of per-class targets, not of one label each".into()))
    }

    fn per_class(&self) -> bool {
        true
    }

    fn read_targets(
        &mut self,
        max_rows: usize,
        logits: &mut Vec<f64>,
        targets: &mut Vec<f64>,
    ) -> Result<usize, DataError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let (logits_len, targets_len) = (logits.len(), targets.len());
        let mut total = 0;
        while total < max_rows && self.logits.next_row < self.logits.end {
            match self.batch(max_rows - total, logits, targets) {
                Ok(kept) => total += kept,
                Err(e) => {
                    logits.truncate(logits_len);
                    targets.truncate(targets_len);
                    self.failed = Some(e.clone());
                    return Err(e);
                }
            }
        }
        Ok(total)
    }

    fn skipped(&self) -> Vec<(String, u64)> {
        self.skips.to_vec()
    }

    fn rows_left(&self) -> Option<u64> {
        Some(self.logits.end - self.logits.next_row)
    }

    /// The logits' parts, each with the same rows of the targets.
    fn split(&mut self, parts: usize) -> Option<Result<Vec<Box<dyn Source>>, DataError>> {
        let logits = self.logits.parts(parts)?;
        let per_class = match &mut self.per_class {
            Some(y) => Some(y.parts(parts)?),
            None => None,
        };
        let (check, skip_invalid) = (self.check, self.skip_invalid);
        let part = move |logits: Npy, per_class: Option<Npy>| -> Box<dyn Source> {
            let skips = Skips::default();
            Box::new(Targets { logits, per_class, check, skip_invalid, skips, failed: None, raw: Vec::new() })
        };
        Some((|| {
            let logits = logits?;
            Ok(match per_class {
                Some(y) => logits.into_iter().zip(y?).map(|(z, y)| part(z, Some(y))).collect(),
                None => logits.into_iter().map(|z| part(z, None)).collect(),
            })
        })())
    }
}
