//! The terminal: set up, the blocking event loop, and restoring the user's
//! terminal on every way out (return, error, panic, SIGHUP, SIGTERM).

use std::io::{self, Write};

use crossterm::clipboard::CopyToClipboard;
use crossterm::cursor::Show;
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste, Event};
use crossterm::execute;
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Size;

use crate::action::Action;
use crate::app::App;
use crate::input::Input;
use crate::screen::Screen;
use crate::ui;

/// The user's terminal, drawn in frames.
type Tty = Screen<CrosstermBackend<io::Stdout>>;

/// Runs the explorer until the user quits. The terminal is restored on return.
pub fn run(app: &mut App) -> color_eyre::Result<()> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        hook(info);
    }));
    let result = take_terminal().and_then(|screen| {
        spawn_signal_watch()?;
        let size = screen.size();
        app.update(Action::Resize(size.width, size.height));
        event_loop(screen, app)
    });
    restore();
    result
}

/// Raw mode, the alternate screen and bracketed paste.
fn take_terminal() -> color_eyre::Result<Tty> {
    terminal::enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
    let size = terminal::size()?;
    Ok(Screen::new(CrosstermBackend::new(io::stdout()), Size::new(size.0, size.1))?)
}

/// Leaves the terminal as we found it: bracketed paste off, cursor shown,
/// raw mode off, main screen back. Safe to call more than once, and from a
/// panic or a signal.
pub fn restore() {
    let _ = execute!(io::stdout(), DisableBracketedPaste, Show);
    // Raw mode first: leaving it has more effects than leaving the screen.
    let _ = terminal::disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen);
    let _ = io::stdout().flush();
}

/// Redraws only after input or a resize: no ticks, so an idle explorer uses
/// no CPU and sends no bytes. Events already queued (a paste without
/// bracketed-paste mode, key repeat, keys typed during a slow step) are
/// handled as one batch, then drawn once.
fn event_loop(mut screen: Tty, app: &mut App) -> color_eyre::Result<()> {
    let mut input = Input::new()?;
    let mut dirty = true;
    loop {
        if dirty {
            screen.draw(|buf| ui::view(buf, app))?;
        }
        let batch = input.read()?;
        if let Some(&Event::Resize(w, h)) = batch.iter().rfind(|e| matches!(e, Event::Resize(..))) {
            screen.resize(Size::new(w, h))?;
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
