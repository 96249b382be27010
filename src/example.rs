//! The explorer's example view: one example's logits, kept parsed, the
//! result shown for its last valid input, and the view's choices (mode,
//! pane, chart). No UI types: the view draws what [`Example`] holds.

use crate::lens::amp;
use crate::logits_input::LogitsInput;
use crate::loss::profile::{self, PAPER};
use crate::loss::{Alpha, Mode, Params, Target};
use crate::report;
use crate::shown::Shown;

/// The pane F2 chooses: the lower pane of the standard layout, or the
/// bottom one of the wide layout (which always shows the chart and classes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Chart,
    Table,
    Classes,
    /// The calculation spelled out.
    Steps,
    /// What naive float32/float16/bfloat16 code returns.
    Lens,
}

impl Pane {
    pub const ALL: [Pane; 5] = [Pane::Chart, Pane::Table, Pane::Classes, Pane::Steps, Pane::Lens];
    /// The choices of the wide layout's bottom pane.
    pub const WIDE: [Pane; 3] = [Pane::Table, Pane::Steps, Pane::Lens];

    pub fn name(self) -> &'static str {
        match self {
            Pane::Chart => "chart",
            Pane::Table => "table",
            Pane::Classes => "classes",
            Pane::Steps => "steps",
            Pane::Lens => "lens",
        }
    }

    fn next(self, wide: bool) -> Pane {
        let list: &[Pane] = if wide { &Pane::WIDE } else { &Pane::ALL };
        let at = list.iter().position(|p| *p == self).map_or(0, |i| i + 1);
        list[at % list.len()]
    }
}

/// What the chart plots against p_t.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartView {
    Fl,
    /// FL on a log scale: the easy examples' loss spans many decades.
    FlLog,
    /// The modulating factor (1 − p_t)^γ.
    Factor,
}

impl ChartView {
    pub fn next(self) -> ChartView {
        match self {
            ChartView::Fl => ChartView::FlLog,
            ChartView::FlLog => ChartView::Factor,
            ChartView::Factor => ChartView::Fl,
        }
    }
}

pub struct Example {
    /// The last valid input and everything derived from it.
    pub shown: Shown,
    /// The logits field, parsed: edits elsewhere never re-parse it.
    pub logits: LogitsInput,
    /// The last valid γ list of the chart.
    pub gammas: Vec<f64>,
    pub mode: Mode,
    /// The library profile's name (see [`profile::PROFILES`]).
    pub profile: &'static str,
    /// The mode a sigmoid-only profile switched from, restored after it.
    pub implied_from: Option<Mode>,
    /// α as typed: the AMP lens's libraries place it themselves.
    alpha: Option<Alpha>,
    pub pane: Pane,
    pub chart: ChartView,
}

impl Example {
    /// `params` (valid) shown, with the chart comparing `gammas`;
    /// `logits` is the logits field's text.
    pub fn new(logits: &str, params: Params, gammas: Vec<f64>) -> Self {
        Example {
            mode: params.mode,
            profile: PAPER,
            implied_from: None,
            alpha: params.alpha.clone(),
            shown: Shown::new(params, &gammas),
            logits: LogitsInput::new(logits),
            gammas,
            pane: Pane::Chart,
            chart: ChartView::Fl,
        }
    }

    /// Shows the logits field's list with `target`, its label smoothing, γ
    /// and α (valid for it), as the profile computes it; or why its library
    /// cannot, leaving the last result shown.
    pub fn show(
        &mut self,
        target: Target,
        label_smoothing: f64,
        gamma: f64,
        alpha: Option<Alpha>,
    ) -> Result<(), String> {
        let (lib, _) = profile::find(self.profile, self.mode)?;
        lib.check(&target, label_smoothing, alpha.as_ref())?;
        let mut logits = std::mem::take(&mut self.shown.params.logits);
        let change = self.logits.show(&mut logits);
        let note = (!lib.is_paper()).then(|| alpha.clone());
        self.alpha.clone_from(&alpha);
        let mut params = Params { logits, target, label_smoothing, gamma, alpha, mode: lib.mode };
        lib.place_alpha(&mut params);
        self.shown.update(params, &self.gammas, change);
        // α as the user typed it, not the per-class vector it was placed as.
        if lib.placement == profile::Placement::BackgroundFirst
            && let Some(Some(typed)) = &note
            && let Some(line) = self.shown.summary.iter_mut().find(|l| l.label == "α_t")
        {
            line.note = format!("{}: {}", lib.name, lib.placement_text(Some(typed)));
        }
        self.shown.library = note.map(|alpha| {
            let r = &self.shown.result;
            let loss = lib.loss(r);
            (report::profile_line(lib, alpha.as_ref(), loss), report::profile_steps(lib, alpha.as_ref(), r, loss))
        });
        self.update_lens();
        Ok(())
    }

    /// The next pane of the layout (`wide` or not).
    pub fn next_pane(&mut self, wide: bool) {
        self.pane = self.pane.next(wide);
        self.update_lens();
    }

    /// Shows `pane` (a click on its tab).
    pub fn show_pane(&mut self, pane: Pane) {
        self.pane = pane;
        self.update_lens();
    }

    /// The precision lens costs three naive passes over the classes and the
    /// AMP lens two runs of the library's code: they are computed only while
    /// their pane is shown.
    fn update_lens(&mut self) {
        if self.pane == Pane::Lens && self.shown.lens.is_none() {
            self.shown.compute_lens();
        }
        if self.pane == Pane::Lens && self.shown.amp.is_none() {
            let p = &self.shown.params;
            let example = amp::Example {
                logits: &p.logits,
                target: &p.target,
                label_smoothing: p.label_smoothing,
                gamma: p.gamma,
                alpha: self.alpha.as_ref(),
            };
            self.shown.amp =
                Some(profile::find(self.profile, self.mode).and_then(|(lib, _)| amp::example(lib, &example)));
        }
    }
}
