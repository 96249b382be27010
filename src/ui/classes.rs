//! Per-class probability bars with dFL/dz beside dCE/dz; the target
//! highlighted. With thousands of classes: the target and the most probable
//! ones, then "… N more". A target vector shows each class's target and term
//! in place of the bar.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;

use crate::app::App;
use crate::example::Example;
use crate::format::sig;
use crate::loss::Mode;
use crate::ui::rows;

const BAR: usize = 10;
/// Significant digits: five keep the columns narrow.
const DIGITS: usize = 5;
const WIDTHS: [Constraint; 6] = [
    Constraint::Length(7),
    Constraint::Length(10),
    Constraint::Length(10),
    Constraint::Length(BAR as u16),
    Constraint::Length(11),
    Constraint::Length(11),
];
const WIDTHS_TARGETS: [Constraint; 7] = [
    Constraint::Length(7),
    Constraint::Length(9),
    Constraint::Length(10),
    Constraint::Length(7),
    Constraint::Length(11),
    Constraint::Length(11),
    Constraint::Length(11),
];

/// The classes on the rows under the header, top down, in `height` rows:
/// by probability, the target always among them, a row kept for "… N more"
/// when not every class fits.
pub fn listed(example: &Example, height: u16) -> Vec<usize> {
    let shown = &example.shown;
    let (r, target) = (&shown.result, shown.result.target);
    let room = (height as usize).saturating_sub(1);
    let listed = &shown.classes;
    let fits = listed.len() <= room && shown.hidden_classes == 0;
    // Leave a line for "… N more" when not everything fits, and never cut the target.
    let fit = if fits { listed.len() } else { room.saturating_sub(1) };
    let by_probability = |a: &usize, b: &usize| r.probabilities[*b].total_cmp(&r.probabilities[*a]).then(a.cmp(b));
    let mut pick: Vec<usize> = listed.iter().copied().filter(|&i| i != target).take(fit.saturating_sub(1)).collect();
    if fit > 0 {
        pick.push(target);
        pick.sort_by(by_probability);
    }
    pick
}

pub fn draw(buf: &mut Buffer, area: Rect, app: &App, example: &Example) {
    let theme = &app.look.theme;
    let shown = &example.shown;
    let target = shown.result.target;
    let r = &shown.result;
    let prob = if shown.result.mode == Mode::Sigmoid { "σ(z)" } else { "p" };
    let pick = listed(example, area.height);
    let vector = !r.is_class_index();
    let (narrow, wide);
    let columns: &[Rect] = if vector {
        wide = rows::columns(area, WIDTHS_TARGETS);
        &wide
    } else {
        narrow = rows::columns(area, WIDTHS);
        &narrow
    };
    let plain = Style::new();
    let header: &[&str] = if vector {
        &["class", "logit", prob, "target", "FL term", "dFL/dz", "dCE/dz"]
    } else {
        &["class", "logit", prob, "", "dFL/dz", "dCE/dz"]
    };
    rows::row(buf, area, 0, columns, theme.title, header.iter().map(|&t| (t, plain)));
    for (line, &i) in (1..).zip(&pick) {
        let is_target = i == target;
        let p = r.probabilities[i];
        let (row_style, bar_style) = if is_target { (theme.target, theme.target) } else { (theme.text, theme.bar) };
        let head =
            [format!("{}{i}", if is_target { "→" } else { " " }), sig(shown.params.logits[i], DIGITS), sig(p, DIGITS)];
        let tail = [sig(r.gradient[i], DIGITS), sig(r.grad_ce[i], DIGITS)];
        // A class index shows the probability's bar; a target vector, each
        // class's target and term in its place.
        let (middle, middle_style) = if vector {
            ([sig(r.target_of(i), DIGITS), sig(r.term(i), DIGITS)], plain)
        } else {
            ([app.look.bar(p, BAR), String::new()], bar_style)
        };
        let middle = &middle[..if vector { 2 } else { 1 }];
        let cells = head.iter().map(|c| (c.as_str(), plain));
        let cells = cells.chain(middle.iter().map(|c| (c.as_str(), middle_style)));
        rows::row(buf, area, line, columns, row_style, cells.chain(tail.iter().map(|c| (c.as_str(), plain))));
    }
    let more = shown.result.probabilities.len() - pick.len();
    if more > 0 {
        let line = pick.len() as u16 + 1;
        rows::row(buf, area, line, columns, theme.muted, [("…", plain), (&format!("{more} more"), plain)]);
    }
}
