//! The words and numbers of a result, shared by `calc` and the explorer so
//! that both say the same thing: the summary lines, the seed's table row and
//! which classes to list when there are thousands.

use crate::format::{ratio, sig, times_below};
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
    SummaryLine { label, value, note: note.into() }
}

/// FL (the headline) first, then CE, FL/CE, p_t, 1 − p_t, the factor, α_t and
/// the prediction.
pub fn summary(p: &Params, r: &Focal) -> Vec<SummaryLine> {
    let sum = if r.mode == Mode::Sigmoid { "summed over classes" } else { "" };
    let ratio = ratio(r.focal_loss, r.cross_entropy, 4).unwrap_or_else(|| "—".into());
    let below = times_below(r.focal_loss, r.cross_entropy).map_or(String::new(), |x| format!("FL is {x} below CE"));
    let verdict = if r.predicted == r.target { "correct" } else { "wrong" };
    vec![
        line("focal loss FL", num(r.focal_loss), sum),
        line("cross-entropy CE", num(r.cross_entropy), sum),
        line("FL / CE", ratio, below),
        line("p_t", num(r.p_t), "probability of the target class"),
        line("1 − p_t", num(r.one_minus_p_t), ""),
        line("(1 − p_t)^γ", num(r.modulating_factor), "modulating factor"),
        line("α_t", num(r.alpha_t), alpha_note(p)),
        line("predicted", format!("class {}", r.predicted), format!("{verdict} (target {})", r.target)),
    ]
}

/// Which α_t was applied and why: the most common confusion about focal loss.
pub fn alpha_note(p: &Params) -> String {
    match (p.mode, &p.alpha) {
        (Mode::Softmax, Alpha::Scalar(_)) => "scalar α applied to the target class".into(),
        (Mode::Softmax, Alpha::PerClass(_)) => format!("α[{}] of the per-class vector", p.target),
        (Mode::Sigmoid, Alpha::Scalar(a)) => {
            format!("positive α, negatives 1 − α = {}", num(1.0 - a))
        }
        (Mode::Sigmoid, Alpha::PerClass(_)) => {
            format!("positive α[{}], negative i 1 − α[i]", p.target)
        }
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
    [x.p_t, x.one_minus_p_t, x.modulating_factor, x.cross_entropy, x.focal_loss].map(num)
}

/// Classes to list: all when there are at most `limit`, otherwise the target
/// and the most probable others; by probability, then index. Also how many
/// are left out. One pass keeping a sorted top list: O(K) for the usual
/// inputs, where almost every class loses the first comparison.
pub fn classes_to_show(r: &Focal, limit: usize) -> (Vec<usize>, usize) {
    let k = r.probabilities.len();
    let by_probability = |&a: &usize, &b: &usize| r.probabilities[b].total_cmp(&r.probabilities[a]).then(a.cmp(&b));
    if k <= limit {
        let mut all: Vec<usize> = (0..k).collect();
        all.sort_by(by_probability);
        return (all, 0);
    }
    let keep = limit.saturating_sub(1);
    let mut top: Vec<usize> = Vec::with_capacity(keep + 1);
    for i in (0..k).filter(|&i| i != r.target) {
        if top.len() == keep && top.last().is_none_or(|last| by_probability(&i, last).is_ge()) {
            continue;
        }
        let at = top.partition_point(|j| by_probability(j, &i).is_lt());
        top.insert(at, i);
        top.truncate(keep);
    }
    let at = top.partition_point(|j| by_probability(j, &r.target).is_lt());
    top.insert(at, r.target);
    (top, k - keep - 1)
}

/// A number for people.
pub fn num(x: f64) -> String {
    sig(x, DIGITS)
}

/// At most `max` values of a list, then "… (K values)".
pub fn short_list(values: impl ExactSizeIterator<Item = f64>, max: usize) -> String {
    let n = values.len();
    let mut shown: Vec<String> = values.take(max).map(num).collect();
    if n > max {
        shown.push(format!("… ({n} values)"));
    }
    format!("[{}]", shown.join(", "))
}

/// The calculation spelled out like the seed's worked examples, with the
/// exact numbers: one line per step.
pub fn steps(p: &Params, r: &Focal) -> Vec<String> {
    let list = |v: &[f64]| short_list(v.iter().copied(), 6);
    let t = r.target;
    match r.mode {
        Mode::Softmax => {
            let j = r.predicted;
            // exp(z_i − max z) = p_i / p_max, and Σ = 1 / p_max.
            let pj = r.probabilities[j];
            let shifted: Vec<f64> = r.probabilities.iter().map(|&pi| pi / pj).collect();
            let others: Vec<f64> = r.gradient.iter().enumerate().filter(|(i, _)| *i != t).map(|(_, &g)| g).collect();
            vec![
                format!("max z = {} (class {j});  exp(z_i − max z) = {}", num(p.logits[j]), list(&shifted)),
                format!("Σ = {};  p_i = exp(z_i − max z) / Σ = {}", num(1.0 / pj), list(&r.probabilities)),
                format!("p_t = p_{t} = {};  CE = −ln p_t = {}", num(r.p_t), num(r.cross_entropy)),
                format!(
                    "1 − p_t = Σ_(i≠t) p_i = {} (never 1 − p);  (1 − p_t)^γ = {}^{} = {}",
                    num(r.one_minus_p_t),
                    num(r.one_minus_p_t),
                    num(p.gamma),
                    num(r.modulating_factor)
                ),
                format!(
                    "FL = α_t · (1 − p_t)^γ · CE = {} · {} · {} = {}",
                    num(r.alpha_t),
                    num(r.modulating_factor),
                    num(r.cross_entropy),
                    num(r.focal_loss)
                ),
                format!("dFL/dz_t = −α_t·(1 − p_t)^γ·[(1 − p_t) + γ·p_t·CE] = {}", num(r.gradient[t])),
                format!("dFL/dz_i = α_t·(1 − p_t)^γ·[1 + γ·p_t·CE/(1 − p_t)]·p_i, i ≠ t: {}", list(&others)),
            ]
        }
        Mode::Sigmoid => vec![
            format!("each class is its own binary problem: class {t} is the positive, every other class a negative"),
            format!("σ(z_i) = {}", list(&r.probabilities)),
            format!("weights: α_t = {} for the positive, 1 − α for the negatives ({})", num(r.alpha_t), alpha_note(p)),
            format!("FL_i = w_i · (1 − p_t,i)^γ · BCE_i = {}", list(&r.per_class_loss)),
            format!("FL = Σ FL_i = {};  CE = Σ BCE_i = {}", num(r.focal_loss), num(r.cross_entropy)),
            format!("dFL_i/dz_i = ∓w_i·(1 − p_t,i)^γ·[(1 − p_t,i) + γ·p_t,i·BCE_i] = {}", list(&r.gradient)),
        ],
    }
}
