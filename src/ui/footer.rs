//! The keys that work right now (from the key table), and why the results
//! are stale when they are.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::action::Command;
use crate::app::App;
use crate::keys::BINDINGS;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, wide: bool) {
    let theme = &app.look.theme;
    let mut spans = Vec::new();
    for b in BINDINGS {
        let live = if app.help { b.in_help } else { b.footer };
        // The wide layout shows every pane at once.
        if !live || (wide && b.command == Command::NextPane) {
            continue;
        }
        let key = b.label.split(' ').next().unwrap_or(b.label);
        spans.push(Span::styled(format!(" {key}"), theme.key));
        spans.push(Span::styled(
            format!(" {} ", if app.help && b.command == Command::Back { "close" } else { b.hint }),
            theme.muted,
        ));
    }
    if app.stale {
        spans.push(Span::styled(" ✗ showing the last valid result", theme.error));
    }
    frame.render_widget(Line::from(spans), area);
}
