//! `focal-tui calc`: one result as an aligned text report or one JSON object.
//! Never touches the terminal.

use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;

use crate::cli::CalcArgs;
use crate::field::{self, Field};
use crate::loss::{Alpha, Focal, Mode, Params};
use crate::report::{self, num};

/// Classes listed in the text report before "… N more".
const CLASS_ROWS: usize = 20;

/// The report for `args`, or a one-line message naming the bad field.
pub fn run(args: &CalcArgs) -> Result<String, String> {
    let input = &args.input;
    let params = field::example(&input.example(), input.mode()).map_err(|(f, e)| {
        let flag = if f == Field::Target && input.target_probs.is_some() { "--target-probs" } else { f.flag() };
        format!("{flag}: {e}")
    })?;
    let result = params.compute();
    Ok(if args.json { json(&params, &result) } else { text(&params, &result) })
}

/// The JSON keys of DESIGN §4, in that order, then `targets` and
/// `per_class_loss`. For a target other than a class index, `target` is the
/// headline class (see [`Focal`]). serde_json prints floats
/// shortest-round-trip, and no field can be NaN or infinite (the loss module
/// saturates), so there is never a `null`.
#[derive(Serialize)]
struct Json<'a> {
    mode: &'static str,
    logits: &'a [f64],
    target: usize,
    gamma: f64,
    alpha: Value,
    alpha_t: f64,
    probabilities: &'a [f64],
    p_t: f64,
    one_minus_p_t: f64,
    modulating_factor: f64,
    cross_entropy: f64,
    focal_loss: f64,
    gradient: &'a [f64],
    targets: Vec<f64>,
    per_class_loss: Vec<f64>,
}

pub fn json(p: &Params, r: &Focal) -> String {
    let doc = Json {
        mode: p.mode.name(),
        logits: &p.logits,
        target: r.target,
        gamma: p.gamma,
        alpha: match &p.alpha {
            Some(Alpha::Scalar(a)) => Value::from(*a),
            Some(Alpha::PerClass(v)) => Value::from(v.clone()),
            None => Value::from("none"),
        },
        alpha_t: r.alpha_t,
        probabilities: &r.probabilities,
        p_t: r.p_t,
        one_minus_p_t: r.one_minus_p_t,
        modulating_factor: r.modulating_factor,
        cross_entropy: r.cross_entropy,
        focal_loss: r.focal_loss,
        gradient: &r.gradient,
        targets: (0..p.logits.len()).map(|i| r.target_of(i)).collect(),
        per_class_loss: (0..p.logits.len()).map(|i| r.term(i)).collect(),
    };
    serde_json::to_string(&doc).expect("plain numbers and strings always serialise") + "\n"
}

pub fn text(p: &Params, r: &Focal) -> String {
    let mut out = String::new();
    let k = p.logits.len();
    let alpha = match &p.alpha {
        Some(Alpha::Scalar(a)) => num(*a),
        Some(Alpha::PerClass(v)) => format!("[{}]", list(v, 8)),
        None => "none".into(),
    };
    let _ = writeln!(
        out,
        "{} focal loss · {k} class{} · {} · γ = {} · α = {alpha}",
        p.mode.name(),
        if k == 1 { "" } else { "es" },
        report::target_label(p),
        num(p.gamma),
    );
    let _ = writeln!(out, "logits [{}]\n", list(&p.logits, 12));

    let lines = report::summary(p, r);
    let label_w = lines.iter().map(|l| l.label.chars().count()).max().unwrap_or(0);
    let value_w = lines.iter().map(|l| l.value.chars().count()).max().unwrap_or(0);
    for l in &lines {
        let _ = writeln!(out, "  {:<label_w$}  {:<value_w$}  {}", l.label, l.value, l.note).map(|_| ());
    }
    if r.saturated {
        let _ = writeln!(out, "  note: a value exceeded f64's range and is shown as ±{}", num(f64::MAX));
    }

    let header = report::result_table_header(r, p.gamma);
    let row = report::table_row(&r.target_row());
    let widths: Vec<usize> = header.iter().zip(&row).map(|(h, v)| h.chars().count().max(v.chars().count())).collect();
    out.push('\n');
    for cells in [&header, &row] {
        let cells: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(out, "  {}", cells.join(" | ").trim_end());
    }

    out.push('\n');
    out += &class_table(r, &p.logits);
    out.lines().map(|l| l.trim_end().to_string() + "\n").collect()
}

/// Per-class logit, probability and both gradients; the target marked `→`.
/// For other targets than a class index, also each class's target and term.
fn class_table(r: &Focal, logits: &[f64]) -> String {
    let (shown, hidden) = report::classes_to_show(r, CLASS_ROWS);
    let prob = if r.mode == Mode::Sigmoid { "σ(z)" } else { "probability" };
    let extra = !r.is_class_index();
    let mut header = vec!["class".to_string(), "logit".into(), prob.into()];
    if extra {
        header.extend(["target".into(), "FL term".into()]);
    }
    header.extend(["dFL/dz".into(), "dCE/dz".into()]);
    let mut rows = vec![header];
    for &i in &shown {
        let mark = if i == r.target { "→ " } else { "  " };
        let mut row = vec![format!("{mark}{i}"), num(logits[i]), num(r.probabilities[i])];
        if extra {
            row.extend([num(r.target_of(i)), num(r.term(i))]);
        }
        row.extend([num(r.gradient[i]), num(r.grad_ce[i])]);
        rows.push(row);
    }
    let columns = rows[0].len();
    let widths: Vec<usize> =
        (0..columns).map(|c| rows.iter().map(|row| row[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:>w$}")).collect();
        let _ = writeln!(out, "  {}", cells.join("  "));
    }
    if hidden > 0 {
        let _ = writeln!(out, "  … {hidden} more classes (--json lists all)");
    }
    out
}

/// At most `max` values, then "… (N values)".
fn list(values: &[f64], max: usize) -> String {
    let shown: Vec<String> = values.iter().take(max).map(|&x| num(x)).collect();
    let mut s = shown.join(", ");
    if values.len() > max {
        let _ = write!(s, ", … ({} values)", values.len());
    }
    s
}
