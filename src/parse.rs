//! Field text → typed value, or an error that names the bad token and where
//! it stands. Shared by the command line and the explorer, so both speak the
//! same messages. Never panics, whatever the string (see the property test in
//! `tests/parse.rs`).

use std::fmt;

use crate::loss::{Alpha, Mode};

/// What is wrong with a field's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// 1-based character column of the offending token, when there is one.
    pub column: Option<usize>,
    pub message: String,
}

impl FieldError {
    fn at(column: usize, message: String) -> Self {
        FieldError { column: Some(column), message }
    }
    fn whole(message: impl Into<String>) -> Self {
        FieldError { column: None, message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FieldError {}

/// A number as it appeared in the text.
struct Token {
    text: String,
    column: usize,
}

/// Logits: numbers separated by commas and/or white space, optionally inside
/// one pair of `[ ]` (as Python and NumPy print them). A trailing comma is
/// allowed; an empty value between commas is not.
pub fn logits(text: &str) -> Result<Vec<f64>, FieldError> {
    let values = numbers(text)?;
    if values.is_empty() {
        return Err(FieldError::whole("no logits: type at least one number, e.g. 1.5, -0.8, 0.2"));
    }
    Ok(values)
}

/// Target class: a whole number in `0..k` (`k` = number of logits, when known).
pub fn target(text: &str, k: Option<usize>) -> Result<usize, FieldError> {
    let range = match k {
        Some(k) => format!("0..{}", k.saturating_sub(1)),
        None => "0, 1, 2, …".to_string(),
    };
    let tokens = tokens(text)?;
    let [token] = tokens.as_slice() else {
        return Err(match tokens.get(1) {
            None => FieldError::whole(format!("no target class: type one of {range}")),
            Some(extra) => FieldError::at(
                extra.column,
                format!("`{}` at column {}: the target is one class ({range})", extra.text, extra.column),
            ),
        });
    };
    let Ok(t) = token.text.parse::<usize>() else {
        return Err(FieldError::at(
            token.column,
            format!("`{}` is not a class index: type a whole number in {range}", token.text),
        ));
    };
    match k {
        Some(k) if t >= k => Err(FieldError::at(
            token.column,
            format!(
                "class {t} does not exist: {k} logit{} give{} classes {range}",
                plural(k),
                if k == 1 { "s" } else { "" }
            ),
        )),
        _ => Ok(t),
    }
}

/// γ: one finite number ≥ 0.
pub fn gamma(text: &str) -> Result<f64, FieldError> {
    let values = numbers(text)?;
    match values.as_slice() {
        [] => Err(FieldError::whole("no γ: type a number ≥ 0, e.g. 2")),
        [g] if *g < 0.0 => Err(FieldError::whole(format!("γ = {g} is negative: γ must be ≥ 0"))),
        [g] => Ok(*g + 0.0),
        _ => Err(FieldError::whole(format!("γ is one number, got {}", values.len()))),
    }
}

/// The γ values compared in the chart: one or more finite numbers ≥ 0.
pub fn gammas(text: &str) -> Result<Vec<f64>, FieldError> {
    let values = numbers(text)?;
    if values.is_empty() {
        return Err(FieldError::whole("no γ values: type a list such as 0, 0.5, 1, 2, 5"));
    }
    if let Some(g) = values.iter().find(|g| **g < 0.0) {
        return Err(FieldError::whole(format!("γ = {g} is negative: every γ must be ≥ 0")));
    }
    Ok(values)
}

/// α: one finite number ≥ 0, or exactly `k` of them (one per class). In
/// sigmoid mode negatives are weighted 1 − α, so every α must also be ≤ 1.
pub fn alpha(text: &str, k: Option<usize>, mode: Mode) -> Result<Alpha, FieldError> {
    let values = numbers(text)?;
    if let Some(a) = values.iter().find(|a| **a < 0.0) {
        return Err(FieldError::whole(format!("α = {a} is negative: α must be ≥ 0")));
    }
    if mode == Mode::Sigmoid
        && let Some(a) = values.iter().find(|a| **a > 1.0)
    {
        return Err(FieldError::whole(format!(
            "α = {a} is above 1: in sigmoid mode negatives get 1 − α, so α must be in [0, 1]"
        )));
    }
    match (values.len(), k) {
        (0, _) => Err(FieldError::whole("no α: type a number such as 0.25, or one per class")),
        (1, _) => Ok(Alpha::Scalar(values[0] + 0.0)),
        (n, Some(k)) if n == k => Ok(Alpha::PerClass(values)),
        (n, Some(k)) => {
            Err(FieldError::whole(format!("{k} logit{} need 1 α or {k} (one per class), got {n}", plural(k))))
        }
        (_, None) => Ok(Alpha::PerClass(values)),
    }
}

/// A list of finite numbers (see [`logits`] for the syntax); may be empty.
pub fn numbers(text: &str) -> Result<Vec<f64>, FieldError> {
    tokens(text)?.into_iter().map(number).collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Splits on commas and white space, checking the brackets and commas.
fn tokens(text: &str) -> Result<Vec<Token>, FieldError> {
    let chars: Vec<char> = text.chars().collect();
    let mut start = 0;
    let mut end = chars.len();
    while start < end && chars[start].is_whitespace() {
        start += 1;
    }
    while end > start && chars[end - 1].is_whitespace() {
        end -= 1;
    }
    if start < end && chars[start] == '[' {
        if chars[end - 1] != ']' || end - start < 2 {
            return Err(FieldError::at(start + 1, format!("`[` at column {} is never closed by `]`", start + 1)));
        }
        start += 1;
        end -= 1;
    }

    let mut out = Vec::new();
    let mut value_since_comma = false;
    let mut i = start;
    while i < end {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == ',' {
            if !value_since_comma {
                let what = if out.is_empty() { "nothing before" } else { "empty value before" };
                return Err(FieldError::at(i + 1, format!("{what} `,` at column {}", i + 1)));
            }
            value_since_comma = false;
            i += 1;
        } else if c == '[' || c == ']' {
            return Err(FieldError::at(
                i + 1,
                format!("unexpected `{c}` at column {}: only one pair of [ ] around the whole list", i + 1),
            ));
        } else {
            let begin = i;
            while i < end && !chars[i].is_whitespace() && !matches!(chars[i], ',' | '[' | ']') {
                i += 1;
            }
            out.push(Token { text: chars[begin..i].iter().collect(), column: begin + 1 });
            value_since_comma = true;
        }
    }
    Ok(out)
}

/// One token → a finite f64. Accepts `1`, `-2.5`, `+3`, `3.`, `.5`, `1e-3`,
/// `-2E+1`, and the Unicode minus `−` that papers and web pages use.
fn number(token: Token) -> Result<f64, FieldError> {
    let ascii: String = token.text.chars().map(|c| if c == '\u{2212}' { '-' } else { c }).collect();
    let col = token.column;
    if !is_decimal(&ascii) {
        let bare = ascii.trim_start_matches(['+', '-']).to_ascii_lowercase();
        let why = if matches!(bare.as_str(), "nan" | "inf" | "infinity") {
            "is not a finite number"
        } else {
            "is not a number"
        };
        return Err(FieldError::at(col, format!("`{}` at column {col} {why}", token.text)));
    }
    match ascii.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(FieldError::at(col, format!("`{}` at column {col} overflows: |x| must be ≤ 1.8e308", token.text))),
    }
}

/// `[+-]? (d+ (. d*)? | . d+) ([eE] [+-]? d+)?`
fn is_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let from = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - from
    };
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let mut mantissa = digits(&mut i);
    if i < b.len() && b[i] == b'.' {
        i += 1;
        mantissa += digits(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}
