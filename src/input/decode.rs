//! The terminal's bytes as key and paste events: UTF-8 characters, C0
//! controls, `ESC` + a key (Alt), CSI and SS3 sequences (arrows, Home/End,
//! Insert/Delete, Page keys, F1–F12, with xterm's modifier parameter),
//! bracketed paste, and mouse reports (SGR 1006 as `--mouse` asks for, and
//! the X10 form of terminals without it). The explorer turns on no focus or
//! keyboard protocol, so their reports are dropped.
//!
//! A bracketed paste ends at `ESC [201~`, at a Ctrl+C (a real paste holds no
//! ETX; after a stray `ESC [200~` it is the user's), or when the terminal has
//! been silent for a while (the caller says when, by [`Decoder::end_paste`]).
//! A long paste is delivered in pieces of at most [`PASTE_PIECE`] bytes.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

/// The most bytes of paste held before they are delivered.
pub const PASTE_PIECE: usize = 1 << 20;
/// An escape sequence longer than this is garbage: dropped, not waited out.
const MAX_SEQUENCE: usize = 64;
const ESC: u8 = 0x1b;
const CTRL_C: u8 = 0x03;
const PASTE_END: &[u8] = b"\x1b[201~";

#[derive(Default)]
pub struct Decoder {
    /// The bytes of a key not yet complete (an escape sequence, a UTF-8
    /// character).
    partial: Vec<u8>,
    /// Inside a bracketed paste: its bytes so far.
    paste: Option<Vec<u8>>,
}

/// What the bytes of `partial` are.
#[derive(Debug, PartialEq)]
enum Decoded {
    /// The start of something: wait for more.
    Partial,
    Key(KeyCode, KeyModifiers),
    Mouse(MouseEvent),
    PasteStart,
    /// A complete sequence that means nothing here.
    Ignored,
    /// The last byte cannot continue what came before it: that is the key
    /// given (or nothing), and the last byte starts afresh.
    Broken(Option<(KeyCode, KeyModifiers)>),
}

impl Decoder {
    /// Decodes `bytes`, appending the events they complete to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) {
        for &byte in bytes {
            if self.paste.is_some() {
                self.paste_byte(byte, out);
            } else {
                self.partial.push(byte);
                self.decode_partial(out);
            }
        }
    }

    /// Nothing more is ready to read: an `ESC` alone is the Esc key.
    pub fn idle(&mut self, out: &mut Vec<Event>) {
        if self.partial == [ESC] {
            self.partial.clear();
            out.push(key(KeyCode::Esc, KeyModifiers::NONE));
        }
    }

    /// The bytes so far end with an `ESC` that may start a sequence.
    pub fn ends_in_esc(&self) -> bool {
        self.partial == [ESC]
    }

    /// Inside a bracketed paste that has not ended yet.
    pub fn in_paste(&self) -> bool {
        self.paste.is_some()
    }

    /// Ends the paste as it stands (its end never came).
    pub fn end_paste(&mut self, out: &mut Vec<Event>) {
        if let Some(paste) = self.paste.take() {
            push_paste(&paste, out);
        }
    }

    fn paste_byte(&mut self, byte: u8, out: &mut Vec<Event>) {
        let Some(paste) = &mut self.paste else { return };
        if byte == CTRL_C {
            self.end_paste(out);
            out.push(key(KeyCode::Char('c'), KeyModifiers::CONTROL));
            return;
        }
        paste.push(byte);
        if paste.ends_with(PASTE_END) {
            paste.truncate(paste.len() - PASTE_END.len());
            self.end_paste(out);
        } else if paste.len() >= PASTE_PIECE {
            // Keep what may be the start of the end or of a character.
            let mut cut = paste.len() - (PASTE_END.len() - 1);
            while cut > 0 && paste[cut] & 0xc0 == 0x80 {
                cut -= 1;
            }
            push_paste(&paste[..cut], out);
            paste.drain(..cut);
        }
    }

    fn decode_partial(&mut self, out: &mut Vec<Event>) {
        match decode(&self.partial) {
            Decoded::Partial => return,
            Decoded::Key(code, modifiers) => out.push(key(code, modifiers)),
            Decoded::Mouse(mouse) => out.push(Event::Mouse(mouse)),
            Decoded::PasteStart => self.paste = Some(Vec::new()),
            Decoded::Ignored => {}
            Decoded::Broken(before) => {
                out.extend(before.map(|(code, modifiers)| key(code, modifiers)));
                let last = self.partial[self.partial.len() - 1];
                self.partial.clear();
                self.partial.push(last);
                return self.decode_partial(out);
            }
        }
        self.partial.clear();
    }
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
    Event::Key(KeyEvent::new(code, modifiers))
}

fn push_paste(bytes: &[u8], out: &mut Vec<Event>) {
    if !bytes.is_empty() {
        out.push(Event::Paste(String::from_utf8_lossy(bytes).into_owned()));
    }
}

fn decode(bytes: &[u8]) -> Decoded {
    match bytes {
        [] | [ESC] => Decoded::Partial,
        // Esc pressed twice, or Esc then a sequence.
        [ESC, ESC] => Decoded::Broken(Some((KeyCode::Esc, KeyModifiers::NONE))),
        // X10 mouse: `ESC [ M` and three bytes, each 32 + a value.
        [ESC, b'[', b'M', rest @ ..] if rest.len() < 3 => Decoded::Partial,
        [ESC, b'[', b'M', b, x, y] => {
            mouse(u32::from(b.wrapping_sub(32)), x.wrapping_sub(32), y.wrapping_sub(32), true)
        }
        [ESC, b'[', rest @ ..] => csi(rest),
        [ESC, b'O', rest @ ..] => ss3(rest),
        // A control after Esc is its own key: Ctrl+C is never Alt+Ctrl+C.
        [ESC, c] if c.is_ascii_control() && *c != 0x7f => Decoded::Broken(Some((KeyCode::Esc, KeyModifiers::NONE))),
        [ESC, rest @ ..] => match plain(rest) {
            Decoded::Key(code, modifiers) => Decoded::Key(code, modifiers | KeyModifiers::ALT),
            Decoded::Broken(_) => Decoded::Broken(None),
            other => other,
        },
        _ => plain(bytes),
    }
}

/// One byte that is not `ESC`, or one UTF-8 character.
fn plain(bytes: &[u8]) -> Decoded {
    let ctrl = |c: u8| Decoded::Key(KeyCode::Char(c as char), KeyModifiers::CONTROL);
    match bytes[0] {
        b'\r' => Decoded::Key(KeyCode::Enter, KeyModifiers::NONE),
        b'\t' => Decoded::Key(KeyCode::Tab, KeyModifiers::NONE),
        0x7f => Decoded::Key(KeyCode::Backspace, KeyModifiers::NONE),
        0 => ctrl(b' '),
        // In raw mode Enter sends CR; LF is Ctrl+J, as crossterm reads it.
        c @ 0x01..=0x1a => ctrl(c - 1 + b'a'),
        c @ 0x1c..=0x1f => ctrl(c - 0x1c + b'4'),
        _ => utf8(bytes),
    }
}

fn utf8(bytes: &[u8]) -> Decoded {
    let len = match bytes[0] {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return Decoded::Ignored,
    };
    if bytes.len() > 1 && bytes[bytes.len() - 1] & 0xc0 != 0x80 {
        return Decoded::Broken(None);
    }
    if bytes.len() < len {
        return Decoded::Partial;
    }
    match std::str::from_utf8(bytes).ok().and_then(|s| s.chars().next()) {
        // As crossterm: an upper-case letter carries Shift.
        Some(c) if c.is_uppercase() => Decoded::Key(KeyCode::Char(c), KeyModifiers::SHIFT),
        Some(c) => Decoded::Key(KeyCode::Char(c), KeyModifiers::NONE),
        None => Decoded::Ignored,
    }
}

/// After `ESC [`: parameter bytes, then one final byte.
fn csi(rest: &[u8]) -> Decoded {
    let Some((&last, body)) = rest.split_last() else {
        return Decoded::Partial;
    };
    // The Linux console's F1–F5: `ESC [ [ A` to `E`.
    if body == b"[" {
        return match last {
            b'A'..=b'E' => Decoded::Key(KeyCode::F(last - b'A' + 1), KeyModifiers::NONE),
            _ if last.is_ascii_control() => Decoded::Broken(None),
            _ => Decoded::Ignored,
        };
    }
    match last {
        // Parameter and intermediate bytes: not finished yet.
        0x20..=0x3f if rest.len() < MAX_SEQUENCE => Decoded::Partial,
        0x20..=0x3f => Decoded::Ignored,
        b'[' if body.is_empty() => Decoded::Partial,
        0x40..=0x7e => csi_key(body, last),
        // A control or a non-ASCII byte ends the sequence unfinished.
        _ => Decoded::Broken(None),
    }
}

/// A complete CSI sequence: `params` (numbers separated by `;`, each maybe
/// with `:` sub-parameters) and its final byte.
fn csi_key(params: &[u8], last: u8) -> Decoded {
    // SGR mouse: `ESC [ < button ; column ; row` then `M` (press) or `m`.
    if let (Some(b'<'), b'M' | b'm') = (params.first(), last) {
        let numbers: Vec<u32> = std::str::from_utf8(&params[1..])
            .ok()
            .into_iter()
            .flat_map(|p| p.split(';'))
            .filter_map(|n| n.parse().ok())
            .collect();
        return match numbers[..] {
            [button, column, row] => {
                let cell = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
                mouse_at(button, cell(column), cell(row), last == b'M')
            }
            _ => Decoded::Ignored,
        };
    }
    // Private replies (`?`), other reports and focus (`I`, `O`).
    if params.first().is_some_and(|b| matches!(b, b'<' | b'?' | b'>' | b'=')) {
        return Decoded::Ignored;
    }
    let Ok(params) = std::str::from_utf8(params) else { return Decoded::Ignored };
    let number = |i: usize| -> Option<u32> {
        let field = params.split(';').nth(i)?;
        let main = field.split(':').next()?;
        if main.is_empty() { Some(1) } else { main.parse().ok() }
    };
    let modifiers = modifiers(number(1).unwrap_or(1));
    let code = match last {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        b'D' => KeyCode::Left,
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        b'P' => KeyCode::F(1),
        b'Q' => KeyCode::F(2),
        b'R' => KeyCode::F(3),
        b'S' => KeyCode::F(4),
        b'Z' => return Decoded::Key(KeyCode::BackTab, modifiers | KeyModifiers::SHIFT),
        b'~' => match number(0) {
            Some(1 | 7) => KeyCode::Home,
            Some(2) => KeyCode::Insert,
            Some(3) => KeyCode::Delete,
            Some(4 | 8) => KeyCode::End,
            Some(5) => KeyCode::PageUp,
            Some(6) => KeyCode::PageDown,
            Some(n @ 11..=15) => KeyCode::F((n - 10) as u8),
            Some(n @ 17..=21) => KeyCode::F((n - 11) as u8),
            Some(n @ 23..=24) => KeyCode::F((n - 12) as u8),
            Some(200) => return Decoded::PasteStart,
            // xterm's modifyOtherKeys: `ESC [ 27 ; modifiers ; code ~`.
            Some(27) => return number(2).map_or(Decoded::Ignored, |c| unicode_key(c, modifiers)),
            _ => return Decoded::Ignored,
        },
        // `ESC [ code ; modifiers u` (fixterms, kitty's basic form).
        b'u' => return number(0).map_or(Decoded::Ignored, |c| unicode_key(c, modifiers)),
        _ => return Decoded::Ignored,
    };
    Decoded::Key(code, modifiers)
}

/// An X10 report: the button code, 1-based column and row as bytes.
fn mouse(button: u32, column: u8, row: u8, press: bool) -> Decoded {
    // X10 reports every release as button 3.
    let press = (press && button & 3 != 3) || button & 64 != 0;
    mouse_at(button, column.into(), row.into(), press)
}

/// A mouse report: xterm's button code (low bits the button, 4/8/16 Shift,
/// Alt, Ctrl, 32 motion, 64 the wheel) at a 1-based column and row.
fn mouse_at(button: u32, column: u16, row: u16, press: bool) -> Decoded {
    let which = match button & 3 {
        0 => MouseButton::Left,
        1 => MouseButton::Middle,
        _ => MouseButton::Right,
    };
    let kind = match (button & 64 != 0, button & 32 != 0, button & 3) {
        (true, _, 0) => MouseEventKind::ScrollUp,
        (true, _, 1) => MouseEventKind::ScrollDown,
        (true, _, 2) => MouseEventKind::ScrollLeft,
        (true, _, _) => MouseEventKind::ScrollRight,
        (false, true, 3) => MouseEventKind::Moved,
        (false, true, _) => MouseEventKind::Drag(which),
        (false, false, _) if press => MouseEventKind::Down(which),
        (false, false, _) => MouseEventKind::Up(which),
    };
    let mut modifiers = KeyModifiers::NONE;
    for (bit, modifier) in [(4, KeyModifiers::SHIFT), (8, KeyModifiers::ALT), (16, KeyModifiers::CONTROL)] {
        if button & bit != 0 {
            modifiers |= modifier;
        }
    }
    let cell = |n: u16| n.saturating_sub(1);
    Decoded::Mouse(MouseEvent { kind, column: cell(column), row: cell(row), modifiers })
}

/// A key sent as its code point with modifiers.
fn unicode_key(code: u32, modifiers: KeyModifiers) -> Decoded {
    let code = match code {
        9 => KeyCode::Tab,
        13 => KeyCode::Enter,
        27 => KeyCode::Esc,
        127 | 8 => KeyCode::Backspace,
        c => match char::from_u32(c) {
            Some(c) if !c.is_control() => KeyCode::Char(c),
            _ => return Decoded::Ignored,
        },
    };
    Decoded::Key(code, modifiers)
}

/// xterm's modifier parameter: 1 + a bit mask.
fn modifiers(parameter: u32) -> KeyModifiers {
    let mask = parameter.saturating_sub(1);
    let mut modifiers = KeyModifiers::NONE;
    for (bit, modifier) in [
        (1, KeyModifiers::SHIFT),
        (2, KeyModifiers::ALT),
        (4, KeyModifiers::CONTROL),
        (8, KeyModifiers::SUPER),
        (16, KeyModifiers::HYPER),
        (32, KeyModifiers::META),
    ] {
        if mask & bit != 0 {
            modifiers |= modifier;
        }
    }
    modifiers
}

/// After `ESC O`: one byte (application-mode arrows, Home/End, F1–F4).
fn ss3(rest: &[u8]) -> Decoded {
    let code = match rest {
        [] => return Decoded::Partial,
        [b'A'] => KeyCode::Up,
        [b'B'] => KeyCode::Down,
        [b'C'] => KeyCode::Right,
        [b'D'] => KeyCode::Left,
        [b'H'] => KeyCode::Home,
        [b'F'] => KeyCode::End,
        [c @ b'P'..=b'S'] => KeyCode::F(c - b'P' + 1),
        [c] if c.is_ascii_control() || !c.is_ascii() => return Decoded::Broken(None),
        _ => return Decoded::Ignored,
    };
    Decoded::Key(code, KeyModifiers::NONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: KeyModifiers = KeyModifiers::NONE;
    const CTRL: KeyModifiers = KeyModifiers::CONTROL;
    const ALT: KeyModifiers = KeyModifiers::ALT;
    const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

    /// The events of `bytes` read in one piece, then idle.
    fn events(bytes: &[u8]) -> Vec<Event> {
        let mut decoder = Decoder::default();
        let mut out = Vec::new();
        decoder.feed(bytes, &mut out);
        decoder.idle(&mut out);
        out
    }

    fn keys(list: &[(KeyCode, KeyModifiers)]) -> Vec<Event> {
        list.iter().map(|&(code, modifiers)| key(code, modifiers)).collect()
    }

    #[test]
    fn characters_and_controls() {
        assert_eq!(
            events("a1,Zé€😀".as_bytes()),
            keys(&[
                (KeyCode::Char('a'), NONE),
                (KeyCode::Char('1'), NONE),
                (KeyCode::Char(','), NONE),
                (KeyCode::Char('Z'), SHIFT),
                (KeyCode::Char('é'), NONE),
                (KeyCode::Char('€'), NONE),
                (KeyCode::Char('😀'), NONE),
            ])
        );
        assert_eq!(
            events(b"\r\t\x7f\x03\x08\x15\x00\x1c\n"),
            keys(&[
                (KeyCode::Enter, NONE),
                (KeyCode::Tab, NONE),
                (KeyCode::Backspace, NONE),
                (KeyCode::Char('c'), CTRL),
                (KeyCode::Char('h'), CTRL),
                (KeyCode::Char('u'), CTRL),
                (KeyCode::Char(' '), CTRL),
                (KeyCode::Char('4'), CTRL),
                (KeyCode::Char('j'), CTRL),
            ])
        );
        // A bad byte is dropped; the next character still reads.
        assert_eq!(
            events(b"\xff1\xc3(2"),
            keys(&[(KeyCode::Char('1'), NONE), (KeyCode::Char('('), NONE), (KeyCode::Char('2'), NONE)])
        );
    }

    #[test]
    fn esc_and_alt() {
        assert_eq!(events(b"\x1b"), keys(&[(KeyCode::Esc, NONE)]));
        assert_eq!(events(b"\x1b\x1b"), keys(&[(KeyCode::Esc, NONE), (KeyCode::Esc, NONE)]));
        assert_eq!(
            events(b"\x1bb\x1bf\x1bd\x1b\x7f\x1bB"),
            keys(&[
                (KeyCode::Char('b'), ALT),
                (KeyCode::Char('f'), ALT),
                (KeyCode::Char('d'), ALT),
                (KeyCode::Backspace, ALT),
                (KeyCode::Char('B'), ALT | SHIFT),
            ])
        );
        assert_eq!(events(b"\x1b\x03"), keys(&[(KeyCode::Esc, NONE), (KeyCode::Char('c'), CTRL)]));
        assert_eq!(events(b"\x1b\x1b[A"), keys(&[(KeyCode::Esc, NONE), (KeyCode::Up, NONE)]));
        // An Esc that the bytes read so far end with waits for the rest.
        let (mut decoder, mut out) = (Decoder::default(), Vec::new());
        decoder.feed(b"\x1b", &mut out);
        decoder.feed(b"[B", &mut out);
        assert_eq!(out, keys(&[(KeyCode::Down, NONE)]));
    }

    #[test]
    fn sequences() {
        let cases: &[(&[u8], KeyCode, KeyModifiers)] = &[
            (b"\x1b[A", KeyCode::Up, NONE),
            (b"\x1b[B", KeyCode::Down, NONE),
            (b"\x1b[C", KeyCode::Right, NONE),
            (b"\x1b[D", KeyCode::Left, NONE),
            (b"\x1bOA", KeyCode::Up, NONE),
            (b"\x1bOH", KeyCode::Home, NONE),
            (b"\x1b[H", KeyCode::Home, NONE),
            (b"\x1b[F", KeyCode::End, NONE),
            (b"\x1b[1~", KeyCode::Home, NONE),
            (b"\x1b[4~", KeyCode::End, NONE),
            (b"\x1b[3~", KeyCode::Delete, NONE),
            (b"\x1b[3;5~", KeyCode::Delete, CTRL),
            (b"\x1b[1;5D", KeyCode::Left, CTRL),
            (b"\x1b[1;3C", KeyCode::Right, ALT),
            (b"\x1b[Z", KeyCode::BackTab, SHIFT),
            (b"\x1bOP", KeyCode::F(1), NONE),
            (b"\x1bOS", KeyCode::F(4), NONE),
            (b"\x1b[1;2Q", KeyCode::F(2), SHIFT),
            (b"\x1b[15~", KeyCode::F(5), NONE),
            (b"\x1b[17~", KeyCode::F(6), NONE),
            (b"\x1b[24~", KeyCode::F(12), NONE),
            (b"\x1b[[A", KeyCode::F(1), NONE),
            (b"\x1b[27;3;98~", KeyCode::Char('b'), ALT),
            (b"\x1b[99;5u", KeyCode::Char('c'), CTRL),
        ];
        for &(bytes, code, modifiers) in cases {
            assert_eq!(events(bytes), keys(&[(code, modifiers)]), "{bytes:?}");
        }
        // Unknown and unrequested reports are dropped whole.
        assert_eq!(events(b"\x1b[<0;3M\x1b[I\x1b[99~\x1b[?1;2c\x1bOx1"), keys(&[(KeyCode::Char('1'), NONE)]));
    }

    fn mouse(kind: MouseEventKind, column: u16, row: u16, modifiers: KeyModifiers) -> Event {
        Event::Mouse(MouseEvent { kind, column, row, modifiers })
    }

    /// SGR (1006) reports: 1-based cells become 0-based, `M` presses and
    /// `m` releases, 64 + 0/1 the wheel, 4/8/16 the modifiers, 32 motion.
    #[test]
    fn sgr_mouse_reports() {
        use MouseEventKind::*;
        let left = MouseButton::Left;
        let cases: &[(&[u8], Event)] = &[
            (b"\x1b[<0;3;4M", mouse(Down(left), 2, 3, NONE)),
            (b"\x1b[<0;3;4m", mouse(Up(left), 2, 3, NONE)),
            (b"\x1b[<2;1;1M", mouse(Down(MouseButton::Right), 0, 0, NONE)),
            (b"\x1b[<64;30;2M", mouse(ScrollUp, 29, 1, NONE)),
            (b"\x1b[<65;30;2M", mouse(ScrollDown, 29, 1, NONE)),
            (b"\x1b[<80;30;2M", mouse(ScrollUp, 29, 1, CTRL)),
            (b"\x1b[<4;10;5M", mouse(Down(left), 9, 4, SHIFT)),
            (b"\x1b[<32;10;5M", mouse(Drag(left), 9, 4, NONE)),
            (b"\x1b[<35;10;5M", mouse(Moved, 9, 4, NONE)),
            (b"\x1b[<0;250;300M", mouse(Down(left), 249, 299, NONE)),
            // X10, for terminals without SGR: 32 + button, column, row.
            (b"\x1b[M !\"", mouse(Down(left), 0, 1, NONE)),
            (b"\x1b[M`+%", mouse(ScrollUp, 10, 4, NONE)),
        ];
        for (bytes, want) in cases {
            assert_eq!(&events(bytes), std::slice::from_ref(want), "{bytes:?}");
        }
        // Keys around reports, and a report split across reads.
        let (mut decoder, mut out) = (Decoder::default(), Vec::new());
        for piece in [&b"1\x1b[<6"[..], b"5;12;", b"3M2"] {
            decoder.feed(piece, &mut out);
        }
        let digit = |c| key(KeyCode::Char(c), NONE);
        assert_eq!(out, vec![digit('1'), mouse(ScrollDown, 11, 2, NONE), digit('2')]);
        // A malformed report is dropped whole.
        assert_eq!(events(b"\x1b[<0;3M\x1b[<0;1;2;3M3"), keys(&[(KeyCode::Char('3'), NONE)]));
    }

    /// A control byte inside an unfinished sequence is read as itself.
    #[test]
    fn a_broken_sequence_keeps_the_control_that_broke_it() {
        assert_eq!(events(b"\x1b[1;\x03"), keys(&[(KeyCode::Char('c'), CTRL)]));
        assert_eq!(events(b"\x1bO\x1b"), keys(&[(KeyCode::Esc, NONE)]));
        assert_eq!(events(b"\x1b[\x1b[A"), keys(&[(KeyCode::Up, NONE)]));
        // An endless parameter list is not waited out.
        let mut bytes = b"\x1b[".to_vec();
        bytes.extend(std::iter::repeat_n(b'1', 200));
        assert_eq!(events(&bytes).len(), 200 - MAX_SEQUENCE);
    }

    #[test]
    fn bracketed_paste() {
        assert_eq!(
            events(b"1\x1b[200~[1,\r\n 2]\x1b\x1b[201~2"),
            vec![key(KeyCode::Char('1'), NONE), Event::Paste("[1,\r\n 2]\x1b".into()), key(KeyCode::Char('2'), NONE)]
        );
        // In pieces, the end marker split.
        let (mut decoder, mut out) = (Decoder::default(), Vec::new());
        for piece in [&b"\x1b[20"[..], b"0~a\xc3", b"\xa9\x1b[2", b"01", b"~"] {
            decoder.feed(piece, &mut out);
            decoder.idle(&mut out);
        }
        assert_eq!(out, vec![Event::Paste("aé".into())]);
        assert!(!decoder.in_paste());
    }

    /// A paste whose end never comes: Ctrl+C still reads, and the caller
    /// ends it after a silence; later keys are keys.
    #[test]
    fn an_unended_paste_is_bounded() {
        assert_eq!(events(b"\x1b[200~12\x03"), vec![Event::Paste("12".into()), key(KeyCode::Char('c'), CTRL)]);
        let (mut decoder, mut out) = (Decoder::default(), Vec::new());
        decoder.feed(b"\x1b[200~3", &mut out);
        decoder.idle(&mut out);
        assert!(decoder.in_paste() && out.is_empty());
        decoder.end_paste(&mut out);
        decoder.feed(b"\x1b", &mut out);
        decoder.idle(&mut out);
        assert_eq!(out, vec![Event::Paste("3".into()), key(KeyCode::Esc, NONE)]);
    }

    /// A paste longer than a piece arrives in pieces that join to it,
    /// cut between characters.
    #[test]
    fn a_long_paste_arrives_in_pieces() {
        let text = "é1, ".repeat(PASTE_PIECE / 3);
        let mut bytes = b"\x1b[200~".to_vec();
        bytes.extend_from_slice(text.as_bytes());
        bytes.extend_from_slice(PASTE_END);
        let out = events(&bytes);
        assert!(out.len() >= 2);
        let joined: String = out
            .iter()
            .map(|e| match e {
                Event::Paste(p) => {
                    assert!(p.len() <= PASTE_PIECE);
                    p.as_str()
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(joined, text);
    }
}
