//! Whole `.npy` arrays read into memory, in file order: what `verify` holds
//! against the exact values (a user's loss or gradient dump, floats of any
//! shape) and the labels it needs position by position. Streaming is the
//! sources' business; these arrays are the size of one output of a model.

use std::io::BufReader;
use std::path::Path;

use super::CHUNK;
use super::decode::{Dtype, Kind};
use super::header::{Header, read_header, shape_text};
use crate::data::source::fill;
use crate::data::source::{DataError, open_file, path_name};

/// A float array: its header, its dtype's name and its values as f64.
pub struct Floats {
    /// The file as the user named it.
    pub name: String,
    pub header: Header,
    /// `float16`, `float32` or `float64`.
    pub dtype: &'static str,
    /// In file order (Fortran order: the first index fastest).
    pub values: Vec<f64>,
}

/// Reads the float array in `path`; `what` says what it should hold, for
/// the message when its dtype is not a float.
pub fn read_floats(path: &Path, what: &str) -> Result<Floats, DataError> {
    let (name, header, dtype, bytes) = read_all(path)?;
    if dtype.map(|d| d.kind) != Some(Kind::Float) {
        return Err(DataError::new(
            name,
            format!(
                "{what} of dtype '{}' are not supported: expected float16, float32 or float64 (save t.detach().float().numpy())",
                header.descr
            ),
        ));
    }
    let dtype = dtype.expect("a float dtype");
    let mut values = Vec::with_capacity(bytes.len() / dtype.size);
    for chunk in bytes.chunks(CHUNK - CHUNK % dtype.size) {
        dtype.floats(chunk, &mut values);
    }
    let dtype = match dtype.size {
        2 => "float16",
        4 => "float32",
        _ => "float64",
    };
    Ok(Floats { name, header, dtype, values })
}

/// The labels in `path` (any integer dtype or bool), in file order.
pub fn read_labels(path: &Path) -> Result<Vec<i128>, DataError> {
    let (name, header, dtype, bytes) = read_all(path)?;
    let Some(dtype) = dtype.filter(|d| d.kind != Kind::Float) else {
        return Err(DataError::new(
            name,
            format!("labels of dtype '{}' are not supported: expected an integer dtype", header.descr),
        ));
    };
    let mut raw = Vec::with_capacity(bytes.len() / dtype.size);
    dtype.labels(&bytes, usize::MAX, &mut raw);
    Ok(raw.into_iter().map(|r| dtype.label_value(r)).collect())
}

/// The name, header, dtype (if supported) and data bytes of `path`; a file
/// shorter than its shape says is an error.
fn read_all(path: &Path) -> Result<(String, Header, Option<Dtype>, Vec<u8>), DataError> {
    let name = path_name(path);
    let file = open_file(path).map_err(|e| DataError::new(&name, format!("cannot open: {e}")))?;
    let mut reader = BufReader::new(file);
    let header = read_header(&mut reader, &name)?;
    let dtype = Dtype::parse(&header.descr);
    let too_large = || DataError::new(&name, format!("shape {} is too large", shape_text(&header.shape)));
    let items = header.shape.iter().try_fold(1u64, |p, &d| p.checked_mul(d)).ok_or_else(too_large)?;
    let size = dtype.map_or(1, |d| d.size) as u64;
    let len = items.checked_mul(size).and_then(|b| usize::try_from(b).ok()).ok_or_else(too_large)?;
    let mut bytes = vec![0; if dtype.is_some() { len } else { 0 }];
    let got = fill(&mut reader, &mut bytes).map_err(|e| DataError::new(&name, format!("read failed: {e}")))?;
    if got < bytes.len() {
        return Err(DataError::new(
            &name,
            format!(
                "truncated: shape {} of '{}' needs {len} bytes of data but the file has {got}",
                shape_text(&header.shape),
                header.descr
            ),
        ));
    }
    Ok((name, header, dtype, bytes))
}
