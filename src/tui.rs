//! The terminal: set up, the blocking event loop, and restoring the user's
//! terminal on every way out (return, error, panic, SIGHUP, SIGTERM).

use std::io::{self, Write};
use std::time::Duration;

use crossterm::clipboard::CopyToClipboard;
use crossterm::cursor::Show;
use crossterm::event::{self, DisableBracketedPaste, EnableBracketedPaste};
use crossterm::execute;
use ratatui::DefaultTerminal;

use crate::action::Action;
use crate::app::App;
use crate::ui;

/// Runs the explorer until the user quits. The terminal is restored on return.
pub fn run(app: &mut App) -> color_eyre::Result<()> {
    // ratatui::init installs a panic hook that restores raw mode and the
    // screen; bracketed paste is ours to undo, in a hook wrapped around it.
    let terminal = ratatui::try_init()?;
    let paste_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(io::stdout(), DisableBracketedPaste);
        paste_hook(info);
    }));
    spawn_signal_watch()?;
    execute!(io::stdout(), EnableBracketedPaste)?;
    let size = terminal.size()?;
    app.update(Action::Resize(size.width, size.height));
    let result = event_loop(terminal, app);
    restore();
    result
}

/// Leaves the terminal as we found it: bracketed paste off, raw mode off,
/// main screen back, cursor shown. Safe to call more than once.
pub fn restore() {
    // ratatui::restore leaves raw mode and the alternate screen but does not
    // show the cursor (its Terminal does that on drop, which a signal skips).
    let _ = execute!(io::stdout(), DisableBracketedPaste, Show);
    ratatui::restore();
    let _ = io::stdout().flush();
}

/// Redraws only after input or a resize: no ticks, so an idle explorer uses
/// no CPU and sends no bytes. Events already queued (a paste without
/// bracketed-paste mode, key repeat) are handled as one batch, then drawn once.
fn event_loop(mut terminal: DefaultTerminal, app: &mut App) -> color_eyre::Result<()> {
    let mut dirty = true;
    loop {
        if dirty {
            terminal.draw(|frame| ui::view(frame, app))?;
        }
        let mut batch = vec![event::read()?];
        while batch.len() < 1_000_000 && event::poll(Duration::ZERO)? {
            batch.push(event::read()?);
        }
        dirty = app.handle_events(batch);
        if app.quit {
            return Ok(());
        }
        // The one effect an action can ask for besides drawing. Terminals
        // never confirm OSC 52, so the status line says "sent", not "copied".
        if let Some(text) = app.take_clipboard() {
            execute!(io::stdout(), CopyToClipboard::to_clipboard_from(text))?;
        }
    }
}

/// SIGHUP (the SSH link dropped), SIGTERM, SIGQUIT and a SIGINT sent from
/// outside (in raw mode Ctrl+C is a key): restore the terminal and exit at
/// once, instead of leaving it raw or spinning on a dead tty.
fn spawn_signal_watch() -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGHUP, SIGTERM, SIGQUIT, SIGINT])?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            restore();
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}
