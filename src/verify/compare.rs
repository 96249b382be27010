//! The error measure, the default tolerances, and the running record of one
//! dump's comparison (the worst value and the first non-finite one).
//!
//! # The measure
//! A value's error is `|theirs − exact| / max(scale, floor)`, where the
//! scale is `|exact|` for a loss (well-conditioned: every term is
//! non-negative) and the sum of the terms' magnitudes for a gradient
//! component (see `exact.rs`). The verdict compares the worst error with
//! `rtol`.
//!
//! # Defaults, from the dump's precision
//! `rtol` and `floor` are both `√ε` of the precision the dump was computed
//! in: float64 1.5e-8, float32 3.5e-4, float16 0.031, bfloat16 0.088. A
//! correct implementation in that precision forms `1 − p_t` (or `p − y`)
//! by rounding to ε; the factor `(1 − p_t)^γ` amplifies that to
//! `γ·ε/(1 − p_t)` relative, and to at most about `γ·α·ε` absolute, since
//! the loss carries `(1 − p_t)^γ` too. Above the floor, √ε relative leaves
//! half the digits for that; below it, the check is absolute, within
//! `rtol·floor` (ε by default): a loss of 0 where the exact value is below
//! about ε passes (float32 `sigmoid(20)` is exactly 1), while every bug
//! that changes what is computed (α swapped, γ ignored, the factor on the
//! mean) errs by far more than √ε on most rows.
//!
//! The precision is the stored dtype's, or narrower when every value fits
//! one: a float32 dump whose values are all bfloat16 (or float16) numbers
//! was computed in bfloat16 and cast for numpy (`t.float().numpy()`), as a
//! float64 dump of float32 numbers was computed in float32. A value of a
//! wider computation fits a narrower format by chance with probability
//! 2^−(bits dropped): the dump is called narrower when its non-zero values
//! drop at least [`CHANCE_BITS`] bits together (one bfloat16 value in a
//! float32 dump, two float16 ones).

use half::{bf16, f16};

use crate::data::npy::Floats;

/// A precision: its name and its machine epsilon.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Precision {
    pub(super) name: &'static str,
    pub(super) eps: f64,
    /// Significand bits, the implicit one included.
    pub(super) bits: u32,
}

const BFLOAT16: Precision = Precision { name: "bfloat16", eps: 0.0078125, bits: 8 };
const FLOAT16: Precision = Precision { name: "float16", eps: 0.0009765625, bits: 11 };
const FLOAT32: Precision = Precision { name: "float32", eps: f32::EPSILON as f64, bits: 24 };
const FLOAT64: Precision = Precision { name: "float64", eps: f64::EPSILON, bits: 53 };

/// The bits the non-zero values must drop together to call a dump narrower
/// than its dtype: a chance of 2^−16 of a wrong call.
pub(super) const CHANCE_BITS: u32 = 16;

/// A value rounded to a precision.
type Round = fn(f64) -> f64;

/// The precision `f`'s values were computed in (see the module's doc).
pub(super) fn precision(f: &Floats) -> Precision {
    let stored = match f.dtype {
        "float16" => FLOAT16,
        "float32" => FLOAT32,
        _ => FLOAT64,
    };
    let values = || f.values.iter().copied().filter(|v| v.is_finite() && *v != 0.0);
    let count = values().count() as u32;
    let fits: [(Precision, Round); 3] = [
        (BFLOAT16, |v| bf16::from_f64(v).to_f64()),
        (FLOAT16, |v| f16::from_f64(v).to_f64()),
        (FLOAT32, |v| f64::from(v as f32)),
    ];
    fits.into_iter()
        .find(|(p, round)| {
            p.bits < stored.bits
                && count.saturating_mul(stored.bits - p.bits) >= CHANCE_BITS
                && values().all(|v| round(v) == v)
        })
        .map_or(stored, |(p, _)| p)
}

/// How close a dump must be.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tolerance {
    pub(super) precision: Precision,
    pub(super) rtol: f64,
    /// Below this magnitude of the scale, errors are absolute.
    pub(super) floor: f64,
}

impl Tolerance {
    /// `rtol` as given, or √ε; the floor is always √ε.
    pub(super) fn new(precision: Precision, rtol: Option<f64>) -> Tolerance {
        let root = precision.eps.sqrt();
        Tolerance { precision, rtol: rtol.unwrap_or(root), floor: root }
    }
}

/// Where a value is: the row (the how-many-th compared), the position in
/// the logits' file order, the class for a per-element value.
#[derive(Clone, Debug)]
pub(super) struct Spot {
    pub(super) row: u64,
    pub(super) position: u64,
    pub(super) class: Option<usize>,
    pub(super) theirs: f64,
    pub(super) exact: f64,
    pub(super) error: f64,
    /// The row's logits and label, or its targets (empty for a label).
    pub(super) logits: Vec<f64>,
    pub(super) label: usize,
    pub(super) targets: Vec<f64>,
}

/// One dump's comparison so far.
#[derive(Debug)]
pub(super) struct Tracker {
    pub(super) tolerance: Tolerance,
    /// Values compared (finite ones and not).
    pub(super) values: u64,
    /// Finite values beyond the tolerance.
    pub(super) beyond: u64,
    pub(super) worst: Option<Spot>,
    pub(super) non_finite: u64,
    pub(super) first_non_finite: Option<Spot>,
}

/// Where the value being checked is, its row's inputs included.
pub(super) struct At<'a> {
    pub(super) row: u64,
    pub(super) position: u64,
    pub(super) class: Option<usize>,
    pub(super) logits: &'a [f64],
    pub(super) label: usize,
    /// Per-class targets (empty for a label).
    pub(super) targets: &'a [f64],
}

impl Tracker {
    pub(super) fn new(tolerance: Tolerance) -> Tracker {
        Tracker { tolerance, values: 0, beyond: 0, worst: None, non_finite: 0, first_non_finite: None }
    }

    /// Records `theirs` against `exact`, whose error is measured against
    /// `scale`, `theirs` being in units of `unit` (a gradient of a reduced
    /// loss: `unit` is the reduction's divisor, and `exact / unit` is shown).
    pub(super) fn check(&mut self, theirs: f64, exact: f64, scale: f64, unit: f64, at: &At) {
        self.values += 1;
        let spot = |error| Spot {
            row: at.row,
            position: at.position,
            class: at.class,
            theirs,
            exact: exact / unit,
            error,
            logits: at.logits.to_vec(),
            label: at.label,
            targets: at.targets.to_vec(),
        };
        if !theirs.is_finite() {
            self.non_finite += 1;
            if self.first_non_finite.is_none() {
                self.first_non_finite = Some(spot(f64::INFINITY));
            }
            return;
        }
        let error = (theirs * unit - exact).abs() / scale.max(self.tolerance.floor);
        if error > self.tolerance.rtol {
            self.beyond += 1;
        }
        if self.worst.as_ref().is_none_or(|w| error > w.error) {
            self.worst = Some(spot(error));
        }
    }

    /// The worst error (0 when nothing finite was compared).
    pub(super) fn worst_error(&self) -> f64 {
        self.worst.as_ref().map_or(0.0, |w| w.error)
    }

    /// Within the tolerance: nothing non-finite, nothing beyond.
    pub(super) fn within(&self) -> bool {
        self.non_finite == 0 && self.beyond == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::npy::Header;

    fn floats(dtype: &'static str, values: Vec<f64>) -> Floats {
        let header =
            Header { version: (1, 0), descr: String::new(), fortran_order: false, shape: vec![], data_offset: 0 };
        Floats { name: "x".into(), header, dtype, values }
    }

    /// A float32 dump of bfloat16 numbers is bfloat16; one value that is
    /// not, or too few values, keep the stored dtype.
    #[test]
    fn precision_is_the_narrowest_that_holds_every_value() {
        let bf: Vec<f64> = (1..=20).map(|i| bf16::from_f64(0.1 * f64::from(i)).to_f64()).collect();
        assert_eq!(precision(&floats("float32", bf.clone())).name, "bfloat16");
        let h: Vec<f64> = (1..=2).map(|i| f16::from_f64(0.1 * f64::from(i)).to_f64()).collect();
        assert_eq!(precision(&floats("float32", h)).name, "float16");
        let s: Vec<f64> = (1..=20).map(|i| f64::from(0.1f32 * i as f32)).collect();
        assert_eq!(precision(&floats("float64", s)).name, "float32");
        assert_eq!(precision(&floats("float32", bf[..1].to_vec())).name, "bfloat16");
        let one_half = f16::from_f64(0.1).to_f64();
        assert_eq!(precision(&floats("float32", vec![0.0, one_half])).name, "float32", "13 bits dropped by chance");
        let mut mixed = bf;
        mixed.push(0.1f32 as f64);
        assert_eq!(precision(&floats("float32", mixed)).name, "float32");
    }
}
