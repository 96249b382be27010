//! What the screen shows for one valid input, derived once when the input
//! changes, never per frame: the result, its text (numbers are formatted
//! here, not while drawing), the classes worth listing, the table rows and
//! the chart's curves.

use rayon::prelude::*;

use crate::lens::{Naive, NaiveSoftmax, Precision};
use crate::loss::{Change, Focal, PARALLEL_FROM, Params, SoftmaxCache, at_probability};
use crate::report::{self, SummaryLine};

/// Reference rows of the modulating-factor table.
const REFERENCE_P: [f64; 6] = [0.1, 0.25, 0.5, 0.75, 0.9, 0.99];
/// Classes kept for the class list (the target and the most probable).
const CLASS_LIMIT: usize = 40;
/// Chart grid: p_t from P_MIN to 1, where FL(γ = 0) = α·ln(1/P_MIN) bounds the y axis.
const P_MIN: f64 = 0.01;
/// Points per curve: about two per Braille column of a wide chart.
const GRID: usize = 120;

/// (x, y) pairs of a chart curve.
pub type Points = Vec<(f64, f64)>;

pub struct Curve {
    pub gamma: f64,
    pub alpha_t: f64,
    /// The γ being explored (emphasised, and added if not in the list).
    pub current: bool,
    /// (p_t, FL) and (p_t, (1 − p_t)^γ) on the grid.
    pub points: Points,
    pub factor: Points,
}

pub struct Shown {
    pub params: Params,
    pub result: Focal,
    pub summary: Vec<SummaryLine>,
    /// The target and the most probable classes, most probable first
    /// (formatted while drawing: only the rows that fit are worth it).
    pub classes: Vec<usize>,
    /// Classes not in `classes`.
    pub hidden_classes: usize,
    pub table_header: [String; 5],
    /// Table rows by p_t, as text; `true` marks the current example's row.
    pub table: Vec<([String; 5], bool)>,
    pub curves: Vec<Curve>,
    /// The precision lens (softmax mode), when its pane asked for it.
    pub lens: Option<Vec<Naive>>,
    /// The softmax of these logits (softmax mode), kept for the next
    /// update: a γ, target or α edit then reuses the probabilities.
    softmax: SoftmaxCache,
    /// The CLASS_LIMIT most probable of all classes (by probability, then
    /// index) for these logits and mode: kept while only target, γ or α
    /// change, so those edits do not scan K probabilities again.
    top: Vec<usize>,
    /// The lens's per-class part for these logits (K `expf` per format),
    /// kept like `top`.
    lens_softmax: Option<Vec<NaiveSoftmax>>,
}

impl Shown {
    /// Everything shown for `params`, with the chart comparing `gammas`.
    pub fn new(params: Params, gammas: &[f64]) -> Self {
        let result = params.compute();
        let mut shown = Shown {
            top: top_classes(&result.probabilities, CLASS_LIMIT),
            params,
            result,
            summary: Vec::new(),
            classes: Vec::new(),
            hidden_classes: 0,
            table_header: Default::default(),
            table: Vec::new(),
            curves: Vec::new(),
            lens: None,
            softmax: SoftmaxCache::default(),
            lens_softmax: None,
        };
        shown.derive(gammas);
        shown
    }

    /// Shows `params` instead, whose logits differ from the shown ones as
    /// `logits` says. The K-long buffers and the softmax are reused, and
    /// with the same logits also the class ranking and the lens's
    /// per-class part.
    pub fn update(&mut self, params: Params, gammas: &[f64], logits: Change) {
        self.result = self.softmax.compute(&params, logits, &mut self.result);
        let same_logits = logits == Change::Same;
        if !same_logits || params.mode != self.params.mode {
            self.top = top_classes(&self.result.probabilities, CLASS_LIMIT);
        }
        if !same_logits {
            self.lens_softmax = None;
        }
        self.params = params;
        self.lens = None;
        self.derive(gammas);
    }

    /// Everything formatted from the result. The last curves with the same
    /// γ and α_t are kept: typing in the logits or γ field then computes at
    /// most one new curve.
    fn derive(&mut self, gammas: &[f64]) {
        let (params, result) = (&self.params, &self.result);
        (self.classes, self.hidden_classes) =
            classes_from_top(&self.top, result.target, result.probabilities.len(), CLASS_LIMIT);
        let alpha_t = result.alpha_t;
        let mut points: Vec<_> =
            REFERENCE_P.iter().map(|&p| (at_probability(p, params.gamma, alpha_t), false)).collect();
        let at = points.partition_point(|(row, _)| row.p_t <= result.p_t);
        points.insert(at, (result.target_row(), true));
        self.table = points.iter().map(|(point, now)| (report::table_row(point), *now)).collect();

        let mut list: Vec<f64> = gammas.to_vec();
        if !list.contains(&params.gamma) {
            list.push(params.gamma);
        }
        let mut old_curves = std::mem::take(&mut self.curves);
        self.curves = list
            .into_iter()
            .map(|gamma| {
                // Moved, not copied (a γ listed twice finds its first copy taken).
                let same = |c: &&mut Curve| c.gamma == gamma && c.alpha_t == alpha_t && !c.points.is_empty();
                let (points, factor) = match old_curves.iter_mut().find(same) {
                    Some(c) => (std::mem::take(&mut c.points), std::mem::take(&mut c.factor)),
                    None => curve(gamma, alpha_t),
                };
                Curve { gamma, alpha_t, current: gamma == params.gamma, points, factor }
            })
            .collect();
        self.summary = report::summary(params, result);
        self.table_header = report::table_header(alpha_t, params.gamma);
    }

    /// What naive code returns in each format, for the lens pane.
    /// The per-class softmax of each format is computed once per logits;
    /// then each format costs a few scalar operations.
    pub fn compute_lens(&mut self) {
        let p = &self.params;
        let bases = self.lens_softmax.get_or_insert_with(|| {
            // Three independent passes over the classes: for many classes,
            // one per core (for few, starting the threads costs more than it saves).
            let base = |&f: &Precision| NaiveSoftmax::new(&p.logits, f);
            if p.logits.len() >= PARALLEL_FROM {
                Precision::ALL.par_iter().map(base).collect()
            } else {
                Precision::ALL.iter().map(base).collect()
            }
        });
        let alpha_t = self.result.alpha_t;
        self.lens = Some(bases.iter().map(|b| b.naive(&p.logits, p.target, p.gamma, alpha_t)).collect());
    }

    /// Upper bound of the chart's FL axis: the γ = 0 curve at P_MIN.
    pub fn fl_max(&self) -> f64 {
        let top = (self.result.alpha_t * -P_MIN.ln()).min(f64::MAX);
        if top > 0.0 { top } else { 1.0 }
    }
}

/// The `limit` most probable classes of all, by probability (descending,
/// `f64::total_cmp`) then index: the order of [`report::classes_to_show`].
/// One pass with a sorted list; a class enters only if it beats the last
/// kept one, tested on the integer key `total_cmp` compares, and a block of
/// classes of which none beats it is skipped after one branch-free test
/// (almost every block, once the list is full).
fn top_classes(probabilities: &[f64], limit: usize) -> Vec<usize> {
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

/// [`report::classes_to_show`] from [`top_classes`] (`top` holds the `limit`
/// most probable of the `k` classes): the target and the `limit − 1` most
/// probable others in order, and how many are left out.
fn classes_from_top(top: &[usize], target: usize, k: usize, limit: usize) -> (Vec<usize>, usize) {
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

/// FL and the modulating factor at GRID points of p_t in [P_MIN, 1].
fn curve(gamma: f64, alpha_t: f64) -> (Points, Points) {
    (0..=GRID)
        .map(|i| {
            let p = P_MIN + (1.0 - P_MIN) * i as f64 / GRID as f64;
            let x = at_probability(p, gamma, alpha_t);
            ((p, x.focal_loss), (p, x.modulating_factor))
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::{Alpha, softmax_focal};

    /// The cached ranking lists the same classes, in the same order, as
    /// `report::classes_to_show` scanning all K (ties, ±0, K around the limit).
    #[test]
    fn ranking_matches_the_full_scan() {
        let mut next = crate::vmath::tests::xorshift(12345u64);
        for k in [1, 2, 5, 39, 40, 41, 100, 1000] {
            for round in 0..20 {
                // Few distinct logits, so that many probabilities tie.
                let z: Vec<f64> =
                    (0..k).map(|_| (next() % 7) as f64 - if round % 2 == 0 { 3.0 } else { 900.0 }).collect();
                let mut r = softmax_focal(&z, (next() % k as u64) as usize, 2.0, &Alpha::Scalar(0.25));
                if round == 3 {
                    r.probabilities.iter_mut().step_by(2).for_each(|p| *p = -0.0);
                }
                for limit in [1, 2, 3, 40] {
                    let want = report::classes_to_show(&r, limit);
                    let top = top_classes(&r.probabilities, limit);
                    let got = classes_from_top(&top, r.target, k, limit);
                    assert_eq!(got, want, "k={k} round={round} limit={limit}");
                }
            }
        }
    }
}
