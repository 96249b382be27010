//! FL vs p_t: one curve per γ of the comparison list, the current γ drawn
//! last and emphasised, a point at the current example, a legend and
//! labelled axes.
//!
//! The curves are rasterised here into one dot grid and written to the
//! buffer in a single pass, instead of ratatui's `Chart`, whose canvas
//! redraws every cell once per dataset: with seven datasets that was half
//! the cost of a keystroke on a large screen.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Widget};

use crate::app::App;
use crate::example::{ChartView, Example};
use crate::format::sig;
use crate::shown::{Curve, Shown};

/// Below this height a boxed legend (a line per curve) would cover the
/// curves, so the legend becomes one line above the plot.
const BOXED_LEGEND_MIN_HEIGHT: u16 = 16;

/// "FL vs p_t" and the α_t the curves use.
pub fn title(app: &App, example: &Example) -> Line<'static> {
    let what = match example.chart {
        ChartView::Fl => "FL vs p_t",
        ChartView::FlLog => "FL vs p_t, log scale",
        ChartView::Factor => "(1 − p_t)^γ vs p_t",
    };
    Line::styled(format!(" {what} · α_t = {} ", sig(example.shown.result.alpha_t, 3)), app.look.theme.title)
}

/// Where a value stands on the y axis: 0 at the bottom, 1 at the top.
/// ratatui's Chart has no log axis; here the data is transformed instead.
enum Scale {
    Linear {
        max: f64,
    },
    /// log10 bounds; FL spans many decades as p_t → 1.
    Log {
        lo: f64,
        hi: f64,
    },
}

/// Decades shown by the log scale below the largest FL.
const DECADES: f64 = 8.0;

impl Scale {
    fn fraction(&self, y: f64) -> f64 {
        match *self {
            Scale::Linear { max } => y / max,
            // Values below the axis (and FL = 0 at p_t = 1) sit on it.
            Scale::Log { lo, hi } => {
                if y > 0.0 {
                    ((y.log10() - lo) / (hi - lo)).max(0.0)
                } else {
                    0.0
                }
            }
        }
    }

    fn value_at(&self, fraction: f64) -> f64 {
        match *self {
            Scale::Linear { max } => max * fraction,
            // At most f64::MAX: 10^log10(MAX) may round up past it.
            Scale::Log { lo, hi } => 10f64.powf(lo + (hi - lo) * fraction).min(f64::MAX),
        }
    }
}

pub fn draw(buf: &mut Buffer, area: Rect, app: &App, example: &Example) {
    let theme = &app.look.theme;
    let shown = &example.shown;
    let row = shown.result.target_row();
    let (scale, now_y) = match example.chart {
        ChartView::Fl => (Scale::Linear { max: shown.fl_max() }, row.focal_loss),
        ChartView::FlLog => {
            let hi = shown.fl_max().log10();
            (Scale::Log { lo: hi - DECADES, hi }, row.focal_loss)
        }
        ChartView::Factor => (Scale::Linear { max: 1.0 }, row.modulating_factor),
    };
    let off_scale = if scale.fraction(now_y) > 1.0 { " ↑" } else { "" };
    let boxed = area.height >= BOXED_LEGEND_MIN_HEIGHT;
    let area = if boxed {
        area
    } else {
        let [legend, rest] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
        Line::from(legend_spans(app, shown, off_scale, true)).render(legend, buf);
        rest
    };
    let Some(plot) = axes(buf, area, app, &scale) else { return };

    // Curves, then the current example's point on top.
    let mut grid = DotGrid::new(plot, app.look.marker);
    let order = shown
        .curves
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.current)
        .chain(shown.curves.iter().enumerate().filter(|(_, c)| c.current));
    for (i, curve) in order {
        let points = if example.chart == ChartView::Factor { &curve.factor } else { &curve.points };
        grid.polyline(points, &scale, curve_style(app, i, curve.current));
    }
    grid.render(buf);
    // A target vector: each class's term at its own p_t, negatives under positives.
    let negatives = shown.class_points.iter().filter(|c| !c.positive);
    for c in negatives.chain(shown.class_points.iter().filter(|c| c.positive)) {
        let y = if example.chart == ChartView::Factor { c.factor } else { c.term };
        let (px, py) = grid.cell_of(c.p_t, scale.fraction(y).min(1.0));
        let (mark, style) =
            if c.positive { (point_char(app), theme.target) } else { (negative_char(app), theme.muted) };
        buf[(px, py)].set_char(mark).set_style(style);
    }
    let (px, py) = grid.cell_of(row.p_t, scale.fraction(now_y).min(1.0));
    buf[(px, py)].set_char(point_char(app)).set_style(theme.current);

    if boxed {
        draw_legend_box(buf, plot, app, shown, off_scale);
    }
}

/// Axes in `area`: y labels of `scale`, a vertical rule, a horizontal
/// rule, x labels 0, 0.5 and 1; the plot inside them (none when too small).
fn axes(buf: &mut Buffer, area: Rect, app: &App, scale: &Scale) -> Option<Rect> {
    let theme = &app.look.theme;
    if area.height < 4 || area.width < 12 {
        return None;
    }
    // Axes: y labels, a vertical rule, a horizontal rule, x labels.
    let fractions: &[f64] = if area.height >= 10 { &[0.0, 0.5, 1.0] } else { &[0.0, 1.0] };
    let y_labels: Vec<(f64, String)> = fractions.iter().map(|&f| (f, sig(scale.value_at(f), 3))).collect();
    let label_w = y_labels.iter().map(|(_, l)| l.chars().count()).max().unwrap_or(1) as u16;
    let plot = Rect::new(area.x + label_w + 1, area.y, area.width - label_w - 1, area.height - 2);
    let (vertical, horizontal, corner) = if app.look.unicode { ("│", "─", "└") } else { ("|", "-", "+") };
    for y in plot.top()..plot.bottom() {
        buf[(plot.x - 1, y)].set_symbol(vertical).set_style(theme.muted);
    }
    buf[(plot.x - 1, plot.bottom())].set_symbol(corner).set_style(theme.muted);
    for x in plot.left()..plot.right() {
        buf[(x, plot.bottom())].set_symbol(horizontal).set_style(theme.muted);
    }
    for (at, label) in &y_labels {
        let y = plot.bottom() - 1 - (at * f64::from(plot.height - 1)).round() as u16;
        buf.set_stringn(area.x, y, format!("{label:>w$}", w = label_w as usize), label_w as usize, theme.muted);
    }
    let bottom = area.bottom() - 1;
    buf.set_string(plot.x, bottom, "0", theme.muted);
    buf.set_string(plot.x + plot.width / 2 - 1, bottom, "0.5", theme.muted);
    buf.set_string(plot.right() - 1, bottom, "1", theme.muted);
    Some(plot)
}

/// A plot's curves: each γ and its loss fractions at the row fractions.
pub type CdfCurves<'a> = Vec<(f64, &'a [f64])>;

/// The paper's Figure 4 on the data: one curve per γ of (fraction of the
/// rows, fraction of the total loss), the current γ's drawn last in its
/// style, a legend line above. Several `plots` (sigmoid: the positives'
/// and the negatives', each named in its empty top-left corner) share the
/// legend: side by side where the area is wide, else stacked.
pub fn cdf(buf: &mut Buffer, area: Rect, app: &App, plots: &[(&str, CdfCurves)], current: usize) {
    let [legend, area] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let style = |i: usize| curve_style(app, i, i == current);
    let Some((_, first)) = plots.first() else { return };
    let names = first.iter().enumerate().map(|(i, (gamma, _))| {
        Span::styled(format!(" γ={}{} ", sig(*gamma, 3), if i == current { " ◀" } else { "" }), style(i))
    });
    Line::from(names.collect::<Vec<_>>()).render(legend, buf);
    // A cell is about twice as tall as wide: side by side from 3 : 1.
    let parts = vec![Constraint::Fill(1); plots.len()];
    let split =
        if area.width >= 3 * area.height { Layout::horizontal(parts).spacing(1) } else { Layout::vertical(parts) };
    for (&(name, ref curves), area) in plots.iter().zip(split.split(area).iter()) {
        let scale = Scale::Linear { max: 1.0 };
        let Some(plot) = axes(buf, *area, app, &scale) else { continue };
        let mut grid = DotGrid::new(plot, app.look.marker);
        let order = (0..curves.len()).filter(|&i| i != current).chain((current < curves.len()).then_some(current));
        for i in order {
            let y = curves[i].1;
            let last = y.len().saturating_sub(1).max(1) as f64;
            let points: Vec<(f64, f64)> = y.iter().enumerate().map(|(k, &v)| (k as f64 / last, v)).collect();
            grid.polyline(&points, &scale, style(i));
        }
        grid.render(buf);
        buf.set_stringn(plot.x + 1, plot.y, name, plot.width.saturating_sub(1) as usize, app.look.theme.title);
    }
}

/// The i-th curve's style; the current γ's stands out.
fn curve_style(app: &App, i: usize, current: bool) -> Style {
    let theme = &app.look.theme;
    if current { theme.current } else { theme.series[i % theme.series.len()] }
}

fn curve_name(c: &Curve) -> String {
    format!("γ={}{}", sig(c.gamma, 3), if c.current { " ◀" } else { "" })
}

fn point_char(app: &App) -> char {
    if app.look.unicode { '●' } else { 'O' }
}

fn negative_char(app: &App) -> char {
    if app.look.unicode { '○' } else { 'o' }
}

/// The legend entries, each in its curve's style; inline adds α_t.
fn legend_spans(app: &App, shown: &Shown, off_scale: &str, inline: bool) -> Vec<Span<'static>> {
    let theme = &app.look.theme;
    let mut spans: Vec<Span> = shown
        .curves
        .iter()
        .enumerate()
        .map(|(i, c)| Span::styled(format!(" {} ", curve_name(c)), curve_style(app, i, c.current)))
        .collect();
    spans.push(Span::styled(format!(" {} now{off_scale} ", point_char(app)), theme.current));
    if shown.class_points.iter().any(|c| c.positive) {
        spans.push(Span::styled(format!(" {} positive terms ", point_char(app)), theme.target));
    }
    if shown.class_points.iter().any(|c| !c.positive) {
        spans.push(Span::styled(format!(" {} negative terms ", negative_char(app)), theme.muted));
    }
    if inline {
        spans.push(Span::styled(format!(" α_t = {}", sig(shown.result.alpha_t, 3)), theme.muted));
    }
    spans
}

/// A box in the plot's top-right corner, one entry per line.
fn draw_legend_box(buf: &mut Buffer, plot: Rect, app: &App, shown: &Shown, off_scale: &str) {
    let entries = legend_spans(app, shown, off_scale, false);
    let width = entries.iter().map(Span::width).max().unwrap_or(0) as u16 + 2;
    let height = entries.len() as u16 + 2;
    if width + 2 > plot.width || height > plot.height {
        return;
    }
    let area = Rect::new(plot.right() - width, plot.y, width, height);
    let block = Block::bordered().border_set(app.look.border()).border_style(app.look.theme.muted);
    let inner = block.inner(area);
    Clear.render(area, buf);
    block.render(area, buf);
    for (i, span) in entries.into_iter().enumerate() {
        buf.set_span(inner.x, inner.y + i as u16, &span, inner.width);
    }
}

/// Dots at the marker's resolution (Braille: 2 × 4 per cell, half blocks:
/// 1 × 2, others: 1 × 1), with the style of the last curve that set a cell.
struct DotGrid {
    area: Rect,
    marker: Marker,
    /// Dots per cell across and down, as powers of two (a division per dot
    /// was a third of the chart's time).
    shift_x: u16,
    shift_y: u16,
    bits: Vec<u8>,
    styles: Vec<Option<Style>>,
}

impl DotGrid {
    fn new(area: Rect, marker: Marker) -> Self {
        let (shift_x, shift_y) = match marker {
            Marker::Braille => (1, 2),
            Marker::HalfBlock => (0, 1),
            _ => (0, 0),
        };
        let cells = area.width as usize * area.height as usize;
        DotGrid { area, marker, shift_x, shift_y, bits: vec![0; cells], styles: vec![None; cells] }
    }

    fn dots(&self) -> (i32, i32) {
        (i32::from(self.area.width << self.shift_x), i32::from(self.area.height << self.shift_y))
    }

    /// Dot coordinates of p_t and a height fraction; y grows downwards.
    fn dot_of(&self, x: f64, fraction: f64) -> (i32, i32) {
        let (w, h) = self.dots();
        let dx = (x.clamp(0.0, 1.0) * f64::from(w - 1)).round() as i32;
        let dy = ((1.0 - fraction) * f64::from(h - 1)).round() as i32;
        (dx, dy)
    }

    /// The cell holding (p_t, fraction), clamped into the plot.
    fn cell_of(&self, x: f64, fraction: f64) -> (u16, u16) {
        let (dx, dy) = self.dot_of(x, fraction);
        let (w, h) = self.dots();
        let cx = dx.clamp(0, w - 1) as u16 >> self.shift_x;
        let cy = dy.clamp(0, h - 1) as u16 >> self.shift_y;
        (self.area.x + cx, self.area.y + cy)
    }

    fn set(&mut self, dx: i32, dy: i32, style: Style) {
        let (w, h) = self.dots();
        if dx < 0 || dy < 0 || dx >= w || dy >= h {
            return;
        }
        let (cx, cy) = (dx as u16 >> self.shift_x, dy as u16 >> self.shift_y);
        let (sx, sy) = (dx as u16 & ((1 << self.shift_x) - 1), dy as u16 & ((1 << self.shift_y) - 1));
        let bit = match (self.shift_x, self.shift_y) {
            // Braille dot numbering: left column 1 2 3 7, right column 4 5 6 8.
            (1, 2) => [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]][sy as usize][sx as usize],
            (0, 1) => 1 << sy,
            _ => 1,
        };
        let i = cy as usize * self.area.width as usize + cx as usize;
        self.bits[i] |= bit;
        self.styles[i] = Some(style);
    }

    /// Straight segments between consecutive points (Bresenham on dots).
    fn polyline(&mut self, points: &[(f64, f64)], scale: &Scale, style: Style) {
        let dots: Vec<(i32, i32)> = points.iter().map(|&(x, y)| self.dot_of(x, scale.fraction(y))).collect();
        for pair in dots.windows(2) {
            let ((mut x0, mut y0), (x1, y1)) = (pair[0], pair[1]);
            let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
            let (sx, sy) = ((x1 - x0).signum(), (y1 - y0).signum());
            let mut err = dx + dy;
            loop {
                self.set(x0, y0, style);
                if (x0, y0) == (x1, y1) {
                    break;
                }
                let e2 = 2 * err;
                if e2 >= dy {
                    err += dy;
                    x0 += sx;
                }
                if e2 <= dx {
                    err += dx;
                    y0 += sy;
                }
            }
        }
    }

    fn render(&self, buf: &mut Buffer) {
        // A row at a time (an empty plot has no rows: any width will do).
        let width = usize::from(self.area.width.max(1));
        let rows = self.bits.chunks(width).zip(self.styles.chunks(width));
        for (y, (bits, styles)) in (self.area.y..).zip(rows) {
            for (x, (&bits, style)) in (self.area.x..).zip(bits.iter().zip(styles)) {
                let Some(style) = style else { continue };
                let glyph = match (self.marker, bits) {
                    (Marker::Braille, _) => char::from_u32(0x2800 + u32::from(bits)).unwrap_or('⣿'),
                    (Marker::HalfBlock, 1) => '▀',
                    (Marker::HalfBlock, 2) => '▄',
                    (Marker::HalfBlock, _) => '█',
                    (Marker::Custom(c), _) => c,
                    (Marker::Block, _) => '█',
                    (Marker::Bar, _) => '▄',
                    _ => '•',
                };
                buf[(x, y)].set_char(glyph).set_style(*style);
            }
        }
    }
}
