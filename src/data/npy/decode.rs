//! The dtypes a source accepts and the decoding of their bytes: floats to
//! f64 and labels to u64, each checked in the same pass and compiled for
//! the detected instruction set.

use half::f16;
use half::slice::HalfFloatSliceExt;

use crate::simd::bytes::append_items;
use crate::simd::{Isa, Kernel, Simd};

/// Which values a dtype holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// IEEE binary16, 32 or 64.
    Float,
    /// bfloat16: the upper half of a float32 (safetensors `BF16`).
    BFloat,
    Int {
        signed: bool,
    },
    Bool,
}

/// A supported dtype: kind, item size in bytes, byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Dtype {
    pub(super) kind: Kind,
    pub(super) size: usize,
    pub(super) big_endian: bool,
}

impl Dtype {
    /// `<f4`, `>i8`, `|u1`, `=f8`, … (`=` and a missing order mean native).
    pub(super) fn parse(descr: &str) -> Option<Dtype> {
        let (order, rest) = match descr.as_bytes().first()? {
            b'<' | b'>' | b'|' | b'=' => (descr.as_bytes()[0], &descr[1..]),
            _ => (b'=', descr),
        };
        let big_endian = match order {
            b'>' => true,
            b'<' => false,
            _ => cfg!(target_endian = "big"),
        };
        let (kind, size) = match rest {
            "f2" => (Kind::Float, 2),
            "f4" => (Kind::Float, 4),
            "f8" => (Kind::Float, 8),
            "b1" => (Kind::Bool, 1),
            _ => {
                let signed = match rest.as_bytes().first()? {
                    b'i' => true,
                    b'u' => false,
                    _ => return None,
                };
                let size = match &rest[1..] {
                    "1" => 1,
                    "2" => 2,
                    "4" => 4,
                    "8" => 8,
                    _ => return None,
                };
                (Kind::Int { signed }, size)
            }
        };
        Some(Dtype { kind, size, big_endian })
    }

    /// A safetensors dtype (`F32`, `BF16`, `I64`, `BOOL`, …: little-endian).
    pub(super) fn safetensors(name: &str) -> Option<Dtype> {
        let (kind, size) = match name {
            "F16" => (Kind::Float, 2),
            "BF16" => (Kind::BFloat, 2),
            "F32" => (Kind::Float, 4),
            "F64" => (Kind::Float, 8),
            "BOOL" => (Kind::Bool, 1),
            _ => {
                let signed = match name.as_bytes().first()? {
                    b'I' => true,
                    b'U' => false,
                    _ => return None,
                };
                let size = match &name[1..] {
                    "8" => 1,
                    "16" => 2,
                    "32" => 4,
                    "64" => 8,
                    _ => return None,
                };
                (Kind::Int { signed }, size)
            }
        };
        Some(Dtype { kind, size, big_endian: false })
    }

    /// Whether it holds floating-point values (logits), not labels.
    pub(super) fn is_float(self) -> bool {
        matches!(self.kind, Kind::Float | Kind::BFloat)
    }

    /// Appends the floats in `bytes` (whole items) to `out`; returns
    /// whether every one is finite. Conversion and check are one pass over
    /// the bytes (the check on the raw bits), compiled for AVX-512 and AVX2
    /// too and picked at run time.
    pub(super) fn floats(self, bytes: &[u8], out: &mut Vec<f64>) -> bool {
        if !self.is_float() {
            return self.integers(bytes, out);
        }
        struct Floats<'a>(Dtype, &'a [u8], &'a mut Vec<f64>);
        impl Kernel for Floats<'_> {
            type Output = bool;
            #[inline(always)]
            fn run<I: Isa>(self, _: I) -> bool {
                self.0.floats_inline(self.1, self.2)
            }
        }
        Simd::detect().run(Floats(self, bytes, out))
    }

    /// [`Dtype::floats`] for whatever instruction set the caller has. One
    /// loop per size and byte order, so that each vectorises.
    #[inline(always)]
    pub(super) fn floats_inline(self, bytes: &[u8], out: &mut Vec<f64>) -> bool {
        const F32_EXP: u32 = 0x7f80_0000;
        const F64_EXP: u64 = 0x7ff0_0000_0000_0000;
        const BF16_EXP: u16 = 0x7f80;
        if self.kind == Kind::BFloat {
            // A bfloat16 is the upper 16 bits of the float32 of the same value: exact.
            return append_items(bytes, out, |b| {
                let bits = u16::from_le_bytes(b);
                (f64::from(f32::from_bits(u32::from(bits) << 16)), bits & BF16_EXP != BF16_EXP)
            });
        }
        match (self.size, self.big_endian) {
            (2, big_endian) => halves(bytes, big_endian, out),
            (4, false) => append_items(bytes, out, |b| {
                let bits = u32::from_le_bytes(b);
                (f64::from(f32::from_bits(bits)), bits & F32_EXP != F32_EXP)
            }),
            (4, true) => append_items(bytes, out, |b| {
                let bits = u32::from_be_bytes(b);
                (f64::from(f32::from_bits(bits)), bits & F32_EXP != F32_EXP)
            }),
            (_, false) => append_items(bytes, out, |b| {
                let bits = u64::from_le_bytes(b);
                (f64::from_bits(bits), bits & F64_EXP != F64_EXP)
            }),
            (_, true) => append_items(bytes, out, |b| {
                let bits = u64::from_be_bytes(b);
                (f64::from_bits(bits), bits & F64_EXP != F64_EXP)
            }),
        }
    }

    /// Appends the labels in `bytes` to `out` as stored, widened to 64 bits
    /// (sign-extended when signed: [`Dtype::label_value`] gives the value
    /// back); returns whether every one is in `0..k`. One pass, compiled
    /// for AVX-512 and AVX2 too and picked at run time.
    pub(super) fn labels(self, bytes: &[u8], k: usize, out: &mut Vec<u64>) -> bool {
        struct Labels<'a>(Dtype, &'a [u8], usize, &'a mut Vec<u64>);
        impl Kernel for Labels<'_> {
            type Output = bool;
            #[inline(always)]
            fn run<I: Isa>(self, _: I) -> bool {
                self.0.labels_inline(self.1, self.2, self.3)
            }
        }
        Simd::detect().run(Labels(self, bytes, k, out))
    }

    /// [`Dtype::labels`] for whatever instruction set the caller has: one
    /// loop per kind, size and byte order.
    #[inline(always)]
    pub(super) fn labels_inline(self, bytes: &[u8], k: usize, out: &mut Vec<u64>) -> bool {
        let k = k as u64;
        let signed = matches!(self.kind, Kind::Int { signed: true });
        macro_rules! each {
            ($n:literal, $t:ty, $from:ident) => {
                widen::<$n>(bytes, k, out, |b| <$t>::$from(b) as u64)
            };
        }
        match (self.kind, self.size, signed, self.big_endian) {
            (Kind::Float | Kind::BFloat, _, _, _) => float_labels(self, bytes, k, out),
            (Kind::Bool, _, _, _) => widen::<1>(bytes, k, out, |b| u64::from(b[0] != 0)),
            (_, 1, false, _) => each!(1, u8, from_le_bytes),
            (_, 1, true, _) => each!(1, i8, from_le_bytes),
            (_, 2, false, false) => each!(2, u16, from_le_bytes),
            (_, 2, false, true) => each!(2, u16, from_be_bytes),
            (_, 2, true, false) => each!(2, i16, from_le_bytes),
            (_, 2, true, true) => each!(2, i16, from_be_bytes),
            (_, 4, false, false) => each!(4, u32, from_le_bytes),
            (_, 4, false, true) => each!(4, u32, from_be_bytes),
            (_, 4, true, false) => each!(4, i32, from_le_bytes),
            (_, 4, true, true) => each!(4, i32, from_be_bytes),
            (_, _, false, false) => each!(8, u64, from_le_bytes),
            (_, _, false, true) => each!(8, u64, from_be_bytes),
            (_, _, true, false) => each!(8, i64, from_le_bytes),
            (_, _, true, true) => each!(8, i64, from_be_bytes),
        }
    }

    /// Integer or bool per-class targets as floats (exact up to 2^53, far
    /// beyond the 0 and 1 they may be): always finite.
    fn integers(self, bytes: &[u8], out: &mut Vec<f64>) -> bool {
        let mut raw = Vec::with_capacity(bytes.len() / self.size);
        self.labels(bytes, usize::MAX, &mut raw);
        out.extend(raw.into_iter().map(|r| self.label_value(r) as f64));
        true
    }

    /// The label a raw value of [`Dtype::labels`] stands for.
    pub(super) fn label_value(self, raw: u64) -> i128 {
        match self.kind {
            Kind::Int { signed: true } | Kind::Float | Kind::BFloat => i128::from(raw as i64),
            _ => i128::from(raw),
        }
    }

    /// The raw label whose [`label_value`](Self::label_value) is `label`,
    /// if there is one (none for a negative label of an unsigned dtype):
    /// so that a batch's labels are compared with it as they are.
    pub(super) fn raw_label(self, label: i64) -> Option<u64> {
        match self.kind {
            Kind::Int { signed: true } | Kind::Float | Kind::BFloat => Some(label as u64),
            _ => u64::try_from(label).ok(),
        }
    }
}

/// [`append_items`] for float16: the bits checked while gathered, then converted
/// a block at a time by `half` (F16C when the CPU has it).
#[inline(always)]
pub(super) fn halves(bytes: &[u8], big_endian: bool, out: &mut Vec<f64>) -> bool {
    const EXP: u16 = 0x7c00;
    const BLOCK: usize = 64;
    let mut valid = true;
    let (mut half, mut wide) = ([f16::ZERO; BLOCK], [0.0; BLOCK]);
    for block in bytes.chunks(2 * BLOCK) {
        let n = block.len() / 2;
        for (h, b) in half.iter_mut().zip(block.chunks_exact(2)) {
            let b = [b[0], b[1]];
            let bits = if big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) };
            valid &= bits & EXP != EXP;
            *h = f16::from_bits(bits);
        }
        half[..n].convert_to_f64_slice(&mut wide[..n]);
        out.extend_from_slice(&wide[..n]);
    }
    valid
}

/// The raw label of a float label that is not a whole number (NaN, 0.5):
/// never a class, nor an `--ignore-index` (which is whole).
pub(super) const NOT_WHOLE: i64 = i64::MIN;

/// [`Dtype::labels`] of float labels (as `torch.save`d or safetensors'
/// float targets): a whole number is that label, sign-extended like a
/// signed one (so that −100.0 is −100); anything else is [`NOT_WHOLE`].
/// Rare, so decoded to f64 first rather than in one pass.
fn float_labels(dtype: Dtype, bytes: &[u8], k: u64, out: &mut Vec<u64>) -> bool {
    let mut values = Vec::with_capacity(bytes.len() / dtype.size);
    dtype.floats_inline(bytes, &mut values);
    let mut valid = true;
    out.extend(values.iter().map(|&v| {
        let whole = v.trunc() == v && v.is_finite();
        valid &= whole && v >= 0.0 && v < k as f64;
        // `as` saturates: a whole number beyond i64 stays out of range.
        if whole { v as i64 as u64 } else { NOT_WHOLE as u64 }
    }));
    valid
}

/// Appends `f` of each `N`-byte item of `bytes` to `out`; returns whether
/// every value is below `k`.
#[inline(always)]
pub(super) fn widen<const N: usize>(bytes: &[u8], k: u64, out: &mut Vec<u64>, f: impl Fn([u8; N]) -> u64) -> bool {
    append_items(bytes, out, |b| {
        let value = f(b);
        (value, value < k)
    })
}

/// Whether every value is finite (in vector lanes: AVX-512 or AVX2 where
/// the CPU has it).
pub(super) fn all_finite(z: &[f32]) -> bool {
    struct AllFinite<'a>(&'a [f32]);
    impl Kernel for AllFinite<'_> {
        type Output = bool;
        #[inline(always)]
        fn run<I: Isa>(self, _: I) -> bool {
            self.0.iter().fold(true, |ok, &v| ok & v.is_finite())
        }
    }
    Simd::detect().run(AllFinite(z))
}
