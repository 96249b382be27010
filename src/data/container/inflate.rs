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

use crate::data::source::fill;

/// Bytes inflated per step.
const STEP: usize = 1 << 14;

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
    /// The last bytes inflated, in a ring: inflated byte `i` is at
    /// `ring[i % ring.len()]`, so that nothing is moved to make room and
    /// the memory is the window itself (`keep` and one step).
    ring: Vec<u8>,
    /// Bytes `produced - held .. produced` are in the ring.
    held: usize,
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
            self.inflaters.push(Inflater::new(File::open(&self.path)?, self.member, self.reach.keep)?);
            return Ok(self.inflaters.len() - 1);
        }
        let behind = self.inflaters.iter().enumerate().filter(|(_, i)| i.base() <= pos);
        behind.max_by_key(|(_, i)| i.produced).map(|(at, _)| at).ok_or_else(|| {
            io::Error::new(io::ErrorKind::Unsupported, "a deflated member cannot be read backwards beyond its window")
        })
    }
}

impl Inflater {
    /// An inflater of `member` from `file`, keeping `keep` bytes behind the
    /// last step (no more than the member holds).
    fn new(mut file: File, member: Deflated, keep: usize) -> io::Result<Inflater> {
        file.seek(SeekFrom::Start(member.offset))?;
        let decoder = DeflateDecoder::new(BufReader::new(file).take(member.compressed));
        // Zeroed pages are mapped as they are first written: a small member costs what it inflates to.
        let ring = vec![0; (keep as u64 + STEP as u64).min(member.size).max(1) as usize];
        Ok(Inflater { decoder, crc: crc32fast::Hasher::new(), ring, held: 0, produced: 0 })
    }

    /// The first inflated byte still in the ring.
    fn base(&self) -> u64 {
        self.produced - self.held as u64
    }

    /// Inflates the next step into the ring, over its oldest bytes.
    fn step(&mut self, member: Deflated) -> io::Result<()> {
        if self.produced == member.size {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end of the member"));
        }
        let cap = self.ring.len();
        let want = STEP.min(cap).min((member.size - self.produced) as usize);
        // The bytes about to be written over leave the window first.
        self.held = self.held.min(cap - want);
        let at = (self.produced % cap as u64) as usize;
        let (tail, head) = (at..cap.min(at + want), 0..(at + want).saturating_sub(cap));
        let mut got = 0;
        for piece in [tail, head] {
            let n = inflate_into(&mut self.decoder, &mut self.ring[piece.clone()])?;
            self.crc.update(&self.ring[piece.start..piece.start + n]);
            got += n;
            if n < piece.len() {
                break;
            }
        }
        self.produced += got as u64;
        self.held += got;
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

    /// The held bytes from `pos` on, up to the end of the ring's storage.
    fn from(&self, pos: u64) -> &[u8] {
        let cap = self.ring.len() as u64;
        let at = (pos % cap) as usize;
        let end = at + (self.produced - pos).min(cap - at as u64) as usize;
        &self.ring[at..end]
    }
}

/// Inflates into `buf` until it is full or the data ends; the bytes inflated.
fn inflate_into(decoder: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    fill(decoder, buf).map_err(|e| io::Error::new(e.kind(), format!("corrupt deflated data: {e}")))
}

impl Read for Inflate {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.pos >= self.member.size {
            return Ok(0);
        }
        let at = self.serving(self.pos)?;
        let (member, pos) = (self.member, self.pos);
        let inflater = &mut self.inflaters[at];
        while pos >= inflater.produced {
            inflater.step(member)?;
        }
        let from = inflater.from(pos);
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::DeflateEncoder;

    use super::*;

    /// `data` deflated into a file of its own, after `offset` bytes of padding.
    fn deflated(name: &str, data: &[u8], offset: usize) -> (PathBuf, Deflated) {
        let mut encoder = DeflateEncoder::new(vec![7u8; offset], Compression::fast());
        encoder.write_all(data).unwrap();
        let bytes = encoder.finish().unwrap();
        let path = std::env::temp_dir().join(format!("focal-tui-inflate-{}-{name}", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let mut crc = crc32fast::Hasher::new();
        crc.update(data);
        let member = Deflated {
            offset: offset as u64,
            compressed: (bytes.len() - offset) as u64,
            size: data.len() as u64,
            crc: crc.finalize(),
        };
        (path, member)
    }

    /// Reads going back within the window and forward again, across the
    /// ring's wrap at every offset, give the member's bytes; one further
    /// back than the window is refused.
    #[test]
    fn reads_back_within_the_window_give_the_bytes() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let data: Vec<u8> = (0..300_000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Runs of repeated bytes too, so that deflate finds matches.
                if i % 1000 < 300 { (i / 1000) as u8 } else { x as u8 }
            })
            .collect();
        let keep = 40_000;
        let (path, member) = deflated("window", &data, 13);
        let mut inflate = Inflate::new(&path, member, Reach { keep, inflaters: 1 });
        let (mut at, mut buf) = (0u64, vec![0; 7_001]);
        for i in 0u64.. {
            inflate.seek(SeekFrom::Start(at)).unwrap();
            let n = inflate.read(&mut buf).unwrap();
            assert!(n > 0);
            assert_eq!(&buf[..n], &data[at as usize..at as usize + n], "at {at}");
            // Forward, and every third read back by up to the window (as strips of class planes go).
            at = (at + 30_011).saturating_sub((i % 3) * (keep as u64 / 2));
            if at >= data.len() as u64 {
                break;
            }
        }
        // The end was produced: a read far behind it is refused.
        inflate.seek(SeekFrom::Start(data.len() as u64 - 1)).unwrap();
        assert_eq!(inflate.read(&mut buf).unwrap(), 1);
        inflate.seek(SeekFrom::Start(data.len() as u64 - (keep + 2 * STEP) as u64)).unwrap();
        assert_eq!(inflate.read(&mut buf).unwrap_err().kind(), io::ErrorKind::Unsupported);
        // In order, with no window: every byte once, then the end.
        let mut inflate = Inflate::new(&path, member, Reach::IN_ORDER);
        let mut all = Vec::new();
        inflate.read_to_end(&mut all).unwrap();
        assert!(all == data);
        std::fs::remove_file(&path).unwrap();
    }
}
