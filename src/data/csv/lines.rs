//! The lines of one input: numbered, their breaks (`\n`, `\r\n`, `\r`)
//! removed, blank and comment lines skipped.

use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

use crate::data::source::DataError;

/// What a text reader says of `.npy` bytes.
const NPY_NOT_TEXT: &str = "is a NumPy .npy file, not text: pass .npy arrays as --logits FILE.npy --labels FILE.npy";

/// A longer line is taken for a binary file: reading on would hold it all in
/// memory. (A million logits of 25 characters fit.)
const MAX_LINE: usize = 64 << 20;

/// The lines of one input, numbered; blank and comment lines skipped.
pub(super) struct Lines {
    /// `None` while a file is closed between its first rows and the rest.
    pub(super) reader: Option<BufReader<Box<dyn Read + Send>>>,
    /// The file to open again, when the input is one.
    pub(super) path: Option<PathBuf>,
    pub(super) name: String,
    /// 1-based number of the current line (0 before the first).
    pub(super) number: u64,
    /// The current line without its line break.
    pub(super) buf: Vec<u8>,
    /// The last line ended with `\r`: a `\n` next completes its break.
    after_cr: bool,
}

impl Lines {
    pub(super) fn new(reader: impl Read + Send + 'static, name: &str, path: Option<PathBuf>) -> Lines {
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
    pub(super) fn advance(&mut self) -> Result<bool, DataError> {
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
    pub(super) fn text(&self) -> Result<&str, DataError> {
        std::str::from_utf8(&self.buf).map_err(|e| {
            DataError::at(&self.name, self.number, format!("is not UTF-8 text (byte {})", e.valid_up_to() + 1))
        })
    }
}
