//! The modulating-factor table in the seed's columns: reference rows of p_t
//! and the current example's row (highlighted, with its exact values).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Row, Table};

use crate::app::App;

/// The title rule, the header and seven rows.
pub const HEIGHT: u16 = 9;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.look.theme;
    let shown = &app.shown;
    let header = Row::new(std::iter::once("").chain(shown.table_header.iter().map(String::as_str))).style(theme.title);
    // With fewer lines than rows, keep the current row and its neighbours.
    let fit = (area.height as usize).saturating_sub(1).max(1);
    let current = shown.table.iter().position(|(_, now)| *now).unwrap_or(0);
    let start = current.saturating_sub(fit / 2).min(shown.table.len().saturating_sub(fit));
    let rows = shown.table.iter().skip(start).take(fit).map(|(cells, now)| {
        let style = match (now, app.stale) {
            (false, _) => theme.text,
            (true, false) => theme.target,
            (true, true) => theme.stale,
        };
        let mark = if *now { "▶" } else { " " };
        Row::new(std::iter::once(mark).chain(cells.iter().map(String::as_str))).style(style)
    });
    let widths = [
        Constraint::Length(1),
        Constraint::Length(12),
        Constraint::Length(12),
        Constraint::Length(12),
        Constraint::Length(15),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), area);
}
