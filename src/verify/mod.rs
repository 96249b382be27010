//! `focal-tui verify`: a user's own focal-loss implementation checked
//! against the exact values.
//!
//! The logits and labels are read as `data` reads them (the same readers,
//! flags and messages: `.npy`, `.npz` and `.safetensors` arrays with
//! `FILE:NAME`, text; labels as class indices or per-class targets shaped
//! like the logits, `--background`, `--probs`); every row's exact values
//! come from the exact core with α placed and the classes reduced as the
//! profile says (a row of targets is the core's `Target::Probs`: sigmoid
//! labels, a softmax distribution; probabilities: `probs.rs`). A
//! per-positive mean divides by the rows with a positive target. The user's
//! dump is one loss per position, one value per logit (per-class terms, as
//! `reduction="none"` gives for sigmoid and per-class libraries), or one
//! reduced number, compared with the sum of the rows' class sums divided as
//! the profile's batch reduction divides it. A gradient dump
//! (dLoss/dlogits, the logits' shape) may be of the summed per-element
//! terms, of the summed per-row losses (a class mean divides by K) or of
//! the reduced loss: the candidate nearest the least-squares ratio of
//! theirs to the exact gradient of the summed terms is taken, and a ratio
//! more than [`SCALE_SLACK`] from every candidate is reported.
//!
//! Errors are measured as `compare.rs` explains: relative to the value for
//! a loss, relative to the sum of its terms' magnitudes for a gradient
//! component (`exact.rs`), with an absolute floor tied to the precision.

mod compare;
mod exact;
mod geometry;
mod gradient;
mod probs;
mod report;

use std::path::Path;

use crate::cli::{DataArgs, VerifyArgs};
use crate::data::container;
use crate::data::npy::{Floats, Located, read_floats, read_header_at, read_labels, shape_text};
use crate::data::run;
use crate::data::source::{is_stdin, path_name};
use crate::loss::Mode;
use crate::loss::profile::{self, BatchReduction, Profile};
use crate::loss::sum::two_sum;
use crate::parse;
use crate::report::num;
use compare::{At, Tolerance, Tracker, precision};
use exact::{Labels, Setup};
use geometry::{Geometry, Kind, Layout};
use gradient::Gradient;
pub use gradient::SCALE_SLACK;
use report::{Checked, Run};

/// Logits read per batch (at least one row).
const BATCH_VALUES: usize = 1 << 18;

/// Every batch reduction, for `--batch-reduction` and the hint.
const REDUCTIONS: [BatchReduction; 5] = [
    BatchReduction::Rows,
    BatchReduction::Elements,
    BatchReduction::Sum,
    BatchReduction::Positives,
    BatchReduction::SumOfRowMeans,
];

/// The reduction `--batch-reduction` names, or the profile's.
fn batch_reduction(key: Option<&str>, lib: &Profile) -> Result<BatchReduction, String> {
    let Some(key) = key else { return Ok(lib.batch) };
    REDUCTIONS.into_iter().find(|r| r.key() == key).ok_or_else(|| {
        let keys: Vec<&str> = REDUCTIONS.iter().map(|r| r.key()).collect();
        format!("--batch-reduction: unknown `{key}` (known: {})", keys.join(", "))
    })
}

/// The report, and whether every value is within the tolerance.
pub struct Outcome {
    pub report: String,
    pub within: bool,
}

/// Checks `args`' dumps; an error is one line naming the file or flag.
pub fn run(args: &VerifyArgs) -> Result<Outcome, String> {
    let asked = if args.sigmoid { Mode::Sigmoid } else { Mode::Softmax };
    let (lib, implied) = profile::find(args.profile.as_deref().unwrap_or(profile::PAPER), asked)
        .map_err(|e| format!("--profile: {e}"))?;
    let gamma = parse::gamma(args.gamma.as_deref().unwrap_or(lib.gamma)).map_err(|e| format!("--gamma: {e}"))?;
    if let Some(r) = args.rtol.filter(|r| !(r.is_finite() && *r > 0.0)) {
        return Err(format!("--rtol: {r} is not a positive number"));
    }
    let reduction = batch_reduction(args.batch_reduction.as_deref(), lib)?;
    // .npy, a container's array or text, by the same test `data` makes.
    let npy = container::is_array(&args.logits);
    if npy && is_stdin(&args.logits) {
        return Err("--logits: verify reads the shape of .npy logits first: give a file, not standard input".into());
    }
    if args.meaning.probs && args.grad.is_some() {
        return Err("--grad with --probs: a gradient is of the logits, which probabilities do not give; check the losses alone, or give the logits".into());
    }
    run::check_background(args.meaning.background, lib.mode)?;
    let zero_one = lib.targets == profile::Targets::ZeroOne;
    let data = args.data_args();
    let mut source = run::open(&data, lib.mode, zero_one).map_err(|e| e.to_string())?;
    let k = source.classes();
    let per_class = source.per_class();
    let alpha = parse::weights(args.alpha.as_deref().unwrap_or(lib.alpha), Some(k), lib.mode)
        .map_err(|e| format!("--alpha: {e}"))?;
    let target = run::sample_target(per_class, args.meaning.background.is_some(), lib.mode, k);
    lib.check(&target, 0.0, alpha.as_ref()).map_err(|e| format!("--profile {}: {e}", lib.name))?;
    let loss = read_floats(&dump(&args.loss, "loss")?, "losses").map_err(|e| e.to_string())?;
    let grad = args.grad.as_deref().map(|g| dump(g, "grad")).transpose()?;
    let grad = grad.map(|g| read_floats(&g, "gradients")).transpose().map_err(|e| e.to_string())?;
    let geometry = geometry(args, npy, k, &loss, grad.as_ref())?;
    let loss_layout = Layout::of_loss(&loss, &geometry)?;
    let grad_layout = grad.as_ref().map(|g| Layout::of_grad(g, &geometry)).transpose()?;
    // The positions left out, to keep each row's position in step with the reader's.
    let ignored_at = match args.tensor.ignore_index {
        Some(i) => {
            let labels = match &args.labels {
                Some(y) => container::locate(y, container::LABELS),
                None => container::labels_beside(&args.logits),
            };
            let labels = labels.and_then(|y| read_labels(&y)).map_err(|e| e.to_string())?;
            labels.into_iter().map(|l| l == i128::from(i)).collect()
        }
        None => Vec::new(),
    };
    let ignored = ignored_at.iter().filter(|&&i| i).count() as u64;
    let n = geometry.n();
    let mut rows = n - ignored;

    let setup = Setup {
        profile: lib,
        gamma,
        alpha: lib.place(alpha.clone(), k),
        terms: loss_layout.kind == Kind::PerElement,
        gradient: grad.is_some(),
        probs: args.meaning.probs,
    };
    let tolerance = |f: &Floats| Tolerance::new(precision(f), args.rtol);
    let mut losses = Tracker::new(tolerance(&loss));
    // A gradient of a per-positive mean needs the positives before the rows are compared.
    let positives_first = per_class && reduction == BatchReduction::Positives && grad.is_some();
    let known = if positives_first { positives(&data, lib.mode, zero_one)? } else { rows };
    let batch_div = reduction.divisor(rows, k, known).unwrap_or(1.0);
    let mut gradient = grad.as_ref().map(|g| Gradient::new(tolerance(g), lib.classes.divisor(k), batch_div));
    let (mut sum, mut carry) = (0.0, 0.0);

    let dims = geometry.positions();
    let mut multi = Vec::new();
    let (mut z, mut y, mut targets) = (Vec::new(), Vec::new(), Vec::new());
    let (mut row, mut position, mut positive_rows) = (0u64, 0u64, 0u64);
    let batch = (BATCH_VALUES / k.max(1)).max(1);
    loop {
        z.clear();
        y.clear();
        targets.clear();
        let read = match per_class {
            true => source.read_targets(batch, &mut z, &mut targets),
            false => source.read(batch, &mut z, &mut y),
        };
        if read.map_err(|e| e.to_string())? == 0 {
            break;
        }
        let labels = if per_class { Labels::Targets(&targets) } else { Labels::Classes(&y) };
        for (i, e) in exact::rows(&setup, k, &z, labels).iter().enumerate() {
            while ignored_at.get(position as usize) == Some(&true) {
                position += 1;
            }
            if position >= n {
                return Err(format!("{}: has more rows than the dumps' {n}", path_name(&args.logits)));
            }
            let (s, c) = two_sum(sum, e.class_sum);
            (sum, carry) = (s, carry + c);
            geometry.multi(&dims, position, &mut multi);
            let (label, targets) = labels.row(i, k);
            positive_rows += u64::from(targets.is_empty() || targets.iter().any(|&t| t > 0.0));
            let at = |class| At { row, position, class, logits: &z[i * k..(i + 1) * k], label, targets };
            let value = |c| loss.values[loss_layout.index(&multi, c)];
            match loss_layout.kind {
                Kind::PerRow => losses.check(value(0), e.loss, e.loss.abs(), 1.0, &at(None)),
                Kind::PerElement => {
                    for (c, &x) in e.terms.iter().enumerate() {
                        losses.check(value(c), x, x.abs(), 1.0, &at(Some(c)));
                    }
                }
                Kind::Reduced => {}
            }
            if let (Some(gradient), Some(g), Some(layout)) = (&mut gradient, &grad, &grad_layout) {
                gradient.check_row(e, |c| g.values[layout.index(&multi, c)], |c| at(Some(c)));
            }
            row += 1;
            position += 1;
        }
    }
    if n == UNKNOWN {
        rows = row;
    } else if row != rows {
        return Err(format!("{}: has {row} rows but the dumps' shape says {rows}", path_name(&args.logits)));
    }
    let mut checks = vec![checked("losses", &loss, loss_layout.kind, losses)];
    if loss_layout.kind == Kind::Reduced {
        let exact = |r: BatchReduction| r.divisor(rows, k, positive_rows).map(|d| (sum + carry) / d);
        reduced(&mut checks[0], loss.values[0], reduction, exact)?;
    }
    if let (Some(gradient), Some(g)) = (gradient, &grad) {
        let verdict = gradient.finish();
        let mut c = checked("gradient", g, Kind::PerElement, verdict.tracker);
        (c.of, c.unexplained_scale) = (Some(verdict.of), verdict.unexplained);
        checks.push(c);
    }
    let run = Run {
        profile: lib,
        implied,
        gamma,
        alpha: alpha.as_ref(),
        reduction,
        rows,
        ignored,
        geometry: &geometry,
        checks,
    };
    let report = if args.json { run.json() } else { run.text() };
    Ok(Outcome { report, within: run.within() })
}

/// Checks their reduced loss `theirs` against `exact(reduction)`; when it
/// is off but matches another reduction (the commonest mismatch), the
/// check's note says which and how to ask for it.
fn reduced(
    check: &mut Checked,
    theirs: f64,
    reduction: BatchReduction,
    exact: impl Fn(BatchReduction) -> Option<f64>,
) -> Result<(), String> {
    let x = exact(reduction).ok_or("no rows: the data is empty")?;
    let spot = At { row: 0, position: 0, class: None, logits: &[], label: 0, targets: &[] };
    let t = &mut check.tracker;
    t.check(theirs, x, x.abs(), 1.0, &spot);
    if t.within() {
        return Ok(());
    }
    let tol = t.tolerance;
    check.note = REDUCTIONS.iter().filter(|&&r| r != reduction).find_map(|&r| {
        let x = exact(r)?;
        ((theirs - x).abs() <= tol.rtol * x.abs().max(tol.floor)).then(|| {
            format!("yours is {} ({}): if that is what you meant, pass --batch-reduction {}", r.text(), num(x), r.key())
        })
    });
    Ok(())
}

fn checked(what: &'static str, f: &Floats, kind: Kind, tracker: Tracker) -> Checked {
    Checked {
        what,
        file: f.name.clone(),
        dtype: f.dtype,
        shape: shape_text(&f.header.shape),
        kind,
        of: None,
        unexplained_scale: None,
        note: None,
        tracker,
    }
}

/// A dump: a `.npy` file, or an array of a container (`default` without `:NAME`).
fn dump(path: &Path, default: &str) -> Result<Located, String> {
    container::locate(path, default).map_err(|e| e.to_string())
}

/// The rows with a positive target (background rows have none), read
/// once before the comparison: the divisor of a per-positive mean.
fn positives(data: &DataArgs, mode: Mode, zero_one: bool) -> Result<u64, String> {
    let mut source = run::open(data, mode, zero_one).map_err(|e| e.to_string())?;
    let k = source.classes();
    let (mut z, mut y, mut count) = (Vec::new(), Vec::new(), 0);
    loop {
        z.clear();
        y.clear();
        if source.read_targets((BATCH_VALUES / k.max(1)).max(1), &mut z, &mut y).map_err(|e| e.to_string())? == 0 {
            return Ok(count);
        }
        count += y.chunks(k).filter(|row| row.iter().any(|&t| t > 0.0)).count() as u64;
    }
}

/// The logits' shape: from the `.npy` header, or for text `[N, K]` with N
/// from a dump that has rows (`u64::MAX` when none has: a reduced loss alone).
fn geometry(args: &VerifyArgs, npy: bool, k: usize, loss: &Floats, grad: Option<&Floats>) -> Result<Geometry, String> {
    if npy {
        return npy_geometry(&args.logits, args.tensor.class_axis);
    }
    let rows_of = |f: &Floats| match f.header.shape.as_slice() {
        // (1,) alone is a reduced loss.
        [n] if *n != 1 => Some(*n),
        [n, _] => Some(*n),
        _ => None,
    };
    let n = grad.and_then(rows_of).or_else(|| rows_of(loss)).unwrap_or(UNKNOWN);
    Ok(Geometry { shape: vec![n, k as u64], axis: 1, fortran: false })
}

/// The rows of text logits when no dump says.
const UNKNOWN: u64 = u64::MAX;

fn npy_geometry(path: &Path, class_axis: Option<i64>) -> Result<Geometry, String> {
    let header =
        container::locate(path, container::LOGITS).and_then(|z| read_header_at(&z)).map_err(|e| e.to_string())?;
    let rank = header.shape.len() as i64;
    // The reader has checked the axis already.
    let axis = class_axis.unwrap_or(1);
    let axis = if axis < 0 { axis + rank } else { axis } as usize;
    Ok(Geometry { shape: header.shape, axis, fortran: header.fortran_order })
}
