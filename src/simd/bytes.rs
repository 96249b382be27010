//! The views of memory that the readers need and safe Rust does not give
//! for free: a buffer's spare room filled without a zeroing pass, float32
//! values as their bytes.

/// Appends `f` of each `N`-byte item of `bytes` to `out`, written into its
/// spare capacity (no zeroing pass); returns whether `f` found every item
/// valid. Inlined, so that the loop vectorises in the caller's instruction
/// set.
#[inline(always)]
pub(crate) fn append_items<const N: usize, U>(
    bytes: &[u8],
    out: &mut Vec<U>,
    f: impl Fn([u8; N]) -> (U, bool),
) -> bool {
    let n = bytes.len() / N;
    out.reserve(n);
    let mut valid = true;
    for (slot, b) in out.spare_capacity_mut()[..n].iter_mut().zip(bytes.chunks_exact(N)) {
        let (value, ok) = f(b.try_into().expect("N bytes"));
        slot.write(value);
        valid &= ok;
    }
    // SAFETY: the loop above initialised the first n spare slots (zip stops
    // at the shorter side, and both have n items).
    unsafe { out.set_len(out.len() + n) };
    valid
}

/// The bytes of `z`, to be read into in place.
pub(crate) fn f32_bytes_mut(z: &mut [f32]) -> &mut [u8] {
    // SAFETY: the 4 · len bytes of z, u8 aligned; every bit pattern is an f32.
    unsafe { std::slice::from_raw_parts_mut(z.as_mut_ptr().cast::<u8>(), 4 * z.len()) }
}
