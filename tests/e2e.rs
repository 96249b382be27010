//! The explorer end to end: the real `focal-tui` binary runs in a detached
//! tmux session of a known size, and the tests type into it (`send-keys`),
//! paste (`paste-buffer -p`, bracketed paste), resize its window, send it
//! signals, and read what it shows (`capture-pane -p`): startup, editing
//! (Alt keys too), error lines, paste of short and 10 000-number lists, a
//! paste start with no end, bursts of keys, the three layouts, every way out
//! (Esc, Ctrl+C, every terminating signal) restoring the terminal, no CPU
//! while idle, and the help overlay.
//!
//! Needs `tmux` (`apt-get install tmux`; `.ci/run` installs it). Where the
//! build script could not run `tmux -V`, every test here is built ignored,
//! so `cargo test` counts them as skipped (after installing tmux, `touch
//! build.rs`). The process checks read `/proc`, so those tests are Linux only.
//!
//! Each test has its own tmux server (`tmux -L focal-e2e-<test>-<pid>`, no
//! config file) that is killed when the test ends, passed or failed, so the
//! tests run in parallel. The explorer runs under a shell wrapper that prints
//! `EXIT=<status> TTY=<raw|cooked>` on the normal screen once it has quit.
//! Nothing sleeps to synchronise: [`Session::wait_for`] polls the screen every
//! 50 ms and fails after 10 s, printing the last screen.

mod common;
use common::XorShift;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_focal-tui");
/// Generous: the machine may be slow and shared; a pass takes milliseconds.
const TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

/// FL of the defaults (logits 1.5, -0.8, 0.2, target 1, γ 2, α 0.25) to 7
/// significant digits, trailing zeros trimmed.
const DEFAULT_FL: &str = "0.562143";

/// Runs the explorer (`$0`), then reports on the normal screen how it ended
/// and whether it left the tty in raw mode, and stays so the screen can be
/// read. LANG=C.UTF-8 (and no LC_ALL/LC_CTYPE overriding it) selects the
/// Unicode look; TERM is whatever tmux sets.
const WRAPPER: &str = "unset LC_ALL LC_CTYPE; export LANG=C.UTF-8; \"$0\" \"$@\"; status=$?; \
    if stty -a | grep -qw -- -icanon; then tty=raw; else tty=cooked; fi; \
    echo EXIT=$status TTY=$tty; exec sleep 120";

/// One tmux server with one session `s` running the explorer. Dropping it
/// kills the server (which hangs up the explorer) and removes its files.
struct Session {
    socket: String,
    /// The socket's file: tmux leaves it behind when the server is killed.
    socket_path: Option<PathBuf>,
    /// Scratch files of this test (paste data).
    dir: PathBuf,
}

impl Session {
    /// Starts the explorer in a `width` × `height` window and waits for its
    /// first complete frame.
    fn start(test: &str, width: u16, height: u16) -> Session {
        let session = Session::spawn(test, width, height);
        session.wait_for("the first frame", |s| fl_value(s) == Some(DEFAULT_FL) && s.contains("Esc quit"));
        session
    }

    /// Starts the explorer without waiting for anything.
    fn spawn(test: &str, width: u16, height: u16) -> Session {
        Session::spawn_with(test, width, height, &[])
    }

    /// Starts the explorer with command-line arguments.
    fn spawn_with(test: &str, width: u16, height: u16, args: &[&str]) -> Session {
        assert!(tmux_available(), "tmux was found when the tests were built, but `tmux -V` fails now");
        let socket = format!("focal-e2e-{test}-{}", std::process::id());
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(&socket);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the test's scratch directory");
        let mut session = Session { socket, socket_path: None, dir };
        // A server left over by a killed run with the same pid would refuse
        // a second session `s`.
        let _ = session.tmux_output(&["kill-server"]);
        let (w, h) = (width.to_string(), height.to_string());
        let mut command = vec!["new-session", "-d", "-x", &w, "-y", &h, "-s", "s", "/bin/sh", "-c", WRAPPER, BIN];
        command.extend_from_slice(args);
        session.tmux(&command);
        // Keys are injected with send-keys, but a lone Esc must never wait
        // for (or merge with) what follows.
        session.tmux(&["set-option", "-s", "escape-time", "0"]);
        let path = session.pane_format("#{socket_path}");
        session.socket_path = Some(PathBuf::from(path));
        session
    }

    fn tmux_output(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_CTYPE")
            .env_remove("TMUX")
            .output()
            .expect("run tmux")
    }

    /// Runs a tmux command that must succeed; its stdout.
    fn tmux(&self, args: &[&str]) -> String {
        let out = self.tmux_output(args);
        assert!(out.status.success(), "tmux {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("tmux prints UTF-8")
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "s"])
    }

    /// Polls the screen until `ok` holds and returns that screen; after
    /// [`TIMEOUT`] fails with `what` and the last screen.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if start.elapsed() > TIMEOUT {
                panic!("timed out after {TIMEOUT:?} waiting for {what}; the last screen:\n{}", framed(&screen));
            }
            sleep(POLL);
        }
    }

    /// Key names as tmux knows them (`End`, `C-u`, `Escape`, `F2`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "s"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Types `text` character by character.
    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "s", "-l", text]);
    }

    /// Pastes `text` as a bracketed paste (the explorer turns the mode on).
    fn paste(&self, text: &str) {
        self.tmux(&["set-buffer", "-b", "e2e", "--", text]);
        self.tmux(&["paste-buffer", "-p", "-d", "-b", "e2e", "-t", "s"]);
    }

    /// Sends `bytes` in one go, as a terminal sends a burst of keys (an
    /// unbracketed paste of the bytes, line feeds kept).
    fn send_bytes(&self, name: &str, bytes: &[u8]) {
        let path = self.dir.join(name);
        fs::write(&path, bytes).expect("write the bytes to send");
        let path = path.to_str().expect("a UTF-8 path");
        self.tmux(&["load-buffer", "-b", "raw", path]);
        self.tmux(&["paste-buffer", "-d", "-r", "-b", "raw", "-t", "s"]);
    }

    /// Pastes a large text from a file, as a bracketed paste.
    fn paste_file(&self, name: &str, text: &str) {
        let path = self.dir.join(name);
        fs::write(&path, text).expect("write the paste data");
        let path = path.to_str().expect("a UTF-8 path");
        self.tmux(&["load-buffer", "-b", "e2e", path]);
        self.tmux(&["paste-buffer", "-p", "-d", "-b", "e2e", "-t", "s"]);
    }

    fn resize(&self, width: u16, height: u16) {
        let (w, h) = (width.to_string(), height.to_string());
        self.tmux(&["resize-window", "-t", "s", "-x", &w, "-y", &h]);
    }

    /// A tmux format about the pane, e.g. `#{alternate_on}`.
    fn pane_format(&self, format: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", "s", format]).trim().to_string()
    }

    /// The explorer's process: the child of the pane's shell.
    #[cfg(target_os = "linux")]
    fn app_pid(&self) -> u32 {
        let shell: u32 = self.pane_format("#{pane_pid}").parse().expect("pane_pid is a number");
        let children: Vec<u32> = fs::read_dir("/proc")
            .expect("read /proc")
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| {
                proc_stat(pid)
                    .is_some_and(|(comm, fields)| comm == "focal-tui" && fields.get(1) == Some(&shell.to_string()))
            })
            .collect();
        match children.as_slice() {
            [pid] => *pid,
            other => {
                panic!("expected one focal-tui under the pane's shell {shell}, found {other:?}")
            }
        }
    }

    /// Waits for the wrapper's line after the explorer quit, checks the
    /// explorer left the alternate screen and the UI with it, and returns the
    /// line (`EXIT=<status> TTY=<raw|cooked>`).
    fn wait_for_exit(&self) -> String {
        let screen = self.wait_for("the explorer to quit (the EXIT= line)", |s| exit_line(s).is_some());
        assert!(
            !screen.contains("focal loss FL") && !screen.contains("Logits"),
            "the explorer's UI is still on the screen after it quit:\n{}",
            framed(&screen)
        );
        assert_eq!(self.pane_format("#{alternate_on}"), "0", "the alternate screen is still on");
        assert_eq!(self.pane_format("#{cursor_flag}"), "1", "the cursor is hidden");
        exit_line(&screen).unwrap().to_string()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.tmux_output(&["kill-server"]);
        if let Some(path) = &self.socket_path {
            let _ = fs::remove_file(path);
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn tmux_available() -> bool {
    Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
}

/// `/proc/<pid>/stat`: the command name and the fields after it (state,
/// ppid, …; utime and stime are at 11 and 12).
#[cfg(target_os = "linux")]
fn proc_stat(pid: u32) -> Option<(String, Vec<String>)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    let fields = stat[close + 1..].split_whitespace().map(str::to_string).collect();
    Some((comm, fields))
}

/// User plus system CPU time of `pid`, in clock ticks.
#[cfg(target_os = "linux")]
fn cpu_ticks(pid: u32) -> u64 {
    let (_, fields) = proc_stat(pid).expect("the explorer is running");
    let tick = |i: usize| -> u64 { fields[i].parse().expect("a tick count") };
    tick(11) + tick(12)
}

#[cfg(target_os = "linux")]
fn kill(signal: &str, pid: u32) {
    let status = Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status().expect("run kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// The screen with a frame, so trailing blanks and empty lines show.
fn framed(screen: &str) -> String {
    screen.lines().map(|l| format!("|{l}\n")).collect::<String>()
}

/// The value on the "focal loss FL" line of the results.
fn fl_value(screen: &str) -> Option<&str> {
    let line = screen.lines().find(|l| l.contains("focal loss FL"))?;
    let (_, rest) = line.split_once("focal loss FL")?;
    rest.split_whitespace().next()
}

/// A field's line: whether it has the focus mark, and its visible text.
fn field<'a>(screen: &'a str, label: &str) -> Option<(bool, &'a str)> {
    screen.lines().find_map(|line| {
        let focused = line.starts_with('▸');
        let rest = line.strip_prefix("▸ ").or(line.strip_prefix("  "))?;
        let text = rest.strip_prefix(label)?;
        // The label is padded to the text column (capture-pane trims the
        // blanks of an empty field).
        (text.is_empty() || text.starts_with(' ')).then(|| (focused, text.trim()))
    })
}

/// N in the class list's "… N more" line.
fn more_classes(screen: &str) -> Option<usize> {
    screen.lines().find_map(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["…", n, "more", ..] => n.parse().ok(),
            _ => None,
        }
    })
}

/// The wrapper's `EXIT=… TTY=…` line, once the explorer has quit.
fn exit_line(screen: &str) -> Option<&str> {
    screen.lines().map(str::trim).find(|l| l.starts_with("EXIT="))
}

/// `n` logits 0.25, 0.5, …, n/4, comma separated.
fn long_logits(n: usize) -> String {
    (1..=n).map(|i| (i as f64 * 0.25).to_string()).collect::<Vec<_>>().join(", ")
}

#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn startup_shows_the_default_focal_loss() {
    let s = Session::start("startup", 120, 40);
    let screen = s.screen();
    assert_eq!(fl_value(&screen), Some(DEFAULT_FL), "{}", framed(&screen));
    assert_eq!(field(&screen, "Logits"), Some((true, "1.5, -0.8, 0.2")), "{}", framed(&screen));
    assert_eq!(field(&screen, "Target"), Some((false, "1")));
    assert_eq!(s.pane_format("#{alternate_on}"), "1", "no alternate screen");
    assert!(exit_line(&screen).is_none());
}

#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn typing_a_logit_updates_the_focal_loss() {
    let s = Session::start("typing", 120, 40);
    s.keys(&["End"]);
    s.type_text(", 3");
    // mpmath: 0.98227421447216984.
    s.wait_for("FL 0.9822742 for logits 1.5, -0.8, 0.2, 3", |screen| {
        fl_value(screen) == Some("0.9822742")
            && field(screen, "Logits") == Some((true, "1.5, -0.8, 0.2, 3"))
            && !screen.contains("STALE")
    });
}

/// γ 2 → Alt+↑ → 2.1 → PgUp → 3.1 as tmux sends the keys; the focal loss
/// follows each step.
#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn alt_up_and_page_up_nudge_gamma() {
    let s = Session::start("nudge", 120, 40);
    s.keys(&["Tab", "Tab"]);
    s.wait_for("the focus on γ", |screen| field(screen, "γ") == Some((true, "2")));
    s.keys(&["M-Up"]);
    // mpmath: 0.55789595461472057 (γ 2.1), 0.51715121042019113 (γ 3.1).
    s.wait_for("γ 2.1 and FL 0.557896", |screen| {
        field(screen, "γ") == Some((true, "2.1")) && fl_value(screen) == Some("0.557896")
    });
    s.keys(&["PPage"]);
    s.wait_for("γ 3.1 and FL 0.5171512", |screen| {
        field(screen, "γ") == Some((true, "3.1")) && fl_value(screen) == Some("0.5171512")
    });
}

/// `--mouse` turns on SGR click reports; the wheel over γ nudges it, a click
/// focuses a field; quitting (Esc, or a signal) turns the reports off.
#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
#[cfg(target_os = "linux")]
fn mouse_is_opt_in_and_off_again_on_every_way_out() {
    let plain = Session::start("no_mouse", 120, 40);
    assert_eq!(plain.pane_format("#{mouse_standard_flag}#{mouse_sgr_flag}"), "00");
    for (test, quit) in [("mouse_esc", None), ("mouse_term", Some("TERM"))] {
        let s = Session::spawn_with(test, 120, 40, &["--mouse"]);
        s.wait_for("the first frame", |screen| fl_value(screen) == Some(DEFAULT_FL));
        assert_eq!(s.pane_format("#{mouse_standard_flag}#{mouse_sgr_flag}"), "11");
        // γ is on row 3 (1-based); the wheel up over its text, then a click on Target.
        s.send_bytes("wheel", b"\x1b[<64;20;3M");
        s.wait_for("γ 2.1 and FL 0.557896", |screen| {
            field(screen, "γ") == Some((true, "2.1")) && fl_value(screen) == Some("0.557896")
        });
        s.send_bytes("click", b"\x1b[<0;20;2M\x1b[<0;20;2m");
        s.wait_for("the focus on Target", |screen| field(screen, "Target") == Some((true, "1")));
        match quit {
            None => s.keys(&["Escape"]),
            Some(signal) => kill(signal, s.app_pid()),
        }
        let status = if quit.is_some() { 143 } else { 0 };
        assert_eq!(s.wait_for_exit(), format!("EXIT={status} TTY=cooked"));
        assert_eq!(s.pane_format("#{mouse_standard_flag}#{mouse_sgr_flag}"), "00", "{test}");
    }
}

#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn bad_input_shows_the_error_and_keeps_the_last_valid_result() {
    let s = Session::start("bad_input", 120, 40);
    s.keys(&["End"]);
    s.type_text(", x");
    s.wait_for("the error line, STALE and the old FL", |screen| {
        screen.lines().any(|l| l.trim_start().starts_with("✗ `x` at column 17 is not a number"))
            && screen.contains("STALE")
            && fl_value(screen) == Some(DEFAULT_FL)
            && screen.contains("STALE: last valid input shown")
    });
    // Deleting the bad token makes the input valid again.
    s.keys(&["BSpace", "BSpace", "BSpace"]);
    s.wait_for("the error and STALE to go", |screen| {
        !screen.contains('✗')
            && !screen.contains("STALE")
            && fl_value(screen) == Some(DEFAULT_FL)
            && field(screen, "Logits") == Some((true, "1.5, -0.8, 0.2"))
            && screen.contains("Esc quit")
    });
}

#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn bracketed_paste_inserts_short_and_long_lists() {
    let s = Session::start("paste", 120, 40);
    s.keys(&["C-u"]);
    s.wait_for("the emptied field", |screen| {
        field(screen, "Logits") == Some((true, "")) && screen.contains("no logits")
    });
    s.paste("[1, 2, 3]");
    // mpmath: 0.20073695609103563.
    s.wait_for("FL 0.200737 for [1, 2, 3]", |screen| {
        fl_value(screen) == Some("0.200737")
            && field(screen, "Logits") == Some((true, "[1, 2, 3]"))
            && !screen.contains("STALE")
    });

    // Line breaks inside a paste become spaces; typed, Enter would move the
    // focus to Target. So this only passes as a bracketed paste.
    s.keys(&["C-u"]);
    s.paste("1.5,\n-0.8,\n0.2");
    s.wait_for("the defaults back, focus still on Logits", |screen| {
        fl_value(screen) == Some(DEFAULT_FL)
            && field(screen, "Logits") == Some((true, "1.5, -0.8, 0.2"))
            && field(screen, "Target") == Some((false, "1"))
            && !screen.contains("STALE")
    });

    // 10 000 logits (75 561 characters): 0.25, 0.5, …, 2500.
    s.keys(&["C-u"]);
    s.paste_file("logits.txt", &long_logits(10_000));
    // FL = 0.25·CE·(1 − p_t)² with p_t ≈ e^-2499.5 and
    // CE = 2500 − ln(1 − e^-0.25) − 0.5 = 2501.009…
    let screen = s.wait_for("the 10 000 classes", |screen| {
        screen.contains("class 9999")
            && fl_value(screen) == Some("625.2522")
            && more_classes(screen).is_some_and(|n| (9_900..10_000).contains(&n))
            && screen.contains("Esc quit")
    });
    assert!(!screen.contains("STALE"), "{}", framed(&screen));
    assert!(field(&screen, "Logits").is_some_and(|(focused, _)| focused), "{}", framed(&screen));
}

/// The focused field scrolls to its end, where the cursor is, even past
/// 65 535 columns (the scroll offset once went through a u16 and showed the
/// middle of a long list).
#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn a_long_field_shows_its_end_and_the_cursor_after_it() {
    let s = Session::start("long_field_end", 120, 40);
    s.keys(&["C-u"]);
    s.paste_file("logits.txt", &long_logits(10_000));
    let screen = s.wait_for("the end of the list in the Logits field", |screen| {
        field(screen, "Logits").is_some_and(|(_, text)| text.ends_with("2499.75, 2500"))
    });
    let (_, text) = field(&screen, "Logits").unwrap();
    // The text starts in column 12; the cursor is just after its last
    // character once the frame is complete (the text may show first).
    let want = ("0".to_string(), (12 + text.chars().count()).to_string());
    let start = Instant::now();
    loop {
        let at = (s.pane_format("#{cursor_y}"), s.pane_format("#{cursor_x}"));
        if at == want {
            break;
        }
        assert!(start.elapsed() < TIMEOUT, "the cursor is at (y, x) = {at:?}, not {want:?}");
        sleep(POLL);
    }
}

#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn resize_switches_between_wide_standard_and_tiny_layouts() {
    let s = Session::start("resize", 120, 40);
    s.wait_for("the wide layout", |screen| {
        screen.contains(" Classes ")
            && screen.contains("Modulating factor")
            && screen.contains("FL vs p_t")
            && screen.contains(" table  steps  lens  F2 ")
    });
    s.resize(80, 24);
    s.wait_for("the standard layout with the pane tabs", |screen| {
        screen.contains(" chart  table  classes  steps  lens  F2 ")
            && screen.contains("F2/⇧→ pane")
            && !screen.contains("Modulating factor")
            && !screen.contains(" Classes ")
            && fl_value(screen) == Some(DEFAULT_FL)
    });
    s.resize(40, 10);
    s.wait_for("the tiny message", |screen| {
        screen.contains("enlarge the terminal")
            && screen.contains(&format!("FL = {DEFAULT_FL}"))
            && !screen.contains("Logits")
    });
    s.resize(120, 40);
    s.wait_for("the wide layout again", |screen| {
        screen.contains(" Classes ")
            && screen.contains("Modulating factor")
            && !screen.contains("enlarge the terminal")
            && screen.contains("Esc quit")
    });
}

#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn esc_quits_with_status_0_and_restores_the_terminal() {
    let s = Session::start("esc", 120, 40);
    s.keys(&["Escape"]);
    assert_eq!(s.wait_for_exit(), "EXIT=0 TTY=cooked");
}

#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn ctrl_c_quits_with_status_0_and_restores_the_terminal() {
    let s = Session::start("ctrl_c", 120, 40);
    s.keys(&["C-c"]);
    assert_eq!(s.wait_for_exit(), "EXIT=0 TTY=cooked");
}

/// Sends `signal` to the running explorer; it must restore the terminal and
/// exit with 128 + the signal's number.
#[cfg(target_os = "linux")]
fn signal_ends_the_explorer(test: &str, signal: &str, status: u8, help_open: bool) {
    let s = Session::start(test, 120, 40);
    if help_open {
        // The help hides the cursor: the exit must show it again.
        s.keys(&["?"]);
        s.wait_for("the help", |screen| screen.contains("Help · Esc closes"));
    }
    let pid = s.app_pid();
    kill(signal, pid);
    assert_eq!(s.wait_for_exit(), format!("EXIT={status} TTY=cooked"));
}

#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
#[cfg(target_os = "linux")]
fn sighup_restores_the_terminal_and_exits_129() {
    signal_ends_the_explorer("sighup", "HUP", 129, false);
}

#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
#[cfg(target_os = "linux")]
fn sigterm_restores_the_terminal_and_exits_143() {
    signal_ends_the_explorer("sigterm", "TERM", 143, false);
}

/// The help (like the tiny layout) hides the cursor; a signal skips
/// ratatui's Terminal drop, so `tui::restore` must show it itself.
#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
#[cfg(target_os = "linux")]
fn a_signal_with_the_help_open_shows_the_cursor_again() {
    signal_ends_the_explorer("sigterm_help", "TERM", 143, true);
}

#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
#[cfg(target_os = "linux")]
fn sigquit_restores_the_terminal_and_exits_131() {
    signal_ends_the_explorer("sigquit", "QUIT", 131, false);
}

/// In raw mode Ctrl+C is a key; a SIGINT can only come from outside
/// (`timeout -s INT`, a supervisor), and must restore the terminal too.
#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
#[cfg(target_os = "linux")]
fn sigint_from_outside_restores_the_terminal_and_exits_130() {
    signal_ends_the_explorer("sigint", "INT", 130, false);
}

#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
#[cfg(target_os = "linux")]
fn an_idle_explorer_uses_no_cpu() {
    let s = Session::start("idle", 120, 40);
    let pid = s.app_pid();
    let before = cpu_ticks(pid);
    // A measuring window, not synchronisation: the first frame is drawn.
    sleep(Duration::from_millis(1500));
    let after = cpu_ticks(pid);
    assert!(after - before <= 2, "the idle explorer used {} clock ticks of CPU in 1.5 s", after - before);
    assert!(exit_line(&s.screen()).is_none(), "the explorer quit");
}

#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn help_opens_with_question_mark_and_esc_closes_it() {
    let s = Session::start("help", 120, 40);
    s.keys(&["?"]);
    s.wait_for("the help overlay", |screen| screen.contains("Help · Esc closes") && screen.contains("Esc close "));
    s.keys(&["Escape"]);
    s.wait_for("the help to close", |screen| {
        !screen.contains("Help · Esc closes") && screen.contains("Esc quit") && fl_value(screen) == Some(DEFAULT_FL)
    });
    // Still running, and the keys go to the field again.
    s.type_text(", 3");
    let screen = s.wait_for("FL 0.9822742 after typing , 3", |screen| fl_value(screen) == Some("0.9822742"));
    assert!(exit_line(&screen).is_none(), "{}", framed(&screen));
    assert_eq!(s.pane_format("#{alternate_on}"), "1");
}

/// F6 sends the report to the terminal clipboard as OSC 52. The bytes the
/// explorer writes (recorded by `pipe-pane`) must hold `ESC ] 52 ; c ;` and
/// the base64 of exactly the `calc` report, and tmux, told to accept OSC 52
/// (`set-clipboard on`), must decode it into its paste buffer.
#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn f6_sends_the_report_as_osc_52() {
    let s = Session::start("osc52", 120, 40);
    s.tmux(&["set-option", "-s", "set-clipboard", "on"]);
    let raw = s.dir.join("raw-output");
    s.tmux(&["pipe-pane", "-o", "-t", "s", &format!("cat > '{}'", raw.display())]);
    s.keys(&["F6"]);
    s.wait_for("the copy status", |screen| screen.contains("sent to the terminal clipboard (OSC 52)"));

    let report = Command::new(BIN).arg("calc").output().expect("run calc").stdout;
    let report = String::from_utf8(report).expect("UTF-8 report");
    let sequence = format!("\u{1b}]52;c;{}\u{1b}\\", base64(report.as_bytes()));
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        let bytes = fs::read(&raw).unwrap_or_default();
        if String::from_utf8_lossy(&bytes).contains(&sequence) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no OSC 52 with the report in {} bytes of output", bytes.len());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(s.tmux(&["show-buffer"]), report, "tmux decoded the report from OSC 52");
}

/// Standard base64 with padding (RFC 4648), as OSC 52 carries it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The fixtures of tests/data_read.rs and tests/cli_data.rs.
fn fixture(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn the_dataset_view_opens_and_resweeps_as_gamma_is_typed() {
    let (z, y) = (fixture("logits_f4.npy"), fixture("labels_i8.npy"));
    let s = Session::spawn_with("data", 100, 30, &["--data", &z, "--labels", &y]);
    let screen = s.wait_for("the dataset view", |s| s.contains("Dataset ·") && s.contains("Esc quit"));
    // mpmath references of tests/cli_data.rs: mean CE 1.5042605311909905546,
    // mean FL at γ = 2 0.30985678296661838039 (6 significant digits shown).
    assert!(screen.contains("mean CE 1.50426"), "{}", framed(&screen));
    assert!(screen.lines().any(|l| l.contains("▶ 2") && l.contains("0.309857")), "{}", framed(&screen));
    s.type_text("5");
    s.wait_for("the γ = 25 row", |s| s.lines().any(|l| l.contains("▶ 25")));
    s.keys(&["Escape"]);
    let screen = s.wait_for("the exit", |s| exit_line(s).is_some());
    assert_eq!(exit_line(&screen), Some("EXIT=0 TTY=cooked"));
}

#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn a_bad_dataset_is_one_line_and_status_2() {
    let s = Session::spawn_with(
        "baddata",
        100,
        30,
        &["--data", &fixture("truncated.npy"), "--labels", &fixture("labels_i8.npy")],
    );
    let screen = s.wait_for("the exit", |s| exit_line(s).is_some());
    assert_eq!(exit_line(&screen), Some("EXIT=2 TTY=cooked"), "{}", framed(&screen));
    assert!(screen.contains("truncated.npy"), "{}", framed(&screen));
}

/// 20 000 keys (a digit then Backspace, 10 000 times) written at once,
/// then Ctrl+C: every byte is read, and Ctrl+C quits. crossterm's reader read
/// one chunk and then waited for a key that would wake it, with the rest
/// still queued. (No escape sequences: an `ESC` that ends a piece of the
/// burst the terminal is slow to follow is rightly the Esc key.)
#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn a_burst_of_keys_then_ctrl_c_quits() {
    let s = Session::start("burst_ctrl_c", 120, 40);
    let mut bytes = b"9\x7f".repeat(10_000);
    bytes.push(0x03);
    s.send_bytes("keys", &bytes);
    assert_eq!(s.wait_for_exit(), "EXIT=0 TTY=cooked");
}

/// A burst is read to its last key, with nothing typed after it.
#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn a_burst_of_keys_is_read_to_its_end() {
    let s = Session::start("burst_end", 120, 40);
    let mut bytes = b"9\x7f".repeat(10_000);
    bytes.extend_from_slice(b", 3");
    s.send_bytes("keys", &bytes);
    s.wait_for("FL 0.9822742 for logits 1.5, -0.8, 0.2, 3", |screen| {
        fl_value(screen) == Some("0.9822742") && field(screen, "Logits") == Some((true, "1.5, -0.8, 0.2, 3"))
    });
}

/// Writes a little-endian `.npy` of `shape` and `descr` holding `data`.
fn write_npy(path: &std::path::Path, descr: &str, shape: &[usize], data: &[u8]) {
    let shape = shape.iter().map(|n| format!("{n},")).collect::<String>();
    fs::write(path, common::npy_file(descr, false, &format!("({shape})"), data)).expect("write the .npy");
}

/// In the dataset view every change of γ re-sweeps every row. 2 000 such
/// keys queued, then Ctrl+C: it quits at once, without the sweeps (one
/// batch of keys is one re-sweep at most, and a batch that reaches Ctrl+C
/// quits before its other keys).
#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn ctrl_c_after_a_burst_of_resweeping_keys_quits_at_once() {
    const ROWS: usize = 500_000;
    const K: usize = 10;
    let dir = Scratch(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("resweep-{}", std::process::id())));
    fs::create_dir_all(&dir.0).expect("create the data directory");
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let logits: Vec<u8> = (0..ROWS * K)
        .flat_map(|_| ((rng.next() >> 40) as f32 / (1u64 << 24) as f32 * 8.0 - 4.0).to_le_bytes())
        .collect();
    let labels: Vec<u8> = (0..ROWS).flat_map(|i| ((i * 7 % K) as i64).to_le_bytes()).collect();
    let (z, y) = (dir.0.join("z.npy"), dir.0.join("y.npy"));
    write_npy(&z, "<f4", &[ROWS, K], &logits);
    write_npy(&y, "<i8", &[ROWS], &labels);
    let (z, y) = (z.to_str().expect("a UTF-8 path"), y.to_str().expect("a UTF-8 path"));
    let s = Session::spawn_with("resweep_burst", 100, 30, &["--data", z, "--labels", y]);
    s.wait_for("the dataset view", |screen| screen.contains("Dataset ·") && screen.contains("Esc quit"));
    let mut bytes = b"1\x7f".repeat(1_000);
    bytes.push(0x03);
    s.send_bytes("keys", &bytes);
    assert_eq!(s.wait_for_exit(), "EXIT=0 TTY=cooked");
}

/// A directory removed when the test ends, passed or failed.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A stray bracketed-paste start (`ESC [200~`) whose end never comes: what
/// follows is pasted once the terminal falls silent, and later keys are
/// keys again (Esc quits).
#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn a_stray_paste_start_does_not_swallow_later_keys() {
    let s = Session::start("stray_paste", 120, 40);
    s.keys(&["-H", "1b", "5b", "32", "30", "30", "7e"]);
    s.type_text(", 3");
    s.wait_for("FL 0.9822742 for logits 1.5, -0.8, 0.2, 3", |screen| {
        fl_value(screen) == Some("0.9822742") && field(screen, "Logits") == Some((true, "1.5, -0.8, 0.2, 3"))
    });
    s.keys(&["Escape"]);
    assert_eq!(s.wait_for_exit(), "EXIT=0 TTY=cooked");
}

/// Ctrl+C inside a paste that never ends quits at once.
#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn ctrl_c_quits_inside_a_stray_paste() {
    let s = Session::start("stray_paste_ctrl_c", 120, 40);
    s.keys(&["-H", "1b", "5b", "32", "30", "30", "7e"]);
    s.type_text("12");
    s.keys(&["C-c"]);
    assert_eq!(s.wait_for_exit(), "EXIT=0 TTY=cooked");
}

/// Alt+B, Alt+F and Alt+D as tmux sends them (`ESC b`): back a number,
/// forward a number, delete the number after the cursor.
#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
fn alt_b_f_d_move_and_delete_by_word() {
    let s = Session::start("alt_keys", 120, 40);
    s.keys(&["M-b", "M-b", "M-d"]);
    s.wait_for("0.8 deleted", |screen| field(screen, "Logits") == Some((true, "1.5, -0.2")));
    s.keys(&["Home", "M-f"]);
    s.type_text("9");
    s.wait_for("9 typed before 0.2", |screen| {
        field(screen, "Logits") == Some((true, "1.5, -90.2")) && !screen.contains("STALE")
    });
}

/// Every other signal whose default is to end the program: the terminal is
/// restored and the status is 128 + the signal. SIGABRT (an abort) is
/// handled in the signal handler itself.
#[test]
#[cfg_attr(no_tmux, ignore = "needs tmux (apt-get install tmux; then touch build.rs)")]
#[cfg(target_os = "linux")]
fn every_terminating_signal_restores_the_terminal() {
    for signal in [
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGPIPE,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGIO,
        libc::SIGPWR,
        libc::SIGSTKFLT,
        libc::SIGSYS,
        libc::SIGTRAP,
        libc::SIGABRT,
    ] {
        signal_ends_the_explorer(&format!("signal{signal}"), &signal.to_string(), 128 + signal as u8, false);
    }
}
