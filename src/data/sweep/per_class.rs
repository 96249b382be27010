//! Each class's count, correct count and sums, in memory that grows with
//! the classes seen rather than with K.

use super::sums::{WideSum, put};
use super::vec_bytes;

/// Up to this K every class's block sums are merged at the end of a block;
/// above, only the classes the block's rows touched.
const MERGE_ALL_UP_TO: usize = 64;

/// Each class's count, correct count and sums (CE, then FL per γ), kept in
/// slots. Up to [`MERGE_ALL_UP_TO`] classes, slot c is class c and the sums
/// are quantity-major (what the block loops and the AVX-512 lanes index);
/// above, a class gets a slot when a row first has it, its sums slot-major,
/// so that memory grows with the classes seen, not with K: a file of two
/// rows of ten million logits holds two classes' sums.
pub(super) struct PerClass {
    classes: usize,
    /// Sums per class: 1 + G.
    w: usize,
    /// Above [`MERGE_ALL_UP_TO`] classes: each class's slot + 1, 0 for none
    /// (zeroed on allocation: untouched pages cost nothing).
    slot_of: Vec<u32>,
    /// The class of each slot.
    class_of: Vec<usize>,
    pub(super) count: Vec<u64>,
    pub(super) correct: Vec<u64>,
    pub(super) sums: Vec<WideSum>,
    /// The current block's plain sums, same layout, merged at its end.
    pub(super) block: Vec<f64>,
    /// Slots the block's rows touched (sparse layout only).
    touched: Vec<bool>,
    touched_list: Vec<usize>,
}

impl PerClass {
    pub(super) fn new(classes: usize, w: usize) -> Self {
        let dense = classes <= MERGE_ALL_UP_TO;
        let n = if dense { classes } else { 0 };
        PerClass {
            classes,
            w,
            slot_of: if dense { Vec::new() } else { vec![0; classes] },
            class_of: (0..n).collect(),
            count: vec![0; n],
            correct: vec![0; n],
            sums: vec![WideSum::default(); n * w],
            block: vec![0.0; n * w],
            touched: Vec::new(),
            touched_list: Vec::new(),
        }
    }

    /// Slot c is class c (and every class has one).
    pub(super) fn dense(&self) -> bool {
        self.slot_of.is_empty()
    }

    /// Where sum `q` of slot `s` is.
    pub(super) fn at(&self, s: usize, q: usize) -> usize {
        if self.dense() { q * self.classes + s } else { s * self.w + q }
    }

    /// Class `c`'s slot, if it has one.
    pub(super) fn find(&self, c: usize) -> Option<usize> {
        if self.dense() {
            return Some(c);
        }
        self.slot_of[c].checked_sub(1).map(|s| s as usize)
    }

    /// Class `c`'s slot, made when it has none.
    fn slot(&mut self, c: usize) -> usize {
        if let Some(s) = self.find(c) {
            return s;
        }
        let s = self.class_of.len();
        self.slot_of[c] = u32::try_from(s + 1).expect("fewer than 2^32 classes seen");
        self.class_of.push(c);
        self.count.push(0);
        self.correct.push(0);
        self.sums.resize(self.sums.len() + self.w, WideSum::default());
        self.block.resize(self.block.len() + self.w, 0.0);
        self.touched.push(false);
        s
    }

    // The sparse layout's steps stay out of the dense path's inlined loops.

    /// The slots of a block's rows (`labels`) in `slots`.
    #[inline(never)]
    pub(super) fn assign(&mut self, labels: &[usize], slots: &mut [usize]) {
        for (s, &c) in slots.iter_mut().zip(labels) {
            *s = self.slot(c);
        }
    }

    /// Adds each row's value `xs` to sum `q` of its slot's block sums
    /// (to the wide sums where it is `BIG` or more, unless `plain`).
    #[inline(never)]
    pub(super) fn add_sparse(&mut self, slots: &[usize], q: usize, xs: &[f64], plain: bool) {
        for (&s, &x) in slots.iter().zip(xs) {
            let at = s * self.w + q;
            if plain {
                self.block[at] += x;
            } else {
                put(&mut self.block[at], &mut self.sums[at], x);
            }
        }
    }

    /// Merges the block sums of the slots `slots` touched into their sums.
    #[inline(never)]
    pub(super) fn merge_block(&mut self, slots: &[usize]) {
        for &s in slots {
            if !self.touched[s] {
                self.touched[s] = true;
                self.touched_list.push(s);
            }
        }
        for s in self.touched_list.drain(..) {
            self.touched[s] = false;
            for at in s * self.w..(s + 1) * self.w {
                self.sums[at].add(std::mem::take(&mut self.block[at]));
            }
        }
    }

    /// Adds another accumulator's per-class counts and sums.
    pub(super) fn merge(&mut self, other: &PerClass) {
        if self.dense() {
            for (a, b) in self.count.iter_mut().zip(&other.count) {
                *a += b;
            }
            for (a, b) in self.correct.iter_mut().zip(&other.correct) {
                *a += b;
            }
            for (a, b) in self.sums.iter_mut().zip(&other.sums) {
                a.merge(b);
            }
            return;
        }
        for (s, &c) in other.class_of.iter().enumerate() {
            let t = self.slot(c);
            self.count[t] += other.count[s];
            self.correct[t] += other.correct[s];
            for q in 0..self.w {
                self.sums[t * self.w + q].merge(&other.sums[s * self.w + q]);
            }
        }
    }

    pub(super) fn heap_bytes(&self) -> usize {
        vec_bytes(&self.slot_of)
            + vec_bytes(&self.class_of)
            + vec_bytes(&self.count)
            + vec_bytes(&self.correct)
            + vec_bytes(&self.sums)
            + vec_bytes(&self.block)
            + vec_bytes(&self.touched)
            + vec_bytes(&self.touched_list)
    }
}
