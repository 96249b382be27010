//! The screen the explorer draws on: the frame the terminal shows, the one
//! being drawn, and the cells that differ between them, sent to any ratatui
//! [`Backend`]. This is the double buffering of ratatui's `Terminal::draw`
//! with a cheaper diff.
//!
//! ratatui's diff calls `Cell::eq` and measures the symbol's width with the
//! Unicode tables for every cell, changed or not: at 200 × 60 more than all
//! of the explorer's own drawing (docs/PERFORMANCE.md). `diff` sends exactly
//! the cells that ratatui's `Buffer::diff` sends, in the same order (a unit
//! test holds the two equal on random frames of wide characters, emoji,
//! styles and skipped cells), in fewer instructions: it compares an
//! unchanged cell inline, and it skips the Unicode tables for the one-column
//! characters the explorer draws.

use ratatui::backend::Backend;
use ratatui::buffer::{Buffer, Cell, CellDiffOption, CellWidth};
use ratatui::layout::{Position, Rect, Size};
use ratatui::style::{Color, Modifier};

/// A terminal screen drawn in frames: [`Screen::draw`] sends only what changed.
pub struct Screen<B: Backend> {
    backend: B,
    /// What the terminal shows.
    shown: Buffer,
    /// The frame being drawn; reset after every draw.
    next: Buffer,
    /// The indices of `next`'s cells to send (kept to reuse its allocation).
    changed: Vec<usize>,
}

impl<B: Backend> Screen<B> {
    /// A screen of `size`, cleared.
    pub fn new(mut backend: B, size: Size) -> Result<Self, B::Error> {
        backend.clear()?;
        let area = Rect::from((Position::ORIGIN, size));
        Ok(Screen { backend, shown: Buffer::empty(area), next: Buffer::empty(area), changed: Vec::new() })
    }

    /// After the terminal changed size: clears it, so that the next frame
    /// is sent whole. Nothing happens when the size is the same.
    pub fn resize(&mut self, size: Size) -> Result<(), B::Error> {
        let area = Rect::from((Position::ORIGIN, size));
        if area != self.shown.area {
            self.shown.resize(area);
            self.shown.reset();
            self.next.resize(area);
            self.backend.clear()?;
        }
        Ok(())
    }

    /// Draws a frame: `render` paints the empty buffer and says where the
    /// cursor goes (`None` hides it); then the changed cells are sent.
    pub fn draw(&mut self, render: impl FnOnce(&mut Buffer) -> Option<Position>) -> Result<(), B::Error> {
        let cursor = render(&mut self.next);
        diff(&self.shown.content, &self.next.content, &mut self.changed);
        let (content, width) = (&self.next.content, usize::from(self.next.area.width.max(1)));
        let at = |i: usize| ((i % width) as u16, (i / width) as u16, &content[i]);
        self.backend.draw(self.changed.iter().map(|&i| at(i)))?;
        match cursor {
            None => self.backend.hide_cursor()?,
            Some(position) => {
                self.backend.show_cursor()?;
                self.backend.set_cursor_position(position)?;
            }
        }
        std::mem::swap(&mut self.shown, &mut self.next);
        self.next.reset();
        self.backend.flush()
    }

    pub fn size(&self) -> Size {
        self.shown.area.as_size()
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }
}

/// Modifiers that show on a blank cell (as ratatui's diff counts them).
const VISIBLE_ON_BLANK: Modifier = Modifier::REVERSED
    .union(Modifier::UNDERLINED)
    .union(Modifier::SLOW_BLINK)
    .union(Modifier::RAPID_BLINK)
    .union(Modifier::CROSSED_OUT);

/// Puts in `out` the indices of the cells of `next` that a terminal showing
/// `prev` must be sent to show `next`, as ratatui's `Buffer::diff` chooses
/// them:
///
/// - a changed cell is sent; a wide one (two columns or more) hides the
///   cells it covers, which are not looked at;
/// - a wide character with VS16 (emoji presentation) is followed by those
///   covered cells whose symbol changed, as some terminals leave them stale;
/// - a one-column cell that replaces a wide one whose background or
///   modifier shows on blanks is followed by every cell the wide one covered;
/// - cells marked `Skip` are never sent, `AlwaysUpdate` always,
///   `ForcedWidth(w)` when changed, covering w columns.
///
/// The slices are of buffers of the same width; rows past the shorter one
/// are not compared.
fn diff(prev: &[Cell], next: &[Cell], out: &mut Vec<usize>) {
    out.clear();
    let len = prev.len().min(next.len());
    let mut i = 0;
    while i < len {
        let (new, old) = (&next[i], &prev[i]);
        match new.diff_option {
            CellDiffOption::None if skipped(new) => i += 1,
            CellDiffOption::None => {
                let symbol = new.symbol();
                if same_style(new, old) && same_symbol(symbol, old.symbol()) {
                    // Not sent; a wide character hides the cells it covers.
                    i += symbol_width(new, symbol).max(1);
                } else {
                    i = changed(prev, next, i, len, out);
                }
            }
            CellDiffOption::AlwaysUpdate => i = changed(prev, next, i, len, out),
            CellDiffOption::Skip => i += 1,
            CellDiffOption::ForcedWidth(w) => {
                if !(same_style(new, old) && same_symbol(new.symbol(), old.symbol())) {
                    out.push(i);
                }
                i += usize::from(w.get());
            }
        }
    }
}

/// Sends cell `i` (changed, or always sent) and, after a wide character,
/// the cells it covers that need it. Returns where the comparison goes on.
fn changed(prev: &[Cell], next: &[Cell], i: usize, len: usize, out: &mut Vec<usize>) -> usize {
    let (new, old) = (&next[i], &prev[i]);
    out.push(i);
    let (w, was) = (width(new), width(old));
    if w > 1 && new.symbol().contains('\u{FE0F}') {
        covered(prev, next, i + 1, (i + w).min(len), false, out)
    } else if w > 1 {
        i + w
    } else if was > w && (old.bg != Color::Reset || old.modifier.intersects(VISIBLE_ON_BLANK)) {
        covered(prev, next, i + 1, i + was, true, out)
    } else {
        i + 1
    }
}

/// The cells from `start` to `end` that a wide character covered or
/// covers: each is sent if `force`, else if its symbol changed (skipped
/// cells never). A wide cell among them extends the range. Returns where
/// the comparison goes on.
fn covered(prev: &[Cell], next: &[Cell], start: usize, mut end: usize, force: bool, out: &mut Vec<usize>) -> usize {
    let len = prev.len().min(next.len());
    let mut j = start;
    while j < end.min(len) {
        let after = j + width(&next[j]).max(1);
        end = end.max(after).min(len);
        if !skipped(&next[j]) && (force || prev[j].symbol() != next[j].symbol()) {
            out.push(j);
        }
        j = after;
    }
    end
}

/// `Cell::eq` but for the symbols: colours, modifiers, diff options.
#[inline(always)]
#[allow(deprecated)]
fn same_style(a: &Cell, b: &Cell) -> bool {
    a.fg == b.fg
        && a.bg == b.bg
        && a.modifier == b.modifier
        && a.underline_color == b.underline_color
        && a.skip == b.skip
        && a.diff_option == b.diff_option
}

/// Symbols compared as `Cell::eq` does (from `Cell::symbol`, so none and
/// " " alike), the short ones without a call to `memcmp`.
#[inline(always)]
fn same_symbol(a: &str, b: &str) -> bool {
    match (a.as_bytes(), b.as_bytes()) {
        ([a0], [b0]) => a0 == b0,
        ([a0, a1, a2], [b0, b1, b2]) => a0 == b0 && a1 == b1 && a2 == b2,
        (a, b) => a == b,
    }
}

/// Marked to be skipped (the deprecated flag counts only without another
/// diff option).
#[inline(always)]
#[allow(deprecated)]
fn skipped(cell: &Cell) -> bool {
    cell.diff_option == CellDiffOption::Skip || (cell.skip && cell.diff_option == CellDiffOption::None)
}

/// `Cell::cell_width`.
#[inline(always)]
fn width(cell: &Cell) -> usize {
    symbol_width(cell, cell.symbol())
}

/// `Cell::cell_width` of a cell with this symbol, without the Unicode
/// tables for ASCII and for the one-column characters the explorer draws
/// most (rules, bars, chart dots, Greek letters, arrows and operators).
#[inline(always)]
fn symbol_width(cell: &Cell, symbol: &str) -> usize {
    let narrow = match *symbol.as_bytes() {
        [_] => true,
        // One character of U+00A0–U+02FF (Latin, but the soft hyphen) or
        // U+0370–U+03FF (Greek), of U+2190–U+22FF (arrows, operators),
        // U+2500–U+259F (box drawing, blocks) or U+2800–U+28FF (Braille):
        // one column, as the tables say (tested for every character).
        [0xC2, 0xA0..=0xAC | 0xAE..=0xBF] | [0xC3..=0xCB, _] | [0xCD, 0xB0..=0xBF] | [0xCE | 0xCF, _] => true,
        [0xE2, 0x86, 0x90..=0xBF] | [0xE2, 0x87..=0x8B, _] => true,
        [0xE2, 0x94 | 0x95, _] | [0xE2, 0x96, 0x80..=0x9F] | [0xE2, 0xA0..=0xA3, _] => true,
        _ => false,
    };
    if narrow && !matches!(cell.diff_option, CellDiffOption::ForcedWidth(_)) {
        1
    } else {
        usize::from(cell.cell_width())
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU16;

    use ratatui::backend::TestBackend;
    use ratatui::style::Style;

    use super::*;
    use crate::test_rng::Rng;

    /// Narrow, wide, emoji with VS16, combining marks.
    const TEXT: [&str; 16] =
        ["ab", "x", "─", "█▏", "⣿⠁", "γα", "コ", "日本語", "❤️", "👍x", "e\u{301}", "ｶﾞ", " ", "×1", "⚡", "  "];

    /// Writes a few random strings of `text` in random styles, as widgets
    /// write them (over one another: a wide character may hide cells).
    fn scribble(buf: &mut Buffer, rng: &mut Rng, writes: usize, text: &[&str]) {
        const COLORS: [Color; 4] = [Color::Reset, Color::Red, Color::Indexed(5), Color::Rgb(1, 2, 3)];
        const MODIFIERS: [Modifier; 4] = [Modifier::empty(), Modifier::BOLD, Modifier::REVERSED, Modifier::UNDERLINED];
        let area = buf.area;
        for _ in 0..writes {
            let (x, y) = (rng.below(area.width as usize) as u16, rng.below(area.height as usize) as u16);
            let style = Style::new().fg(*rng.pick(&COLORS)).bg(*rng.pick(&COLORS)).add_modifier(*rng.pick(&MODIFIERS));
            let text = *rng.pick(text);
            buf.set_stringn(x, y, text, (area.width - x) as usize, style);
        }
    }

    #[test]
    #[allow(deprecated)]
    fn diff_sends_the_cells_ratatui_sends() {
        let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
        let mut compared = 0;
        for case in 0..4000 {
            let area = Rect::new(0, 0, 1 + rng.below(23) as u16, 1 + rng.below(6) as u16);
            let mut prev = Buffer::empty(area);
            let writes = rng.below(30);
            scribble(&mut prev, &mut rng, writes, &TEXT);
            let mut next = if case % 5 == 0 { Buffer::empty(area) } else { prev.clone() };
            let writes = rng.below(8);
            scribble(&mut next, &mut rng, writes, &TEXT);
            // Diff options on the new frame's cells (the old frame's are
            // what the terminal shows, drawn by the rules above).
            for _ in 0..rng.below(4) {
                let i = rng.below(next.content.len());
                let cell = &mut next.content[i];
                match rng.below(4) {
                    0 => cell.diff_option = CellDiffOption::Skip,
                    1 => cell.diff_option = CellDiffOption::AlwaysUpdate,
                    2 => cell.diff_option = CellDiffOption::ForcedWidth(NonZeroU16::new(2).unwrap()),
                    _ => cell.skip = true,
                }
            }
            let want: Vec<(u16, u16, *const Cell)> =
                prev.diff(&next).into_iter().map(|(x, y, c)| (x, y, c as *const Cell)).collect();
            let mut got = Vec::new();
            diff(&prev.content, &next.content, &mut got);
            let w = area.width as usize;
            let got: Vec<(u16, u16, *const Cell)> =
                got.iter().map(|&i| ((i % w) as u16, (i / w) as u16, &next.content[i] as *const Cell)).collect();
            assert_eq!(got, want, "case {case}: {prev:?} → {next:?}");
            compared += want.len();
        }
        assert!(compared > 20_000, "the frames differ in enough cells: {compared}");
    }

    #[test]
    fn width_is_cell_width_for_every_character() {
        let wrong: Vec<String> = (' '..=char::MAX)
            .filter(|c| !c.is_control())
            .filter_map(|c| {
                let mut cell = Cell::EMPTY;
                cell.set_char(c);
                let (got, want) = (width(&cell), usize::from(cell.cell_width()));
                (got != want).then(|| format!("U+{:04X}: {got}, not {want}", c as u32))
            })
            .collect();
        assert!(wrong.is_empty(), "{wrong:?}");
    }

    #[test]
    fn frames_reach_the_terminal_whole_after_a_resize() {
        let mut rng = Rng::new(7);
        let mut screen = Screen::new(TestBackend::new(9, 4), Size::new(9, 4)).unwrap();
        for (w, h) in [(9, 4), (9, 4), (13, 3), (5, 7), (5, 7)] {
            screen.backend_mut().resize(w, h);
            screen.resize(Size::new(w, h)).unwrap();
            let mut want = Buffer::empty(Rect::new(0, 0, w, h));
            // One-column text: the terminal then holds every cell as drawn.
            scribble(&mut want, &mut rng, 12, &TEXT[..6]);
            screen
                .draw(|buf| {
                    buf.merge(&want);
                    Some(Position::new(1, 2))
                })
                .unwrap();
            assert_eq!(screen.backend().buffer(), &want);
            assert!(screen.backend().cursor_visible());
            assert_eq!(screen.backend().cursor_position(), Position::new(1, 2));
        }
        screen.draw(|_| None).unwrap();
        assert!(!screen.backend().cursor_visible());
        assert_eq!(screen.backend().buffer(), &Buffer::empty(Rect::new(0, 0, 5, 7)));
    }
}
