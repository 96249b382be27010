//! `calc --amp`: the profile's PyTorch code under autocast, as text lines
//! and as the JSON key `amp`.

use serde::Serialize;
use serde_json::Value;

use crate::format::Table;
use crate::lens::amp::{Amp, Formula};
use crate::report::num;

/// Both runs and the code they emulate.
pub(super) struct Shown {
    pub formula: Formula,
    pub runs: [Amp; 2],
    pub target: usize,
}

/// The `amp` object: the code, then one object per dtype.
#[derive(Serialize)]
pub(super) struct Keys<'a> {
    code: &'static str,
    float16: RunKeys<'a>,
    bfloat16: RunKeys<'a>,
}

/// One run. NaN and ±inf are results here, so they are the strings "NaN",
/// "inf" and "-inf" (JSON has no such numbers).
#[derive(Serialize)]
struct RunKeys<'a> {
    loss: Value,
    loss_dtype: &'static str,
    gradient: Vec<Value>,
    flags: &'a [&'static str],
    reason: Option<&'a str>,
}

fn number(x: f64) -> Value {
    if x == 0.0 {
        Value::from(0.0) // the sign of a zero is not a result
    } else if x.is_finite() {
        Value::from(x)
    } else {
        Value::from(format!("{x}"))
    }
}

fn run_keys(r: &Amp) -> RunKeys<'_> {
    RunKeys {
        loss: number(r.loss),
        loss_dtype: r.loss_dtype.name(),
        gradient: r.gradient.iter().map(|&g| number(g)).collect(),
        flags: &r.flags,
        reason: r.reason.as_deref(),
    }
}

pub(super) fn keys(s: &Shown) -> Keys<'_> {
    let [f16, bf16] = &s.runs;
    Keys { code: s.formula.code(), float16: run_keys(f16), bfloat16: run_keys(bf16) }
}

/// A heading and one line per dtype: the loss and its dtype, the gradient
/// at the target, the flags and the reason.
pub(super) fn text(s: &Shown) -> String {
    let mut out = format!("\nAMP, torch.autocast on the CPU ({}):\n", s.formula.code());
    let mut t = Table::headless(4).left_aligned();
    for r in &s.runs {
        let why = match (&r.flags[..], &r.reason) {
            (flags, None) => flags.join(" · "),
            (flags, Some(reason)) => format!("{}: {reason}", flags.join(" · ")),
        };
        t.cell(r.precision.name())
            .cell(format!("loss {} ({})", num(r.loss), r.loss_dtype.name()))
            .cell(format!("gradient at the target {}", num(r.gradient[s.target])))
            .cell(why);
    }
    t.write_to(&mut out);
    out.lines().map(|l| l.trim_end().to_string() + "\n").collect()
}
