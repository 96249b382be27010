//! Reading a [`Npy`] source's rows: a batch of logits (C or Fortran
//! order) and labels, checked as decoded, or lent as stored float32.

use super::decode::{NOT_WHOLE, all_finite};
use super::header::shape_text;
use super::{CHUNK, Npy, STRIP, Which};
use crate::data::source::fill;
use crate::data::source::{DataError, IGNORED, NON_FINITE, OUT_OF_RANGE, out_of_range};
use crate::simd::bytes::f32_bytes_mut;

impl Npy {
    /// Both files are at least as long as their shapes say.
    pub(super) fn check_lengths(&self) -> Result<(), DataError> {
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
    pub(super) fn truncated(&self, which: Which, present: u64, have: u64) -> DataError {
        let is_logits = which == Which::Logits;
        let array = if is_logits { &self.logits } else { &self.labels };
        let k = self.k as u64;
        let complete = match is_logits {
            false => present,
            // A position is complete once its last class plane reaches it.
            true => {
                let (block, inner) = (k * self.layout.inner, self.layout.inner);
                present / block * inner + (present % block).saturating_sub((k - 1) * inner)
            }
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
    pub(super) fn read_items(
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
    /// every one is finite. With the class axis not last in file order, the
    /// K planes are read in strips ([`Npy::load_strip`]) and each row
    /// gathered from them.
    pub(super) fn read_logits(&mut self, rows: usize, out: &mut Vec<f64>) -> Result<bool, DataError> {
        let (k, dtype, r0) = (self.k, self.logits.dtype, self.next_row);
        let mut finite = true;
        if self.layout.inner == 1 {
            self.read_items(Which::Logits, r0 * k as u64, rows * k, &mut |b| finite &= dtype.floats(b, out))?;
            return Ok(finite);
        }
        let start = out.len();
        out.resize(start + rows * k, 0.0);
        let mut column = Vec::with_capacity(rows.min(CHUNK));
        let (mut p, end) = (r0, r0 + rows as u64);
        while p < end {
            if !self.strip_at.contains(&p) {
                self.load_strip(p)?;
            }
            let len = (self.strip_at.end - self.strip_at.start) as usize;
            let (from, run) = ((p - self.strip_at.start) as usize, (self.strip_at.end.min(end) - p) as usize);
            let base = start + (p - r0) as usize * k;
            let strip = &f32_bytes_mut(&mut self.strip)[..k * len * dtype.size];
            for (c, plane) in strip.chunks_exact(len * dtype.size).enumerate() {
                column.clear();
                finite &= dtype.floats(&plane[from * dtype.size..(from + run) * dtype.size], &mut column);
                for (o, &v) in out[base + c..].iter_mut().step_by(k).zip(&column) {
                    *o = v;
                }
            }
            p += run as u64;
        }
        Ok(finite)
    }

    /// Reads the K class planes of positions from `p` on, as many as fit in
    /// [`STRIP`] bytes, within `p`'s outer block and this source's rows:
    /// one seek and one long read per plane.
    pub(super) fn load_strip(&mut self, p: u64) -> Result<(), DataError> {
        let (k, size, inner) = (self.k, self.logits.dtype.size, self.layout.inner);
        let len = ((STRIP / (k * size)).max(1) as u64).min(inner - p % inner).min(self.end - p);
        let plane = len as usize * size;
        self.strip.resize((k * plane).div_ceil(4), 0.0);
        self.strip_at = 0..0;
        for c in 0..k {
            let first = self.layout.item(p, c);
            self.logits.seek_item(first)?;
            let reader = self.logits.reader()?;
            let got = fill(reader, &mut f32_bytes_mut(&mut self.strip)[c * plane..(c + 1) * plane])
                .map_err(|e| DataError::new(&self.logits.name, format!("read failed: {e}")))?;
            if got < plane {
                let have = self.logits.header.data_offset + first * size as u64 + got as u64;
                return Err(self.truncated(Which::Logits, first + (got / size) as u64, have));
            }
        }
        self.strip_at = p..p + len;
        self.strip_finite = self.lends_f32() && all_finite(&self.strip[..k * len as usize]);
        Ok(())
    }

    /// Reads `rows` labels into `raw_labels`; returns whether every one is
    /// in range.
    pub(super) fn read_labels(&mut self, rows: usize) -> Result<bool, DataError> {
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
    pub(super) fn lend_rows(&mut self, rows: usize) -> Result<Option<usize>, DataError> {
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
    pub(super) fn batch(
        &mut self,
        max_rows: usize,
        logits: &mut Vec<f64>,
        labels: &mut Vec<usize>,
    ) -> Result<usize, DataError> {
        let rows = (self.end - self.next_row).min(max_rows as u64) as usize;
        let start = logits.len();
        let finite = self.read_logits(rows, logits)?;
        let in_range = self.read_labels(rows)?;
        let (dtype, k) = (self.labels.dtype, self.k);
        // The common case, every row valid, checked while converting.
        if finite && in_range && !self.ignores_a_class() {
            labels.extend(self.raw_labels.iter().map(|&label| label as usize));
            self.next_row += rows as u64;
            return Ok(rows);
        }
        let mut kept = 0;
        for (i, &raw) in self.raw_labels.iter().enumerate() {
            let label = dtype.label_value(raw);
            let row = &logits[start + i * k..start + (i + 1) * k];
            let problem = if self.ignore_index.is_some_and(|i| i128::from(i) == label) {
                // Left out whatever its logits: a void pixel's may be anything.
                self.skips.add(IGNORED, 1);
                continue;
            } else if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                Some((
                    NON_FINITE,
                    &self.logits.name,
                    format!("the logit of class {j} is {}, not a finite number", row[j]),
                ))
            } else if dtype.is_float() && label == i128::from(NOT_WHOLE) {
                let message = "the label is not a whole number: float labels must be class indices".to_string();
                Some((OUT_OF_RANGE, &self.labels.name, message))
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
