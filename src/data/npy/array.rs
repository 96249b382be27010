//! One `.npy` file of a source: its header and dtype, opened when first
//! read, and positioned in its data.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::Which;
use super::decode::{Dtype, Kind};
use super::header::{Header, read_header};
use crate::data::source::{DataError, is_regular, is_stdin, open_file, path_name};

/// One `.npy` file, positioned somewhere in its data.
pub(super) struct Array {
    pub(super) path: PathBuf,
    pub(super) name: String,
    /// A regular file is opened when first read (shards and the parts of a
    /// split wait their turn without a file: thousands of them stay within
    /// the limit of open files). A stream (a pipe, FIFO or character
    /// device, or standard input) stays open from its header on, and is
    /// read once, in order.
    pub(super) reader: Option<BufReader<File>>,
    /// The length of a regular file; `None` for a stream.
    pub(super) len: Option<u64>,
    /// Where the data starts to be read when the file is opened.
    pub(super) start: u64,
    pub(super) header: Header,
    pub(super) dtype: Dtype,
}

impl Array {
    /// Opens `path` and checks that its dtype suits its role.
    pub(super) fn open(path: &Path, role: Which) -> Result<Array, DataError> {
        Array::open_as(path, Some(role))
    }

    /// Opens `path` with its dtype checked for `role`, or for none (labels
    /// that may be per-class targets, float or integer, until their shape says).
    pub(super) fn open_as(path: &Path, role: Option<Which>) -> Result<Array, DataError> {
        let name = path_name(path);
        let file = open_file(path).map_err(|e| DataError::new(&name, format!("cannot open: {e}")))?;
        // Standard input is never opened again: a stream even from a file.
        let regular = !is_stdin(path) && is_regular(&file);
        let len = if regular { file.metadata().ok().map(|m| m.len()) } else { None };
        let mut reader = BufReader::new(file);
        let header = read_header(&mut reader, &name)?;
        let dtype = Dtype::parse(&header.descr)
            .filter(|d| role.is_none_or(|role| (d.kind == Kind::Float) == (role == Which::Logits)));
        let Some(dtype) = dtype else {
            return Err(DataError::new(name, unsupported(&header.descr, role.unwrap_or(Which::Labels))));
        };
        let start = header.data_offset;
        let reader = if len.is_some() { None } else { Some(reader) };
        Ok(Array { path: path.to_path_buf(), name, reader, len, start, header, dtype })
    }

    /// The error an `open` for `role` would have given, if any.
    pub(super) fn check(&self, role: Which) -> Result<(), DataError> {
        if (self.dtype.kind == Kind::Float) == (role == Which::Logits) {
            return Ok(());
        }
        Err(self.error(unsupported(&self.header.descr, role)))
    }

    /// The same file, to be opened again when first read, with a position of
    /// its own.
    pub(super) fn reopen(&self) -> Array {
        let (path, name, header) = (self.path.clone(), self.name.clone(), self.header.clone());
        Array { path, name, reader: None, header, ..*self }
    }

    /// The file, opened (again) if it is not.
    pub(super) fn reader(&mut self) -> Result<&mut BufReader<File>, DataError> {
        if self.reader.is_none() {
            let file = File::open(&self.path).map_err(|e| self.error(format!("cannot open again: {e}")))?;
            let mut reader = BufReader::new(file);
            reader.seek(SeekFrom::Start(self.start)).map_err(|e| self.error(format!("seek failed: {e}")))?;
            self.reader = Some(reader);
        }
        Ok(self.reader.as_mut().expect("opened"))
    }

    pub(super) fn error(&self, message: String) -> DataError {
        DataError::new(&self.name, message)
    }

    /// Whether this is a stream, read once and in order.
    pub(super) fn stream(&self) -> bool {
        self.len.is_none()
    }

    /// Seeks to item `index` of the data (counted in file order).
    pub(super) fn seek_item(&mut self, index: u64) -> Result<(), DataError> {
        let offset = self.header.data_offset + index * self.dtype.size as u64;
        match &mut self.reader {
            Some(reader) => {
                reader.seek(SeekFrom::Start(offset)).map(drop).map_err(|e| self.error(format!("seek failed: {e}")))
            }
            None => {
                self.start = offset;
                Ok(())
            }
        }
    }
}

/// The message for a dtype `descr` that does not suit `role`.
fn unsupported(descr: &str, role: Which) -> String {
    match role {
        Which::Logits => format!(
            "logits of dtype '{descr}' are not supported: expected float16, float32 or float64 ('<f2', '<f4', '<f8', or '>' for big-endian)"
        ),
        Which::Labels => {
            format!("labels of dtype '{descr}' are not supported: expected an integer dtype (save y.astype(np.int64))")
        }
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub(super) fn fill(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
