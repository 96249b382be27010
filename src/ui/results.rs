//! The summary: FL first (the headline), then CE, FL/CE, p_t, 1 − p_t, the
//! modulating factor, α_t with how it was chosen, and the prediction.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::App;
use crate::example::Example;
use crate::loss::Mode;
use crate::ui::rows;

/// The title rule plus the eight summary lines.
pub const HEIGHT: u16 = 9;

pub fn title(app: &App, example: &Example) -> Line<'static> {
    let theme = &app.look.theme;
    let mode = match example.shown.params.mode {
        Mode::Softmax => " Results · softmax focal loss ",
        Mode::Sigmoid => " Results · sigmoid focal loss, as in the paper (RetinaNet) ",
    };
    let mut spans = vec![match &example.shown.library {
        Some((line, _)) => Span::styled(format!(" Results · {line} "), theme.title),
        None => Span::styled(mode, theme.title),
    }];
    if app.stale {
        spans.push(Span::styled(" STALE: last valid input shown ", theme.stale));
    }
    Line::from(spans)
}

pub fn draw(buf: &mut Buffer, area: Rect, app: &App, example: &Example) {
    let theme = &app.look.theme;
    let rows = area.rows();
    let summary = &example.shown.summary;
    // At least 12 columns, so the notes line up; a longer value pushes them.
    let value_w = summary.iter().map(|l| l.value.chars().count() + 1).max().unwrap_or(0).max(12);
    for ((i, l), row) in summary.iter().enumerate().zip(rows) {
        let value_style = match (app.stale, i) {
            (true, _) => theme.stale,
            (false, 0) => theme.headline,
            _ => theme.text,
        };
        let label = format!("{:<17}", l.label);
        let value = format!("{:<value_w$}", l.value);
        let spans = [(label.as_str(), theme.muted), (&value, value_style), (&l.note, theme.muted)];
        rows::spans(buf, row, spans);
    }
}
