//! The calculation spelled out, step by step, with exact numbers.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Widget;

use crate::app::App;
use crate::example::Example;
use crate::report;

pub fn draw(buf: &mut Buffer, area: Rect, app: &App, example: &Example) {
    let style = if app.stale { app.look.theme.stale } else { app.look.theme.text };
    let library = example.shown.library.iter().flat_map(|(_, steps)| steps.iter().cloned());
    let core = report::steps(&example.shown.params, &example.shown.result);
    for (line, row) in library.chain(core).zip(area.rows()) {
        Line::styled(line, style).render(row, buf);
    }
}
