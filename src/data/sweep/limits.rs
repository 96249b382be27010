//! Where values leave the normal range: the checks that send a loss to
//! log space, and saturation at `f64::MAX`.

/// Normal (≥ 2^-1022) and finite.
#[inline(always)]
pub(super) fn normal(x: f64) -> bool {
    (f64::MIN_POSITIVE..=f64::MAX).contains(&x)
}

/// Whether some value is outside the normal range (in vector lanes).
#[inline(always)]
pub(super) fn abnormal(xs: &[f64]) -> bool {
    xs.iter().fold(false, |bad, &x| bad | !normal(x))
}

/// [`crate::loss::sum::finish`] over a slice, without a branch: +∞ becomes `f64::MAX` and
/// sets the row's flag (the values are non-negative).
#[inline(always)]
pub(super) fn saturate(x: &mut [f64], saturated: &mut [bool]) {
    // Almost always every value is finite and ≥ +0 (bits below +∞'s) and
    // nothing changes: checked in vector lanes, reading only.
    if x.iter().fold(true, |ok, &x| ok & (x.to_bits() < f64::INFINITY.to_bits())) {
        return;
    }
    for (x, sat) in x.iter_mut().zip(saturated) {
        let inf = *x == f64::INFINITY;
        *sat |= inf;
        *x = if inf { f64::MAX } else { *x + 0.0 };
    }
}
