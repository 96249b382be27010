//! One-line rows of text written straight into the buffer: the cells that
//! ratatui's `Table` (one-line rows, no selection), a left-aligned `Line`
//! and a `Span` draw, without the widgets' Text, Line and Span layers per
//! cell, each styling its area again and segmenting its text into
//! graphemes: they cost more than the rest of a frame.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// A cell's text and the style of its whole column.
pub type Cell<'a> = (&'a str, Style);

/// The columns of `widths` across `area`, a cell apart, as `Table` lays them out.
pub fn columns<const N: usize>(area: Rect, widths: [Constraint; N]) -> [Rect; N] {
    Layout::horizontal(widths).spacing(1).areas(Rect { height: 1, ..area })
}

/// Line `line` of `area` (the header is line 0) as a row of `cells` in
/// `columns`, styled `style`; nothing below the area.
pub fn row<'a>(
    buf: &mut Buffer,
    area: Rect,
    line: u16,
    columns: &[Rect],
    style: Style,
    cells: impl IntoIterator<Item = Cell<'a>>,
) {
    if line >= area.height {
        return;
    }
    let y = area.y + line;
    fill(buf, Rect { y, height: 1, ..area }, style);
    for (column, (text, cell_style)) in columns.iter().zip(cells) {
        fill(buf, Rect { y, height: 1, ..*column }, cell_style);
        text_at(buf, column.x, y, text, column.width, Style::new());
    }
}

/// What a left-aligned `Line` draws on the first row of `area`: its style
/// across the row (when it has any text), then its spans.
pub fn line(buf: &mut Buffer, area: Rect, line: &Line) {
    let area = Rect { height: area.height.min(1), ..area }.intersection(buf.area);
    if area.is_empty() || line.width() == 0 {
        return;
    }
    fill(buf, area, line.style);
    spans(buf, area, line.spans.iter().map(|s| (s.content.as_ref(), s.style)));
}

/// `spans` one after another from the left of the one-line `area`, cut at
/// its right edge, like a left-aligned `Line` with no style of its own.
pub fn spans<'a>(buf: &mut Buffer, area: Rect, spans: impl IntoIterator<Item = Cell<'a>>) {
    let mut x = area.x;
    for (text, style) in spans {
        let width = area.right().saturating_sub(x);
        if width == 0 {
            return;
        }
        text_at(buf, x, area.y, text, width, style);
        x = x.saturating_add(text.width() as u16);
    }
}

/// Patches `style` onto every cell of `area`, like `Buffer::set_style`
/// (a default style changes nothing, so it is skipped).
fn fill(buf: &mut Buffer, area: Rect, style: Style) {
    if style == Style::new() {
        return;
    }
    buf.set_style(area, style);
}

/// `text` from (x, y) in at most `width` columns, as a `Span` draws it:
/// text whose every character is a grapheme of one cell (nearly all the
/// explorer shows) is written a character per cell, without segmenting it
/// into graphemes.
pub fn text_at(buf: &mut Buffer, x: u16, y: u16, text: &str, width: u16, style: Style) {
    let area = Rect::new(x, y, width, 1).intersection(buf.area);
    if area.is_empty() {
        return;
    }
    if !text.chars().all(one_cell) {
        return Span::styled(text, style).render(area, buf);
    }
    let start = buf.index_of(x, y);
    for (cell, c) in buf.content[start..start + usize::from(area.width)].iter_mut().zip(text.chars()) {
        cell.set_char(c).set_style(style);
    }
}

/// Characters one cell wide that never join a neighbour in a grapheme:
/// printable ASCII, and of the blocks the explorer draws from (Latin-1,
/// Greek, punctuation, arrows, operators, box drawing, blocks, shapes,
/// dingbats) those Unicode gives a width of one. A test holds every one
/// to what a Span draws.
fn one_cell(c: char) -> bool {
    c.is_ascii_graphic()
        || c == ' '
        || matches!(c, '\u{A1}'..='\u{FF}' | '\u{370}'..='\u{3FF}' | '\u{2010}'..='\u{2027}' | '\u{2190}'..='\u{22FF}' | '\u{2500}'..='\u{25FF}' | '\u{2700}'..='\u{27BF}')
            && c.width() == Some(1)
}

#[cfg(test)]
mod tests {
    use ratatui::layout::{Constraint, Rect};
    use ratatui::style::{Color, Modifier, Style};
    use ratatui::text::Text;
    use ratatui::widgets::{Row, Table};

    use super::*;

    /// The same cells as ratatui's Table, from a wide area down to one
    /// narrower than the columns, with texts longer than their column,
    /// styled and unstyled cells and more rows than fit.
    #[test]
    fn draws_what_table_draws() {
        let widths = [Constraint::Length(3), Constraint::Length(6), Constraint::Fill(1)];
        let header = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
        let rows: [(Style, [Cell; 3]); 4] = [
            (Style::new(), [("a", Style::new()), ("1.25", Style::new()), ("x", Style::new())]),
            (Style::new().fg(Color::Yellow), [("→7", Style::new()), ("-1.5e-300", Style::new()), ("yy", Style::new())]),
            (
                Style::new(),
                [("bc", Style::new().fg(Color::Red)), ("██··", Style::new().fg(Color::Blue)), ("", Style::new())],
            ),
            (
                Style::new().add_modifier(Modifier::REVERSED),
                [("…", Style::new()), ("3 more", Style::new()), ("z", Style::new())],
            ),
        ];
        for width in [0, 1, 5, 9, 12, 20, 40] {
            for height in [0, 1, 3, 6] {
                let area = Rect::new(2, 1, width, height);
                let mut want = Buffer::empty(Rect::new(0, 0, 44, 8));
                let mut got = want.clone();
                let table_rows = rows
                    .iter()
                    .map(|(style, cells)| Row::new(cells.iter().map(|&(t, s)| Text::styled(t, s))).style(*style));
                Table::new(table_rows, widths)
                    .header(Row::new(["h", "head", "third"]).style(header))
                    .column_spacing(1)
                    .render(area, &mut want);
                let columns = columns(area, widths);
                row(&mut got, area, 0, &columns, header, ["h", "head", "third"].map(|t| (t, Style::new())));
                for (i, (style, cells)) in rows.iter().enumerate() {
                    row(&mut got, area, i as u16 + 1, &columns, *style, *cells);
                }
                assert_eq!(got, want, "{width} × {height}");
            }
        }
    }

    /// Every character taken for one cell is drawn as a Span draws it:
    /// alone, doubled and between ASCII, cut anywhere.
    #[test]
    fn one_cell_characters_draw_as_graphemes() {
        let area = Rect::new(0, 0, 6, 1);
        let style = Style::new().fg(Color::Red);
        for c in (' '..='\u{27BF}').filter(|&c| one_cell(c)) {
            for text in [format!("{c}"), format!("a{c}{c}b")] {
                for width in [0, 2, 3, 6] {
                    let mut want = Buffer::empty(area);
                    let mut got = want.clone();
                    Span::styled(&text, style).render(Rect::new(1, 0, width, 1), &mut want);
                    text_at(&mut got, 1, 0, &text, width, style);
                    assert_eq!(got, want, "{c:?} {width}");
                }
            }
        }
    }

    /// The same cells as a left-aligned Line, with and without a style of
    /// its own, cut anywhere; text that is not a character per cell (a
    /// wide character, a combining accent) is drawn by the Span itself.
    #[test]
    fn draws_what_line_draws() {
        let cells: [Cell; 4] = [
            ("label   ", Style::new().fg(Color::DarkGray)),
            ("1 − p_t", Style::new().fg(Color::Green)),
            (" 界e\u{301}", Style::new().add_modifier(Modifier::BOLD)),
            (" x", Style::new()),
        ];
        let texts = Line::from(cells.map(|(t, s)| Span::styled(t, s)).to_vec());
        for own in [Style::new(), Style::new().bg(Color::Blue)] {
            let text = texts.clone().style(own);
            for width in 0..24 {
                let area = Rect::new(1, 0, width, 2);
                let mut want = Buffer::empty(Rect::new(0, 0, 26, 2));
                let mut got = want.clone();
                (&text).render(area, &mut want);
                line(&mut got, area, &text);
                assert_eq!(got, want, "{width}");
            }
        }
    }
}
