use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use focal_tui::calc;
use focal_tui::cli::{CalcArgs, Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            e.exit()
        }
        // One line, not clap's usage block: scripts read stderr.
        Err(e) => return fail(e.to_string().lines().next().unwrap_or("invalid arguments")),
    };
    let args = match cli.command {
        Some(Command::Calc(args)) => args,
        None => CalcArgs {
            input: cli.input,
            json: false,
        },
    };
    match calc::run(&args) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("focal-tui: {}", message.trim_start_matches("error: "));
    ExitCode::from(2)
}
