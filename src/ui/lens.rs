//! The precision lens: the exact values beside what naive float32, float16
//! and bfloat16 code returns, then the profile's PyTorch code under
//! autocast (float16, bfloat16), with 0, ±inf and NaN flagged and why.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::App;
use crate::example::Example;
use crate::lens::amp::Amp;
use crate::lens::{Naive, classify};
use crate::loss::Mode;
use crate::loss::profile::PAPER;
use crate::report::num;
use crate::theme::Theme;
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
    let r = &shown.result;
    let note = if r.mode == Mode::Sigmoid {
        Some("the lens shows naive softmax focal loss: F3 switches to softmax")
    } else if !r.is_class_index() {
        Some("the lens shows naive focal loss of one class index: type a class as the target")
    } else {
        None
    };
    let table_height = if note.is_some() { 1 } else { 5 };
    let amp_height = match &shown.amp {
        Some(Ok(_)) => 2,
        Some(Err(_)) => 1,
        None => 0,
    };
    let [table_area, amp_area, reasons_area] = area.layout(&Layout::vertical([
        Constraint::Length(table_height),
        Constraint::Length(amp_height),
        Constraint::Fill(1),
    ]));
    let mut reasons: Vec<Line> = Vec::new();
    if let Some(note) = note {
        Line::styled(note, theme.muted).render(table_area, buf);
    } else {
        naive_table(buf, table_area, theme, shown, lens);
        reasons.extend(lens.iter().filter(|n| !n.reasons.is_empty()).map(|n| {
            Line::from(vec![
                Span::styled(format!("{}: ", n.precision.name()), theme.error),
                Span::styled(n.reasons.join("; "), theme.text),
            ])
        }));
    }
    match &shown.amp {
        Some(Ok((_, runs))) => {
            for (y, run) in (0..).zip(runs) {
                let row = Rect { y: amp_area.y + y, height: 1, ..amp_area };
                if row.y < amp_area.bottom() {
                    amp_row(run, r.target, theme).render(row, buf);
                }
            }
            let amp_reasons = runs.iter().filter_map(|run| {
                let reason = run.reason.as_ref()?;
                Some(Line::from(vec![
                    Span::styled(format!("AMP {}: ", run.precision.name()), theme.error),
                    Span::styled(reason.as_str(), theme.text),
                ]))
            });
            // A library's own code comes first once a profile is chosen.
            let at = if example.profile == PAPER { reasons.len() } else { 0 };
            reasons.splice(at..at, amp_reasons);
        }
        Some(Err(why)) => Line::styled(format!("AMP: {why}"), theme.muted).render(amp_area, buf),
        None => {}
    }
    if reasons.is_empty() && note.is_none() {
        reasons.push(Line::styled(
            "no 0, inf or NaN in any format: compare the digits with the exact column",
            theme.muted,
        ));
    }
    Paragraph::new(reasons).wrap(Wrap { trim: true }).render(reasons_area, buf);
}

/// The exact values beside the naive ones, a row per quantity.
fn naive_table(buf: &mut Buffer, area: Rect, theme: &Theme, shown: &crate::shown::Shown, lens: &[Naive]) {
    let r = &shown.result;
    let t = r.target;
    let quantities: [(&str, f64, Pick); 4] = [
        ("FL", r.focal_loss, |n, _| n.focal_loss),
        ("CE", r.cross_entropy, |n, _| n.cross_entropy),
        ("p_t", r.p_t, |n, _| n.p_t),
        ("dFL/dz_t", r.gradient[t], |n, t| n.gradient.get(t)),
    ];
    let columns = rows::columns(area, WIDTHS);
    let header = ["", "exact", "float32", "float16", "bfloat16"].map(|t| (t, Style::new()));
    rows::row(buf, area, 0, &columns, theme.title, header);
    for (line, (label, exact, of)) in (1..).zip(&quantities) {
        let mut cells = vec![(label.to_string(), theme.muted), (num(*exact), Style::new())];
        cells.extend(lens.iter().map(|n| flagged(of(n, t), theme)));
        rows::row(buf, area, line, &columns, Style::new(), cells.iter().map(|(text, s)| (text.as_str(), *s)));
    }
}

/// A value, or its flag in the error style.
fn flagged(x: f64, theme: &Theme) -> (String, Style) {
    match classify(x) {
        Some(flag) => (flag.to_string(), theme.error),
        None => (num(x), Style::new()),
    }
}

/// "AMP float16  loss 0.005863 (float16)  dFL/dz_t −0.01356  NaN gradient".
fn amp_row<'a>(run: &'a Amp, target: usize, theme: &Theme) -> Line<'a> {
    let (loss, loss_style) = flagged(run.loss, theme);
    let (grad, grad_style) = flagged(run.gradient[target], theme);
    // Pads the loss and its dtype so the gradients line up.
    let dtype = format!(" ({})", run.loss_dtype.name());
    let pad = " ".repeat(22usize.saturating_sub(loss.chars().count() + dtype.len()) + 2);
    Line::from(vec![
        Span::styled(format!("AMP {:<9}", run.precision.name()), theme.muted),
        Span::raw("loss "),
        Span::styled(loss, loss_style),
        Span::styled(dtype + &pad, theme.muted),
        Span::raw("dFL/dz_t "),
        Span::styled(grad, grad_style),
        Span::raw("  "),
        Span::styled(run.flags.join(" · "), theme.error),
    ])
}
