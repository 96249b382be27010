//! One input's data rows: the header skipped, the separator and the width
//! fixed by the first data row, and a file closed and opened again.

use std::fs::File;

use super::fields::{Fields, Separator, is_header};
use super::lines::Lines;
use crate::data::source::DataError;
use crate::format::count;

/// One input's data rows: the header skipped, the separator and the number
/// of values per row fixed by the first data row.
pub(super) struct Table {
    pub(super) lines: Lines,
    sep: Separator,
    /// Values per row (0: the input has no data rows).
    pub(super) width: usize,
    /// Line number of the first data row (the one `width` comes from).
    pub(super) first_line: u64,
    header: bool,
    /// The current line is the first data row, not handed out yet.
    pending: bool,
    /// Data rows handed out so far.
    rows: u64,
    ended: bool,
}

impl Table {
    pub(super) fn open(mut lines: Lines) -> Result<Table, DataError> {
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
    pub(super) fn empty(&self, what: &str) -> DataError {
        let message = if self.header { format!("has a header but no {what}") } else { format!("has no {what}") };
        DataError::new(&self.lines.name, message)
    }

    /// Closes a file until its rows are read ([`Table::next_row`] opens it
    /// again); a stream stays open.
    pub(super) fn close(&mut self) {
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
    pub(super) fn next_row(&mut self) -> Result<Option<u64>, DataError> {
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
    pub(super) fn count_rows(&mut self) -> Result<u64, DataError> {
        while self.next_row()?.is_some() {}
        Ok(self.rows)
    }

    /// The current row's values, checked to number `width`; `expected`
    /// describes them for the message.
    pub(super) fn values(&self, width: usize, expected: impl FnOnce() -> String) -> Result<Fields<'_>, DataError> {
        let text = self.lines.text()?;
        let n = self.sep.fields(text).count();
        if n != width {
            return Err(self.error(format!("has {}, expected {}", count(n as u64, "value", "values"), expected())));
        }
        Ok(self.sep.fields(text))
    }

    /// An error at the current line.
    pub(super) fn error(&self, message: String) -> DataError {
        DataError::at(&self.lines.name, self.lines.number, message)
    }
}
