//! torch's CPU kernels for one dtype, element by element: what each op
//! computes and where it rounds.
//!
//! For float16 and bfloat16 torch converts the operands to float32,
//! computes, and rounds the result once to the dtype; a Python number
//! operand stays a float32 (the kernels' "opmath" type). For float32 the
//! rounding is the identity. The elementary functions are the C library's
//! `f32` ones, which torch's scalar loops call; its vectorised loops (long
//! rows) call Sleef's instead, which can differ by an ulp of float32.

use super::super::Precision;

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
    /// against torch), and call `powf` otherwise.
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

    /// `log_softmax` over one row: the sum of `exp(z − max)` in float32 is
    /// rounded to the dtype, so is its `log`, then `(z − max) − log` once more.
    pub fn log_softmax(self, z: &[f32]) -> Vec<f32> {
        let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let e: Vec<f32> = z.iter().map(|&x| (x - m).exp()).collect();
        let s = lane_sum(&e);
        let l = self.r(self.r(s).ln());
        z.iter().map(|&x| self.r((x - m) - l)).collect()
    }

    /// `log_softmax`'s backward: `g − exp(out) · Σ g` in float32 with one
    /// fused multiply-add, rounded once.
    pub fn log_softmax_backward(self, g: &[f32], out: &[f32]) -> Vec<f32> {
        let s: f32 = g.iter().sum();
        g.iter().zip(out).map(|(&g, &o)| self.r((-o.exp()).mul_add(s, g))).collect()
    }

    /// A sum over one row: accumulated in float32, rounded once.
    pub fn sum(self, x: &[f32]) -> f32 {
        self.r(x.iter().sum())
    }
}

/// Float lanes of torch's vectorised loops on the reference CPU (AVX-512).
const LANES: usize = 16;

/// A row's sum as torch's `vec::map_reduce_all` takes it: a row shorter
/// than a vector left to right; a longer one in `LANES` running sums, the
/// tail into the first lanes, then the lanes halved pairwise (a tree).
fn lane_sum(x: &[f32]) -> f32 {
    if x.len() < LANES {
        return x.iter().sum();
    }
    let mut acc = [0f32; LANES];
    acc.copy_from_slice(&x[..LANES]);
    for chunk in x[LANES..].chunks(LANES) {
        acc.iter_mut().zip(chunk).for_each(|(a, v)| *a += v);
    }
    let mut half = LANES / 2;
    while half > 0 {
        (0..half).for_each(|i| acc[i] += acc[i + half]);
        half /= 2;
    }
    acc[0]
}

/// `log_sigmoid` in float32: `min(x, 0) − log1p(exp(−|x|))`.
pub(super) fn log_sigmoid(x: f32) -> f32 {
    x.min(0.0) - (-x.abs()).exp().ln_1p()
}

/// `log_sigmoid`'s backward in float32: `g · (d − s · z / (1 + z))` with
/// `z = exp(−|x|)`, `d = 1, s = 1` for negative x, `d = 0, s = −1` otherwise.
pub(super) fn log_sigmoid_backward(g: f32, x: f32) -> f32 {
    let z = (-x.abs()).exp();
    let (d, s) = if x < 0.0 { (1.0, 1.0) } else { (0.0, -1.0) };
    g * (d - s * (z / (1.0 + z)))
}
