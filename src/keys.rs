//! The one key table: dispatch, the footer and the help overlay all read
//! [`BINDINGS`], so a key can never do one thing and be documented as another.
//!
//! Printable characters that can be part of a number belong to the fields;
//! `?` cannot, so it may be a command. Never bound: Ctrl+S/Q (flow control),
//! Ctrl+Z, Ctrl+\, tmux's and zellij's prefixes (Ctrl+B/G/P/O/T/N), and
//! tui-input's readline keys (Ctrl+A/E/B/F/W/U/K/Y/H/D, Alt+B/F/D).

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::InputRequest;
use tui_input::backend::crossterm::to_input_request;

use crate::action::{Action, Command};

pub struct Binding {
    pub keys: &'static [(KeyCode, KeyModifiers)],
    /// How the keys are written in the footer and the help.
    pub label: &'static str,
    pub does: &'static str,
    /// The word in the footer.
    pub hint: &'static str,
    pub command: Command,
    /// Shown in the footer (the help lists every binding).
    pub footer: bool,
    /// Active while the help overlay is open.
    pub in_help: bool,
    /// Active in the dataset view (`--data`).
    pub in_data: bool,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;
const ALT: KeyModifiers = KeyModifiers::ALT;

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[(KeyCode::Tab, NONE), (KeyCode::Down, NONE), (KeyCode::Enter, NONE)],
        label: "Tab ↓ Enter",
        does: "next field",
        hint: "field",
        command: Command::NextField,
        footer: true,
        in_help: false,
        in_data: true,
    },
    Binding {
        keys: &[(KeyCode::BackTab, SHIFT), (KeyCode::BackTab, NONE), (KeyCode::Up, NONE)],
        label: "⇧Tab ↑",
        does: "previous field",
        hint: "field",
        command: Command::PrevField,
        footer: false,
        in_help: false,
        in_data: true,
    },
    Binding {
        keys: &[(KeyCode::F(2), NONE)],
        label: "F2",
        does: "next pane: chart, table, classes, steps, precision lens",
        hint: "pane",
        command: Command::NextPane,
        footer: true,
        in_help: false,
        in_data: true,
    },
    Binding {
        keys: &[(KeyCode::F(3), NONE)],
        label: "F3",
        does: "softmax ⇄ sigmoid focal loss (RetinaNet, torchvision)",
        hint: "mode",
        command: Command::ToggleMode,
        footer: true,
        in_help: false,
        in_data: false,
    },
    Binding {
        keys: &[(KeyCode::F(4), NONE)],
        label: "F4",
        does: "chart: FL, FL on a log scale, the modulating factor",
        hint: "chart",
        command: Command::NextChart,
        footer: true,
        in_help: false,
        in_data: false,
    },
    Binding {
        keys: &[(KeyCode::F(5), NONE)],
        label: "F5",
        does: "next preset: the seed's examples, the paper's γ/α pairs",
        hint: "preset",
        command: Command::NextPreset,
        footer: true,
        in_help: false,
        in_data: false,
    },
    Binding {
        keys: &[(KeyCode::F(6), NONE)],
        label: "F6",
        does: "copy the report to the terminal clipboard (OSC 52)",
        hint: "copy",
        command: Command::Copy,
        footer: true,
        in_help: false,
        in_data: true,
    },
    Binding {
        keys: &[(KeyCode::Char('?'), NONE), (KeyCode::F(1), NONE)],
        label: "? F1",
        does: "this help: keys, formulas, what γ and α do",
        hint: "help",
        command: Command::ToggleHelp,
        footer: true,
        in_help: true,
        in_data: true,
    },
    Binding {
        keys: &[(KeyCode::Char('r'), CTRL)],
        label: "^R",
        does: "reset to the defaults",
        hint: "reset",
        command: Command::Reset,
        footer: false,
        in_help: false,
        in_data: true,
    },
    Binding {
        keys: &[(KeyCode::Esc, NONE)],
        label: "Esc",
        does: "close the help, or quit",
        hint: "quit",
        command: Command::Back,
        footer: true,
        in_help: true,
        in_data: true,
    },
    Binding {
        keys: &[(KeyCode::Char('c'), CTRL)],
        label: "^C",
        does: "quit",
        hint: "quit",
        command: Command::Quit,
        footer: false,
        in_help: true,
        in_data: true,
    },
];

/// The editing keys tui-input handles in every field, for the help.
pub const EDITING: &[(&str, &str)] = &[
    ("← → Home End", "move in the field (also ^B ^F ^A ^E, Alt+B/F by word)"),
    ("Backspace Del", "delete a character (^W / Alt+D a word)"),
    ("^U  ^K", "clear the field / delete to its end (^Y puts it back)"),
    ("paste", "inserted at the cursor (newlines become spaces)"),
];

/// Where the keys are pressed: which bindings are active.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    pub help: bool,
    /// The dataset view.
    pub data: bool,
}

impl Binding {
    /// Active in `context`.
    pub fn active(&self, context: Context) -> bool {
        (self.in_help || !context.help) && (self.in_data || !context.data)
    }
}

/// The binding a key press triggers, if any.
pub fn binding_for(key: &KeyEvent, context: Context) -> Option<&'static Binding> {
    // Terminals disagree on whether `?` carries SHIFT: ignore it for characters.
    let mods = match key.code {
        KeyCode::Char(_) => key.modifiers - SHIFT,
        _ => key.modifiers,
    };
    BINDINGS.iter().filter(|b| b.active(context)).find(|b| b.keys.contains(&(key.code, mods)))
}

/// Readline's Alt keys. Terminals send Alt+B as `ESC b`, read as Alt, and
/// tui-input knows these keys only with Meta.
fn alt_edit(c: char) -> Option<InputRequest> {
    match c.to_ascii_lowercase() {
        'b' => Some(InputRequest::GoToPrevWord),
        'f' => Some(InputRequest::GoToNextWord),
        'd' => Some(InputRequest::DeleteNextWord),
        _ => None,
    }
}

/// The action a terminal event asks for in `context`.
pub fn action_for(event: &Event, context: Context) -> Option<Action> {
    let help_open = context.help;
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => {
            if let Some(b) = binding_for(key, context) {
                return Some(Action::Command(b.command));
            }
            if help_open {
                return None;
            }
            match (key.code, key.modifiers - SHIFT) {
                (KeyCode::Char(c), NONE) => Some(Action::Insert(c.to_string())),
                (KeyCode::Char(c), ALT) => alt_edit(c).map(Action::Edit),
                _ => to_input_request(event).map(Action::Edit),
            }
        }
        Event::Paste(text) if !help_open => Some(Action::Insert(text.clone())),
        Event::Resize(w, h) => Some(Action::Resize(*w, *h)),
        _ => None,
    }
}
