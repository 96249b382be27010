//! Zeroed memory mapped straight from the operating system, for the loss
//! histograms' bins: a page costs memory only once written, whatever state
//! malloc is in.
//!
//! `calloc` gives the same only while its request is above malloc's mmap
//! threshold. glibc raises that threshold to the size of each mapped block
//! freed (up to 32 MiB), so once an accumulator was dropped the next one's
//! histograms came from reused heap memory, cleared byte by byte: megabytes
//! written, and resident, per accumulator.

use std::ptr::NonNull;

/// `len` zeroed `u128`s in pages of their own, unmapped on drop.
pub(super) struct Zeroed {
    ptr: NonNull<u128>,
    len: usize,
}

// The mapping is owned like a `Box<[u128]>`.
unsafe impl Send for Zeroed {}
unsafe impl Sync for Zeroed {}

impl Zeroed {
    pub(super) fn new(len: usize) -> Self {
        if len == 0 {
            return Zeroed { ptr: NonNull::dangling(), len };
        }
        let layout = std::alloc::Layout::array::<u128>(len).expect("a histogram's size fits in memory");
        // SAFETY: an anonymous private mapping of a non-zero length, owned
        // by the value returned (unmapped in `drop`).
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                layout.size(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        match ptr {
            libc::MAP_FAILED => std::alloc::handle_alloc_error(layout),
            // Page-aligned, so aligned for u128.
            p => Zeroed { ptr: NonNull::new(p.cast()).expect("mmap returns no null mapping"), len },
        }
    }
}

impl Drop for Zeroed {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: the mapping made in `new`, of this size, unmapped once.
            unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len * std::mem::size_of::<u128>()) };
        }
    }
}

impl std::ops::Deref for Zeroed {
    type Target = [u128];
    fn deref(&self) -> &[u128] {
        // SAFETY: `len` initialised (zeroed) u128s owned by `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl std::ops::DerefMut for Zeroed {
    fn deref_mut(&mut self) -> &mut [u128] {
        // SAFETY: as in `deref`, borrowed mutably through `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_memory_reads_zero_and_keeps_what_is_written() {
        for len in [0, 1, 1 << 15, 3 << 16] {
            let mut z = Zeroed::new(len);
            assert_eq!(z.len(), len);
            assert!(z.iter().all(|&x| x == 0));
            if len > 1 {
                (z[0], z[len - 1]) = (7, u128::MAX);
                assert_eq!((z[0], z[1], z[len - 1]), (7, if len == 2 { u128::MAX } else { 0 }, u128::MAX));
            }
        }
    }
}
