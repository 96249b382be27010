//! How the explorer looks: styles from the 16 ANSI colours (they follow the
//! user's palette), or none at all under NO_COLOR, where bold, reverse and
//! underline carry the meaning; and the glyphs the terminal can show.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::{Marker, border};

#[derive(Clone, Debug)]
pub struct Theme {
    pub text: Style,
    pub muted: Style,
    pub title: Style,
    /// The focused field's label.
    pub focus: Style,
    pub error: Style,
    /// The results while a field is invalid.
    pub stale: Style,
    /// The focal loss value.
    pub headline: Style,
    /// The target class and the current table row.
    pub target: Style,
    pub key: Style,
    /// Chart curves; the current γ uses `current`.
    pub series: [Style; 5],
    pub current: Style,
    pub bar: Style,
}

impl Theme {
    pub fn color() -> Self {
        let fg = |c| Style::new().fg(c);
        Theme {
            text: Style::new(),
            muted: fg(Color::DarkGray),
            title: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            focus: fg(Color::Black).bg(Color::Cyan).add_modifier(Modifier::BOLD),
            error: fg(Color::Red).add_modifier(Modifier::BOLD),
            stale: fg(Color::Magenta).add_modifier(Modifier::BOLD),
            headline: fg(Color::Green).add_modifier(Modifier::BOLD),
            target: fg(Color::Yellow).add_modifier(Modifier::BOLD),
            key: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            series: [fg(Color::Blue), fg(Color::Magenta), fg(Color::Cyan), fg(Color::Green), fg(Color::Red)],
            current: fg(Color::Yellow).add_modifier(Modifier::BOLD),
            bar: fg(Color::Blue),
        }
    }

    /// No colour anywhere: focus and the target are reversed, errors
    /// underlined, the headline and the current curve bold.
    pub fn mono() -> Self {
        let plain = Style::new();
        let bold = plain.add_modifier(Modifier::BOLD);
        Theme {
            text: plain,
            muted: plain,
            title: bold,
            focus: bold.add_modifier(Modifier::REVERSED),
            error: bold.add_modifier(Modifier::UNDERLINED),
            stale: bold.add_modifier(Modifier::UNDERLINED),
            headline: bold,
            target: bold.add_modifier(Modifier::REVERSED),
            key: bold,
            series: [plain; 5],
            current: bold,
            bar: plain,
        }
    }
}

/// Theme plus the glyphs: the chart marker, and ASCII stand-ins for the
/// few decorative characters when the locale cannot show Unicode.
#[derive(Clone, Debug)]
pub struct Look {
    pub theme: Theme,
    pub marker: Marker,
    /// The locale is UTF-8 (or the user asked for a Unicode marker).
    pub unicode: bool,
}

impl Look {
    pub fn new(mono: bool, marker: Marker, unicode: bool) -> Self {
        Look { theme: if mono { Theme::mono() } else { Theme::color() }, marker, unicode }
    }

    /// Box-drawing lines, or `+ - |` where the locale cannot show them.
    pub fn border(&self) -> border::Set<'static> {
        if self.unicode { border::PLAIN } else { ASCII_BORDER }
    }

    /// A probability bar of `width` cells filled to `fraction`.
    pub fn bar(&self, fraction: f64, width: usize) -> String {
        let filled = (fraction.clamp(0.0, 1.0) * width as f64).round() as usize;
        let (on, off) = if self.unicode { ('█', '·') } else { ('#', '.') };
        std::iter::repeat_n(on, filled).chain(std::iter::repeat_n(off, width - filled)).collect()
    }
}

const ASCII_BORDER: border::Set<'static> = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

impl Default for Look {
    fn default() -> Self {
        Look::new(false, Marker::Braille, true)
    }
}
