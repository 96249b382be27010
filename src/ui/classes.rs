//! Per-class probability bars with dFL/dz beside dCE/dz; the target
//! highlighted. With thousands of classes: the target and the most probable
//! ones, then "… N more".

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Row, Table};

use crate::app::App;
use crate::loss::Mode;
use crate::shown::ClassRow;

const BAR: usize = 10;

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
    let mut pick: Vec<&ClassRow> = listed.iter().filter(|c| c.index != target).take(fit.saturating_sub(1)).collect();
    if fit > 0
        && let Some(t) = listed.iter().find(|c| c.index == target)
    {
        pick.push(t);
        pick.sort_by(|a, b| b.probability.total_cmp(&a.probability).then(a.index.cmp(&b.index)));
    }
    let mut rows: Vec<Row> = pick
        .iter()
        .map(|c| {
            let [class, logit, p, dfl, dce] = &c.cells;
            let bar = app.look.bar(c.probability, BAR);
            let (row_style, bar_style) =
                if c.index == target { (theme.target, theme.target) } else { (theme.text, theme.bar) };
            Row::new([
                class.as_str().into(),
                logit.as_str().into(),
                p.as_str().into(),
                ratatui::text::Text::styled(bar, bar_style),
                dfl.as_str().into(),
                dce.as_str().into(),
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
