//! Drawing, and only drawing: every function here reads the [`App`] and
//! paints a region of the frame. Layouts: wide (≥ 120 × 32) shows every pane;
//! standard (down to 60 × 16, e.g. 80 × 24) shows the inputs and results with
//! one lower pane at a time (F2); tiny shows the focal loss and a message.

mod chart;
mod classes;
mod dataset;
mod footer;
pub mod help;
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

use crate::action::Spot;
use crate::app::{App, Body, is_wide};
use crate::dataset::DataPane;
use crate::example::{Example, Pane};
use crate::report::num;
use crate::theme::Look;

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
    let wide = is_wide(area.width, area.height);
    let [inputs_area, body, footer_area] = regions(app, area);
    let cursor = inputs::draw(buf, inputs_area, app);
    match &app.body {
        Body::Example(example) => draw_example(buf, body, app, example, wide),
        Body::Dataset(data) => dataset::draw(buf, body, app, data, wide),
    }
    footer::draw(buf, footer_area, app);
    if app.help {
        help::draw(buf, area, app);
    }
    cursor
}

/// What the screen of `area` shows at `at`, for a click or the wheel: a
/// field (and where in its text), a pane's tab, a class's row.
pub fn spot_at(app: &App, area: Rect, at: Position) -> Option<Spot> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT || app.help || !area.contains(at) {
        return None;
    }
    let [inputs_area, body, _] = regions(app, area);
    if inputs_area.contains(at) {
        return inputs::field_at(app, inputs_area, at).map(|(field, char)| Spot::Field(field, char));
    }
    let wide = is_wide(area.width, area.height);
    let example = match &app.body {
        Body::Example(example) => example,
        // The wide layout shows both lower panes, untabbed.
        Body::Dataset(_) if wide => return None,
        Body::Dataset(data) => {
            let [_, _, lower] = dataset::areas(body, data);
            let title = tabs(&app.look, DataPane::ALL.map(|p| (p.name(), p == data.pane)));
            return tab_at(&title, lower, at).and_then(|i| DataPane::ALL.get(i)).map(|&p| Spot::DataPane(p));
        }
    };
    let areas = example_areas(body, wide);
    let panes: &[Pane] = if wide { &Pane::WIDE } else { &Pane::ALL };
    if at.y == areas.switched.y {
        let title = pane_tabs(&app.look, example.pane, panes);
        return tab_at(&title, areas.switched, at).and_then(|i| panes.get(i)).map(|&p| Spot::Pane(p));
    }
    let classes = match areas.classes {
        Some(classes) => classes,
        None if example.pane == Pane::Classes => areas.switched,
        None => return None,
    };
    let inner = pane_inner(classes);
    let row = at.y.checked_sub(inner.y + 1).filter(|_| inner.contains(at))?;
    classes::listed(example, inner.height).get(usize::from(row)).map(|&class| Spot::Class(class))
}

/// Which tab of `title` (drawn on the top row of `area`) is at `at`: after
/// a leading space, one span a tab.
fn tab_at(title: &Line, area: Rect, at: Position) -> Option<usize> {
    if at.y != area.y {
        return None;
    }
    let mut x = area.x;
    for (i, span) in title.spans.iter().enumerate() {
        let end = x.saturating_add(span.width() as u16);
        if (x..end).contains(&at.x) {
            return i.checked_sub(1);
        }
        x = end;
    }
    None
}

/// The screen's rows: the fields, the body, the footer.
fn regions(app: &App, area: Rect) -> [Rect; 3] {
    Layout::vertical([Constraint::Length(inputs::height(app)), Constraint::Fill(1), Constraint::Length(1)]).areas(area)
}

/// Where the example view's panes go: the results, the classes and the
/// chart when the layout shows them apart (wide), and the pane F2 switches.
struct ExampleAreas {
    results: Rect,
    classes: Option<Rect>,
    chart: Option<Rect>,
    switched: Rect,
}

fn example_areas(area: Rect, wide: bool) -> ExampleAreas {
    if wide {
        let [middle, switched] = Layout::vertical([Constraint::Fill(1), Constraint::Length(table::HEIGHT)]).areas(area);
        let [left, chart] = Layout::horizontal([Constraint::Length(66), Constraint::Fill(1)]).areas(middle);
        let [results, classes] =
            Layout::vertical([Constraint::Length(results::HEIGHT), Constraint::Fill(1)]).areas(left);
        ExampleAreas { results, classes: Some(classes), chart: Some(chart), switched }
    } else {
        let [results, switched] =
            Layout::vertical([Constraint::Length(results::HEIGHT), Constraint::Fill(1)]).areas(area);
        ExampleAreas { results, classes: None, chart: None, switched }
    }
}

/// A pane of the example view.
type ExampleDraw = fn(&mut Buffer, Rect, &App, &Example);

/// The body of the example view (between the inputs and the footer).
fn draw_example(buf: &mut Buffer, area: Rect, app: &App, example: &Example, wide: bool) {
    let show = |buf: &mut Buffer, area: Rect, title: Line, draw: ExampleDraw| {
        pane(buf, area, title, &app.look, |buf, inner| draw(buf, inner, app, example));
    };
    let title = |name: &str| Line::styled(format!(" {name} "), app.look.theme.title);
    let areas = example_areas(area, wide);
    show(buf, areas.results, results::title(app, example), results::draw);
    if let (Some(classes_area), Some(chart_area)) = (areas.classes, areas.chart) {
        show(buf, classes_area, title("Classes"), classes::draw);
        show(buf, chart_area, chart::title(app, example), chart::draw);
        let (name, draw): (&str, ExampleDraw) = match example.pane {
            Pane::Steps => ("Steps", steps::draw),
            Pane::Lens => ("Precision lens: naive softmax → log → pow · torch AMP", lens::draw),
            _ => ("Modulating factor (1 − p_t)^γ", table::draw),
        };
        let mut heading = pane_tabs(&app.look, example.pane, &Pane::WIDE);
        heading.spans.push(Span::styled(format!(" {name} "), app.look.theme.title));
        show(buf, areas.switched, heading, draw);
    } else {
        let draw: ExampleDraw = match example.pane {
            Pane::Chart => chart::draw,
            Pane::Table => table::draw,
            Pane::Classes => classes::draw,
            Pane::Steps => steps::draw,
            Pane::Lens => lens::draw,
        };
        show(buf, areas.switched, pane_tabs(&app.look, example.pane, &Pane::ALL), draw);
    }
}

/// A pane: a rule with its title on top, and `draw` inside it, one column in.
fn pane(buf: &mut Buffer, area: Rect, title: Line, look: &Look, draw: impl FnOnce(&mut Buffer, Rect)) {
    // What a Block with a top border, the title and a left padding draws,
    // written directly: the widget styles and merges every cell it covers.
    let rule = Rect { height: area.height.min(1), ..area };
    let horizontal = look.border().horizontal_top;
    if area.height > 0 {
        for x in area.left()..area.right() {
            buf[(x, area.y)].set_symbol(horizontal);
        }
    }
    let title_width = (title.width() as u16).min(rule.width);
    rows::line(buf, Rect { width: title_width, ..rule }, &title);
    draw(buf, pane_inner(area));
}

/// Inside a pane: below its rule, one column in.
fn pane_inner(area: Rect) -> Rect {
    let rule = area.height.min(1);
    Rect {
        x: area.x.saturating_add(1),
        y: area.y + rule,
        width: area.width.saturating_sub(1),
        height: area.height - rule,
    }
}

/// The title of the example's pane F2 switches (the wide layout shows the
/// table for chart and classes).
fn pane_tabs(look: &Look, pane: Pane, panes: &[Pane]) -> Line<'static> {
    let shown = if panes.contains(&pane) { pane } else { Pane::Table };
    tabs(look, panes.iter().map(|&p| (p.name(), p == shown)))
}

/// The title of a pane F2 switches: every choice named, the shown one
/// highlighted.
fn tabs<'a>(look: &Look, choices: impl IntoIterator<Item = (&'a str, bool)>) -> Line<'static> {
    let theme = &look.theme;
    let mut spans = vec![Span::raw(" ")];
    for (name, shown) in choices {
        let style = if shown { theme.focus } else { theme.muted };
        spans.push(Span::styled(format!(" {name} "), style));
    }
    spans.push(Span::styled(" F2 ", theme.key));
    Line::from(spans)
}

/// Too small for the explorer: the focal loss, and what to do.
fn tiny(buf: &mut Buffer, area: Rect, app: &App) {
    let theme = &app.look.theme;
    let stale = if app.stale { " (last valid)" } else { "" };
    let (name, value) = match &app.body {
        Body::Example(example) => ("FL = ", example.shown.result.focal_loss),
        Body::Dataset(d) => ("mean FL = ", d.report.sweep[d.current].mean_focal_loss),
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
