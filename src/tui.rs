//! The terminal: set up, the blocking event loop, and restoring the user's
//! terminal on every way out (return, error, panic, abort, and every signal
//! that would end the program).

use std::io::{self, Write};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Runs the explorer until the user quits, with mouse reports when `mouse`
/// (`--mouse`). The terminal is restored on return.
pub fn run(app: &mut App, mouse: bool) -> color_eyre::Result<()> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        hook(info);
    }));
    let result = take_terminal(mouse).and_then(|screen| {
        spawn_signal_watch()?;
        let size = screen.size();
        app.update(Action::Resize(size.width, size.height));
        event_loop(screen, app)
    });
    restore();
    result
}

/// Mouse reporting is on (`--mouse`), so every way out turns it off.
static MOUSE: AtomicBool = AtomicBool::new(false);
/// Clicks and the wheel, not motion (fewer bytes over SSH), in SGR form
/// (any column, unambiguous releases).
const MOUSE_ON: &[u8] = b"\x1b[?1000h\x1b[?1006h";
const MOUSE_OFF: &[u8] = b"\x1b[?1006l\x1b[?1000l";

/// Raw mode, the alternate screen, bracketed paste, and mouse reports
/// when asked for.
fn take_terminal(mouse: bool) -> color_eyre::Result<Tty> {
    save_tty_mode();
    terminal::enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
    if mouse {
        MOUSE.store(true, Ordering::SeqCst);
        io::stdout().write_all(MOUSE_ON)?;
        io::stdout().flush()?;
    }
    let size = terminal::size()?;
    Ok(Screen::new(CrosstermBackend::new(io::stdout()), Size::new(size.0, size.1))?)
}

/// Leaves the terminal as we found it: mouse reports and bracketed paste
/// off, cursor shown, raw mode off, main screen back. Safe to call more
/// than once, and from a panic or a signal.
pub fn restore() {
    if MOUSE.load(Ordering::SeqCst) {
        let _ = io::stdout().write_all(MOUSE_OFF);
    }
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

/// Every signal whose default is to end the program, and that it can catch
/// and does not otherwise use: restore the terminal and exit at once with
/// 128 + the signal, instead of leaving it raw or spinning on a dead tty.
/// SIGHUP is the SSH link dropped; in raw mode Ctrl+C and Ctrl+\ are keys, so
/// SIGINT and SIGQUIT come from outside. SIGPIPE too, should it stop being
/// ignored. SIGABRT (an abort: out of memory, a stack overflow) is handled in
/// the signal handler itself, as the aborting thread never returns to let
/// this one run.
fn spawn_signal_watch() -> io::Result<()> {
    use signal_hook::consts::*;
    let mut ending = vec![
        SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGPIPE, SIGXCPU, SIGXFSZ,
        SIGIO, SIGSYS, SIGTRAP,
    ];
    #[cfg(target_os = "linux")]
    ending.extend([libc::SIGPWR, libc::SIGSTKFLT]);
    let mut signals = signal_hook::iterator::Signals::new(ending)?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            restore();
            std::process::exit(128 + signal);
        }
    });
    // SAFETY: the action only calls write, tcsetattr and _exit, which are
    // async-signal-safe, and reads a value set before it was registered.
    unsafe {
        signal_hook::low_level::register(SIGABRT, || {
            restore_from_signal_handler();
            signal_hook::low_level::exit(128 + SIGABRT);
        })?;
    }
    Ok(())
}

/// The terminal's mode before raw mode, for [`restore_from_signal_handler`].
static TTY_MODE: OnceLock<libc::termios> = OnceLock::new();

fn save_tty_mode() {
    // SAFETY: tcgetattr writes a termios, which is plain data.
    let mut mode: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut mode) } == 0 {
        let _ = TTY_MODE.set(mode);
    }
}

/// [`restore`] with only async-signal-safe calls (no locks, no allocation):
/// the same escape sequences written directly (an atomic load says whether
/// the mouse is on), and the saved mode.
fn restore_from_signal_handler() {
    const LEAVE: &[u8] = b"\x1b[?2004l\x1b[?25h\x1b[?1049l";
    // SAFETY: the buffers are valid for their lengths; the mode was fully set.
    unsafe {
        if MOUSE.load(Ordering::SeqCst) {
            libc::write(libc::STDOUT_FILENO, MOUSE_OFF.as_ptr().cast(), MOUSE_OFF.len());
        }
        libc::write(libc::STDOUT_FILENO, LEAVE.as_ptr().cast(), LEAVE.len());
        if let Some(mode) = TTY_MODE.get() {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, mode);
        }
    }
}
