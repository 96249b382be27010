//! The explorer's whole state and its one entry point for change,
//! [`App::update`]. No terminal I/O here, so every behaviour is unit-testable
//! from synthetic events.

use crossterm::event::{Event, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use tui_input::StateChanged;

use crate::action::{Action, Command, Spot};
use crate::calc;
use crate::dataset::{DataPane, Dataset};
use crate::example::Example;
use crate::field::Field;
use crate::format::sig;
use crate::keys;
use crate::loss::profile;
use crate::loss::{Mode, Params};
use crate::nudge;
use crate::parse::{self, FieldError, TextEdit};
use crate::presets::PRESETS;
use crate::text::FieldText;
use crate::theme::Look;
use crate::ui;

/// The wide layout (every pane at once) from this terminal size on.
pub fn is_wide(width: u16, height: u16) -> bool {
    width >= 120 && height >= 32
}

/// What `command` does to the help overlay (open or not), and whether it quits.
fn help_or_quit(help: &mut bool, command: Command) -> bool {
    match command {
        Command::ToggleHelp => *help = !*help,
        Command::Back if *help => *help = false,
        Command::Back | Command::Quit => return true,
        _ => {}
    }
    false
}

/// What the explorer shows below the fields.
#[allow(clippy::large_enum_variant, reason = "one App exists; boxing would only add a pointer to follow")]
pub enum Body {
    /// One example typed in the fields.
    Example(Example),
    /// A dataset (`focal-tui --data`), swept for the γ, α and γ list typed.
    Dataset(Dataset),
}

pub struct App {
    inputs: [FieldText; 6],
    pub focus: Field,
    /// Why each field's text does not parse (indexed like [`Field::ALL`]).
    pub errors: [Option<FieldError>; 6],
    pub help: bool,
    /// The help's first line shown (it scrolls where it does not fit).
    pub help_scroll: u16,
    /// Some field is invalid: what is shown is for the last valid input.
    pub stale: bool,
    pub quit: bool,
    pub look: Look,
    /// The terminal is large enough for the wide layout.
    pub wide: bool,
    /// The terminal's size (columns, rows), for what a click lands on.
    pub size: (u16, u16),
    /// A one-line answer to the last action (a preset, a copy).
    pub status: Option<String>,
    /// Text waiting to be sent to the clipboard by the terminal loop.
    clipboard: Option<String>,
    /// The preset last applied.
    preset: Option<usize>,
    pub body: Body,
    /// The field edited since the inputs were last parsed, and how its text
    /// changed when one edit did it (see [`App::settle`]).
    unparsed: Option<(Field, Option<TextEdit>)>,
    /// How many times the fields were re-parsed and recomputed: a batch of
    /// edits (a held nudge key's repeats) must cost one.
    pub recomputes: u64,
}

impl App {
    /// The explorer on `params` (already validated, e.g. from the command line)
    /// with the chart comparing `gammas`; `texts` are the fields as typed.
    pub fn new(texts: [String; 5], params: Params, gammas: Vec<f64>, look: Look) -> Self {
        let example = Example::new(&texts[Field::Logits.index()], params, gammas);
        App::with_body(texts, Body::Example(example), Field::Logits, look)
    }

    /// The dataset view on `data`, with γ, α and the γ list from `texts`
    /// (as [`App::new`] takes them; the example's fields are not shown).
    pub fn with_data(texts: [String; 5], data: Dataset, look: Look) -> Self {
        let mut app = App::with_body(texts, Body::Dataset(data), Field::Gamma, look);
        app.recompute(Field::Gamma, None);
        app
    }

    fn with_body(texts: [String; 5], body: Body, focus: Field, look: Look) -> Self {
        // The label smoothing starts at its default (see [`App::prefill`]).
        let [logits, target, gamma, alpha, gammas] = texts;
        let smoothing = Field::Smoothing.default_text().to_string();
        App {
            inputs: [logits, target, gamma, alpha, smoothing, gammas].map(FieldText::new),
            focus,
            errors: Default::default(),
            help: false,
            help_scroll: 0,
            stale: false,
            quit: false,
            look,
            wide: false,
            size: (0, 0),
            status: None,
            clipboard: None,
            preset: None,
            body,
            unparsed: None,
            recomputes: 0,
        }
    }

    /// Replaces the text of `field` (a command-line prefill) and recomputes.
    pub fn prefill(&mut self, field: Field, text: &str) {
        self.inputs[field.index()] = FieldText::new(text.to_string());
        self.recompute(field, None);
    }

    /// Which key bindings are active.
    pub fn key_context(&self) -> keys::Context {
        keys::Context { help: self.help, data: matches!(self.body, Body::Dataset(_)) }
    }

    /// The fields on screen, in focus order.
    pub fn fields(&self) -> &'static [Field] {
        match self.body {
            Body::Example(_) => &Field::ALL,
            Body::Dataset(_) => &Field::DATA,
        }
    }

    /// The explorer on the defaults (the seed's hard example).
    pub fn with_defaults(look: Look) -> Self {
        let texts = [Field::Logits, Field::Target, Field::Gamma, Field::Alpha, Field::Gammas]
            .map(|f| f.default_text().to_string());
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
        let changed = self.apply(action);
        self.settle();
        changed
    }

    /// [`update`](Self::update) but for the re-parse and recompute after an
    /// edit, which wait for [`settle`](Self::settle).
    fn apply(&mut self, action: Action) -> bool {
        // A status message answers one action; the next one clears it.
        if !matches!(action, Action::Resize(..)) {
            self.status = None;
        }
        match action {
            Action::Command(command) => self.command(command),
            Action::Edit(request) => match self.inputs[self.focus.index()].handle(request) {
                (Some(StateChanged { value: true, .. }), edit) => {
                    self.edited(edit);
                    true
                }
                (Some(_), _) => true,
                (None, _) => false,
            },
            Action::Insert(text) => self.insert(&text),
            Action::Nudge(steps) => self.nudge(steps),
            Action::ScrollHelp(lines) => self.scroll_help(lines),
            Action::Click(spot) => self.click(spot),
            Action::Scroll(field, steps) => {
                self.focus_on(field);
                self.nudge(steps)
            }
            Action::Resize(w, h) => {
                self.wide = is_wide(w, h);
                self.size = (w, h);
                true
            }
        }
    }

    /// Handles a batch of terminal events (everything queued when read). A
    /// batch that quits (Ctrl+C, or Esc with no overlay open) quits at once:
    /// nothing the keys before it do would be seen. Otherwise typed
    /// characters are merged into one insertion and the edits made in order,
    /// with one re-parse and recompute before each command and at the end:
    /// a burst of keys (a paste without bracketed-paste mode, key repeat,
    /// keys typed during a slow re-sweep) costs one recompute, not one a key.
    pub fn handle_events(&mut self, events: impl IntoIterator<Item = Event>) -> bool {
        let events: Vec<Event> = events.into_iter().collect();
        if self.quits(&events) {
            self.quit = true;
            return true;
        }
        let mut changed = false;
        let mut pending = String::new();
        for event in &events {
            let action = match event {
                Event::Mouse(mouse) => self.mouse(mouse),
                _ => keys::action_for(event, self.key_context()),
            };
            match action {
                Some(Action::Insert(text)) => pending.push_str(&text),
                other => {
                    if !pending.is_empty() {
                        changed |= self.apply(Action::Insert(std::mem::take(&mut pending)));
                    }
                    match other {
                        // Nudges are edits too: a held key's repeats cost one recompute.
                        Some(edit @ (Action::Edit(_) | Action::Nudge(_) | Action::Scroll(..))) => {
                            changed |= self.apply(edit)
                        }
                        Some(action) => {
                            self.settle();
                            changed |= self.update(action);
                        }
                        None => {}
                    }
                }
            }
        }
        if !pending.is_empty() {
            changed |= self.apply(Action::Insert(pending));
        }
        self.settle();
        changed
    }

    /// Whether `events` reach a quit, following the help overlay through them.
    fn quits(&self, events: &[Event]) -> bool {
        let mut context = self.key_context();
        events.iter().any(|event| match keys::action_for(event, context) {
            Some(Action::Command(command)) => help_or_quit(&mut context.help, command),
            _ => false,
        })
    }

    /// The focused field's text changed (`how`, when known): it is parsed
    /// again when the edits settle.
    fn edited(&mut self, how: Option<TextEdit>) {
        // Two edits since the last parse: the texts are compared instead.
        let how = if self.unparsed.is_some() { None } else { how };
        self.unparsed = Some((self.focus, how));
    }

    /// Re-parses the field edited since the last parse, and recomputes.
    fn settle(&mut self) {
        if let Some((field, how)) = self.unparsed.take() {
            self.recompute(field, how);
        }
    }

    fn command(&mut self, command: Command) -> bool {
        match command {
            Command::NextField | Command::PrevField => {
                let fields = self.fields();
                let at = fields.iter().position(|&f| f == self.focus).unwrap_or(0);
                let step = if command == Command::NextField { 1 } else { fields.len() - 1 };
                self.focus = fields[(at + step) % fields.len()];
            }
            Command::ToggleHelp | Command::Back | Command::Quit => {
                self.quit |= help_or_quit(&mut self.help, command);
                self.help_scroll = 0;
            }
            Command::NextPane => match &mut self.body {
                Body::Example(example) => example.next_pane(self.wide),
                Body::Dataset(data) => data.pane = data.pane.next(self.wide),
            },
            Command::Reset => {
                self.inputs = Field::ALL.map(|f| FieldText::new(f.default_text().to_string()));
                self.focus = self.fields()[0];
                self.recompute(self.focus, None);
            }
            Command::ToggleMode => {
                if let Body::Dataset(data) = &mut self.body {
                    // The other mode's rows may be read now, once; α is parsed for the mode.
                    match data.switch_mode() {
                        Ok(()) => self.recompute(Field::Alpha, None),
                        Err(why) => self.status = Some(why),
                    }
                }
                if let Body::Example(example) = &mut self.body {
                    if profile::find(example.profile, Mode::Softmax).is_ok_and(|(_, implied)| implied) {
                        self.status = Some(format!("{} has only a sigmoid form", example.profile));
                        return true;
                    }
                    example.mode = match example.mode {
                        Mode::Softmax => Mode::Sigmoid,
                        Mode::Sigmoid => Mode::Softmax,
                    };
                    // α's valid range and the target's forms depend on the mode.
                    self.recompute(Field::Alpha, None);
                }
            }
            Command::NextProfile => {
                if let Body::Example(example) = &mut self.body {
                    let names = profile::names();
                    let at = names.iter().position(|&n| n == example.profile).map_or(0, |i| i + 1);
                    self.set_profile(names[at % names.len()]);
                }
            }
            Command::NextChart => {
                if let Body::Example(example) = &mut self.body {
                    example.chart = example.chart.next();
                }
            }
            Command::NextPreset => self.next_preset(),
            Command::NextSuggestion => {
                let Body::Dataset(data) = &mut self.body else { return false };
                let Some(s) = data.next_suggestion() else {
                    self.status = Some("no α to suggest: no class has rows".into());
                    return true;
                };
                // Shown where the pane is not: the standard layout's tab moves to it.
                data.pane = DataPane::Suggestions;
                self.status = Some(format!("picked α: {} (from {}) · F5 applies it", s.name, s.source));
            }
            Command::ApplyAlpha => return self.apply_alpha(),
            // The keys give the steps (`Action::Nudge`); alone it is one up.
            Command::Nudge => return self.nudge(1),
            Command::ScrollHelp => return self.scroll_help(1),
            Command::Copy => {
                self.clipboard = Some(match &self.body {
                    Body::Example(example) => calc::text(&example.shown.params, &example.shown.result),
                    Body::Dataset(d) => crate::data::run::text(&d.report, &d.skipped, &d.config),
                });
                let which = if self.stale { " (the last valid result)" } else { "" };
                self.status =
                    Some(format!("sent to the terminal clipboard (OSC 52){which} · tmux: set -g set-clipboard on"));
            }
        }
        true
    }

    /// Computes as the profile `name` does (a sigmoid-only library switches
    /// to sigmoid, and says so), or says why it is unknown.
    pub fn set_profile(&mut self, name: &str) -> bool {
        let Body::Example(example) = &mut self.body else { return false };
        let mode = example.implied_from.take().unwrap_or(example.mode);
        let (lib, implied) = match profile::find(name, mode) {
            Ok(found) => found,
            Err(why) => {
                self.status = Some(why);
                return false;
            }
        };
        example.profile = lib.name;
        example.implied_from = implied.then_some(mode);
        example.mode = lib.mode;
        let sigmoid = if implied { " (sigmoid only: switched to sigmoid)" } else { "" };
        self.recompute(Field::Alpha, None);
        if self.status.is_none() {
            self.status = Some(format!("profile {}: {}{sigmoid}", lib.name, lib.source));
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
        if let (Some(mode), Body::Example(example)) = (p.mode, &mut self.body) {
            example.mode = mode;
        }
        self.preset = Some(i);
        self.recompute(Field::Logits, None);
        self.status = Some(format!("preset {}/{}: {} · {}", i + 1, PRESETS.len(), p.name, p.source));
    }

    /// Writes the picked α suggestion into the α field (in sigmoid mode,
    /// where α ≤ 1, scaled so that the largest is 1) and sweeps again;
    /// the status line says what and from where.
    fn apply_alpha(&mut self) -> bool {
        // An edit not yet parsed first: the suggestions are of the γ it gives.
        self.settle();
        let Body::Dataset(data) = &self.body else { return false };
        let Some(s) = data.picked() else {
            self.status = Some("no α to suggest: no class has rows".into());
            return true;
        };
        let (alpha, scaled) = crate::dataset::for_mode(&s.alpha, data.mode);
        let text: Vec<String> = alpha.iter().map(f64::to_string).collect();
        self.inputs[Field::Alpha.index()] = FieldText::new(text.join(" "));
        self.recompute(Field::Alpha, None);
        let scaled = match scaled {
            Some(top) => format!(", divided by its largest {} (sigmoid α ≤ 1)", sig(top, 4)),
            None => String::new(),
        };
        self.status = Some(format!("α ← {} (from {}){scaled}", s.name, s.source));
        true
    }

    /// Moves the focused number `steps` steps (see [`nudge`]): an edit of
    /// its text, recomputed when the edits settle.
    fn nudge(&mut self, steps: i32) -> bool {
        let (classes, mode) = match &self.body {
            Body::Example(e) => (self.errors[Field::Logits.index()].is_none().then(|| e.logits.classes()), e.mode),
            Body::Dataset(d) => (Some(d.classes()), d.mode),
        };
        let input = &mut self.inputs[self.focus.index()];
        let Some(n) = nudge::nudge(self.focus, input.value(), input.cursor(), steps, classes, mode) else {
            return false;
        };
        let how = input.replace(n.at, n.removed, &n.inserted, n.cursor);
        self.edited(Some(how));
        true
    }

    /// Scrolls the help `lines` lines, within what the screen leaves hidden.
    fn scroll_help(&mut self, lines: i32) -> bool {
        let screen = Rect::new(0, 0, self.size.0, self.size.1);
        let last = i32::from(ui::help::max_scroll(self, screen));
        let scroll = (i32::from(self.help_scroll) + lines).clamp(0, last) as u16;
        let moved = scroll != self.help_scroll;
        self.help_scroll = scroll;
        moved
    }

    /// What a mouse event (`--mouse`) asks for where it lands: a left click
    /// focuses, switches or picks; the wheel nudges γ, α or the target.
    fn mouse(&self, mouse: &MouseEvent) -> Option<Action> {
        let screen = Rect::new(0, 0, self.size.0, self.size.1);
        let spot = ui::spot_at(self, screen, Position::new(mouse.column, mouse.row))?;
        match (mouse.kind, spot) {
            (MouseEventKind::Down(MouseButton::Left), spot) => Some(Action::Click(spot)),
            (MouseEventKind::ScrollUp | MouseEventKind::ScrollDown, Spot::Field(field, _))
                if matches!(field, Field::Gamma | Field::Alpha | Field::Target) =>
            {
                Some(Action::Scroll(field, if mouse.kind == MouseEventKind::ScrollUp { 1 } else { -1 }))
            }
            _ => None,
        }
    }

    /// Carries out a click.
    fn click(&mut self, spot: Spot) -> bool {
        match spot {
            Spot::Field(field, at) => {
                self.focus_on(field);
                self.inputs[field.index()].set_cursor(at);
            }
            Spot::Pane(pane) => match &mut self.body {
                Body::Example(example) => example.show_pane(pane),
                Body::Dataset(_) => return false,
            },
            Spot::DataPane(pane) => match &mut self.body {
                Body::Dataset(data) => data.pane = pane,
                Body::Example(_) => return false,
            },
            Spot::Class(class) => {
                self.settle();
                self.inputs[Field::Target.index()] = FieldText::new(class.to_string());
                self.recompute(Field::Target, None);
            }
        }
        true
    }

    /// Moves the focus to `field`, parsing what was edited before it moves.
    fn focus_on(&mut self, field: Field) {
        if field != self.focus {
            self.settle();
            self.focus = field;
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
        let how = self.inputs[self.focus.index()].insert(&clean);
        self.edited(Some(how));
        true
    }

    /// Re-parses the fields after `changed` was edited (`edit` says how,
    /// when the field knows it) and, when they are valid, updates what is
    /// shown. The logits are re-parsed only when they changed; target and α
    /// depend on K, so they are always re-checked.
    fn recompute(&mut self, changed: Field, edit: Option<TextEdit>) {
        self.recomputes += 1;
        let text = |f: Field| self.inputs[f.index()].value();
        let gamma = parse::gamma(text(Field::Gamma));
        let gammas = parse::gammas(text(Field::Gammas));
        match &mut self.body {
            Body::Example(example) => {
                if changed == Field::Logits {
                    self.errors[Field::Logits.index()] = example.logits.parse(text(Field::Logits), edit).err();
                }
                let k = self.errors[Field::Logits.index()].is_none().then(|| example.logits.classes());
                let target = parse::targets(text(Field::Target), k, example.mode);
                let alpha = parse::weights(text(Field::Alpha), k, example.mode);
                let smoothing = parse::smoothing(text(Field::Smoothing));
                let logits = self.errors[Field::Logits.index()].take();
                self.errors = [logits, error(&target), error(&gamma), error(&alpha), error(&smoothing), error(&gammas)];
                // A bad γ list only freezes the chart; the numbers are still current.
                self.stale = Field::ALL.iter().any(|&f| f != Field::Gammas && self.errors[f.index()].is_some());
                if let Ok(list) = gammas {
                    example.gammas = list;
                }
                if let (false, Ok(target), Ok(gamma), Ok(alpha), Ok(smoothing)) =
                    (self.stale, target, gamma, alpha, smoothing)
                    && let Err(why) = example.show(target, smoothing, gamma, alpha)
                {
                    // The library cannot compute it: the last result stays, and why is said.
                    self.stale = true;
                    self.status = Some(why);
                }
            }
            Body::Dataset(data) => {
                let alpha = parse::alpha(text(Field::Alpha), Some(data.classes()), data.mode);
                self.errors = [None, None, error(&gamma), error(&alpha), None, error(&gammas)];
                self.stale = self.errors.iter().any(Option::is_some);
                if let (Ok(gamma), Ok(alpha), Ok(gammas)) = (gamma, alpha, gammas) {
                    data.set(gamma, &gammas, alpha);
                }
            }
        }
    }
}

/// A field's error, for its error line.
fn error<T>(parsed: &Result<T, FieldError>) -> Option<FieldError> {
    parsed.as_ref().err().cloned()
}
