//! The fields: one line each (α and the label smoothing ε share one), an
//! error line under a field that does not parse, horizontal scrolling and
//! the cursor from tui-input.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;

use crate::app::{App, Body};
use crate::field::Field;
use crate::text::FieldText;
use crate::ui::rows;
use unicode_width::UnicodeWidthChar;

const LABEL: u16 = 12;

/// The fields on screen by row: ε, one short number, sits beside α, so
/// that the 80 × 24 layout keeps its chart rows.
fn field_rows(fields: &[Field]) -> Vec<&[Field]> {
    let mut out = Vec::with_capacity(fields.len());
    let mut i = 0;
    while i < fields.len() {
        let n = if fields[i] == Field::Alpha && fields.get(i + 1) == Some(&Field::Smoothing) { 2 } else { 1 };
        out.push(&fields[i..i + n]);
        i += n;
    }
    out
}

pub fn height(app: &App) -> u16 {
    (field_rows(app.fields()).len() + app.errors.iter().flatten().count()) as u16
}

/// Each field shown: its one-row area and the line of its error, if it has
/// one that fits. A row's errors go under it, in the row's order.
fn layout(app: &App, area: Rect) -> Vec<(Field, Rect, Option<u16>)> {
    let mut out = Vec::new();
    let mut y = area.y;
    for row in field_rows(app.fields()) {
        if y >= area.bottom() {
            break;
        }
        let half = area.width / row.len() as u16;
        let mut next = y + 1;
        for (n, &field) in (0u16..).zip(row) {
            let width = if n + 1 == row.len() as u16 { area.width - n * half } else { half };
            let error = app.errors[field.index()].is_some().then(|| {
                next += 1;
                next - 1
            });
            out.push((field, Rect::new(area.x + n * half, y, width, 1), error.filter(|&at| at < area.bottom())));
        }
        y = next;
    }
    out
}

/// Draws the fields; returns where the cursor goes (in the focused field).
pub fn draw(buf: &mut Buffer, area: Rect, app: &App) -> Option<Position> {
    let theme = &app.look.theme;
    let mut cursor_at = None;
    for (field, field_area, error_at) in layout(app, area) {
        cursor_at = cursor_at.or(draw_field(buf, field_area, app, field));
        if let (Some(error), Some(y)) = (&app.errors[field.index()], error_at) {
            let indent = " ".repeat(LABEL as usize);
            let message = format!("✗ {error}");
            let line = [(indent.as_str(), Style::new()), (&message, theme.error)];
            rows::spans(buf, Rect::new(area.x, y, area.width, 1), line);
        }
    }
    cursor_at
}

/// One field's label and text in `area` (one row); the cursor when focused.
fn draw_field(buf: &mut Buffer, area: Rect, app: &App, field: Field) -> Option<Position> {
    let theme = &app.look.theme;
    let y = area.y;
    let focused = field == app.focus && !app.help;
    let (mark, style) = if field == app.focus { ("▸ ", theme.focus) } else { ("  ", theme.title) };
    // The dataset view sweeps the list instead of drawing it.
    let sweep = matches!(app.body, Body::Dataset(_)) && field == Field::Gammas;
    let name = if sweep { "Sweep γ" } else { field.label() };
    let label = format!("{mark}{name}");
    let label = format!("{label:<w$}", w = LABEL as usize - 1);
    rows::text_at(buf, area.x, y, &label, LABEL.min(area.width), style);
    let text_area = text_area(area);
    let input = app.input(field);
    let width = text_area.width as usize;
    let ascii = input.is_ascii();
    let (cursor, scroll) = scroll(input, focused, width);
    let text = visible(input.value(), scroll, width, ascii);
    rows::text_at(buf, text_area.x, y, text, text_area.width, theme.text);
    focused.then(|| {
        let x = (cursor - scroll) as u16;
        Position::new(text_area.x + x.min(text_area.width), y)
    })
}

/// Where a field's text goes in its one-row area.
fn text_area(area: Rect) -> Rect {
    Rect::new(area.x + LABEL, area.y, area.width.saturating_sub(LABEL + 1), 1)
}

/// The cursor's display column and the column the field is shown from:
/// the focused field scrolls to keep the cursor in view (one cell kept for
/// it at the end); the others show their beginning.
fn scroll(input: &FieldText, focused: bool, width: usize) -> (usize, usize) {
    let cursor = if focused { cursor_column(input.value(), input.cursor(), input.is_ascii()) } else { 0 };
    (cursor, cursor.saturating_sub(width.saturating_sub(1)))
}

/// The field shown at `position`, and the character a click there puts the
/// cursor before (the text's end, past it; its start, on the label).
pub fn field_at(app: &App, area: Rect, position: Position) -> Option<(Field, usize)> {
    let (field, field_area, _) = layout(app, area).into_iter().find(|(_, a, _)| a.contains(position))?;
    let text_area = text_area(field_area);
    let input = app.input(field);
    let (_, scroll) = scroll(input, field == app.focus && !app.help, text_area.width as usize);
    let column = scroll + usize::from(position.x.saturating_sub(text_area.x));
    let mut width = 0;
    let chars = input.value().chars().take_while(|c| {
        width += c.width().unwrap_or(0);
        width <= column
    });
    Some((field, chars.count()))
}

/// The display column of the cursor, which stands before the `chars`-th
/// character. tui-input measures it with grapheme segmentation, which costs
/// a noticeable pause per keystroke in a field of 100 000 logits; `ascii`
/// text (the usual case) is measured by its length.
fn cursor_column(value: &str, chars: usize, ascii: bool) -> usize {
    if ascii {
        return chars.min(value.len());
    }
    value.chars().take(chars).map(|c| c.width().unwrap_or(0)).sum()
}

/// The slice of `value` shown from display column `scroll` in `width`
/// columns. Only this slice is handed to ratatui: laying out a field of
/// 100 000 logits every frame would cost more than the whole computation.
/// In `ascii` text, bytes are columns.
fn visible(value: &str, scroll: usize, width: usize, ascii: bool) -> &str {
    if ascii {
        return &value[scroll.min(value.len())..(scroll + width).min(value.len())];
    }
    let mut column = 0;
    let mut start = value.len();
    for (i, c) in value.char_indices() {
        if column >= scroll && start == value.len() {
            start = i;
        }
        if column >= scroll + width {
            return &value[start..i];
        }
        column += c.width().unwrap_or(0);
    }
    &value[start..]
}

#[cfg(test)]
mod tests {
    use super::{cursor_column, visible};

    #[test]
    fn visible_slices_by_display_column() {
        assert_eq!(visible("1.5, -0.8, 0.2", 0, 5, true), "1.5, ");
        assert_eq!(visible("1.5, -0.8, 0.2", 5, 4, true), "-0.8");
        assert_eq!(visible("1.5, -0.8, 0.2", 12, 10, true), ".2");
        assert_eq!(visible("1.5", 9, 10, true), "");
        assert_eq!(visible("−1 γ", 1, 3, false), "1 γ");
        assert_eq!(cursor_column("−1 γ", 3, false), 3);
        assert_eq!(cursor_column("1, 2", 9, true), 4);
    }
}
