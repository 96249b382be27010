//! A field's text: tui-input's editor (readline keys, the yank buffer),
//! knowing whether the text is ASCII, so that neither a keystroke nor a
//! frame scans a field of 100 000 logits (a megabyte) to find it out. In
//! ASCII text a character is a byte and a column, and the two edits typing
//! makes most are done here without tui-input's walk over the characters.

use tui_input::{Input, InputRequest, StateChanged};

use crate::parse::TextEdit;

pub struct FieldText {
    input: Input,
    ascii: bool,
}

impl FieldText {
    /// `text` with the cursor at its end.
    pub fn new(text: String) -> Self {
        let ascii = text.is_ascii();
        FieldText { input: Input::new(text), ascii }
    }

    pub fn value(&self) -> &str {
        self.input.value()
    }

    /// The cursor, in characters from the start.
    pub fn cursor(&self) -> usize {
        self.input.cursor()
    }

    /// Every character is ASCII (one byte, one column).
    pub fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// Carries out an editing key: what changed, and where the text did
    /// when that is known without comparing texts. tui-input finds the
    /// cursor's byte by walking the characters, a millisecond in a list of
    /// 100 000 logits; in ASCII text the byte is the cursor, so deleting one
    /// character is done here (the same edit: one ASCII character is one
    /// grapheme, as line breaks never reach a field).
    pub fn handle(&mut self, request: InputRequest) -> (Option<StateChanged>, Option<TextEdit>) {
        let (value, cursor) = (self.input.value(), self.input.cursor());
        let at = match request {
            InputRequest::DeletePrevChar if self.ascii && cursor > 0 => cursor - 1,
            InputRequest::DeleteNextChar if self.ascii && cursor < value.len() => cursor,
            _ => {
                let changed = self.input.handle(request);
                if changed.is_some_and(|c| c.value) {
                    self.ascii = self.input.value().is_ascii();
                }
                return (changed, None);
            }
        };
        let text = [&value[..at], &value[at + 1..]].concat();
        self.input = Input::new(text).with_cursor(at);
        let changed = StateChanged { value: true, cursor: request == InputRequest::DeletePrevChar };
        (Some(changed), Some(TextEdit { at, removed: 1, inserted: 0 }))
    }

    /// Inserts `text` at the cursor and moves the cursor after it.
    pub fn insert(&mut self, text: &str) -> TextEdit {
        let (value, cursor) = (self.input.value(), self.input.cursor());
        let at = if self.ascii {
            cursor.min(value.len())
        } else {
            value.char_indices().nth(cursor).map_or(value.len(), |(i, _)| i)
        };
        let joined = format!("{}{text}{}", &value[..at], &value[at..]);
        self.input = Input::new(joined).with_cursor(cursor + text.chars().count());
        self.ascii &= text.is_ascii();
        TextEdit { at, removed: 0, inserted: text.len() }
    }
}
