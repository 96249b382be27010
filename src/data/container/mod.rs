//! Files of several named arrays: `.npz` (what `np.savez` and
//! `np.savez_compressed` write: a zip of `.npy` members, stored or
//! deflated) and `.safetensors` (a JSON header of dtypes, shapes and byte
//! ranges, then the raw tensors). `FILE:NAME` picks an array; a container
//! holding arrays named `logits` and `labels` needs no `--labels`.
//!
//! Nothing is loaded here: each array becomes a [`Located`] byte range of
//! its file, which the `.npy` reader streams like a `.npy` file (a
//! deflated member is inflated as a stream, [`inflate`]).
//!
//! # `FILE:NAME`
//! When the whole argument is an existing path it is that path (a file
//! whose name has a colon stays readable); otherwise the part after the
//! last colon is the array's name, and the file must be a container.

pub mod inflate;
mod npz;
mod safetensors;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::npy::{Located, Place};
use super::source::{DataError, is_stdin, path_name};

/// The array `--logits` reads from a container when no `:NAME` is given.
pub const LOGITS: &str = "logits";
/// The array `--labels` reads from a container, or the one read beside
/// the logits when `--labels` is not given.
pub const LABELS: &str = "labels";

/// The arrays listed in a "no array named" message, at most.
const LISTED: usize = 12;

/// The kinds of container, by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Npz,
    Safetensors,
}

impl Kind {
    fn of(path: &Path) -> Option<Kind> {
        let ext = path.extension().and_then(OsStr::to_str)?.to_ascii_lowercase();
        match ext.as_str() {
            "npz" => Some(Kind::Npz),
            "safetensors" => Some(Kind::Safetensors),
            _ => None,
        }
    }
}

/// `arg` as a file and an optional array name ([`FILE:NAME`](self)).
fn split(arg: &Path) -> (PathBuf, Option<String>) {
    if is_stdin(arg) || arg.exists() {
        return (arg.to_path_buf(), None);
    }
    let text = arg.to_string_lossy();
    match text.rsplit_once(':') {
        Some((file, name)) if !file.is_empty() && Path::new(file).is_file() => {
            (PathBuf::from(file), Some(name.to_string()))
        }
        _ => (arg.to_path_buf(), None),
    }
}

/// Whether `arg` names an array the `.npy` reader reads: a `.npy` file, a
/// container, or `FILE:NAME` in one.
pub fn is_array(arg: &Path) -> bool {
    let (file, name) = split(arg);
    name.is_some() || Kind::of(&file).is_some() || file.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

/// Whether `arg` names a container or an array in one (`FILE:NAME`).
pub fn is_container(arg: &Path) -> bool {
    Kind::of(&split(arg).0).is_some()
}

/// The array `arg` names: a `.npy` file as a whole, or the array `NAME`
/// (`default` without `:NAME`) of a container.
pub fn locate(arg: &Path, default: &str) -> Result<Located, DataError> {
    let (file, name) = split(arg);
    match (Kind::of(&file), name) {
        (Some(kind), name) => pick(&file, kind, name.as_deref().unwrap_or(default), None),
        (None, None) => Ok(Located { name: path_name(&file), path: file, place: Place::File }),
        (None, Some(name)) => Err(DataError::new(
            path_name(&file),
            format!("':{name}' picks an array of a .npz or .safetensors container, and this is not one"),
        )),
    }
}

/// The labels beside the logits `logits` when `--labels` is not given: the
/// array `labels` of the same container.
pub fn labels_beside(logits: &Path) -> Result<Located, DataError> {
    let (file, _) = split(logits);
    match Kind::of(&file) {
        Some(kind) => pick(&file, kind, LABELS, Some("no --labels, and")),
        None => Err(DataError::new(
            path_name(logits),
            "no --labels: give --labels FILE (only a .npz or .safetensors holding an array named 'labels' needs none)",
        )),
    }
}

/// The array `name` of the container `file`; `context` prefixes the
/// message when it is missing.
fn pick(file: &Path, kind: Kind, name: &str, context: Option<&str>) -> Result<Located, DataError> {
    let shown = path_name(file);
    if is_stdin(file) {
        return Err(DataError::new(shown, "a container cannot be read from standard input: write it to a file"));
    }
    let arrays = match kind {
        Kind::Npz => npz::arrays(file, &shown)?,
        Kind::Safetensors => safetensors::arrays(file, &shown)?,
    };
    match arrays.iter().find(|(n, _)| n == name) {
        Some((_, place)) => {
            let place = place.clone().map_err(|e| DataError::new(format!("{shown}:{name}"), e))?;
            Ok(Located { path: file.to_path_buf(), name: format!("{shown}:{name}"), place })
        }
        None => {
            let mut names: Vec<&str> = arrays.iter().map(|(n, _)| n.as_str()).take(LISTED).collect();
            if arrays.len() > LISTED {
                names.push("…");
            }
            let holds = match names.is_empty() {
                true => "it holds no arrays".to_string(),
                false => format!("it holds {}", names.join(", ")),
            };
            let context = context.map_or(String::new(), |c| format!("{c} "));
            Err(DataError::new(shown, format!("{context}no array named '{name}' ({holds}): pick one with FILE:NAME")))
        }
    }
}

/// The arrays of a container in file order: each name, and where it is
/// or why it cannot be read (kept until the array is asked for).
type Arrays = Vec<(String, Result<Place, String>)>;
