//! The AMP lens: a library's focal loss as its own PyTorch code runs under
//! `torch.autocast("cpu", dtype=float16 | bfloat16)`, loss and gradient,
//! emulated op by op. Pure math: no UI types, no I/O.
//!
//! # What autocast does on the CPU
//! The logits arrive in the low dtype (a matmul's output). Autocast's CPU
//! lists (torch 2.15, checked by reading each intermediate's dtype) run
//! `binary_cross_entropy_with_logits`, `cross_entropy` and `nll_loss` in
//! float32; `log_softmax`, `softmax`, `exp`, `log`, `pow`, `sigmoid` and
//! `logsigmoid` are on neither list, so they run in the dtype of their
//! input: the low dtype. (CUDA's lists differ: they put `log_softmax`,
//! `exp`, `log` and `pow` in float32.) Mixed operands promote to the wider
//! dtype, so a float32 loss times a low-dtype factor is float32.
//!
//! # Method
//! Each library's code ([`softmax`], [`sigmoid`], [`kornia_sigmoid`],
//! [`detection`]: mmdet and ultralytics) is written out forward
//! and then backward as autograd runs it (the derivative formulas of
//! torch's `derivatives.yaml`, their intermediates in the dtypes the
//! forward ops had, gradients cast to each input's dtype, a tensor's
//! gradients added as they arrive), every op rounding as torch's CPU kernel
//! does ([`ops`]). The loss is summed over the classes where the library
//! returns a map (reduction `none`), as the profiles define one example's
//! value; MONAI's default is the mean. The gradient is the logits' `.grad`
//! (in the low dtype).
//!
//! # Accuracy
//! `tests/lens_amp.rs` compares with torch itself (`gen_amp.py`): losses
//! (float32 ones included), gradients and flags bit for bit, under the CPU
//! capability the reference was made with ([`reduce::CAPABILITY`]). That
//! takes Sleef's `exp`/`log`/`log1p` where torch's vectorised kernels call
//! them ([`sleef`]) and torch's grouping of a row's sum by the kernel's
//! vector width ([`reduce`]); [`ops`] says which function each op calls.
//! Not emulated, and not met by the reference cases: MKL's float32
//! `torch.exp` (the C library's `expf` stands in; they differ in about 1
//! input in 100) and Sleef's `powf` on the vectorised part of rows of 32
//! or more.

mod detection;
mod kornia_sigmoid;
mod ops;
mod reason;
pub mod reduce;
mod sigmoid;
pub mod sleef;
mod softmax;

use super::{Precision, classify};
use crate::loss::profile::Profile;
use crate::loss::{Alpha, Mode, Target};
use ops::Dt;

/// Which library code runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Formula {
    /// `log_softmax → gather → exp → (1 − p_t)^γ`, the paper's form as
    /// it is commonly written.
    PaperSoftmax,
    /// torchvision's `sigmoid_focal_loss` (also the paper's sigmoid form).
    Torchvision,
    /// kornia's `focal_loss`.
    Kornia,
    MonaiSoftmax,
    MonaiSigmoid,
    /// kornia's `binary_focal_loss_with_logits`.
    KorniaSigmoid,
    /// mmdet's `FocalLoss` (its CPU path, `py_sigmoid_focal_loss`).
    Mmdet,
    /// ultralytics' `FocalLoss`.
    Ultralytics,
}

impl Formula {
    /// The code a profile runs, or why there is none to emulate.
    pub fn of(profile: &Profile) -> Result<Formula, &'static str> {
        match (profile.name, profile.mode) {
            ("paper", Mode::Softmax) => Ok(Formula::PaperSoftmax),
            ("paper" | "torchvision", Mode::Sigmoid) => Ok(Formula::Torchvision),
            ("kornia", Mode::Softmax) => Ok(Formula::Kornia),
            ("monai", Mode::Softmax) => Ok(Formula::MonaiSoftmax),
            ("monai", Mode::Sigmoid) => Ok(Formula::MonaiSigmoid),
            ("kornia", Mode::Sigmoid) => Ok(Formula::KorniaSigmoid),
            ("mmdet", _) => Ok(Formula::Mmdet),
            ("ultralytics", _) => Ok(Formula::Ultralytics),
            ("keras", _) => Err("Keras is not PyTorch: torch.autocast does not apply"),
            _ => Err("this library's code under autocast is not emulated"),
        }
    }

    /// The code, in one line.
    pub fn code(self) -> &'static str {
        match self {
            Formula::PaperSoftmax => "log_softmax → gather → exp → −α·(1 − p_t)^γ·log p_t",
            Formula::Torchvision => "torchvision sigmoid_focal_loss: sigmoid, BCE-with-logits, (1 − p_t)^γ",
            Formula::Kornia => "kornia focal_loss: log_softmax → exp → (1 − p)^γ, detached where 1 − p = 0",
            Formula::MonaiSoftmax => "MONAI FocalLoss(use_softmax=True): cast to float32 first",
            Formula::MonaiSigmoid => "MONAI FocalLoss(): cast to float32 first",
            Formula::KorniaSigmoid => "kornia binary_focal_loss_with_logits: logsigmoid → exp(γ·log σ(∓z)), no 1 − p",
            Formula::Mmdet => "mmdet py_sigmoid_focal_loss: pt = (1 − σ)·y + σ·(1 − y), α·pt^γ in low, BCE in float32",
            Formula::Ultralytics => {
                "ultralytics FocalLoss: BCE in float32 × (1 − p_t)^γ × α_t (α cast to low), mean(1)"
            }
        }
    }
}

/// One AMP run's result, widened to `f64` exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct Amp {
    /// The autocast dtype (float16 or bfloat16).
    pub precision: Precision,
    pub loss: f64,
    /// The loss tensor's dtype.
    pub loss_dtype: Precision,
    /// dloss/dz as the logits' `.grad` holds it (the autocast dtype).
    pub gradient: Vec<f64>,
    /// "loss 0", "NaN gradient", …: what went wrong, loss first.
    pub flags: Vec<&'static str>,
    /// Why, in one line, when something did.
    pub reason: Option<String>,
}

/// What one formula's evaluation returns, with what the reasons need.
struct Run {
    loss: f32,
    loss_dtype: Precision,
    gradient: Vec<f32>,
    /// Elements whose `1 − p_t`, as the code forms it, rounded to 0.
    saturated: usize,
    /// The dtype `p_t` is formed in.
    p_t_dtype: Precision,
    /// `log p_t` as the code holds it (softmax forms).
    log_p_t: Option<f32>,
}

impl Run {
    fn new(
        loss: f32,
        loss_dtype: Dt,
        gradient: Vec<f32>,
        p_t_dtype: Dt,
        one_minus: &[f32],
        log_p_t: Option<f32>,
    ) -> Run {
        let saturated = one_minus.iter().filter(|&&x| x == 0.0).count();
        Run { loss, loss_dtype: loss_dtype.0, gradient, saturated, p_t_dtype: p_t_dtype.0, log_p_t }
    }
}

/// The focal loss of `logits` (rounded once to `precision`, as they
/// arrive) for class `target` as `formula`'s code computes it under
/// autocast to `precision`, with the scalar `alpha` placed as the library
/// places it (`None`: α off).
///
/// # Panics
/// If `target ≥ K` or `precision` is float32.
pub fn amp(
    formula: Formula,
    logits: &[f64],
    target: usize,
    gamma: f64,
    alpha: Option<f64>,
    precision: Precision,
) -> Amp {
    assert!(precision != Precision::F32, "autocast runs in float16 or bfloat16");
    assert!(target < logits.len(), "the target is a class");
    let l = Dt(precision);
    let z: Vec<f32> = logits.iter().map(|&x| precision.round_f64(x)).collect();
    let run = match formula {
        Formula::PaperSoftmax => softmax::paper(&z, target, gamma, alpha, l),
        Formula::Kornia => softmax::kornia(&z, target, gamma, alpha, l),
        Formula::MonaiSoftmax => softmax::monai(&z, target, gamma, alpha, l),
        Formula::Torchvision => sigmoid::torchvision(&z, target, gamma, alpha, l),
        Formula::MonaiSigmoid => sigmoid::monai(&z, target, gamma, alpha, l),
        Formula::KorniaSigmoid => kornia_sigmoid::kornia(&z, target, gamma, alpha, l),
        Formula::Mmdet => detection::mmdet(&z, target, gamma, alpha, l),
        Formula::Ultralytics => detection::ultralytics(&z, target, gamma, alpha, l),
    };
    let gradient: Vec<f64> = run.gradient.iter().map(|&g| f64::from(g)).collect();
    let flags = flags(f64::from(run.loss), &gradient);
    let reason = reason::why(formula, &run, &z, gamma, precision);
    Amp { precision, loss: f64::from(run.loss), loss_dtype: run.loss_dtype, gradient, flags, reason }
}

/// The autocast dtypes, in display order.
pub const DTYPES: [Precision; 2] = [Precision::F16, Precision::Bf16];

/// One example as the user gave it: α as typed, before a profile places it.
pub struct Example<'a> {
    pub logits: &'a [f64],
    pub target: &'a Target,
    pub label_smoothing: f64,
    pub gamma: f64,
    pub alpha: Option<&'a Alpha>,
}

/// The AMP lens of one example: the code and both runs, or why it cannot
/// be shown.
pub type Shown = Result<(Formula, [Amp; 2]), String>;

/// Both AMP runs of `e` as `profile`'s library computes it, or why the lens
/// cannot show it (no PyTorch code to emulate, or a target form, label
/// smoothing or per-class α the emulated calls do not take).
pub fn example(profile: &Profile, e: &Example) -> Shown {
    let formula = Formula::of(profile)?;
    let target = e.target.class().filter(|_| e.label_smoothing == 0.0);
    let target = target.ok_or("the AMP lens takes one class index as the target, unsmoothed")?;
    let alpha = match e.alpha {
        None => None,
        Some(Alpha::Scalar(a)) => Some(*a),
        Some(Alpha::PerClass(_)) => return Err("the AMP lens takes one α, not one per class".into()),
    };
    Ok((formula, DTYPES.map(|f| amp(formula, e.logits, target, e.gamma, alpha, f))))
}

/// The loss's flag, then the gradient's: NaN, inf, or every entry 0.
pub fn flags(loss: f64, gradient: &[f64]) -> Vec<&'static str> {
    let mut out = Vec::new();
    match classify(loss) {
        Some("NaN") => out.push("loss NaN"),
        Some("0") => out.push("loss 0"),
        Some(_) => out.push("loss inf"),
        None => {}
    }
    if gradient.iter().any(|g| g.is_nan()) {
        out.push("NaN gradient");
    }
    if gradient.iter().any(|g| g.is_infinite()) {
        out.push("inf gradient");
    }
    if gradient.iter().all(|&g| g == 0.0) {
        out.push("zero gradient");
    }
    out
}
