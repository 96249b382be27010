//! The header of a `.npy` file: the magic, the version, the length and
//! the dict literal with the dtype, the order and the shape.

use std::io::Read;

use super::literal::Literal;
use crate::data::source::DataError;
use crate::data::source::fill;

/// NumPy refuses headers over 10 000 bytes by default; a length beyond this
/// is a corrupt file, not a header to allocate.
const MAX_HEADER: u32 = 1 << 20;

/// The header of a `.npy` file, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Format version (major, minor).
    pub version: (u8, u8),
    /// The dtype string, e.g. `<f4`.
    pub descr: String,
    pub fortran_order: bool,
    pub shape: Vec<u64>,
    /// Byte offset of the array data from the start of the file.
    pub data_offset: u64,
}

/// Reads and checks the header at the start of `reader`; `file` names it in errors.
pub fn read_header(reader: &mut impl Read, file: &str) -> Result<Header, DataError> {
    const MAGIC: &[u8] = b"\x93NUMPY";
    let err = |message: String| DataError::new(file, message);
    let mut start = [0u8; 12];
    let got = fill(reader, &mut start[..8]).map_err(|e| err(format!("read failed: {e}")))?;
    if got == 0 || start[..got.min(6)] != MAGIC[..got.min(6)] {
        return Err(err("not a .npy file: it does not start with \\x93NUMPY".into()));
    }
    if got < 8 {
        return Err(err(format!("truncated: the file ends after {got} bytes, inside the NPY header")));
    }
    let version = (start[6], start[7]);
    let len_size = match version {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        (a, b) => {
            return Err(err(format!("unsupported NPY format version {a}.{b}: this reader knows 1.0, 2.0 and 3.0")));
        }
    };
    let got = fill(reader, &mut start[8..8 + len_size]).map_err(|e| err(format!("read failed: {e}")))?;
    if got < len_size {
        return Err(err(format!("truncated: the file ends after {} bytes, inside the NPY header", 8 + got)));
    }
    let len = match len_size {
        2 => u32::from(u16::from_le_bytes([start[8], start[9]])),
        _ => u32::from_le_bytes([start[8], start[9], start[10], start[11]]),
    };
    if len > MAX_HEADER {
        return Err(err(format!(
            "corrupt header: its length of {len} bytes is implausible (NumPy writes a few hundred)"
        )));
    }
    let mut text = vec![0u8; len as usize];
    let got = fill(reader, &mut text).map_err(|e| err(format!("read failed: {e}")))?;
    let prefix = 8 + len_size;
    if got < text.len() {
        return Err(err(format!(
            "truncated: the file ends after {} bytes, inside the {}-byte NPY header",
            prefix + got,
            prefix + text.len()
        )));
    }
    // Versions 1 and 2 are Latin-1: every byte is the char of that code point.
    let text: String = if version.0 >= 3 {
        String::from_utf8(text).map_err(|_| err("corrupt header: it is not UTF-8 text".into()))?
    } else {
        text.iter().map(|&b| char::from(b)).collect()
    };
    let dict = Literal::parse(&text).map_err(|e| err(format!("corrupt header: {e}")))?;
    let Literal::Dict(entries) = dict else {
        return Err(err("corrupt header: it is not a dict".into()));
    };
    // NumPy refuses a header whose keys are not exactly its three.
    for (i, (key, _)) in entries.iter().enumerate() {
        if entries[..i].iter().any(|(k, _)| k == key) {
            let key = match key {
                Literal::Str(s) => format!("'{s}'"),
                _ => "a key".into(),
            };
            return Err(err(format!("corrupt header: {key} appears twice")));
        }
    }
    let get = |key: &str| entries.iter().find(|(k, _)| *k == Literal::Str(key.into())).map(|(_, v)| v);
    let missing = |key: &str| err(format!("corrupt header: it has no '{key}'"));
    let descr = match get("descr").ok_or_else(|| missing("descr"))? {
        Literal::Str(s) => s.clone(),
        _ => return Err(err("a structured dtype (descr is not a string) is not supported".into())),
    };
    let fortran_order = match get("fortran_order").ok_or_else(|| missing("fortran_order"))? {
        Literal::Bool(b) => *b,
        _ => return Err(err("corrupt header: 'fortran_order' is not True or False".into())),
    };
    let shape = match get("shape").ok_or_else(|| missing("shape"))? {
        Literal::Tuple(items) => items
            .iter()
            .map(|d| match d {
                Literal::Int(n) => u64::try_from(*n).ok(),
                _ => None,
            })
            .collect::<Option<Vec<u64>>>(),
        _ => None,
    }
    .ok_or_else(|| err("corrupt header: 'shape' is not a tuple of whole numbers ≥ 0".into()))?;
    Ok(Header { version, descr, fortran_order, shape, data_offset: (prefix + len as usize) as u64 })
}

/// A shape as Python prints it: `(10,)`, `(10, 4)`, `()`.
pub fn shape_text(shape: &[u64]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!("({})", shape.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
    }
}
