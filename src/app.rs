//! The explorer's whole state and its one entry point for change,
//! [`App::update`]. No terminal I/O here, so every behaviour is unit-testable
//! from synthetic events.

use crossterm::event::Event;
use tui_input::StateChanged;

use crate::action::{Action, Command};
use crate::calc;
use crate::dataset::Dataset;
use crate::field::Field;
use crate::keys;
use crate::logits_input::LogitsInput;
use crate::loss::{Mode, Params};
use crate::parse::{self, FieldError, TextEdit};
use crate::presets::PRESETS;
use crate::shown::Shown;
use crate::text::FieldText;
use crate::theme::Look;

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

/// The wide layout (every pane at once) from this terminal size on.
pub fn is_wide(width: u16, height: u16) -> bool {
    width >= 120 && height >= 32
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
    fn next(self) -> ChartView {
        match self {
            ChartView::Fl => ChartView::FlLog,
            ChartView::FlLog => ChartView::Factor,
            ChartView::Factor => ChartView::Fl,
        }
    }
}

pub struct App {
    inputs: [FieldText; 5],
    pub focus: Field,
    /// Why each field's text does not parse (indexed like [`Field::ALL`]).
    pub errors: [Option<FieldError>; 5],
    pub mode: Mode,
    pub help: bool,
    pub pane: Pane,
    /// The last valid input and everything derived from it.
    pub shown: Shown,
    /// Some field is invalid: `shown` is the last valid input, not this one.
    pub stale: bool,
    pub quit: bool,
    pub look: Look,
    pub chart: ChartView,
    /// The terminal is large enough for the wide layout.
    pub wide: bool,
    /// A one-line answer to the last action (a preset, a copy).
    pub status: Option<String>,
    /// Text waiting to be sent to the clipboard by the terminal loop.
    clipboard: Option<String>,
    /// The preset last applied.
    preset: Option<usize>,
    /// The logits, parsed: edits elsewhere never re-parse them.
    logits: LogitsInput,
    /// The last valid γ list of the chart.
    gammas: Vec<f64>,
    /// The dataset view (`focal-tui --data`), in place of the example.
    pub data: Option<Dataset>,
}

impl App {
    /// The explorer on `params` (already validated, e.g. from the command line)
    /// with the chart comparing `gammas`; `texts` are the fields as typed.
    pub fn new(texts: [String; 5], params: Params, gammas: Vec<f64>, look: Look) -> Self {
        let mode = params.mode;
        let logits = LogitsInput::new(&texts[Field::Logits.index()]);
        App {
            inputs: texts.map(FieldText::new),
            focus: Field::Logits,
            errors: Default::default(),
            mode,
            help: false,
            pane: Pane::Chart,
            shown: Shown::new(params, &gammas),
            stale: false,
            quit: false,
            look,
            chart: ChartView::Fl,
            wide: false,
            status: None,
            clipboard: None,
            preset: None,
            logits,
            gammas,
            data: None,
        }
    }

    /// The dataset view on `data`, with γ, α and the γ list from `texts`
    /// (as [`App::new`] takes them; the example's fields are not shown).
    pub fn with_data(texts: [String; 5], data: Dataset, look: Look) -> Self {
        let mut app = App::with_defaults(look);
        app.inputs = texts.map(FieldText::new);
        app.data = Some(data);
        app.focus = Field::Gamma;
        app.recompute(Field::Gamma, None);
        app
    }

    /// Which key bindings are active.
    pub fn key_context(&self) -> keys::Context {
        keys::Context { help: self.help, data: self.data.is_some() }
    }

    /// The fields on screen, in focus order.
    pub fn fields(&self) -> &'static [Field] {
        if self.data.is_some() { &Field::DATA } else { &Field::ALL }
    }

    /// The explorer on the defaults (the seed's hard example).
    pub fn with_defaults(look: Look) -> Self {
        let texts = Field::ALL.map(|f| f.default_text().to_string());
        let params = crate::field::params(Field::PARAMS.map(|f| f.default_text()), Mode::Softmax)
            .expect("the defaults are valid");
        let gammas = parse::gammas(Field::Gammas.default_text()).expect("the default γ list is valid");
        App::new(texts, params, gammas, look)
    }

    pub fn input(&self, field: Field) -> &FieldText {
        &self.inputs[field.index()]
    }

    /// Carries out one action; returns whether anything visible changed.
    pub fn update(&mut self, action: Action) -> bool {
        // A status message answers one action; the next one clears it.
        if !matches!(action, Action::Resize(..)) {
            self.status = None;
        }
        match action {
            Action::Command(command) => self.command(command),
            Action::Edit(request) => match self.inputs[self.focus.index()].handle(request) {
                (Some(StateChanged { value: true, .. }), edit) => {
                    self.recompute(self.focus, edit);
                    true
                }
                (Some(_), _) => true,
                (None, _) => false,
            },
            Action::Insert(text) => self.insert(&text),
            Action::Resize(w, h) => {
                self.wide = is_wide(w, h);
                true
            }
        }
    }

    /// Handles a batch of terminal events (one read plus whatever was already
    /// queued), merging runs of typed characters into one insertion so that a
    /// paste without bracketed-paste mode costs one re-parse, not one per key.
    pub fn handle_events(&mut self, events: impl IntoIterator<Item = Event>) -> bool {
        let mut changed = false;
        let mut pending = String::new();
        for event in events {
            match keys::action_for(&event, self.key_context()) {
                Some(Action::Insert(text)) => pending.push_str(&text),
                other => {
                    if !pending.is_empty() {
                        changed |= self.update(Action::Insert(std::mem::take(&mut pending)));
                    }
                    if let Some(action) = other {
                        changed |= self.update(action);
                    }
                }
            }
            if self.quit {
                return true;
            }
        }
        if !pending.is_empty() {
            changed |= self.update(Action::Insert(pending));
        }
        changed
    }

    fn command(&mut self, command: Command) -> bool {
        match command {
            Command::NextField | Command::PrevField => {
                let fields = self.fields();
                let at = fields.iter().position(|&f| f == self.focus).unwrap_or(0);
                let step = if command == Command::NextField { 1 } else { fields.len() - 1 };
                self.focus = fields[(at + step) % fields.len()];
            }
            Command::ToggleHelp => self.help = !self.help,
            Command::Back if self.help => self.help = false,
            Command::Back | Command::Quit => self.quit = true,
            Command::NextPane => match &mut self.data {
                Some(data) => data.pane = data.pane.next(),
                None => {
                    self.pane = self.pane.next(self.wide);
                    self.update_lens();
                }
            },
            Command::Reset => {
                self.inputs = Field::ALL.map(|f| FieldText::new(f.default_text().to_string()));
                self.focus = self.fields()[0];
                self.recompute(self.focus, None);
            }
            Command::ToggleMode => {
                self.mode = match self.mode {
                    Mode::Softmax => Mode::Sigmoid,
                    Mode::Sigmoid => Mode::Softmax,
                };
                // α's valid range depends on the mode.
                self.recompute(Field::Alpha, None);
            }
            Command::NextChart => self.chart = self.chart.next(),
            Command::NextPreset => self.next_preset(),
            Command::Copy => {
                self.clipboard = Some(match &self.data {
                    Some(d) => crate::data::run::text(&d.report, &d.skipped, &d.config),
                    None => calc::text(&self.shown.params, &self.shown.result),
                });
                let which = if self.stale { " (the last valid result)" } else { "" };
                self.status =
                    Some(format!("sent to the terminal clipboard (OSC 52){which} · tmux: set -g set-clipboard on"));
            }
        }
        true
    }

    /// Fills the fields from the next preset and says where it comes from.
    fn next_preset(&mut self) {
        let i = self.preset.map_or(0, |i| (i + 1) % PRESETS.len());
        let p = &PRESETS[i];
        let texts = [
            (Field::Logits, p.logits),
            (Field::Target, p.target),
            (Field::Gamma, Some(p.gamma)),
            (Field::Alpha, Some(p.alpha)),
        ];
        for (field, text) in texts {
            if let Some(text) = text {
                self.inputs[field.index()] = FieldText::new(text.to_string());
            }
        }
        self.preset = Some(i);
        self.recompute(Field::Logits, None);
        self.status = Some(format!("preset {}/{}: {} · {}", i + 1, PRESETS.len(), p.name, p.source));
    }

    /// The precision lens costs three naive passes over the classes: it is
    /// computed only while its pane is shown.
    fn update_lens(&mut self) {
        if self.pane == Pane::Lens && self.shown.lens.is_none() {
            self.shown.compute_lens();
        }
    }

    /// The text a Copy asked to send to the clipboard, once.
    pub fn take_clipboard(&mut self) -> Option<String> {
        self.clipboard.take()
    }

    /// Inserts text at the cursor of the focused field in one edit. Line
    /// breaks and tabs (NumPy prints arrays over several lines) become
    /// spaces; other control characters are dropped.
    fn insert(&mut self, text: &str) -> bool {
        let clean: String = text
            .chars()
            .filter_map(|c| match c {
                '\n' | '\r' | '\t' => Some(' '),
                c if c.is_control() => None,
                c => Some(c),
            })
            .collect();
        if clean.is_empty() {
            return false;
        }
        let edit = self.inputs[self.focus.index()].insert(&clean);
        self.recompute(self.focus, Some(edit));
        true
    }

    /// Re-parses after `changed` was edited (`edit`: how, when known; the
    /// logits only when they changed: target and α depend on K, so they are
    /// always re-checked) and, when every field is valid, recomputes what is
    /// shown.
    fn recompute(&mut self, changed: Field, edit: Option<TextEdit>) {
        if self.data.is_some() {
            return self.recompute_data();
        }
        let text = |f: Field| self.inputs[f.index()].value();
        if changed == Field::Logits {
            self.errors[Field::Logits.index()] = self.logits.parse(text(Field::Logits), edit).err();
        }
        let logits_ok = self.errors[Field::Logits.index()].is_none();
        let k = logits_ok.then_some(self.logits.classes());
        let target = parse::target(text(Field::Target), k);
        let gamma = parse::gamma(text(Field::Gamma));
        let alpha = parse::alpha(text(Field::Alpha), k, self.mode);
        let gammas = parse::gammas(text(Field::Gammas));
        self.errors = [
            self.errors[Field::Logits.index()].take(),
            target.as_ref().err().cloned(),
            gamma.as_ref().err().cloned(),
            alpha.as_ref().err().cloned(),
            gammas.as_ref().err().cloned(),
        ];
        if let Ok(list) = gammas {
            self.gammas = list;
        }
        // A bad γ list only freezes the chart; the numbers are still current.
        self.stale = self.errors[..4].iter().any(Option::is_some);
        if let (true, Ok(target), Ok(gamma), Ok(alpha)) = (logits_ok, target, gamma, alpha) {
            let mut logits = std::mem::take(&mut self.shown.params.logits);
            let change = self.logits.show(&mut logits);
            let params = Params { logits, target, gamma, alpha, mode: self.mode };
            self.shown.update(params, &self.gammas, change);
            self.update_lens();
        }
    }

    /// The dataset view's [`recompute`](Self::recompute): γ, α and the γ
    /// list parsed (α against the dataset's K), and the sweep redone when
    /// all three are valid.
    fn recompute_data(&mut self) {
        let Some(data) = &mut self.data else { return };
        let text = |f: Field| self.inputs[f.index()].value();
        let gamma = parse::gamma(text(Field::Gamma));
        let alpha = parse::alpha(text(Field::Alpha), Some(data.classes()), Mode::Softmax);
        let gammas = parse::gammas(text(Field::Gammas));
        self.errors =
            [None, None, gamma.as_ref().err().cloned(), alpha.as_ref().err().cloned(), gammas.as_ref().err().cloned()];
        self.stale = self.errors.iter().any(Option::is_some);
        if let (Ok(gamma), Ok(alpha), Ok(gammas)) = (gamma, alpha, gammas) {
            data.set(gamma, &gammas, alpha);
        }
    }
}
