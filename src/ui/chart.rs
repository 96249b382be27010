//! FL vs p_t: one curve per γ of the comparison list, the current γ
//! emphasised, a point at the current example, a legend that always shows
//! (ratatui hides a legend taller than a quarter of the chart by default)
//! and labelled axes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, LegendPosition};

use crate::app::App;
use crate::format::sig;
use crate::shown::Curve;

/// "FL vs p_t" and the α_t the curves use.
pub fn title(app: &App) -> Line<'static> {
    Line::styled(format!(" FL vs p_t · α_t = {} ", sig(app.shown.result.alpha_t, 3)), app.look.theme.title)
}

/// Below this height ratatui's boxed legend (a line per curve) cannot fit,
/// so the legend becomes one line above the plot.
const BOXED_LEGEND_MIN_HEIGHT: u16 = 16;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let look = &app.look;
    let theme = &look.theme;
    let shown = &app.shown;
    let y_max = shown.fl_max();
    let row = shown.result.target_row();
    // Off the top of the axis: pin the point to the edge and say so.
    let now = [(row.p_t, row.focal_loss.min(y_max))];
    let mut datasets: Vec<Dataset> = shown
        .curves
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let style = if c.current { theme.current } else { theme.series[i % theme.series.len()] };
            Dataset::default()
                .name(curve_name(c))
                .marker(look.marker)
                .graph_type(GraphType::Line)
                .style(style)
                .data(&c.points)
        })
        .collect();
    let off_scale = if row.focal_loss > y_max { " ↑" } else { "" };
    datasets.push(
        Dataset::default()
            .name(format!("now{off_scale}"))
            .marker(look.point())
            .graph_type(GraphType::Scatter)
            .style(theme.current)
            .data(&now),
    );
    let boxed = area.height >= BOXED_LEGEND_MIN_HEIGHT;
    let plot = if boxed {
        area
    } else {
        let [legend, plot] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
        let spans = datasets_legend(app, off_scale);
        frame.render_widget(Line::from(spans), legend);
        plot
    };
    let label = |x: f64| Span::styled(sig(x, 3), theme.muted);
    // A middle label on a short axis lands next to an end one: leave it out.
    let y_labels = if plot.height >= 8 {
        vec![label(0.0), label(y_max / 2.0), label(y_max)]
    } else {
        vec![label(0.0), label(y_max)]
    };
    // Axis titles would be drawn over the curves (ratatui puts them inside
    // the plot): the pane title names the axes instead.
    let chart = Chart::new(datasets)
        .x_axis(Axis::default().bounds([0.0, 1.0]).labels([label(0.0), label(0.5), label(1.0)]))
        .y_axis(Axis::default().bounds([0.0, y_max]).labels(y_labels))
        .legend_position(boxed.then_some(LegendPosition::TopRight))
        .hidden_legend_constraints((Constraint::Ratio(1, 1), Constraint::Ratio(1, 1)));
    frame.render_widget(chart, plot);
}

/// The legend as one line: each curve's name in its own style.
fn datasets_legend(app: &App, off_scale: &str) -> Vec<Span<'static>> {
    let theme = &app.look.theme;
    let mut spans: Vec<Span> = app
        .shown
        .curves
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let style = if c.current { theme.current } else { theme.series[i % theme.series.len()] };
            Span::styled(format!(" {} ", curve_name(c)), style)
        })
        .collect();
    let dot = if app.look.unicode { "●" } else { "O" };
    spans.push(Span::styled(format!(" {dot} now{off_scale} "), theme.current));
    spans.push(Span::styled(format!(" α_t = {}", sig(app.shown.result.alpha_t, 3)), theme.muted));
    spans
}

fn curve_name(c: &Curve) -> String {
    format!("γ={}{}", sig(c.gamma, 3), if c.current { " ◀" } else { "" })
}
