//! One line's values: the separator, detected once, and the values it
//! separates.

/// How the values of a line are separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Separator {
    Comma,
    Tab,
    Space,
}

impl Separator {
    pub(super) fn detect(line: &str) -> Separator {
        if line.contains('\t') {
            Separator::Tab
        } else if line.contains(',') {
            Separator::Comma
        } else {
            Separator::Space
        }
    }

    pub(super) fn fields(self, line: &str) -> Fields<'_> {
        Fields { rest: Some(line), sep: self }
    }
}

/// The values of one line, trimmed (allocates nothing).
pub(super) struct Fields<'a> {
    rest: Option<&'a str>,
    sep: Separator,
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        let split = match self.sep {
            Separator::Space => {
                let rest = rest.trim_start();
                if rest.is_empty() {
                    self.rest = None;
                    return None;
                }
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                Some(rest.split_at(end))
            }
            Separator::Comma => rest.split_once(','),
            Separator::Tab => rest.split_once('\t'),
        };
        match split {
            Some((field, tail)) => {
                self.rest = Some(tail);
                Some(field.trim())
            }
            None => {
                self.rest = None;
                Some(rest.trim())
            }
        }
    }
}

/// Whether a first line is a header: some of its values are names and none
/// is a malformed number (`1.2.3`, `1e`), which makes it a row with an error.
pub(super) fn is_header(text: &str) -> bool {
    let mut names = false;
    for value in Separator::detect(text).fields(text) {
        if value.is_empty() || value.parse::<f64>().is_ok() {
            continue;
        }
        if value.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.')) {
            return false;
        }
        names = true;
    }
    names
}
