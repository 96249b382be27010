//! The modulating-factor table in the seed's columns: reference rows of p_t
//! and the current example's row (highlighted, with its exact values).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;

use crate::app::App;
use crate::example::Example;
use crate::ui::rows;

/// The title rule, the header and seven rows.
pub const HEIGHT: u16 = 9;
const WIDTHS: [Constraint; 6] = [
    Constraint::Length(1),
    Constraint::Length(12),
    Constraint::Length(12),
    Constraint::Length(12),
    Constraint::Length(15),
    Constraint::Fill(1),
];

pub fn draw(buf: &mut Buffer, area: Rect, app: &App, example: &Example) {
    let theme = &app.look.theme;
    let shown = &example.shown;
    let columns = rows::columns(area, WIDTHS);
    rows::row(buf, area, 0, &columns, theme.title, cells("", &shown.table_header));
    // With fewer lines than rows, keep the current row and its neighbours.
    let fit = (area.height as usize).saturating_sub(1).max(1);
    let current = shown.table.iter().position(|(_, now)| *now).unwrap_or(0);
    let start = current.saturating_sub(fit / 2).min(shown.table.len().saturating_sub(fit));
    for (line, (texts, now)) in (1..).zip(shown.table.iter().skip(start).take(fit)) {
        let style = match (now, app.stale) {
            (false, _) => theme.text,
            (true, false) => theme.target,
            (true, true) => theme.stale,
        };
        rows::row(buf, area, line, &columns, style, cells(if *now { "▶" } else { " " }, texts));
    }
}

/// A row's mark column, then its five texts.
fn cells<'a>(mark: &'a str, texts: &'a [String; 5]) -> impl Iterator<Item = rows::Cell<'a>> {
    std::iter::once(mark).chain(texts.iter().map(String::as_str)).map(|t| (t, Style::new()))
}
