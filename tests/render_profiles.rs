//! The explorer's library profiles: F7 (or Ctrl+/) cycles them through the
//! real key table; the results pane says whose number it is in one line, the
//! steps pane shows the library's formula with the numbers; a sigmoid-only
//! library switches to sigmoid; what a library cannot compute keeps the last
//! result on screen and says why.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use focal_tui::app::{App, Body};
use focal_tui::example::Example;
use focal_tui::field::Field;
use focal_tui::loss::Mode;
use focal_tui::screen::Screen;
use focal_tui::theme::Look;
use focal_tui::ui;
use ratatui::backend::TestBackend;
use ratatui::layout::Size;

fn draw(app: &App, width: u16, height: u16) -> Screen<TestBackend> {
    let mut screen = Screen::new(TestBackend::new(width, height), Size::new(width, height)).unwrap();
    screen.draw(|buf| ui::view(buf, app)).unwrap();
    screen
}

fn press(app: &mut App, code: KeyCode, modifiers: KeyModifiers, times: usize) {
    app.handle_events((0..times).map(|_| Event::Key(KeyEvent::new(code, modifiers))));
}

fn f7(app: &mut App, times: usize) {
    press(app, KeyCode::F(7), KeyModifiers::NONE, times);
}

fn set(app: &mut App, field: Field, text: &str) {
    while app.focus != field {
        press(app, KeyCode::Tab, KeyModifiers::NONE, 1);
    }
    press(app, KeyCode::Char('u'), KeyModifiers::CONTROL, 1);
    app.handle_events(text.chars().map(|c| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))));
}

fn example(app: &App) -> &Example {
    let Body::Example(example) = &app.body else { panic!("the example view") };
    example
}

/// The app on target 0 (the measured example).
fn target_zero() -> App {
    let mut app = App::with_defaults(Look::default());
    set(&mut app, Field::Target, "0");
    app
}

#[test]
fn the_key_cycles_every_profile_and_back_to_the_paper() {
    let mut app = target_zero();
    let paper = example(&app).shown.result.clone();
    let mut seen = Vec::new();
    for _ in 0..7 {
        f7(&mut app, 1);
        seen.push(example(&app).profile);
    }
    assert_eq!(seen, ["torchvision", "kornia", "monai", "keras", "mmdet", "ultralytics", "paper"]);
    // Back on the paper's profile, in the mode before torchvision's switch.
    assert_eq!(example(&app).mode, Mode::Softmax);
    assert_eq!(example(&app).shown.result, paper);
    assert!(example(&app).shown.library.is_none());
    // The second keys: 0x1f as the decoder reads it, and kitty's `/`.
    press(&mut app, KeyCode::Char('7'), KeyModifiers::CONTROL, 1);
    assert_eq!(example(&app).profile, "torchvision");
    press(&mut app, KeyCode::Char('/'), KeyModifiers::CONTROL, 1);
    assert_eq!(example(&app).profile, "kornia");
}

#[test]
fn kornia_in_the_results_and_the_steps() {
    let mut app = target_zero();
    f7(&mut app, 2);
    let shown = &example(&app).shown;
    let (line, steps) = shown.library.as_ref().expect("a profile's note");
    assert!(
        line.starts_with("as kornia 0.9 computes it: FL = 0.01752388; class 0 gets 1 − α, every other class α"),
        "{line}"
    );
    assert!(steps[0].contains("α_t = 0.75 for class 0"), "{steps:?}");
    assert!(!app.stale);
    insta::assert_snapshot!("profile_kornia_80x24", draw(&app, 80, 24).backend());
    while example(&app).pane != focal_tui::example::Pane::Steps {
        press(&mut app, KeyCode::F(2), KeyModifiers::NONE, 1);
    }
    insta::assert_snapshot!("profile_kornia_steps_120x40", draw(&app, 120, 40).backend());
}

#[test]
fn monai_says_it_averages_over_the_classes() {
    let mut app = target_zero();
    f7(&mut app, 3);
    let (line, steps) = example(&app).shown.library.clone().unwrap();
    // α is the field's 0.25 here: MONAI's own default (none) is for `calc`.
    assert!(line.starts_with("as MONAI 1.6 computes it: FL = 0.005841295"), "{line}");
    assert!(steps[1].contains("mean over the K = 3 classes: 0.01752388 / 3 = 0.005841295"), "{steps:?}");
}

#[test]
fn a_sigmoid_only_library_switches_to_sigmoid_and_keeps_it() {
    let mut app = target_zero();
    f7(&mut app, 1);
    assert_eq!((example(&app).profile, example(&app).mode), ("torchvision", Mode::Sigmoid));
    assert!(app.status.as_deref().unwrap().contains("switched to sigmoid"), "{:?}", app.status);
    let (line, _) = example(&app).shown.library.clone().unwrap();
    assert!(line.starts_with("as torchvision 0.29 computes it: FL = 0.2093957"), "{line}");
    press(&mut app, KeyCode::F(3), KeyModifiers::NONE, 1);
    assert_eq!(example(&app).mode, Mode::Sigmoid);
    assert_eq!(app.status.as_deref(), Some("torchvision has only a sigmoid form"));
}

#[test]
fn what_a_library_cannot_compute_keeps_the_last_result() {
    let mut app = target_zero();
    f7(&mut app, 2);
    set(&mut app, Field::Smoothing, "0.1");
    assert!(app.stale);
    assert_eq!(app.status.as_deref(), Some("kornia 0.9 has no label smoothing"));
    let (line, _) = example(&app).shown.library.clone().unwrap();
    assert!(line.contains("FL = 0.01752388"), "{line}");
    draw(&app, 80, 24);
    set(&mut app, Field::Smoothing, "0");
    assert!(!app.stale);
}

/// The footer shows F7 where the whole footer fits with it (about 100
/// columns); at 80 it leaves F7 out before any other key.
#[test]
fn the_footer_shows_the_profile_key_where_it_fits() {
    let app = target_zero();
    let footer = |width: u16| {
        let screen = format!("{}", draw(&app, width, 30).backend());
        screen.lines().rev().find(|l| l.contains("Esc")).unwrap_or_default().to_string()
    };
    for width in [100, 120] {
        let line = footer(width);
        assert!(line.contains("F7/^/ profile") && line.contains("Tab field"), "{width}: {line}");
    }
    let line = footer(80);
    assert!(!line.contains("F7") && line.contains("F2/⇧→ pane"), "{line}");
}
