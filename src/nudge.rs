//! Nudging the focused number by whole steps (Alt+↑/↓, PgUp/PgDn, the
//! wheel), on the field's text: a step is an edit like typing, so a burst of
//! them is re-parsed and recomputed once. No UI types.
//!
//! Steps: γ 0.1, a scalar α 0.05, label smoothing 0.05, the target 1, the
//! logit at the cursor 0.1; the chart's γ list is not nudged. The result is
//! printed in decimal with no more decimals than the step or the number had
//! (2 → 2.1, never 2.1000000000000001), and kept in the field's valid range.

use crate::field::Field;
use crate::loss::Mode;

/// A nudge as an edit of the text: replace `removed` bytes at byte `at` with
/// `inserted`, then put the cursor at character `cursor`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nudged {
    pub at: usize,
    pub removed: usize,
    pub inserted: String,
    pub cursor: usize,
}

/// One step of a field: its size, its decimals, and the valid range.
struct Step {
    size: f64,
    decimals: usize,
    low: f64,
    high: f64,
}

/// `text` (the field's, the cursor at character `cursor`) moved `steps` steps,
/// or None when `field` is not nudged, its text is not one number of the
/// kind nudged, or the number cannot move (at a bound). `classes` is K when
/// known (the target's range); α's range depends on `mode`.
pub fn nudge(
    field: Field,
    text: &str,
    cursor: usize,
    steps: i32,
    classes: Option<usize>,
    mode: Mode,
) -> Option<Nudged> {
    let step = match field {
        Field::Gamma => Step { size: 0.1, decimals: 1, low: 0.0, high: f64::MAX },
        // Sigmoid mode weighs negatives 1 − α, so α stays in [0, 1] there.
        Field::Alpha => {
            // `-1` is torchvision's "no weighting", not a number to move.
            if text.trim_start().starts_with(['-', '\u{2212}']) {
                return None;
            }
            let high = if mode == Mode::Sigmoid { 1.0 } else { f64::MAX };
            Step { size: 0.05, decimals: 2, low: 0.0, high }
        }
        Field::Target => {
            // Only a single class index; other spellings are left as typed.
            let index = text.trim();
            if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Step { size: 1.0, decimals: 0, low: 0.0, high: classes?.checked_sub(1)? as f64 }
        }
        // Label smoothing ε stays in [0, 1).
        Field::Smoothing => Step { size: 0.05, decimals: 2, low: 0.0, high: 0.95 },
        Field::Logits => Step { size: 0.1, decimals: 1, low: f64::MIN, high: f64::MAX },
        Field::Gammas => return None,
    };
    let (at, end) = if field == Field::Logits { token_at(text, cursor)? } else { whole(text)? };
    let inserted = stepped(&text[at..end], steps, &step)?;
    // The cursor keeps its place in the number, at most its new end.
    let start = text[..at].chars().count();
    let offset = cursor.saturating_sub(start).min(inserted.chars().count());
    let cursor = if field == Field::Logits { start + offset } else { start + inserted.chars().count() };
    Some(Nudged { at, removed: end - at, inserted, cursor })
}

/// The byte range of the whole text, trimmed, when it is one token.
fn whole(text: &str) -> Option<(usize, usize)> {
    let start = text.len() - text.trim_start().len();
    let end = text.trim_end().len();
    (start < end && text[start..end].chars().all(|c| !is_delimiter(c))).then_some((start, end))
}

/// The byte range of the number the cursor (in characters) is in, or just
/// after (where it stands after typing it).
fn token_at(text: &str, cursor: usize) -> Option<(usize, usize)> {
    let byte = text.char_indices().nth(cursor).map_or(text.len(), |(i, _)| i);
    let start = text[..byte].char_indices().rev().find(|&(_, c)| is_delimiter(c)).map_or(0, |(i, c)| i + c.len_utf8());
    let end = text[byte..].find(is_delimiter).map_or(text.len(), |i| byte + i);
    (start < end).then_some((start, end))
}

/// What separates the numbers of a list (see `parse::logits`).
fn is_delimiter(c: char) -> bool {
    c == ',' || c == '[' || c == ']' || c.is_whitespace()
}

/// `token` (one number) moved `steps` steps and clamped, in decimal; None
/// when it is not a number or does not move.
fn stepped(token: &str, steps: i32, step: &Step) -> Option<String> {
    let value = match crate::parse::numbers(token).ok()?.as_slice() {
        [v] => *v,
        _ => return None,
    };
    let moved = (value + f64::from(steps) * step.size).clamp(step.low, step.high);
    // Round to the decimals shown, at most what an f64 holds beside the
    // integer part, so that the sum's binary noise never shows.
    let integer_digits = if moved.abs() >= 1.0 { moved.abs().log10().floor() as usize + 1 } else { 1 };
    let decimals = decimals(token).max(step.decimals).min(15usize.saturating_sub(integer_digits));
    let mut text = format!("{moved:.decimals$}");
    if text.contains('.') {
        text.truncate(text.trim_end_matches('0').trim_end_matches('.').len());
    }
    if text.parse::<f64>().ok()? == 0.0 {
        text = "0".to_string();
    }
    let rounded: f64 = text.parse().ok()?;
    (rounded != value).then_some(text)
}

/// The decimals a number is written with: `2.50` 2, `1e-3` 3, `2.5e1` 0.
fn decimals(token: &str) -> usize {
    let (mantissa, exponent) = match token.find(['e', 'E']) {
        Some(i) => (&token[..i], token[i + 1..].replace('\u{2212}', "-").parse::<i64>().unwrap_or(0)),
        None => (token, 0),
    };
    let fraction = mantissa.find('.').map_or(0, |i| mantissa.len() - i - 1) as i64;
    (fraction - exponent).clamp(0, 300) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nudged(field: Field, text: &str, cursor: usize, steps: i32) -> Option<String> {
        let n = nudge(field, text, cursor, steps, Some(3), Mode::Softmax)?;
        let mut out = text.to_string();
        out.replace_range(n.at..n.at + n.removed, &n.inserted);
        Some(out)
    }

    /// Decimal steps print as typed, whatever binary sums they are.
    #[test]
    fn steps_print_without_float_noise() {
        let g = |text: &str, steps| nudged(Field::Gamma, text, 0, steps);
        assert_eq!(g("2", 1).as_deref(), Some("2.1"));
        assert_eq!(g("2.1", 10).as_deref(), Some("3.1"));
        assert_eq!(g("0.1", 2).as_deref(), Some("0.3"));
        assert_eq!(g("0.7", 1).as_deref(), Some("0.8"));
        assert_eq!(g("2.25", 1).as_deref(), Some("2.35"));
        assert_eq!(g("1e-3", 1).as_deref(), Some("0.101"));
        assert_eq!(g(" 2 ", -1).as_deref(), Some(" 1.9 "));
        // Every γ from 0 to 10 in steps of 0.1 reads as one decimal.
        let mut text = "0".to_string();
        for i in 1..=100 {
            text = g(&text, 1).unwrap();
            let want = format!("{}", i as f64 / 10.0);
            assert_eq!(text, want);
        }
        for _ in 0..100 {
            text = g(&text, -1).unwrap();
        }
        assert_eq!(text, "0");
    }

    #[test]
    fn values_stay_in_their_range() {
        assert_eq!(nudged(Field::Gamma, "0.05", 0, -1).as_deref(), Some("0"));
        assert_eq!(nudged(Field::Gamma, "0", 0, -1), None);
        assert_eq!(nudged(Field::Alpha, "0.25", 0, 1).as_deref(), Some("0.3"));
        assert_eq!(nudged(Field::Alpha, "0.25", 0, -10).as_deref(), Some("0"));
        let sigmoid = |text: &str, steps| nudge(Field::Alpha, text, 0, steps, Some(3), Mode::Sigmoid);
        assert_eq!(sigmoid("0.98", 1).map(|n| n.inserted).as_deref(), Some("1"));
        assert_eq!(sigmoid("1", 1), None);
        assert_eq!(nudged(Field::Alpha, "0.98", 0, 1).as_deref(), Some("1.03"));
        // Target: one class index, within 0..K−1 (K = 3 here).
        assert_eq!(nudged(Field::Target, "1", 0, 1).as_deref(), Some("2"));
        assert_eq!(nudged(Field::Target, "1", 0, 10).as_deref(), Some("2"));
        assert_eq!(nudged(Field::Target, "1", 0, -10).as_deref(), Some("0"));
        assert_eq!(nudged(Field::Target, "2", 0, 1), None);
        assert_eq!(nudge(Field::Target, "1", 0, 1, None, Mode::Softmax), None);
    }

    /// What is not one number of the kind nudged is left as typed.
    #[test]
    fn other_texts_are_left_alone() {
        for (field, text) in [
            (Field::Target, "none"),
            (Field::Target, "0, 2"),
            (Field::Target, "0.5"),
            (Field::Target, ""),
            (Field::Alpha, "0.25, 0.75, 1"),
            (Field::Gamma, "x"),
            (Field::Gamma, ""),
            (Field::Gammas, "0, 0.5, 1, 2, 5"),
            (Field::Logits, "1, , 2"),
        ] {
            assert_eq!(nudged(field, text, 3, 1), None, "{field:?} {text:?}");
        }
    }

    /// The logit the cursor is in, or just after, moves; the cursor keeps its place.
    #[test]
    fn the_logit_at_the_cursor_moves() {
        let text = "1.5, -0.8, 0.2";
        assert_eq!(nudged(Field::Logits, text, 14, 1).as_deref(), Some("1.5, -0.8, 0.3"));
        assert_eq!(nudged(Field::Logits, text, 5, 1).as_deref(), Some("1.5, -0.7, 0.2"));
        assert_eq!(nudged(Field::Logits, text, 3, -10).as_deref(), Some("0.5, -0.8, 0.2"));
        assert_eq!(nudged(Field::Logits, text, 7, 8).as_deref(), Some("1.5, 0, 0.2"));
        assert_eq!(nudged(Field::Logits, "[1 −2]", 4, 1).as_deref(), Some("[1 -1.9]"));
        let n = nudge(Field::Logits, text, 7, 8, None, Mode::Softmax).unwrap();
        assert_eq!((n.at, n.removed, n.inserted.as_str(), n.cursor), (5, 4, "0", 6));
        // Between two delimiters there is no number.
        assert_eq!(nudged(Field::Logits, "1,  2", 3, 1), None);
    }
}
