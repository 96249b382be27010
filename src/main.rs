use std::io::{ErrorKind, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind as ClapError;

use focal_tui::app::App;
use focal_tui::cli::{self, Cli, Command, DataArgs};
use focal_tui::dataset::Dataset;
use focal_tui::field::{self, Field};
use focal_tui::{calc, data, parse, tui, verify};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ClapError::DisplayHelp | ClapError::DisplayVersion) => e.exit(),
        // One line, not clap's usage block: scripts read stderr.
        Err(e) => return fail(&cli::one_line(&e.to_string())),
    };
    match &cli.command {
        Some(Command::Calc(args)) => calc::run(args).map_or_else(|message| fail(&message), |report| emit(&report)),
        Some(Command::Data(args)) => data::run::run(args).map_or_else(|message| fail(&message), |report| emit(&report)),
        // Off: the report still goes to stdout, and the status is 1.
        Some(Command::Verify(args)) => match verify::run(args) {
            Ok(outcome) if outcome.within => emit(&outcome.report),
            Ok(outcome) => {
                emit(&outcome.report);
                ExitCode::FAILURE
            }
            Err(message) => fail(&message),
        },
        Some(Command::Completions { shell }) => emit(&cli::completions(*shell)),
        Some(Command::Man) => emit(&cli::man_page()),
        None => explore(&cli),
    }
}

fn explore(cli: &Cli) -> ExitCode {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return fail("the explorer needs a terminal; for scripts and pipes use `focal-tui calc` (see --help)");
    }
    // Bad prefill is a command-line error, reported like calc's.
    let (profile, _) = match cli.input.profile() {
        Ok(found) => found,
        Err(e) => return fail(&e),
    };
    // A profile's default γ and α are the example's; the dataset view keeps its own.
    let texts = if cli.data.is_empty() { cli.input.example(profile).fields } else { cli.input.texts() };
    let gammas_text = cli.gammas.as_deref().unwrap_or(Field::Gammas.default_text());
    let gammas = match parse::gammas(gammas_text) {
        Ok(g) => g,
        Err(e) => return fail(&format!("--gammas: {e}")),
    };
    let [logits, target, gamma, alpha] = texts.map(str::to_string);
    let all_texts = [logits, target, gamma, alpha, gammas_text.to_string()];
    let mut app = match cli.data_args() {
        // The dataset is read before the terminal is taken: errors are one line.
        Some(args) => match dataset(&args, texts, &gammas) {
            Ok(data) => App::with_data(all_texts, data, cli.look()),
            Err(message) => return fail(&message),
        },
        None => match field::example(&cli.input.example(profile), profile.mode) {
            Ok(params) => {
                let mut app = App::new(all_texts, params, gammas, cli.look());
                if !profile.is_paper() && (!app.set_profile(profile.name) || app.stale) {
                    return fail(&format!("--profile {}: {}", profile.name, app.status.unwrap_or_default()));
                }
                if let Some(list) = &cli.input.target_probs {
                    app.prefill(Field::Target, &format!("p: {list}"));
                }
                if let Some(e) = &cli.input.label_smoothing {
                    app.prefill(Field::Smoothing, e);
                }
                app
            }
            Err((Field::Target, e)) if cli.input.target_probs.is_some() => {
                return fail(&format!("--target-probs: {e}"));
            }
            Err((f, e)) => return fail(&format!("{}: {e}", f.flag())),
        },
    };
    if let Err(e) = color_eyre::install() {
        return fail(&e.to_string());
    }
    match tui::run(&mut app, cli.mouse) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say(&e.to_string());
            ExitCode::FAILURE
        }
    }
}

/// The dataset view's data at the prefilled γ, α and γ list (`texts` as
/// [`Field::PARAMS`]; α is checked against the dataset's K).
fn dataset(args: &DataArgs, texts: [&str; 4], gammas: &[f64]) -> Result<Dataset, String> {
    let loaded = data::run::load(args)?;
    let gamma = parse::gamma(texts[2]).map_err(|e| format!("--gamma: {e}"))?;
    let alpha = parse::alpha(texts[3], Some(loaded.classes()), loaded.mode).map_err(|e| format!("--alpha: {e}"))?;
    Ok(Dataset::new(loaded, gamma, gammas, alpha).reloading(args.clone()))
}

/// Writes a report to stdout. A reader that closed the pipe early (`| head`)
/// wanted no more: exit quietly with success, as ripgrep and fd do. Any other
/// write error (a full disk) is one line on stderr and status 1.
fn emit(report: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(report.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            say(&format!("cannot write the report to standard output: {e}"));
            ExitCode::FAILURE
        }
    }
}

/// Bad input: one line on stderr, status 2.
fn fail(message: &str) -> ExitCode {
    say(message.trim_start_matches("error: "));
    ExitCode::from(2)
}

/// One line on stderr; if even that fails there is no one left to tell.
fn say(message: &str) {
    let _ = writeln!(std::io::stderr(), "focal-tui: {message}");
}
