//! The calculation spelled out, step by step, with exact numbers.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use crate::app::App;
use crate::report;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let style = if app.stale { app.look.theme.stale } else { app.look.theme.text };
    for (line, row) in report::steps(&app.shown.params, &app.shown.result).into_iter().zip(area.rows()) {
        frame.render_widget(Line::styled(line, style), row);
    }
}
