//! Field text → typed value, or an error that names the bad token and where
//! it stands. Shared by the command line and the explorer, so both speak the
//! same messages. Never panics, whatever the string (see the property test in
//! `tests/parse.rs`).

mod incremental;

use std::fmt;

use crate::loss::{Alpha, Mode, Target};
pub use incremental::{LogitList, TextEdit, logits_reusing, logits_update};

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

/// A number as it appeared in the text: its slice and byte offset.
struct Token<'a> {
    text: &'a str,
    start: usize,
}

impl Token<'_> {
    /// 1-based character column in `full` (counted only for error messages,
    /// so that long lists stay linear to parse).
    fn column(&self, full: &str) -> usize {
        column(full, self.start)
    }
}

/// Logits: numbers separated by commas and/or white space, optionally inside
/// one pair of `[ ]` (as Python and NumPy print them). A trailing comma is
/// allowed; an empty value between commas is not.
pub fn logits(text: &str) -> Result<Vec<f64>, FieldError> {
    logits_reusing(text, None).map(|list| list.values)
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
            Some(extra) => {
                let column = extra.column(text);
                FieldError::at(
                    column,
                    format!("`{}` at column {column}: the target is one class ({range})", extra.text),
                )
            }
        });
    };
    let Ok(t) = token.text.parse::<usize>() else {
        return Err(FieldError::at(
            token.column(text),
            format!("`{}` is not a class index: type a whole number in {range}", token.text),
        ));
    };
    match k {
        Some(k) if t >= k => Err(FieldError::at(
            token.column(text),
            format!(
                "class {t} does not exist: {k} logit{} give{} classes {range}",
                plural(k),
                if k == 1 { "s" } else { "" }
            ),
        )),
        _ => Ok(t),
    }
}

/// Any target (the explorer's Target field, `calc --target`):
/// - `1`: one class (as [`target`]);
/// - `none`: background, no positive class (sigmoid mode);
/// - `1, 3`: several positive classes, distinct (sigmoid mode);
/// - `p: 0.1, 0.7, 0.2`: one target probability per class (see [`target_probs`]).
pub fn targets(text: &str, k: Option<usize>, mode: Mode) -> Result<Target, FieldError> {
    let trimmed = text.trim_start();
    if let Some(rest) = trimmed.strip_prefix("p:").or_else(|| trimmed.strip_prefix("P:")) {
        // Blanked rather than cut, so that columns count from the field's start.
        let blanked = format!("{}{rest}", " ".repeat(text.len() - rest.len()));
        return target_probs(&blanked, k, mode);
    }
    if trimmed.trim_end().eq_ignore_ascii_case("none") {
        return match mode {
            Mode::Sigmoid => Ok(Target::Background),
            Mode::Softmax => Err(FieldError::whole(
                "`none` (background) is for sigmoid mode: a softmax target is one class or p: probabilities",
            )),
        };
    }
    let tokens = tokens(text)?;
    if tokens.len() < 2 {
        return target(text, k).map(Target::Class);
    }
    if mode == Mode::Softmax {
        return Err(FieldError::whole(format!(
            "`{}` lists {} classes: several positives are multi-label, sigmoid mode only (softmax: one class, or p: probabilities)",
            text.trim(),
            tokens.len()
        )));
    }
    let range = k.map_or("0, 1, 2, …".to_string(), |k| format!("0..{}", k.saturating_sub(1)));
    let mut classes = Vec::with_capacity(tokens.len());
    for token in &tokens {
        let column = token.column(text);
        let why = match token.text.parse::<usize>() {
            Err(_) => "is not a class index",
            Ok(t) if k.is_some_and(|k| t >= k) => "is out of range",
            Ok(t) if classes.contains(&t) => "is listed twice",
            Ok(t) => {
                classes.push(t);
                continue;
            }
        };
        return Err(FieldError::at(
            column,
            format!("`{}` at column {column} {why}: list distinct classes in {range}", token.text),
        ));
    }
    Ok(Target::Classes(classes))
}

/// How far from 1 a softmax target distribution may sum (it is used as given).
pub const PROBS_SUM_TOLERANCE: f64 = 1e-6;

/// Target probabilities: one number in [0, 1] per class (`k`, when known);
/// in softmax mode they must sum to 1 within [`PROBS_SUM_TOLERANCE`].
pub fn target_probs(text: &str, k: Option<usize>, mode: Mode) -> Result<Target, FieldError> {
    let tokens = tokens(text)?;
    let mut values = Vec::with_capacity(tokens.len());
    for token in &tokens {
        let y = number(text, token)?;
        if !(0.0..=1.0).contains(&y) {
            let column = token.column(text);
            return Err(FieldError::at(
                column,
                format!("`{}` at column {column}: a target probability is in [0, 1]", token.text),
            ));
        }
        values.push(y + 0.0);
    }
    match k {
        _ if values.is_empty() => {
            return Err(FieldError::whole("no target probabilities: type one per class, e.g. 0.1, 0.7, 0.2"));
        }
        Some(k) if values.len() != k => {
            return Err(FieldError::whole(format!(
                "{k} logit{} need {k} target probabilities, got {}",
                plural(k),
                values.len()
            )));
        }
        _ => {}
    }
    if mode == Mode::Softmax {
        let sum = crate::loss::sum::compensated(&[&values]);
        if (sum - 1.0).abs() > PROBS_SUM_TOLERANCE {
            return Err(FieldError::whole(format!(
                "target probabilities sum to {sum}: a softmax target is a distribution (sum 1 within 1e-6)"
            )));
        }
    }
    Ok(Target::Probs(values))
}

/// Label smoothing ε: one number in [0, 1).
pub fn smoothing(text: &str) -> Result<f64, FieldError> {
    let values = numbers(text)?;
    match values.as_slice() {
        [] => Err(FieldError::whole("no label smoothing: type a number in [0, 1), e.g. 0.1 (0: none)")),
        [e] if !(0.0..1.0).contains(e) => {
            Err(FieldError::whole(format!("ε = {e} is outside [0, 1): label smoothing is in [0, 1)")))
        }
        [e] => Ok(*e + 0.0),
        _ => Err(FieldError::whole(format!("label smoothing is one number, got {}", values.len()))),
    }
}

/// α as [`alpha`] takes it, or `none` (also torchvision's `-1`): no class
/// weighting, α_t = 1.
pub fn weights(text: &str, k: Option<usize>, mode: Mode) -> Result<Option<Alpha>, FieldError> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("none") || numbers(t).is_ok_and(|v| v == [-1.0]) {
        return Ok(None);
    }
    alpha(text, k, mode).map(Some)
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

/// Most γ values a list may hold: each is a curve of the chart and, in
/// `data` and the dataset view, a pass of the sweep with its own histograms
/// (memory and re-sweep time grow with the list).
pub const MAX_GAMMAS: usize = 32;

/// The γ values compared in the chart and swept by `data`: 1 to
/// [`MAX_GAMMAS`] finite numbers ≥ 0.
pub fn gammas(text: &str) -> Result<Vec<f64>, FieldError> {
    let values = numbers(text)?;
    if values.is_empty() {
        return Err(FieldError::whole("no γ values: type a list such as 0, 0.5, 1, 2, 5"));
    }
    if values.len() > MAX_GAMMAS {
        return Err(FieldError::whole(format!("{} γ values: at most {MAX_GAMMAS} can be compared", values.len())));
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
    tokens(text)?.iter().map(|t| number(text, t)).collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Splits on commas and white space, checking the brackets and commas.
fn tokens(text: &str) -> Result<Vec<Token<'_>>, FieldError> {
    let (start, end) = content(text)?;
    tokens_in(text, start, end, false)
}

/// The byte range of the list: inside the optional `[ ]`, or the whole
/// text (white space around an unbracketed list is just delimiters).
fn content(text: &str) -> Result<(usize, usize), FieldError> {
    let start = text.len() - text.trim_start().len();
    let end = text.trim_end().len();
    let b = text.as_bytes();
    if start < end && b[start] == b'[' {
        if b[end - 1] != b']' || end - start < 2 {
            let c = column(text, start);
            return Err(FieldError::at(c, format!("`[` at column {c} is never closed by `]`")));
        }
        return Ok((start + 1, end - 1));
    }
    Ok((0, text.len()))
}

/// 1-based character column of byte `byte` (counted only for messages).
fn column(text: &str, byte: usize) -> usize {
    text[..byte].chars().count() + 1
}

/// The numbers in `text[from..to]`, checking the commas; `after_value` says
/// a number stands right before `from`. Works on bytes (every delimiter is
/// ASCII, or Unicode white space) and allocates nothing per token.
fn tokens_in(text: &str, from: usize, to: usize, after_value: bool) -> Result<Vec<Token<'_>>, FieldError> {
    let b = text.as_bytes();
    // The white space starting at byte `i`, if any, and its length.
    let space_at = |i: usize| -> Option<usize> {
        if b[i].is_ascii() {
            b[i].is_ascii_whitespace().then_some(1)
        } else {
            let c = text[i..].chars().next().expect("i is a char boundary");
            c.is_whitespace().then(|| c.len_utf8())
        }
    };
    let mut out = Vec::new();
    let mut value_since_comma = after_value;
    let mut i = from;
    while i < to {
        if let Some(len) = space_at(i) {
            i += len;
        } else if b[i] == b',' {
            if !value_since_comma {
                let what = if out.is_empty() && !after_value { "nothing before" } else { "empty value before" };
                let c = column(text, i);
                return Err(FieldError::at(c, format!("{what} `,` at column {c}")));
            }
            value_since_comma = false;
            i += 1;
        } else if b[i] == b'[' || b[i] == b']' {
            let c = column(text, i);
            let bracket = b[i] as char;
            return Err(FieldError::at(
                c,
                format!("unexpected `{bracket}` at column {c}: only one pair of [ ] around the whole list"),
            ));
        } else {
            let begin = i;
            while i < to && !matches!(b[i], b',' | b'[' | b']') && space_at(i).is_none() {
                i += if b[i].is_ascii() { 1 } else { text[i..].chars().next().map_or(1, char::len_utf8) };
            }
            out.push(Token { text: &text[begin..i], start: begin });
            value_since_comma = true;
        }
    }
    Ok(out)
}

/// One token → a finite f64. Accepts `1`, `-2.5`, `+3`, `3.`, `.5`, `1e-3`,
/// `-2E+1`, and the Unicode minus `−` that papers and web pages use.
fn number(full: &str, token: &Token) -> Result<f64, FieldError> {
    let replaced;
    let ascii = if token.text.contains('\u{2212}') {
        replaced = token.text.replace('\u{2212}', "-");
        replaced.as_str()
    } else {
        token.text
    };
    if !is_decimal(ascii) {
        let bare = ascii.trim_start_matches(['+', '-']).to_ascii_lowercase();
        let why = if matches!(bare.as_str(), "nan" | "inf" | "infinity") {
            "is not a finite number"
        } else {
            "is not a number"
        };
        let col = token.column(full);
        return Err(FieldError::at(col, format!("`{}` at column {col} {why}", token.text)));
    }
    match ascii.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => {
            let col = token.column(full);
            Err(FieldError::at(col, format!("`{}` at column {col} overflows: |x| must be ≤ 1.8e308", token.text)))
        }
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
