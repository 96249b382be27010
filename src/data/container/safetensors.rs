//! The tensors of a `.safetensors` file: an 8-byte little-endian header
//! length, the JSON header (parsed and validated by the `safetensors`
//! crate: contiguous, in-order byte ranges that match each dtype and
//! shape), then the raw little-endian, C-order tensors. Only the header is
//! read here; each tensor is placed as a byte range of the file.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use safetensors::tensor::Metadata;

use super::Arrays;
use crate::data::npy::Place;
use crate::data::source::DataError;

/// The `safetensors` crate's limit on the header: longer is a corrupt file.
const MAX_HEADER: u64 = 100_000_000;

/// The tensors of `path` (`shown` in messages), in file order.
pub(super) fn arrays(path: &Path, shown: &str) -> Result<Arrays, DataError> {
    let error = |what: String| DataError::new(shown, what);
    let mut file = File::open(path).map_err(|e| error(format!("cannot open: {e}")))?;
    let len = file.metadata().map_err(|e| error(format!("cannot open: {e}")))?.len();
    let mut size = [0u8; 8];
    if len < 8 {
        return Err(error(format!("truncated: {len} bytes, less than the 8 of a safetensors header length")));
    }
    file.read_exact(&mut size).map_err(|e| error(format!("read failed: {e}")))?;
    let n = u64::from_le_bytes(size);
    if n > MAX_HEADER {
        return Err(error(format!("bad safetensors header: its length of {n} bytes is implausible")));
    }
    if 8 + n > len {
        return Err(error(format!("truncated: the header needs {} bytes but the file has {len}", 8 + n)));
    }
    let mut header = vec![0u8; n as usize];
    file.read_exact(&mut header).map_err(|e| error(format!("read failed: {e}")))?;
    let metadata: Metadata =
        serde_json::from_slice(&header).map_err(|e| error(format!("bad safetensors header: {e}")))?;
    let start = 8 + n;
    let need = start + metadata.data_len() as u64;
    if need != len {
        let what = if need > len { "truncated" } else { "corrupt" };
        return Err(error(format!("{what}: the header's tensors end at byte {need} but the file has {len}")));
    }
    let tensors = metadata.tensors();
    Ok(metadata
        .offset_keys()
        .into_iter()
        .map(|name| {
            let info = tensors[&name];
            let place = Place::Raw {
                offset: start + info.data_offsets.0 as u64,
                dtype: format!("{:?}", info.dtype),
                shape: info.shape.iter().map(|&d| d as u64).collect(),
            };
            (name, Ok(place))
        })
        .collect())
}
