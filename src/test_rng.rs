//! Reproducible pseudo-random numbers for the crate's randomised tests: one
//! generator (xorshift64), so that every test draws the same sequence on
//! every run.

/// xorshift64 from a non-zero seed.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next word.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// The next word reduced to `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// An element of `xs`.
    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// The words of [`Rng`] from `seed`, as a closure.
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut rng = Rng::new(seed);
    move || rng.next()
}

/// Deterministic uniform values in [lo, hi).
pub(crate) fn uniform(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f64> {
    let mut next = xorshift(seed);
    (0..n).map(|_| lo + (hi - lo) * ((next() >> 11) as f64 / (1u64 << 53) as f64)).collect()
}
