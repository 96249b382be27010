//! Logits parsed again after an edit: only the numbers the edit can have
//! touched are tokenised and converted, the others kept or shifted.

use super::{FieldError, content, number, tokens_in};
use crate::loss::Splice;

/// Parsed logits that remember where each value stood, so that an edit of
/// a 100 000-number field converts only the numbers it touched.
#[derive(Clone, Debug, Default)]
pub struct LogitList {
    pub values: Vec<f64>,
    text: String,
    spans: Vec<(usize, usize)>,
}

/// [`logits`](super::logits) after an edit, reusing `previous` (the last
/// valid list): only the stretch between the numbers the edit cannot have
/// touched is tokenised and converted again, so typing in a field of
/// 100 000 logits costs a comparison of the texts, not a parse. Errors and
/// values are exactly a fresh parse's (a property test checks this).
pub fn logits_reusing(text: &str, previous: Option<&LogitList>) -> Result<LogitList, FieldError> {
    let empty = LogitList::default();
    let old = previous.unwrap_or(&empty);
    let edit = edit(text, old, None)?;
    let (front, back) = (edit.front, edit.back);
    let mut values = Vec::with_capacity(front + edit.values.len() + old.spans.len() - back);
    let mut spans = Vec::with_capacity(values.capacity());
    values.extend_from_slice(&old.values[..front]);
    spans.extend_from_slice(&old.spans[..front]);
    values.extend_from_slice(&edit.values);
    spans.extend_from_slice(&edit.spans);
    values.extend_from_slice(&old.values[back..]);
    spans.extend(old.spans[back..].iter().map(|&s| edit.moved(s)));
    Ok(LogitList { values, text: text.to_string(), spans })
}

/// Where a text differs from the list's: `removed` bytes at byte `at` were
/// replaced by `inserted` bytes; everything before and after is the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub at: usize,
    pub removed: usize,
    pub inserted: usize,
}

/// [`logits_reusing`] in place: `list` becomes the list of `text`, reusing
/// its buffers (no new K-long allocation per keystroke; the numbers after
/// the edit are only shifted), or is left as it was on error. The same
/// values and errors as `logits_reusing`.
///
/// `known`, when given, must say truly how `text` differs from the list's
/// text (the explorer knows it for a typed character): the texts are then
/// not compared, and the list's copy is patched instead of copied.
pub fn logits_update(text: &str, list: &mut LogitList, known: Option<TextEdit>) -> Result<Splice, FieldError> {
    // A description that cannot be true is not used.
    let fits =
        |e: &TextEdit| e.at + e.removed <= list.text.len() && list.text.len() - e.removed + e.inserted == text.len();
    let known = known.filter(fits);
    let edit = edit(text, list, known)?;
    let (front, back, changed) = (edit.front, edit.back, edit.values.len());
    list.values.splice(front..back, edit.values.iter().copied());
    list.spans.splice(front..back, edit.spans.iter().copied());
    if text.len() != list.text.len() {
        for s in &mut list.spans[front + changed..] {
            *s = edit.moved(*s);
        }
    }
    match known {
        Some(e) => list.text.replace_range(e.at..e.at + e.removed, &text[e.at..e.at + e.inserted]),
        None => {
            list.text.clear();
            list.text.push_str(text);
        }
    }
    Ok(Splice { front, back, len: changed })
}

/// What an edit changes in a list: the numbers `front..back` of the old
/// list are replaced by `values` (at `spans`), and the later ones move by
/// the change in length.
struct Edit {
    front: usize,
    back: usize,
    values: Vec<f64>,
    spans: Vec<(usize, usize)>,
    old_len: usize,
    new_len: usize,
}

impl Edit {
    fn moved(&self, s: (usize, usize)) -> (usize, usize) {
        (s.0 + self.new_len - self.old_len, s.1 + self.new_len - self.old_len)
    }
}

fn edit(text: &str, old: &LogitList, known: Option<TextEdit>) -> Result<Edit, FieldError> {
    let (start, end) = content(text)?;
    // Unchanged bytes at either end (any lengths up to the longest are right).
    let (prefix, suffix) = match known {
        Some(e) => (e.at, old.text.len() - e.at - e.removed),
        None => {
            let prefix = common_prefix(old.text.as_bytes(), text.as_bytes());
            let room = old.text.len().min(text.len()) - prefix;
            (prefix, common_suffix(old.text.as_bytes(), text.as_bytes(), room))
        }
    };
    // Reuse needs the same frame (white space and brackets around the list)
    // on both sides of the edit: the same bytes can be inside the list in
    // one text and its bracket in the other.
    let frame = |t: &str, (s, e): (usize, usize)| (s, t.len() - e);
    let same_frame = content(&old.text).is_ok_and(|c| frame(&old.text, c) == frame(text, (start, end)));
    // Numbers (and the delimiter after / before them) before the first
    // changed byte, and after the last one.
    let front = if same_frame && prefix > start { old.spans.partition_point(|s| s.1 < prefix) } else { 0 };
    let back = if same_frame && suffix > text.len() - end {
        old.spans.partition_point(|s| s.0 <= old.text.len() - suffix).max(front)
    } else {
        old.spans.len()
    };
    let moved = |s: (usize, usize)| (s.0 + text.len() - old.text.len(), s.1 + text.len() - old.text.len());
    let from = if front > 0 { old.spans[front - 1].1 } else { start };
    let to = if back < old.spans.len() { moved(old.spans[back]).0 } else { end };
    let middle = tokens_in(text, from, to, front > 0)?;
    if front + middle.len() + (old.spans.len() - back) == 0 {
        return Err(FieldError::whole("no logits: type at least one number, e.g. 1.5, -0.8, 0.2"));
    }
    let mut values = Vec::with_capacity(middle.len());
    let mut spans = Vec::with_capacity(middle.len());
    for token in &middle {
        values.push(number(text, token)?);
        spans.push((token.start, token.start + token.text.len()));
    }
    Ok(Edit { front, back, values, spans, old_len: old.text.len(), new_len: text.len() })
}

/// Length of the common start of `a` and `b` (64 bytes at a time first).
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 64 <= n && a[i..i + 64] == b[i..i + 64] {
        i += 64;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// Length of the common end of `a` and `b`, at most `limit`.
fn common_suffix(a: &[u8], b: &[u8], limit: usize) -> usize {
    let (ea, eb) = (a.len(), b.len());
    let mut i = 0;
    while i + 64 <= limit && a[ea - i - 64..ea - i] == b[eb - i - 64..eb - i] {
        i += 64;
    }
    while i < limit && a[ea - i - 1] == b[eb - i - 1] {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::logits;

    /// In-place updates give exactly what `logits_reusing` gives, through a
    /// chain of edits (insertions, deletions, merged and split numbers,
    /// errors that must leave the list as it was).
    #[test]
    fn update_in_place_matches_reusing() {
        let texts = [
            "1.5 -0.8 0.2 3 4 5",
            "1.5 -0.81 0.2 3 4 5",
            "1.5 -0.8 0.2 3 4 5",
            "1.5 -0.8 0.2 34 5",
            "1.5 -0.8 0.2 3 4 5 6",
            "1.5 -0.8 x 3 4 5",
            "[1.5, -0.8, 0.2]",
            "7 1.5 -0.8 0.2",
            "",
            "2",
            "2 2 2 2 2 2 2 2 2 2 2 2",
            "2 2 2 2 2 -2e300 2 2 2 2 2",
        ];
        let mut list = LogitList::default();
        let mut reference = LogitList::default();
        for text in texts {
            let fresh = logits_reusing(text, Some(&reference));
            let mut patched = list.values.clone();
            // The same edit told (as the explorer tells a typed character):
            // any true description gives the same list.
            let mut told = list.clone();
            let same = common_prefix(told.text.as_bytes(), text.as_bytes());
            let at = same.saturating_sub(1);
            let known = TextEdit { at, removed: told.text.len() - at, inserted: text.len() - at };
            let told_result = logits_update(text, &mut told, Some(known));
            let updated = logits_update(text, &mut list, None);
            assert_eq!(fresh.is_ok(), updated.is_ok(), "{text}");
            assert_eq!(told_result.as_ref().err(), updated.as_ref().err(), "{text}");
            assert_eq!((&told.values, &told.spans, &told.text), (&list.values, &list.spans, &list.text), "{text}");
            if let Ok(s) = updated {
                patched.splice(s.front..s.back, list.values[s.front..s.front + s.len].iter().copied());
                assert_eq!(patched, list.values, "{text}");
            }
            if let Ok(fresh) = fresh {
                reference = fresh;
            }
            assert_eq!(list.values, reference.values, "{text}");
            assert_eq!(list.spans, reference.spans, "{text}");
            assert_eq!(list.text, reference.text, "{text}");
            assert_eq!(list.values, logits(&list.text).unwrap_or_default(), "{text}");
        }
    }
}
