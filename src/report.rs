//! The words and numbers of a result, shared by `calc` and the explorer so
//! that both say the same thing: the summary lines, the seed's table row and
//! which classes to list when there are thousands.

use crate::format::{sig, times_below};
use crate::loss::{Alpha, Focal, Mode, Params, PointLoss};

/// Significant digits shown to people (JSON carries all 17).
pub const DIGITS: usize = 7;

/// One line of the summary: a label, the value, and what it means.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryLine {
    pub label: &'static str,
    pub value: String,
    pub note: String,
}

fn line(label: &'static str, value: String, note: impl Into<String>) -> SummaryLine {
    SummaryLine {
        label,
        value,
        note: note.into(),
    }
}

/// FL (the headline) first, then CE, FL/CE, p_t, 1 − p_t, the factor, α_t and
/// the prediction.
pub fn summary(p: &Params, r: &Focal) -> Vec<SummaryLine> {
    let sum = if r.mode == Mode::Sigmoid {
        "summed over classes"
    } else {
        ""
    };
    let ratio = if r.cross_entropy > 0.0 {
        sig(r.focal_loss / r.cross_entropy, 4)
    } else {
        "—".into()
    };
    let below = times_below(r.focal_loss, r.cross_entropy)
        .map_or(String::new(), |x| format!("FL is {x} below CE"));
    let verdict = if r.predicted == r.target {
        "correct"
    } else {
        "wrong"
    };
    vec![
        line("focal loss FL", num(r.focal_loss), sum),
        line("cross-entropy CE", num(r.cross_entropy), sum),
        line("FL / CE", ratio, below),
        line("p_t", num(r.p_t), "probability of the target class"),
        line("1 − p_t", num(r.one_minus_p_t), ""),
        line("(1 − p_t)^γ", num(r.modulating_factor), "modulating factor"),
        line("α_t", num(r.alpha_t), alpha_note(p)),
        line(
            "predicted",
            format!("class {}", r.predicted),
            format!("{verdict} (target {})", r.target),
        ),
    ]
}

/// Which α_t was applied and why: the most common confusion about focal loss.
pub fn alpha_note(p: &Params) -> String {
    match (p.mode, &p.alpha) {
        (Mode::Softmax, Alpha::Scalar(_)) => "scalar α applied to the target class".into(),
        (Mode::Softmax, Alpha::PerClass(_)) => format!("α[{}] of the per-class vector", p.target),
        (Mode::Sigmoid, Alpha::Scalar(a)) => {
            format!("α for the positive; negatives get 1 − α = {}", num(1.0 - a))
        }
        (Mode::Sigmoid, Alpha::PerClass(_)) => format!(
            "α[{}] for the positive; each negative i gets 1 − α[i]",
            p.target
        ),
    }
}

/// The seed's table header: `p_t | 1 − p_t | (1 − p_t)^γ | −log(p_t) (CE) | FL (α=…, γ=…)`.
pub fn table_header(alpha_t: f64, gamma: f64) -> [String; 5] {
    [
        "p_t".into(),
        "1 − p_t".into(),
        "(1 − p_t)^γ".into(),
        "−log(p_t) (CE)".into(),
        format!("FL (α={}, γ={})", sig(alpha_t, 4), sig(gamma, 4)),
    ]
}

/// One table row, formatted.
pub fn table_row(x: &PointLoss) -> [String; 5] {
    [
        x.p_t,
        x.one_minus_p_t,
        x.modulating_factor,
        x.cross_entropy,
        x.focal_loss,
    ]
    .map(num)
}

/// Classes to list: all when there are at most `limit`, otherwise the target
/// and the most probable others, by probability; plus how many are hidden.
pub fn classes_to_show(r: &Focal, limit: usize) -> (Vec<usize>, usize) {
    let k = r.probabilities.len();
    if k <= limit {
        return ((0..k).collect(), 0);
    }
    let mut order: Vec<usize> = (0..k).filter(|&i| i != r.target).collect();
    let keep = limit.saturating_sub(1);
    if keep > 0 {
        order.select_nth_unstable_by(keep - 1, |&a, &b| {
            r.probabilities[b].total_cmp(&r.probabilities[a])
        });
    }
    order.truncate(keep);
    order.push(r.target);
    order.sort_by(|&a, &b| {
        r.probabilities[b]
            .total_cmp(&r.probabilities[a])
            .then(a.cmp(&b))
    });
    (order, k - keep - 1)
}

/// A number for people.
pub fn num(x: f64) -> String {
    sig(x, DIGITS)
}
