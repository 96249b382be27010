//! The keys that work right now (from the key table), or the answer to the
//! last action (a preset, a copy) until the next key.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use unicode_width::UnicodeWidthStr;

use crate::action::Command;
use crate::app::App;
use crate::keys::{BINDINGS, FOOTER_IF_ROOM};
use crate::ui::rows;

pub fn draw(buf: &mut Buffer, area: Rect, app: &App) {
    let theme = &app.look.theme;
    if let Some(status) = &app.status {
        rows::line(buf, area, &Line::styled(format!(" {status}"), theme.key));
        return;
    }
    let shown = BINDINGS.iter().filter(|b| b.active(app.key_context()) && (app.help || b.footer.is_some()));
    let entries: Vec<(&str, &str, bool)> = shown
        .map(|b| {
            let key = b.footer.unwrap_or_else(|| b.label.split(' ').next().unwrap_or(b.label));
            let hint = if app.help && b.command == Command::Back { "close" } else { b.hint };
            (key, hint, FOOTER_IF_ROOM.contains(&b.command))
        })
        .collect();
    // Both keys of every command take room: narrower gaps first, then the
    // entries shown only if there is room, then the first entries go (Tab:
    // the focus mark shows where it moves).
    let width = |entries: &[(&str, &str)], gap: usize| -> usize {
        let words: usize = entries.iter().map(|(k, h)| k.width() + 1 + h.width()).sum();
        1 + words + gap * entries.len().saturating_sub(1)
    };
    let all: Vec<(&str, &str)> = entries.iter().map(|&(k, h, _)| (k, h)).collect();
    let entries = match width(&all, 1) <= area.width as usize {
        true => all,
        false => entries.iter().filter(|e| !e.2).map(|&(k, h, _)| (k, h)).collect(),
    };
    let (skip, gap) = (0..entries.len())
        .flat_map(|skip| [(skip, 2), (skip, 1)])
        .find(|&(skip, gap)| width(&entries[skip..], gap) <= area.width as usize)
        .unwrap_or((0, 1));
    let mut spans = vec![(" ", theme.muted)];
    let gap = &"  "[..gap];
    for (key, hint) in &entries[skip..] {
        spans.extend([(*key, theme.key), (" ", theme.muted), (*hint, theme.muted), (gap, theme.muted)]);
    }
    rows::spans(buf, area, spans);
}
