//! One keystroke as the user feels it: `App::handle_events` (update, parse,
//! recompute) plus a full draw into ratatui's TestBackend through
//! `screen::Screen`, as the explorer draws, at 80 × 24 and
//! 200 × 60 for K = 3, 1 000 and 100 000 classes. Each iteration types a
//! digit and deletes it again (two keystrokes), so the state stays the same.
//!
//! Budgets on the 2-core dev machine (per keystroke, half an iteration):
//! ≤ 0.3 ms at 80 × 24 and ≤ 1 ms at 200 × 60 for K ≤ 1 000; ≤ 2 ms for
//! K = 100 000 when editing γ (the logits are not re-parsed). Measured
//! (medians of one session's runs on the shared VM, quiet to loaded): γ at
//! 80 × 24, K = 1 000: 0.20–0.23 ms; at 200 × 60: 0.38–0.73 ms (lens
//! visible 0.47–0.70 ms); K = 100 000 at 200 × 60: 0.73–1.14 ms (lens
//! 0.67–0.91 ms). The machine's speed drifts up to 2×, so instruction
//! counts (callgrind, deterministic) judge a change: 0.77 M per keystroke
//! at 80 × 24 and 2.62 M at 200 × 60 for K = 1 000, of which the frame
//! diff (`screen::diff`) is 0.17 M and 1.05 M.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use focal_tui::app::{App, Body};
use focal_tui::example::Pane;
use focal_tui::screen::Screen;
use focal_tui::theme::Look;
use focal_tui::ui;
use ratatui::backend::TestBackend;
use ratatui::layout::Size;

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// The explorer with K deterministic logits, focus on `field_tabs` Tabs from Logits.
fn app_with(k: usize, field_tabs: usize) -> App {
    let mut app = App::with_defaults(Look::default());
    let logits: String = (0..k).map(|i| format!("{} ", ((7919 * i + 13) % 2003) as f64 / 64.0 - 15.0)).collect();
    app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)), Event::Paste(logits)]);
    app.handle_events((0..field_tabs).map(|_| key(KeyCode::Tab)));
    app
}

fn keystroke(c: &mut Criterion) {
    let mut group = c.benchmark_group("keystroke_pair");
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        for k in [3usize, 1_000, 100_000] {
            // γ field: "2" → "21" → "2".
            let mut app = app_with(k, 2);
            let mut screen = Screen::new(TestBackend::new(w, h), Size::new(w, h)).unwrap();
            group.bench_with_input(BenchmarkId::new(format!("gamma_{w}x{h}"), k), &k, |b, _| {
                b.iter(|| {
                    for event in [key(KeyCode::Char('1')), key(KeyCode::Backspace)] {
                        app.handle_events([black_box(event)]);
                        screen.draw(|buf| ui::view(buf, &app)).unwrap();
                    }
                })
            });
        }
    }
    // A target vector (label smoothing 0.1 on the class): no softmax is kept
    // between keystrokes, every class's term is computed afresh.
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        for k in [3usize, 1_000] {
            let mut app = app_with(k, 4);
            app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL))]);
            app.handle_events("0.1".chars().map(|c| key(KeyCode::Char(c))));
            app.handle_events([key(KeyCode::BackTab), key(KeyCode::BackTab)]);
            let mut screen = Screen::new(TestBackend::new(w, h), Size::new(w, h)).unwrap();
            group.bench_with_input(BenchmarkId::new(format!("smoothed_gamma_{w}x{h}"), k), &k, |b, _| {
                b.iter(|| {
                    for event in [key(KeyCode::Char('1')), key(KeyCode::Backspace)] {
                        app.handle_events([black_box(event)]);
                        screen.draw(|buf| ui::view(buf, &app)).unwrap();
                    }
                })
            });
        }
    }
    // The same with the precision lens visible (three naive passes per edit).
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        for k in [3usize, 1_000, 100_000] {
            let mut app = app_with(k, 2);
            app.handle_events([Event::Resize(w, h)]);
            while !matches!(&app.body, Body::Example(e) if e.pane == Pane::Lens) {
                app.handle_events([key(KeyCode::F(2))]);
            }
            let mut screen = Screen::new(TestBackend::new(w, h), Size::new(w, h)).unwrap();
            group.bench_with_input(BenchmarkId::new(format!("lens_gamma_{w}x{h}"), k), &k, |b, _| {
                b.iter(|| {
                    for event in [key(KeyCode::Char('1')), key(KeyCode::Backspace)] {
                        app.handle_events([black_box(event)]);
                        screen.draw(|buf| ui::view(buf, &app)).unwrap();
                    }
                })
            });
        }
    }
    // As kornia computes it (F7 twice): α placed per class, the library's
    // line and formula derived on every edit.
    for k in [3usize, 1_000, 100_000] {
        let mut app = app_with(k, 2);
        app.handle_events([key(KeyCode::F(7)), key(KeyCode::F(7))]);
        let mut screen = Screen::new(TestBackend::new(80, 24), Size::new(80, 24)).unwrap();
        group.bench_with_input(BenchmarkId::new("kornia_gamma_80x24", k), &k, |b, _| {
            b.iter(|| {
                for event in [key(KeyCode::Char('1')), key(KeyCode::Backspace)] {
                    app.handle_events([black_box(event)]);
                    screen.draw(|buf| ui::view(buf, &app)).unwrap();
                }
            })
        });
    }
    // Editing the logits themselves (only the touched numbers are re-parsed).
    for k in [1_000usize, 100_000] {
        let mut app = app_with(k, 0);
        let mut screen = Screen::new(TestBackend::new(80, 24), Size::new(80, 24)).unwrap();
        group.bench_with_input(BenchmarkId::new("logits_80x24", k), &k, |b, _| {
            b.iter(|| {
                for event in [key(KeyCode::Char('1')), key(KeyCode::Backspace)] {
                    app.handle_events([black_box(event)]);
                    screen.draw(|buf| ui::view(buf, &app)).unwrap();
                }
            })
        });
    }
    group.finish();
}

fn startup(c: &mut Criterion) {
    c.bench_function("startup_first_frame_120x40", |b| {
        b.iter(|| {
            let app = App::with_defaults(Look::default());
            let mut screen = Screen::new(TestBackend::new(120, 40), Size::new(120, 40)).unwrap();
            screen.draw(|buf| ui::view(buf, &app)).unwrap();
            black_box(screen.backend().buffer().area);
        })
    });
}

criterion_group!(benches, keystroke, startup);
criterion_main!(benches);
