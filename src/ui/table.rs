//! The modulating-factor table in the seed's columns: reference rows of p_t
//! and the current example's row (highlighted, with its exact values).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Row, Table};

use crate::app::App;
use crate::report;

/// The title rule, the header and seven rows.
pub const HEIGHT: u16 = 9;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.look.theme;
    let shown = &app.shown;
    let header = Row::new(report::table_header(
        shown.result.alpha_t,
        shown.params.gamma,
    ))
    .style(theme.title);
    // With fewer lines than rows, keep the current row and its neighbours.
    let fit = (area.height as usize).saturating_sub(1).max(1);
    let current = shown.table.iter().position(|(_, now)| *now).unwrap_or(0);
    let start = current
        .saturating_sub(fit / 2)
        .min(shown.table.len().saturating_sub(fit));
    let rows = shown
        .table
        .iter()
        .skip(start)
        .take(fit)
        .map(|(point, now)| {
            let mut cells = report::table_row(point);
            if *now {
                cells[0] = format!("▶ {}", cells[0]);
                Row::new(cells.map(Line::from)).style(if app.stale {
                    theme.stale
                } else {
                    theme.target
                })
            } else {
                cells[0] = format!("  {}", cells[0]);
                Row::new(cells.map(Line::from)).style(theme.text)
            }
        });
    let widths = [
        Constraint::Length(13),
        Constraint::Length(12),
        Constraint::Length(12),
        Constraint::Length(15),
        Constraint::Fill(1),
    ];
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}
