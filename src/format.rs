//! Numbers for people: a fixed number of significant digits, fixed notation
//! where that reads well and scientific elsewhere. Shared by `calc` and the
//! explorer so both show the same digits. Total: every `f64` and every
//! quotient of two finite values has a text, none panics.

use std::fmt::Write as _;

/// `x` to `digits` significant digits (at least 1): fixed notation for
/// 1e-4 ≤ |x| < 1e6, scientific (`2.535361e-5`) otherwise, trailing zeros
/// trimmed. `f64::MAX` (a saturated value) prints as `1.797693e308`; the
/// non-finite values, which no result holds, as `inf`, `-inf` and `NaN`.
pub fn sig(x: f64, digits: usize) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    if !x.is_finite() {
        return format!("{x}");
    }
    decimal(x.is_sign_negative(), x.abs(), 0, digits)
}

/// `a / b` to `digits` significant digits, as [`sig`] prints it, also where
/// the quotient leaves the range of `f64` (a loss of 1e-310 is 1e310 times
/// below a CE of 1); `None` when `b` is 0 or either is not finite.
///
/// Accuracy: beyond `f64`'s range the decimal exponent comes from
/// log10(a/b) = log10 of the mantissas' quotient + n·log10 2 with n the
/// binary exponents' difference; its error, below 1e-12 relative in the
/// printed mantissa, can only move a value within that of a rounding
/// boundary to the other side.
pub fn ratio(a: f64, b: f64, digits: usize) -> Option<String> {
    if b == 0.0 || !a.is_finite() || !b.is_finite() {
        return None;
    }
    let q = a / b;
    if q == 0.0 && a != 0.0 || q.is_infinite() || (q != 0.0 && !q.is_normal()) {
        let (ma, ea) = frexp(a.abs());
        let (mb, eb) = frexp(b.abs());
        // n·log10 2 in two parts: LOG10_2_HI has 30 significant bits, so
        // n·LOG10_2_HI is exact for the |n| < 2^12 of two finite values.
        const LOG10_2_HI: f64 = 0.301_029_995_549_470_2;
        const LOG10_2_LO: f64 = 1.145_110_089_802_183_8e-10;
        let n = f64::from(ea - eb);
        let whole = (ma / mb).log10() + n * LOG10_2_HI + n * LOG10_2_LO;
        let e = whole.floor();
        let mantissa = 10f64.powf(whole - e);
        return Some(decimal((a < 0.0) != (b < 0.0), mantissa, e as i32, digits));
    }
    Some(sig(q, digits))
}

/// `m · 2^e` with `m` in [0.5, 1), for a finite positive `x` (subnormals too).
fn frexp(x: f64) -> (f64, i32) {
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7FF) as i32;
    if exp == 0 {
        let (m, e) = frexp(x * 2f64.powi(64));
        return (m, e - 64);
    }
    (f64::from_bits((bits & !(0x7FF << 52)) | (1022 << 52)), exp - 1022)
}

/// `x · 10^shift` (x > 0 and finite) to `digits` significant digits.
fn decimal(negative: bool, x: f64, shift: i32, digits: usize) -> String {
    // One correctly rounded conversion; fixed notation is built from the
    // same digits (rounding first also fixes the exponent: 9.9999996 → 10),
    // straight into the result: a frame formats hundreds of numbers.
    // Sized up front: format! would start empty and grow as it writes.
    let mut sci = String::with_capacity(32);
    let _ = write!(sci, "{:.*e}", digits.max(1) - 1, x);
    // A finite f64's `{:e}` is `d[.ddd]e[-]n`.
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp = exp.parse::<i32>().unwrap_or(0) + shift;
    // The digits are `first` then `rest` (the mantissa without its point);
    // only `rest` can end in zeros, and the first `kept` digits are the rest.
    let (first, rest) = (&mantissa[..1], mantissa.get(2..).unwrap_or(""));
    let kept = 1 + rest.trim_end_matches('0').len();
    let digit = |i: usize| if i == 0 { first } else { &rest[i - 1..i] };
    let mut out = String::with_capacity(sci.len() + 8);
    if negative {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(first);
        if kept > 1 {
            out.push('.');
            out.push_str(&rest[..kept - 1]);
        }
        let _ = write!(out, "e{exp}");
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

/// A text table of right-aligned columns, two spaces apart and two spaces
/// in, as the text reports print them. Cells are kept in one string, not a
/// `String` each: `data` has a row per class, and there may be a million.
#[derive(Default)]
pub struct Table {
    text: String,
    /// Where each cell ends in `text`, row after row.
    ends: Vec<usize>,
    /// The widest cell of each column, in characters.
    widths: Vec<usize>,
    columns: usize,
}

impl Table {
    /// A table whose first row is `header`; every row has as many cells.
    pub fn new<S: AsRef<str>>(header: impl IntoIterator<Item = S>) -> Self {
        let mut table = Table::default();
        for cell in header {
            table.cell(cell.as_ref());
        }
        table.columns = table.ends.len();
        table
    }

    /// The next cell, row after row.
    pub fn cell(&mut self, value: impl std::fmt::Display) -> &mut Self {
        let start = self.text.len();
        let _ = write!(self.text, "{value}");
        let column = if self.columns == 0 { self.ends.len() } else { self.ends.len() % self.columns };
        let width = self.text[start..].chars().count();
        if column == self.widths.len() {
            self.widths.push(width);
        }
        self.widths[column] = self.widths[column].max(width);
        self.ends.push(self.text.len());
        self
    }

    /// Appends the table to `out`, a line per row.
    pub fn write_to(&self, out: &mut String) {
        let mut start = 0;
        for row in self.ends.chunks(self.columns.max(1)) {
            out.push_str("  ");
            for (i, (&end, &w)) in row.iter().zip(&self.widths).enumerate() {
                if i > 0 {
                    out.push_str("  ");
                }
                let _ = write!(out, "{:>w$}", &self.text[start..end]);
                start = end;
            }
            out.push('\n');
        }
    }
}

/// `n` things, in the singular for one: `1 row`, `2 rows`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// A fraction as a percentage to 3 significant digits: `0.25` → `25%`.
pub fn pct(x: f64) -> String {
    format!("{}%", sig(100.0 * x, 3))
}

/// How many times smaller FL is than CE, as the paper frames it
/// ("γ = 2, p_t = 0.9 gives 100×"): `None` when FL is not below CE or is 0.
pub fn times_below(fl: f64, ce: f64) -> Option<String> {
    (fl > 0.0 && fl < ce).then(|| ratio(ce, fl, 4)).flatten().map(|x| format!("{x}×"))
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
        let mut next = crate::simd::math::tests::xorshift(0x9E37_79B9_7F4A_7C15);
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
        assert_eq!(times_below(1e-310, 1.0).as_deref(), Some("1e310×"));
    }

    #[test]
    fn counts_agree_in_number() {
        assert_eq!(
            [count(0, "row", "rows"), count(1, "row", "rows"), count(1, "class", "classes")],
            ["0 rows", "1 row", "1 class"]
        );
    }

    #[test]
    fn tables_align_right_by_characters() {
        let mut t = Table::new(["γ", "mean FL"]);
        t.cell(0.5).cell("–").cell(12).cell("0.25");
        let mut out = String::new();
        t.write_to(&mut out);
        assert_eq!(out, "    γ  mean FL\n  0.5        –\n   12     0.25\n");
    }

    /// Non-finite values have a text (no result holds one; the formatter
    /// is total all the same).
    #[test]
    fn every_value_has_a_text() {
        assert_eq!(sig(f64::INFINITY, 7), "inf");
        assert_eq!(sig(f64::NEG_INFINITY, 3), "-inf");
        assert_eq!(sig(f64::NAN, 4), "NaN");
        assert_eq!(sig(5e-324, 7), "4.940656e-324");
    }

    /// Quotients past f64's range, against mpmath (60 digits): `nstr(a/b, 7)`.
    #[test]
    fn ratios_beyond_f64() {
        let cases = [
            (1.0, 1e-310, "1e310"),
            (std::f64::consts::LN_2, 5e-324, "1.402946e323"),
            (f64::MAX, 5e-324, "3.638571e631"),
            (5e-324, f64::MAX, "2.748331e-632"),
            (-3.0, f64::MIN_POSITIVE / 2.0, "-2.69654e308"),
            (1e-300, 1e300, "1e-600"),
            (2.5e-320, 7.0, "3.571389e-321"),
        ];
        for (a, b, want) in cases {
            assert_eq!(ratio(a, b, 7).as_deref(), Some(want), "{a:e} / {b:e}");
        }
        assert_eq!(ratio(1.0, 0.0, 4), None);
        assert_eq!(ratio(f64::NAN, 1.0, 4), None);
    }

    /// Inside f64's normal range a ratio is the quotient as [`sig`] prints it.
    #[test]
    fn ratios_in_range_are_the_quotient() {
        let mut next = crate::simd::math::tests::xorshift(0x2545_F491_4F6C_DD1D);
        for _ in 0..20_000 {
            let (a, b) = (f64::from_bits(next() >> 2), f64::from_bits(next() >> 2));
            if a.is_finite() && b.is_finite() && b != 0.0 && (a / b).is_normal() {
                assert_eq!(ratio(a, b, 5), Some(sig(a / b, 5)), "{a:e} / {b:e}");
            }
        }
    }
}
