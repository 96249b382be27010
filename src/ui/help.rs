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
    "F3 sigmoid: every class a binary problem; positives (the label) and negatives",
    "  (the other classes) as shares of the total loss, easy ones with σ(±z) ≥ 0.5:",
    "  under CE the easy negatives dominate, γ shrinks them. A row's loss sums its K",
    "  problems; its p_t is the label's σ(z). The other mode's rows are read once.",
];

/// Every line of the help: the key table, the editing keys, then the text.
fn lines(app: &App) -> Vec<Line<'static>> {
    let theme = &app.look.theme;
    let key_w = 15;
    let data = matches!(app.body, Body::Dataset(_));
    let mut lines = vec![];
    for b in BINDINGS.iter().filter(|b| b.in_view(data)) {
        lines.push(Line::from(vec![Span::styled(format!("  {:<key_w$}", b.label), theme.key), Span::raw(b.does)]));
    }
    for (keys, does) in EDITING {
        lines.push(Line::from(vec![Span::styled(format!("  {keys:<key_w$}"), theme.key), Span::raw(*does)]));
    }
    let about = if data { ABOUT_DATA.iter().chain(ABOUT) } else { [].iter().chain(ABOUT) };
    lines.extend(about.map(|l| Line::raw(format!("  {l}"))));
    lines
}

/// The popup in `area` and its text, wrapped; the text's rows when wrapped.
fn layout(app: &App, area: Rect) -> (Rect, Paragraph<'static>, u16) {
    let text = Paragraph::new(lines(app)).wrap(Wrap { trim: false });
    // Narrower screens get the whole width: slivers of the panes beside a
    // popup only clutter it.
    let width = if area.width < 110 { area.width } else { 92 };
    let rows = text.line_count(width.saturating_sub(2)).min(usize::from(u16::MAX)) as u16;
    let height = rows.saturating_add(2).min(area.height);
    (area.centered(Constraint::Length(width), Constraint::Length(height)), text, rows)
}

/// How far the help can scroll on a screen of `area`: the rows it hides.
pub fn max_scroll(app: &App, area: Rect) -> u16 {
    let (popup, _, rows) = layout(app, area);
    hidden(popup, rows)
}

/// The rows of text that do not fit inside the popup's border.
fn hidden(popup: Rect, rows: u16) -> u16 {
    rows.saturating_sub(popup.height.saturating_sub(2))
}

pub fn draw(buf: &mut Buffer, area: Rect, app: &App) {
    let theme = &app.look.theme;
    let (popup, text, rows) = layout(app, area);
    let last = hidden(popup, rows);
    let scroll = app.help_scroll.min(last);
    // Where it does not fit, the title says how to see the rest and the
    // bottom border how much of it there is.
    let title = if last > 0 { " Help · ↑↓ PgUp/Dn scroll · Esc closes " } else { " Help · Esc closes " };
    let mut block = Block::bordered().border_set(app.look.border()).title(Line::styled(title, theme.title));
    if last > 0 {
        let more = match (scroll > 0, scroll < last) {
            (true, true) => " ↑ more ↓ ",
            (false, _) => " ↓ more ",
            (true, false) => " ↑ more ",
        };
        block = block.title_bottom(Line::styled(more, theme.title).right_aligned());
    }
    Clear.render(popup, buf);
    text.scroll((scroll, 0)).block(block).render(popup, buf);
}
