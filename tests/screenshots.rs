//! Screenshots of the real screens for the README, as SVG: each screen is
//! drawn by the real `ui::view` into ratatui's `TestBackend`, and its buffer
//! is converted cell by cell (a `<text>` per run of cells in one style, a
//! background rectangle under every cell with a background, the cursor as a
//! block). By default this test renders every screen and fails unless the
//! committed file under `screenshots/` is byte-identical, so a change to the
//! render code cannot leave the README's pictures behind. To regenerate them:
//!
//! ```sh
//! UPDATE_SCREENSHOTS=1 cargo test --test screenshots
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use focal_tui::app::App;
use focal_tui::cli::DataArgs;
use focal_tui::data::sweep::DEFAULT_GAMMAS;
use focal_tui::dataset::Dataset;
use focal_tui::loss::Alpha;
use focal_tui::theme::Look;
use focal_tui::ui;
use ratatui::backend::TestBackend;
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Size;
use ratatui::style::{Color, Modifier};
use ratatui::text::Span;

/// The command that rewrites the committed screenshots.
const UPDATE: &str = "UPDATE_SCREENSHOTS=1 cargo test --test screenshots";

/// Geometry in tenths of a pixel, so that every coordinate is an integer
/// and prints with at most one decimal place.
const CELL_W: u32 = 84;
const CELL_H: u32 = 180;
/// From the top of a row to the text baseline.
const BASELINE: u32 = 135;
/// Around the cell grid.
const PAD: u32 = 120;
const FONT_SIZE: &str = "14";
const FONT_FAMILY: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";

/// The screen behind everything, and the text in the default colour.
const BACKGROUND: &str = "#1e1e1e";
const FOREGROUND: &str = "#cccccc";

/// The 16 ANSI colours, as VS Code's dark terminal shows them, in ANSI
/// order (black, red, green, yellow, blue, magenta, cyan, white, then the
/// bright ones).
const ANSI: [&str; 16] = [
    "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5", "#767676", "#f14c4c",
    "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
];

struct Screen {
    name: &'static str,
    width: u16,
    height: u16,
    /// Brings the explorer (on its defaults) to the state shown.
    setup: fn(&mut App),
}

const SCREENS: &[Screen] = &[
    Screen { name: "explorer-wide", width: 120, height: 40, setup: |_| {} },
    Screen { name: "explorer-80x24", width: 80, height: 24, setup: |_| {} },
    Screen { name: "help", width: 100, height: 32, setup: |app| type_text(app, "?") },
    Screen { name: "invalid-field", width: 80, height: 24, setup: |app| type_text(app, ", x") },
    Screen {
        name: "classes-80x24",
        width: 80,
        height: 24,
        setup: |app| {
            for _ in 0..2 {
                press(app, KeyCode::F(2));
            }
        },
    },
    Screen { name: "lens-wide", width: 120, height: 40, setup: |app| lens_example(app, 120, 40) },
    Screen { name: "lens-80x24", width: 80, height: 24, setup: |app| lens_example(app, 80, 24) },
    Screen { name: "sigmoid-wide", width: 120, height: 40, setup: |app| press(app, KeyCode::F(3)) },
    Screen {
        name: "steps-wide",
        width: 120,
        height: 40,
        setup: |app| {
            app.handle_events([Event::Resize(120, 40)]);
            press(app, KeyCode::F(2));
            press(app, KeyCode::F(2));
        },
    },
    Screen { name: "log-chart-wide", width: 120, height: 40, setup: |app| press(app, KeyCode::F(4)) },
    Screen { name: "dataset-wide", width: 120, height: 40, setup: |app| *app = dataset() },
    Screen {
        name: "dataset-80x24",
        width: 80,
        height: 24,
        setup: |app| {
            *app = dataset();
            type_text(app, ".5");
        },
    },
];

/// Logits whose float16 exp overflows, γ 0.5, and the lens pane.
fn lens_example(app: &mut App, width: u16, height: u16) {
    app.handle_events([Event::Resize(width, height)]);
    press(app, KeyCode::Home);
    app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('k'), KeyModifiers::CONTROL))]);
    type_text(app, "2, 12, -3");
    press(app, KeyCode::Tab);
    press(app, KeyCode::Tab);
    app.handle_events([Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL))]);
    type_text(app, "0.5");
    let presses = if width >= 120 { 3 } else { 4 };
    for _ in 0..presses {
        press(app, KeyCode::F(2));
    }
}

/// The dataset view on tests/data/val_*.npy (made by gen_fixtures.py):
/// `focal-tui --data val_logits.npy --labels val_labels.npy`.
fn dataset() -> App {
    let file = |name: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    let args =
        DataArgs { logits: vec![file("val_logits.npy")], labels: vec![file("val_labels.npy")], ..DataArgs::default() };
    let mut loaded = focal_tui::data::run::load(&args).expect("the fixture loads");
    loaded.name = "val_logits.npy".into();
    let data = Dataset::new(loaded, 2.0, &DEFAULT_GAMMAS, Alpha::Scalar(0.25));
    let texts = ["", "", "2", "0.25", "0, 0.5, 1, 2, 5"].map(String::from);
    App::with_data(texts, data, Look::default())
}

fn press(app: &mut App, code: KeyCode) {
    app.handle_events([Event::Key(KeyEvent::new(code, KeyModifiers::NONE))]);
}

fn type_text(app: &mut App, text: &str) {
    app.handle_events(text.chars().map(|c| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))));
}

fn render(screen: &Screen) -> String {
    let mut app = App::with_defaults(Look::default());
    (screen.setup)(&mut app);
    let (w, h) = (screen.width, screen.height);
    let mut terminal = focal_tui::screen::Screen::new(TestBackend::new(w, h), Size::new(w, h)).unwrap();
    terminal.draw(|buf| ui::view(buf, &app)).unwrap();
    let backend = terminal.backend();
    let mut buffer = backend.buffer().clone();
    // A block cursor, as most terminals draw it.
    if backend.cursor_visible() {
        let position = backend.cursor_position();
        if let Some(cell) = buffer.cell_mut(position) {
            cell.modifier.toggle(Modifier::REVERSED);
        }
    }
    let title = format!("focal-tui {}, {}×{}", screen.name, screen.width, screen.height);
    svg(&buffer, &title)
}

#[test]
fn screenshots_match_the_render_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots");
    let update = std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| !v.is_empty() && v != "0");
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut stale: Vec<PathBuf> = Vec::new();
    for screen in SCREENS {
        let path = dir.join(format!("{}.svg", screen.name));
        let svg = render(screen);
        if update {
            std::fs::write(&path, svg).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        } else if std::fs::read(&path).ok().as_deref() != Some(svg.as_bytes()) {
            stale.push(path);
        }
    }
    assert!(
        stale.is_empty(),
        "these screenshots are missing or no longer match the render code:\n{}\n\
         regenerate them with `{UPDATE}` and review the result",
        stale.iter().map(|p| format!("  {}", p.display())).collect::<Vec<_>>().join("\n")
    );
}

/// Tenths of a pixel as an SVG number: `84` → `8.4`, `180` → `18`.
fn px(tenths: u32) -> String {
    if tenths.is_multiple_of(10) { (tenths / 10).to_string() } else { format!("{}.{}", tenths / 10, tenths % 10) }
}

fn color(c: Color) -> Option<String> {
    let hex = |r: u8, g: u8, b: u8| format!("#{r:02x}{g:02x}{b:02x}");
    Some(match c {
        Color::Reset => return None,
        Color::Black => ANSI[0].into(),
        Color::Red => ANSI[1].into(),
        Color::Green => ANSI[2].into(),
        Color::Yellow => ANSI[3].into(),
        Color::Blue => ANSI[4].into(),
        Color::Magenta => ANSI[5].into(),
        Color::Cyan => ANSI[6].into(),
        Color::Gray => ANSI[7].into(),
        Color::DarkGray => ANSI[8].into(),
        Color::LightRed => ANSI[9].into(),
        Color::LightGreen => ANSI[10].into(),
        Color::LightYellow => ANSI[11].into(),
        Color::LightBlue => ANSI[12].into(),
        Color::LightMagenta => ANSI[13].into(),
        Color::LightCyan => ANSI[14].into(),
        Color::White => ANSI[15].into(),
        Color::Rgb(r, g, b) => hex(r, g, b),
        // The xterm 256-colour palette.
        Color::Indexed(i @ 0..16) => ANSI[i as usize].into(),
        Color::Indexed(i @ 16..232) => {
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            let i = i - 16;
            hex(level(i / 36), level(i / 6 % 6), level(i % 6))
        }
        Color::Indexed(i) => {
            let v = 8 + 10 * (i - 232);
            hex(v, v, v)
        }
    })
}

/// What a cell looks like once its modifiers are applied: the colours
/// actually painted (`None` is the default) and the font attributes.
#[derive(PartialEq, Eq)]
struct Paint {
    fg: Option<String>,
    bg: Option<String>,
    bold: bool,
    italic: bool,
    dim: bool,
    underline: bool,
    strike: bool,
    hidden: bool,
}

fn paint(cell: &Cell) -> Paint {
    let m = cell.modifier;
    let (mut fg, mut bg) = (color(cell.fg), color(cell.bg));
    if m.contains(Modifier::REVERSED) {
        (fg, bg) = (Some(bg.unwrap_or_else(|| BACKGROUND.into())), Some(fg.unwrap_or_else(|| FOREGROUND.into())));
    }
    Paint {
        fg,
        bg,
        bold: m.contains(Modifier::BOLD),
        italic: m.contains(Modifier::ITALIC),
        dim: m.contains(Modifier::DIM),
        underline: m.contains(Modifier::UNDERLINED),
        strike: m.contains(Modifier::CROSSED_OUT),
        hidden: m.contains(Modifier::HIDDEN),
    }
}

fn escape(symbol: &str, out: &mut String) {
    for c in symbol.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Not allowed in XML.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
}

/// A light box-drawing character as a path from the cell's centre out to
/// the edges it joins (`d` gets the subpaths); false for any other symbol.
fn draw_line(symbol: &str, left: u32, top: u32, d: &mut String) -> bool {
    // Which edges the character reaches: left, right, up, down.
    let (l, r, u, w) = match symbol {
        "─" => (true, true, false, false),
        "│" => (false, false, true, true),
        "┌" | "╭" => (false, true, false, true),
        "┐" | "╮" => (true, false, false, true),
        "└" | "╰" => (false, true, true, false),
        "┘" | "╯" => (true, false, true, false),
        "├" => (false, true, true, true),
        "┤" => (true, false, true, true),
        "┬" => (true, true, false, true),
        "┴" => (true, true, true, false),
        "┼" => (true, true, true, true),
        _ => return false,
    };
    let (cx, cy) = (left + CELL_W / 2, top + CELL_H / 2);
    if l || r {
        let from = if l { left } else { cx };
        let to = if r { left + CELL_W } else { cx };
        write!(d, "M{} {}H{}", px(from), px(cy), px(to)).unwrap();
    }
    if u || w {
        let from = if u { top } else { cy };
        let to = if w { top + CELL_H } else { cy };
        write!(d, "M{} {}V{}", px(cx), px(from), px(to)).unwrap();
    }
    true
}

/// A braille pattern (what ratatui's charts plot with) as square dots on
/// the cell's 2 × 4 grid; false for any other symbol.
fn draw_braille(symbol: &str, left: u32, top: u32, d: &mut String) -> bool {
    let mut chars = symbol.chars();
    let (Some(c @ '\u{2800}'..='\u{28ff}'), None) = (chars.next(), chars.next()) else {
        return false;
    };
    let bits = u32::from(c) - 0x2800;
    // Unicode's dot numbering: bit i is dot DOTS[i] as (column, row).
    const DOTS: [(u32, u32); 8] = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3)];
    const SIZE: u32 = 22;
    for (i, (col, row)) in DOTS.iter().enumerate() {
        if bits & (1 << i) != 0 {
            let x = left + CELL_W / 4 + col * CELL_W / 2 - SIZE / 2;
            let y = top + CELL_H / 8 + row * CELL_H / 4 - SIZE / 2;
            write!(d, "M{} {}h{s}v{s}h-{s}z", px(x), px(y), s = px(SIZE)).unwrap();
        }
    }
    true
}

/// What one character cell (or a wide character's cells) draws.
struct Glyph {
    symbol: String,
    cells: u32,
    paint: Paint,
}

/// Row `y` of the buffer as glyphs: a wide character takes the cells it
/// covers (hiding the continuation cells after it), and a cell with an
/// empty symbol is a blank, so every glyph stays in its own column.
fn glyphs(buffer: &Buffer, y: u16) -> Vec<Glyph> {
    let area = buffer.area;
    let mut row = Vec::new();
    let mut x = 0;
    while x < area.width {
        let cell = &buffer[(area.x + x, area.y + y)];
        let width = Span::raw(cell.symbol()).width().clamp(1, usize::from(area.width - x));
        let symbol = match cell.symbol() {
            "" => " ",
            symbol => symbol,
        };
        row.push(Glyph { symbol: symbol.to_string(), cells: width as u32, paint: paint(cell) });
        x += width as u16;
    }
    row
}

/// The buffer as a standalone SVG image.
fn svg(buffer: &Buffer, title: &str) -> String {
    let area = buffer.area;
    let width = 2 * PAD + u32::from(area.width) * CELL_W;
    let height = 2 * PAD + u32::from(area.height) * CELL_H;
    let mut out = String::new();
    let mut title_text = String::new();
    escape(title, &mut title_text);
    writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">"#,
        w = px(width),
        h = px(height),
    )
    .unwrap();
    writeln!(out, "<title>{title_text}</title>").unwrap();
    writeln!(out, r#"<rect width="100%" height="100%" rx="6" fill="{BACKGROUND}"/>"#).unwrap();
    writeln!(
        out,
        r#"<g font-family="{FONT_FAMILY}" font-size="{FONT_SIZE}" fill="{FOREGROUND}" xml:space="preserve">"#
    )
    .unwrap();
    let mut backgrounds = String::new();
    let mut graphics = String::new();
    let mut texts = String::new();
    for y in 0..area.height {
        let row = glyphs(buffer, y);
        let top = PAD + u32::from(y) * CELL_H;
        let mut col = 0;
        for run in row.chunk_by(|a, b| a.paint == b.paint) {
            let style = &run[0].paint;
            let cells: u32 = run.iter().map(|g| g.cells).sum();
            let left = PAD + col * CELL_W;
            col += cells;
            if let Some(bg) = &style.bg {
                writeln!(
                    backgrounds,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{bg}"/>"#,
                    px(left),
                    px(top),
                    px(cells * CELL_W),
                    px(CELL_H),
                )
                .unwrap();
            }
            if style.hidden {
                continue;
            }
            // Lines and braille dots are drawn, not typeset, so that they
            // join across cells whatever the font; their cells are blank text.
            let mut lines = String::new();
            let mut dots = String::new();
            let mut symbols: Vec<(&str, u32)> = Vec::with_capacity(run.len());
            let mut x = left;
            for g in run {
                let drawn = draw_line(&g.symbol, x, top, &mut lines) || draw_braille(&g.symbol, x, top, &mut dots);
                symbols.push((if drawn { " " } else { &g.symbol }, g.cells));
                x += g.cells * CELL_W;
            }
            let stroke = style.fg.as_deref().unwrap_or(FOREGROUND);
            let dim = if style.dim { r#" opacity="0.6""# } else { "" };
            if !lines.is_empty() {
                writeln!(
                    graphics,
                    r#"<path d="{lines}" fill="none" stroke="{stroke}" stroke-width="1.2" stroke-linecap="square"{dim}/>"#
                )
                .unwrap();
            }
            if !dots.is_empty() {
                writeln!(graphics, r#"<path d="{dots}" fill="{stroke}"{dim}/>"#).unwrap();
            }
            // Leading and trailing blanks draw nothing (unless lined).
            let lined = style.underline || style.strike;
            let blank = |g: &&(&str, u32)| !lined && g.0.trim().is_empty();
            let lead = symbols.iter().take_while(blank).count();
            let trail = symbols[lead..].iter().rev().take_while(blank).count();
            let shown = &symbols[lead..symbols.len() - trail];
            if shown.is_empty() {
                continue;
            }
            let skipped: u32 = symbols[..lead].iter().map(|g| g.1).sum();
            let mut text = String::new();
            for g in shown {
                escape(g.0, &mut text);
            }
            let mut attributes = String::new();
            if let Some(fg) = &style.fg {
                write!(attributes, r#" fill="{fg}""#).unwrap();
            }
            if style.bold {
                attributes.push_str(r#" font-weight="bold""#);
            }
            if style.italic {
                attributes.push_str(r#" font-style="italic""#);
            }
            attributes.push_str(dim);
            match (style.underline, style.strike) {
                (true, true) => attributes.push_str(r#" text-decoration="underline line-through""#),
                (true, false) => attributes.push_str(r#" text-decoration="underline""#),
                (false, true) => attributes.push_str(r#" text-decoration="line-through""#),
                (false, false) => {}
            }
            writeln!(
                texts,
                r#"<text x="{}" y="{}" textLength="{}" lengthAdjust="spacingAndGlyphs"{attributes}>{text}</text>"#,
                px(left + skipped * CELL_W),
                px(top + BASELINE),
                px(shown.iter().map(|g| g.1).sum::<u32>() * CELL_W),
            )
            .unwrap();
        }
    }
    out.push_str(&backgrounds);
    out.push_str(&graphics);
    out.push_str(&texts);
    out.push_str("</g>\n</svg>\n");
    out
}
