//! The words and numbers of a result, shared by `calc` and the explorer so
//! that both say the same thing: the summary lines, the seed's table row and
//! which classes to list when there are thousands.

use crate::format::{list, ratio, sig, times_below};
use crate::loss::profile::{ClassReduction, Profile};
use crate::loss::{Alpha, Focal, Mode, Params, PointLoss, Target};

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
/// the prediction. For a target other than a class index, p_t, 1 − p_t, the
/// factor and α_t are the headline class's (see [`Focal`]).
pub fn summary(p: &Params, r: &Focal) -> Vec<SummaryLine> {
    let sum = if r.mode == Mode::Sigmoid || !r.is_class_index() { "summed over classes" } else { "" };
    let ratio = ratio(r.focal_loss, r.cross_entropy, 4).unwrap_or_else(|| "—".into());
    let below = times_below(r.focal_loss, r.cross_entropy).map_or(String::new(), |x| format!("FL is {x} below CE"));
    let (p_t_note, predicted_note) = match p.class_index() {
        Some(t) => {
            let verdict = if r.predicted == t { "correct" } else { "wrong" };
            ("probability of the target class".to_string(), format!("{verdict} (target {t})"))
        }
        None => (format!("class {} ({})", r.target, headline_why(&p.target)), target_label(p)),
    };
    vec![
        line("focal loss FL", num(r.focal_loss), sum),
        line("cross-entropy CE", num(r.cross_entropy), sum),
        line("FL / CE", ratio, below),
        line("p_t", num(r.p_t), p_t_note),
        line("1 − p_t", num(r.one_minus_p_t), ""),
        line("(1 − p_t)^γ", num(r.modulating_factor), "modulating factor"),
        line("α_t", num(r.alpha_t), alpha_note(p, r)),
        line("predicted", format!("class {}", r.predicted), predicted_note),
    ]
}

/// Why the headline class was chosen.
fn headline_why(target: &Target) -> &'static str {
    match target {
        Target::Background => "the largest term",
        Target::Classes(_) => "the positive with the largest term",
        Target::Class(_) | Target::Probs(_) => "the largest target",
    }
}

/// The target as typed, in words: `target 1`, `target none (background)`,
/// `targets 1, 3`, `target probabilities`; with the smoothing when there is one.
pub fn target_label(p: &Params) -> String {
    let what = match &p.target {
        Target::Class(t) => format!("target {t}"),
        Target::Background => "target none (background)".into(),
        Target::Classes(list) => {
            format!("targets {}", list.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
        }
        Target::Probs(_) => "target probabilities".into(),
    };
    if p.label_smoothing > 0.0 { format!("{what}, smoothed ε = {}", num(p.label_smoothing)) } else { what }
}

/// Which α_t was applied and why: the most common confusion about focal loss.
pub fn alpha_note(p: &Params, r: &Focal) -> String {
    let h = r.target;
    let one_class = p.class_index().is_some();
    match (p.mode, &p.alpha) {
        (Mode::Softmax, None) => "no α weighting: α_t = 1".into(),
        (Mode::Sigmoid, None) => "no α weighting: every class weighted 1".into(),
        (Mode::Softmax, Some(Alpha::Scalar(_))) if one_class => "scalar α applied to the target class".into(),
        (Mode::Softmax, Some(Alpha::Scalar(_))) => "scalar α weighs every class's term".into(),
        (Mode::Softmax, Some(Alpha::PerClass(_))) => format!("α[{h}] of the per-class vector"),
        (Mode::Sigmoid, Some(Alpha::Scalar(a))) if one_class => {
            format!("positive α, negatives 1 − α = {}", num(1.0 - a))
        }
        (Mode::Sigmoid, Some(Alpha::Scalar(_))) => match r.target_of(h) {
            1.0 => format!("class {h} is a positive: α"),
            0.0 => format!("class {h} is a negative: 1 − α"),
            y => format!("α·y + (1 − α)·(1 − y), y = {}", num(y)),
        },
        (Mode::Sigmoid, Some(Alpha::PerClass(_))) if one_class => {
            format!("positive α[{h}], negative i 1 − α[i]")
        }
        (Mode::Sigmoid, Some(Alpha::PerClass(_))) => format!("α[{h}]·y + (1 − α[{h}])·(1 − y) of class {h}"),
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

/// The table header for a result's own row. For a target vector the row is
/// the headline class's: sigmoid, its own binary term; softmax, its loss as
/// if its target were 1. The header says which.
pub fn result_table_header(r: &Focal, gamma: f64) -> [String; 5] {
    let mut header = table_header(r.alpha_t, gamma);
    match (r.is_class_index(), r.mode) {
        (true, _) => {}
        (false, Mode::Sigmoid) => header[4] = format!("FL term of class {}", r.target),
        (false, Mode::Softmax) => header[4] = format!("FL of class {} if q = 1", r.target),
    }
    header
}

/// One table row, formatted.
pub fn table_row(x: &PointLoss) -> [String; 5] {
    [x.p_t, x.one_minus_p_t, x.modulating_factor, x.cross_entropy, x.focal_loss].map(num)
}

/// Classes to list: all when there are at most `limit`, otherwise the target
/// and the most probable others; by probability (`f64::total_cmp`,
/// descending), then index. Also how many are left out.
pub fn classes_to_show(r: &Focal, limit: usize) -> (Vec<usize>, usize) {
    let top = top_classes(&r.probabilities, limit);
    classes_from_top(&top, r.target, r.probabilities.len(), limit)
}

/// The `limit` most probable classes of all, by probability (descending,
/// `f64::total_cmp`) then index: the order of [`classes_to_show`].
/// One pass with a sorted list; a class enters only if it beats the last
/// kept one, tested on the integer key `total_cmp` compares, and a block of
/// classes of which none beats it is skipped after one branch-free test
/// (almost every block, once the list is full).
pub(crate) fn top_classes(probabilities: &[f64], limit: usize) -> Vec<usize> {
    // The monotone integer image of total_cmp's order.
    let key = |x: f64| {
        let b = x.to_bits() as i64;
        b ^ (((b >> 63) as u64) >> 1) as i64
    };
    if limit == 0 {
        return Vec::new();
    }
    const BLOCK: usize = 64;
    let mut top: Vec<(i64, usize)> = Vec::with_capacity(limit + 1);
    for (b, block) in probabilities.chunks(BLOCK).enumerate() {
        if top.len() == limit {
            let last = top[limit - 1].0;
            if !block.iter().fold(false, |beats, &p| beats | (key(p) > last)) {
                continue;
            }
        }
        for (i, &p) in block.iter().enumerate() {
            let k = key(p);
            // Kept classes have smaller indices: an equal key loses.
            if top.len() == limit && k <= top[limit - 1].0 {
                continue;
            }
            let at = top.partition_point(|&(kj, _)| kj >= k);
            top.insert(at, (k, b * BLOCK + i));
            top.truncate(limit);
        }
    }
    top.into_iter().map(|(_, i)| i).collect()
}

/// [`classes_to_show`] from [`top_classes`] (`top` holds the `limit`
/// most probable of the `k` classes): the target and the `limit − 1` most
/// probable others in order, and how many are left out.
pub(crate) fn classes_from_top(top: &[usize], target: usize, k: usize, limit: usize) -> (Vec<usize>, usize) {
    if k <= limit {
        return (top.to_vec(), 0);
    }
    let keep = limit.saturating_sub(1);
    let mut list: Vec<usize> = top.iter().copied().filter(|&i| i != target).take(keep).collect();
    // Insert the target where the ranking puts it: after every listed class
    // ranked before it (they are a prefix of `top` when it is in `top`).
    let at = match top.iter().position(|&i| i == target) {
        Some(rank) => rank.min(list.len()),
        None => list.len(),
    };
    list.insert(at, target);
    (list, k - keep - 1)
}

/// A number for people.
/// Whose number this is, in one line: "as kornia 0.9 computes it: FL = …;
/// class 0 gets 1 − α, …" (`alpha` as the user gave it).
pub fn profile_line(profile: &Profile, alpha: Option<&Alpha>, loss: f64) -> String {
    format!("as {} computes it: FL = {}; {}", profile.library, num(loss), profile.summary(alpha))
}

/// The library's formula with the numbers: how its value comes from the
/// per-class terms `r` (computed with α placed as it places it).
pub fn profile_steps(profile: &Profile, alpha: Option<&Alpha>, r: &Focal, loss: f64) -> Vec<String> {
    let lib = profile.library;
    let weights = profile.placement_text(alpha);
    let formula = match (r.mode, r.is_class_index()) {
        (Mode::Softmax, true) => {
            format!("{lib}: FL = −α_t·(1 − p_t)^γ·ln p_t, {weights}: α_t = {} for class {}", num(r.alpha_t), r.target)
        }
        (Mode::Softmax, false) => format!("{lib}: FL = −Σ α_i·q_i·(1 − p_i)^γ·ln p_i, {weights}"),
        (Mode::Sigmoid, _) => format!("{lib}: FL_i = α_t,i·(1 − p_t,i)^γ·BCE_i, {weights}"),
    };
    let k = r.probabilities.len();
    let returns = match profile.classes {
        ClassReduction::Sum => format!("{lib} returns the sum over the classes: FL = {}", num(loss)),
        ClassReduction::Mean => {
            format!("{lib} returns the mean over the K = {k} classes: {} / {k} = {}", num(r.focal_loss), num(loss))
        }
    };
    vec![formula, returns, format!("a batch: {};  {}", profile.batch.text(), profile.source)]
}

pub fn num(x: f64) -> String {
    sig(x, DIGITS)
}

/// The calculation spelled out like the seed's worked examples, with the
/// exact numbers: one line per step.
pub fn steps(p: &Params, r: &Focal) -> Vec<String> {
    let list = |v: &[f64]| list(v, 6, DIGITS);
    let t = r.target;
    match (r.mode, r.is_class_index()) {
        (Mode::Softmax, false) => {
            let j = r.predicted;
            let pj = r.probabilities[j];
            let shifted: Vec<f64> = r.probabilities.iter().map(|&pi| pi / pj).collect();
            vec![
                format!("max z = {} (class {j});  exp(z_i − max z) = {}", num(p.logits[j]), list(&shifted)),
                format!("Σ = {};  p_i = exp(z_i − max z) / Σ = {}", num(1.0 / pj), list(&r.probabilities)),
                format!("q_i ({}) = {}", target_label(p), list(&r.targets)),
                format!("CE = −Σ q_i·ln p_i = {}", num(r.cross_entropy)),
                format!("FL_i = −α_i·q_i·(1 − p_i)^γ·ln p_i = {}", list(&r.per_class_loss)),
                format!("FL = Σ FL_i = {};  class {t}: p = {}, α = {}", num(r.focal_loss), num(r.p_t), num(r.alpha_t)),
                format!(
                    "dFL/dz_k = p_k·Σ_(i≠k) α_i·q_i·h_i − α_k·q_k·h_k·(1 − p_k), h_i = (1 − p_i)^γ·[1 + γ·p_i·CE_i/(1 − p_i)]: {}",
                    list(&r.gradient)
                ),
            ]
        }
        (Mode::Sigmoid, false) => vec![
            format!("each class is its own binary problem with label y_i ({}): {}", target_label(p), list(&r.targets)),
            format!("σ(z_i) = {}", list(&r.probabilities)),
            format!("weights α_t,i = α·y_i + (1 − α)·(1 − y_i) ({})", alpha_note(p, r)),
            format!(
                "FL_i = α_t,i·(1 − p_t,i)^γ·BCE_i, BCE_i = y·softplus(−z) + (1 − y)·softplus(z): {}",
                list(&r.per_class_loss)
            ),
            format!("FL = Σ FL_i = {};  CE = Σ BCE_i = {}", num(r.focal_loss), num(r.cross_entropy)),
            format!("dFL_i/dz_i = α_t,i·(1 − p_t,i)^γ·[γ·r_i·BCE_i + σ_i − y_i] = {}", list(&r.gradient)),
        ],
        (Mode::Softmax, true) => {
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
        (Mode::Sigmoid, true) => vec![
            format!("each class is its own binary problem: class {t} is the positive, every other class a negative"),
            format!("σ(z_i) = {}", list(&r.probabilities)),
            format!(
                "weights: α_t = {} for the positive, 1 − α for the negatives ({})",
                num(r.alpha_t),
                alpha_note(p, r)
            ),
            format!("FL_i = w_i · (1 − p_t,i)^γ · BCE_i = {}", list(&r.per_class_loss)),
            format!("FL = Σ FL_i = {};  CE = Σ BCE_i = {}", num(r.focal_loss), num(r.cross_entropy)),
            format!("dFL_i/dz_i = ∓w_i·(1 − p_t,i)^γ·[(1 − p_t,i) + γ·p_t,i·BCE_i] = {}", list(&r.gradient)),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::{Alpha, softmax_focal};

    /// The ranking lists the classes a full sort lists: the target and the
    /// `limit − 1` most probable others, by probability then index (ties,
    /// ±0, K around the limit).
    #[test]
    fn ranking_matches_a_full_sort() {
        let mut next = crate::test_rng::xorshift(12345u64);
        for k in [1, 2, 5, 39, 40, 41, 100, 1000] {
            for round in 0..20 {
                // Few distinct logits, so that many probabilities tie.
                let z: Vec<f64> =
                    (0..k).map(|_| (next() % 7) as f64 - if round % 2 == 0 { 3.0 } else { 900.0 }).collect();
                let mut r = softmax_focal(&z, (next() % k as u64) as usize, 2.0, &Alpha::Scalar(0.25));
                if round == 3 {
                    r.probabilities.iter_mut().step_by(2).for_each(|p| *p = -0.0);
                }
                let mut all: Vec<usize> = (0..k).collect();
                all.sort_by(|&a, &b| r.probabilities[b].total_cmp(&r.probabilities[a]).then(a.cmp(&b)));
                for limit in [1, 2, 3, 40] {
                    let want = if k <= limit {
                        (all.clone(), 0)
                    } else {
                        let others: Vec<usize> =
                            all.iter().copied().filter(|&i| i != r.target).take(limit - 1).collect();
                        let mut list: Vec<usize> =
                            all.iter().copied().filter(|i| *i == r.target || others.contains(i)).collect();
                        list.truncate(limit);
                        (list, k - limit)
                    };
                    assert_eq!(classes_to_show(&r, limit), want, "k={k} round={round} limit={limit}");
                }
            }
        }
    }
}
