//! The dataset view in sigmoid mode (F3) and on tensors (`--class-axis`,
//! `--ignore-index`): the numbers `focal-tui data --sigmoid --json` gives
//! on the same files (itself checked against mpmath in tests/cli_tensors.rs
//! and tests/data_sweep.rs), the positives' and negatives' split against
//! `sigmoid_focal`'s per-class terms summed exactly, the other mode's rows
//! read when first asked for, and snapshots.

mod common;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use focal_tui::app::{App, Body};
use focal_tui::cli::{DataArgs, TensorArgs};
use focal_tui::data::run;
use focal_tui::dataset::Dataset;
use focal_tui::loss::{Alpha, Mode, sigmoid_focal};
use focal_tui::screen::Screen;
use focal_tui::theme::Look;
use focal_tui::ui;
use ratatui::backend::TestBackend;
use ratatui::layout::Size;
use serde_json::Value;
use std::path::PathBuf;

const GAMMAS: [f64; 5] = [0.0, 0.5, 1.0, 2.0, 5.0];

fn file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// The validation files, the segmentation dumps (void 255; 4 and 19
/// classes) and the detection dump (class axis last, void −100).
fn datasets() -> Vec<DataArgs> {
    let args = |z: &str, y: &str, class_axis, ignore_index| DataArgs {
        logits: vec![file(z)],
        labels: vec![file(y)],
        tensor: TensorArgs { class_axis, ignore_index },
        ..DataArgs::default()
    };
    vec![
        args("val_logits.npy", "val_labels.npy", None, None),
        args("tensors/seg_logits.npy", "tensors/seg_labels.npy", None, Some(255)),
        args("tensors/det_logits.npy", "tensors/det_labels.npy", Some(-1), Some(-100)),
        // 19 class planes: swept class-major as they are, kept row-major.
        args("tensors/seg19_logits.npy", "tensors/seg19_labels.npy", None, Some(255)),
    ]
}

/// The explorer on `args`' dataset as `focal-tui --data` opens it: γ = 2,
/// α = 0.25, the default γ list.
fn app(args: &DataArgs) -> App {
    let loaded = run::load(args).expect("loads");
    let alpha = Alpha::Scalar(0.25);
    let data = Dataset::new(loaded, 2.0, &GAMMAS, alpha).reloading(args.clone());
    let texts = ["", "", "2", "0.25", "0, 0.5, 1, 2, 5"].map(String::from);
    App::with_data(texts, data, Look::new(false, ratatui::symbols::Marker::Braille, true))
}

fn data(app: &App) -> &Dataset {
    let Body::Dataset(data) = &app.body else { panic!("the dataset view") };
    data
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// `focal-tui data --json` on `args` (with `--sigmoid` when asked).
fn cli_json(args: &DataArgs, sigmoid: bool) -> Value {
    let args = DataArgs { json: true, sigmoid, ..args.clone() };
    serde_json::from_str(&run::run(&args).expect("data runs")).expect("JSON")
}

/// Every number of the view's report equals `data`'s (within 1e-13
/// relative: the view sums blocks in other groups), every other value
/// exactly; `data`'s extra keys (ignored, skipped) aside.
fn same(view: &Value, cli: &Value, at: &str) {
    match (view, cli) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                same(v, b.get(k).unwrap_or_else(|| panic!("{at}.{k}: not in data's JSON")), &format!("{at}.{k}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                same(x, y, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            // The loss CDF's bound width is a difference of fractions: the
            // rows' ulp-level differences (α·P + (1 − α)·N against the sum of
            // weighted terms) grow by its cancellation.
            let tol = if at.ends_with("max_gap") { 1e-11 } else { 1e-13 };
            assert!(x == y || (x - y).abs() <= tol * y.abs(), "{at}: {x} vs {y}");
        }
        _ => assert_eq!(view, cli, "{at}"),
    }
}

#[test]
fn sigmoid_mode_gives_the_numbers_of_data_sigmoid_json() {
    for args in datasets() {
        // Opened in softmax: F3 reads the files again, for sigmoid rows.
        let mut app = app(&args);
        let softmax = serde_json::to_value(&data(&app).report).unwrap();
        same(&softmax, &cli_json(&args, false), "softmax");
        app.handle_events([key(KeyCode::F(3))]);
        assert_eq!(app.status, None);
        let d = data(&app);
        assert_eq!((d.mode, d.config.mode), (Mode::Sigmoid, Mode::Sigmoid));
        assert_eq!(d.report.sweep.len(), 5);
        let want = cli_json(&args, true);
        same(&serde_json::to_value(&d.report).unwrap(), &want, "sigmoid");
        assert_eq!(d.ignored(), want["ignored"].as_u64().unwrap());
        // Opened in sigmoid (--sigmoid): the same numbers.
        let opened = app_sigmoid(&args);
        same(&serde_json::to_value(&data(&opened).report).unwrap(), &want, "--sigmoid");
        // And back: the softmax rows are still kept.
        app.handle_events([key(KeyCode::F(3))]);
        same(&serde_json::to_value(&data(&app).report).unwrap(), &softmax, "softmax again");
        assert!(data(&app).split.is_none());
    }
}

fn app_sigmoid(args: &DataArgs) -> App {
    app(&DataArgs { sigmoid: true, ..args.clone() })
}

/// The exact sums of `sigmoid_focal`'s per-class terms over `args`' rows:
/// positives, easy positives (z ≥ 0), negatives, easy negatives (z ≤ 0).
fn exact_split(args: &DataArgs, gamma: f64, alpha: &Alpha) -> [f64; 4] {
    let rows = rows_of(args);
    let mut parts: [Vec<f64>; 4] = Default::default();
    for (z, t) in &rows {
        let f = sigmoid_focal(z, *t, gamma, alpha);
        for (c, &x) in f.per_class_loss.iter().enumerate() {
            let (all, easy) = if c == *t { (0, z[c] >= 0.0) } else { (2, z[c] <= 0.0) };
            parts[all].push(x);
            if easy {
                parts[all + 1].push(x);
            }
        }
    }
    parts.map(|p| {
        let (mut sum, mut carry) = (0.0f64, 0.0f64);
        for v in p {
            let t = sum + v;
            carry += if sum.abs() >= v.abs() { (sum - t) + v } else { (v - t) + sum };
            sum = t;
        }
        sum + carry
    })
}

/// Every row of `args`' dataset, read by `data`'s own reader in batches.
fn rows_of(args: &DataArgs) -> Vec<(Vec<f64>, usize)> {
    use focal_tui::data::npy;
    use focal_tui::data::source::Options;
    let options =
        Options { class_axis: args.tensor.class_axis, ignore_index: args.tensor.ignore_index, ..Options::default() };
    let mut source = npy::open_with(&args.logits[0], &args.labels[0], options).expect("opens");
    let k = source.classes();
    let (mut z, mut y) = (Vec::new(), Vec::new());
    while source.read(64, &mut z, &mut y).expect("reads") > 0 {}
    z.chunks(k).map(<[f64]>::to_vec).zip(y).collect()
}

#[test]
fn the_split_is_the_positives_and_negatives_of_sigmoid_focal() {
    for args in datasets() {
        let mut app = app_sigmoid(&args);
        for alpha_text in ["0.25", "0.5"] {
            app.handle_events([key(KeyCode::Tab)]);
            app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL))]);
            app.handle_events(alpha_text.chars().map(|c| key(KeyCode::Char(c))));
            app.handle_events([key(KeyCode::Tab), key(KeyCode::Tab)]);
            let alpha = Alpha::Scalar(alpha_text.parse().unwrap());
            let d = data(&app);
            assert_eq!(d.config.alpha, alpha);
            let split = d.split.as_ref().expect("sigmoid has a split");
            for (i, &gamma) in GAMMAS.iter().enumerate() {
                let sums = exact_split(&args, gamma, &alpha);
                let total = sums[0] + sums[2];
                let s = &split.focal[i];
                let got = [s.positives, s.easy_positives, s.negatives, s.easy_negatives];
                for (g, want) in got.iter().zip(sums.map(|x| x / total)) {
                    assert!((g - want).abs() <= 1e-13 * want + 1e-300, "γ={gamma}: {got:?} vs {sums:?}");
                }
                let mean = d.report.sweep[i].mean_focal_loss;
                assert!((total / d.report.rows as f64 - mean).abs() <= 1e-13 * mean);
            }
            // The CE's split: α = ½ weighs every BCE by ½.
            let sums = exact_split(&args, 0.0, &Alpha::Scalar(0.5));
            let ce = &split.cross_entropy;
            let total = sums[0] + sums[2];
            assert!((ce.negatives - sums[2] / total).abs() <= 1e-13);
            assert!((ce.easy_negatives - sums[3] / total).abs() <= 1e-13);
        }
    }
}

#[test]
fn an_alpha_that_sigmoid_refuses_keeps_the_last_result() {
    let args = &datasets()[0];
    let mut app = app(args);
    app.handle_events([key(KeyCode::Tab)]);
    app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL))]);
    app.handle_events("2".chars().map(|c| key(KeyCode::Char(c))));
    assert!(!app.stale, "softmax takes α = 2");
    let before = data(&app).report.clone();
    app.handle_events([key(KeyCode::F(3))]);
    // Asked for, but α = 2 is no sigmoid weight: the softmax sweep stays, marked stale.
    assert!(app.stale);
    assert_eq!(data(&app).mode, Mode::Sigmoid);
    assert_eq!((data(&app).config.mode, &data(&app).report), (Mode::Softmax, &before));
    assert!(screen(&app, 80, 24).contains("softmax focal loss"));
    app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL))]);
    app.handle_events("0.5".chars().map(|c| key(KeyCode::Char(c))));
    assert!(!app.stale);
    assert_eq!(data(&app).config.mode, Mode::Sigmoid);
}

#[test]
fn standard_input_cannot_be_read_again() {
    let args = DataArgs { logits: vec!["-".into()], ..datasets()[0].clone() };
    let loaded = run::load(&datasets()[0]).unwrap();
    let data = Dataset::new(loaded, 2.0, &GAMMAS, Alpha::Scalar(0.25)).reloading(args);
    let texts = ["", "", "2", "0.25", "0, 0.5, 1, 2, 5"].map(String::from);
    let mut app = App::with_data(texts, data, Look::new(false, ratatui::symbols::Marker::Braille, true));
    app.handle_events([key(KeyCode::F(3))]);
    assert_eq!(
        app.status.as_deref(),
        Some("sigmoid rows are not kept and the data cannot be read again: open the view with --sigmoid")
    );
    assert_eq!(data_mode(&app), Mode::Softmax);
}

fn data_mode(app: &App) -> Mode {
    data(app).config.mode
}

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut screen = Screen::new(TestBackend::new(width, height), Size::new(width, height)).unwrap();
    screen.draw(|buf| ui::view(buf, app)).unwrap();
    screen.backend().to_string()
}

/// The shape and the class axis in the title, the ignored positions in the
/// summary; sigmoid's sweep columns and pane titles.
#[test]
fn snapshots() {
    let datasets = datasets();
    let mut app = app_sigmoid(&datasets[1]);
    // The path as the user would type it (the snapshot must not hold this checkout's).
    let Body::Dataset(d) = &mut app.body else { unreachable!() };
    d.name = "seg_logits.npy".into();
    let text = screen(&app, 80, 24);
    assert!(text.contains("Dataset · sigmoid focal loss · seg_logits.npy (2, 4, 5, 6), class axis 1"), "{text}");
    assert!(text.contains("4 positions ignored"), "{text}");
    insta::assert_snapshot!("data_sigmoid_80x24", text);
    insta::assert_snapshot!("data_sigmoid_120x40", screen(&app, 120, 40));
    let mut app = app_sigmoid(&datasets[2]);
    let Body::Dataset(d) = &mut app.body else { unreachable!() };
    d.name = "det_logits.npy".into();
    app.handle_events([key(KeyCode::F(2))]);
    let text = screen(&app, 80, 24);
    assert!(text.contains("(3, 7, 5), class axis -1"), "{text}");
    assert!(text.contains("p_t = σ(z_label) histogram"), "{text}");
    insta::assert_snapshot!("data_sigmoid_histogram_80x24", text);
    for (w, h) in [(1, 1), (40, 10), (59, 15), (70, 18)] {
        screen(&app, w, h);
    }
    // The loss CDF as the paper draws it: the positives' and the negatives'
    // curves apart (side by side at 80 × 24, stacked in the wide layout).
    let mut app = app_sigmoid(&datasets[0]);
    let Body::Dataset(d) = &mut app.body else { unreachable!() };
    d.name = "val_logits.npy".into();
    app.handle_events([key(KeyCode::F(2)), key(KeyCode::F(2)), key(KeyCode::F(2))]);
    for (w, h) in [(80, 24), (120, 40)] {
        let text = screen(&app, w, h);
        assert!(text.contains("│ positives") && text.contains("│ negatives"), "{text}");
        insta::assert_snapshot!(format!("data_sigmoid_loss_cdf_{w}x{h}"), text);
    }
    for (w, h) in [(1, 1), (30, 8), (40, 10), (59, 15), (70, 18)] {
        screen(&app, w, h);
    }
}

/// A γ typed or nudged sweeps that γ alone and keeps the list's rows: the
/// report of a whole sweep, bit for bit, in both modes.
#[test]
fn a_new_gamma_alone_gives_the_whole_sweep() {
    let args = &datasets()[1];
    for sigmoid in [false, true] {
        let mut app = if sigmoid { app_sigmoid(args) } else { app(args) };
        // 2 → 2.5 (past the list) → 0.5 (in it) → 0.75 (past it again).
        for (keys, gamma) in [(".5", 2.5), ("", 0.5), ("", 0.75)] {
            if keys.is_empty() {
                app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL))]);
                app.handle_events(gamma.to_string().chars().map(|c| key(KeyCode::Char(c))));
            } else {
                app.handle_events(keys.chars().map(|c| key(KeyCode::Char(c))));
            }
            let d = data(&app);
            let loaded = run::load(&DataArgs { sigmoid, ..args.clone() }).unwrap();
            let fresh = Dataset::new(loaded, gamma, &GAMMAS, Alpha::Scalar(0.25));
            assert_eq!(d.report.sweep[d.current].gamma, gamma);
            assert_eq!((&d.report, &d.split), (&fresh.report, &fresh.split), "γ = {gamma}, sigmoid {sigmoid}");
        }
    }
}

/// A held α nudge in sigmoid mode costs one recompute (from the kept per-γ
/// sums, no pass over the logits), and shows what a view opened at that α
/// shows, bit for bit.
#[test]
fn a_held_alpha_nudge_recomputes_once() {
    let args = &datasets()[0];
    let mut app = app_sigmoid(args);
    app.handle_events([key(KeyCode::Tab)]);
    let before = app.recomputes;
    app.handle_events((0..5).map(|_| Event::Key(KeyEvent::new(KeyCode::Up, KeyModifiers::ALT))));
    assert_eq!(app.recomputes - before, 1);
    assert_eq!(app.input(focal_tui::field::Field::Alpha).value(), "0.5");
    let loaded = run::load(&DataArgs { sigmoid: true, ..args.clone() }).unwrap();
    let fresh = Dataset::new(loaded, 2.0, &GAMMAS, Alpha::Scalar(0.5));
    let d = data(&app);
    assert_eq!((&d.report, &d.split), (&fresh.report, &fresh.split));
}

// ------------------------------------------------------------ α suggestions (issue 18)

/// The α field's numbers, as typed.
fn alpha_field(app: &App) -> Vec<f64> {
    focal_tui::parse::numbers(app.input(focal_tui::field::Field::Alpha).value()).expect("numbers")
}

/// `focal-tui data --alpha TEXT --json` on `args` with the α field's text.
fn cli_json_alpha(args: &DataArgs, sigmoid: bool, app: &App) -> Value {
    let alpha = app.input(focal_tui::field::Field::Alpha).value().to_string();
    cli_json(&DataArgs { alpha: Some(alpha), ..args.clone() }, sigmoid)
}

/// F5 writes exactly the picked suggestion's numbers into α (the report
/// then that of `data --alpha <those> --json`), F4 cycles the pick through
/// the count-based weights and the current γ's balancing α, and the status
/// line says what was applied and where it comes from.
#[test]
fn f5_applies_the_picked_alpha_suggestion() {
    let args = &datasets()[0];
    let mut app = app(args);
    let all = data(&app).suggestions();
    assert_eq!(all.len(), 7, "balanced, 1/√n, 4 effective numbers, balancing");
    app.handle_events([key(KeyCode::F(5))]);
    assert_eq!(alpha_field(&app), all[0].alpha, "exactly the balanced weights");
    assert_eq!(data(&app).config.alpha, Alpha::PerClass(all[0].alpha.clone()));
    assert_eq!(app.status.as_deref(), Some("α ← balanced n/(K·n_c) (from class counts)"));
    same(&serde_json::to_value(&data(&app).report).unwrap(), &cli_json_alpha(args, false, &app), "balanced");
    // F4 picks the next and shows the α pane; after the last, the first.
    app.handle_events([key(KeyCode::F(4))]);
    assert_eq!(data(&app).pane, focal_tui::dataset::DataPane::Suggestions);
    assert_eq!(app.status.as_deref(), Some("picked α: 1/√n_c (from class counts) · F5 applies it"));
    for _ in 0..5 {
        app.handle_events([key(KeyCode::F(4))]);
    }
    assert_eq!(data(&app).picked, 6);
    assert_eq!(
        app.status.as_deref(),
        Some("picked α: balancing at γ=2 (from each class's focal loss at the current γ) · F5 applies it")
    );
    let balancing = data(&app).report.sweep[data(&app).current].balancing_alpha.clone();
    assert_eq!(data(&app).picked().unwrap().alpha, balancing);
    app.handle_events([key(KeyCode::F(5))]);
    assert_eq!(alpha_field(&app), balancing);
    assert!(balancing.iter().any(|&a| a > 1.0), "some weights above 1: {balancing:?}");
    same(&serde_json::to_value(&data(&app).report).unwrap(), &cli_json_alpha(args, false, &app), "balancing");
    app.handle_events([key(KeyCode::F(4))]);
    assert_eq!(data(&app).picked, 0);
}

/// Sigmoid α lies in [0, 1]: F5 divides the weights by the largest and
/// says so; the report is `data --sigmoid --alpha <those> --json`'s.
#[test]
fn sigmoid_applies_the_alpha_suggestion_scaled_to_one() {
    let args = &datasets()[0];
    let mut app = app_sigmoid(args);
    let s = data(&app).suggestions()[0].clone();
    let top = s.alpha.iter().copied().fold(0.0, f64::max);
    assert!(top > 1.0);
    app.handle_events([key(KeyCode::F(5))]);
    let want: Vec<f64> = s.alpha.iter().map(|a| a / top).collect();
    assert_eq!(alpha_field(&app), want);
    assert!(want.iter().all(|&a| (0.0..=1.0).contains(&a)) && want.contains(&1.0));
    let status = app.status.clone().unwrap();
    assert!(
        status.starts_with("α ← balanced n/(K·n_c) (from class counts), divided by its largest ")
            && status.ends_with(" (sigmoid α ≤ 1)"),
        "{status}"
    );
    assert!(!app.stale);
    same(&serde_json::to_value(&data(&app).report).unwrap(), &cli_json_alpha(args, true, &app), "sigmoid balanced");
}

/// A per-class α (what F5 applies) and γ-list edits under it go through the
/// kept per-γ sums (the row losses from the kept logit values, the shares
/// from per-class totals, a γ added computed alone): every number is
/// `data --sigmoid --alpha a1,... --gammas ... --json`'s to 1e-13, on every
/// dataset; back to a scalar α likewise. The comparison catches one weight
/// off by 1e-9 relative.
#[test]
fn per_class_alpha_and_gamma_list_edits_give_data_sigmoid_json() {
    for args in datasets() {
        let loaded = run::load(&DataArgs { sigmoid: true, ..args.clone() }).expect("loads");
        let mut d = Dataset::new(loaded, 2.0, &GAMMAS, Alpha::Scalar(0.25));
        let k = d.classes();
        let text = |a: &[f64]| a.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>().join(",");
        let cli = |gammas: &[f64], alpha: &str| {
            let args = DataArgs { alpha: Some(alpha.to_string()), gammas: Some(text(gammas)), ..args.clone() };
            cli_json(&args, true)
        };
        let view = |d: &Dataset| serde_json::to_value(&d.report).unwrap();
        let alpha: Vec<f64> = (0..k).map(|c| (c as f64 + 1.0) / (k as f64 + 0.5)).collect();
        d.set(2.0, &GAMMAS, Alpha::PerClass(alpha.clone()));
        same(&view(&d), &cli(&GAMMAS, &text(&alpha)), "per-class α");
        let split = d.split.clone().expect("sigmoid");
        assert_eq!(split.focal.len(), GAMMAS.len());
        // γ = 4 added to the list, under the per-class α, then the scalar.
        let list = [0.0, 0.5, 1.0, 2.0, 4.0, 5.0];
        d.set(2.0, &list, Alpha::PerClass(alpha.clone()));
        let want = cli(&list, &text(&alpha));
        same(&view(&d), &want, "γ added, per-class α");
        d.set(2.0, &[0.0, 0.5, 1.0, 2.0, 4.0, 5.0, 3.0], Alpha::Scalar(0.25));
        same(&view(&d), &cli(&[0.0, 0.5, 1.0, 2.0, 4.0, 5.0, 3.0], "0.25"), "γ added, scalar α");
        // Able to fail: one weight off by 1e-9.
        d.set(2.0, &list, Alpha::PerClass(alpha.clone()));
        let mut off = alpha.clone();
        off[k - 1] *= 1.0 + 1e-9;
        let wrong = cli(&list, &text(&off));
        let got = view(&d);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| same(&got, &wrong, "off"))).is_err();
        assert!(caught, "a weight off by 1e-9 must be caught");
        same(&got, &want, "per-class α again");
    }
}

/// A dataset whose class 0 has no loss at all (CE 0 to the last bit: its
/// rows' other logits 800 below), so that every γ's report has a note of
/// its own ("class 0 with no focal loss at γ = …").
fn lossless_class() -> DataArgs {
    let path = std::env::temp_dir().join(format!("focal-tui-lossless-{}.csv", std::process::id()));
    let mut text = String::new();
    for i in 0..60 {
        let row = match i % 3 {
            0 => "0,800,0,0".to_string(),
            c => format!("{c},{},{},{}", 0.1 * f64::from(i % 7), -0.3 * f64::from(i % 5), 0.2 * f64::from(i % 4)),
        };
        text.push_str(&row);
        text.push('\n');
    }
    std::fs::write(&path, text).expect("a temporary file");
    DataArgs { csv: vec![path], ..DataArgs::default() }
}

/// γ-list edits — a γ added inside the list, one dropped, the list
/// reordered, the current γ past it, a list with a γ twice, the list as it
/// was (from one with a γ twice: swept the whole way) — give the whole sweep's report and
/// split bit for bit, notes of each γ included, in both modes, under a
/// scalar and a per-class α: the rows kept from the last report, only the
/// γs new to the list swept. Able to fail: without the notes spliced, the
/// lossless dataset's notes of a new γ go missing.
#[test]
fn gamma_list_edits_give_the_whole_sweep() {
    let edits: [(f64, &[f64]); 6] = [
        (2.0, &[0.0, 0.5, 1.0, 2.0, 4.0, 5.0]),
        (2.0, &[0.0, 1.0, 2.0, 4.0, 5.0]),
        (1.0, &[5.0, 2.0, 0.0, 1.0, 4.0]),
        (3.0, &[5.0, 2.0, 0.0, 1.0, 4.0]),
        (2.0, &[1.0, 1.0, 2.0]),
        (2.0, &GAMMAS),
    ];
    let lossless = lossless_class();
    for args in [datasets()[0].clone(), datasets()[3].clone(), lossless.clone()] {
        for sigmoid in [false, true] {
            let args = DataArgs { sigmoid, ..args.clone() };
            let k = Dataset::new(run::load(&args).expect("loads"), 2.0, &GAMMAS, Alpha::Scalar(0.25)).classes();
            let per_class = Alpha::PerClass((0..k).map(|c| (c as f64 + 1.0) / (k as f64 + 0.5)).collect());
            for alpha in [Alpha::Scalar(0.25), per_class] {
                let mut d = Dataset::new(run::load(&args).expect("loads"), 2.0, &GAMMAS, alpha.clone());
                for &(gamma, list) in &edits {
                    d.set(gamma, list, alpha.clone());
                    let fresh = Dataset::new(run::load(&args).expect("loads"), gamma, list, alpha.clone());
                    let what = format!("{list:?} at γ = {gamma}, sigmoid {sigmoid}, {alpha:?}");
                    assert_eq!(d.report.sweep[d.current].gamma, gamma, "{what}");
                    assert_eq!((&d.report, &d.split), (&fresh.report, &fresh.split), "{what}");
                }
            }
        }
    }
    let notes = Dataset::new(run::load(&lossless).expect("loads"), 2.0, &GAMMAS, Alpha::Scalar(0.25)).report;
    assert_eq!(notes.guidance_notes.iter().filter(|n| n.contains("with no focal loss at γ")).count(), GAMMAS.len());
    let _ = std::fs::remove_file(&lossless.csv[0]);
}
