//! What the explorer can be asked to do. Terminal events become actions in
//! [`crate::keys`]; [`crate::app::App::update`] carries them out.

use tui_input::InputRequest;

use crate::dataset::DataPane;
use crate::example::Pane;
use crate::field::Field;

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A bound key (see [`crate::keys::BINDINGS`]).
    Command(Command),
    /// Cursor movement or deletion in the focused field (tui-input's keys).
    Edit(InputRequest),
    /// Text for the focused field at the cursor: typed characters (a burst is
    /// coalesced into one insertion) or a bracketed paste.
    Insert(String),
    /// Move the focused number this many steps (negative: down); see
    /// [`crate::nudge`].
    Nudge(i32),
    /// Scroll the help overlay this many lines (negative: up).
    ScrollHelp(i32),
    /// A click (`--mouse`) on what the screen shows there.
    Click(Spot),
    /// The wheel over a field (`--mouse`): focus it and move its number.
    Scroll(Field, i32),
    /// The terminal changed size (columns, rows): a redraw, and the layout
    /// decides what F2 cycles through.
    Resize(u16, u16),
}

/// The commands of the key table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    NextField,
    PrevField,
    ToggleHelp,
    /// Esc: close the overlay, or quit when none is open.
    Back,
    Quit,
    Reset,
    NextPane,
    /// Softmax ⇄ sigmoid (RetinaNet).
    ToggleMode,
    /// The next library profile (paper, torchvision, kornia, …).
    NextProfile,
    /// FL → FL on a log scale → the modulating factor.
    NextChart,
    NextPreset,
    /// The dataset view: pick the next α suggestion.
    NextSuggestion,
    /// The dataset view: the picked α suggestion into the α field.
    ApplyAlpha,
    /// Send the report to the terminal's clipboard (OSC 52).
    Copy,
    /// Step the focused number; the key says how far (see [`crate::keys`]).
    Nudge,
    /// Scroll the help; the key says how far (see [`crate::keys`]).
    ScrollHelp,
}

/// What a click lands on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spot {
    /// A field, and the character the cursor goes before.
    Field(Field, usize),
    /// A pane's tab.
    Pane(Pane),
    /// A tab of the dataset view's lower pane.
    DataPane(DataPane),
    /// A class's row: it becomes the target.
    Class(usize),
}
