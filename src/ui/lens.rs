//! The precision lens: the exact values beside what naive float32, float16
//! and bfloat16 code returns, with 0, ±inf and NaN flagged and why.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::App;
use crate::example::Example;
use crate::lens::{Naive, classify};
use crate::loss::Mode;
use crate::report::num;
use crate::ui::rows;

/// Reads one quantity of a naive result (the gradient at the target).
type Pick = fn(&Naive, usize) -> f64;

const WIDTHS: [Constraint; 5] = [
    Constraint::Length(9),
    Constraint::Length(13),
    Constraint::Length(13),
    Constraint::Length(13),
    Constraint::Fill(1),
];

pub fn draw(buf: &mut Buffer, area: Rect, app: &App, example: &Example) {
    let theme = &app.look.theme;
    let shown = &example.shown;
    let Some(lens) = &shown.lens else { return };
    if shown.result.mode == Mode::Sigmoid {
        let line = Line::styled("the lens shows naive softmax focal loss: F3 switches to softmax", theme.muted);
        line.render(area, buf);
        return;
    }
    if !shown.result.is_class_index() {
        let line =
            Line::styled("the lens shows naive focal loss of one class index: type a class as the target", theme.muted);
        line.render(area, buf);
        return;
    }
    let r = &shown.result;
    let t = r.target;
    let quantities: [(&str, f64, Pick); 4] = [
        ("FL", r.focal_loss, |n, _| n.focal_loss),
        ("CE", r.cross_entropy, |n, _| n.cross_entropy),
        ("p_t", r.p_t, |n, _| n.p_t),
        ("dFL/dz_t", r.gradient[t], |n, t| n.gradient.get(t)),
    ];
    let table_height = (quantities.len() as u16 + 1).min(area.height);
    let [table_area, reasons_area] =
        area.layout(&ratatui::layout::Layout::vertical([Constraint::Length(table_height), Constraint::Fill(1)]));
    let columns = rows::columns(table_area, WIDTHS);
    let header = ["", "exact", "float32", "float16", "bfloat16"].map(|t| (t, Style::new()));
    rows::row(buf, table_area, 0, &columns, theme.title, header);
    for (line, (label, exact, of)) in (1..).zip(&quantities) {
        let mut cells = vec![(label.to_string(), theme.muted), (num(*exact), Style::new())];
        cells.extend(lens.iter().map(|n| {
            let x = of(n, t);
            match classify(x) {
                Some(flag) => (flag.to_string(), theme.error),
                None => (num(x), Style::new()),
            }
        }));
        rows::row(buf, table_area, line, &columns, Style::new(), cells.iter().map(|(text, s)| (text.as_str(), *s)));
    }
    let mut reasons: Vec<Line> = lens
        .iter()
        .filter(|n| !n.reasons.is_empty())
        .map(|n| {
            Line::from(vec![
                Span::styled(format!("{}: ", n.precision.name()), theme.error),
                Span::styled(n.reasons.join("; "), theme.text),
            ])
        })
        .collect();
    if reasons.is_empty() {
        reasons.push(Line::styled(
            "no 0, inf or NaN in any format: compare the digits with the exact column",
            theme.muted,
        ));
    }
    Paragraph::new(reasons).wrap(Wrap { trim: true }).render(reasons_area, buf);
}
