//! The arrays of an `.npz`: its zip directory, read by the `zip` crate,
//! each `NAME.npy` member placed as a byte range (stored) or a deflated
//! stream. A stored member's CRC-32 is not checked: it is read in place,
//! in parallel parts, like a `.npy` file; a deflated one's is, as it is
//! inflated.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use zip::{CompressionMethod, ZipArchive};

use super::Arrays;
use super::inflate::Deflated;
use crate::data::npy::Place;
use crate::data::source::DataError;

/// The members of the `.npz` `path` (`shown` in messages), named without
/// their `.npy`.
pub(super) fn arrays(path: &Path, shown: &str) -> Result<Arrays, DataError> {
    let error = |what: String| DataError::new(shown, what);
    let file = File::open(path).map_err(|e| error(format!("cannot open: {e}")))?;
    let len = file.metadata().map_err(|e| error(format!("cannot open: {e}")))?.len();
    let mut zip = ZipArchive::new(BufReader::new(file))
        .map_err(|e| error(format!("not a readable .npz (zip archive): {e}; is it truncated?")))?;
    let mut arrays = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let member = zip.by_index_raw(i).map_err(|e| error(format!("corrupt zip member #{}: {e}", i + 1)))?;
        let name = member.name().map_err(|e| error(format!("corrupt zip member #{}: {e}", i + 1)))?.to_string();
        let name = name.strip_suffix(".npy").map(str::to_string).unwrap_or(name);
        let (size, compressed) = (member.size(), member.compressed_size());
        let Some(offset) = member.data_start() else {
            return Err(error(format!("corrupt zip member '{name}': its data cannot be found")));
        };
        if offset.checked_add(compressed).is_none_or(|end| end > len) {
            return Err(error(format!(
                "truncated: member '{name}' needs bytes {offset}..{} but the file has {len}",
                offset.saturating_add(compressed)
            )));
        }
        let place = match member.compression() {
            _ if member.encrypted() => Err("the member is encrypted".to_string()),
            CompressionMethod::Stored if compressed == size => Ok(Place::Stored { offset, len: size }),
            CompressionMethod::Stored => {
                Err(format!("corrupt zip member: stored, but {compressed} bytes in the file for {size} of data"))
            }
            CompressionMethod::Deflated => {
                Ok(Place::Deflated(Deflated { offset, compressed, size, crc: member.crc32() }))
            }
            other => Err(format!(
                "compression {other} is not supported: np.savez (stored) and np.savez_compressed (deflate) are"
            )),
        };
        arrays.push((name, place));
    }
    Ok(arrays)
}
