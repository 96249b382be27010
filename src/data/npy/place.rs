//! Where an array's bytes are: a whole `.npy` file, or a byte range of a
//! container (an `.npz` member, stored or deflated; a safetensors tensor),
//! and the reader that reads them.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::data::container::inflate::{Deflated, Inflate, Reach};

/// An array to read: the file, its name in messages, and where in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub path: PathBuf,
    /// As messages show it: the file, with `:NAME` for a container's array.
    pub name: String,
    pub place: Place,
}

/// Where in its file an array is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// The whole file is a `.npy` (or standard input).
    File,
    /// A `.npy` stored as is at `offset` (an `.npz` member): read in place.
    Stored { offset: u64, len: u64 },
    /// A `.npy` deflated (an `.npz` member): inflated as a stream.
    Deflated(Deflated),
    /// Raw little-endian C-order items at `offset` (a safetensors tensor),
    /// of the safetensors dtype `dtype` (`F32`, `BF16`, `I64`, …).
    Raw { offset: u64, dtype: String, shape: Vec<u64> },
}

/// A file read in place, or a deflated member inflated as it is read.
pub(super) enum Reader {
    File(BufReader<File>),
    Inflate(Box<Inflate>),
}

impl Reader {
    /// `file` (at `path`) read where `place` says, from the start of its
    /// array; an inflated one reaches back as `reach` says.
    pub(super) fn new(path: &Path, file: File, place: &Place, reach: Reach) -> io::Result<Reader> {
        Ok(match place {
            // Inflaters open the file themselves, as many times as they are.
            Place::Deflated(member) => Reader::Inflate(Box::new(Inflate::new(path, *member, reach))),
            Place::File => Reader::File(BufReader::new(file)),
            Place::Stored { offset, .. } | Place::Raw { offset, .. } => {
                let mut reader = BufReader::new(file);
                reader.seek(SeekFrom::Start(*offset))?;
                Reader::File(reader)
            }
        })
    }
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Reader::File(r) => r.read(buf),
            Reader::Inflate(r) => r.read(buf),
        }
    }
}

impl Seek for Reader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            Reader::File(r) => r.seek(to),
            Reader::Inflate(r) => r.seek(to),
        }
    }
}
