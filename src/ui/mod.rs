//! Drawing, and only drawing: every function here reads the [`App`] and
//! paints a region of the frame. Layouts: wide (≥ 120 × 32) shows every pane;
//! standard (down to 60 × 16, e.g. 80 × 24) shows the inputs and results with
//! one lower pane at a time (F2); tiny shows the focal loss and a message.

mod chart;
mod classes;
mod dataset;
mod footer;
mod help;
mod inputs;
mod lens;
mod results;
mod rows;
mod steps;
mod table;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::{App, Pane};
use crate::report::num;

const MIN_WIDTH: u16 = 60;
const MIN_HEIGHT: u16 = 16;

/// Draws the whole screen into `buf` (empty, of the terminal's size);
/// returns where the cursor goes, if it is shown.
pub fn view(buf: &mut Buffer, app: &App) -> Option<Position> {
    let area = buf.area;
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        tiny(buf, area, app);
        return None;
    }
    let wide = area.width >= 120 && area.height >= 32;
    let [inputs_area, body, footer_area] =
        Layout::vertical([Constraint::Length(inputs::height(app)), Constraint::Fill(1), Constraint::Length(1)])
            .areas(area);
    let cursor = inputs::draw(buf, inputs_area, app);
    let title = |name: &str| Line::styled(format!(" {name} "), app.look.theme.title);
    if let Some(data) = &app.data {
        dataset::draw(buf, body, app, data, wide);
    } else if wide {
        let [middle, table_area] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(table::HEIGHT)]).areas(body);
        let [left, chart_area] = Layout::horizontal([Constraint::Length(66), Constraint::Fill(1)]).areas(middle);
        let [results_area, classes_area] =
            Layout::vertical([Constraint::Length(results::HEIGHT), Constraint::Fill(1)]).areas(left);
        pane(buf, results_area, results::title(app), app, results::draw);
        pane(buf, classes_area, title("Classes"), app, classes::draw);
        pane(buf, chart_area, chart::title(app), app, chart::draw);
        let (name, draw): (&str, fn(&mut Buffer, Rect, &App)) = match app.pane {
            Pane::Steps => ("Steps", steps::draw),
            Pane::Lens => ("Precision lens: naive softmax → log → pow", lens::draw),
            _ => ("Modulating factor (1 − p_t)^γ", table::draw),
        };
        let mut heading = tabs(app, &Pane::WIDE);
        heading.spans.push(Span::styled(format!(" {name} "), app.look.theme.title));
        pane(buf, table_area, heading, app, draw);
    } else {
        let [results_area, lower] =
            Layout::vertical([Constraint::Length(results::HEIGHT), Constraint::Fill(1)]).areas(body);
        pane(buf, results_area, results::title(app), app, results::draw);
        let draw = match app.pane {
            Pane::Chart => chart::draw,
            Pane::Table => table::draw,
            Pane::Classes => classes::draw,
            Pane::Steps => steps::draw,
            Pane::Lens => lens::draw,
        };
        pane(buf, lower, tabs(app, &Pane::ALL), app, draw);
    }
    footer::draw(buf, footer_area, app);
    if app.help {
        help::draw(buf, area, app);
    }
    cursor
}

/// A pane: a rule with its title on top, and `draw` inside it, one column in.
fn pane(buf: &mut Buffer, area: Rect, title: Line, app: &App, draw: fn(&mut Buffer, Rect, &App)) {
    // What a Block with a top border, the title and a left padding draws,
    // written directly: the widget styles and merges every cell it covers.
    let rule = Rect { height: area.height.min(1), ..area };
    let horizontal = app.look.border().horizontal_top;
    if area.height > 0 {
        for x in area.left()..area.right() {
            buf[(x, area.y)].set_symbol(horizontal);
        }
    }
    let title_width = (title.width() as u16).min(rule.width);
    rows::line(buf, Rect { width: title_width, ..rule }, &title);
    let inner = Rect {
        x: area.x.saturating_add(1),
        y: rule.bottom(),
        width: area.width.saturating_sub(1),
        height: area.height - rule.height,
    };
    draw(buf, inner, app);
}

/// The title of the pane F2 switches: every choice named, the shown one
/// highlighted (the wide layout shows the table for chart and classes).
fn tabs(app: &App, panes: &[Pane]) -> Line<'static> {
    let theme = &app.look.theme;
    let shown = if panes.contains(&app.pane) { app.pane } else { Pane::Table };
    let mut spans = vec![Span::raw(" ")];
    for &p in panes {
        let style = if p == shown { theme.focus } else { theme.muted };
        spans.push(Span::styled(format!(" {} ", p.name()), style));
    }
    spans.push(Span::styled(" F2 ", theme.key));
    Line::from(spans)
}

/// Too small for the explorer: the focal loss, and what to do.
fn tiny(buf: &mut Buffer, area: Rect, app: &App) {
    let theme = &app.look.theme;
    let stale = if app.stale { " (last valid)" } else { "" };
    let (name, value) = match &app.data {
        Some(d) => ("mean FL = ", d.report.sweep[d.current].mean_focal_loss),
        None => ("FL = ", app.shown.result.focal_loss),
    };
    let text = vec![
        Line::from(vec![
            Span::styled(name, theme.text),
            Span::styled(num(value), theme.headline),
            Span::styled(stale, theme.stale),
        ]),
        Line::styled(
            format!("enlarge the terminal to {MIN_WIDTH}×{MIN_HEIGHT} for the explorer; Esc quits"),
            theme.muted,
        ),
    ];
    Paragraph::new(text).wrap(Wrap { trim: true }).render(area, buf);
}
