//! The `data` report as text (also what the dataset view copies) or JSON.

use std::fmt::Write as _;

use serde::Serialize;

use crate::data::source::IGNORED;
use crate::data::sweep::{Config, Report};
use crate::format::{Table, count, pct, sig};
use crate::loss::Alpha;
use crate::loss::profile::{Placement, Profile};

#[derive(Serialize)]
struct Json<'a> {
    #[serde(flatten)]
    report: &'a Report,
    /// Positions left out by --ignore-index (not counted in `rows`).
    ignored: u64,
    /// Rows left out by --skip-invalid, by reason.
    skipped: Vec<Skipped<'a>>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    library: Option<&'a Library>,
}

/// The sweep's means as a library reduces a batch (`--profile`): the sum of
/// every row's class sum, divided as its default reduction divides it.
#[derive(Serialize)]
pub(super) struct Library {
    profile: &'static str,
    #[serde(skip)]
    name: &'static str,
    alpha_placement: &'static str,
    batch_reduction: &'static str,
    /// One per γ, in the sweep's order.
    library_loss: Vec<f64>,
    #[serde(skip)]
    text: String,
}

impl Library {
    pub(super) fn new(profile: &'static Profile, r: &Report) -> Result<Library, String> {
        // A positive target a row, but in background rows.
        let positives = r.rows - r.background.as_ref().map_or(0, |b| b.count);
        let divisor = profile.batch.divisor(r.rows, r.classes, positives).ok_or("no positive targets")?;
        let rows = r.rows as f64;
        Ok(Library {
            profile: profile.name,
            name: profile.library,
            alpha_placement: profile.placement.key(),
            batch_reduction: profile.batch.key(),
            library_loss: r.sweep.iter().map(|s| (s.mean_focal_loss * rows / divisor).min(f64::MAX)).collect(),
            text: match profile.placement {
                Placement::BackgroundFirst => {
                    format!("{}; class 0 gets 1 − α, every other class α", profile.batch.text())
                }
                Placement::Target => profile.batch.text().to_string(),
            },
        })
    }

    /// The report's lines: whose reduction, and the value at each γ.
    pub(super) fn text(&self, r: &Report) -> String {
        let mut out = format!("\nas {} reduces a batch ({}):\n", self.name, self.text);
        let mut table = Table::new(["γ", "loss"]);
        for (s, v) in r.sweep.iter().zip(&self.library_loss) {
            table.cell(sig(s.gamma, 4)).cell(sig(*v, 7));
        }
        table.write_to(&mut out);
        out
    }
}

#[derive(Serialize)]
struct Skipped<'a> {
    reason: &'a str,
    rows: u64,
}

pub(super) fn json(report: &Report, skipped: &[(String, u64)], library: Option<&Library>) -> String {
    let ignored = skipped.iter().filter(|(reason, _)| reason == IGNORED).map(|(_, n)| n).sum();
    let skipped = skipped
        .iter()
        .filter(|(reason, _)| reason != IGNORED)
        .map(|(reason, rows)| Skipped { reason, rows: *rows })
        .collect();
    serde_json::to_string(&Json { report, ignored, skipped, library }).expect("numbers and strings serialise") + "\n"
}

/// The text report (also what the dataset view copies).
pub fn text(r: &Report, skipped: &[(String, u64)], config: &Config) -> String {
    text_weighted(r, skipped, config, true)
}

/// [`text`], with α off (`weighted` false) said as `α = none`.
pub(super) fn text_weighted(r: &Report, skipped: &[(String, u64)], config: &Config, weighted: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} focal loss · {} · {} · α = {}",
        r.mode,
        count(r.rows, "row", "rows"),
        count(r.classes as u64, "class", "classes"),
        if weighted { alpha_text(&config.alpha) } else { "none".into() }
    );
    let _ = writeln!(
        out,
        "accuracy {}   mean CE {}   easy examples (p_t ≥ 0.5) {}",
        pct(r.accuracy),
        sig(r.mean_cross_entropy, 7),
        pct(r.easy_fraction)
    );
    if let Some(b) = &r.background {
        let _ =
            writeln!(out, "background {}: no positive target, every class a negative", count(b.count, "row", "rows"));
    }
    for (reason, n) in skipped {
        let _ = match reason.as_str() {
            IGNORED => writeln!(out, "ignored {} (--ignore-index)", count(*n, "position", "positions")),
            _ => writeln!(out, "skipped {}: {reason}", count(*n, "row", "rows")),
        };
    }
    out.push('\n');
    let mut sweep = Table::new(["γ", "mean FL", "easy share FL", "easy share CE", "90% of FL in", "90% of CE in"]);
    for s in &r.sweep {
        sweep
            .cell(sig(s.gamma, 4))
            .cell(sig(s.mean_focal_loss, 7))
            .cell(pct(s.easy_share))
            .cell(pct(s.easy_share_ce))
            .cell(format_args!("{} of rows", pct(s.top_share_90)))
            .cell(format_args!("{} of rows", pct(s.top_share_90_ce)));
    }
    sweep.write_to(&mut out);
    out.push('\n');
    let header = ["class", "count", "accuracy", "mean CE"].map(String::from);
    let mut classes =
        Table::new(header.into_iter().chain(r.sweep.iter().map(|s| format!("FL share γ={}", sig(s.gamma, 3)))));
    for c in &r.per_class {
        classes.cell(c.class).cell(c.count);
        match &c.means {
            Some(m) => classes.cell(pct(m.accuracy)).cell(sig(m.mean_cross_entropy, 5)),
            None => classes.cell("–").cell("–"),
        };
        for &s in &c.share {
            classes.cell(pct(s));
        }
    }
    if let Some(b) = &r.background {
        classes.cell("background").cell(b.count);
        match &b.means {
            Some(m) => classes.cell(pct(m.accuracy)).cell(sig(m.mean_cross_entropy, 5)),
            None => classes.cell("–").cell("–"),
        };
        for &s in &b.share {
            classes.cell(pct(s));
        }
    }
    classes.write_to(&mut out);
    out.push('\n');
    let bins = r.histogram.len();
    let top = r.histogram.iter().copied().max().unwrap_or(1).max(1);
    let _ = writeln!(out, "p_t histogram");
    for (i, &n) in r.histogram.iter().enumerate() {
        let bar = "█".repeat((40 * n).div_ceil(top) as usize);
        let _ = writeln!(
            out,
            "  {:>4}–{:<4} {bar} {n}",
            sig(i as f64 / bins as f64, 2),
            sig((i + 1) as f64 / bins as f64, 2)
        );
    }
    out.push_str(&super::guidance::text(r));
    out
}

fn alpha_text(alpha: &Alpha) -> String {
    match alpha {
        Alpha::Scalar(a) => sig(*a, 4),
        Alpha::PerClass(v) => format!("per class ({} values)", v.len()),
    }
}
