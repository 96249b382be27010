//! One array of a source: its header and dtype, opened when first read,
//! and positioned in its data. The array is a whole `.npy` file or a byte
//! range of a container ([`Place`]).

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::PathBuf;

use super::Which;
use super::decode::Dtype;
use super::header::{Header, read_header};
use super::place::{Located, Place, Reader};
use crate::data::container::inflate::Reach;
use crate::data::source::{DataError, is_regular, is_stdin, open_file};

/// One array, positioned somewhere in its data.
pub(super) struct Array {
    pub(super) path: PathBuf,
    pub(super) name: String,
    pub(super) place: Place,
    /// A regular file is opened when first read (shards and the parts of a
    /// split wait their turn without a file: thousands of them stay within
    /// the limit of open files). A stream (a pipe, FIFO or character
    /// device, or standard input) stays open from its header on, and is
    /// read once, in order.
    pub(super) reader: Option<Reader>,
    /// Where the array's bytes end (the length of a `.npy` file, the end of
    /// a member; a deflated member's inflated size); `None` for a stream.
    pub(super) len: Option<u64>,
    /// Where the data starts to be read when the file is opened.
    pub(super) start: u64,
    /// How a deflated member reads back (class planes in strips go back
    /// within an item).
    pub(super) reach: Reach,
    pub(super) header: Header,
    pub(super) dtype: Dtype,
}

impl Array {
    /// Opens the array at `at` and checks that its dtype suits its role.
    pub(super) fn open(at: &Located, role: Which) -> Result<Array, DataError> {
        Array::open_as(at, Some(role))
    }

    /// Opens the array at `at` with its dtype checked for `role`, or for none
    /// (labels that may be per-class targets, float or integer, until their
    /// shape says).
    pub(super) fn open_as(at: &Located, role: Option<Which>) -> Result<Array, DataError> {
        let raw = matches!(at.place, Place::Raw { .. });
        match Array::open_any(at)? {
            Ok(array) if role.is_none_or(|role| suits(&array.dtype, role, raw)) => Ok(array),
            Ok(array) => {
                Err(DataError::new(&at.name, unsupported(&array.header.descr, role.unwrap_or(Which::Labels), raw)))
            }
            Err(header) => {
                Err(DataError::new(&at.name, unsupported(&header.descr, role.unwrap_or(Which::Labels), raw)))
            }
        }
    }

    /// Opens the array at `at`, whatever its dtype: the array, or only its
    /// header when the readers do not know its dtype.
    pub(super) fn open_any(at: &Located) -> Result<Result<Array, Header>, DataError> {
        let name = at.name.clone();
        let path = at.path.as_path();
        let file = open_file(path).map_err(|e| DataError::new(&name, format!("cannot open: {e}")))?;
        // Standard input is never opened again: a stream even from a file.
        let regular = !is_stdin(path) && is_regular(&file);
        let file_len = if regular { file.metadata().ok().map(|m| m.len()) } else { None };
        let (header, dtype, len, reader) = match &at.place {
            Place::Raw { offset, dtype, shape } => {
                let header = Header {
                    version: (0, 0),
                    descr: dtype.clone(),
                    fortran_order: false,
                    shape: shape.clone(),
                    data_offset: *offset,
                };
                (header, Dtype::safetensors(dtype), file_len, None)
            }
            place => {
                let mut reader = Reader::new(path, file, place, Reach::IN_ORDER)
                    .map_err(|e| DataError::new(&name, format!("read failed: {e}")))?;
                let mut header = read_header(&mut reader, &name)?;
                let len = match *place {
                    Place::Stored { offset, len } => {
                        header.data_offset += offset;
                        Some(offset + len)
                    }
                    Place::Deflated(member) => Some(member.size),
                    _ => file_len,
                };
                let dtype = Dtype::parse(&header.descr);
                (header, dtype, len, len.is_none().then_some(reader))
            }
        };
        let Some(dtype) = dtype else { return Ok(Err(header)) };
        let start = header.data_offset;
        Ok(Ok(Array {
            path: path.to_path_buf(),
            name,
            place: at.place.clone(),
            reader,
            len,
            start,
            reach: Reach::IN_ORDER,
            header,
            dtype,
        }))
    }

    /// The error an `open` for `role` would have given, if any.
    pub(super) fn check(&self, role: Which) -> Result<(), DataError> {
        let raw = matches!(self.place, Place::Raw { .. });
        if suits(&self.dtype, role, raw) {
            return Ok(());
        }
        Err(self.error(unsupported(&self.header.descr, role, raw)))
    }

    /// The same file, to be opened again when first read, with a position of
    /// its own.
    pub(super) fn reopen(&self) -> Array {
        let (path, name, header) = (self.path.clone(), self.name.clone(), self.header.clone());
        Array { path, name, place: self.place.clone(), reader: None, header, ..*self }
    }

    /// The file, opened (again) if it is not.
    pub(super) fn reader(&mut self) -> Result<&mut Reader, DataError> {
        if self.reader.is_none() {
            let file = File::open(&self.path).map_err(|e| self.error(format!("cannot open again: {e}")))?;
            let mut reader = Reader::new(&self.path, file, &self.place, self.reach)
                .map_err(|e| self.error(format!("read failed: {e}")))?;
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

    /// Whether it can be read from any offset, by several readers at once:
    /// not a stream, nor a deflated member (inflated in order, with a
    /// window to seek back into).
    pub(super) fn seekable(&self) -> bool {
        !self.stream() && !matches!(self.place, Place::Deflated(_))
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

/// Whether `dtype` suits `role`: float logits; integer labels, or float
/// ones (whole numbers) from safetensors, where torch's float targets end up.
fn suits(dtype: &Dtype, role: Which, raw: bool) -> bool {
    match role {
        Which::Logits => dtype.is_float(),
        Which::Labels => !dtype.is_float() || raw,
    }
}

/// The message for a dtype `descr` that does not suit `role` (`raw`: a
/// safetensors tensor, whose dtypes have other names).
fn unsupported(descr: &str, role: Which, raw: bool) -> String {
    match (role, raw) {
        (Which::Logits, false) => format!(
            "logits of dtype '{descr}' are not supported: expected float16, float32 or float64 ('<f2', '<f4', '<f8', or '>' for big-endian)"
        ),
        (Which::Logits, true) => format!("logits of dtype {descr} are not supported: expected F16, BF16, F32 or F64"),
        (Which::Labels, false) => {
            format!("labels of dtype '{descr}' are not supported: expected an integer dtype (save y.astype(np.int64))")
        }
        (Which::Labels, true) => format!(
            "labels of dtype {descr} are not supported: expected an integer, BOOL or float dtype (save y.to(torch.int64))"
        ),
    }
}
