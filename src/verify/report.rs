//! The `verify` report as text or JSON: per dump, the values compared, the
//! worst error and where it is (the position's multi-index, the class, the
//! row's logits and label, their value and the exact one), the non-finite
//! values and the first of them, and the verdict.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use super::compare::{Spot, Tracker};
use super::geometry::{Geometry, Kind};
use crate::format::{Table, count, list, sig};
use crate::loss::Alpha;
use crate::loss::profile::{BatchReduction, Profile};
use crate::report::num;

/// One dump, compared.
pub(super) struct Checked {
    /// `losses` or `gradient`.
    pub(super) what: &'static str,
    pub(super) file: String,
    /// The dtype as stored.
    pub(super) dtype: &'static str,
    pub(super) shape: String,
    pub(super) kind: Kind,
    /// For a gradient: which loss it is of, and the fitted ratio to the
    /// gradient of the summed terms when it matches no candidate.
    pub(super) of: Option<&'static str>,
    pub(super) unexplained_scale: Option<f64>,
    /// What else the dump matches, when it is off.
    pub(super) note: Option<String>,
    pub(super) tracker: Tracker,
}

/// Everything the report says.
pub(super) struct Run<'a> {
    pub(super) profile: &'static Profile,
    pub(super) implied: bool,
    pub(super) gamma: f64,
    pub(super) alpha: Option<&'a Alpha>,
    /// The batch reduction a reduced loss is compared with.
    pub(super) reduction: BatchReduction,
    pub(super) rows: u64,
    pub(super) ignored: u64,
    pub(super) geometry: &'a Geometry,
    pub(super) checks: Vec<Checked>,
}

impl Run<'_> {
    pub(super) fn within(&self) -> bool {
        self.checks.iter().all(|c| c.tracker.within() && c.unexplained_scale.is_none())
    }

    fn alpha_text(&self) -> String {
        match self.alpha {
            None => "none".into(),
            Some(Alpha::Scalar(a)) => num(*a),
            Some(Alpha::PerClass(v)) => list(v, 8, 4),
        }
    }

    /// The multi-index of a spot's position.
    fn position(&self, spot: &Spot) -> Vec<u64> {
        let mut multi = Vec::new();
        self.geometry.multi(&self.geometry.positions(), spot.position, &mut multi);
        multi
    }

    fn where_text(&self, kind: Kind, spot: &Spot) -> String {
        if kind == Kind::Reduced {
            return "the reduced loss of the batch".into();
        }
        let pos = self.position(spot).iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        let class = spot.class.map_or(String::new(), |c| format!(", class {c}"));
        let label = match spot.targets.as_slice() {
            [] => format!("label {}", spot.label),
            y => format!("targets {}", list(y, 8, 6)),
        };
        format!("position [{pos}]{class} ({label})")
    }

    pub(super) fn text(&self) -> String {
        let mut out = String::new();
        let sigmoid =
            if self.implied { format!(" ({} has only a sigmoid form)", self.profile.name) } else { String::new() };
        let _ = writeln!(
            out,
            "verify against the exact values as {} computes them{sigmoid}: {}",
            self.profile.library,
            self.profile.summary(self.alpha)
        );
        let ignored = if self.ignored > 0 {
            format!(" ({} left out)", count(self.ignored, "position", "positions"))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {} focal loss, γ {}, α {}; {}{ignored}",
            self.profile.mode.name(),
            num(self.gamma),
            self.alpha_text(),
            count(self.rows, "row", "rows")
        );
        for c in &self.checks {
            let t = &c.tracker;
            let tol = t.tolerance;
            let precision = match tol.precision.name == c.dtype {
                true => String::new(),
                false => format!(", values of {}", tol.precision.name),
            };
            let of = c.of.map_or(String::new(), |of| format!(", of {of}"));
            let kind = match c.kind {
                Kind::Reduced => format!("reduced: {}", self.reduction.text()),
                kind => kind.key().replace('_', " "),
            };
            let _ = writeln!(out, "\n{}: {}, {} {}{precision}, {kind}{of}", c.what, c.file, c.dtype, c.shape);
            let mut table = Table::headless(2).left_aligned();
            table.cell("compared").cell(count(t.values, "value", "values"));
            table.cell("tolerance").cell(format!(
                "{} relative; absolute ({}) below {}",
                sig(tol.rtol, 3),
                sig(tol.rtol * tol.floor, 3),
                sig(tol.floor, 3)
            ));
            if let Some(w) = &t.worst {
                table.cell("worst error").cell(format!("{} at {}", sig(w.error, 3), self.where_text(c.kind, w)));
                if c.kind != Kind::Reduced {
                    table.cell("  logits").cell(list(&w.logits, 8, 6));
                }
                table.cell("  yours, exact").cell(format!("{}, {}", num(w.theirs), num(w.exact)));
            }
            table.cell("beyond tolerance").cell(count(t.beyond, "value", "values"));
            match &t.first_non_finite {
                None => table.cell("NaN or inf").cell("none"),
                Some(s) => table.cell("NaN or inf").cell(format!(
                    "{}, the first {} at {} (exact {})",
                    t.non_finite,
                    s.theirs,
                    self.where_text(c.kind, s),
                    num(s.exact)
                )),
            };
            if let Some(s) = c.unexplained_scale {
                table.cell("scale").cell(format!(
                    "{} × the gradient of the summed terms: neither the sum nor the profile's reduction",
                    sig(s, 4)
                ));
            }
            if let Some(note) = &c.note {
                table.cell("note").cell(note);
            }
            table.cell("verdict").cell(if t.within() && c.unexplained_scale.is_none() { "within" } else { "OFF" });
            table.write_to(&mut out);
        }
        let _ = writeln!(
            out,
            "\n{}",
            if self.within() {
                "within the tolerance"
            } else {
                "OFF: your implementation differs from the exact values"
            }
        );
        out
    }

    pub(super) fn json(&self) -> String {
        let checks: Vec<CheckJson> = self.checks.iter().map(|c| self.check_json(c)).collect();
        let json = Json {
            profile: self.profile.name,
            library: self.profile.library,
            mode: self.profile.mode.name(),
            gamma: self.gamma,
            alpha: match self.alpha {
                None => Value::from("none"),
                Some(Alpha::Scalar(a)) => Value::from(*a),
                Some(Alpha::PerClass(v)) => Value::from(v.clone()),
            },
            rows: self.rows,
            ignored: self.ignored,
            losses: checks.first().expect("the losses are always checked"),
            gradient: checks.get(1),
            within: self.within(),
        };
        serde_json::to_string_pretty(&json).expect("serializable") + "\n"
    }

    fn check_json<'c>(&self, c: &'c Checked) -> CheckJson<'c> {
        let t = &c.tracker;
        let location = |s: &Spot| Location {
            row: (c.kind != Kind::Reduced).then_some(s.row),
            position: (c.kind != Kind::Reduced).then(|| self.position(s)),
            class: s.class,
            label: (c.kind != Kind::Reduced && s.targets.is_empty()).then_some(s.label),
            targets: (c.kind != Kind::Reduced && !s.targets.is_empty()).then(|| s.targets.clone()),
            logits: (c.kind != Kind::Reduced).then(|| s.logits.clone()),
            yours: number(s.theirs),
            exact: s.exact,
            error: number(s.error),
        };
        CheckJson {
            file: &c.file,
            dtype: c.dtype,
            precision: t.tolerance.precision.name,
            layout: c.kind.key(),
            batch_reduction: (c.kind == Kind::Reduced).then(|| self.reduction.key()),
            of: c.of,
            note: c.note.as_deref(),
            unexplained_scale: c.unexplained_scale,
            rtol: t.tolerance.rtol,
            floor: t.tolerance.floor,
            values: t.values,
            beyond: t.beyond,
            worst_error: t.worst_error(),
            worst: t.worst.as_ref().map(location),
            non_finite: t.non_finite,
            first_non_finite: t.first_non_finite.as_ref().map(location),
            within: t.within() && c.unexplained_scale.is_none(),
        }
    }
}

/// A float as JSON: a number, or `"NaN"`, `"inf"`, `"-inf"`.
fn number(x: f64) -> Value {
    if x.is_finite() { Value::from(x) } else { Value::from(x.to_string()) }
}

#[derive(Serialize)]
struct Json<'a> {
    profile: &'static str,
    library: &'static str,
    mode: &'static str,
    gamma: f64,
    alpha: Value,
    rows: u64,
    ignored: u64,
    losses: &'a CheckJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gradient: Option<&'a CheckJson<'a>>,
    within: bool,
}

#[derive(Serialize)]
struct CheckJson<'a> {
    file: &'a str,
    dtype: &'static str,
    precision: &'static str,
    layout: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    batch_reduction: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    of: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unexplained_scale: Option<f64>,
    rtol: f64,
    floor: f64,
    values: u64,
    beyond: u64,
    worst_error: f64,
    worst: Option<Location>,
    non_finite: u64,
    first_non_finite: Option<Location>,
    within: bool,
}

#[derive(Serialize)]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    row: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    class: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    targets: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logits: Option<Vec<f64>>,
    yours: Value,
    exact: f64,
    error: Value,
}
