//! The command line (clap derive). No subcommand opens the explorer.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::field::Field;
use crate::loss::Mode;

#[derive(Parser, Debug)]
#[command(
    name = "focal-tui",
    version,
    about = "Exact softmax focal loss: a live terminal explorer and a scriptable calculator"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Monochrome UI (also when NO_COLOR is set to anything non-empty)
    #[arg(long)]
    pub no_color: bool,
    /// Chart marker; plain `dot` is chosen automatically when the locale is not UTF-8
    #[arg(long, value_enum)]
    pub marker: Option<MarkerArg>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print one result (aligned text, or --json) without a terminal UI
    Calc(CalcArgs),
}

#[derive(Args, Debug)]
pub struct CalcArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// One JSON object instead of the text report
    #[arg(long)]
    pub json: bool,
}

/// The example: every value is parsed by `parse`, so the command line and
/// the explorer give the same messages. Defaults: the seed's hard example.
#[derive(Args, Debug, Default)]
pub struct InputArgs {
    /// Raw scores, comma and/or space separated, `[ ]` allowed [default: "1.5, -0.8, 0.2"]
    #[arg(long, allow_hyphen_values = true, value_name = "LIST")]
    pub logits: Option<String>,
    /// The true class, 0-based [default: 1]
    #[arg(long, allow_hyphen_values = true, value_name = "CLASS")]
    pub target: Option<String>,
    /// Focusing parameter γ ≥ 0 [default: 2]
    #[arg(long, allow_hyphen_values = true, value_name = "G")]
    pub gamma: Option<String>,
    /// Class weight: one α (applied to the target class) or one per class [default: 0.25]
    #[arg(long, allow_hyphen_values = true, value_name = "A")]
    pub alpha: Option<String>,
    /// RetinaNet / torchvision sigmoid focal loss: every class a binary problem
    #[arg(long)]
    pub sigmoid: bool,
}

impl InputArgs {
    /// The four field texts in [`Field::ALL`] order, defaults filled in.
    pub fn texts(&self) -> [&str; 4] {
        let given = [&self.logits, &self.target, &self.gamma, &self.alpha];
        Field::ALL.map(|f| given[f.index()].as_deref().unwrap_or(f.default_text()))
    }

    pub fn mode(&self) -> Mode {
        if self.sigmoid {
            Mode::Sigmoid
        } else {
            Mode::Softmax
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MarkerArg {
    Braille,
    Halfblock,
    Dot,
    Ascii,
}
