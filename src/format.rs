//! Numbers for people: a fixed number of significant digits, fixed notation
//! where that reads well and scientific elsewhere. Shared by `calc` and the
//! explorer so both show the same digits.

/// `x` to `digits` significant digits (at least 1): fixed notation for
/// 1e-4 ≤ |x| < 1e6, scientific (`2.535361e-5`) otherwise, trailing zeros
/// trimmed. `f64::MAX` (a saturated value) prints as `1.797693e308`.
pub fn sig(x: f64, digits: usize) -> String {
    use std::fmt::Write as _;
    if x == 0.0 {
        return "0".to_string();
    }
    // One correctly rounded conversion; fixed notation is built from the
    // same digits (rounding first also fixes the exponent: 9.9999996 → 10),
    // straight into the result: a frame formats hundreds of numbers.
    // Sized up front: format! would start empty and grow as it writes.
    let mut sci = String::with_capacity(32);
    write!(sci, "{:.*e}", digits.max(1) - 1, x.abs()).expect("a String takes any write");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} always has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    // The digits are `first` then `rest` (the mantissa without its point);
    // only `rest` can end in zeros, and the first `kept` digits are the rest.
    let (first, rest) = (&mantissa[..1], mantissa.get(2..).unwrap_or(""));
    let kept = 1 + rest.trim_end_matches('0').len();
    let digit = |i: usize| if i == 0 { first } else { &rest[i - 1..i] };
    let mut out = String::with_capacity(sci.len() + 8);
    if x < 0.0 {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(first);
        if kept > 1 {
            out.push('.');
            out.push_str(&rest[..kept - 1]);
        }
        write!(out, "e{exp}").expect("a String takes any write");
    } else if exp >= 0 {
        // The integer part is the first exp + 1 digits, padded with zeros.
        let point = exp as usize + 1;
        (0..point).for_each(|i| out.push_str(if i <= rest.len() { digit(i) } else { "0" }));
        if kept > point {
            out.push('.');
            (point..kept).for_each(|i| out.push_str(digit(i)));
        }
    } else {
        out.push_str("0.");
        (1..-exp).for_each(|_| out.push('0'));
        (0..kept).for_each(|i| out.push_str(digit(i)));
    }
    out
}

/// How many times smaller FL is than CE, as the paper frames it
/// ("γ = 2, p_t = 0.9 gives 100×"): `None` when FL is not below CE or is 0.
pub fn times_below(fl: f64, ce: f64) -> Option<String> {
    (fl > 0.0 && fl < ce).then(|| format!("{}×", sig(ce / fl, 4)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_notation_and_trims() {
        assert_eq!(sig(2.535361126472416e-5, 7), "2.535361e-5");
        assert_eq!(sig(0.25, 7), "0.25");
        assert_eq!(sig(-1.0, 7), "-1");
        assert_eq!(sig(1000.0, 7), "1000");
        assert_eq!(sig(9.99999996, 7), "10");
        assert_eq!(sig(1234567.0, 7), "1.234567e6");
        assert_eq!(sig(f64::MAX, 7), "1.797693e308");
        assert_eq!(sig(0.0001, 3), "0.0001");
        assert_eq!(sig(-0.000123456789, 4), "-0.0001235");
        assert_eq!(sig(123456.7, 7), "123456.7");
        assert_eq!(sig(99999.99, 3), "100000");
        assert_eq!(sig(-2.5e-300, 7), "-2.5e-300");
        assert_eq!(sig(0.5, 1), "0.5");
    }

    /// Over values of every magnitude: the text reads back as the value
    /// rounded to `digits` significant digits, in the notation its exponent
    /// calls for, with no trailing zero after a point.
    #[test]
    fn reads_back_as_the_rounded_value() {
        let mut next = crate::vmath::tests::xorshift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let state = next();
            // Any bits half the time, else 1e-6..1e8 (both notations).
            let sign = if state & 1 == 0 { 1.0 } else { -1.0 };
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let x = sign * if state & 2 == 0 { f64::from_bits(state >> 1) } else { 10f64.powf(14.0 * u - 6.0) };
            if !x.is_finite() || x == 0.0 {
                continue;
            }
            for digits in [1, 3, 4, 7, 17] {
                let got = sig(x, digits);
                let rounded = format!("{:.*e}", digits - 1, x);
                assert_eq!(got.parse::<f64>().unwrap(), rounded.parse::<f64>().unwrap(), "{x:e} {digits}: {got}");
                let exp: i32 = rounded.split_once('e').unwrap().1.parse().unwrap();
                assert_eq!(got.contains('e'), !(-4..6).contains(&exp), "{x:e} {digits}: {got}");
                let mantissa = got.split('e').next().unwrap();
                assert!(!(mantissa.contains('.') && mantissa.ends_with('0')), "{x:e} {digits}: {got}");
            }
        }
    }

    #[test]
    fn paper_framing() {
        assert_eq!(times_below(0.01, 1.0).as_deref(), Some("100×"));
        assert_eq!(times_below(0.0, 1.0), None);
    }
}
