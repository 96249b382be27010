use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use focal_tui::app::App;
use focal_tui::cli::{Cli, Command};
use focal_tui::field::{self, Field};
use focal_tui::{calc, parse, tui};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => e.exit(),
        // One line, not clap's usage block: scripts read stderr.
        Err(e) => return fail(e.to_string().lines().next().unwrap_or("invalid arguments")),
    };
    match &cli.command {
        Some(Command::Calc(args)) => match calc::run(args) {
            Ok(report) => {
                print!("{report}");
                ExitCode::SUCCESS
            }
            Err(message) => fail(&message),
        },
        Some(Command::Data(args)) => match focal_tui::data::run::run(args) {
            Ok(report) => {
                print!("{report}");
                ExitCode::SUCCESS
            }
            Err(message) => fail(&message),
        },
        None => explore(&cli),
    }
}

fn explore(cli: &Cli) -> ExitCode {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return fail("the explorer needs a terminal; for scripts and pipes use `focal-tui calc` (see --help)");
    }
    // Bad prefill is a command-line error, reported like calc's.
    let texts = cli.input.texts();
    let params = match field::params(texts, cli.input.mode()) {
        Ok(p) => p,
        Err((f, e)) => return fail(&format!("{}: {e}", f.flag())),
    };
    let gammas_text = cli.gammas.as_deref().unwrap_or(Field::Gammas.default_text());
    let gammas = match parse::gammas(gammas_text) {
        Ok(g) => g,
        Err(e) => return fail(&format!("--gammas: {e}")),
    };
    if let Err(e) = color_eyre::install() {
        return fail(&e.to_string());
    }
    let [logits, target, gamma, alpha] = texts.map(str::to_string);
    let mut app = App::new([logits, target, gamma, alpha, gammas_text.to_string()], params, gammas, cli.look());
    match tui::run(&mut app) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("focal-tui: {e}");
            ExitCode::FAILURE
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("focal-tui: {}", message.trim_start_matches("error: "));
    ExitCode::from(2)
}
