//! The terminal's input, read here and not by crossterm's reader: that one
//! reads one chunk of what is queued, then waits on an edge-triggered poll
//! that the bytes still queued never wake, so a burst of keys stayed unread
//! until the next key. Here poll(2) reports queued bytes for as long as they
//! are there, and everything ready is read before the events are returned.
//! [`decode`] turns the bytes into crossterm's events.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crossterm::event::Event;

mod decode;

use decode::Decoder;

/// The most bytes read into one batch: a stream that never pauses is still
/// handled, and drawn, batch by batch.
const BATCH_BYTES: usize = 1 << 20;
/// How long an `ESC` that ends what was read waits for the rest of a
/// sequence (a burst written in pieces) before it is the Esc key.
const ESC_WAIT: Duration = Duration::from_millis(50);
/// A bracketed paste is over once the terminal has sent nothing for this
/// long, its end marker or not.
const PASTE_SILENCE: Duration = Duration::from_millis(500);

pub struct Input {
    tty: RawFd,
    /// Readable after a SIGWINCH.
    resized: UnixStream,
    decoder: Decoder,
    buffer: Vec<u8>,
}

impl Input {
    /// Reads standard input, which must be the terminal.
    pub fn new() -> io::Result<Input> {
        let (resized, sender) = UnixStream::pair()?;
        resized.set_nonblocking(true)?;
        signal_hook::low_level::pipe::register(signal_hook::consts::SIGWINCH, sender)?;
        Ok(Input { tty: io::stdin().as_raw_fd(), resized, decoder: Decoder::default(), buffer: vec![0; 1 << 16] })
    }

    /// Waits for input, then returns every event that is ready.
    pub fn read(&mut self) -> io::Result<Vec<Event>> {
        let mut events = Vec::new();
        while events.is_empty() {
            let timeout = self.decoder.in_paste().then_some(PASTE_SILENCE);
            let [tty, resized] = poll([self.tty, self.resized.as_raw_fd()], timeout)?;
            if !tty && !resized {
                self.decoder.end_paste(&mut events);
            }
            if resized {
                while io::Read::read(&mut &self.resized, &mut [0; 64]).is_ok_and(|n| n > 0) {}
                let (width, height) = crossterm::terminal::size()?;
                events.push(Event::Resize(width, height));
            }
            if tty {
                self.read_ready(&mut events)?;
            }
        }
        Ok(events)
    }

    /// Reads until nothing more is queued (or a batch is full).
    fn read_ready(&mut self, events: &mut Vec<Event>) -> io::Result<()> {
        let mut total = 0;
        loop {
            // SAFETY: the buffer is valid for writes of its length.
            let n = unsafe { libc::read(self.tty, self.buffer.as_mut_ptr().cast(), self.buffer.len()) };
            match n {
                0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the terminal was closed")),
                n if n < 0 => {
                    let error = io::Error::last_os_error();
                    if error.kind() == io::ErrorKind::Interrupted {
                        continue;
                    }
                    return Err(error);
                }
                n => {
                    self.decoder.feed(&self.buffer[..n as usize], events);
                    total += n as usize;
                }
            }
            let wait = if self.decoder.ends_in_esc() { ESC_WAIT } else { Duration::ZERO };
            if !poll([self.tty], Some(wait))?[0] {
                self.decoder.idle(events);
                return Ok(());
            }
            if total >= BATCH_BYTES {
                return Ok(());
            }
        }
    }
}

/// Which of `fds` can be read (or have hung up) within `timeout` (`None`:
/// wait as long as it takes).
fn poll<const N: usize>(fds: [RawFd; N], timeout: Option<Duration>) -> io::Result<[bool; N]> {
    let mut polled = fds.map(|fd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 });
    let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
    loop {
        // SAFETY: `polled` is an array of N pollfd.
        if unsafe { libc::poll(polled.as_mut_ptr(), N as libc::nfds_t, ms) } >= 0 {
            return Ok(polled.map(|p| p.revents != 0));
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}
