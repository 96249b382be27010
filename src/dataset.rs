//! The explorer's dataset view: the kept examples of a dataset and the sweep
//! shown for the γ, γ list and α being edited, in softmax or sigmoid mode
//! (F3; the other mode's rows are read when first asked for, so only the
//! modes shown are kept). No UI types: the view draws what [`Dataset`] holds.

use crate::cli::DataArgs;
use crate::data::run::{Loaded, load};
use crate::data::source::{IGNORED, is_stdin};
use crate::data::sweep::{ClassMeans, Config, Examples, Report, SigmoidExamples, SigmoidTerms, Split, guidance};
use crate::loss::{Alpha, Mode};

/// The lower pane of the standard layout (the wide one shows both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataPane {
    /// Per-class counts, accuracy and shares of CE and FL.
    Classes,
    /// The p_t histogram.
    Histogram,
    /// The α suggestions (issue 18), the picked one marked.
    Suggestions,
    /// The paper's Figure 4: the loss's cumulative distribution, per γ.
    LossCdf,
}

impl DataPane {
    pub const ALL: [DataPane; 4] = [DataPane::Classes, DataPane::Histogram, DataPane::Suggestions, DataPane::LossCdf];
    /// The wide layout's right-hand panes (the classes are always on the left).
    pub const WIDE: [DataPane; 3] = [DataPane::Histogram, DataPane::Suggestions, DataPane::LossCdf];

    pub fn name(self) -> &'static str {
        match self {
            DataPane::Classes => "classes",
            DataPane::Histogram => "p_t histogram",
            DataPane::Suggestions => "α",
            DataPane::LossCdf => "loss CDF",
        }
    }

    /// The next pane of the layout's tabs (wide: of [`DataPane::WIDE`]).
    pub fn next(self, wide: bool) -> DataPane {
        let panes: &[DataPane] = if wide { &DataPane::WIDE } else { &DataPane::ALL };
        let at = panes.iter().position(|&p| p == self.right(wide)).unwrap_or(0);
        panes[(at + 1) % panes.len()]
    }

    /// The pane shown where this one is asked for (wide: on the right,
    /// where the classes mean the histogram).
    pub fn right(self, wide: bool) -> DataPane {
        if wide && self == DataPane::Classes { DataPane::Histogram } else { self }
    }
}

/// An α the view offers (issue 18): what it is, where it comes from, and
/// one weight per class.
#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion {
    pub name: String,
    pub source: &'static str,
    pub alpha: Vec<f64>,
}

pub struct Dataset {
    /// The files, as the user named them.
    pub name: String,
    /// Softmax rows (empty until softmax is first shown).
    pub examples: Examples,
    /// Sigmoid rows, per class (until sigmoid is first shown: none).
    pub sigmoid: Option<SigmoidExamples>,
    /// Sigmoid: each row's per-γ sums of the last sweep's γs, so that an α
    /// or γ-list edit needs no pass over the logits for the γs kept.
    terms: SigmoidTerms,
    /// The mode asked for (F3); `config.mode` is the mode of the report shown.
    pub mode: Mode,
    /// Rows skipped (--skip-invalid) and positions ignored (--ignore-index), and why.
    pub skipped: Vec<(String, u64)>,
    /// The logits' shape, when the reader knows it, and the class axis asked for.
    pub shape: Option<(Vec<u64>, Option<i64>)>,
    pub config: Config,
    /// The sweep over the γ list, with the current γ among its rows.
    pub report: Report,
    /// Sigmoid: the positives' and negatives' shares of each loss.
    pub split: Option<Split>,
    /// The row of `report.sweep` of the current γ.
    pub current: usize,
    /// Each class's share of the total cross entropy.
    pub ce_share: Vec<f64>,
    pub pane: DataPane,
    /// The α suggestion picked (F4), an index into [`Dataset::suggestions`].
    pub picked: usize,
    /// How to read the files again for the other mode's rows (none: they
    /// cannot be, e.g. standard input).
    reload: Option<DataArgs>,
}

impl Dataset {
    pub fn new(loaded: Loaded, gamma: f64, gammas: &[f64], alpha: Alpha) -> Self {
        let (config, current) = config(gamma, gammas, alpha, loaded.mode);
        let mut terms = SigmoidTerms::default();
        let (report, split) = swept(&config, &loaded.examples, loaded.sigmoid.as_ref(), &mut terms, &config.gammas);
        Dataset {
            name: loaded.name,
            examples: loaded.examples,
            sigmoid: loaded.sigmoid,
            terms,
            mode: loaded.mode,
            skipped: loaded.skipped,
            shape: loaded.shape.map(|s| (s, None)),
            ce_share: ce_share(&report),
            report,
            split,
            config,
            current,
            pane: DataPane::Classes,
            picked: 0,
            reload: None,
        }
    }

    /// This dataset, reading `args`' files again when the other mode is
    /// first asked for (not standard input: it was read once).
    pub fn reloading(mut self, args: DataArgs) -> Self {
        if let Some(shape) = &mut self.shape {
            shape.1 = args.tensor.class_axis;
        }
        let stdin = args.csv.iter().chain(&args.logits).chain(&args.labels).any(|p| is_stdin(p));
        self.reload = (!stdin).then_some(args);
        self
    }

    /// K, the number of classes.
    pub fn classes(&self) -> usize {
        self.report.classes
    }

    /// Positions left out by `--ignore-index`.
    pub fn ignored(&self) -> u64 {
        self.skipped.iter().filter(|(why, _)| why == IGNORED).map(|(_, n)| n).sum()
    }

    /// Rows skipped by `--skip-invalid`.
    pub fn skipped_rows(&self) -> u64 {
        self.skipped.iter().filter(|(why, _)| why != IGNORED).map(|(_, n)| n).sum()
    }

    /// The report's α suggestions from the class counts, then the current
    /// γ's balancing α (none for an empty report).
    pub fn suggestions(&self) -> Vec<Suggestion> {
        let r = &self.report;
        let mut out: Vec<Suggestion> = r
            .alpha_suggestions
            .iter()
            .map(|s| Suggestion {
                name: match (s.method, s.beta) {
                    ("balanced", _) => "balanced n/(K·n_c)".to_string(),
                    ("inverse_sqrt", _) => "1/√n_c".to_string(),
                    (_, Some(beta)) => format!("effective number β={beta}"),
                    (method, None) => method.to_string(),
                },
                source: match s.method {
                    "effective_number" => "class counts, Cui et al. 2019",
                    _ => "class counts",
                },
                alpha: s.alpha.clone(),
            })
            .collect();
        if let Some(row) = r.sweep.get(self.current)
            && !out.is_empty()
        {
            out.push(Suggestion {
                name: format!("balancing at γ={}", crate::format::sig(row.gamma, 4)),
                source: "each class's focal loss at the current γ",
                alpha: row.balancing_alpha.clone(),
            });
        }
        out
    }

    /// Picks the next suggestion (after the last, the first).
    pub fn next_suggestion(&mut self) -> Option<Suggestion> {
        let all = self.suggestions();
        self.picked = if all.is_empty() { 0 } else { (self.picked + 1) % all.len() };
        all.into_iter().nth(self.picked)
    }

    /// The suggestion picked.
    pub fn picked(&self) -> Option<Suggestion> {
        self.suggestions().into_iter().nth(self.picked)
    }

    /// Sweeps again for a new γ, γ list or α (no exponentials: the examples
    /// keep each row's p_t, CE and ln(1 − p_t), or each logit's values in
    /// sigmoid mode).
    pub fn set(&mut self, gamma: f64, gammas: &[f64], alpha: Alpha) {
        let (config, current) = config(gamma, gammas, alpha, self.mode);
        if config != self.config {
            let old = std::mem::replace(&mut self.config, config);
            let only_gammas =
                Config { gammas: Vec::new(), ..old.clone() } == Config { gammas: Vec::new(), ..self.config.clone() };
            if !(only_gammas && self.resplice(&old.gammas)) {
                self.sweep();
            }
        }
        self.current = current;
    }

    /// Only the γ list changed (from `old`; a γ typed or nudged, added,
    /// dropped or moved): the report of the new list from the last one's
    /// rows for the γs it had and one sweep of the γs it did not (none when
    /// γs were only dropped or moved) — the report a whole sweep gives, bit
    /// for bit, as every γ's values are computed alike and apart from the
    /// others' and the rest does not depend on γ. False, the report as it
    /// was, where that does not hold: a last list with a γ twice (whose
    /// notes would be taken twice), or a row saturated (`saturated` counts
    /// rows over every γ).
    fn resplice(&mut self, old: &[f64]) -> bool {
        let new = &self.config.gammas;
        if self.report.saturated > 0 || has_twice(old) {
            return false;
        }
        let missing: Vec<f64> = new.iter().copied().filter(|g| !old.contains(g)).collect();
        let fresh = if missing.is_empty() {
            None
        } else {
            let config = Config { gammas: missing.clone(), ..self.config.clone() };
            let swept = swept(&config, &self.examples, self.sigmoid.as_ref(), &mut self.terms, new);
            if swept.0.saturated > 0 {
                return false;
            }
            Some(swept)
        };
        // Each new γ's row: the last report's, or the fresh sweep's.
        let from: Vec<(bool, usize)> = new
            .iter()
            .map(|g| match old.iter().position(|o| o == g) {
                Some(i) => (false, i),
                None => (true, missing.iter().position(|m| m == g).expect("swept")),
            })
            .collect();
        let (r, fresh_report) = (&mut self.report, fresh.as_ref().map(|f| &f.0));
        r.sweep = picked(&from, &r.sweep, fresh_report.map(|f| &f.sweep[..]));
        for (c, class) in r.per_class.iter_mut().enumerate() {
            let f = fresh_report.map(|f| (&f.per_class[c].share[..], f.per_class[c].means.as_ref()));
            splice_group(&from, (&mut class.share, &mut class.means), f);
        }
        if let Some(b) = &mut r.background {
            let f = fresh_report.and_then(|f| f.background.as_ref()).map(|b| (&b.share[..], b.means.as_ref()));
            splice_group(&from, (&mut b.share, &mut b.means), f);
        }
        // The notes: those of no γ first, then each γ's, in the list's order.
        let mut notes: Vec<String> =
            r.guidance_notes.iter().filter(|n| !old.iter().any(|&g| guidance::is_at_gamma(n, g))).cloned().collect();
        for (&g, &(is_new, _)) in new.iter().zip(&from) {
            let source = if is_new { &fresh_report.expect("swept").guidance_notes } else { &r.guidance_notes };
            notes.extend(source.iter().filter(|n| guidance::is_at_gamma(n, g)).cloned());
        }
        r.guidance_notes = notes;
        if let Some(split) = &mut self.split {
            let f = fresh.as_ref().and_then(|f| f.1.as_ref()).map(|s| &s.focal[..]);
            split.focal = picked(&from, &split.focal, f);
        }
        true
    }

    /// Softmax ⇄ sigmoid: the mode asked for, the other's rows read when
    /// first needed (the caller re-sweeps with α parsed for the mode). An
    /// error says why the mode cannot change; nothing changes then.
    pub fn switch_mode(&mut self) -> Result<(), String> {
        let mode = match self.mode {
            Mode::Softmax => Mode::Sigmoid,
            Mode::Sigmoid => Mode::Softmax,
        };
        let missing = match mode {
            Mode::Softmax => self.examples.is_empty(),
            Mode::Sigmoid => self.sigmoid.is_none(),
        };
        if missing {
            let Some(args) = &self.reload else {
                let flag = if mode == Mode::Sigmoid { "with" } else { "without" };
                return Err(format!(
                    "{} rows are not kept and the data cannot be read again: open the view {flag} --sigmoid",
                    mode.name()
                ));
            };
            let args = DataArgs { sigmoid: mode == Mode::Sigmoid, ..args.clone() };
            let loaded = load(&args)?;
            self.examples = loaded.examples;
            self.sigmoid = self.sigmoid.take().or(loaded.sigmoid);
        }
        self.mode = mode;
        Ok(())
    }

    fn sweep(&mut self) {
        let keep = &self.config.gammas;
        (self.report, self.split) = swept(&self.config, &self.examples, self.sigmoid.as_ref(), &mut self.terms, keep);
        self.ce_share = ce_share(&self.report);
    }
}

/// The weights `alpha` as the α field of `mode` takes them: as they are,
/// or in sigmoid mode (α ≤ 1) divided by the largest when it is above 1,
/// with that largest.
pub fn for_mode(alpha: &[f64], mode: Mode) -> (Vec<f64>, Option<f64>) {
    let top = alpha.iter().copied().fold(0.0, f64::max);
    match mode {
        Mode::Sigmoid if top > 1.0 => (alpha.iter().map(|a| (a / top).min(1.0)).collect(), Some(top)),
        _ => (alpha.to_vec(), None),
    }
}

/// The report (and split) of `config` from the kept rows of its mode (in
/// sigmoid mode through `terms`, which keep the sums of `keep`'s γs).
fn swept(
    config: &Config,
    examples: &Examples,
    sigmoid: Option<&SigmoidExamples>,
    terms: &mut SigmoidTerms,
    keep: &[f64],
) -> (Report, Option<Split>) {
    match (config.mode, sigmoid) {
        (Mode::Sigmoid, Some(kept)) => {
            let (report, split) = terms.sweep(kept, config, keep);
            (report, Some(split))
        }
        _ => (examples.sweep(config), None),
    }
}

/// Per γ of a new list, its entry in the last report's `last` or (true)
/// the fresh sweep's `fresh`, by `from`'s (fresh, index) pairs.
fn picked<T: Clone>(from: &[(bool, usize)], last: &[T], fresh: Option<&[T]>) -> Vec<T> {
    from.iter().map(|&(is_new, i)| if is_new { fresh.expect("swept")[i].clone() } else { last[i].clone() }).collect()
}

/// A class's (or the background's) per-γ shares and mean losses, as
/// [`picked`] from the last report's and the fresh sweep's.
fn splice_group(
    from: &[(bool, usize)],
    (share, means): (&mut Vec<f64>, &mut Option<ClassMeans>),
    fresh: Option<(&[f64], Option<&ClassMeans>)>,
) {
    *share = picked(from, share, fresh.map(|f| f.0));
    if let Some(m) = means {
        let f = fresh.and_then(|f| f.1).map(|m| &m.mean_focal_loss[..]);
        m.mean_focal_loss = picked(from, &m.mean_focal_loss, f);
    }
}

/// Whether a γ is in `list` more than once.
fn has_twice(list: &[f64]) -> bool {
    list.iter().enumerate().any(|(i, g)| list[..i].contains(g))
}

/// The sweep's configuration: the γ list, with the current γ appended when
/// it is not in it, and the row of the current γ.
fn config(gamma: f64, gammas: &[f64], alpha: Alpha, mode: Mode) -> (Config, usize) {
    let mut list = gammas.to_vec();
    let current = list.iter().position(|&g| g == gamma).unwrap_or_else(|| {
        list.push(gamma);
        list.len() - 1
    });
    (Config { gammas: list, alpha, mode, ..Config::default() }, current)
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
