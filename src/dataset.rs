//! The explorer's dataset view: the kept examples of a dataset and the sweep
//! shown for the γ, γ list and α being edited. No UI types: the view draws
//! what [`Dataset`] holds.

use crate::data::run::Loaded;
use crate::data::sweep::{Config, Examples, Report};
use crate::loss::{Alpha, Mode};

/// The lower pane of the standard layout (the wide one shows both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataPane {
    /// Per-class counts, accuracy and shares of CE and FL.
    Classes,
    /// The p_t histogram.
    Histogram,
}

impl DataPane {
    pub const ALL: [DataPane; 2] = [DataPane::Classes, DataPane::Histogram];

    pub fn name(self) -> &'static str {
        match self {
            DataPane::Classes => "classes",
            DataPane::Histogram => "p_t histogram",
        }
    }

    pub fn next(self) -> DataPane {
        match self {
            DataPane::Classes => DataPane::Histogram,
            DataPane::Histogram => DataPane::Classes,
        }
    }
}

pub struct Dataset {
    /// The files, as the user named them.
    pub name: String,
    pub examples: Examples,
    /// Rows skipped (--skip-invalid), and why.
    pub skipped: Vec<(String, u64)>,
    pub config: Config,
    /// The sweep over the γ list, with the current γ among its rows.
    pub report: Report,
    /// The row of `report.sweep` of the current γ.
    pub current: usize,
    /// Each class's share of the total cross entropy.
    pub ce_share: Vec<f64>,
    pub pane: DataPane,
}

impl Dataset {
    pub fn new(loaded: Loaded, gamma: f64, gammas: &[f64], alpha: Alpha) -> Self {
        let (config, current) = config(gamma, gammas, alpha);
        let report = loaded.examples.sweep(&config);
        Dataset {
            name: loaded.name,
            ce_share: ce_share(&report),
            examples: loaded.examples,
            skipped: loaded.skipped,
            config,
            report,
            current,
            pane: DataPane::Classes,
        }
    }

    /// K, the number of classes.
    pub fn classes(&self) -> usize {
        self.examples.classes()
    }

    /// Sweeps again for a new γ, γ list or α (no exponentials: the examples
    /// keep each row's p_t, CE and ln(1 − p_t)).
    pub fn set(&mut self, gamma: f64, gammas: &[f64], alpha: Alpha) {
        let (config, current) = config(gamma, gammas, alpha);
        if config != self.config {
            self.report = self.examples.sweep(&config);
            self.config = config;
        }
        self.current = current;
    }
}

/// The sweep's configuration: the γ list, with the current γ appended when
/// it is not in it, and the row of the current γ.
fn config(gamma: f64, gammas: &[f64], alpha: Alpha) -> (Config, usize) {
    let mut list = gammas.to_vec();
    let current = list.iter().position(|&g| g == gamma).unwrap_or_else(|| {
        list.push(gamma);
        list.len() - 1
    });
    (Config { gammas: list, alpha, mode: Mode::Softmax, ..Config::default() }, current)
}

/// Each class's share of the total CE: its rows' summed CE over everyone's,
/// as a ratio of means times a ratio of counts (no sum that may overflow);
/// 0 when the total is 0.
fn ce_share(report: &Report) -> Vec<f64> {
    let (mean, rows) = (report.mean_cross_entropy, report.rows as f64);
    let share = |c: &crate::data::sweep::ClassStats| match &c.means {
        Some(m) if mean > 0.0 => ((m.mean_cross_entropy / mean) * (c.count as f64 / rows)).min(1.0),
        _ => 0.0,
    };
    report.per_class.iter().map(share).collect()
}
