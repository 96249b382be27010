//! The command line (clap derive). No subcommand opens the explorer.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ratatui::symbols::Marker;

use crate::field::Field;
use crate::loss::Mode;
use crate::loss::profile::{self, Profile};
use crate::theme::Look;

#[derive(Parser, Debug)]
#[command(
    // The array flags are `data`'s (`TensorArgs`); at the top they need --data.
    mut_arg("class_axis", |a| a.requires("data")),
    mut_arg("ignore_index", |a| a.requires("data")),
    name = "focal-tui",
    // The commit comes from build.rs ("unknown" outside a git checkout).
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("FOCAL_TUI_COMMIT"), ")"),
    about = "Exact softmax focal loss: a live terminal explorer and a scriptable calculator"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub input: InputArgs,
    /// γ values drawn as curves in the chart [default: "0, 0.5, 1, 2, 5"]
    #[arg(long, value_name = "LIST")]
    pub gammas: Option<String>,
    /// Monochrome UI (also when NO_COLOR is set to anything non-empty)
    #[arg(long)]
    pub no_color: bool,
    /// Chart marker; plain `dot` is chosen automatically when the locale is not UTF-8
    #[arg(long, value_enum)]
    pub marker: Option<MarkerArg>,
    /// Mouse: a click focuses a field, switches a pane or picks a class; the wheel nudges γ, α or the target (off by default: it takes over the terminal's text selection)
    #[arg(long)]
    pub mouse: bool,
    /// Open the dataset view: logits (.npy or text, with --labels; .npz/.safetensors, FILE:NAME) or a CSV with the label first; repeat for shards (--sigmoid opens it in sigmoid mode)
    #[arg(long, value_name = "FILE")]
    pub data: Vec<PathBuf>,
    /// Labels for --data, one file per --data file
    #[arg(long, value_name = "FILE", requires = "data")]
    pub labels: Vec<PathBuf>,
    /// With --data: skip rows with a non-finite logit or a label out of range
    #[arg(long, requires = "data")]
    pub skip_invalid: bool,
    /// With --data: the class axis and the label to leave out, as `data` takes them
    #[command(flatten)]
    pub tensor: TensorArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print one result (aligned text, or --json) without a terminal UI
    Calc(CalcArgs),
    /// Sweep γ over a dataset of model outputs (.npy, CSV/TSV, or stdin)
    Data(DataArgs),
    /// Check your own focal loss (a .npy dump of its losses, and gradient) against the exact values
    Verify(VerifyArgs),
    /// Print a shell completion script (e.g. `focal-tui completions bash > ~/.local/share/bash-completion/completions/focal-tui`)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `focal-tui man | man -l -`
    Man,
}

/// The completion script for `shell`, from the same clap definition as
/// the parser.
pub fn completions(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "focal-tui", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The man page (roff), from the same clap definition as the parser.
pub fn man_page() -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// A dataset: `--logits FILE --labels FILE` pairs (shards of one dataset;
/// `.npy` by extension, text otherwise), or `--csv FILE` with the label in
/// the first column. `-` is standard input.
#[derive(Args, Clone, Debug, Default)]
pub struct DataArgs {
    /// Logits [N, K] or [N, C, d1, …]: .npy (float16/32/64), .npz or .safetensors (array `logits`, or FILE:NAME), or text, K numbers per line
    #[arg(long, value_name = "FILE")]
    pub logits: Vec<PathBuf>,
    /// Labels [N] or [N, d1, …]: .npy of any integer dtype, a container's array (`labels` by default, none needed beside the logits), or text, one per line; per-class targets shaped like the logits (text: K a line)
    // The doc line is the --help text: "[N]" is a shape, not a link.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long, value_name = "FILE")]
    pub labels: Vec<PathBuf>,
    /// CSV/TSV with the label first, then K logits per row (a header row is detected)
    #[arg(long, value_name = "FILE")]
    pub csv: Vec<PathBuf>,
    /// γ values to sweep [default: "0, 0.5, 1, 2, 5"]
    #[arg(long, value_name = "LIST")]
    pub gammas: Option<String>,
    /// One α (applied to the label class) or one per class; `none` (or -1): no weighting [default: 0.25]
    #[arg(long, allow_hyphen_values = true, value_name = "A")]
    pub alpha: Option<String>,
    /// Sigmoid focal loss on the same logits (RetinaNet)
    #[arg(long)]
    pub sigmoid: bool,
    /// One JSON object instead of the text report
    #[arg(long)]
    pub json: bool,
    /// Skip rows with a non-finite logit or a label out of range (and report how many) instead of stopping
    #[arg(long)]
    pub skip_invalid: bool,
    #[command(flatten)]
    pub tensor: TensorArgs,
    #[command(flatten)]
    pub meaning: MeaningArgs,
    /// Also the means as a library reduces a batch: paper, torchvision, kornia, monai, keras, mmdet, ultralytics
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

/// How `.npy` logits of any rank are read: `data`'s flags, and the
/// explorer's with `--data`.
#[derive(Args, Clone, Debug, Default)]
pub struct TensorArgs {
    /// The class axis of .npy logits, negative from the end (-1 for [B, A, K]) [default: 1, as [N, C, d1, …]]
    #[arg(long, allow_hyphen_values = true, value_name = "A")]
    pub class_axis: Option<i64>,
    /// Leave out (and count) positions with this label, e.g. 255 or -100 for void pixels
    #[arg(long, allow_hyphen_values = true, value_name = "I")]
    pub ignore_index: Option<i64>,
}

/// What the labels and logits mean beyond class indices and logits:
/// `data`'s and `verify`'s flags (the explorer's view refuses both).
#[derive(Args, Clone, Debug, Default)]
pub struct MeaningArgs {
    /// Sigmoid: a label meaning every class is a negative (a background anchor), e.g. K as mmdet
    #[arg(long, allow_hyphen_values = true, value_name = "B")]
    pub background: Option<i64>,
    /// The inputs are probabilities, not logits (softmax: rows summing to 1; sigmoid: one per class)
    #[arg(long)]
    pub probs: bool,
}

/// `focal-tui verify`: a user's dumped losses (and gradient) against the
/// exact values on the same logits and labels, read as `data` reads them.
#[derive(Args, Clone, Debug, Default)]
pub struct VerifyArgs {
    /// Logits [N, K] or [N, C, d1, …]: .npy (float16/32/64), .npz or .safetensors (array `logits`, or FILE:NAME), or text, K numbers per line
    #[arg(long, value_name = "FILE", required = true)]
    pub logits: PathBuf,
    /// Labels [N] or [N, d1, …]: .npy of any integer dtype, a container's array (`labels` by default, none needed beside the logits), or text, one per line; per-class targets shaped like the logits
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Your losses (.npy): per row [N, d1, …], per element (shape of the logits), or reduced ([] or [1])
    #[arg(long, value_name = "FILE", required = true)]
    pub loss: PathBuf,
    /// Your dLoss/dlogits (.npy, shape of the logits): of the summed losses or of the reduced loss (detected)
    #[arg(long, value_name = "FILE")]
    pub grad: Option<PathBuf>,
    /// Focusing parameter γ ≥ 0 [default: the profile's, 2 for paper]
    #[arg(long, allow_hyphen_values = true, value_name = "G")]
    pub gamma: Option<String>,
    /// One α, one per class, or `none` [default: the profile's, 0.25 for paper]
    #[arg(long, allow_hyphen_values = true, value_name = "A")]
    pub alpha: Option<String>,
    /// Sigmoid focal loss (RetinaNet): every class a binary problem
    #[arg(long)]
    pub sigmoid: bool,
    /// Compute as a library does: paper, torchvision, kornia, monai, keras, mmdet, ultralytics [default: paper]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    #[command(flatten)]
    pub tensor: TensorArgs,
    #[command(flatten)]
    pub meaning: MeaningArgs,
    /// How your reduced loss divides the sum: mean_over_rows, mean_over_elements, sum, per_positive, sum_of_row_means [default: the profile's]
    #[arg(long, value_name = "KEY")]
    pub batch_reduction: Option<String>,
    /// Relative tolerance [default: √ε of each dump's precision: float64 1.5e-8, float32 3.5e-4, float16 0.031, bfloat16 0.088]
    #[arg(long, allow_hyphen_values = true, value_name = "R")]
    pub rtol: Option<f64>,
    /// One JSON object instead of the text report
    #[arg(long)]
    pub json: bool,
}

impl VerifyArgs {
    /// The dataset flags as `data` takes them, so that both read the same
    /// rows with the same checks and messages.
    pub fn data_args(&self) -> DataArgs {
        DataArgs {
            logits: vec![self.logits.clone()],
            labels: self.labels.iter().cloned().collect(),
            sigmoid: self.sigmoid,
            tensor: self.tensor.clone(),
            meaning: self.meaning.clone(),
            ..DataArgs::default()
        }
    }
}

#[derive(Args, Debug)]
pub struct CalcArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// One JSON object instead of the text report
    #[arg(long)]
    pub json: bool,
    /// Also the loss and gradient as the profile's PyTorch code computes them under torch.autocast (float16, bfloat16) on the CPU
    #[arg(long)]
    pub amp: bool,
}

/// The example: every value is parsed by `parse`, so the command line and
/// the explorer give the same messages. Defaults: the seed's hard example.
#[derive(Args, Debug, Default)]
pub struct InputArgs {
    /// Raw scores, comma and/or space separated, `[ ]` allowed [default: "1.5, -0.8, 0.2"]
    #[arg(long, allow_hyphen_values = true, value_name = "LIST")]
    pub logits: Option<String>,
    /// The true class, 0-based [default: 1]; sigmoid: `none` (background) or a list of classes; `p: LIST` as --target-probs
    #[arg(long, allow_hyphen_values = true, value_name = "CLASS")]
    pub target: Option<String>,
    /// One target probability per class, in [0, 1] (softmax: summing to 1)
    #[arg(long, allow_hyphen_values = true, value_name = "LIST", conflicts_with = "target")]
    pub target_probs: Option<String>,
    /// Label smoothing ε in [0, 1), as Keras: softmax q·(1 − ε) + ε/K, sigmoid y·(1 − ε) + ε/2 [default: 0]
    #[arg(long, allow_hyphen_values = true, value_name = "E")]
    pub label_smoothing: Option<String>,
    /// Focusing parameter γ ≥ 0 [default: 2]
    #[arg(long, allow_hyphen_values = true, value_name = "G")]
    pub gamma: Option<String>,
    /// Class weight: one α (applied to the target class) or one per class; `none` (or -1): no weighting [default: 0.25]
    #[arg(long, allow_hyphen_values = true, value_name = "A")]
    pub alpha: Option<String>,
    /// RetinaNet / torchvision sigmoid focal loss: every class a binary problem
    #[arg(long)]
    pub sigmoid: bool,
    /// Compute as a library does: paper, torchvision, kornia, monai, keras, mmdet, ultralytics [default: paper]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

impl InputArgs {
    /// The four field texts in [`Field::PARAMS`] order, defaults filled in.
    pub fn texts(&self) -> [&str; 4] {
        let given = [&self.logits, &self.target, &self.gamma, &self.alpha];
        std::array::from_fn(|i| given[i].as_deref().unwrap_or(Field::PARAMS[i].default_text()))
    }

    /// All the example's texts, defaults filled in: γ and α from `profile`.
    pub fn example(&self, profile: &Profile) -> crate::field::Texts<'_> {
        let mut fields = self.texts();
        fields[2] = self.gamma.as_deref().unwrap_or(profile.gamma);
        fields[3] = self.alpha.as_deref().unwrap_or(profile.alpha);
        crate::field::Texts {
            fields,
            smoothing: self.label_smoothing.as_deref().unwrap_or(Field::Smoothing.default_text()),
            target_probs: self.target_probs.as_deref(),
        }
    }

    pub fn mode(&self) -> Mode {
        if self.sigmoid { Mode::Sigmoid } else { Mode::Softmax }
    }

    /// The profile asked for (`paper` by default) in the mode asked for,
    /// and whether it implied sigmoid; an unknown name is an error.
    pub fn profile(&self) -> Result<(&'static Profile, bool), String> {
        profile::find(self.profile.as_deref().unwrap_or(profile::PAPER), self.mode())
            .map_err(|e| format!("--profile: {e}"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MarkerArg {
    Braille,
    Halfblock,
    Dot,
    Ascii,
}

impl Cli {
    /// The dataset of `--data` as `focal-tui data` takes it: logits with
    /// `--labels`, or CSVs with the label first.
    pub fn data_args(&self) -> Option<DataArgs> {
        if self.data.is_empty() {
            return None;
        }
        let with_labels = !self.labels.is_empty();
        Some(DataArgs {
            logits: if with_labels { self.data.clone() } else { Vec::new() },
            labels: self.labels.clone(),
            csv: if with_labels { Vec::new() } else { self.data.clone() },
            gammas: self.gammas.clone(),
            alpha: self.input.alpha.clone(),
            sigmoid: self.input.sigmoid,
            json: false,
            skip_invalid: self.skip_invalid,
            tensor: self.tensor.clone(),
            ..DataArgs::default()
        })
    }

    /// Colours and glyphs from the flags and the environment: NO_COLOR (any
    /// non-empty value, as no-color.org says) or --no-color for monochrome;
    /// plain ASCII glyphs unless the locale is UTF-8 or a marker was chosen.
    pub fn look(&self) -> Look {
        let mono = self.no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let unicode = utf8_locale();
        let marker = match self.marker {
            Some(MarkerArg::Braille) => Marker::Braille,
            Some(MarkerArg::Halfblock) => Marker::HalfBlock,
            Some(MarkerArg::Dot) => Marker::Dot,
            Some(MarkerArg::Ascii) => ASCII_MARKER,
            None if unicode => Marker::Braille,
            None => ASCII_MARKER,
        };
        Look::new(mono, marker, unicode && marker != ASCII_MARKER)
    }
}

const ASCII_MARKER: Marker = Marker::Custom('*');

/// A clap error as one line (scripts read one line of stderr): its first
/// line, completed by the indented lines under it (the arguments missing),
/// without the usage block.
pub fn one_line(error: &str) -> String {
    let mut lines = error.lines();
    let mut line = lines.next().unwrap_or("invalid arguments").trim_end().to_string();
    for more in lines.take_while(|l| l.starts_with(char::is_whitespace) && !l.trim().is_empty()) {
        line.push(' ');
        line.push_str(more.trim());
    }
    line
}

/// The locale's character set, as C programs see it: the first non-empty of
/// LC_ALL, LC_CTYPE, LANG must name UTF-8.
fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty())).is_some_and(
        |v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        },
    )
}
