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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::{Alpha, softmax_focal};

    /// The ranking lists the classes a full sort lists: the target and the
    /// `limit − 1` most probable others, by probability then index (ties,
    /// ±0, K around the limit).
    #[test]
    fn ranking_matches_a_full_sort() {
        let mut next = crate::simd::math::tests::xorshift(12345u64);
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
