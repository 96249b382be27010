//! Whole arrays read into memory, in file order: what `verify` holds
//! against the exact values (a user's loss or gradient dump, floats of any
//! shape), the labels it needs position by position and the logits'
//! header. Each is a `.npy` file or a container's array ([`Located`]),
//! opened as the sources open it. Streaming is the sources' business;
//! these arrays are the size of one output of a model.

use super::CHUNK;
use super::array::Array;
use super::decode::{Dtype, Kind};
use super::header::{Header, shape_text};
use super::place::Located;
use crate::data::source::DataError;
use crate::data::source::fill;

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

/// Reads the float array at `at`; `what` says what it should hold, for
/// the message when its dtype is not a float.
pub fn read_floats(at: &Located, what: &str) -> Result<Floats, DataError> {
    let (name, header, dtype, bytes) = read_all(at)?;
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

/// The labels at `at` (any integer dtype or bool), in file order.
pub fn read_labels(at: &Located) -> Result<Vec<i128>, DataError> {
    let (name, header, dtype, bytes) = read_all(at)?;
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

/// The header of the array at `at`, its data not read.
pub fn read_header_at(at: &Located) -> Result<Header, DataError> {
    Ok(Array::open_any(at)?.map_or_else(|header| header, |array| array.header))
}

/// The name, header, dtype (if supported) and data bytes of the array at
/// `at`; an array shorter than its shape says is an error.
fn read_all(at: &Located) -> Result<(String, Header, Option<Dtype>, Vec<u8>), DataError> {
    let name = at.name.clone();
    let mut array = match Array::open_any(at)? {
        Ok(array) => array,
        Err(header) => return Ok((name, header, None, Vec::new())),
    };
    let header = array.header.clone();
    let dtype = Some(array.dtype);
    let too_large = || DataError::new(&name, format!("shape {} is too large", shape_text(&header.shape)));
    let items = header.shape.iter().try_fold(1u64, |p, &d| p.checked_mul(d)).ok_or_else(too_large)?;
    let size = array.dtype.size as u64;
    let len = items.checked_mul(size).and_then(|b| usize::try_from(b).ok()).ok_or_else(too_large)?;
    let mut bytes = vec![0; len];
    let reader = array.reader()?;
    let got = fill(reader, &mut bytes).map_err(|e| DataError::new(&name, format!("read failed: {e}")))?;
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
