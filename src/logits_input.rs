//! The logits field's numbers, kept parsed as its text is edited, and the
//! shown copy of them kept in step. An edit re-parses only the numbers it
//! touched ([`parse::logits_update`], told where the text changed when the
//! field knows it), and the shown copy is patched by the same splice, which
//! the softmax reuses too ([`Change::Spliced`]): typing in a field of
//! 100 000 logits costs neither a parse nor a copy of the list.

use crate::loss::Change;
use crate::parse::{self, FieldError, LogitList, TextEdit};

pub struct LogitsInput {
    /// The last valid list.
    list: LogitList,
    /// The last parse succeeded: the list's text is the field's, so an
    /// edit of the field is one of the list's text.
    current: bool,
    /// How the list's values differ from the copy [`LogitsInput::show`]
    /// last brought up to date.
    shown: Change,
}

impl LogitsInput {
    /// The logits of `text` (none if it does not parse).
    pub fn new(text: &str) -> Self {
        let parsed = parse::logits_reusing(text, None);
        LogitsInput { current: parsed.is_ok(), list: parsed.unwrap_or_default(), shown: Change::New }
    }

    /// K, the number of logits of the last valid list.
    pub fn classes(&self) -> usize {
        self.list.values.len()
    }

    /// Parses the field's `text` after an edit, which `edit` describes when
    /// the field knows it (a typed or deleted character). The list is kept
    /// as it was on error.
    pub fn parse(&mut self, text: &str, edit: Option<TextEdit>) -> Result<(), FieldError> {
        let edit = edit.filter(|_| self.current);
        let parsed = parse::logits_update(text, &mut self.list, edit);
        self.current = parsed.is_ok();
        let splice = parsed?;
        // Only a copy that was up to date is one splice away.
        self.shown = match self.shown {
            Change::Same => Change::Spliced(splice),
            _ => Change::New,
        };
        Ok(())
    }

    /// Brings `copy` (the values this last brought up to date, or any when
    /// first called) up to the list's values, reusing its buffer; returns
    /// how they changed.
    pub fn show(&mut self, copy: &mut Vec<f64>) -> Change {
        let values = &self.list.values;
        match self.shown {
            Change::Same => {}
            Change::Spliced(s) => drop(copy.splice(s.front..s.back, values[s.front..s.front + s.len].iter().copied())),
            Change::New => {
                copy.clear();
                copy.extend_from_slice(values);
            }
        }
        std::mem::replace(&mut self.shown, Change::Same)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::FieldText;
    use tui_input::InputRequest;

    /// Through edits told and untold, invalid states, and copies brought up
    /// to date after some edits only, the copy is always a fresh parse of
    /// the last valid text, patched when one edit separates it from the list.
    #[test]
    fn the_shown_copy_is_a_fresh_parse() {
        enum Key {
            Type(&'static str),
            Back,
            Del,
            Move(InputRequest),
            ClearAll,
        }
        use Key::*;
        // (key, whether the copy is brought up to date after it)
        let steps = [
            (Type(" 4"), true),
            (Type("x"), true),
            (Back, false),
            (Type(" 7"), true),
            (Back, false),
            (Back, true),
            (Move(InputRequest::GoToStart), true),
            (Type("3 "), true),
            (Type(","), false),
            (Type("2"), true),
            (ClearAll, true),
            (Type("[5, 6]"), true),
            (Back, true),
            (ClearAll, false),
            (Type("1 2 3"), true),
            // An invalid text as long as the list's: the next edit is not
            // one of the list's text.
            (Type("x"), false),
            (Move(InputRequest::GoToStart), false),
            (Del, false),
            (Move(InputRequest::GoToEnd), false),
            (Back, true),
        ];
        let mut field = FieldText::new("1.5 -0.8 0.2".into());
        let mut input = LogitsInput::new(field.value());
        let (mut copy, mut last_valid) = (Vec::new(), field.value().to_string());
        assert_eq!(input.show(&mut copy), Change::New);
        let mut parsed_since_shown = 0;
        for (key, show) in steps {
            let edit = match key {
                Type(text) => Some(field.insert(text)),
                Back => field.handle(InputRequest::DeletePrevChar).1,
                Del => field.handle(InputRequest::DeleteNextChar).1,
                Move(request) => {
                    field.handle(request);
                    continue;
                }
                ClearAll => {
                    field.handle(InputRequest::GoToEnd);
                    field.handle(InputRequest::DeleteLine).1
                }
            };
            let text = field.value().to_string();
            let result = input.parse(&text, edit);
            assert_eq!(result, parse::logits(&text).map(drop), "{text:?}");
            if result.is_ok() {
                last_valid = text.clone();
                parsed_since_shown += 1;
            }
            if show {
                let change = input.show(&mut copy);
                assert_eq!(copy, parse::logits(&last_valid).unwrap(), "{text:?}");
                match parsed_since_shown {
                    0 => assert_eq!(change, Change::Same, "{text:?}"),
                    1 => assert!(matches!(change, Change::Spliced(_)), "{text:?}: {change:?}"),
                    _ => assert_eq!(change, Change::New, "{text:?}"),
                }
                parsed_since_shown = 0;
            }
        }
    }
}
