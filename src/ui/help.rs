//! The help overlay: every key (from the key table), the formulas, and what
//! γ and α do.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::app::{App, Body};
use crate::keys::{BINDINGS, EDITING};

const ABOUT: &[&str] = &[
    "FL = −α_t·(1 − p_t)^γ·log p_t    CE = −log p_t    p_t = softmax(z)[target]",
    "γ focuses: γ = 0 gives α_t·CE; larger γ shrinks easy examples' loss",
    "  (p_t near 1) far more than hard ones': p_t = 0.9, γ = 2 → 100× below CE.",
    "α balances: a scalar weights the target class; a list gives α_t = α[target];",
    "  in sigmoid mode the positive gets α and every negative 1 − α.",
    "Exact: computed in log space from the logits, never as 1 − p.",
    "Target: 1 (a class) · none (background, sigmoid) · 1, 3 (positives, sigmoid)",
    "  · p: 0.1, 0.7, 0.2 (a probability per class; softmax: summing to 1).",
    "Smoothing ε (Keras): softmax q·(1 − ε) + ε/K, sigmoid y·(1 − ε) + ε/2.",
    "α none (or -1): no weighting, α_t = 1 for every class.",
];

/// The dataset view's own lines.
const ABOUT_DATA: &[&str] = &[
    "Dataset view: F2 switches classes ⇄ p_t histogram; F6 copies the dataset's report.",
    "easy share = the part of the total loss carried by rows with p_t ≥ 0.5;",
    "  90% of FL in = the fewest rows that carry 90 % of the loss (the paper's Fig. 4).",
    "▲ marks a class whose share of the loss grows from CE to FL at the current γ.",
];

pub fn draw(buf: &mut Buffer, area: Rect, app: &App) {
    let theme = &app.look.theme;
    let key_w = 15;
    let mut lines = vec![];
    let data = matches!(app.body, Body::Dataset(_));
    for b in BINDINGS.iter().filter(|b| b.in_data || !data) {
        lines.push(Line::from(vec![Span::styled(format!("  {:<key_w$}", b.label), theme.key), Span::raw(b.does)]));
    }
    for (keys, does) in EDITING {
        lines.push(Line::from(vec![Span::styled(format!("  {keys:<key_w$}"), theme.key), Span::raw(*does)]));
    }
    let about = if data { ABOUT_DATA.iter().chain(ABOUT) } else { [].iter().chain(ABOUT) };
    lines.extend(about.map(|l| Line::raw(format!("  {l}"))));
    let height = (lines.len() as u16 + 2).min(area.height);
    // Narrower screens get the whole width: slivers of the panes beside a
    // popup only clutter it.
    let width = if area.width < 110 { area.width } else { 92 };
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    Clear.render(popup, buf);
    let block = Block::bordered().border_set(app.look.border()).title(Line::styled(" Help · Esc closes ", theme.title));
    Paragraph::new(lines).wrap(Wrap { trim: false }).block(block).render(popup, buf);
}
