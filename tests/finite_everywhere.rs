//! Any finite input, however extreme (subnormal α, γ of 5e-324 or 1e308,
//! logits at f64::MAX, classes with no rows): every JSON number is finite,
//! the text reports are written and every pane of the explorer draws at
//! both layouts, with no panic (proptest).

use clap::Parser;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use focal_tui::app::{App, Body};
use focal_tui::cli::{Cli, Command};
use focal_tui::data::run::{Loaded, text};
use focal_tui::data::sweep::{Accumulator, Config};
use focal_tui::dataset::{DataPane, Dataset};
use focal_tui::field::{self, Field};
use focal_tui::loss::{Alpha, Mode};
use focal_tui::screen::Screen;
use focal_tui::theme::Look;
use focal_tui::{calc, parse, ui};
use proptest::prelude::*;
use ratatui::backend::TestBackend;
use ratatui::layout::Size;
use serde_json::Value;

/// Finite values of every scale, the edges of f64 among them.
fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
        -50.0..50.0f64,
        prop::sample::select(vec![f64::MAX, -f64::MAX, 5e-324, 1e-310, 710.0, -745.0, 1e308]),
    ]
}

/// Non-negative finite values (γ, α).
fn non_negative() -> impl Strategy<Value = f64> {
    finite().prop_map(f64::abs)
}

/// The text a user would type for `x`: shortest round trip.
fn typed(x: f64) -> String {
    format!("{x:?}")
}

/// Every number of a JSON document is finite (serde_json writes NaN and
/// infinities as `null`).
fn assert_finite(v: &Value, path: &str) {
    match v {
        Value::Null => panic!("{path} is null"),
        Value::Number(n) => assert!(n.as_f64().is_some_and(f64::is_finite), "{path} = {n}"),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| assert_finite(x, &format!("{path}[{i}]"))),
        Value::Object(o) => o.iter().for_each(|(k, x)| assert_finite(x, &format!("{path}.{k}"))),
        Value::Bool(_) | Value::String(_) => {}
    }
}

fn press(app: &mut App, code: KeyCode) {
    app.handle_events([Event::Key(KeyEvent::new(code, KeyModifiers::NONE))]);
}

/// Draws every pane the explorer can show at 80 × 24 and 120 × 40: each F2
/// pane, each F4 chart, the help overlay, and the F6 copy.
fn draw_everything(app: &mut App) {
    for (w, h) in [(80, 24), (120, 40)] {
        app.handle_events([Event::Resize(w, h)]);
        let mut screen = Screen::new(TestBackend::new(w, h), Size::new(w, h)).unwrap();
        for _ in 0..6 {
            for _ in 0..3 {
                screen.draw(|buf| ui::view(buf, app)).unwrap();
                press(app, KeyCode::F(4));
            }
            press(app, KeyCode::F(2));
        }
        // The dataset's panes one by one (its F4 jumps to the α pane), then α applied.
        for pane in DataPane::ALL {
            if let Body::Dataset(data) = &mut app.body {
                data.pane = pane;
                screen.draw(|buf| ui::view(buf, app)).unwrap();
            }
        }
        press(app, KeyCode::F(5));
        screen.draw(|buf| ui::view(buf, app)).unwrap();
        press(app, KeyCode::F(1));
        screen.draw(|buf| ui::view(buf, app)).unwrap();
        press(app, KeyCode::Esc);
        press(app, KeyCode::F(6));
        assert!(app.take_clipboard().is_some_and(|t| !t.is_empty()));
    }
}

fn calc_output(args: &[String]) -> Result<String, String> {
    let cli = Cli::try_parse_from(["focal-tui", "calc"].iter().map(|s| s.to_string()).chain(args.iter().cloned()))
        .expect("the flags are known");
    match cli.command {
        Some(Command::Calc(a)) => calc::run(&a),
        _ => unreachable!("calc"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_finite_example_reports_and_draws(
        z in prop::collection::vec(finite(), 1..6),
        t_pick in any::<prop::sample::Index>(),
        gamma in non_negative(),
        alpha in non_negative(),
        unit in 0.0..=1.0f64,
        sigmoid in any::<bool>(),
    ) {
        let t = t_pick.index(z.len());
        // Sigmoid α is a probability; softmax takes any α ≥ 0.
        let alpha = if sigmoid { unit.min(alpha) } else { alpha };
        let logits = z.iter().map(|&x| typed(x)).collect::<Vec<_>>().join(", ");
        let texts = [logits, t.to_string(), typed(gamma), typed(alpha)];
        let mut args: Vec<String> =
            ["--logits", &texts[0], "--target", &texts[1], "--gamma", &texts[2], "--alpha", &texts[3]]
                .map(String::from).to_vec();
        if sigmoid {
            args.push("--sigmoid".into());
        }
        let report = calc_output(&args).expect("valid input");
        prop_assert!(report.contains("focal loss FL"));
        args.push("--json".into());
        let json: Value = serde_json::from_str(&calc_output(&args).unwrap()).unwrap();
        assert_finite(&json, "calc");

        let mode = if sigmoid { Mode::Sigmoid } else { Mode::Softmax };
        let params = field::params([0, 1, 2, 3].map(|i| texts[i].as_str()), mode).expect("valid input");
        let gammas = parse::gammas(&format!("0, {}, 5", typed(gamma))).unwrap();
        let [a, b, c, d] = texts;
        let mut app = App::new([a, b, c, d, Field::Gammas.default_text().into()], params, gammas, Look::default());
        draw_everything(&mut app);
        // Softmax ⇄ sigmoid and back: α stays valid in both for α ≤ 1.
        press(&mut app, KeyCode::F(3));
        draw_everything(&mut app);
    }

    #[test]
    fn any_finite_dataset_reports_and_draws(
        k in 1usize..5,
        rows in prop::collection::vec((prop::collection::vec(finite(), 4), any::<prop::sample::Index>()), 1..12),
        gammas in prop::collection::vec(non_negative(), 1..4),
        alpha in prop_oneof![non_negative().prop_map(Alpha::Scalar), prop::collection::vec(non_negative(), 4).prop_map(Alpha::PerClass)],
    ) {
        // Labels drawn from the first classes only, so others often have no rows.
        let labels: Vec<usize> = rows.iter().map(|(_, i)| i.index(k.div_ceil(2))).collect();
        let logits: Vec<f64> = rows.iter().flat_map(|(z, _)| z[..k].to_vec()).collect();
        let alpha = match alpha {
            Alpha::PerClass(v) => Alpha::PerClass(v[..k].to_vec()),
            scalar => scalar,
        };
        let config = Config { gammas: gammas.clone(), alpha: alpha.clone(), ..Config::default() };
        let mut acc = Accumulator::new(&config, k).keeping_examples();
        acc.add(&logits, &labels);
        let (report, examples) = acc.finish_keeping();
        assert_finite(&serde_json::to_value(&report).unwrap(), "data");
        prop_assert!(text(&report, &[], &config).contains("p_t histogram"));

        // Sigmoid rows too (they do not depend on α), for F3.
        let sigmoid = Config { mode: focal_tui::loss::Mode::Sigmoid, gammas: gammas.clone(), ..Config::default() };
        let mut acc = Accumulator::new(&sigmoid, k).keeping_examples();
        acc.add(&logits, &labels);
        let (report, sigmoid) = acc.finish_keeping_sigmoid();
        assert_finite(&serde_json::to_value(&report).unwrap(), "data --sigmoid");
        let loaded = Loaded {
            name: "fuzz.npy".into(),
            mode: focal_tui::loss::Mode::Softmax,
            examples,
            sigmoid: Some(sigmoid),
            skipped: vec![("non-finite logit".into(), 1)],
            shape: None,
        };
        let data = Dataset::new(loaded, gammas[0], &gammas, alpha);
        assert_finite(&serde_json::to_value(&data.report).unwrap(), "dataset view");
        let list = gammas.iter().map(|&g| typed(g)).collect::<Vec<_>>().join(", ");
        let texts = [String::new(), String::new(), typed(gammas[0]), String::new(), list];
        let mut app = App::with_data(texts, data, Look::default());
        draw_everything(&mut app);
        press(&mut app, KeyCode::F(3));
        draw_everything(&mut app);
        if let focal_tui::app::Body::Dataset(data) = &app.body {
            assert_finite(&serde_json::to_value(&data.report).unwrap(), "dataset view, sigmoid");
            for s in data.split.iter().flat_map(|s| s.focal.iter().chain([&s.cross_entropy])) {
                prop_assert!([s.positives, s.easy_positives, s.negatives, s.easy_negatives].iter().all(|x| (0.0..=1.0).contains(x)));
            }
        }
    }
}

/// The reproductions, each once, as a user types them.
#[test]
fn extreme_values_from_the_field() {
    for args in [
        &["--alpha", "1e-310"][..],
        &["--logits", "0,0", "--target", "0", "--alpha", "5e-324", "--gamma", "0"],
        &["--logits", "710,1.7976931348623157e308", "--target", "0", "--gamma", "5e-324", "--alpha", "1", "--sigmoid"],
        &["--alpha", "1e308"],
    ] {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        calc_output(&args).expect("valid input");
    }
    let mut app = App::with_defaults(Look::default());
    // Typed into α: the inputs stay and the result follows.
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL))]);
    app.handle_events("1e-310".chars().map(|c| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))));
    assert_eq!(app.input(Field::Alpha).value(), "1e-310");
    assert!(!app.stale);
    draw_everything(&mut app);
    for alpha in ["1e308", "1.7976931348623157e308"] {
        app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL))]);
        app.handle_events(alpha.chars().map(|c| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))));
        draw_everything(&mut app);
    }
}
