//! A deflated `.npz` member read as a stream: inflated in order, its CRC-32
//! checked when its last byte is produced, and a window of the bytes last
//! produced kept so that a reader may seek back within it (the class-plane
//! strips of one item) or anywhere forward.
//!
//! Deflate has no random access: a seek before the window is an error, and
//! the window is sized by the caller to the farthest it must go back.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Take};

use flate2::read::DeflateDecoder;

/// Bytes inflated per step.
const STEP: usize = 1 << 16;

/// Where a deflated member is, and what it must inflate to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deflated {
    /// Byte offset of the compressed data in the file.
    pub offset: u64,
    pub compressed: u64,
    /// Bytes once inflated.
    pub size: u64,
    pub crc: u32,
}

/// The inflated bytes of one member, readable and seekable within a window.
pub struct Inflate {
    decoder: DeflateDecoder<Take<BufReader<File>>>,
    member: Deflated,
    crc: crc32fast::Hasher,
    /// Inflated bytes `produced - window.len() .. produced`.
    window: Vec<u8>,
    produced: u64,
    /// How far back a seek must still find its bytes.
    keep: usize,
    /// The read position, in inflated bytes.
    pos: u64,
}

impl Inflate {
    /// The member of `file` at `member`, read from its first inflated byte,
    /// able to seek back `keep` bytes behind the farthest read.
    pub fn new(mut file: File, member: Deflated, keep: usize) -> io::Result<Inflate> {
        file.seek(SeekFrom::Start(member.offset))?;
        let decoder = DeflateDecoder::new(BufReader::new(file).take(member.compressed));
        Ok(Inflate { decoder, member, crc: crc32fast::Hasher::new(), window: Vec::new(), produced: 0, keep, pos: 0 })
    }

    /// Inflates the next step into the window, dropping what lies more
    /// than `keep` behind (in pieces of half of it, so the copy is amortised).
    fn step(&mut self) -> io::Result<()> {
        if self.produced == self.member.size {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end of the member"));
        }
        // At most 1.5 × keep resident; each byte is moved at most twice.
        if self.window.len() >= self.keep + self.keep / 2 + STEP {
            self.window.drain(..self.window.len() - self.keep);
        }
        let want = STEP.min((self.member.size - self.produced) as usize);
        let start = self.window.len();
        self.window.resize(start + want, 0);
        let mut got = 0;
        while got < want {
            match self.decoder.read(&mut self.window[start + got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.window.truncate(start);
                    return Err(io::Error::new(e.kind(), format!("corrupt deflated data: {e}")));
                }
            }
        }
        self.window.truncate(start + got);
        self.crc.update(&self.window[start..]);
        self.produced += got as u64;
        if got < want {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "truncated: the deflated member ends after {} of its {} bytes",
                    self.produced, self.member.size
                ),
            ));
        }
        if self.produced == self.member.size {
            let crc = self.crc.clone().finalize();
            if crc != self.member.crc {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "CRC-32 mismatch: the member inflates to {crc:08x}, the zip directory says {:08x}",
                        self.member.crc
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl Read for Inflate {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.pos >= self.member.size {
            return Ok(0);
        }
        let base = self.produced - self.window.len() as u64;
        if self.pos < base {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a deflated member cannot be read backwards beyond its window",
            ));
        }
        while self.pos >= self.produced {
            self.step()?;
        }
        let base = self.produced - self.window.len() as u64;
        let from = &self.window[(self.pos - base) as usize..];
        let n = from.len().min(buf.len());
        buf[..n].copy_from_slice(&from[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Inflate {
    /// Moves the read position; the bytes are inflated when read.
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.member.size.checked_add_signed(d),
        };
        self.pos = pos.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}
