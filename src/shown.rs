//! What the screen shows for one valid input, derived once when the input
//! changes, never per frame: the result, its text (numbers are formatted
//! here, not while drawing), the classes worth listing, the table rows and
//! the chart's curves.

use rayon::prelude::*;

use crate::lens::{Naive, Precision, naive};
use crate::loss::{Focal, Mode, Params, Softmax, at_probability};
use crate::report::{self, SummaryLine};

/// Reference rows of the modulating-factor table.
pub const REFERENCE_P: [f64; 6] = [0.1, 0.25, 0.5, 0.75, 0.9, 0.99];
/// Classes kept for the class list (the target and the most probable).
const CLASS_LIMIT: usize = 40;
/// Chart grid: p_t from P_MIN to 1, where FL(γ = 0) = α·ln(1/P_MIN) bounds the y axis.
pub const P_MIN: f64 = 0.01;
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
}

impl Shown {
    /// Everything shown for `params`, with the chart comparing `gammas`.
    /// Curves of `previous` with the same γ and α_t are reused: typing in
    /// the logits or γ field then computes at most one new curve.
    /// `softmax`, when given, is the softmax of `params.logits`, kept from an
    /// earlier edit.
    pub fn new(params: Params, gammas: &[f64], previous: &[Curve], softmax: Option<&Softmax>) -> Self {
        let result = match (params.mode, softmax) {
            (Mode::Softmax, Some(sm)) => sm.focal(&params.logits, params.target, params.gamma, &params.alpha),
            _ => params.compute(),
        };
        let (classes, hidden_classes) = report::classes_to_show(&result, CLASS_LIMIT);
        let alpha_t = result.alpha_t;
        let mut points: Vec<_> =
            REFERENCE_P.iter().map(|&p| (at_probability(p, params.gamma, alpha_t), false)).collect();
        let at = points.partition_point(|(row, _)| row.p_t <= result.p_t);
        points.insert(at, (result.target_row(), true));
        let table = points.iter().map(|(point, now)| (report::table_row(point), *now)).collect();

        let mut list: Vec<f64> = gammas.to_vec();
        if !list.contains(&params.gamma) {
            list.push(params.gamma);
        }
        let curves = list
            .into_iter()
            .map(|gamma| {
                let (points, factor) = match previous.iter().find(|c| c.gamma == gamma && c.alpha_t == alpha_t) {
                    Some(c) => (c.points.clone(), c.factor.clone()),
                    None => curve(gamma, alpha_t),
                };
                Curve { gamma, alpha_t, current: gamma == params.gamma, points, factor }
            })
            .collect();
        Shown {
            summary: report::summary(&params, &result),
            table_header: report::table_header(alpha_t, params.gamma),
            params,
            result,
            classes,
            hidden_classes,
            table,
            curves,
            lens: None,
        }
    }

    /// What naive code returns in each format, for the lens pane.
    pub fn compute_lens(&mut self) {
        let p = &self.params;
        let alpha_t = self.result.alpha_t;
        let pass = |&f: &Precision| naive(&p.logits, p.target, p.gamma, alpha_t, f);
        // Three independent passes over the classes: for many classes, one
        // per core (for few, starting the threads costs more than it saves).
        self.lens = Some(if p.logits.len() < 16_384 {
            Precision::ALL.iter().map(pass).collect()
        } else {
            Precision::ALL.par_iter().map(pass).collect()
        });
    }

    /// Upper bound of the chart's FL axis: the γ = 0 curve at P_MIN.
    pub fn fl_max(&self) -> f64 {
        let top = self.result.alpha_t * -P_MIN.ln();
        if top > 0.0 { top } else { 1.0 }
    }
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
