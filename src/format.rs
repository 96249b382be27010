//! Numbers for people: a fixed number of significant digits, fixed notation
//! where that reads well and scientific elsewhere. Shared by `calc` and the
//! explorer so both show the same digits.

/// `x` to `digits` significant digits (at least 1): fixed notation for
/// 1e-4 ≤ |x| < 1e6, scientific (`2.535361e-5`) otherwise, trailing zeros
/// trimmed. `f64::MAX` (a saturated value) prints as `1.797693e308`.
pub fn sig(x: f64, digits: usize) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    // One correctly rounded conversion; fixed notation is built from the
    // same digits (rounding first also fixes the exponent: 9.9999996 → 10).
    let sci = format!("{:.*e}", digits.max(1) - 1, x);
    let (mantissa, exp) = sci.split_once('e').expect("{:e} always has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let sign = if x < 0.0 { "-" } else { "" };
    let ds: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if !(-4..6).contains(&exp) {
        let (first, rest) = ds.split_at(1);
        let rest = rest.trim_end_matches('0');
        return if rest.is_empty() { format!("{sign}{first}e{exp}") } else { format!("{sign}{first}.{rest}e{exp}") };
    }
    let (int, frac) = if exp >= 0 {
        let point = exp as usize + 1;
        if ds.len() <= point {
            (format!("{ds}{}", "0".repeat(point - ds.len())), String::new())
        } else {
            (ds[..point].to_string(), ds[point..].to_string())
        }
    } else {
        ("0".to_string(), format!("{}{ds}", "0".repeat((-exp - 1) as usize)))
    };
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") }
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

    #[test]
    fn paper_framing() {
        assert_eq!(times_below(0.01, 1.0).as_deref(), Some("100×"));
        assert_eq!(times_below(0.0, 1.0), None);
    }
}
