//! The one key table: dispatch, the footer and the help overlay all read
//! [`BINDINGS`], so a key can never do one thing and be documented as another.
//!
//! Printable characters belong to the fields (a target may be `none`); `?`
//! cannot be part of any field's value, so it may be a command. Never bound:
//! Ctrl+S/Q (flow control), Ctrl+Z, Ctrl+\, tmux's and zellij's prefixes
//! (Ctrl+B/G/P/O/T/N; screen's Ctrl+A is tui-input's anyway), and
//! tui-input's readline keys (Ctrl+A/E/B/F/W/U/K/Y/H/D, Alt+B/F/D).
//!
//! Every F-key command has a second key, as F-keys do not always arrive: VS
//! Code's terminal keeps F1, F5, F6 (and F10, F11) by default
//! (`terminal.integrated.commandsToSkipShell`), GNOME Terminal takes F10 and
//! F11, macOS laptops send media keys. The second keys were checked against
//! the defaults of VS Code (that list and its key bindings, and xterm.js's
//! key encoder), macOS Terminal and iTerm2, GNOME Terminal, Windows Terminal,
//! and tmux (prefix Ctrl+B) / screen (prefix Ctrl+A); why each:
//! - Ctrl+L, Ctrl+X: the only Ctrl+letters left; neither is a VS Code
//!   terminal binding on any OS (its Ctrl+V pastes on Windows, Ctrl+J
//!   toggles the panel, Ctrl+E/P open Quick Open), nor a Windows or GNOME
//!   Terminal default (those use Ctrl+Shift+letter).
//! - Ctrl+]: every one of them sends it as 0x1d (xterm.js does too) and none
//!   binds it; Ctrl+digits are out (VS Code focuses editor groups).
//! - Ctrl+/: sent as 0x1f (US), as Ctrl+_ is, by xterm and the terminals
//!   that follow its C0 table; its neighbour Ctrl+- is out (it shrinks the
//!   font in VS Code and Windows Terminal).
//! - Shift+→, Shift+←: sent as xterm's `CSI 1;2 C/D` by all of them (macOS
//!   Terminal's key list has them) and bound by none (they scroll on
//!   Shift+PgUp/PgDn and Ctrl+Shift+arrows). Shift+↑/↓ are out: macOS
//!   Terminal sends them as plain arrows. Alt+letters are out: macOS
//!   Terminal and iTerm2 type accented characters with Option by default.
//!
//! Nudging has two pairs as well: Windows Terminal moves between its panes
//! on Alt+arrows, and macOS Terminal sends Option+arrows as plain arrows and
//! scrolls its own buffer on PgUp/PgDn (Shift+PgUp/PgDn reach the program as
//! PgUp/PgDn there). VS Code's xterm.js sends Alt+↑/↓ as Ctrl+↑/↓, so those
//! nudge too.

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
    /// The keys as the footer writes them, when it shows them (the help
    /// lists every binding).
    pub footer: Option<&'static str>,
    /// Whether it is active with the help overlay closed, open, or both.
    pub help: Help,
    /// The views it works in.
    pub view: View,
}

/// The views a binding works in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Both,
    /// The example view only.
    Example,
    /// The dataset view (`--data`) only.
    Data,
}

/// When a binding is active, as to the help overlay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Help {
    /// Only while the help is closed (the explorer's commands).
    Closed,
    /// Only while the help is open (scrolling it).
    Open,
    Both,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;
const ALT: KeyModifiers = KeyModifiers::ALT;

/// Up one step, down one, up ten, down ten ([`nudge_steps`]).
const NUDGE_KEYS: &[(KeyCode, KeyModifiers)] = &[
    (KeyCode::Up, ALT),
    (KeyCode::Up, CTRL),
    (KeyCode::Down, ALT),
    (KeyCode::Down, CTRL),
    (KeyCode::PageUp, NONE),
    (KeyCode::PageDown, NONE),
];

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[(KeyCode::Tab, NONE), (KeyCode::Down, NONE), (KeyCode::Enter, NONE)],
        label: "Tab ↓ Enter",
        does: "next field",
        hint: "field",
        command: Command::NextField,
        footer: Some("Tab"),
        help: Help::Closed,
        view: View::Both,
    },
    Binding {
        keys: &[(KeyCode::BackTab, SHIFT), (KeyCode::BackTab, NONE), (KeyCode::Up, NONE)],
        label: "⇧Tab ↑",
        does: "previous field",
        hint: "field",
        command: Command::PrevField,
        footer: None,
        help: Help::Closed,
        view: View::Both,
    },
    Binding {
        keys: NUDGE_KEYS,
        label: "Alt+↑↓ PgUp/Dn",
        does: "nudge 1 / 10 steps: γ 0.1, α and ε 0.05, target 1, a logit 0.1",
        hint: "nudge",
        command: Command::Nudge,
        footer: None,
        help: Help::Closed,
        view: View::Both,
    },
    Binding {
        keys: &[(KeyCode::F(2), NONE), (KeyCode::Right, SHIFT)],
        label: "F2 ⇧→",
        does: "next pane: chart, table, classes, steps, precision lens",
        hint: "pane",
        command: Command::NextPane,
        footer: Some("F2/⇧→"),
        help: Help::Closed,
        view: View::Both,
    },
    Binding {
        // 0x1d reads as Ctrl+5 (as crossterm reads it); kitty's protocol sends `]`.
        keys: &[(KeyCode::F(3), NONE), (KeyCode::Char('5'), CTRL), (KeyCode::Char(']'), CTRL)],
        label: "F3 ^]",
        does: "softmax ⇄ sigmoid focal loss (RetinaNet, torchvision)",
        hint: "mode",
        command: Command::ToggleMode,
        footer: Some("F3/^]"),
        help: Help::Closed,
        view: View::Both,
    },
    Binding {
        keys: &[(KeyCode::F(4), NONE), (KeyCode::Char('l'), CTRL)],
        label: "F4 ^L",
        does: "chart: FL, FL on a log scale, the modulating factor",
        hint: "chart",
        command: Command::NextChart,
        footer: Some("F4/^L"),
        help: Help::Closed,
        view: View::Example,
    },
    Binding {
        keys: &[(KeyCode::F(5), NONE), (KeyCode::Left, SHIFT)],
        label: "F5 ⇧←",
        does: "next preset: the seed's examples, the paper's γ/α pairs",
        hint: "preset",
        command: Command::NextPreset,
        footer: Some("F5/⇧←"),
        help: Help::Closed,
        view: View::Example,
    },
    Binding {
        keys: &[(KeyCode::F(6), NONE), (KeyCode::Char('x'), CTRL)],
        label: "F6 ^X",
        does: "copy the report (OSC 52; tmux: set -g set-clipboard on)",
        hint: "copy",
        command: Command::Copy,
        footer: Some("F6/^X"),
        help: Help::Closed,
        view: View::Both,
    },
    Binding {
        // 0x1f reads as Ctrl+7 (as crossterm reads it); kitty's protocol sends `/`.
        // In the footer only where it fits (FOOTER_IF_ROOM): 80 columns are full, and F2 would leave it.
        keys: &[(KeyCode::F(7), NONE), (KeyCode::Char('7'), CTRL), (KeyCode::Char('/'), CTRL)],
        label: "F7 ^/",
        does: "next library profile: torchvision, kornia, monai, keras, …",
        hint: "profile",
        command: Command::NextProfile,
        footer: Some("F7/^/"),
        help: Help::Closed,
        view: View::Example,
    },
    // The dataset view's F4 and F5: the α suggestions (the example's chart
    // and presets have no meaning there), with the same second keys.
    Binding {
        keys: &[(KeyCode::F(4), NONE), (KeyCode::Char('l'), CTRL)],
        label: "F4 ^L",
        does: "next α suggestion (α pane): weights from the class counts, the current γ's balancing α",
        hint: "pick α",
        command: Command::NextSuggestion,
        footer: Some("F4/^L"),
        help: Help::Closed,
        view: View::Data,
    },
    Binding {
        keys: &[(KeyCode::F(5), NONE), (KeyCode::Left, SHIFT)],
        label: "F5 ⇧←",
        does: "apply the picked α suggestion to the α field",
        hint: "apply α",
        command: Command::ApplyAlpha,
        footer: Some("F5/⇧←"),
        help: Help::Closed,
        view: View::Data,
    },
    Binding {
        keys: &[(KeyCode::Char('?'), NONE), (KeyCode::F(1), NONE)],
        label: "? F1",
        does: "this help: keys, formulas, what γ and α do",
        hint: "help",
        command: Command::ToggleHelp,
        footer: Some("?"),
        help: Help::Both,
        view: View::Both,
    },
    Binding {
        // The help is longer than an 80 × 24 screen; the field keys are idle under it.
        keys: &[
            (KeyCode::Up, NONE),
            (KeyCode::Down, NONE),
            (KeyCode::PageUp, NONE),
            (KeyCode::PageDown, NONE),
            (KeyCode::Home, NONE),
            (KeyCode::End, NONE),
        ],
        label: "↑↓ PgUp/Dn",
        does: "scroll this help (Home, End: its top, its end)",
        hint: "scroll",
        command: Command::ScrollHelp,
        footer: None,
        help: Help::Open,
        view: View::Both,
    },
    Binding {
        keys: &[(KeyCode::Char('r'), CTRL)],
        label: "^R",
        does: "reset to the defaults",
        hint: "reset",
        command: Command::Reset,
        footer: None,
        help: Help::Closed,
        view: View::Both,
    },
    Binding {
        keys: &[(KeyCode::Esc, NONE)],
        label: "Esc",
        does: "close the help, or quit",
        hint: "quit",
        command: Command::Back,
        footer: Some("Esc"),
        help: Help::Both,
        view: View::Both,
    },
    Binding {
        keys: &[(KeyCode::Char('c'), CTRL)],
        label: "^C",
        does: "quit",
        hint: "quit",
        command: Command::Quit,
        footer: None,
        help: Help::Both,
        view: View::Both,
    },
];

/// Commands the footer shows only when every entry fits with them (about
/// 100 columns): before any other entry is dropped, these go.
pub const FOOTER_IF_ROOM: &[Command] = &[Command::NextProfile, Command::NextSuggestion, Command::ApplyAlpha];

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
        let help = match self.help {
            Help::Closed => !context.help,
            Help::Open => context.help,
            Help::Both => true,
        };
        help && self.in_view(context.data)
    }

    /// Works in the dataset view (`data`) or the example view.
    pub fn in_view(&self, data: bool) -> bool {
        match self.view {
            View::Both => true,
            View::Example => !data,
            View::Data => data,
        }
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

/// How far a nudge key moves: ↑ one step up, PgUp ten, and down alike.
fn nudge_steps(code: KeyCode) -> i32 {
    match code {
        KeyCode::Up => 1,
        KeyCode::Down => -1,
        KeyCode::PageUp => 10,
        _ => -10,
    }
}

/// How far a key scrolls the help, in lines: a page is ten; Home and End
/// go past either end (the scroll stops there).
fn help_lines(code: KeyCode) -> i32 {
    match code {
        KeyCode::Up => -1,
        KeyCode::Down => 1,
        KeyCode::PageUp => -10,
        KeyCode::PageDown => 10,
        KeyCode::Home => -i32::from(u16::MAX),
        _ => i32::from(u16::MAX),
    }
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
                return Some(match b.command {
                    Command::Nudge => Action::Nudge(nudge_steps(key.code)),
                    Command::ScrollHelp => Action::ScrollHelp(help_lines(key.code)),
                    command => Action::Command(command),
                });
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
