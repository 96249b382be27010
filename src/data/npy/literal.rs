//! The Python literals of an NPY header (`{'descr': '<f4', …}`), parsed
//! as data: no Python evaluation, so a corrupt header is an error, never a
//! guess.

/// Nesting deeper than this in the header dict is not an array header.
const MAX_DEPTH: usize = 16;

/// A Python literal of the kinds an NPY header holds.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Literal {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Tuple(Vec<Literal>),
    List(Vec<Literal>),
    Dict(Vec<(Literal, Literal)>),
}

impl Literal {
    /// The one literal in `text`, with nothing but white space after it.
    pub(super) fn parse(text: &str) -> Result<Literal, String> {
        let chars: Vec<char> = text.chars().collect();
        let mut p = LiteralParser { chars: &chars, at: 0 };
        let value = p.value(0)?;
        p.space();
        if p.at < chars.len() {
            return Err(p.unexpected("after the dict"));
        }
        Ok(value)
    }
}

/// Recursive descent over the header's characters.
struct LiteralParser<'a> {
    chars: &'a [char],
    at: usize,
}

impl LiteralParser<'_> {
    fn space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn unexpected(&self, context: &str) -> String {
        match self.chars.get(self.at) {
            Some(c) => format!("unexpected {c:?} {context} at character {}", self.at + 1),
            None => format!("it ends {context}"),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Literal, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        self.space();
        let Some(&c) = self.chars.get(self.at) else {
            return Err("it ends where a value should be".into());
        };
        match c {
            '{' => {
                self.at += 1;
                let mut entries = Vec::new();
                while !self.close('}')? {
                    let key = self.value(depth + 1)?;
                    self.space();
                    if self.chars.get(self.at) != Some(&':') {
                        return Err(self.unexpected("where `:` should follow a key"));
                    }
                    self.at += 1;
                    entries.push((key, self.value(depth + 1)?));
                    self.separator('}')?;
                }
                Ok(Literal::Dict(entries))
            }
            '(' | '[' => {
                self.at += 1;
                let end = if c == '(' { ')' } else { ']' };
                let mut items = Vec::new();
                let mut comma = false;
                while !self.close(end)? {
                    items.push(self.value(depth + 1)?);
                    comma = self.separator(end)?;
                }
                Ok(match c {
                    // `(3)` is just 3 in Python; only `(3,)` is a tuple.
                    '(' if items.len() == 1 && !comma => items.pop().unwrap_or(Literal::None),
                    '(' => Literal::Tuple(items),
                    _ => Literal::List(items),
                })
            }
            '\'' | '"' => {
                self.at += 1;
                let mut s = String::new();
                loop {
                    match self.chars.get(self.at) {
                        None => return Err("a string is never closed".into()),
                        Some(&q) if q == c => break,
                        Some('\\') => {
                            self.at += 1;
                            s.extend(self.chars.get(self.at));
                        }
                        Some(&ch) => s.push(ch),
                    }
                    self.at += 1;
                }
                self.at += 1;
                Ok(Literal::Str(s))
            }
            _ => {
                let from = self.at;
                while self.chars.get(self.at).is_some_and(|c| c.is_alphanumeric() || matches!(c, '-' | '+' | '_')) {
                    self.at += 1;
                }
                let word: String = self.chars[from..self.at].iter().collect();
                match word.as_str() {
                    "True" => Ok(Literal::Bool(true)),
                    "False" => Ok(Literal::Bool(false)),
                    "None" => Ok(Literal::None),
                    "" => {
                        self.at = from;
                        Err(self.unexpected("where a value should be"))
                    }
                    // Python 2 wrote longs as `3L`.
                    _ => word
                        .trim_end_matches(['L', 'l'])
                        .parse::<i128>()
                        .map(Literal::Int)
                        .map_err(|_| format!("`{word}` at character {} is not a value", from + 1)),
                }
            }
        }
    }

    /// Consumes `end` if it comes next (after white space).
    fn close(&mut self, end: char) -> Result<bool, String> {
        self.space();
        match self.chars.get(self.at) {
            Some(&c) if c == end => {
                self.at += 1;
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Err(format!("it ends before the closing `{end}`")),
        }
    }

    /// After an item: a comma (returns true), or the closing `end` next.
    fn separator(&mut self, end: char) -> Result<bool, String> {
        self.space();
        match self.chars.get(self.at) {
            Some(',') => {
                self.at += 1;
                Ok(true)
            }
            Some(&c) if c == end => Ok(false),
            _ => Err(self.unexpected(&format!("where `,` or `{end}` should be"))),
        }
    }
}
