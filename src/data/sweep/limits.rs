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

/// `x.min(f64::MAX)` for each of `xs` (a NaN too becomes `f64::MAX`):
/// checked in vector lanes, reading only, and stored only where some value
/// is not below `f64::MAX` (almost never; a select stored in place
/// compiles to masked stores, which AMD cores run slowly).
#[inline(always)]
pub(super) fn at_most_max_all(xs: &mut [f64]) {
    if xs.iter().fold(true, |ok, &x| ok & (x < f64::MAX)) {
        return;
    }
    for x in xs {
        *x = if *x < f64::MAX { *x } else { f64::MAX };
    }
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
