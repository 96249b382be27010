//! The explorer's dataset view (`focal-tui --data`): `App::update` from
//! synthetic keys, and snapshots at 80 × 24 and 120 × 40.
//!
//! Expected means come from per-row `softmax_focal` (the single-example core,
//! which shares no code with the sweep's kept examples) summed exactly.

mod common;
use common::XorShift;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use focal_tui::app::{App, Body};
use focal_tui::data::run::{self, Loaded};
use focal_tui::data::sweep::Accumulator;
use focal_tui::data::sweep::Config;
use focal_tui::dataset::{DataPane, Dataset};
use focal_tui::field::Field;
use focal_tui::loss::{Alpha, softmax_focal};
use focal_tui::screen::Screen;
use focal_tui::theme::Look;
use focal_tui::ui;
use ratatui::backend::TestBackend;
use ratatui::layout::Size;

const K: usize = 4;

/// 3 000 rows of 4 classes, imbalanced (70 %, 20 %, 8 %, 2 %); the model is
/// sure of the majority class and unsure of the rare ones.
fn rows() -> (Vec<f64>, Vec<usize>) {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut unit = move || rng.unit();
    let (mut z, mut y) = (Vec::new(), Vec::new());
    for _ in 0..3000 {
        let u = unit();
        let label = if u < 0.7 {
            0
        } else if u < 0.9 {
            1
        } else if u < 0.98 {
            2
        } else {
            3
        };
        let boost = [4.0, 2.0, 1.0, 0.5][label];
        let start = z.len();
        z.extend((0..K).map(|_| (unit() - 0.5) * 4.0));
        z[start + label] += boost;
        y.push(label);
    }
    (z, y)
}

fn dataset() -> Dataset {
    let (z, y) = rows();
    let mut acc = Accumulator::new(&Config::default(), K).keeping_examples();
    acc.add(&z, &y);
    let examples = acc.finish_keeping().1;
    let loaded = Loaded {
        name: "val.npy".into(),
        mode: focal_tui::loss::Mode::Softmax,
        examples,
        sigmoid: None,
        skipped: vec![("non-finite logit".into(), 3)],
        shape: None,
    };
    Dataset::new(loaded, 2.0, &[0.0, 0.5, 1.0, 2.0, 5.0], Alpha::Scalar(0.25))
}

fn app() -> App {
    let texts = ["", "", "2", "0.25", "0, 0.5, 1, 2, 5"].map(String::from);
    App::with_data(texts, dataset(), Look::new(false, ratatui::symbols::Marker::Braille, true))
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn typed(text: &str) -> Vec<Event> {
    text.chars().map(|c| key(KeyCode::Char(c))).collect()
}

/// The exact mean of per-row focal losses (Neumaier sum of `softmax_focal`).
fn mean_fl(gamma: f64, alpha: &Alpha) -> f64 {
    let (z, y) = rows();
    let (mut sum, mut carry) = (0.0f64, 0.0f64);
    for (row, &t) in z.chunks(K).zip(&y) {
        let x = softmax_focal(row, t, gamma, alpha).focal_loss;
        let s = sum + x;
        carry += if sum.abs() >= x.abs() { (sum - s) + x } else { (x - s) + sum };
        sum = s;
    }
    (sum + carry) / y.len() as f64
}

fn data(app: &App) -> &Dataset {
    let Body::Dataset(data) = &app.body else { panic!("the dataset view") };
    data
}

fn current(app: &App) -> (f64, f64) {
    let d = data(app);
    let row = &d.report.sweep[d.current];
    (row.gamma, row.mean_focal_loss)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs()
}

#[test]
fn starts_on_gamma_with_the_sweep_of_every_row() {
    let app = app();
    assert_eq!(app.focus, Field::Gamma);
    assert_eq!(app.fields(), &[Field::Gamma, Field::Alpha, Field::Gammas]);
    let d = data(&app);
    assert_eq!(d.report.rows, 3000);
    assert_eq!(d.report.sweep.len(), 5);
    let (gamma, fl) = current(&app);
    assert_eq!(gamma, 2.0);
    assert!(close(fl, mean_fl(2.0, &Alpha::Scalar(0.25))), "{fl}");
    // The rare classes' share of the loss grows under focal loss.
    let share = |c: usize| d.report.per_class[c].share[d.current];
    assert!(share(3) > d.ce_share[3] && share(0) < d.ce_share[0]);
}

#[test]
fn typing_gamma_and_alpha_resweeps_every_row() {
    let mut app = app();
    app.handle_events(typed(".5"));
    let (gamma, fl) = current(&app);
    assert_eq!(gamma, 2.5);
    assert!(close(fl, mean_fl(2.5, &Alpha::Scalar(0.25))));
    // 2.5 is not in the list: it is swept as an extra row.
    assert_eq!(data(&app).report.sweep.len(), 6);
    app.handle_events([key(KeyCode::Tab)]);
    assert_eq!(app.focus, Field::Alpha);
    app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL))]);
    app.handle_events(typed("1, 1, 2, 4"));
    let per_class = Alpha::PerClass(vec![1.0, 1.0, 2.0, 4.0]);
    assert!(close(current(&app).1, mean_fl(2.5, &per_class)));
    // Tab cycles the three fields only.
    app.handle_events([key(KeyCode::Tab), key(KeyCode::Tab)]);
    assert_eq!(app.focus, Field::Gamma);
}

#[test]
fn invalid_input_keeps_the_last_sweep_and_names_the_token() {
    let mut app = app();
    let before = current(&app);
    app.handle_events([key(KeyCode::Tab)]);
    app.handle_events(typed(",x"));
    assert!(app.stale);
    let e = app.errors[Field::Alpha.index()].as_ref().expect("an α error");
    assert!(e.to_string().contains("x"), "{e}");
    assert_eq!(current(&app), before);
    // Four classes: three α values are refused, naming K.
    app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL))]);
    app.handle_events(typed("1, 2, 3"));
    assert!(app.errors[Field::Alpha.index()].as_ref().unwrap().to_string().contains('4'));
    app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL))]);
    app.handle_events(typed("0.25"));
    assert!(!app.stale);
    assert_eq!(current(&app), before);
}

#[test]
fn keys_of_the_example_do_nothing_and_f2_switches_the_pane() {
    let mut app = app();
    let before = current(&app);
    // F7 (the example's profiles) does nothing here; F4 and F5 pick and
    // apply α (tests/dataset_view_sigmoid.rs).
    app.handle_events([key(KeyCode::F(7))]);
    assert_eq!(current(&app), before);
    assert!(app.status.is_none());
    // F3 switches to sigmoid (tests/dataset_view_sigmoid.rs); rows kept
    // in memory only, of softmax alone, cannot: it says why.
    app.handle_events([key(KeyCode::F(3))]);
    assert_eq!(current(&app), before);
    assert_eq!(
        app.status.as_deref(),
        Some("sigmoid rows are not kept and the data cannot be read again: open the view with --sigmoid")
    );
    assert_eq!(data(&app).pane, DataPane::Classes);
    app.handle_events([key(KeyCode::F(2))]);
    assert_eq!(data(&app).pane, DataPane::Histogram);
    app.handle_events([key(KeyCode::F(2)), key(KeyCode::F(2)), key(KeyCode::F(2))]);
    assert_eq!(data(&app).pane, DataPane::Classes);
    // Wide: the classes stay on the left, F2 switches the right-hand pane.
    app.handle_events([Event::Resize(120, 40), key(KeyCode::F(2))]);
    assert_eq!(data(&app).pane, DataPane::Suggestions);
    app.handle_events([key(KeyCode::F(2)), key(KeyCode::F(2))]);
    assert_eq!(data(&app).pane, DataPane::Histogram);
    // Copy sends the dataset's report.
    app.handle_events([key(KeyCode::F(6))]);
    let text = app.take_clipboard().expect("copied");
    assert!(text.contains("3000 rows") && text.contains("p_t histogram"), "{text}");
}

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut screen = Screen::new(TestBackend::new(width, height), Size::new(width, height)).unwrap();
    screen.draw(|buf| ui::view(buf, app)).unwrap();
    screen.backend().to_string()
}

#[test]
fn snapshots() {
    let mut app = app();
    insta::assert_snapshot!("data_80x24", screen(&app, 80, 24));
    insta::assert_snapshot!("data_120x40", screen(&app, 120, 40));
    app.handle_events([key(KeyCode::F(2))]);
    insta::assert_snapshot!("data_histogram_80x24", screen(&app, 80, 24));
    // The α suggestions (F4 picks the second) and the loss CDF (issue 18).
    app.handle_events([key(KeyCode::F(4))]);
    insta::assert_snapshot!("data_alpha_80x24", screen(&app, 80, 24));
    insta::assert_snapshot!("data_alpha_120x40", screen(&app, 120, 40));
    app.handle_events([key(KeyCode::F(2))]);
    insta::assert_snapshot!("data_loss_cdf_80x24", screen(&app, 80, 24));
    insta::assert_snapshot!("data_loss_cdf_120x40", screen(&app, 120, 40));
    app.handle_events([key(KeyCode::F(2)), key(KeyCode::F(2))]);
    app.handle_events([key(KeyCode::Tab)]);
    app.handle_events(typed("x"));
    insta::assert_snapshot!("data_invalid_80x24", screen(&app, 80, 24));
    // Tiny: the current mean FL; no panic at any size.
    assert!(screen(&app, 40, 10).contains("mean FL"));
    for (w, h) in [(1, 1), (59, 15), (60, 16), (70, 18)] {
        screen(&app, w, h);
    }
}

// ------------------------------------------------------------ memory

fn data_args(
    csv: Vec<std::path::PathBuf>,
    logits: Vec<std::path::PathBuf>,
    labels: Vec<std::path::PathBuf>,
) -> focal_tui::cli::DataArgs {
    focal_tui::cli::DataArgs { csv, logits, labels, ..Default::default() }
}

/// A `.npy` header for `shape`, its data a hole of `len` bytes (sparse).
fn sparse_npy(path: &std::path::Path, descr: &str, shape: &str, len: u64) {
    let bytes = common::npy_file(descr, false, shape, &[]);
    std::fs::write(path, &bytes).unwrap();
    std::fs::OpenOptions::new().write(true).open(path).unwrap().set_len(bytes.len() as u64 + len).unwrap();
}

/// The view keeps every row; a dataset whose rows cannot fit is refused
/// before reading, pointing to `focal-tui data`, which streams.
#[test]
fn a_dataset_too_large_for_memory_is_refused_before_reading() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dataset_view");
    std::fs::create_dir_all(&dir).unwrap();
    let (z, y) = (dir.join("huge_logits.npy"), dir.join("huge_labels.npy"));
    let n: u64 = 10_000_000_000;
    sparse_npy(&z, "<f2", &format!("({n}, 1)"), 2 * n);
    sparse_npy(&y, "|u1", &format!("({n},)"), n);
    let start = std::time::Instant::now();
    let e = run::load(&data_args(vec![], vec![z.clone()], vec![y.clone()])).err().expect("refused");
    assert!(start.elapsed().as_secs() < 5, "it read the rows");
    assert!(
        e.starts_with(&format!(
            "{}: the dataset view keeps 45 bytes per row (twice that while loading) and ",
            z.display()
        )),
        "{e}"
    );
    assert!(
        e.ends_with(": the data has 10000000000; `focal-tui data` with the same flags streams any number of rows"),
        "{e}"
    );
    std::fs::remove_file(z).unwrap();
    std::fs::remove_file(y).unwrap();
    // Rows of unknown number (text) are counted as they come.
    let csv = dir.join("twenty_rows.csv");
    std::fs::write(&csv, "0,1,2\n1,2,1\n".repeat(10)).unwrap();
    let args = data_args(vec![csv.clone()], vec![], vec![]);
    let e = run::load_within(&args, Some(1000)).err().expect("refused");
    assert_eq!(
        e,
        csv.display().to_string()
            + ": the dataset view keeps 45 bytes per row (twice that while loading) and 1 KB of memory is available, enough for 11 rows: the data has more; `focal-tui data` with the same flags streams any number of rows"
    );
    assert_eq!(run::load_within(&args, Some(20 * 2 * 45)).unwrap().examples.len(), 20);
    assert_eq!(run::load_within(&args, None).unwrap().examples.len(), 20);
    // Sigmoid keeps every logit's values: 13 bytes a row and 24 a logit (K = 2).
    let sigmoid = focal_tui::cli::DataArgs { sigmoid: true, ..args };
    let e = run::load_within(&sigmoid, Some(1000)).err().expect("refused");
    assert!(e.contains(": the dataset view keeps 61 bytes per row (twice that while loading) and 1 KB"), "{e}");
    assert!(e.contains("enough for 8 rows"), "{e}");
    assert_eq!(run::load_within(&sigmoid, None).unwrap().sigmoid.map(|s| s.len()), Some(20));
}

/// γ and α nudge as in the example view and re-sweep every row; a held
/// key's repeats are one sweep.
#[test]
fn nudges_resweep_gamma_and_alpha() {
    let alt_up = Event::Key(KeyEvent::new(KeyCode::Up, KeyModifiers::ALT));
    let mut app = app();
    app.handle_events([alt_up.clone()]);
    assert_eq!(app.input(Field::Gamma).value(), "2.1");
    let (gamma, fl) = current(&app);
    assert_eq!(gamma, 2.1);
    assert!(close(fl, mean_fl(2.1, &Alpha::Scalar(0.25))));
    let before = app.recomputes;
    app.handle_events([key(KeyCode::PageUp), key(KeyCode::PageUp), key(KeyCode::PageDown)]);
    assert_eq!(app.recomputes - before, 1);
    assert_eq!(current(&app).0, 3.1);
    app.handle_events([key(KeyCode::Tab), key(KeyCode::PageDown)]);
    assert_eq!(app.input(Field::Alpha).value(), "0");
    app.handle_events([alt_up]);
    assert_eq!(app.input(Field::Alpha).value(), "0.05");
    assert!(close(current(&app).1, mean_fl(3.1, &Alpha::Scalar(0.05))));
    // The swept γ list is not nudged.
    app.handle_events([key(KeyCode::Tab), key(KeyCode::PageUp)]);
    assert_eq!(app.input(Field::Gammas).value(), "0, 0.5, 1, 2, 5");
}

/// `--mouse`: a click on a tab of the lower pane switches it; the wheel
/// over γ nudges it.
#[test]
fn mouse_switches_the_tab_and_nudges() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut app = app();
    app.handle_events([Event::Resize(80, 24)]);
    let mut buf = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, 80, 24));
    ui::view(&mut buf, &app);
    let at = |text: &str| {
        (0..24u16).find_map(|y| {
            let line: String = (0..80).map(|x| buf[(x, y)].symbol().chars().next().unwrap_or(' ')).collect();
            line.find(text).map(|i| (line[..i].chars().count() as u16, y))
        })
    };
    let (x, y) = at(" p_t histogram ").expect("the histogram's tab");
    let (gamma_x, gamma_y) = at("▸ γ").expect("the γ field");
    let mouse = |kind, column, row| Event::Mouse(MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE });
    app.handle_events([mouse(MouseEventKind::Down(MouseButton::Left), x + 3, y)]);
    assert_eq!(data(&app).pane, DataPane::Histogram);
    app.handle_events([mouse(MouseEventKind::ScrollDown, gamma_x + 14, gamma_y)]);
    assert_eq!(app.input(Field::Gamma).value(), "1.9");
    assert_eq!(current(&app).0, 1.9);
}
