//! The modulating factor `(1 − p)^γ` and the weighted loss `α · (1 − p)^γ · CE`,
//! over a slice of values.

use super::limits::normal;
use crate::simd::Isa;

/// γ up to this (a multiple of ½) takes the powering path.
const MAX_POWER_GAMMA: f64 = 32.0;

/// How `(1 − p)^γ` is taken for one γ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Power {
    /// γ = 0: exactly 1.
    One,
    /// γ = h / 2: `(1 − p)^⌊h/2⌋ · √(1 − p)` if h is odd.
    Halves(u32),
    /// `exp(γ · ln(1 − p))`.
    Exp(f64),
}

impl Power {
    pub(super) fn of(gamma: f64) -> Power {
        if gamma == 0.0 {
            Power::One
        } else if gamma <= MAX_POWER_GAMMA && (2.0 * gamma).fract() == 0.0 {
            Power::Halves((2.0 * gamma) as u32)
        } else {
            Power::Exp(gamma)
        }
    }
}

/// Runs `$body` with `$factor(om, m)` bound to `power`'s factor `(1 − p)^γ`
/// of `om = 1 − p` and `$check` to whether the factor can leave the normal
/// range. For γ ≤ 6 a multiple of ½ it is taken inline (the operations of
/// [`modulating`]'s binary powering, so the same bits); otherwise
/// [`modulating`] first fills `m` from the given `(m, om, ln_om, sq, sign,
/// Isa)` and the factor is that `m` — or, given `else $other`, the value is
/// `$other`.
macro_rules! with_factor {
    ($power:expr, ($m:expr, $om:expr, $ln_om:expr, $sq:expr, $sign:expr, $isa:ty), |$factor:ident, $check:ident| $body:expr) => {
        $crate::data::sweep::factor::with_factor!($power, else {
            $crate::data::sweep::factor::modulating::<$isa>($m, $om, $ln_om, $sq, $power, $sign);
            $crate::data::sweep::factor::factor_arm!($factor, $check, $body, |_: f64, m: f64| m, true)
        }, |$factor, $check| $body)
    };
    ($power:expr, else $other:expr, |$factor:ident, $check:ident| $body:expr) => {{
        use $crate::data::sweep::factor::Power;
        // √o for odd h, then o^⌊h/2⌋ by squaring: o², o⁴, ... as in `modulating`.
        let sqrt = |o: f64| o.sqrt();
        match $power {
            Power::One => $crate::data::sweep::factor::factor_arm!($factor, $check, $body, |_: f64, _: f64| 1.0, false),
            Power::Halves(1) => $crate::data::sweep::factor::factor_arm!($factor, $check, $body, |o: f64, _: f64| sqrt(o), true),
            Power::Halves(2) => $crate::data::sweep::factor::factor_arm!($factor, $check, $body, |o: f64, _: f64| o, true),
            Power::Halves(3) => $crate::data::sweep::factor::factor_arm!($factor, $check, $body, |o: f64, _: f64| sqrt(o) * o, true),
            Power::Halves(4) => $crate::data::sweep::factor::factor_arm!($factor, $check, $body, |o: f64, _: f64| o * o, true),
            Power::Halves(5) => $crate::data::sweep::factor::factor_arm!($factor, $check, $body, |o: f64, _: f64| sqrt(o) * (o * o), true),
            Power::Halves(6) => $crate::data::sweep::factor::factor_arm!($factor, $check, $body, |o: f64, _: f64| o * (o * o), true),
            Power::Halves(7) => $crate::data::sweep::factor::factor_arm!($factor, $check, $body, |o: f64, _: f64| (sqrt(o) * o) * (o * o), true),
            Power::Halves(8) => $crate::data::sweep::factor::factor_arm!($factor, $check, $body, |o: f64, _: f64| (o * o) * (o * o), true),
            Power::Halves(9) => $crate::data::sweep::factor::factor_arm!($factor, $check, $body, |o: f64, _: f64| sqrt(o) * ((o * o) * (o * o)), true),
            Power::Halves(10) => $crate::data::sweep::factor::factor_arm!($factor, $check, $body, |o: f64, _: f64| o * ((o * o) * (o * o)), true),
            Power::Halves(11) => {
                $crate::data::sweep::factor::factor_arm!($factor, $check, $body, |o: f64, _: f64| (sqrt(o) * o) * ((o * o) * (o * o)), true)
            }
            Power::Halves(12) => {
                $crate::data::sweep::factor::factor_arm!($factor, $check, $body, |o: f64, _: f64| (o * o) * ((o * o) * (o * o)), true)
            }
            _ => $other,
        }
    }};
}
pub(super) use with_factor;

/// One arm of [`with_factor`]: `$body` with the factor and check bound.
macro_rules! factor_arm {
    ($factor:ident, $check:ident, $body:expr, $f:expr, $c:expr) => {{
        let $factor = $f;
        let $check: bool = $c;
        $body
    }};
}
pub(super) use factor_arm;

/// `x = w · m · c` with `m = (1 − p)^γ` from `om = 1 − p` (or from `ln_om`,
/// see [`modulating`]), `m` kept for the fallback; true when some `m` is
/// outside the normal range, so that its product needs
/// [`weighted_product`](crate::loss::sum::weighted_product)'s log space. The other cause, `c` or a powered `om`
/// outside it, does not depend on γ: the callers check it once for all γs
/// ([`abnormal`](super::limits::abnormal)). The factor as [`with_factor`]
/// takes it, in one pass.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn weigh<I: Isa>(
    x: &mut [f64],
    m: &mut [f64],
    om: &[f64],
    ln_om: &[f64],
    sq: &mut [f64],
    w: &[f64],
    c: &[f64],
    power: Power,
    sign: f64,
) -> bool {
    with_factor!(power, (m, om, ln_om, sq, sign, I), |factor, check| {
        let mut bad = false;
        for ((((x, m), &o), &w), &c) in x.iter_mut().zip(m.iter_mut()).zip(om).zip(w).zip(c) {
            let f: f64 = factor(o, *m);
            *m = f;
            *x = w * f * c;
            bad |= check & !normal(f);
        }
        bad
    })
}

/// Modulating factors `(1 − p)^γ` from `om = 1 − p` (powers) or from
/// `ln_om = sign · ln(1 − p)` (exponential); `sq` is scratch.
#[inline(always)]
pub(super) fn modulating<I: Isa>(m: &mut [f64], om: &[f64], ln_om: &[f64], sq: &mut [f64], power: Power, sign: f64) {
    match power {
        Power::One => m.fill(1.0),
        Power::Halves(h) => {
            if h & 1 == 1 {
                for (m, &o) in m.iter_mut().zip(om) {
                    *m = o.sqrt();
                }
            } else {
                m.fill(1.0);
            }
            let mut e = h >> 1;
            if e == 0 {
                return;
            }
            sq.copy_from_slice(om);
            loop {
                if e & 1 == 1 {
                    for (m, &b) in m.iter_mut().zip(sq.iter()) {
                        *m *= b;
                    }
                }
                e >>= 1;
                if e == 0 {
                    break;
                }
                for b in sq.iter_mut() {
                    *b *= *b;
                }
            }
        }
        Power::Exp(gamma) => {
            let g = sign * gamma;
            for (m, &l) in m.iter_mut().zip(ln_om) {
                *m = I::exp(g * l);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::Portable;
    use crate::test_rng::uniform;

    #[test]
    fn powers_match_the_exponential() {
        let om = uniform(256, 1e-3, 1.0, 21);
        let ln_om: Vec<f64> = om.iter().map(|x| x.ln()).collect();
        let (mut m, mut sq) = (vec![0.0; 256], vec![0.0; 256]);
        for h in 1..=64u32 {
            modulating::<Portable>(&mut m, &om, &ln_om, &mut sq, Power::Halves(h), 1.0);
            let g = f64::from(h) / 2.0;
            for ((&m, &o), &l) in m.iter().zip(&om).zip(&ln_om) {
                let want = (g * l).exp();
                // exp(γ·ln x) itself is off by up to |γ ln x| ε.
                assert!((m - want).abs() <= (8.0 + (g * l).abs()) * f64::EPSILON * want, "{o}^{g}: {m} vs {want}");
            }
        }
        // The inline factors of `weigh` are the same operations: same bits.
        let (ones, mut x, mut m2) = (vec![1.0; 256], vec![0.0; 256], vec![0.0; 256]);
        for h in 0..=16u32 {
            let power = if h == 0 { Power::One } else { Power::Halves(h) };
            modulating::<Portable>(&mut m, &om, &ln_om, &mut sq, power, 1.0);
            weigh::<Portable>(&mut x, &mut m2, &om, &ln_om, &mut sq, &ones, &ones, power, 1.0);
            assert_eq!(m, m2, "h = {h}");
            assert_eq!(x, m, "h = {h}");
        }
        assert_eq!(Power::of(0.0), Power::One);
        assert_eq!(Power::of(2.5), Power::Halves(5));
        assert_eq!(Power::of(0.25), Power::Exp(0.25));
        assert_eq!(Power::of(33.0), Power::Exp(33.0));
    }
}
