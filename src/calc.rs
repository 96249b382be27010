//! `focal-tui calc`: one result as an aligned text report or one JSON object.
//! Never touches the terminal.

use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;

use crate::cli::CalcArgs;
use crate::field::{self, Field};
use crate::format::{Table, count, list};
use crate::loss::profile::{Profile, Value as LibValue};
use crate::loss::{Alpha, Focal, Mode, Params};
use crate::report::{self, DIGITS, num};

mod amp;

/// Classes listed in the text report before "… N more".
const CLASS_ROWS: usize = 20;

/// The report for `args`, or a one-line message naming the bad field.
pub fn run(args: &CalcArgs) -> Result<String, String> {
    let input = &args.input;
    let (profile, implied) = input.profile()?;
    let params = field::example(&input.example(profile), profile.mode).map_err(|(f, e)| {
        let flag = if f == Field::Target && input.target_probs.is_some() { "--target-probs" } else { f.flag() };
        format!("{flag}: {e}")
    })?;
    let (result, value) = profile.compute(&params).map_err(|e| format!("--profile {}: {e}", profile.name))?;
    // Without --profile the report is today's, key for key.
    let shown = input.profile.is_some().then_some(Shown { profile, implied, value: &value });
    let amp = if args.amp {
        let example = crate::lens::amp::Example {
            logits: &params.logits,
            target: &params.target,
            label_smoothing: params.label_smoothing,
            gamma: params.gamma,
            alpha: params.alpha.as_ref(),
        };
        let (formula, runs) = crate::lens::amp::example(profile, &example).map_err(|e| format!("--amp: {e}"))?;
        Some(amp::Shown { formula, runs, target: result.target })
    } else {
        None
    };
    Ok(if args.json {
        json_as(&params, &result, shown, amp.as_ref())
    } else {
        let mut out = text_as(&params, &result, shown);
        if let Some(a) = &amp {
            out += &amp::text(a);
        }
        out
    })
}

/// A result as a library computes it.
#[derive(Clone, Copy)]
struct Shown<'a> {
    profile: &'static Profile,
    implied: bool,
    value: &'a LibValue,
}

/// The line that says whose number this is: "as kornia 0.9 computes it: …".
fn profile_line(profile: &Profile, implied: bool, alpha: Option<&Alpha>, value: &LibValue) -> String {
    let sigmoid =
        if implied { format!(" ({} has only a sigmoid form: --sigmoid implied)", profile.name) } else { String::new() };
    format!("{}{sigmoid}", report::profile_line(profile, alpha, value.loss))
}

/// The profile's knobs and the library's value, as JSON keys.
#[derive(Serialize)]
struct ProfileKeys<'a> {
    profile: &'static str,
    library: &'static str,
    sigmoid_implied: bool,
    alpha_placement: &'static str,
    class_reduction: &'static str,
    batch_reduction: &'static str,
    default_gamma: &'static str,
    default_alpha: &'static str,
    library_loss: f64,
    library_gradient: &'a [f64],
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
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    profile: Option<ProfileKeys<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amp: Option<amp::Keys<'a>>,
}

pub fn json(p: &Params, r: &Focal) -> String {
    json_as(p, r, None, None)
}

fn json_as(p: &Params, r: &Focal, shown: Option<Shown>, amp: Option<&amp::Shown>) -> String {
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
        profile: shown.map(|s| ProfileKeys {
            profile: s.profile.name,
            library: s.profile.library,
            sigmoid_implied: s.implied,
            alpha_placement: s.profile.placement.key(),
            class_reduction: s.profile.classes.key(),
            batch_reduction: s.profile.batch.key(),
            default_gamma: s.profile.gamma,
            default_alpha: s.profile.alpha,
            library_loss: s.value.loss,
            library_gradient: &s.value.gradient,
        }),
        amp: amp.map(amp::keys),
    };
    serde_json::to_string(&doc).expect("plain numbers and strings always serialise") + "\n"
}

pub fn text(p: &Params, r: &Focal) -> String {
    text_as(p, r, None)
}

fn text_as(p: &Params, r: &Focal, shown: Option<Shown>) -> String {
    let mut out = String::new();
    let k = p.logits.len();
    let alpha = match &p.alpha {
        Some(Alpha::Scalar(a)) => num(*a),
        Some(Alpha::PerClass(v)) => list(v, 8, DIGITS),
        None => "none".into(),
    };
    let _ = writeln!(
        out,
        "{} focal loss · {} · {} · γ = {} · α = {alpha}",
        p.mode.name(),
        count(k as u64, "class", "classes"),
        report::target_label(p),
        num(p.gamma),
    );
    if let Some(s) = shown {
        let _ = writeln!(out, "{}", profile_line(s.profile, s.implied, p.alpha.as_ref(), s.value));
    }
    let _ = writeln!(out, "logits {}\n", list(&p.logits, 12, DIGITS));

    let mut summary = Table::headless(3).left_aligned();
    for l in report::summary(p, r) {
        summary.cell(l.label).cell(l.value).cell(l.note);
    }
    summary.write_to(&mut out);
    if r.saturated {
        let _ = writeln!(out, "  note: a value exceeded f64's range and is shown as ±{}", num(f64::MAX));
    }

    let mut seed = Table::new(report::result_table_header(r, p.gamma)).left_aligned().separated_by(" | ");
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
/// For other targets than a class index, also each class's target and term.
fn class_table(r: &Focal, logits: &[f64]) -> String {
    let (shown, hidden) = report::classes_to_show(r, CLASS_ROWS);
    let prob = if r.mode == Mode::Sigmoid { "σ(z)" } else { "probability" };
    let extra = !r.is_class_index();
    let mut header = vec!["class", "logit", prob];
    if extra {
        header.extend(["target", "FL term"]);
    }
    header.extend(["dFL/dz", "dCE/dz"]);
    let mut table = Table::new(header);
    for &i in &shown {
        let mark = if i == r.target { "→ " } else { "  " };
        table.cell(format_args!("{mark}{i}"));
        let mut values = vec![logits[i], r.probabilities[i]];
        if extra {
            values.extend([r.target_of(i), r.term(i)]);
        }
        values.extend([r.gradient[i], r.grad_ce[i]]);
        for x in values {
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
