//! What the screen shows, drawn by the real `ui::view` into ratatui's
//! TestBackend: insta snapshots of the layouts, no panic at any size, and
//! no colour at all in monochrome mode.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use focal_tui::app::App;
use focal_tui::screen::Screen;
use focal_tui::theme::Look;
use focal_tui::ui;
use ratatui::backend::TestBackend;
use ratatui::layout::Size;
use ratatui::style::{Color, Modifier};
use ratatui::symbols::Marker;

fn draw(app: &App, width: u16, height: u16) -> Screen<TestBackend> {
    let mut screen = Screen::new(TestBackend::new(width, height), Size::new(width, height)).unwrap();
    screen.draw(|buf| ui::view(buf, app)).unwrap();
    screen
}

fn keys(app: &mut App, text: &str) {
    app.handle_events(text.chars().map(|c| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))));
}

fn invalid() -> App {
    let mut app = App::with_defaults(Look::default());
    keys(&mut app, ", 1e999");
    app
}

fn help() -> App {
    let mut app = App::with_defaults(Look::default());
    keys(&mut app, "?");
    app
}

#[test]
fn snapshots() {
    let cases: [(&str, App); 3] =
        [("default", App::with_defaults(Look::default())), ("invalid", invalid()), ("help", help())];
    for (name, app) in &cases {
        for (w, h) in [(80, 24), (120, 40)] {
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(app, w, h).backend());
        }
    }
}

/// The depth panes: the precision lens, sigmoid mode, the steps and the log
/// chart, at both sizes.
#[test]
fn depth_snapshots() {
    let press = |app: &mut App, code: KeyCode, times: usize| {
        app.handle_events((0..times).map(|_| Event::Key(KeyEvent::new(code, KeyModifiers::NONE))));
    };
    for (w, h) in [(80, 24), (120, 40)] {
        let wide = w >= 120;
        let mut lens = App::with_defaults(Look::default());
        lens.handle_events([Event::Resize(w, h)]);
        keys(&mut lens, ", 12");
        press(&mut lens, KeyCode::F(2), if wide { 3 } else { 4 });
        insta::assert_snapshot!(format!("lens_{w}x{h}"), draw(&lens, w, h).backend());

        let mut sigmoid = App::with_defaults(Look::default());
        press(&mut sigmoid, KeyCode::F(3), 1);
        insta::assert_snapshot!(format!("sigmoid_{w}x{h}"), draw(&sigmoid, w, h).backend());

        let mut steps = App::with_defaults(Look::default());
        steps.handle_events([Event::Resize(w, h)]);
        press(&mut steps, KeyCode::F(2), if wide { 2 } else { 3 });
        insta::assert_snapshot!(format!("steps_{w}x{h}"), draw(&steps, w, h).backend());

        let mut log = App::with_defaults(Look::default());
        press(&mut log, KeyCode::F(4), 1);
        insta::assert_snapshot!(format!("log_chart_{w}x{h}"), draw(&log, w, h).backend());
    }
}

#[test]
fn lower_panes_of_the_standard_layout() {
    let mut app = App::with_defaults(Look::default());
    for pane in ["table", "classes"] {
        app.handle_events([Event::Key(KeyEvent::new(KeyCode::F(2), KeyModifiers::NONE))]);
        insta::assert_snapshot!(format!("pane_{pane}_80x24"), draw(&app, 80, 24).backend());
    }
}

#[test]
fn thousands_of_classes_list_the_target_and_the_top() {
    let mut app = App::with_defaults(Look::default());
    let logits: String = (0..5000).map(|i| format!("{} ", (i * 37 % 101) as f64 / 10.0)).collect();
    app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)), Event::Paste(logits)]);
    let screen = format!("{}", draw(&app, 120, 40).backend());
    assert!(screen.contains("→1 "), "the target is listed:\n{screen}");
    assert!(screen.contains("more"), "the rest is counted:\n{screen}");
}

#[test]
fn the_chart_legend_is_visible_in_both_layouts() {
    let app = App::with_defaults(Look::default());
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = format!("{}", draw(&app, w, h).backend());
        for name in ["γ=0 ", "γ=0.5", "γ=1 ", "γ=2 ◀", "γ=5", "now"] {
            assert!(screen.contains(name), "{w}×{h}: legend entry {name:?} missing:\n{screen}");
        }
    }
}

#[test]
fn tiny_sizes_show_the_loss_and_never_panic() {
    let app = invalid();
    for w in 0..=70 {
        for h in 0..=18 {
            draw(&app, w, h);
        }
    }
    let mut help = help();
    keys(&mut help, "");
    for (w, h) in [(1, 1), (2, 1), (59, 15), (60, 16), (119, 31), (120, 32), (300, 80)] {
        draw(&help, w, h);
    }
    let screen = format!("{}", draw(&App::with_defaults(Look::default()), 40, 10).backend());
    assert!(screen.contains("FL = 0.562143"), "{screen}");
}

#[test]
fn monochrome_has_no_colour_on_any_cell() {
    let mono = || App::with_defaults(Look::new(true, Marker::Braille, true));
    let mut invalid = mono();
    keys(&mut invalid, "x");
    let mut help = mono();
    keys(&mut help, "?");
    let mut lens = mono();
    lens.handle_events((0..4).map(|_| Event::Key(KeyEvent::new(KeyCode::F(2), KeyModifiers::NONE))));
    for (app, focus_visible) in [(mono(), true), (invalid, true), (lens, true), (help, false)] {
        for (w, h) in [(80, 24), (120, 40)] {
            let t = draw(&app, w, h);
            let buffer = t.backend().buffer();
            assert!(buffer.content().iter().all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
            // Meaning is kept: the focused field label is reversed.
            if focus_visible {
                assert!(buffer.content().iter().any(|c| c.modifier.contains(Modifier::REVERSED)));
            }
        }
    }
}

#[test]
fn ascii_look_draws_only_ascii_in_the_chart_and_bars() {
    let mut app = App::with_defaults(Look::new(false, Marker::Custom('*'), false));
    let t = draw(&app, 120, 40);
    let screen = format!("{}", t.backend());
    assert!(!screen.contains('⣀') && !screen.contains('█') && !screen.contains('●'));
    assert!(screen.contains('*') && screen.contains('#'));
    keys(&mut app, "");
}

/// Over a slow SSH link every byte counts: frames are diffed, so a
/// one-digit edit must send only the cells it changes. Measured with the real
/// crossterm backend writing into memory (deterministic, not a timing).
#[test]
fn a_one_digit_edit_sends_few_bytes() {
    use std::cell::Cell;
    use std::io::Write;
    use std::rc::Rc;

    use ratatui::backend::CrosstermBackend;

    struct Count(Rc<Cell<usize>>);
    impl Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.set(self.0.get() + buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    for (w, h) in [(80, 24), (120, 40)] {
        let mut app = App::with_defaults(Look::default());
        let written = Rc::new(Cell::new(0));
        let mut t = Screen::new(CrosstermBackend::new(Count(written.clone())), Size::new(w, h)).unwrap();
        // Type one digit at the end of the logits, "0.2" → "0.25": FL, every
        // number of the summary, the table row and the chart's point change.
        t.draw(|buf| ui::view(buf, &app)).unwrap();
        let first = written.get();
        keys(&mut app, "5");
        t.draw(|buf| ui::view(buf, &app)).unwrap();
        let edit = written.get() - first;
        println!("{w}×{h}: first frame {first} bytes, one-digit edit {edit} bytes");
        assert!(first > 2000, "the first frame paints everything");
        assert!(edit <= 512, "{w}×{h}: a one-digit edit wrote {edit} bytes");
        // Nothing changes, nothing is sent but the cursor.
        t.draw(|buf| ui::view(buf, &app)).unwrap();
        let idle = written.get() - first - edit;
        assert!(idle <= 32, "{w}×{h}: an unchanged frame wrote {idle} bytes");
    }
}

/// The help is longer than 80 × 24: it says so, and scrolled to its end it
/// shows the last lines (the target spellings) and says what is above.
#[test]
fn the_help_scrolls_to_its_end_on_a_small_screen() {
    let mut app = App::with_defaults(Look::default());
    app.handle_events([Event::Resize(80, 24)]);
    keys(&mut app, "?");
    let top = format!("{:?}", draw(&app, 80, 24).backend());
    assert!(top.contains("↑↓ PgUp/Dn scroll") && top.contains("↓ more"), "{top}");
    app.handle_events([Event::Key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE))]);
    insta::assert_snapshot!("help_end_80x24", draw(&app, 80, 24).backend());
}
