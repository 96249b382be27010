//! A deflated `.npz` member read as a stream: inflated in order, its CRC-32
//! checked when its last byte is produced.
//!
//! Deflate has no random access. Reading class planes in strips (the
//! class axis not last) goes back within an item and forward again, so a
//! member keeps either
//! - one inflater with a window of the bytes last produced, as far back as
//!   the reader goes (an item's class planes), when that is small; or
//! - one inflater per class plane, each inflating the member up to where
//!   its plane is read and keeping no window: memory per plane, not per
//!   item, at the cost of inflating the member once per plane.
//!
//! A read is served by an inflater whose window holds its position; else
//! a new one is started while there are fewer than allowed; else the one
//! least far behind moves forward. A position behind all of them is an
//! error.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Take};
use std::path::{Path, PathBuf};

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

/// How a member is read back: the bytes each inflater keeps behind its
/// end, and how many inflaters at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reach {
    pub keep: usize,
    pub inflaters: usize,
}

impl Reach {
    /// Reading in order: one inflater, no window.
    pub const IN_ORDER: Reach = Reach { keep: 0, inflaters: 1 };
}

/// The inflated bytes of one member, readable and seekable as [`Reach`] allows.
pub struct Inflate {
    path: PathBuf,
    member: Deflated,
    reach: Reach,
    inflaters: Vec<Inflater>,
    /// The read position, in inflated bytes.
    pos: u64,
}

/// One pass of inflating the member.
struct Inflater {
    decoder: DeflateDecoder<Take<BufReader<File>>>,
    crc: crc32fast::Hasher,
    /// Inflated bytes `produced - window.len() .. produced`.
    window: Vec<u8>,
    produced: u64,
}

impl Inflate {
    /// The member of `path` at `member`, read from its first inflated
    /// byte (the file is opened by the first read).
    pub fn new(path: &Path, member: Deflated, reach: Reach) -> Inflate {
        Inflate { path: path.to_path_buf(), member, reach, inflaters: Vec::new(), pos: 0 }
    }

    /// The inflater to read `pos` from (see the module's doc).
    fn serving(&mut self, pos: u64) -> io::Result<usize> {
        let holds = |i: &Inflater| i.base() <= pos && pos < i.produced;
        if let Some(at) = self.inflaters.iter().position(holds) {
            return Ok(at);
        }
        if self.inflaters.len() < self.reach.inflaters {
            self.inflaters.push(Inflater::new(File::open(&self.path)?, self.member)?);
            return Ok(self.inflaters.len() - 1);
        }
        let behind = self.inflaters.iter().enumerate().filter(|(_, i)| i.base() <= pos);
        behind.max_by_key(|(_, i)| i.produced).map(|(at, _)| at).ok_or_else(|| {
            io::Error::new(io::ErrorKind::Unsupported, "a deflated member cannot be read backwards beyond its window")
        })
    }
}

impl Inflater {
    fn new(mut file: File, member: Deflated) -> io::Result<Inflater> {
        file.seek(SeekFrom::Start(member.offset))?;
        let decoder = DeflateDecoder::new(BufReader::new(file).take(member.compressed));
        Ok(Inflater { decoder, crc: crc32fast::Hasher::new(), window: Vec::new(), produced: 0 })
    }

    /// The first inflated byte still in the window.
    fn base(&self) -> u64 {
        self.produced - self.window.len() as u64
    }

    /// Inflates the next step into the window, dropping what lies more
    /// than `keep` behind (in pieces of half of it, so the copy is amortised).
    fn step(&mut self, member: Deflated, keep: usize) -> io::Result<()> {
        if self.produced == member.size {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end of the member"));
        }
        // At most 1.5 × keep resident; each byte is moved at most twice.
        if self.window.len() >= keep + keep / 2 + STEP {
            self.window.drain(..self.window.len() - keep);
        }
        let want = STEP.min((member.size - self.produced) as usize);
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
                format!("truncated: the deflated member ends after {} of its {} bytes", self.produced, member.size),
            ));
        }
        if self.produced == member.size {
            let crc = self.crc.clone().finalize();
            if crc != member.crc {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "CRC-32 mismatch: the member inflates to {crc:08x}, the zip directory says {:08x}",
                        member.crc
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
        let at = self.serving(self.pos)?;
        let (member, keep, pos) = (self.member, self.reach.keep, self.pos);
        let inflater = &mut self.inflaters[at];
        while pos >= inflater.produced {
            inflater.step(member, keep)?;
        }
        let from = &inflater.window[(pos - inflater.base()) as usize..];
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
