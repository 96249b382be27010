//! Per-class probability bars with dFL/dz beside dCE/dz; the target
//! highlighted. With thousands of classes: the target and the most probable
//! ones, then "… N more".

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Text;
use ratatui::widgets::{Row, Table};

use crate::app::App;
use crate::format::sig;
use crate::loss::Mode;

const BAR: usize = 10;
/// Significant digits: five keep the columns narrow.
const DIGITS: usize = 5;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.look.theme;
    let shown = &app.shown;
    let target = shown.result.target;
    let prob = if shown.result.mode == Mode::Sigmoid { "σ(z)" } else { "p" };
    let header = Row::new(["class", "logit", prob, "", "dFL/dz", "dCE/dz"]).style(theme.title);
    let room = (area.height as usize).saturating_sub(1);
    let listed = &shown.classes;
    let fits = listed.len() <= room && shown.hidden_classes == 0;
    // Leave a line for "… N more" when not everything fits, and never cut the target.
    let fit = if fits { listed.len() } else { room.saturating_sub(1) };
    let r = &shown.result;
    let by_probability = |a: &usize, b: &usize| r.probabilities[*b].total_cmp(&r.probabilities[*a]).then(a.cmp(b));
    let mut pick: Vec<usize> = listed.iter().copied().filter(|&i| i != target).take(fit.saturating_sub(1)).collect();
    if fit > 0 {
        pick.push(target);
        pick.sort_by(by_probability);
    }
    let mut rows: Vec<Row> = pick
        .iter()
        .map(|&i| {
            let is_target = i == target;
            let p = r.probabilities[i];
            let (row_style, bar_style) = if is_target { (theme.target, theme.target) } else { (theme.text, theme.bar) };
            Row::new([
                Text::raw(format!("{}{i}", if is_target { "→" } else { " " })),
                Text::raw(sig(shown.params.logits[i], DIGITS)),
                Text::raw(sig(p, DIGITS)),
                Text::styled(app.look.bar(p, BAR), bar_style),
                Text::raw(sig(r.gradient[i], DIGITS)),
                Text::raw(sig(r.grad_ce[i], DIGITS)),
            ])
            .style(row_style)
        })
        .collect();
    let more = shown.result.probabilities.len() - pick.len();
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
    frame.render_widget(Table::new(rows, widths).header(header).column_spacing(1), area);
}
