//! `focal-tui calc`: one result as an aligned text report or one JSON object.
//! Never touches the terminal.

use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;

use crate::cli::CalcArgs;
use crate::field;
use crate::format::{Table, count, list};
use crate::loss::{Alpha, Focal, Mode, Params};
use crate::report::{self, DIGITS, num};

/// Classes listed in the text report before "… N more".
const CLASS_ROWS: usize = 20;

/// The report for `args`, or a one-line message naming the bad field.
pub fn run(args: &CalcArgs) -> Result<String, String> {
    let input = &args.input;
    let params = field::params(input.texts(), input.mode()).map_err(|(f, e)| format!("{}: {e}", f.flag()))?;
    let result = params.compute();
    Ok(if args.json { json(&params, &result) } else { text(&params, &result) })
}

/// The JSON keys of DESIGN §4, in that order; `per_class_loss` in sigmoid
/// mode only. serde_json prints floats shortest-round-trip, and no field can
/// be NaN or infinite (the loss module saturates), so there is never a `null`.
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
    #[serde(skip_serializing_if = "Option::is_none")]
    per_class_loss: Option<&'a [f64]>,
}

pub fn json(p: &Params, r: &Focal) -> String {
    let doc = Json {
        mode: p.mode.name(),
        logits: &p.logits,
        target: p.target,
        gamma: p.gamma,
        alpha: match &p.alpha {
            Alpha::Scalar(a) => Value::from(*a),
            Alpha::PerClass(v) => Value::from(v.clone()),
        },
        alpha_t: r.alpha_t,
        probabilities: &r.probabilities,
        p_t: r.p_t,
        one_minus_p_t: r.one_minus_p_t,
        modulating_factor: r.modulating_factor,
        cross_entropy: r.cross_entropy,
        focal_loss: r.focal_loss,
        gradient: &r.gradient,
        per_class_loss: (p.mode == Mode::Sigmoid).then_some(r.per_class_loss.as_slice()),
    };
    serde_json::to_string(&doc).expect("plain numbers and strings always serialise") + "\n"
}

pub fn text(p: &Params, r: &Focal) -> String {
    let mut out = String::new();
    let k = p.logits.len();
    let alpha = match &p.alpha {
        Alpha::Scalar(a) => num(*a),
        Alpha::PerClass(v) => list(v, 8, DIGITS),
    };
    let _ = writeln!(
        out,
        "{} focal loss · {} · target {} · γ = {} · α = {alpha}",
        p.mode.name(),
        count(k as u64, "class", "classes"),
        p.target,
        num(p.gamma),
    );
    let _ = writeln!(out, "logits {}\n", list(&p.logits, 12, DIGITS));

    let mut summary = Table::headless(3).left_aligned();
    for l in report::summary(p, r) {
        summary.cell(l.label).cell(l.value).cell(l.note);
    }
    summary.write_to(&mut out);
    if r.saturated {
        let _ = writeln!(out, "  note: a value exceeded f64's range and is shown as ±{}", num(f64::MAX));
    }

    let mut seed = Table::new(report::table_header(r.alpha_t, p.gamma)).left_aligned().separated_by(" | ");
    for value in report::table_row(&r.target_row()) {
        seed.cell(value);
    }
    out.push('\n');
    seed.write_to(&mut out);
    out.push('\n');
    out += &class_table(r, &p.logits);
    out.lines().map(|l| l.trim_end().to_string() + "\n").collect()
}

/// Per-class logit, probability and both gradients; the target marked `→`.
fn class_table(r: &Focal, logits: &[f64]) -> String {
    let (shown, hidden) = report::classes_to_show(r, CLASS_ROWS);
    let prob = if r.mode == Mode::Sigmoid { "σ(z)" } else { "probability" };
    let mut table = Table::new(["class", "logit", prob, "dFL/dz", "dCE/dz"]);
    for &i in &shown {
        let mark = if i == r.target { "→ " } else { "  " };
        table.cell(format_args!("{mark}{i}"));
        for x in [logits[i], r.probabilities[i], r.gradient[i], r.grad_ce[i]] {
            table.cell(num(x));
        }
    }
    let mut out = String::new();
    table.write_to(&mut out);
    if hidden > 0 {
        let _ = writeln!(out, "  … {hidden} more classes (--json lists all)");
    }
    out
}
