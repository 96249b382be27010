//! A field's text: tui-input's editor (readline keys, the yank buffer) for
//! every key, except the two edits typing makes most, which are done here in
//! place. A field can hold 100 000 logits (a megabyte), and tui-input both
//! walks the characters to find the cursor's byte and counts them all again
//! after every change; in place, typing at the end of the list costs
//! nothing per character already typed. The field also knows whether it is
//! ASCII, so that no frame scans it to find out: in ASCII text a character
//! is a byte and a column.

use tui_input::{Input, InputRequest, StateChanged};

use crate::parse::TextEdit;

pub struct FieldText {
    text: String,
    /// In characters from the start.
    cursor: usize,
    ascii: bool,
    /// tui-input's editor over the same text and cursor, made when a key
    /// needs it and dropped when an edit here makes it stale (its yank
    /// buffer goes with it).
    editor: Option<Input>,
}

impl FieldText {
    /// `text` with the cursor at its end.
    pub fn new(text: String) -> Self {
        let (ascii, cursor) = (text.is_ascii(), text.chars().count());
        FieldText { text, cursor, ascii, editor: None }
    }

    pub fn value(&self) -> &str {
        &self.text
    }

    /// The cursor, in characters from the start.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Puts the cursor before character `at` (at most the end).
    pub fn set_cursor(&mut self, at: usize) {
        self.cursor = at.min(self.text.chars().count());
        // The editor keeps its yank buffer, at the new place.
        self.editor = self.editor.take().map(|editor| editor.with_cursor(self.cursor));
    }

    /// Every character is ASCII (one byte, one column).
    pub fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// Carries out an editing key: what changed, and where the text did
    /// when that is known without comparing texts. Deleting one character
    /// of ASCII text is done in place (the same edit as tui-input's: one
    /// ASCII character is one grapheme, as line breaks never reach a field);
    /// every other key goes to tui-input.
    pub fn handle(&mut self, request: InputRequest) -> (Option<StateChanged>, Option<TextEdit>) {
        let at = match request {
            InputRequest::DeletePrevChar if self.ascii && self.cursor > 0 => self.cursor - 1,
            InputRequest::DeleteNextChar if self.ascii && self.cursor < self.text.len() => self.cursor,
            _ => {
                let (text, cursor) = (&self.text, self.cursor);
                let editor = self.editor.get_or_insert_with(|| Input::new(text.clone()).with_cursor(cursor));
                let changed = editor.handle(request);
                self.cursor = editor.cursor();
                if changed.is_some_and(|c| c.value) {
                    self.text.clear();
                    self.text.push_str(editor.value());
                    self.ascii = self.text.is_ascii();
                }
                return (changed, None);
            }
        };
        self.text.remove(at);
        self.cursor = at;
        self.editor = None;
        let changed = StateChanged { value: true, cursor: request == InputRequest::DeletePrevChar };
        (Some(changed), Some(TextEdit { at, removed: 1, inserted: 0 }))
    }

    /// Replaces `removed` bytes at byte `at` (on character boundaries) with
    /// `inserted`, and puts the cursor at character `cursor`.
    pub fn replace(&mut self, at: usize, removed: usize, inserted: &str, cursor: usize) -> TextEdit {
        self.text.replace_range(at..at + removed, inserted);
        self.cursor = cursor;
        self.ascii = self.text.is_ascii();
        self.editor = None;
        TextEdit { at, removed, inserted: inserted.len() }
    }

    /// Inserts `text` at the cursor and moves the cursor after it.
    pub fn insert(&mut self, text: &str) -> TextEdit {
        let at = if self.ascii {
            self.cursor.min(self.text.len())
        } else {
            self.text.char_indices().nth(self.cursor).map_or(self.text.len(), |(i, _)| i)
        };
        self.text.insert_str(at, text);
        self.cursor += text.chars().count();
        self.ascii &= text.is_ascii();
        self.editor = None;
        TextEdit { at, removed: 0, inserted: text.len() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InputRequest::*;

    /// Keys, typing and pasting leave the text and cursor that tui-input
    /// alone gives (its `InsertChar` per character), in ASCII and other
    /// text; a cut is yanked back when nothing was typed in between.
    #[test]
    fn edits_match_tui_input() {
        let keys = [
            GoToPrevChar,
            DeletePrevChar,
            GoToStart,
            DeleteNextChar,
            GoToNextWord,
            DeletePrevWord,
            Yank,
            GoToEnd,
            DeletePrevChar,
            GoToPrevWord,
            DeleteTillEnd,
            Yank,
            GoToPrevChar,
            GoToPrevChar,
            DeleteNextWord,
            GoToNextChar,
        ];
        for start in ["1.5, -0.8, 0.2 4", "", "1.5 α 2 β 7"] {
            for inserted in ["9", " 3.25,", "γ"] {
                let (mut got, mut want) = (FieldText::new(start.to_string()), Input::new(start.to_string()));
                for (i, &key) in keys.iter().enumerate() {
                    got.handle(key);
                    want.handle(key);
                    // Not between a cut and its yank: typing drops the
                    // editor and its yank buffer.
                    if [2, 7, 13].contains(&i) {
                        got.insert(inserted);
                        for c in inserted.chars() {
                            want.handle(InsertChar(c));
                        }
                    }
                    let what = format!("{start:?} {inserted:?} after {key:?}");
                    assert_eq!((got.value(), got.cursor()), (want.value(), want.cursor()), "{what}");
                    assert_eq!(got.is_ascii(), want.value().is_ascii(), "{what}");
                }
            }
        }
    }
}
