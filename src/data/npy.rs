//! NumPy `.npy` files: logits `[N, K]` (float16, float32 or float64, either
//! byte order, C or Fortran order) beside labels `[N]` (any integer dtype, or
//! bool), streamed in chunks through a `BufReader` so that memory stays
//! bounded however large the arrays. Little-endian float32 logits in C
//! order (what `np.save` of a CUDA tensor's `.numpy()` writes) are read
//! straight into an f32 buffer and lent to the sweep as they are
//! ([`Source::lend`]): no conversion pass.
//!
//! # Format
//! `\x93NUMPY`, a major and minor version byte (1.0, 2.0 or 3.0), the header
//! length (u16 little-endian in 1.0, u32 from 2.0 on), then the header: a
//! Python dict literal such as
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 10), }`
//! padded with spaces to a newline (Latin-1 before 3.0, UTF-8 in 3.0). The
//! raw array follows. The dict is parsed here as a small literal (no Python
//! evaluation), so a corrupt header is an error, never a guess.
//!
//! # Fortran order
//! `np.save(f, logits.T)` writes a column-major array. A batch of rows is
//! then K runs of `rows` values, one per column, read with K seeks: memory
//! stays bounded (one batch), at the cost of a seek per class and batch.
//!
//! # Pipes and standard input
//! A file that is not a regular one (a pipe, a FIFO, a character device,
//! or `-`, standard input) is a stream: read once, in order, by one thread,
//! never opened again nor sought in (so Fortran order needs a file).
//!
//! # Truncation
//! A file shorter than its shape says is reported at open (from its length),
//! naming the first incomplete row; reading checks again in case the file is
//! not a regular one or shrinks meanwhile.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use half::f16;
use half::slice::HalfFloatSliceExt;

use super::source::{
    DataError, NON_FINITE, OUT_OF_RANGE, Skips, Source, is_regular, is_stdin, open_file, out_of_range, path_name,
    read_steps,
};
use crate::simd::bytes::{append_items, f32_bytes_mut};
use crate::simd::{Isa, Kernel, Simd};

/// Bytes decoded per read: large enough to amortise the calls, small enough
/// to stay in cache.
const CHUNK: usize = 1 << 18;

/// NumPy refuses headers over 10 000 bytes by default; a length beyond this
/// is a corrupt file, not a header to allocate.
const MAX_HEADER: u32 = 1 << 20;

/// Nesting deeper than this in the header dict is not an array header.
const MAX_DEPTH: usize = 16;

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

/// Logits `[N, K]` from `logits` with their labels `[N]` from `labels`.
///
/// Checked at open: both headers, the dtypes, the shapes, that both files
/// hold the same N, and that neither file is shorter than its shape says.
pub fn open(logits: &Path, labels: &Path, skip_invalid: bool) -> Result<Box<dyn Source>, DataError> {
    let z = Array::open(logits, Which::Logits)?;
    let &[n, k] = z.header.shape.as_slice() else {
        return Err(z.error(format!("logits must be 2-D [N, K], got shape {}", shape_text(&z.header.shape))));
    };
    if k == 0 {
        return Err(z.error(format!("logits of shape {} have no classes", shape_text(&z.header.shape))));
    }
    let y = Array::open(labels, Which::Labels)?;
    let &[m] = y.header.shape.as_slice() else {
        let hint = if y.header.shape.len() == 2 { " (save y.ravel())" } else { "" };
        return Err(y.error(format!("labels must be 1-D [N], got shape {}{hint}", shape_text(&y.header.shape))));
    };
    if m != n {
        return Err(z.error(format!("has {n} rows of logits but {} has {m} labels: each example needs both", y.name)));
    }
    let fits = |a: &Array, items: Option<u64>| {
        items
            .and_then(|i| i.checked_mul(a.dtype.size as u64))
            .and_then(|b| b.checked_add(a.header.data_offset))
            .and_then(|b| usize::try_from(b).ok())
            .map(|_| ())
            .ok_or_else(|| a.error(format!("shape {} is too large", shape_text(&a.header.shape))))
    };
    fits(&z, n.checked_mul(k))?;
    fits(&y, Some(n))?;
    // One row or one column: Fortran and C order are the same bytes.
    let fortran = z.header.fortran_order && n > 1 && k > 1;
    if fortran && z.stream() {
        return Err(z.error(
            "Fortran-order logits are read column by column, which a pipe cannot do: save np.ascontiguousarray(logits) or write them to a file".into(),
        ));
    }
    let source = Npy {
        logits: z,
        labels: y,
        n,
        k: k as usize,
        fortran,
        next_row: 0,
        end: n,
        skip_invalid,
        skips: Skips::default(),
        failed: None,
        bytes: Vec::new(),
        raw_labels: Vec::new(),
        lent_logits: Vec::new(),
        lent_labels: Vec::new(),
    };
    source.check_lengths()?;
    Ok(Box::new(source))
}

/// One `.npy` file, positioned somewhere in its data.
struct Array {
    path: PathBuf,
    name: String,
    /// A regular file is opened when first read (shards and the parts of a
    /// split wait their turn without a file: thousands of them stay within
    /// the limit of open files). A stream (a pipe, FIFO or character
    /// device, or standard input) stays open from its header on, and is
    /// read once, in order.
    reader: Option<BufReader<File>>,
    /// The length of a regular file; `None` for a stream.
    len: Option<u64>,
    /// Where the data starts to be read when the file is opened.
    start: u64,
    header: Header,
    dtype: Dtype,
}

impl Array {
    /// Opens `path` and checks that its dtype suits its role.
    fn open(path: &Path, role: Which) -> Result<Array, DataError> {
        let name = path_name(path);
        let file = open_file(path).map_err(|e| DataError::new(&name, format!("cannot open: {e}")))?;
        // Standard input is never opened again: a stream even from a file.
        let regular = !is_stdin(path) && is_regular(&file);
        let len = if regular { file.metadata().ok().map(|m| m.len()) } else { None };
        let mut reader = BufReader::new(file);
        let header = read_header(&mut reader, &name)?;
        let dtype = Dtype::parse(&header.descr).filter(|d| (d.kind == Kind::Float) == (role == Which::Logits));
        let Some(dtype) = dtype else {
            let message = match role {
                Which::Logits => format!(
                    "logits of dtype '{}' are not supported: expected float16, float32 or float64 ('<f2', '<f4', '<f8', or '>' for big-endian)",
                    header.descr
                ),
                Which::Labels => format!(
                    "labels of dtype '{}' are not supported: expected an integer dtype (save y.astype(np.int64))",
                    header.descr
                ),
            };
            return Err(DataError::new(name, message));
        };
        let start = header.data_offset;
        let reader = if len.is_some() { None } else { Some(reader) };
        Ok(Array { path: path.to_path_buf(), name, reader, len, start, header, dtype })
    }

    /// The same file, to be opened again when first read, with a position of
    /// its own.
    fn reopen(&self) -> Array {
        let (path, name, header) = (self.path.clone(), self.name.clone(), self.header.clone());
        Array { path, name, reader: None, header, ..*self }
    }

    /// The file, opened (again) if it is not.
    fn reader(&mut self) -> Result<&mut BufReader<File>, DataError> {
        if self.reader.is_none() {
            let file = File::open(&self.path).map_err(|e| self.error(format!("cannot open again: {e}")))?;
            let mut reader = BufReader::new(file);
            reader.seek(SeekFrom::Start(self.start)).map_err(|e| self.error(format!("seek failed: {e}")))?;
            self.reader = Some(reader);
        }
        Ok(self.reader.as_mut().expect("opened"))
    }

    fn error(&self, message: String) -> DataError {
        DataError::new(&self.name, message)
    }

    /// Whether this is a stream, read once and in order.
    fn stream(&self) -> bool {
        self.len.is_none()
    }

    /// Seeks to item `index` of the data (counted in file order).
    fn seek_item(&mut self, index: u64) -> Result<(), DataError> {
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

/// Which values a dtype holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Float,
    Int { signed: bool },
    Bool,
}

/// A supported dtype: kind, item size in bytes, byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Dtype {
    kind: Kind,
    size: usize,
    big_endian: bool,
}

impl Dtype {
    /// `<f4`, `>i8`, `|u1`, `=f8`, … (`=` and a missing order mean native).
    fn parse(descr: &str) -> Option<Dtype> {
        let (order, rest) = match descr.as_bytes().first()? {
            b'<' | b'>' | b'|' | b'=' => (descr.as_bytes()[0], &descr[1..]),
            _ => (b'=', descr),
        };
        let big_endian = match order {
            b'>' => true,
            b'<' => false,
            _ => cfg!(target_endian = "big"),
        };
        let (kind, size) = match rest {
            "f2" => (Kind::Float, 2),
            "f4" => (Kind::Float, 4),
            "f8" => (Kind::Float, 8),
            "b1" => (Kind::Bool, 1),
            _ => {
                let signed = match rest.as_bytes().first()? {
                    b'i' => true,
                    b'u' => false,
                    _ => return None,
                };
                let size = match &rest[1..] {
                    "1" => 1,
                    "2" => 2,
                    "4" => 4,
                    "8" => 8,
                    _ => return None,
                };
                (Kind::Int { signed }, size)
            }
        };
        Some(Dtype { kind, size, big_endian })
    }

    /// Appends the floats in `bytes` (whole items) to `out`; returns
    /// whether every one is finite. Conversion and check are one pass over
    /// the bytes (the check on the raw bits), compiled for AVX-512 and AVX2
    /// too and picked at run time.
    fn floats(self, bytes: &[u8], out: &mut Vec<f64>) -> bool {
        struct Floats<'a>(Dtype, &'a [u8], &'a mut Vec<f64>);
        impl Kernel for Floats<'_> {
            type Output = bool;
            #[inline(always)]
            fn run<I: Isa>(self, _: I) -> bool {
                self.0.floats_inline(self.1, self.2)
            }
        }
        Simd::detect().run(Floats(self, bytes, out))
    }

    /// [`Dtype::floats`] for whatever instruction set the caller has. One
    /// loop per size and byte order, so that each vectorises.
    #[inline(always)]
    fn floats_inline(self, bytes: &[u8], out: &mut Vec<f64>) -> bool {
        const F32_EXP: u32 = 0x7f80_0000;
        const F64_EXP: u64 = 0x7ff0_0000_0000_0000;
        match (self.size, self.big_endian) {
            (2, big_endian) => halves(bytes, big_endian, out),
            (4, false) => append_items(bytes, out, |b| {
                let bits = u32::from_le_bytes(b);
                (f64::from(f32::from_bits(bits)), bits & F32_EXP != F32_EXP)
            }),
            (4, true) => append_items(bytes, out, |b| {
                let bits = u32::from_be_bytes(b);
                (f64::from(f32::from_bits(bits)), bits & F32_EXP != F32_EXP)
            }),
            (_, false) => append_items(bytes, out, |b| {
                let bits = u64::from_le_bytes(b);
                (f64::from_bits(bits), bits & F64_EXP != F64_EXP)
            }),
            (_, true) => append_items(bytes, out, |b| {
                let bits = u64::from_be_bytes(b);
                (f64::from_bits(bits), bits & F64_EXP != F64_EXP)
            }),
        }
    }

    /// Appends the labels in `bytes` to `out` as stored, widened to 64 bits
    /// (sign-extended when signed: [`Dtype::label_value`] gives the value
    /// back); returns whether every one is in `0..k`. One pass, compiled
    /// for AVX-512 and AVX2 too and picked at run time.
    fn labels(self, bytes: &[u8], k: usize, out: &mut Vec<u64>) -> bool {
        struct Labels<'a>(Dtype, &'a [u8], usize, &'a mut Vec<u64>);
        impl Kernel for Labels<'_> {
            type Output = bool;
            #[inline(always)]
            fn run<I: Isa>(self, _: I) -> bool {
                self.0.labels_inline(self.1, self.2, self.3)
            }
        }
        Simd::detect().run(Labels(self, bytes, k, out))
    }

    /// [`Dtype::labels`] for whatever instruction set the caller has: one
    /// loop per kind, size and byte order.
    #[inline(always)]
    fn labels_inline(self, bytes: &[u8], k: usize, out: &mut Vec<u64>) -> bool {
        let k = k as u64;
        let signed = matches!(self.kind, Kind::Int { signed: true });
        macro_rules! each {
            ($n:literal, $t:ty, $from:ident) => {
                widen::<$n>(bytes, k, out, |b| <$t>::$from(b) as u64)
            };
        }
        match (self.kind, self.size, signed, self.big_endian) {
            (Kind::Bool, _, _, _) => widen::<1>(bytes, k, out, |b| u64::from(b[0] != 0)),
            (_, 1, false, _) => each!(1, u8, from_le_bytes),
            (_, 1, true, _) => each!(1, i8, from_le_bytes),
            (_, 2, false, false) => each!(2, u16, from_le_bytes),
            (_, 2, false, true) => each!(2, u16, from_be_bytes),
            (_, 2, true, false) => each!(2, i16, from_le_bytes),
            (_, 2, true, true) => each!(2, i16, from_be_bytes),
            (_, 4, false, false) => each!(4, u32, from_le_bytes),
            (_, 4, false, true) => each!(4, u32, from_be_bytes),
            (_, 4, true, false) => each!(4, i32, from_le_bytes),
            (_, 4, true, true) => each!(4, i32, from_be_bytes),
            (_, _, false, false) => each!(8, u64, from_le_bytes),
            (_, _, false, true) => each!(8, u64, from_be_bytes),
            (_, _, true, false) => each!(8, i64, from_le_bytes),
            (_, _, true, true) => each!(8, i64, from_be_bytes),
        }
    }

    /// The label a raw value of [`Dtype::labels`] stands for.
    fn label_value(self, raw: u64) -> i128 {
        match self.kind {
            Kind::Int { signed: true } => i128::from(raw as i64),
            _ => i128::from(raw),
        }
    }
}

/// [`append_items`] for float16: the bits checked while gathered, then converted
/// a block at a time by `half` (F16C when the CPU has it).
#[inline(always)]
fn halves(bytes: &[u8], big_endian: bool, out: &mut Vec<f64>) -> bool {
    const EXP: u16 = 0x7c00;
    const BLOCK: usize = 64;
    let mut valid = true;
    let (mut half, mut wide) = ([f16::ZERO; BLOCK], [0.0; BLOCK]);
    for block in bytes.chunks(2 * BLOCK) {
        let n = block.len() / 2;
        for (h, b) in half.iter_mut().zip(block.chunks_exact(2)) {
            let b = [b[0], b[1]];
            let bits = if big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) };
            valid &= bits & EXP != EXP;
            *h = f16::from_bits(bits);
        }
        half[..n].convert_to_f64_slice(&mut wide[..n]);
        out.extend_from_slice(&wide[..n]);
    }
    valid
}

/// Appends `f` of each `N`-byte item of `bytes` to `out`; returns whether
/// every value is below `k`.
#[inline(always)]
fn widen<const N: usize>(bytes: &[u8], k: u64, out: &mut Vec<u64>, f: impl Fn([u8; N]) -> u64) -> bool {
    append_items(bytes, out, |b| {
        let value = f(b);
        (value, value < k)
    })
}

/// The `.npy` [`Source`]: both arrays, read row batch by row batch.
struct Npy {
    logits: Array,
    labels: Array,
    n: u64,
    k: usize,
    /// The logits are column-major (and more than one row and column).
    fortran: bool,
    /// 0-based index of the next row to read.
    next_row: u64,
    /// One past the last row this source reads (`n` unless split).
    end: u64,
    skip_invalid: bool,
    skips: Skips,
    failed: Option<DataError>,
    /// Raw bytes of one chunk (only ever grown, so never zeroed again).
    bytes: Vec<u8>,
    /// One batch of labels as stored, widened to 64 bits ([`Dtype::labels`]).
    raw_labels: Vec<u64>,
    /// The batch of [`Source::lend`] (the logits buffer only ever grows,
    /// so it is never zeroed again; its batch is the first K × labels).
    lent_logits: Vec<f32>,
    lent_labels: Vec<usize>,
}

impl Npy {
    /// Both files are at least as long as their shapes say.
    fn check_lengths(&self) -> Result<(), DataError> {
        for (which, array, items) in
            [(Which::Logits, &self.logits, self.n * self.k as u64), (Which::Labels, &self.labels, self.n)]
        {
            let Some(have) = array.len else { continue };
            let need = array.header.data_offset + items * array.dtype.size as u64;
            if have < need {
                let present = have.saturating_sub(array.header.data_offset) / array.dtype.size as u64;
                return Err(self.truncated(which, present, have));
            }
        }
        Ok(())
    }

    /// The error for `array` holding only its first `present` items (in
    /// file order) in `have` bytes: it names the first incomplete row.
    fn truncated(&self, which: Which, present: u64, have: u64) -> DataError {
        let is_logits = which == Which::Logits;
        let array = if is_logits { &self.logits } else { &self.labels };
        let k = self.k as u64;
        let complete = match (is_logits, self.fortran) {
            (false, _) => present,
            (true, false) => present / k,
            // Column-major: row r is complete once the last column reaches it.
            (true, true) => present.saturating_sub((k - 1) * self.n),
        };
        let items = if is_logits { self.n * k } else { self.n };
        let need = array.header.data_offset + items * array.dtype.size as u64;
        DataError::at(
            &array.name,
            complete + 1,
            format!(
                "truncated: the file has {have} bytes but shape {} of '{}' needs {need}",
                shape_text(&array.header.shape),
                array.header.descr
            ),
        )
    }

    /// Reads `count` items of `array` from its current position into
    /// `sink`, chunk by chunk; `first` is the index of the first (in file
    /// order), for the truncation message.
    fn read_items(
        &mut self,
        which: Which,
        first: u64,
        count: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), DataError> {
        let array = match which {
            Which::Logits => &mut self.logits,
            Which::Labels => &mut self.labels,
        };
        let size = array.dtype.size;
        let mut left = count * size;
        let mut done = 0;
        while left > 0 {
            let len = left.min(CHUNK - CHUNK % size);
            if self.bytes.len() < len {
                self.bytes.resize(len, 0);
            }
            let got = fill(array.reader()?, &mut self.bytes[..len])
                .map_err(|e| DataError::new(&array.name, format!("read failed: {e}")))?;
            if got < len {
                let have = array.header.data_offset + (first * size as u64) + (done + got) as u64;
                let present = first + ((done + got) / size) as u64;
                return Err(self.truncated(which, present, have));
            }
            sink(&self.bytes[..len]);
            left -= len;
            done += len;
        }
        Ok(())
    }

    /// Appends `rows` rows of logits (row-major) to `out`; returns whether
    /// every one is finite.
    fn read_logits(&mut self, rows: usize, out: &mut Vec<f64>) -> Result<bool, DataError> {
        let (k, dtype, r0) = (self.k, self.logits.dtype, self.next_row);
        let mut finite = true;
        if !self.fortran {
            self.read_items(Which::Logits, r0 * k as u64, rows * k, &mut |b| finite &= dtype.floats(b, out))?;
            return Ok(finite);
        }
        let start = out.len();
        out.resize(start + rows * k, 0.0);
        let mut column = Vec::with_capacity(rows.min(CHUNK));
        for j in 0..k {
            let first = j as u64 * self.n + r0;
            self.logits.seek_item(first)?;
            let mut i = start + j;
            self.read_items(Which::Logits, first, rows, &mut |b| {
                column.clear();
                finite &= dtype.floats(b, &mut column);
                for &v in &column {
                    out[i] = v;
                    i += k;
                }
            })?;
        }
        Ok(finite)
    }

    /// Reads `rows` labels into `raw_labels`; returns whether every one is
    /// in range.
    fn read_labels(&mut self, rows: usize) -> Result<bool, DataError> {
        let mut raw = std::mem::take(&mut self.raw_labels);
        raw.clear();
        let (dtype, k) = (self.labels.dtype, self.k);
        let mut in_range = true;
        let read =
            self.read_items(Which::Labels, self.next_row, rows, &mut |b| in_range &= dtype.labels(b, k, &mut raw));
        self.raw_labels = raw;
        read.map(|()| in_range)
    }

    /// [`Source::lend`] of `rows` rows (see there) of little-endian float32
    /// logits in C order: their bytes read straight into an f32 buffer.
    fn lend_rows(&mut self, rows: usize) -> Result<Option<usize>, DataError> {
        let n = rows * self.k;
        if self.lent_logits.len() < n {
            self.lent_logits.resize(n, 0.0);
        }
        let bytes = f32_bytes_mut(&mut self.lent_logits[..n]);
        let got = fill(self.logits.reader()?, bytes)
            .map_err(|e| DataError::new(&self.logits.name, format!("read failed: {e}")))?;
        let first = self.next_row * self.k as u64;
        if got < 4 * n {
            let have = self.logits.header.data_offset + 4 * first + got as u64;
            return Err(self.truncated(Which::Logits, first + got as u64 / 4, have));
        }
        let lendable = all_finite(&self.lent_logits[..n]) && self.read_labels(rows)?;
        if !lendable {
            // `read` takes this batch: both files go back to its start.
            self.logits.seek_item(first)?;
            self.labels.seek_item(self.next_row)?;
            return Ok(None);
        }
        self.lent_labels.clear();
        self.lent_labels.extend(self.raw_labels.iter().map(|&label| label as usize));
        self.next_row += rows as u64;
        Ok(Some(rows))
    }

    /// One batch of at most `max_rows` rows read; invalid ones dropped (or
    /// the error for the first). Returns the rows kept.
    fn batch(&mut self, max_rows: usize, logits: &mut Vec<f64>, labels: &mut Vec<usize>) -> Result<usize, DataError> {
        let rows = (self.end - self.next_row).min(max_rows as u64) as usize;
        let start = logits.len();
        let finite = self.read_logits(rows, logits)?;
        let in_range = self.read_labels(rows)?;
        let (dtype, k) = (self.labels.dtype, self.k);
        // The common case, every row valid, checked while converting.
        if finite && in_range {
            labels.extend(self.raw_labels.iter().map(|&label| label as usize));
            self.next_row += rows as u64;
            return Ok(rows);
        }
        let mut kept = 0;
        for (i, &raw) in self.raw_labels.iter().enumerate() {
            let label = dtype.label_value(raw);
            let row = &logits[start + i * k..start + (i + 1) * k];
            let problem = if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                Some((
                    NON_FINITE,
                    &self.logits.name,
                    format!("the logit of class {j} is {}, not a finite number", row[j]),
                ))
            } else if !(0..k as i128).contains(&label) {
                Some((OUT_OF_RANGE, &self.labels.name, out_of_range(label, k)))
            } else {
                None
            };
            match problem {
                None => {
                    logits.copy_within(start + i * k..start + (i + 1) * k, start + kept * k);
                    labels.push(label as usize);
                    kept += 1;
                }
                Some((reason, _, _)) if self.skip_invalid => self.skips.add(reason, 1),
                Some((_, file, message)) => {
                    return Err(DataError::at(file.clone(), self.next_row + i as u64 + 1, message));
                }
            }
        }
        logits.truncate(start + kept * k);
        self.next_row += rows as u64;
        Ok(kept)
    }
}

/// One of the two files of a [`Npy`] source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Logits,
    Labels,
}

impl Source for Npy {
    fn classes(&self) -> usize {
        self.k
    }

    fn read(&mut self, max_rows: usize, logits: &mut Vec<f64>, labels: &mut Vec<usize>) -> Result<usize, DataError> {
        let mut failed = self.failed.take();
        let read = read_steps(&mut failed, max_rows, logits, labels, |room, z, y| {
            if self.next_row < self.end { self.batch(room, z, y).map(Some) } else { Ok(None) }
        });
        self.failed = failed;
        read
    }

    fn skipped(&self) -> Vec<(String, u64)> {
        self.skips.to_vec()
    }

    fn rows_left(&self) -> Option<u64> {
        Some(self.end - self.next_row)
    }

    /// Lends little-endian float32 logits in C order as they are stored:
    /// read into an f32 buffer and checked there, with no conversion pass.
    fn lend(&mut self, max_rows: usize) -> Option<Result<usize, DataError>> {
        const F32: Dtype = Dtype { kind: Kind::Float, size: 4, big_endian: false };
        // A batch that cannot be lent is read again: a stream cannot go back.
        let stream = self.logits.stream() || self.labels.stream();
        if stream || self.fortran || self.logits.dtype != F32 || cfg!(target_endian = "big") {
            return None;
        }
        if let Some(e) = &self.failed {
            return Some(Err(e.clone()));
        }
        let rows = (self.end - self.next_row).min(max_rows as u64) as usize;
        if rows == 0 {
            self.lent_labels.clear();
            return Some(Ok(0));
        }
        let lent = self.lend_rows(rows);
        if let Err(e) = &lent {
            self.failed = Some(e.clone());
        }
        lent.transpose()
    }

    fn lent(&self) -> (&[f32], &[usize]) {
        let labels = &self.lent_labels;
        (&self.lent_logits[..labels.len() * self.k], labels)
    }

    /// Contiguous row ranges of what is left, each with its own file handles,
    /// of decreasing size: of P parts, part i has a share P − i of the rows
    /// (at least one), so that threads taking them in order finish close
    /// together, the last parts being small.
    fn split(&mut self, parts: usize) -> Option<Result<Vec<Box<dyn Source>>, DataError>> {
        if self.logits.stream() || self.labels.stream() {
            return None;
        }
        let (start, left) = (self.next_row, self.end - self.next_row);
        let p = (parts.max(1) as u64).min(left);
        let total = u128::from(p * (p + 1) / 2);
        let mut bounds = vec![start];
        let mut weight = 0;
        for i in 0..p {
            weight += u128::from(p - i);
            let share = start + (u128::from(left) * weight / total) as u64;
            let after = bounds[bounds.len() - 1] + 1;
            bounds.push(share.max(after).min(self.end - (p - 1 - i)));
        }
        let split = bounds
            .windows(2)
            .map(|range| {
                let (first, end) = (range[0], range[1]);
                let (mut logits, mut labels) = (self.logits.reopen(), self.labels.reopen());
                if !self.fortran {
                    logits.seek_item(first * self.k as u64)?;
                }
                labels.seek_item(first)?;
                let part = Npy {
                    logits,
                    labels,
                    n: self.n,
                    k: self.k,
                    fortran: self.fortran,
                    next_row: first,
                    end,
                    skip_invalid: self.skip_invalid,
                    skips: Skips::default(),
                    failed: None,
                    bytes: Vec::new(),
                    raw_labels: Vec::new(),
                    lent_logits: Vec::new(),
                    lent_labels: Vec::new(),
                };
                Ok(Box::new(part) as Box<dyn Source>)
            })
            .collect();
        Some(split)
    }
}

/// Whether every value is finite (in vector lanes: AVX-512 or AVX2 where
/// the CPU has it).
fn all_finite(z: &[f32]) -> bool {
    struct AllFinite<'a>(&'a [f32]);
    impl Kernel for AllFinite<'_> {
        type Output = bool;
        #[inline(always)]
        fn run<I: Isa>(self, _: I) -> bool {
            self.0.iter().fold(true, |ok, &v| ok & v.is_finite())
        }
    }
    Simd::detect().run(AllFinite(z))
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn fill(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
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

/// A shape as Python prints it: `(10,)`, `(10, 4)`, `()`.
fn shape_text(shape: &[u64]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!("({})", shape.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// A Python literal of the kinds an NPY header holds.
#[derive(Clone, Debug, PartialEq)]
enum Literal {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Tuple(Vec<Literal>),
    List(Vec<Literal>),
    Dict(Vec<(Literal, Literal)>),
}

impl Literal {
    /// The one literal in `text`, with nothing but white space after it.
    fn parse(text: &str) -> Result<Literal, String> {
        let chars: Vec<char> = text.chars().collect();
        let mut p = LiteralParser { chars: &chars, at: 0 };
        let value = p.value(0)?;
        p.space();
        if p.at < chars.len() {
            return Err(p.unexpected("after the dict"));
        }
        Ok(value)
    }
}

/// Recursive descent over the header's characters.
struct LiteralParser<'a> {
    chars: &'a [char],
    at: usize,
}

impl LiteralParser<'_> {
    fn space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn unexpected(&self, context: &str) -> String {
        match self.chars.get(self.at) {
            Some(c) => format!("unexpected {c:?} {context} at character {}", self.at + 1),
            None => format!("it ends {context}"),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Literal, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        self.space();
        let Some(&c) = self.chars.get(self.at) else {
            return Err("it ends where a value should be".into());
        };
        match c {
            '{' => {
                self.at += 1;
                let mut entries = Vec::new();
                while !self.close('}')? {
                    let key = self.value(depth + 1)?;
                    self.space();
                    if self.chars.get(self.at) != Some(&':') {
                        return Err(self.unexpected("where `:` should follow a key"));
                    }
                    self.at += 1;
                    entries.push((key, self.value(depth + 1)?));
                    self.separator('}')?;
                }
                Ok(Literal::Dict(entries))
            }
            '(' | '[' => {
                self.at += 1;
                let end = if c == '(' { ')' } else { ']' };
                let mut items = Vec::new();
                let mut comma = false;
                while !self.close(end)? {
                    items.push(self.value(depth + 1)?);
                    comma = self.separator(end)?;
                }
                Ok(match c {
                    // `(3)` is just 3 in Python; only `(3,)` is a tuple.
                    '(' if items.len() == 1 && !comma => items.pop().unwrap_or(Literal::None),
                    '(' => Literal::Tuple(items),
                    _ => Literal::List(items),
                })
            }
            '\'' | '"' => {
                self.at += 1;
                let mut s = String::new();
                loop {
                    match self.chars.get(self.at) {
                        None => return Err("a string is never closed".into()),
                        Some(&q) if q == c => break,
                        Some('\\') => {
                            self.at += 1;
                            s.extend(self.chars.get(self.at));
                        }
                        Some(&ch) => s.push(ch),
                    }
                    self.at += 1;
                }
                self.at += 1;
                Ok(Literal::Str(s))
            }
            _ => {
                let from = self.at;
                while self.chars.get(self.at).is_some_and(|c| c.is_alphanumeric() || matches!(c, '-' | '+' | '_')) {
                    self.at += 1;
                }
                let word: String = self.chars[from..self.at].iter().collect();
                match word.as_str() {
                    "True" => Ok(Literal::Bool(true)),
                    "False" => Ok(Literal::Bool(false)),
                    "None" => Ok(Literal::None),
                    "" => {
                        self.at = from;
                        Err(self.unexpected("where a value should be"))
                    }
                    // Python 2 wrote longs as `3L`.
                    _ => word
                        .trim_end_matches(['L', 'l'])
                        .parse::<i128>()
                        .map(Literal::Int)
                        .map_err(|_| format!("`{word}` at character {} is not a value", from + 1)),
                }
            }
        }
    }

    /// Consumes `end` if it comes next (after white space).
    fn close(&mut self, end: char) -> Result<bool, String> {
        self.space();
        match self.chars.get(self.at) {
            Some(&c) if c == end => {
                self.at += 1;
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Err(format!("it ends before the closing `{end}`")),
        }
    }

    /// After an item: a comma (returns true), or the closing `end` next.
    fn separator(&mut self, end: char) -> Result<bool, String> {
        self.space();
        match self.chars.get(self.at) {
            Some(',') => {
                self.at += 1;
                Ok(true)
            }
            Some(&c) if c == end => Ok(false),
            _ => Err(self.unexpected(&format!("where `,` or `{end}` should be"))),
        }
    }
}
