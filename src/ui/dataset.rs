//! The dataset view (`focal-tui --data`): the dataset's summary, the sweep
//! table (the current γ highlighted), per-class shares of CE and FL as bars,
//! and the p_t histogram. Wide screens show the classes and the histogram
//! side by side; smaller ones one at a time (F2). In sigmoid mode (F3) the
//! sweep shows the positives' and the negatives' shares of the loss, a
//! class's rows are those labelled with it (each row's loss the sum of its K
//! binary problems), and p_t is the label's σ(z).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::Widget;
use ratatui::widgets::{Row, Table};

use crate::app::App;
use crate::data::sweep::{LossCdf, SweepRow};
use crate::dataset::{DataPane, Dataset};
use crate::format::{count, pct, ratio, sig};

/// The summary's two lines.
const SUMMARY: u16 = 2;
const BAR: usize = 16;

/// A pane of the dataset view.
type DatasetDraw = fn(&mut Buffer, Rect, &App, &Dataset);

/// The summary, the sweep, and the lower panes (tabbed in the standard layout).
pub fn areas(area: Rect, data: &Dataset) -> [Rect; 3] {
    let sweep_height = data.report.sweep.len() as u16 + 2;
    Layout::vertical([Constraint::Length(SUMMARY + 1), Constraint::Length(sweep_height), Constraint::Fill(1)])
        .areas(area)
}

/// Draws the body of the dataset view (between the inputs and the footer).
pub fn draw(buf: &mut Buffer, area: Rect, app: &App, data: &Dataset, wide: bool) {
    let [summary_area, sweep_area, lower] = areas(area, data);
    let show = |buf: &mut Buffer, area: Rect, title: Line, draw: DatasetDraw| {
        super::pane(buf, area, title, &app.look, |buf, inner| draw(buf, inner, app, data));
    };
    show(buf, summary_area, title(app, data), summary);
    let gamma = data.report.sweep[data.current].gamma;
    let sweep_title = Line::styled(
        format!(" Sweep over {} · ▶ current γ = {} ", count(data.report.rows, "row", "rows"), sig(gamma, 4)),
        app.look.theme.title,
    );
    show(buf, sweep_area, sweep_title, sweep);
    let classes_title = format!("Classes: share of the loss, CE → FL at γ = {}", sig(gamma, 4));
    let heading = |pane: DataPane| match pane {
        DataPane::Classes => classes_title.clone(),
        // Sigmoid: each row's p_t is its label's σ(z); its loss sums all K binary problems.
        DataPane::Histogram if data.split.is_some() => "p_t = σ(z_label) histogram (rows per bin)".to_string(),
        DataPane::Histogram => "p_t histogram (rows per bin)".to_string(),
        DataPane::Suggestions => "α suggestions · F4 pick · F5 apply".to_string(),
        DataPane::LossCdf if data.split.is_some() => {
            "Loss CDF: each side's share of its FL (y) in its lowest-loss rows (x)".to_string()
        }
        DataPane::LossCdf => "Loss CDF: share of FL (y) in the lowest-loss rows (x)".to_string(),
    };
    let drawer = |pane: DataPane| -> DatasetDraw {
        match pane {
            DataPane::Classes => classes,
            DataPane::Histogram => histogram,
            DataPane::Suggestions => suggestions,
            DataPane::LossCdf => loss_cdf,
        }
    };
    if wide {
        let [left, right] = Layout::horizontal([Constraint::Fill(3), Constraint::Fill(2)]).areas(lower);
        let theme = &app.look.theme;
        let named = |pane| Line::styled(format!(" {} ", heading(pane)), theme.title);
        show(buf, left, named(DataPane::Classes), classes);
        // The right-hand pane switches (F2); the classes stay on the left.
        let right_pane = data.pane.right(true);
        let mut tabs = super::tabs(&app.look, DataPane::WIDE.map(|p| (p.name(), p == right_pane)));
        tabs.spans.push(Span::styled(format!(" {} ", heading(right_pane)), theme.title));
        show(buf, right, tabs, drawer(right_pane));
    } else {
        let mut tabs = super::tabs(&app.look, DataPane::ALL.map(|p| (p.name(), p == data.pane)));
        tabs.spans.push(Span::styled(format!(" {} ", heading(data.pane)), app.look.theme.title));
        show(buf, lower, tabs, drawer(data.pane));
    }
}

/// The files, the logits' shape (and the class axis asked for), and the
/// mode of the sweep shown.
fn title(app: &App, data: &Dataset) -> Line<'static> {
    let theme = &app.look.theme;
    let shape = match &data.shape {
        Some((dims, axis)) => {
            let dims: Vec<String> = dims.iter().map(u64::to_string).collect();
            let axis = match axis {
                Some(a) => format!(", class axis {a}"),
                None if dims.len() > 2 => ", class axis 1".to_string(),
                None => String::new(),
            };
            format!(" ({}){axis}", dims.join(", "))
        }
        None => String::new(),
    };
    let mode = data.config.mode.name();
    // The mode first: a long path is what the width cuts.
    let mut spans = vec![Span::styled(format!(" Dataset · {mode} focal loss · {}{shape} ", data.name), theme.title)];
    if app.stale {
        spans.push(Span::styled(" STALE: last valid γ and α shown ", theme.stale));
    }
    Line::from(spans)
}

fn summary(buf: &mut Buffer, area: Rect, app: &App, data: &Dataset) {
    let theme = &app.look.theme;
    let r = &data.report;
    let mut counts = vec![count(r.rows, "row", "rows"), count(r.classes as u64, "class", "classes")];
    if data.ignored() > 0 {
        counts.push(format!("{} ignored", count(data.ignored(), "position", "positions")));
    }
    if data.skipped_rows() > 0 {
        counts.push(format!("{} skipped", count(data.skipped_rows(), "row", "rows")));
    }
    let second = match &data.split {
        // The paper's point: under cross entropy the easy negatives carry most of the loss.
        Some(split) => vec![
            Span::styled("mean CE (Σ BCE) ", theme.muted),
            Span::styled(sig(r.mean_cross_entropy, 6), theme.headline),
            Span::styled("   CE: negatives ", theme.muted),
            Span::styled(pct(split.cross_entropy.negatives), theme.text),
            Span::styled(", easy ones ", theme.muted),
            Span::styled(pct(split.cross_entropy.easy_negatives), theme.text),
            Span::styled(format!("   α {}", alpha_text(data)), theme.muted),
        ],
        None => vec![
            Span::styled("mean CE ", theme.muted),
            Span::styled(sig(r.mean_cross_entropy, 6), theme.headline),
            Span::styled("   easy rows (p_t ≥ 0.5) ", theme.muted),
            Span::styled(pct(r.easy_fraction), theme.text),
            Span::styled(format!("   α {}", alpha_text(data)), theme.muted),
        ],
    };
    let lines = [
        Line::from(vec![
            Span::styled(format!("{} · ", counts.join(" · ")), theme.text),
            Span::styled("accuracy ", theme.muted),
            Span::styled(pct(r.accuracy), theme.text),
        ]),
        Line::from(second),
    ];
    for (line, row) in lines.into_iter().zip(area.rows()) {
        line.render(row, buf);
    }
}

fn alpha_text(data: &Dataset) -> String {
    match &data.config.alpha {
        crate::loss::Alpha::Scalar(a) => format!("= {}", sig(*a, 4)),
        crate::loss::Alpha::PerClass(v) => format!("per class ({})", v.len()),
    }
}

/// One row per γ: mean FL, FL/CE, then the easy rows' share of FL and of
/// CE (softmax) or the positives' and negatives' shares of FL and their
/// easy ones' (sigmoid), and the fewest rows that carry 90 % of FL and of
/// CE.
fn sweep(buf: &mut Buffer, area: Rect, app: &App, data: &Dataset) {
    let theme = &app.look.theme;
    let r = &data.report;
    let (header, widths): (&[&str], &[u16]) = match data.split {
        Some(_) => (
            &["", "γ", "mean FL", "FL / CE", "positives", "· easy", "negatives", "· easy", "90% of FL in"],
            &[1, 6, 11, 9, 9, 7, 9, 7, 12],
        ),
        None => (
            &["", "γ", "mean FL", "FL / CE", "easy share FL", "· of CE", "90% of FL in", "· of CE"],
            &[1, 6, 12, 9, 13, 8, 13, 11],
        ),
    };
    let rows = r.sweep.iter().enumerate().map(|(i, s)| {
        let now = i == data.current;
        let style = match (now, app.stale) {
            (false, _) => theme.text,
            (true, false) => theme.target,
            (true, true) => theme.stale,
        };
        let mut cells = vec![
            if now { "▶".to_string() } else { String::new() },
            sig(s.gamma, 4),
            sig(s.mean_focal_loss, 6),
            ratio(s.mean_focal_loss, r.mean_cross_entropy, 4).unwrap_or_else(|| "–".into()),
        ];
        match data.split.as_ref().and_then(|split| split.focal.get(i)) {
            Some(sh) => cells.extend([sh.positives, sh.easy_positives, sh.negatives, sh.easy_negatives].map(pct)),
            None => cells.extend([pct(s.easy_share), pct(s.easy_share_ce)]),
        }
        cells.push(format!("{} rows", pct(s.top_share_90)));
        if data.split.is_none() {
            cells.push(format!("{} rows", pct(s.top_share_90_ce)));
        }
        Row::new(cells).style(style)
    });
    let widths = widths.iter().map(|&w| Constraint::Length(w));
    Table::new(rows, widths).header(Row::new(header.to_vec()).style(theme.title)).column_spacing(1).render(area, buf);
}

/// Per class: rows, accuracy, share of CE → share of FL at the current γ,
/// and a bar of the FL share; the classes whose share grows most first when
/// not all fit.
fn classes(buf: &mut Buffer, area: Rect, app: &App, data: &Dataset) {
    let theme = &app.look.theme;
    let r = &data.report;
    let g = data.current;
    let room = (area.height as usize).saturating_sub(1);
    let mut order: Vec<usize> = (0..r.per_class.len()).collect();
    let fits = order.len() <= room;
    if !fits {
        // The largest FL shares: where the loss goes.
        order.sort_by(|&a, &b| r.per_class[b].share[g].total_cmp(&r.per_class[a].share[g]).then(a.cmp(&b)));
        order.truncate(room.saturating_sub(1));
    }
    let header = Row::new(["class", "rows", "accuracy", "CE share", "FL share", ""]).style(theme.title);
    let top = order.iter().map(|&c| r.per_class[c].share[g]).fold(0.0, f64::max);
    let mut rows: Vec<Row> = order
        .iter()
        .map(|&c| {
            let s = &r.per_class[c];
            let (ce, fl) = (data.ce_share[c], s.share[g]);
            let style = if fl > ce { theme.target } else { theme.text };
            Row::new([
                Text::raw(c.to_string()),
                Text::raw(s.count.to_string()),
                Text::raw(s.means.as_ref().map_or("–".into(), |m| pct(m.accuracy))),
                Text::raw(pct(ce)),
                Text::styled(format!("{} {}", pct(fl), if fl > ce { "▲" } else { "▼" }), style),
                Text::styled(app.look.bar(if top > 0.0 { fl / top } else { 0.0 }, BAR), theme.bar),
            ])
        })
        .collect();
    let more = r.per_class.len() - order.len();
    if more > 0 {
        rows.push(Row::new(["…".to_string(), format!("{more} more")]).style(theme.muted));
    }
    let widths = [
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(11),
        Constraint::Length(BAR as u16),
    ];
    Table::new(rows, widths).header(header).column_spacing(1).render(area, buf);
}

/// The p_t histogram, one line per bin (pairs of bins merged when the
/// lines are too few).
fn histogram(buf: &mut Buffer, area: Rect, app: &App, data: &Dataset) {
    let theme = &app.look.theme;
    let h = &data.report.histogram;
    let lines = area.height.max(1) as usize;
    let merge = h.len().div_ceil(lines).max(1);
    let bins: Vec<(f64, f64, u64)> = h
        .chunks(merge)
        .enumerate()
        .map(|(i, c)| {
            let lo = (i * merge) as f64 / h.len() as f64;
            let hi = ((i * merge + c.len()) as f64 / h.len() as f64).min(1.0);
            (lo, hi, c.iter().sum())
        })
        .collect();
    let top = bins.iter().map(|b| b.2).max().unwrap_or(0).max(1);
    let width = (area.width as usize).saturating_sub(20).max(1);
    for ((lo, hi, n), row) in bins.iter().zip(area.rows()) {
        let line = Line::from(vec![
            Span::styled(format!("{lo:.2}–{hi:.2} "), theme.muted),
            Span::styled(app.look.bar(*n as f64 / top as f64, width), theme.bar),
            Span::styled(format!(" {n}"), theme.text),
        ]);
        line.render(row, buf);
    }
}

/// The α suggestions, one line each: the picked one marked, its name, and
/// its weights per class (as many as fit); then the report's notes on them.
fn suggestions(buf: &mut Buffer, area: Rect, app: &App, data: &Dataset) {
    let theme = &app.look.theme;
    let all = data.suggestions();
    let name_w = all.iter().map(|s| s.name.chars().count()).max().unwrap_or(0);
    let mut lines: Vec<Line> = all
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let picked = i == data.picked;
            let weights: Vec<String> = s.alpha.iter().map(|&a| sig(a, 3)).collect();
            Line::from(vec![
                Span::styled(if picked { "▶ " } else { "  " }, theme.target),
                Span::styled(format!("{:<name_w$}  ", s.name), if picked { theme.target } else { theme.muted }),
                Span::styled(weights.join(" "), if picked { theme.target } else { theme.text }),
            ])
        })
        .collect();
    lines.extend(data.report.guidance_notes.iter().map(|n| Line::styled(format!("note: {n}"), theme.muted)));
    for (line, row) in lines.into_iter().zip(area.rows()) {
        line.render(row, buf);
    }
}

/// The paper's Figure 4: each γ's cumulative distribution of the loss; in
/// sigmoid mode, as in the paper, the positives' and the negatives' apart.
fn loss_cdf(buf: &mut Buffer, area: Rect, app: &App, data: &Dataset) {
    let sweep = &data.report.sweep;
    let curves = |side: fn(&SweepRow) -> Option<&LossCdf>| -> super::chart::CdfCurves {
        sweep.iter().filter_map(|s| side(s).map(|c| (s.gamma, c.loss.as_slice()))).collect()
    };
    let (positives, negatives) = (curves(|s| s.loss_cdf_positives.as_ref()), curves(|s| s.loss_cdf_negatives.as_ref()));
    let plots = if positives.is_empty() {
        vec![("", curves(|s| Some(&s.loss_cdf)))]
    } else {
        vec![("positives", positives), ("negatives", negatives)]
    };
    super::chart::cdf(buf, area, app, &plots, data.current);
}
