//! The keys that work right now (from the key table), or the answer to the
//! last action (a preset, a copy) until the next key.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;

use crate::action::Command;
use crate::app::App;
use crate::keys::BINDINGS;
use crate::ui::rows;

pub fn draw(buf: &mut Buffer, area: Rect, app: &App) {
    let theme = &app.look.theme;
    if let Some(status) = &app.status {
        rows::line(buf, area, &Line::styled(format!(" {status}"), theme.key));
        return;
    }
    let mut spans = Vec::new();
    for b in BINDINGS.iter().filter(|b| b.active(app.key_context()) && (app.help || b.footer)) {
        let key = b.label.split(' ').next().unwrap_or(b.label);
        let hint = if app.help && b.command == Command::Back { "close" } else { b.hint };
        spans.extend([(" ", theme.key), (key, theme.key), (" ", theme.muted), (hint, theme.muted), (" ", theme.muted)]);
    }
    rows::spans(buf, area, spans);
}
