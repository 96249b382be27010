//! torch's CPU kernels for one dtype, element by element: what each op
//! computes and where it rounds.
//!
//! For float16 and bfloat16 torch converts the operands to float32,
//! computes, and rounds the result once to the dtype; a Python number
//! operand stays a float32 (the kernels' "opmath" type). For float32 the
//! rounding is the identity.
//!
//! # Which elementary functions (torch 2.15, CPU capability AVX-512)
//! - Kernels written with `Vectorized<float>` (`log_sigmoid`, `log_softmax`)
//!   call Sleef's `exp`/`log`/`log1p` on every element, the row's tail
//!   included: [`sleef`](super::sleef), bit for bit.
//! - The unary ops `torch.exp` / `torch.log` on float32 call MKL's VML
//!   (`vsExp`, high accuracy), closed source: emulated with the C library's
//!   `expf`, which agrees except where MKL's result is off by an ulp (about
//!   1 input in 80; measured in `tests/lens_sleef.rs`).
//! - `pow` and `sigmoid` (`cpu_kernel_vec`) call the C library (`pow` in
//!   double for a float32 base, `expf`) on a row shorter than 32 and on the
//!   tail past the last multiple of 32, Sleef's on the rest; the emulation
//!   calls the C library's. A float32 loss sees only the target's term of
//!   `pow` (MONAI softmax), so this differs only when the target lies in
//!   the vectorised part and Sleef's `powf` is off by an ulp there.
//!
//! # Reductions
//! `log_softmax`'s sum and float32 `sum()`/`mean()` group their terms by
//! the vector width: [`reduce`](super::reduce).

use super::super::Precision;
use super::reduce::{cascade_sum, lane_sum};
use super::sleef;

/// One dtype's arithmetic as torch's CPU kernels do it, values carried as
/// `f32` holding a value of the dtype.
#[derive(Clone, Copy, Debug)]
pub(super) struct Dt(pub Precision);

/// float32, for the ops autocast runs in float32.
pub(super) const F32: Dt = Dt(Precision::F32);

impl Dt {
    pub fn r(self, x: f32) -> f32 {
        self.0.round(x)
    }

    pub fn add(self, a: f32, b: f32) -> f32 {
        self.r(a + b)
    }

    pub fn sub(self, a: f32, b: f32) -> f32 {
        self.r(a - b)
    }

    pub fn mul(self, a: f32, b: f32) -> f32 {
        self.r(a * b)
    }

    /// `tensor * number`: the Python number enters as a float32.
    pub fn mul_scalar(self, a: f32, s: f64) -> f32 {
        self.r(a * s as f32)
    }

    pub fn exp(self, x: f32) -> f32 {
        self.r(x.exp())
    }

    /// `tensor ** e` (`pow_tensor_scalar`): exponent 0 fills 1. float16
    /// rounds the exponent to float16 and calls `powf`; float32 and bfloat16
    /// special-case the exponents ±½, ±1, 2, −2 and 3 with `sqrt`,
    /// reciprocals and products, bfloat16 rounding after each op (measured
    /// against torch); otherwise bfloat16 calls `powf`, and float32's scalar
    /// loop `std::pow(float, double)`: the power in `f64`, rounded to `f32`.
    /// (float32's vectorised loop, the first 32·⌊n/32⌋ elements of a row,
    /// calls Sleef's `powf`, not emulated.)
    pub fn pow(self, x: f32, e: f64) -> f32 {
        if e == 0.0 {
            return 1.0;
        }
        if self.0 == Precision::F16 {
            return self.r(x.powf(self.0.round_f64(e)));
        }
        let r = |v: f32| self.r(v);
        match e {
            1.0 => x,
            2.0 => r(x * x),
            3.0 => r(r(x * x) * x),
            0.5 => r(x.sqrt()),
            -0.5 => r(1.0 / r(x.sqrt())),
            -1.0 => r(1.0 / x),
            -2.0 => r(1.0 / r(x * x)),
            _ if self.0 == Precision::F32 => f64::from(x).powf(e) as f32,
            _ => r(x.powf(self.0.round_f64(e))),
        }
    }

    /// The gradient of `x ** e` (autograd's `pow_backward`): zero for
    /// exponent 0, else `g * (e * x ** (e − 1))`, each op rounding.
    pub fn pow_backward(self, g: f32, x: f32, e: f64) -> f32 {
        if e == 0.0 {
            return 0.0;
        }
        self.mul(g, self.mul_scalar(self.pow(x, e - 1.0), e))
    }

    /// `sigmoid`: `1 / (1 + exp(−x))` in float32, rounded once.
    pub fn sigmoid(self, x: f32) -> f32 {
        self.r(1.0 / (1.0 + (-x).exp()))
    }

    /// `sigmoid_backward(g, y)`: `g · (1 − y) · y`; float16's kernel rounds
    /// after each op, the others once (measured against torch).
    pub fn sigmoid_backward(self, g: f32, y: f32) -> f32 {
        if self.0 == Precision::F16 { self.mul(self.mul(g, self.sub(1.0, y)), y) } else { self.r(g * (1.0 - y) * y) }
    }

    /// `log_softmax` over one row: the sum of Sleef's `exp(z − max)` in
    /// float32 is rounded to the dtype, so is its Sleef `log`, then
    /// `(z − max) − log` once more.
    pub fn log_softmax(self, z: &[f32]) -> Vec<f32> {
        let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let e: Vec<f32> = z.iter().map(|&x| sleef::expf(x - m)).collect();
        let s = lane_sum(&e);
        let l = self.r(sleef::logf(self.r(s)));
        z.iter().map(|&x| self.r((x - m) - l)).collect()
    }

    /// `log_softmax`'s backward: `g − exp(out) · Σ g` in float32 with one
    /// fused multiply-add, rounded once.
    pub fn log_softmax_backward(self, g: &[f32], out: &[f32]) -> Vec<f32> {
        let s: f32 = g.iter().sum();
        g.iter().zip(out).map(|(&g, &o)| self.r((-o.exp()).mul_add(s, g))).collect()
    }

    /// `sum()` over one row: float32 as torch's [`cascade_sum`] groups it;
    /// float16 and bfloat16 accumulated in float32 left to right, rounded
    /// once (the forms that sum them have one nonzero term).
    pub fn sum(self, x: &[f32]) -> f32 {
        if self.0 == Precision::F32 { cascade_sum(x) } else { self.r(x.iter().sum()) }
    }
}

/// `log_sigmoid` in float32 as torch's vectorised kernel computes it:
/// `min(x, 0) − log1p(exp(−|x|))` with Sleef's `exp` and `log1p`.
pub(super) fn log_sigmoid(x: f32) -> f32 {
    x.min(0.0) - sleef::log1pf(sleef::expf(-x.abs()))
}

/// `log_sigmoid`'s backward in float32: `g · (d − s · z / (1 + z))` with
/// `z = exp(−|x|)`, `d = 1, s = 1` for negative x, `d = 0, s = −1` otherwise.
pub(super) fn log_sigmoid_backward(g: f32, x: f32) -> f32 {
    let z = (-x.abs()).exp();
    let (d, s) = if x < 0.0 { (1.0, 1.0) } else { (0.0, -1.0) };
    g * (d - s * (z / (1.0 + z)))
}
