//! The five fields: one line each, an error line under a field that does not
//! parse, horizontal scrolling and the cursor from tui-input.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::field::Field;

const LABEL: u16 = 12;

pub fn height(app: &App) -> u16 {
    (Field::ALL.len() + app.errors.iter().flatten().count()) as u16
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.look.theme;
    let mut y = area.y;
    for field in Field::ALL {
        if y >= area.bottom() {
            return;
        }
        let focused = field == app.focus && !app.help;
        let (mark, style) = if field == app.focus {
            ("▸ ", theme.focus)
        } else {
            ("  ", theme.title)
        };
        let label = format!("{mark}{}", field.label());
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(
                format!("{label:<w$}", w = LABEL as usize - 1),
                style,
            ))),
            Rect::new(area.x, y, LABEL.min(area.width), 1),
        );
        let text_area = Rect::new(area.x + LABEL, y, area.width.saturating_sub(LABEL + 1), 1);
        let input = app.input(field);
        // One cell is kept for the cursor at the end of the text.
        let scroll = input.visual_scroll(text_area.width.saturating_sub(1) as usize);
        frame.render_widget(
            Paragraph::new(input.value())
                .style(theme.text)
                .scroll((0, scroll as u16)),
            text_area,
        );
        if focused {
            let x = input.visual_cursor().saturating_sub(scroll) as u16;
            frame.set_cursor_position((text_area.x + x.min(text_area.width), y));
        }
        y += 1;
        if let Some(error) = &app.errors[field.index()] {
            if y >= area.bottom() {
                return;
            }
            let line = Line::from(vec![
                Span::raw(" ".repeat(LABEL as usize)),
                Span::styled(format!("✗ {error}"), theme.error),
            ]);
            frame.render_widget(Paragraph::new(line), Rect::new(area.x, y, area.width, 1));
            y += 1;
        }
    }
}
