//! The loss histograms behind `top_share_90`: 16 bins per binade, each with
//! its exact count and exact sum of significands.

use super::BLOCK;
use super::sums::Neumaier;
use super::zeroed::Zeroed;
use crate::simd::math::pow2;

/// Bits of a non-negative f64 below its exponent and top 4 mantissa bits.
pub(super) const HIST_SHIFT: u32 = 48;
const HIST_BINS: usize = 1 << 15;
/// The mantissa bits below a bin's (the same top 4 for all its values).
const LOW: u64 = (1 << HIST_SHIFT) - 1;
/// Where a bin's count starts in its packed `u128` (below: Σ of `LOW` bits).
const COUNT_SHIFT: u32 = 88;
/// Values a histogram can hold: neither packed field overflows below this.
pub(super) const MAX_VALUES: u64 = 1 << (128 - COUNT_SHIFT);

/// Counts and exact significand sums of non-negative values, 16 bins per
/// binade: bin `b` holds the values whose bits shifted right by 48 are `b`.
/// Several histograms (one per γ, then CE) share one mapping of zeroed
/// pages ([`Zeroed`]: only the pages of bins written cost memory): a new
/// accumulator maps, and later unmaps, one region rather than one per
/// histogram (the page-table work showed in every run).
pub(super) struct LossHistograms {
    /// [`HIST_BINS`] per histogram, one histogram after another. Per bin,
    /// packed in one `u128` so that a value is one 128-bit add (no branch,
    /// no second array): the count above bit 88, below it the exact sum of
    /// the values' 48 mantissa bits under the bin's (< 2^88 for fewer than
    /// 2^40 values). With the bits the bin fixes (its top 4 mantissa bits
    /// and, for normal numbers, the implicit bit) times the count, the exact
    /// sum of the significands, the same whatever the order of the additions.
    bins: Zeroed,
    /// Per histogram, the range of bins that may be non-empty (lo > hi when
    /// empty).
    range: Vec<(usize, usize)>,
}

/// One of [`LossHistograms`], to read.
pub(super) struct LossHistogram<'a> {
    bins: &'a [u128],
    /// The range of bins that may be non-empty (lo > hi when empty).
    pub(super) lo: usize,
    pub(super) hi: usize,
}

impl LossHistograms {
    const HEAP_BYTES: usize = HIST_BINS * 16;

    pub(super) fn new(count: usize) -> Self {
        LossHistograms { bins: Zeroed::new(count * HIST_BINS), range: vec![(HIST_BINS, 0); count] }
    }

    /// Heap memory held, in bytes.
    pub(super) fn heap_bytes(&self) -> usize {
        self.range.capacity() * std::mem::size_of::<(usize, usize)>() + self.range.len() * Self::HEAP_BYTES
    }

    /// Histogram `h`.
    pub(super) fn get(&self, h: usize) -> LossHistogram<'_> {
        let (lo, hi) = self.range[h];
        LossHistogram { bins: &self.bins[h * HIST_BINS..(h + 1) * HIST_BINS], lo, hi }
    }

    /// The bin of a non-negative value (bins rise with the value).
    #[inline(always)]
    pub(super) fn bin(x: f64) -> usize {
        (x.to_bits() >> HIST_SHIFT) as usize & (HIST_BINS - 1)
    }

    /// Adds a block: histogram `g` gets `fl[g · BLOCK ..][..n]` for each of
    /// the G γs `fl` holds, histogram G `ce` (n values). Returns the highest
    /// bin of any value (0 for none).
    #[inline(always)]
    pub(super) fn add_block(&mut self, fl: &[f64], ce: &[f64]) -> usize {
        let g = fl.len() / BLOCK;
        let mut top = 0;
        let histograms = self.bins.chunks_exact_mut(HIST_BINS).zip(&mut self.range).take(g + 1);
        for (gi, (bins, range)) in histograms.enumerate() {
            let xs = if gi < g { &fl[gi * BLOCK..gi * BLOCK + ce.len()] } else { ce };
            top = top.max(Self::add_values(bins, range, xs));
        }
        top
    }

    /// Adds non-negative values (never −0) to histogram `h`; returns the
    /// highest bin of any (0 for none).
    #[inline(always)]
    pub(super) fn add_all(&mut self, h: usize, xs: &[f64]) -> usize {
        Self::add_values(&mut self.bins[h * HIST_BINS..(h + 1) * HIST_BINS], &mut self.range[h], xs)
    }

    /// Adds `xs` to one histogram's `bins` and `range`; returns the highest
    /// bin of any (0 for none).
    #[inline(always)]
    fn add_values(bins: &mut [u128], range: &mut (usize, usize), xs: &[f64]) -> usize {
        if xs.is_empty() {
            return 0;
        }
        // The bins' range from the extreme bit patterns (non-negative
        // values order as their bits), in vector lanes.
        let (mut lo, mut hi) = (u64::MAX, 0u64);
        for &x in xs {
            lo = lo.min(x.to_bits());
            hi = hi.max(x.to_bits());
        }
        for &x in xs {
            Self::add(bins, x);
        }
        let (lo, hi) = (Self::bin(f64::from_bits(lo)), Self::bin(f64::from_bits(hi)));
        *range = (range.0.min(lo), range.1.max(hi));
        hi
    }

    /// Adds the values ≥ 0 of `xs` to histogram `h` (a negative one is no
    /// sample: [`NO_SAMPLE`](super::stage::NO_SAMPLE)).
    #[inline(always)]
    pub(super) fn add_samples(&mut self, h: usize, xs: &[f64]) {
        let bins = &mut self.bins[h * HIST_BINS..(h + 1) * HIST_BINS];
        let (mut lo, mut hi) = self.range[h];
        for &x in xs.iter().filter(|&&x| x >= 0.0) {
            let b = Self::bin(x);
            (lo, hi) = (lo.min(b), hi.max(b));
            Self::add(bins, x);
        }
        self.range[h] = (lo, hi);
    }

    /// Adds a non-negative value to `bins` (one histogram's).
    #[inline(always)]
    fn add(bins: &mut [u128], x: f64) {
        bins[Self::bin(x)] += 1 << COUNT_SHIFT | u128::from(x.to_bits() & LOW);
    }

    pub(super) fn merge(&mut self, other: &LossHistograms) {
        for h in 0..self.range.len().min(other.range.len()) {
            self.add_histogram(h, other, h);
        }
    }

    /// Adds histogram `o` of `other` to histogram `h`.
    pub(super) fn add_histogram(&mut self, h: usize, other: &LossHistograms, o: usize) {
        let (lo, hi) = other.range[o];
        if lo > hi {
            return;
        }
        let (bins, theirs) = (&mut self.bins[h * HIST_BINS..(h + 1) * HIST_BINS], &other.bins[o * HIST_BINS..]);
        for b in lo..=hi {
            bins[b] += theirs[b];
        }
        let range = &mut self.range[h];
        *range = (range.0.min(lo), range.1.max(hi));
    }
}

/// A copy of the bins that may be non-empty, in pages of its own.
impl Clone for LossHistograms {
    fn clone(&self) -> Self {
        let mut copy = LossHistograms::new(self.range.len());
        copy.merge(self);
        copy
    }
}

impl LossHistogram<'_> {
    /// The number of values held.
    pub(super) fn values(&self) -> u64 {
        (self.lo..=self.hi).map(|b| self.count(b)).sum()
    }

    /// The number of values in bin `b`.
    pub(super) fn count(&self, b: usize) -> u64 {
        (self.bins[b] >> COUNT_SHIFT) as u64
    }

    /// The exact sum of the significands of bin `b`'s values.
    pub(super) fn significands(&self, b: usize) -> u128 {
        let fixed = (b as u128 & 15) << HIST_SHIFT | if b >= 16 { 1 << 52 } else { 0 };
        u128::from(self.count(b)) * fixed + (self.bins[b] & ((1 << COUNT_SHIFT) - 1))
    }

    /// The smallest fraction of the `rows` values whose sum reaches `mass` of
    /// the total (0 when the total is 0), to the bound in the module docs.
    pub(super) fn top_share(&self, mass: f64, rows: u64) -> f64 {
        if rows == 0 || self.lo > self.hi {
            return 0.0;
        }
        // A bin's values are significand · 2^(max(e, 1) − 1075); scale them
        // all relative to the top bin so that nothing overflows.
        let exponent = |b: usize| ((b >> 4) as i32).max(1);
        let top = exponent(self.hi);
        let value = |b: usize| self.significands(b) as f64 * pow2(exponent(b) - top);
        let mut total = Neumaier::default();
        for b in self.lo..=self.hi {
            total.add(value(b));
        }
        let target = mass * total.value();
        if target <= 0.0 {
            return 0.0;
        }
        let mut cumulative = Neumaier::default();
        let mut taken = 0u64;
        for b in (self.lo..=self.hi).rev() {
            let count = self.count(b);
            if count == 0 {
                continue;
            }
            let v = value(b);
            let before = cumulative.value();
            if before + v >= target {
                // ⌈R / mean⌉, with ties to within 1e-12 (equal losses)
                // resolved downwards rather than by rounding noise.
                let mean = v / count as f64;
                let need = ((target - before) / mean * (1.0 - 1e-12)).ceil();
                let take = if need >= count as f64 { count } else { (need as u64).max(1) };
                return (taken + take) as f64 / rows as f64;
            }
            cumulative.add(v);
            taken += count;
        }
        taken as f64 / rows as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bins_hold_exact_significand_sums() {
        // Values of one normal bin whose low bits sum far past 2^64, values
        // of a subnormal bin, zero and the largest float: every bin's count
        // and significand sum as the bits say, merged or not.
        let big = f64::from_bits(0x3ff0_ffff_ffff_ffff); // 1.0625 − ulp: bin 0x3ff0
        let sub = f64::from_bits(0x0003_0000_0000_0005); // subnormal, bin 3
        let values = [(big, 1u64 << 17), (sub, 3), (0.0, 2), (f64::MAX, 1)];
        let (mut h, mut other) = (LossHistograms::new(2), LossHistograms::new(2));
        for &(x, n) in &values {
            for i in 0..n {
                if i % 2 == 0 {
                    LossHistograms::add(&mut h.bins[HIST_BINS..], x)
                } else {
                    LossHistograms::add(&mut other.bins[HIST_BINS..], x)
                }
            }
        }
        other.range[1] = (0, HIST_BINS - 1);
        h.merge(&other);
        let h = h.get(1);
        for &(x, n) in &values {
            let b = LossHistograms::bin(x);
            let bits = x.to_bits();
            let significand = (bits & ((1 << 52) - 1)) | if bits >> 52 != 0 { 1 << 52 } else { 0 };
            assert_eq!(h.count(b), n, "{x:e}");
            assert_eq!(h.significands(b), u128::from(significand) * u128::from(n), "{x:e}");
        }
    }
}
