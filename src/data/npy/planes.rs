//! Lending a [`Npy`] source's class planes as they are stored: little-endian
//! float32 strips, with the positions to leave out dropped from the list of
//! positions rather than from the planes.

use super::Npy;
use crate::data::source::{DataError, IGNORED, Planes};

impl Npy {
    /// [`Source::lend_planes`](crate::data::source::Source::lend_planes) of
    /// up to `rows` positions from the next one, within its strip: `None`
    /// (the labels file back where it was) when the strip holds a
    /// non-finite logit or a label is out of range.
    pub(super) fn lend_plane_rows(&mut self, rows: usize) -> Result<Option<usize>, DataError> {
        let p = self.next_row;
        if !self.strip_at.contains(&p) {
            self.load_strip(p)?;
        }
        if !self.strip_finite {
            return Ok(None);
        }
        let run = ((self.strip_at.end - p) as usize).min(rows);
        let in_range = self.read_labels(run)?;
        self.lent_positions.clear();
        self.lent_labels.clear();
        if in_range && !self.ignores_a_class() {
            self.lent_positions.extend(0..run);
            self.lent_labels.extend(self.raw_labels.iter().map(|&label| label as usize));
        } else {
            // In the raw labels' own terms (`Dtype::raw_label`): a label
            // is valid below K or where it is the ignored one.
            let (k, ignore) = (self.k as u64, self.ignore_index.and_then(|i| self.labels.dtype.raw_label(i)));
            let (void, ignoring) = (ignore.unwrap_or(0), ignore.is_some());
            let raw = &self.raw_labels;
            if !raw.iter().fold(true, |ok, &raw| ok & ((raw < k) | (ignoring & (raw == void)))) {
                self.labels.seek_item(p)?;
                return Ok(None);
            }
            // The kept positions written without a branch: each slot is
            // overwritten until a kept label moves past it.
            let (positions, labels) = (&mut self.lent_positions, &mut self.lent_labels);
            positions.resize(run, 0);
            labels.resize(run, 0);
            let mut kept = 0;
            for (i, &raw) in raw.iter().enumerate() {
                positions[kept] = i;
                labels[kept] = raw as usize;
                kept += usize::from(!(ignoring & (raw == void)));
            }
            positions.truncate(kept);
            labels.truncate(kept);
            let ignored = run - kept;
            if ignored > 0 {
                self.skips.add(IGNORED, ignored as u64);
            }
        }
        self.planes_from = (p - self.strip_at.start) as usize;
        self.next_row += run as u64;
        Ok(Some(run))
    }

    /// The positions of the last [`lend_plane_rows`](Self::lend_plane_rows).
    pub(super) fn planes(&self) -> Planes<'_> {
        let len = (self.strip_at.end - self.strip_at.start) as usize;
        Planes {
            logits: &self.strip[self.planes_from..self.k * len],
            stride: len,
            positions: &self.lent_positions,
            labels: &self.lent_labels,
        }
    }
}
