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
    assert!(example(&app).shown.lens.is_none() && example(&app).shown.amp.is_none());
    app.handle_events([key(KeyCode::F(2))]);
    app.handle_events(typed("0"));
    assert!(example(&app).shown.amp.is_none(), "an edit elsewhere computes no AMP lens");
    app.handle_events((0..3).map(|_| key(KeyCode::F(2))));
    assert_eq!(example(&app).pane, Pane::Lens);
    let lens = example(&app).shown.lens.as_ref().expect("the lens pane computes it");
    assert_eq!(lens.len(), 3);
    let (_, runs) = example(&app).shown.amp.as_ref().expect("and the AMP lens").as_ref().unwrap();
    assert_eq!(runs.len(), 2);
    // F7 to kornia: the AMP lens is the library's, computed again.
    app.handle_events([key(KeyCode::F(7)), key(KeyCode::F(7))]);
    assert_eq!(example(&app).profile, "kornia");
    let (formula, _) = example(&app).shown.amp.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(*formula, focal_tui::lens::amp::Formula::Kornia);
    app.handle_events((0..2).map(|_| key(KeyCode::F(7))));
    assert_eq!(example(&app).profile, "keras");
    let why = example(&app).shown.amp.as_ref().unwrap().as_ref().unwrap_err();
    assert_eq!(why, "Keras is not PyTorch: torch.autocast does not apply");
    app.handle_events((0..3).map(|_| key(KeyCode::F(7))));
    assert_eq!(example(&app).profile, "paper");
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

fn with(code: KeyCode, modifiers: KeyModifiers) -> Event {
    Event::Key(KeyEvent::new(code, modifiers))
}

fn alt_key(code: KeyCode) -> Event {
    with(code, KeyModifiers::ALT)
}

/// The focal loss the explorer shows for the defaults with one field typed.
fn fl_with(field: Field, text: &str) -> f64 {
    let mut app = app();
    while app.focus != field {
        app.handle_events([key(KeyCode::Tab)]);
    }
    app.handle_events([ctrl('u')]);
    app.handle_events(typed(text));
    example(&app).shown.result.focal_loss
}

/// γ 2 → Alt+↑ 2.1 → PgUp 3.1 → PgDn, Alt+↓ back to 2; Ctrl+↑ (what VS
/// Code sends for Alt+↑) steps too. The result follows every step.
#[test]
fn alt_arrows_and_page_keys_nudge_gamma() {
    let mut app = app();
    app.handle_events([key(KeyCode::Tab), key(KeyCode::Tab)]);
    assert_eq!(app.focus, Field::Gamma);
    app.handle_events([alt_key(KeyCode::Up)]);
    assert_eq!(app.input(Field::Gamma).value(), "2.1");
    assert_eq!(example(&app).shown.params.gamma, 2.1);
    assert_eq!(example(&app).shown.result.focal_loss, fl_with(Field::Gamma, "2.1"));
    app.handle_events([key(KeyCode::PageUp)]);
    assert_eq!(app.input(Field::Gamma).value(), "3.1");
    assert_eq!(example(&app).shown.params.gamma, 3.1);
    assert_eq!(example(&app).shown.result.focal_loss, fl_with(Field::Gamma, "3.1"));
    assert!(example(&app).shown.curves.iter().any(|c| c.current && c.gamma == 3.1));
    app.handle_events([key(KeyCode::PageDown), alt_key(KeyCode::Down)]);
    assert_eq!(app.input(Field::Gamma).value(), "2");
    app.handle_events([with(KeyCode::Up, KeyModifiers::CONTROL)]);
    assert_eq!(app.input(Field::Gamma).value(), "2.1");
    // Down to 0 and no further.
    app.handle_events([key(KeyCode::PageDown), key(KeyCode::PageDown), key(KeyCode::PageDown)]);
    assert_eq!(app.input(Field::Gamma).value(), "0");
    assert!(!app.stale);
}

#[test]
fn nudges_keep_alpha_and_the_target_in_range_and_skip_the_gamma_list() {
    let mut app = app();
    app.handle_events([key(KeyCode::Tab)]);
    app.handle_events([key(KeyCode::PageUp)]);
    assert_eq!(app.input(Field::Target).value(), "2");
    assert_eq!(example(&app).shown.params.target.class(), Some(2));
    app.handle_events([alt_key(KeyCode::Down), alt_key(KeyCode::Down), alt_key(KeyCode::Down)]);
    assert_eq!(app.input(Field::Target).value(), "0");
    app.handle_events([key(KeyCode::Tab), key(KeyCode::Tab), alt_key(KeyCode::Up)]);
    assert_eq!(app.input(Field::Alpha).value(), "0.3");
    app.handle_events([key(KeyCode::PageUp), key(KeyCode::PageUp)]);
    assert_eq!(app.input(Field::Alpha).value(), "1.3");
    // Sigmoid mode: α in [0, 1].
    app.handle_events([key(KeyCode::F(3)), ctrl('u')]);
    app.handle_events(typed("0.9"));
    app.handle_events([key(KeyCode::PageUp)]);
    assert_eq!(app.input(Field::Alpha).value(), "1");
    assert!(!app.stale);
    // torchvision's `-1` (no weighting) and `none` are not numbers to move.
    for text in ["-1", "none"] {
        app.handle_events([ctrl('u')]);
        app.handle_events(typed(text));
        app.handle_events([alt_key(KeyCode::Up), key(KeyCode::PageDown)]);
        assert_eq!(app.input(Field::Alpha).value(), text);
    }
    // Label smoothing: steps of 0.05 within [0, 1).
    app.handle_events([key(KeyCode::Tab), alt_key(KeyCode::Up)]);
    assert_eq!(app.input(Field::Smoothing).value(), "0.05");
    app.handle_events([key(KeyCode::PageUp), key(KeyCode::PageUp)]);
    assert_eq!(app.input(Field::Smoothing).value(), "0.95");
    app.handle_events([alt_key(KeyCode::Down), key(KeyCode::PageDown), key(KeyCode::PageDown)]);
    assert_eq!(app.input(Field::Smoothing).value(), "0");
    app.handle_events([key(KeyCode::Tab), alt_key(KeyCode::Up), key(KeyCode::PageUp)]);
    assert_eq!(app.focus, Field::Gammas);
    assert_eq!(app.input(Field::Gammas).value(), "0, 0.5, 1, 2, 5");
}

/// The logit at the cursor moves; the classes and result follow.
#[test]
fn a_nudge_moves_the_logit_at_the_cursor() {
    let mut app = app();
    app.handle_events([alt_key(KeyCode::Up)]);
    assert_eq!(app.input(Field::Logits).value(), "1.5, -0.8, 0.3");
    assert_eq!(example(&app).shown.params.logits, vec![1.5, -0.8, 0.3]);
    app.handle_events([key(KeyCode::Home), key(KeyCode::PageDown)]);
    assert_eq!(app.input(Field::Logits).value(), "0.5, -0.8, 0.3");
    assert_eq!(example(&app).shown.result.focal_loss, fl_with(Field::Logits, "0.5, -0.8, 0.3"));
}

/// A held key's repeats arrive in one batch: one recompute shows the last.
#[test]
fn held_nudge_repeats_recompute_once() {
    let mut app = app();
    app.handle_events([key(KeyCode::Tab), key(KeyCode::Tab)]);
    let before = app.recomputes;
    app.handle_events((0..30).map(|_| alt_key(KeyCode::Up)));
    assert_eq!(app.recomputes - before, 1);
    assert_eq!(app.input(Field::Gamma).value(), "5");
    assert_eq!(example(&app).shown.params.gamma, 5.0);
}

/// Every F-key command has a second key that is not an F-key nor a
/// printable character, and it does what the F-key does.
#[test]
fn every_f_key_command_has_a_second_key_that_does_the_same() {
    use focal_tui::keys::BINDINGS;
    let printable = |&(code, mods): &(KeyCode, KeyModifiers)| matches!(code, KeyCode::Char(_)) && mods.is_empty();
    let f_key = |&(code, _): &(KeyCode, KeyModifiers)| matches!(code, KeyCode::F(_));
    for b in BINDINGS.iter().filter(|b| b.keys.iter().any(f_key)) {
        let second = b.keys.iter().any(|k| !f_key(k) && !printable(k));
        let help_key = b.keys.iter().any(printable);
        assert!(second || help_key, "{} has no second key", b.label);
        // A command the footer shows, it shows with both keys.
        let footer = b.footer.unwrap_or("");
        assert!(footer.contains('/') || help_key, "the footer shows one key of {}", b.label);
    }
    let pane = |app: &App| example(app).pane;
    let (mut by_f, mut by_second) = (app(), app());
    for (f, second) in [
        (KeyCode::F(2), with(KeyCode::Right, KeyModifiers::SHIFT)),
        (KeyCode::F(3), ctrl('5')),
        (KeyCode::F(3), ctrl(']')),
        (KeyCode::F(4), ctrl('l')),
        (KeyCode::F(5), with(KeyCode::Left, KeyModifiers::SHIFT)),
        (KeyCode::F(7), ctrl('7')),
        (KeyCode::F(7), ctrl('/')),
    ] {
        by_f.handle_events([key(f)]);
        by_second.handle_events([second]);
        assert_eq!(
            (pane(&by_f), example(&by_f).mode, example(&by_f).chart, &by_f.status),
            (pane(&by_second), example(&by_second).mode, example(&by_second).chart, &by_second.status),
            "{f:?}"
        );
        assert_eq!(by_f.input(Field::Logits).value(), by_second.input(Field::Logits).value());
    }
    assert_eq!(pane(&by_second), Pane::Table);
    assert_eq!(example(&by_second).chart, ChartView::FlLog);
    by_second.handle_events([ctrl('x')]);
    assert!(by_second.take_clipboard().is_some());
}

fn mouse(kind: crossterm::event::MouseEventKind, column: u16, row: u16) -> Event {
    Event::Mouse(crossterm::event::MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE })
}

fn click(column: u16, row: u16) -> Event {
    mouse(crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left), column, row)
}

/// Where `text` is drawn on the screen of `app` (80 × 24).
fn drawn_at(app: &App, text: &str) -> (u16, u16) {
    let mut buf = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, 80, 24));
    focal_tui::ui::view(&mut buf, app);
    for y in 0..24 {
        let line: String = (0..80).map(|x| buf[(x, y)].symbol().chars().next().unwrap_or(' ')).collect();
        if let Some(at) = line.find(text) {
            return (line[..at].chars().count() as u16, y);
        }
    }
    panic!("{text:?} is not on the screen");
}

/// `--mouse`: a click focuses a field with the cursor where it lands, the
/// wheel over γ, α or the target nudges it (not elsewhere), a click on a
/// tab shows that pane, and a click on a class row makes it the target.
#[test]
fn mouse_clicks_and_the_wheel() {
    use crossterm::event::MouseEventKind::{ScrollDown, ScrollUp};
    let mut app = app();
    app.handle_events([Event::Resize(80, 24)]);
    let (x, y) = drawn_at(&app, "-0.8");
    app.handle_events([click(x + 1, y)]);
    assert_eq!((app.focus, app.input(Field::Logits).cursor()), (Field::Logits, 6));
    app.handle_events([alt_key(KeyCode::Up)]);
    assert_eq!(app.input(Field::Logits).value(), "1.5, -0.7, 0.2");
    let (_, gamma_row) = drawn_at(&app, "  γ ");
    app.handle_events([click(40, gamma_row)]);
    assert_eq!((app.focus, app.input(Field::Gamma).cursor()), (Field::Gamma, 1));
    // The wheel over α focuses and nudges it; a burst of it is one recompute.
    let (_, alpha_row) = drawn_at(&app, "  α ");
    let before = app.recomputes;
    app.handle_events((0..3).map(|_| mouse(ScrollUp, 20, alpha_row)));
    assert_eq!((app.focus, app.input(Field::Alpha).value()), (Field::Alpha, "0.4"));
    assert_eq!(app.recomputes - before, 1);
    assert_eq!(example(&app).shown.params.alpha, Some(focal_tui::loss::Alpha::Scalar(0.4)));
    let (_, target_row) = drawn_at(&app, "  Target");
    app.handle_events([mouse(ScrollDown, 20, target_row)]);
    assert_eq!((app.focus, app.input(Field::Target).value()), (Field::Target, "0"));
    let (_, list_row) = drawn_at(&app, "  Compare γ");
    app.handle_events([mouse(ScrollUp, 20, list_row)]);
    assert_eq!(app.input(Field::Gammas).value(), "0, 0.5, 1, 2, 5");
    // Tabs, then a class row.
    let (x, y) = drawn_at(&app, "classes ");
    app.handle_events([click(x + 2, y)]);
    assert_eq!(example(&app).pane, Pane::Classes);
    let (x, y) = drawn_at(&app, " 2      0.2");
    app.handle_events([click(x + 3, y)]);
    assert_eq!(app.input(Field::Target).value(), "2");
    assert_eq!(example(&app).shown.params.target.class(), Some(2));
    assert_eq!(example(&app).shown.result.target, 2);
    // Under the help, clicks do nothing.
    app.handle_events([key(KeyCode::F(1)), click(x + 3, y - 1)]);
    assert_eq!(app.input(Field::Target).value(), "2");
}

/// The help scrolls within what the screen hides: ↑ ↓ PgUp PgDn Home End,
/// while the fields' keys are idle; it opens at its top again.
#[test]
fn the_help_scrolls_within_what_the_screen_hides() {
    let mut app = app();
    app.handle_events([Event::Resize(80, 24), key(KeyCode::Char('?'))]);
    app.handle_events([key(KeyCode::End)]);
    let last = app.help_scroll;
    assert!(last > 0, "the help is longer than 80 × 24");
    assert!(!app.handle_events([key(KeyCode::Down)]), "nothing below the end");
    assert_eq!(app.help_scroll, last);
    app.handle_events([key(KeyCode::Up)]);
    assert_eq!(app.help_scroll, last - 1);
    app.handle_events([key(KeyCode::Home), key(KeyCode::PageDown)]);
    assert_eq!(app.help_scroll, 10.min(last));
    assert_eq!(app.focus, Field::Logits, "↑ and ↓ scroll, not move the focus");
    app.handle_events([key(KeyCode::Esc), key(KeyCode::Char('?'))]);
    assert_eq!(app.help_scroll, 0);
    // Where it fits, it does not scroll.
    app.handle_events([Event::Resize(200, 60), key(KeyCode::End)]);
    assert_eq!(app.help_scroll, 0);
}
