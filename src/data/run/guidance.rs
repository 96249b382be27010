//! The `data` report's guidance on α and γ (issue 18), as text: the
//! suggested α per class, the easy rows' share of the gradient and the
//! loss's concentration per γ (sigmoid: also within the positives and
//! within the negatives), and the notes. The numbers are the
//! [`Report`]'s (JSON: the same keys).

use std::fmt::Write as _;

use crate::data::sweep::Report;
use crate::format::{Table, pct, sig};

/// The guidance's lines (after the rest of the report).
pub(super) fn text(r: &Report) -> String {
    let mut out = String::new();
    if r.alpha_suggestions.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\nsuggested α per class (from the counts; balancing: every class the same share of FL)");
    let methods = r.alpha_suggestions.iter().map(|s| match s.beta {
        Some(b) => format!("eff. n β={b}"),
        None if s.method == "inverse_sqrt" => "1/√n".to_string(),
        None => s.method.to_string(),
    });
    let balancing = r.sweep.iter().map(|s| format!("balancing γ={}", sig(s.gamma, 3)));
    let mut table = Table::new(["class".to_string()].into_iter().chain(methods).chain(balancing));
    for c in 0..r.classes {
        table.cell(c);
        for s in &r.alpha_suggestions {
            table.cell(sig(s.alpha[c], 4));
        }
        for s in &r.sweep {
            table.cell(sig(s.balancing_alpha[c], 4));
        }
    }
    table.write_to(&mut out);
    let sigmoid = r.sweep.iter().any(|s| s.easy_gradient_share_positive.is_some());
    let header: &[&str] = if sigmoid {
        &[
            "γ",
            "easy share of |∂FL/∂z|",
            "positives",
            "negatives",
            "lowest 50% of rows carry",
            "90%",
            "50% of positives",
            "of negatives",
        ]
    } else {
        &["γ", "easy share of |∂FL/∂z_t|", "lowest 50% of rows carry", "90%"]
    };
    out.push('\n');
    let mut table = Table::new(header.iter().map(|h| h.to_string()));
    for s in &r.sweep {
        table.cell(sig(s.gamma, 4)).cell(pct(s.easy_gradient_share));
        if let (Some(p), Some(n)) = (s.easy_gradient_share_positive, s.easy_gradient_share_negative) {
            table.cell(pct(p)).cell(pct(n));
        }
        let at = |i: usize| format!("{} of FL (±{})", pct(s.loss_cdf.loss[i]), pct(s.loss_cdf.max_gap));
        table.cell(at(50)).cell(at(90));
        // Sigmoid: each side's own curve, of its own total.
        for cdf in [&s.loss_cdf_positives, &s.loss_cdf_negatives].into_iter().flatten() {
            table.cell(format!("{} (±{})", pct(cdf.loss[50]), pct(cdf.max_gap)));
        }
    }
    table.write_to(&mut out);
    for note in &r.guidance_notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}
