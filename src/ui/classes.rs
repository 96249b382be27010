//! Per-class probability bars with dFL/dz beside dCE/dz; the target
//! highlighted. With thousands of classes: the target and the most probable
//! ones, then "… N more".

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Row, Table};

use crate::app::App;
use crate::format::sig;
use crate::loss::Mode;

const BAR: usize = 10;
/// Significant digits: five keep every column inside a 66-cell pane.
const DIGITS: usize = 5;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.look.theme;
    let r = &app.shown.result;
    let logits = &app.shown.params.logits;
    let prob = if r.mode == Mode::Sigmoid {
        "σ(z)"
    } else {
        "p"
    };
    let header = Row::new(["class", "logit", prob, "", "dFL/dz", "dCE/dz"]).style(theme.title);
    let room = (area.height as usize).saturating_sub(1);
    let listed = &app.shown.classes;
    let fits = listed.len() <= room && app.shown.hidden_classes == 0;
    // Leave a line for "… N more" when not everything fits, and never cut the target.
    let fit = if fits {
        listed.len()
    } else {
        room.saturating_sub(1)
    };
    let mut pick: Vec<usize> = listed
        .iter()
        .copied()
        .filter(|&i| i != r.target)
        .take(fit.saturating_sub(1))
        .collect();
    if fit > 0 {
        pick.push(r.target);
        pick.sort_by(|&a, &b| {
            r.probabilities[b]
                .total_cmp(&r.probabilities[a])
                .then(a.cmp(&b))
        });
    }
    let mut rows: Vec<Row> = Vec::with_capacity(pick.len() + 1);
    for &i in &pick {
        let is_target = i == r.target;
        let mark = if is_target { "→" } else { " " };
        let cells = [
            format!("{mark}{i}"),
            sig(logits[i], DIGITS),
            sig(r.probabilities[i], DIGITS),
            app.look.bar(r.probabilities[i], BAR),
            sig(r.gradient[i], DIGITS),
            sig(r.grad_ce[i], DIGITS),
        ];
        rows.push(Row::new(cells).style(if is_target { theme.target } else { theme.text }));
    }
    let more = r.probabilities.len() - pick.len();
    if more > 0 {
        rows.push(Row::new(["…".to_string(), format!("{more} more")]).style(theme.muted));
    }
    let widths = [
        Constraint::Length(7),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(BAR as u16),
        Constraint::Length(11),
        Constraint::Length(11),
    ];
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}
