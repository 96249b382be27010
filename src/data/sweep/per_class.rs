//! Each class's count, correct count and sums, in memory that grows with
//! the classes seen rather than with K.

use super::sums::{WideSum, ZERO_SUM, put};
use super::{COUNT_BY_PASSES_UP_TO, vec_bytes};
use crate::simd::Isa;
use std::ops::Range;

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
    count: Vec<u64>,
    correct: Vec<u64>,
    sums: Vec<WideSum>,
    /// The current block's plain sums, same layout, merged at its end.
    block: Vec<f64>,
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
    fn dense(&self) -> bool {
        self.slot_of.is_empty()
    }

    /// Where sum `q` of slot `s` is.
    fn at(&self, s: usize, q: usize) -> usize {
        if self.dense() { q * self.classes + s } else { s * self.w + q }
    }

    /// Class `c`'s slot, if it has one.
    fn find(&self, c: usize) -> Option<usize> {
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

    /// Class `c`'s count, correct count and 1 + G sums (zero for a class
    /// no row has).
    pub(super) fn of(&self, c: usize) -> (u64, u64, Vec<&WideSum>) {
        match self.find(c) {
            Some(s) => (self.count[s], self.correct[s], (0..self.w).map(|q| &self.sums[self.at(s, q)]).collect()),
            None => (0, 0, vec![&ZERO_SUM; self.w]),
        }
    }

    /// Adds a block's rows: their classes `labels`, whether each is
    /// `correct`, and of each sum `q` (CE, then FL per γ) their values
    /// `quantity(q)`: plain sums within the block, then compensated; unless
    /// `plain`, values of 2^960 and above go to the wide sums directly.
    /// `slots` is room for the rows' slots.
    #[inline(always)]
    pub(super) fn add_block<'a, I: Isa>(
        &mut self,
        isa: I,
        labels: &[usize],
        correct: &[bool],
        slots: &mut [usize],
        quantity: impl Fn(usize) -> &'a [f64] + Copy,
        plain: bool,
    ) {
        let (k, w) = (self.classes, self.w);
        let dense = self.dense();
        if !dense {
            self.assign(labels, slots);
        }
        let slots: &[usize] = if dense { labels } else { slots };
        if k <= COUNT_BY_PASSES_UP_TO {
            for (c, (count, right)) in self.count.iter_mut().zip(&mut self.correct).enumerate() {
                let (mut n_c, mut ok_c) = (0, 0);
                for (&t, &ok) in labels.iter().zip(correct) {
                    let hit = u64::from(t == c);
                    n_c += hit;
                    ok_c += hit & u64::from(ok);
                }
                *count += n_c;
                *right += ok_c;
            }
        } else {
            for (&s, &ok) in slots.iter().zip(correct) {
                self.count[s] += 1;
                self.correct[s] += u64::from(ok);
            }
        }
        if dense {
            self.add_sums(isa, labels, 0..w, quantity, plain);
        } else {
            for q in 0..w {
                self.add_sparse(slots, q, quantity(q), plain);
            }
            self.merge_block(slots);
        }
    }

    /// Dense layout: adds a block's values of the sums `qs` as
    /// [`add_block`](Self::add_block) adds them (the same bits), without
    /// the counts: each row's class `labels`, sum `q`'s values
    /// `quantity(q)`; unless `plain`, values of 2^960 and above go to the
    /// wide sums directly.
    #[inline(always)]
    pub(super) fn add_sums<'a, I: Isa>(
        &mut self,
        isa: I,
        labels: &[usize],
        qs: Range<usize>,
        quantity: impl Fn(usize) -> &'a [f64] + Copy,
        plain: bool,
    ) {
        debug_assert!(self.dense());
        let k = self.classes;
        let cells = qs.start * k..qs.end * k;
        // With few classes, the instruction set may sum in register lanes.
        let in_lanes = plain
            && k <= COUNT_BY_PASSES_UP_TO
            && isa.class_sums(&mut self.block[cells.clone()], k, labels, qs.len(), |i| quantity(qs.start + i));
        for q in qs.filter(|_| !in_lanes) {
            let xs = quantity(q);
            let local = &mut self.block[q * k..(q + 1) * k];
            if plain {
                for (&c, &x) in labels.iter().zip(xs) {
                    local[c] += x;
                }
            } else {
                let wide = &mut self.sums[q * k..(q + 1) * k];
                for (&c, &x) in labels.iter().zip(xs) {
                    put(&mut local[c], &mut wide[c], x);
                }
            }
        }
        for (local, wide) in self.block[cells.clone()].iter_mut().zip(&mut self.sums[cells]) {
            if *local != 0.0 {
                wide.add(std::mem::take(local));
            }
        }
    }

    /// Dense layout: every class's count and correct count.
    pub(super) fn counts(&self) -> (&[u64], &[u64]) {
        (&self.count, &self.correct)
    }

    /// Dense layout: sets every class's counts and correct counts.
    pub(super) fn set_counts(&mut self, count: &[u64], correct: &[u64]) {
        self.count.copy_from_slice(count);
        self.correct.copy_from_slice(correct);
    }

    /// Dense layout: sum `q` of every class.
    pub(super) fn sums_of(&self, q: usize) -> &[WideSum] {
        &self.sums[q * self.classes..(q + 1) * self.classes]
    }

    /// Dense layout: sets sum `q` of every class.
    pub(super) fn set_sums(&mut self, q: usize, sums: &[WideSum]) {
        let k = self.classes;
        self.sums[q * k..(q + 1) * k].copy_from_slice(sums);
    }

    /// Whether slot c is class c (every class has one, the sums class by class).
    pub(super) fn is_dense(&self) -> bool {
        self.dense()
    }

    // The sparse layout's steps stay out of the dense path's inlined loops.

    /// The slots of a block's rows (`labels`) in `slots`.
    #[inline(never)]
    fn assign(&mut self, labels: &[usize], slots: &mut [usize]) {
        for (s, &c) in slots.iter_mut().zip(labels) {
            *s = self.slot(c);
        }
    }

    /// Adds each row's value `xs` to sum `q` of its slot's block sums
    /// (to the wide sums where it is `BIG` or more, unless `plain`).
    #[inline(never)]
    fn add_sparse(&mut self, slots: &[usize], q: usize, xs: &[f64], plain: bool) {
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
    fn merge_block(&mut self, slots: &[usize]) {
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
