//! The explorer's state machine, driven by synthetic terminal events exactly
//! as the event loop delivers them. Expected losses: mpmath, 40 digits.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use focal_tui::app::{App, Body};
use focal_tui::example::{ChartView, Example, Pane};
use focal_tui::field::Field;
use focal_tui::loss::Mode;
use focal_tui::theme::Look;

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn typed(text: &str) -> Vec<Event> {
    text.chars().map(|c| key(KeyCode::Char(c))).collect()
}

fn app() -> App {
    App::with_defaults(Look::default())
}

/// The example view's state (these tests open no dataset).
fn example(app: &App) -> &Example {
    let Body::Example(example) = &app.body else { panic!("the example view") };
    example
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs()
}

#[test]
fn starts_on_logits_with_the_seeds_hard_example() {
    let app = app();
    assert_eq!(app.focus, Field::Logits);
    assert_eq!(app.input(Field::Logits).value(), "1.5, -0.8, 0.2");
    // mpmath: 0.56214296365219774037
    assert!(close(example(&app).shown.result.focal_loss, 0.562_142_963_652_197_7));
    assert!(!app.stale && !app.help && !app.quit);
}

#[test]
fn typing_recomputes_on_every_key() {
    let mut app = app();
    assert!(app.handle_events(typed(", 3")));
    assert_eq!(app.input(Field::Logits).value(), "1.5, -0.8, 0.2, 3");
    assert_eq!(example(&app).shown.params.logits, vec![1.5, -0.8, 0.2, 3.0]);
    // mpmath: [1.5, -0.8, 0.2, 3], target 1, γ 2, α 0.25 → 0.9822742144721698418
    assert!(close(example(&app).shown.result.focal_loss, 0.982_274_214_472_169_8));
    // One key at a time gives the same state as the burst.
    let mut slow = self::app();
    for e in typed(", 3") {
        slow.handle_events([e]);
    }
    assert_eq!(example(&slow).shown.result, example(&app).shown.result);
}

#[test]
fn editing_keys_reach_the_field() {
    let mut app = app();
    app.handle_events([key(KeyCode::Home), key(KeyCode::Delete), key(KeyCode::Delete), key(KeyCode::Delete)]);
    assert_eq!(app.input(Field::Logits).value(), ", -0.8, 0.2");
    app.handle_events([ctrl('u')]);
    assert_eq!(app.input(Field::Logits).value(), "");
    assert!(app.stale);
    assert_eq!(app.errors[0].as_ref().unwrap().message, "no logits: type at least one number, e.g. 1.5, -0.8, 0.2");
}

#[test]
fn focus_moves_with_tab_arrows_and_enter_and_wraps() {
    let mut app = app();
    app.handle_events([key(KeyCode::Tab)]);
    assert_eq!(app.focus, Field::Target);
    app.handle_events([key(KeyCode::Down), key(KeyCode::Enter)]);
    assert_eq!(app.focus, Field::Alpha);
    app.handle_events([key(KeyCode::Tab), key(KeyCode::Tab), key(KeyCode::Tab)]);
    assert_eq!(app.focus, Field::Logits);
    app.handle_events([Event::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT))]);
    assert_eq!(app.focus, Field::Gammas);
    app.handle_events([key(KeyCode::Up)]);
    assert_eq!(app.focus, Field::Smoothing);
    app.handle_events([key(KeyCode::Up)]);
    assert_eq!(app.focus, Field::Alpha);
}

#[test]
fn invalid_input_keeps_the_last_result_and_names_the_token() {
    let mut app = app();
    let before = example(&app).shown.result.clone();
    app.handle_events(typed(", x"));
    assert!(app.stale);
    let err = app.errors[Field::Logits.index()].as_ref().unwrap();
    assert_eq!(err.message, "`x` at column 17 is not a number");
    assert_eq!(example(&app).shown.result, before, "the last valid result stays on screen");
    app.handle_events([key(KeyCode::Backspace)]);
    app.handle_events(typed("3"));
    assert!(!app.stale);
    assert!(app.errors.iter().all(Option::is_none));
    assert!(close(example(&app).shown.result.focal_loss, 0.982_274_214_472_169_8));
}

#[test]
fn target_is_checked_against_the_number_of_logits() {
    let mut app = app();
    app.handle_events([key(KeyCode::Tab), key(KeyCode::Backspace)]);
    app.handle_events(typed("3"));
    assert_eq!(app.errors[1].as_ref().unwrap().message, "class 3 does not exist: 3 logits give classes 0..2");
    // Adding a fourth logit makes class 3 valid without touching the target field.
    app.handle_events([key(KeyCode::BackTab)]);
    app.handle_events(typed(" 9"));
    assert!(!app.stale);
    assert_eq!(example(&app).shown.params.target, 3);
}

#[test]
fn gamma_edits_change_the_loss_and_the_chart() {
    let mut app = app();
    app.handle_events([key(KeyCode::Tab), key(KeyCode::Tab), key(KeyCode::Backspace)]);
    app.handle_events(typed("3"));
    // mpmath: [1.5, -0.8, 0.2], target 1, γ 3, α 0.25 → 0.52108804818757302413
    assert!(close(example(&app).shown.result.focal_loss, 0.521_088_048_187_573));
    let current: Vec<f64> = example(&app).shown.curves.iter().filter(|c| c.current).map(|c| c.gamma).collect();
    assert_eq!(current, vec![3.0], "γ = 3 is not in the list, so it is added and emphasised");
    assert_eq!(example(&app).shown.curves.len(), 6);
}

#[test]
fn a_bad_gamma_list_freezes_only_the_chart() {
    let mut app = app();
    app.handle_events([key(KeyCode::Up)]);
    assert_eq!(app.focus, Field::Gammas);
    app.handle_events(typed(", -1"));
    assert!(app.errors[Field::Gammas.index()].is_some());
    assert!(!app.stale, "the numbers are still current");
    assert_eq!(example(&app).shown.curves.len(), 5);
}

#[test]
fn bracketed_paste_inserts_at_the_cursor_and_flattens_lines() {
    let mut app = app();
    app.handle_events([ctrl('u'), Event::Paste("[1,\n 2,\t3]\r\n".into())]);
    assert_eq!(app.input(Field::Logits).value(), "[1,  2, 3]  ");
    assert_eq!(example(&app).shown.params.logits, vec![1.0, 2.0, 3.0]);
    // mpmath: [1, 2, 3], target 1, γ 2, α 0.25 → 0.20073695609103563433
    assert!(close(example(&app).shown.result.focal_loss, 0.200_736_956_091_035_63));
    // In the middle of the text.
    app.handle_events([key(KeyCode::Home), key(KeyCode::Right), Event::Paste("0, ".into())]);
    assert_eq!(app.input(Field::Logits).value(), "[0, 1,  2, 3]  ");
    assert_eq!(app.input(Field::Logits).cursor(), 4);
}

#[test]
fn ten_thousand_pasted_logits_as_a_key_burst() {
    let mut app = app();
    let text: String = (0..10_000).map(|i| format!("{}, ", (i % 13) as f64 / 4.0)).collect();
    let mut events = vec![ctrl('u')];
    events.extend(typed(&text));
    app.handle_events(events);
    assert_eq!(example(&app).shown.params.logits.len(), 10_000);
    assert!(!app.stale);
    assert_eq!(example(&app).shown.classes.len() + example(&app).shown.hidden_classes, 10_000);
}

#[test]
fn help_opens_closes_and_swallows_typing() {
    let mut app = app();
    app.handle_events(typed("?"));
    assert!(app.help);
    app.handle_events(typed("12"));
    assert_eq!(app.input(Field::Logits).value(), "1.5, -0.8, 0.2", "typing under the help edits nothing");
    app.handle_events([key(KeyCode::Esc)]);
    assert!(!app.help && !app.quit);
    app.handle_events([key(KeyCode::F(1))]);
    assert!(app.help);
    app.handle_events([key(KeyCode::F(1))]);
    assert!(!app.help);
    app.handle_events([key(KeyCode::Esc)]);
    assert!(app.quit, "Esc with no overlay quits");
}

#[test]
fn ctrl_c_quits_even_under_the_help() {
    let mut app = app();
    app.handle_events([key(KeyCode::F(1)), ctrl('c')]);
    assert!(app.quit);
}

#[test]
fn ctrl_r_resets_everything_typed() {
    let mut app = app();
    app.handle_events(typed(", x"));
    app.handle_events([key(KeyCode::Tab), key(KeyCode::Tab), ctrl('u')]);
    app.handle_events(typed("0"));
    app.handle_events([ctrl('r')]);
    assert_eq!(app.focus, Field::Logits);
    assert!(!app.stale);
    for f in Field::ALL {
        assert_eq!(app.input(f).value(), f.default_text());
    }
    assert!(close(example(&app).shown.result.focal_loss, 0.562_142_963_652_197_7));
}

#[test]
fn f2_cycles_the_panes_of_the_layout_in_use() {
    let mut app = app();
    assert_eq!(example(&app).pane, Pane::Chart);
    let mut seen = vec![];
    for _ in 0..5 {
        app.handle_events([key(KeyCode::F(2))]);
        seen.push(example(&app).pane);
    }
    assert_eq!(seen, [Pane::Table, Pane::Classes, Pane::Steps, Pane::Lens, Pane::Chart]);
    // The wide layout shows the chart and classes already: F2 picks the bottom pane.
    app.handle_events([Event::Resize(120, 40)]);
    assert!(app.wide);
    let mut seen = vec![];
    for _ in 0..3 {
        app.handle_events([key(KeyCode::F(2))]);
        seen.push(example(&app).pane);
    }
    assert_eq!(seen, [Pane::Table, Pane::Steps, Pane::Lens]);
}

#[test]
fn the_lens_is_computed_only_while_shown() {
    let mut app = app();
    assert!(example(&app).shown.lens.is_none());
    app.handle_events((0..4).map(|_| key(KeyCode::F(2))));
    assert_eq!(example(&app).pane, Pane::Lens);
    let lens = example(&app).shown.lens.as_ref().expect("the lens pane computes it");
    assert_eq!(lens.len(), 3);
    // Still there after an edit, for the new input.
    app.handle_events(typed(", 12"));
    let f16 = &example(&app).shown.lens.as_ref().unwrap()[1];
    assert!(f16.focal_loss.is_nan() || f16.focal_loss.is_infinite(), "fp16 exp(12) overflows: {f16:?}");
}

#[test]
fn f3_switches_to_sigmoid_and_checks_alpha_again() {
    let mut app = app();
    app.handle_events([key(KeyCode::F(3))]);
    assert_eq!(example(&app).mode, Mode::Sigmoid);
    assert_eq!(example(&app).shown.result.mode, Mode::Sigmoid);
    // mpmath: sigmoid FL of [1.5, -0.8, 0.2], target 1, γ 2, α 0.25 = 1.173302648885180182515875
    assert!(close(example(&app).shown.result.focal_loss, 1.173_302_648_885_18));
    // α > 1 is fine for softmax but not for sigmoid (negatives get 1 − α).
    app.handle_events([key(KeyCode::Up), key(KeyCode::Up), key(KeyCode::Up), ctrl('u')]);
    app.handle_events(typed("2"));
    assert!(app.stale && app.errors[Field::Alpha.index()].is_some());
    app.handle_events([key(KeyCode::F(3))]);
    assert_eq!(example(&app).mode, Mode::Softmax);
    assert!(!app.stale, "α = 2 is valid in softmax mode");
}

#[test]
fn f5_cycles_presets_and_names_their_source() {
    let mut app = app();
    app.handle_events([key(KeyCode::F(5))]);
    assert_eq!(app.input(Field::Logits).value(), "-1, 3, -0.5");
    // mpmath: 2.5353610976403687625e-5 (the seed says 2.4885e-5).
    assert!(close(example(&app).shown.result.focal_loss, 2.535_361_097_640_369e-5));
    assert!(app.status.as_deref().unwrap().contains("worked example 1"));
    for _ in 0..6 {
        app.handle_events([key(KeyCode::F(5))]);
    }
    // The 7th preset: Table 1b's γ 0.5 with its best α 0.5.
    assert_eq!((app.input(Field::Gamma).value(), app.input(Field::Alpha).value()), ("0.5", "0.5"));
    assert!(app.status.as_deref().unwrap().contains("Table 1b"));
    app.handle_events(typed("1"));
    assert_eq!(app.status, None, "the next key clears the status");
}

#[test]
fn f6_hands_the_report_to_the_terminal_loop_once() {
    let mut app = app();
    app.handle_events([key(KeyCode::F(6))]);
    let text = app.take_clipboard().expect("a copy was asked for");
    assert!(text.contains("focal loss FL     0.562143"), "{text}");
    assert!(text.contains("FL (α=0.25, γ=2)"), "the seed's table row is included");
    assert_eq!(app.take_clipboard(), None);
    let status = app.status.clone().unwrap();
    assert!(status.contains("sent to the terminal clipboard (OSC 52)") && !status.contains("copied"));
}

#[test]
fn f4_cycles_the_chart() {
    let mut app = app();
    assert_eq!(example(&app).chart, ChartView::Fl);
    app.handle_events([key(KeyCode::F(4))]);
    assert_eq!(example(&app).chart, ChartView::FlLog);
    app.handle_events([key(KeyCode::F(4))]);
    assert_eq!(example(&app).chart, ChartView::Factor);
    app.handle_events([key(KeyCode::F(4))]);
    assert_eq!(example(&app).chart, ChartView::Fl);
}

#[test]
fn key_releases_and_unbound_keys_change_nothing() {
    let mut app = app();
    let mut release = KeyEvent::new(KeyCode::Char('7'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    assert!(!app.handle_events([Event::Key(release)]));
    assert!(!app.handle_events([key(KeyCode::F(9))]));
    assert_eq!(app.input(Field::Logits).value(), "1.5, -0.8, 0.2");
    assert!(app.handle_events([Event::Resize(100, 30)]), "a resize redraws");
}

#[test]
fn edits_that_reuse_the_softmax_give_a_fresh_result() {
    use focal_tui::loss::{Alpha, softmax_focal};
    let mut app = app();
    // Target, γ and α edits reuse the logits' softmax; compare with a fresh computation.
    app.handle_events([key(KeyCode::Tab), key(KeyCode::Backspace)]);
    app.handle_events(typed("2"));
    app.handle_events([key(KeyCode::Tab), key(KeyCode::Backspace)]);
    app.handle_events(typed("0.5"));
    app.handle_events([key(KeyCode::Tab), ctrl('u')]);
    app.handle_events(typed("1 2 3"));
    let fresh = softmax_focal(&[1.5, -0.8, 0.2], 2, 0.5, &Alpha::PerClass(vec![1.0, 2.0, 3.0]));
    assert_eq!(example(&app).shown.result, fresh);
}

/// Backspace and Delete give what tui-input itself gives, in ASCII text (which
/// the explorer edits itself) and in other text (which tui-input edits).
#[test]
fn deleting_matches_tui_input() {
    use tui_input::{Input, InputRequest};
    for text in ["1.5, -0.8, 0.2", "7", "", "1.5 α 2 β"] {
        let chars = text.chars().count();
        for lefts in [0, 1, 3, chars] {
            for (code, request) in
                [(KeyCode::Backspace, InputRequest::DeletePrevChar), (KeyCode::Delete, InputRequest::DeleteNextChar)]
            {
                let mut app = app();
                app.handle_events([ctrl('u')]);
                app.handle_events([Event::Paste(text.to_string())]);
                app.handle_events((0..lefts).map(|_| key(KeyCode::Left)));
                app.handle_events([key(code)]);
                let mut want = Input::new(text.to_string());
                for _ in 0..lefts {
                    want.handle(InputRequest::GoToPrevChar);
                }
                want.handle(request);
                let got = app.input(Field::Logits);
                assert_eq!((got.value(), got.cursor()), (want.value(), want.cursor()), "{text:?} {lefts} {code:?}");
            }
        }
    }
}

/// Typing and deleting in the logits (which re-parses only what the edit
/// touched, patches the shown logits and reuses the result's buffers),
/// through invalid states and back, always shows what a fresh parse and a
/// fresh computation of the field's text give.
#[test]
fn logit_edits_give_a_fresh_result() {
    use focal_tui::loss::{Alpha, softmax_focal};
    let mut app = app();
    let steps: [&[Event]; 9] = [
        &typed(" 4"),
        &[key(KeyCode::Home)],
        &typed("3 "),
        &[key(KeyCode::Right), key(KeyCode::Right), key(KeyCode::Delete)],
        &typed("x"),
        &[key(KeyCode::Backspace)],
        &typed(","),
        &[key(KeyCode::End), key(KeyCode::Backspace), key(KeyCode::Backspace)],
        &typed("-12"),
    ];
    for events in steps {
        for event in events {
            app.handle_events([event.clone()]);
            let text = app.input(Field::Logits).value().to_string();
            let Ok(logits) = focal_tui::parse::logits(&text) else {
                assert!(app.stale, "{text}");
                continue;
            };
            assert!(!app.stale, "{text}");
            assert_eq!(example(&app).shown.params.logits, logits, "{text}");
            assert_eq!(example(&app).shown.result, softmax_focal(&logits, 1, 2.0, &Alpha::Scalar(0.25)), "{text}");
        }
    }
}

fn alt(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT))
}

/// Alt+B/F/D as terminals send them (`ESC b`, read as Alt): back a word,
/// forward a word, delete the word after the cursor (readline's meanings).
#[test]
fn alt_b_f_d_move_and_delete_by_word() {
    let mut app = app();
    app.handle_events([alt('b')]);
    assert_eq!(app.input(Field::Logits).cursor(), 11, "Alt+B from the end goes to the last number");
    // tui-input's words (Unicode word boundaries): each number is one; a
    // deletion takes the separators after it too.
    app.handle_events([alt('b'), alt('d')]);
    assert_eq!(app.input(Field::Logits).value(), "1.5, -0.2");
    assert_eq!(example(&app).shown.params.logits, vec![1.5, -0.2]);
    app.handle_events([key(KeyCode::Home), alt('f')]);
    assert_eq!(app.input(Field::Logits).cursor(), 6, "Alt+F goes to the next number");
}

/// A batch that reaches a quit quits before doing anything else: the keys
/// before it (here an edit that would recompute) are not carried out.
#[test]
fn a_batch_ending_in_ctrl_c_quits_without_its_edits() {
    let mut app = app();
    let mut batch = typed(", 3");
    batch.extend([key(KeyCode::Backspace), key(KeyCode::Tab), ctrl('c'), key(KeyCode::Char('9'))]);
    assert!(app.handle_events(batch));
    assert!(app.quit);
    assert_eq!(app.input(Field::Logits).value(), "1.5, -0.8, 0.2");
    assert_eq!(app.focus, Field::Logits);
}

/// Esc closes the help, and only a second Esc quits, within one batch too.
#[test]
fn esc_in_a_batch_follows_the_help() {
    let mut app = app();
    app.handle_events([key(KeyCode::Char('?')), key(KeyCode::Esc)]);
    assert!(!app.help && !app.quit);
    app.handle_events([key(KeyCode::Char('?')), key(KeyCode::Esc), key(KeyCode::Esc)]);
    assert!(app.quit);
    let mut app = self::app();
    app.handle_events([key(KeyCode::F(1)), ctrl('c')]);
    assert!(app.quit);
}

/// Edits in one batch are parsed once, at the end (or before a command),
/// with the state that one edit per batch gives.
#[test]
fn a_batch_of_edits_gives_the_state_of_one_edit_at_a_time() {
    let mut batch = vec![key(KeyCode::Backspace), key(KeyCode::Backspace)];
    batch.extend(typed("7, 4"));
    batch.extend([key(KeyCode::Home), key(KeyCode::Delete), key(KeyCode::Delete), key(KeyCode::Delete)]);
    batch.extend(typed("2.5"));
    batch.extend([key(KeyCode::End), key(KeyCode::Left), key(KeyCode::Backspace), key(KeyCode::Tab), ctrl('u')]);
    batch.extend(typed("0"));
    batch.extend([key(KeyCode::BackTab), key(KeyCode::End), ctrl('w')]);
    let mut burst = app();
    burst.handle_events(batch.clone());
    let mut slow = app();
    for event in batch {
        slow.handle_events([event]);
    }
    for field in Field::ALL {
        assert_eq!(burst.input(field).value(), slow.input(field).value());
    }
    assert_eq!(burst.input(Field::Logits).value(), "2.5, -0.8, ");
    assert_eq!(
        (example(&burst).shown.params.logits.as_slice(), example(&burst).shown.params.target.class()),
        (&[2.5, -0.8][..], Some(0))
    );
    assert_eq!(example(&burst).shown.params, example(&slow).shown.params);
    assert_eq!(example(&burst).shown.result, example(&slow).shown.result);
    assert_eq!(burst.errors, slow.errors);
    assert_eq!(burst.focus, Field::Logits);
}
