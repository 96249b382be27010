//! The explorer with targets other than a class index: the RetinaNet
//! background anchor and the multi-label presets, soft targets typed as
//! `p: …`, label smoothing; snapshots of the panes that follow them.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use focal_tui::app::{App, Body};
use focal_tui::field::Field;
use focal_tui::loss::{Mode, Target};
use focal_tui::presets::PRESETS;
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

fn press(app: &mut App, code: KeyCode, times: usize) {
    app.handle_events((0..times).map(|_| Event::Key(KeyEvent::new(code, KeyModifiers::NONE))));
}

fn typed(app: &mut App, text: &str) {
    app.handle_events(text.chars().map(|c| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))));
}

/// Focus `field` and replace its text.
fn set(app: &mut App, field: Field, text: &str) {
    while app.focus != field {
        press(app, KeyCode::Tab, 1);
    }
    app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL))]);
    typed(app, text);
}

fn example(app: &App) -> &focal_tui::example::Example {
    match &app.body {
        Body::Example(e) => e,
        Body::Dataset(_) => panic!("example view"),
    }
}

/// The app on the preset named `name`.
fn preset(name: &str) -> App {
    let mut app = App::with_defaults(Look::default());
    let at = PRESETS.iter().position(|p| p.name.starts_with(name)).expect("the preset exists");
    press(&mut app, KeyCode::F(5), at + 1);
    app
}

#[test]
fn presets_reach_the_background_anchor_and_multi_label() {
    let app = preset("RetinaNet background anchor");
    let shown = &example(&app).shown;
    assert_eq!((shown.params.mode, &shown.params.target), (Mode::Sigmoid, &Target::Background));
    assert!(!app.stale);
    // Every class a negative near the prior: a tiny loss, far below CE.
    assert!(shown.result.focal_loss < 1e-4 * shown.result.cross_entropy);
    assert!(shown.class_points.iter().all(|c| !c.positive) && shown.class_points.len() == 8);
    let app = preset("multi-label");
    let shown = &example(&app).shown;
    assert_eq!(shown.params.target, Target::Classes(vec![0, 2]));
    assert_eq!(shown.class_points.iter().filter(|c| c.positive).count(), 2);
}

#[test]
fn every_target_form_draws_in_every_pane() {
    for (name, mut app) in
        [("background", preset("RetinaNet background anchor")), ("multilabel", preset("multi-label"))]
    {
        insta::assert_snapshot!(format!("targets_{name}_80x24"), draw(&app, 80, 24).backend());
        insta::assert_snapshot!(format!("targets_{name}_120x40"), draw(&app, 120, 40).backend());
        press(&mut app, KeyCode::F(2), 2);
        insta::assert_snapshot!(format!("targets_{name}_classes_80x24"), draw(&app, 80, 24).backend());
    }
    let mut app = App::with_defaults(Look::default());
    set(&mut app, Field::Target, "p: 0.2, 0.5, 0.3");
    set(&mut app, Field::Smoothing, "0.1");
    assert!(!app.stale);
    assert_eq!(example(&app).shown.params.label_smoothing, 0.1);
    press(&mut app, KeyCode::F(2), 3);
    insta::assert_snapshot!("targets_soft_steps_80x24", draw(&app, 80, 24).backend());
    press(&mut app, KeyCode::F(2), 3);
    insta::assert_snapshot!("targets_soft_table_80x24", draw(&app, 80, 24).backend());
    for (w, h) in [(80, 24), (120, 40), (60, 16), (20, 5)] {
        draw(&app, w, h);
    }
}

#[test]
fn bad_targets_name_the_field_and_keep_the_last_result() {
    let mut app = App::with_defaults(Look::default());
    let before = example(&app).shown.result.focal_loss;
    for (field, text, message) in [
        (Field::Target, "none", "`none` (background) is for sigmoid mode"),
        (Field::Target, "0, 1", "several positives are multi-label, sigmoid mode only"),
        (Field::Target, "p: 0.5 0.6 0", "target probabilities sum to 1.1"),
        (Field::Smoothing, "1", "ε = 1 is outside [0, 1)"),
    ] {
        set(&mut app, field, text);
        assert!(app.stale, "{text}");
        let error = app.errors[field.index()].as_ref().expect("an error under the field");
        assert!(error.message.contains(message), "{}", error.message);
        assert_eq!(example(&app).shown.result.focal_loss, before);
        draw(&app, 80, 24);
        set(&mut app, field, if field == Field::Target { "1" } else { "0" });
        assert!(!app.stale);
    }
    // F3 to sigmoid makes `none` valid; back to softmax makes it an error again.
    set(&mut app, Field::Target, "none");
    press(&mut app, KeyCode::F(3), 1);
    assert!(!app.stale);
    press(&mut app, KeyCode::F(3), 1);
    assert!(app.stale && app.errors[Field::Target.index()].is_some());
}
