//! What the screen shows for one valid input, derived once when the input
//! changes, never per frame: the result, its text (numbers are formatted
//! here, not while drawing), the classes worth listing, the table rows and
//! the chart's curves.

use rayon::prelude::*;

use crate::lens::{Naive, NaiveSoftmax, Precision, amp};
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

/// One class of a target vector, placed on the chart by its own p_t.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassPoint {
    pub p_t: f64,
    pub term: f64,
    pub factor: f64,
    /// A positive: sigmoid, a target of at least ½; softmax, above the
    /// uniform 1/K (a smoothed negative stays below it).
    pub positive: bool,
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
    /// A target other than a class index: each class with a term, as
    /// (its own p_t, its term, its factor (1 − p_t)^γ, a positive).
    pub class_points: Vec<ClassPoint>,
    /// The precision lens (softmax mode), when its pane asked for it.
    pub lens: Option<Vec<Naive>>,
    /// The AMP lens for the profile, when the lens pane asked for it.
    pub amp: Option<amp::Shown>,
    /// A library profile's one-line note and its formula with the numbers
    /// (none for the paper's).
    pub library: Option<(String, Vec<String>)>,
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
            top: report::top_classes(&result.probabilities, CLASS_LIMIT),
            params,
            result,
            summary: Vec::new(),
            classes: Vec::new(),
            hidden_classes: 0,
            table_header: Default::default(),
            table: Vec::new(),
            curves: Vec::new(),
            class_points: Vec::new(),
            lens: None,
            amp: None,
            library: None,
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
            self.top = report::top_classes(&self.result.probabilities, CLASS_LIMIT);
        }
        if !same_logits {
            self.lens_softmax = None;
        }
        self.params = params;
        self.lens = None;
        self.amp = None;
        self.derive(gammas);
    }

    /// Everything formatted from the result. The last curves with the same
    /// γ and α_t are kept: typing in the logits or γ field then computes at
    /// most one new curve.
    fn derive(&mut self, gammas: &[f64]) {
        let (params, result) = (&self.params, &self.result);
        (self.classes, self.hidden_classes) =
            report::classes_from_top(&self.top, result.target, result.probabilities.len(), CLASS_LIMIT);
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
        self.table_header = report::result_table_header(result, params.gamma);
        self.class_points = class_points(result, params.gamma);
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
        self.lens = Some(bases.iter().map(|b| b.naive(&p.logits, self.result.target, p.gamma, alpha_t)).collect());
    }

    /// Upper bound of the chart's FL axis: the γ = 0 curve at P_MIN.
    pub fn fl_max(&self) -> f64 {
        let top = (self.result.alpha_t * -P_MIN.ln()).min(f64::MAX);
        if top > 0.0 { top } else { 1.0 }
    }
}

/// Most classes placed on the chart: beyond, the dots only blur together.
const MAX_CLASS_POINTS: usize = 2_000;

/// Each class with a non-zero term, by its own p_t (sigmoid: y·σ + (1 − y)·(1 − σ);
/// softmax: p_i); none for a class index, where the current point says it all.
fn class_points(r: &Focal, gamma: f64) -> Vec<ClassPoint> {
    if r.is_class_index() {
        return Vec::new();
    }
    let uniform = 1.0 / r.targets.len() as f64;
    let point = |i: usize| {
        let (y, p) = (r.targets[i], r.probabilities[i]);
        let (p_t, positive) = match r.mode {
            crate::loss::Mode::Softmax => (p, y > uniform),
            crate::loss::Mode::Sigmoid => (y * p + (1.0 - y) * (1.0 - p), y >= 0.5),
        };
        let factor = if gamma == 0.0 { 1.0 } else { (1.0 - p_t).powf(gamma) };
        ClassPoint { p_t, term: r.per_class_loss[i], factor, positive }
    };
    (0..r.targets.len()).filter(|&i| r.per_class_loss[i] > 0.0).take(MAX_CLASS_POINTS).map(point).collect()
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
