//! Help choosing α (and γ) from the data (issue 18): class weights from the
//! class counts, the α that balances the classes' focal loss at a γ, and the
//! share of the gradient the easy rows carry. Pure functions of numbers the
//! sweep gathers; no I/O, no UI types.
//!
//! # Class weights from the counts ([`alpha_suggestions`])
//! With `n_c` rows of class c, `n = Σ n_c` and K classes (all of them,
//! also those without rows):
//! - `balanced` (scikit-learn's `class_weight="balanced"`): `n / (K · n_c)`;
//! - `inverse_sqrt`: `n_c^(−1/2)`, scaled to mean 1 over the classes that
//!   have rows;
//! - `effective_number` (Cui et al. 2019, "Class-Balanced Loss Based on
//!   Effective Number of Samples") for each β of [`BETAS`]:
//!   `(1 − β) / (1 − β^(n_c))`, scaled so that the weights sum to K. The
//!   denominator is `−expm1(n_c · ln_1p(−(1 − β)))` (`1 − β` is exact for
//!   these β, Sterbenz), so that it keeps its relative accuracy where
//!   `β^(n_c)` is near 1 (few rows, β near 1) and where it underflows.
//!
//! Each weight is within a few ulp of the exact one. A class without rows
//! gets 0 (never ∞) and a note; a β whose weights are all within 1 % of 1
//! (every class has enough rows that `β^(n_c)` is negligible) gets a note.
//!
//! # The balancing α ([`balancing_alpha`])
//! Given each class's focal loss summed with α = 1 (`U_c`, any common
//! scale), `α_c ∝ 1 / U_c` gives every class the same share of the total
//! loss at that γ; scaled to mean 1 over the classes with rows. Taken as
//! `r_c = U_min / U_c ∈ (0, 1]` (`U_min` the smallest positive), so that
//! nothing overflows however small a `U_c`; each α is within a few ulp of
//! `r_c / mean(r)`. A class with rows but `U_c = 0` (every row of it
//! classified with p_t = 1 exactly) cannot be balanced: 0 and a note.

use serde::Serialize;

/// The β of the effective-number weights.
pub const BETAS: [f64; 4] = [0.9, 0.99, 0.999, 0.9999];
/// A β's weights all within this of 1 get a note: they do not reweigh.
pub const FLAT: f64 = 0.01;

/// One suggested α per class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlphaSuggestion {
    /// `"balanced"`, `"inverse_sqrt"` or `"effective_number"`.
    pub method: &'static str,
    /// The effective number's β.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
    /// One weight per class, 0..K.
    pub alpha: Vec<f64>,
}

/// The class weights of the module docs from each class's row count
/// (`counts[c] = n_c`, K = `counts.len()`), and the notes on them (classes
/// without rows, a single class with rows, flat effective-number weights).
pub fn alpha_suggestions(counts: &[u64]) -> (Vec<AlphaSuggestion>, Vec<String>) {
    let k = counts.len();
    let present: Vec<usize> = (0..k).filter(|&c| counts[c] > 0).collect();
    let mut notes = Vec::new();
    match present.len() {
        0 => return (Vec::new(), vec!["no class has rows: no α to suggest".into()]),
        1 => notes.push(format!(
            "only class {} has rows: the weights cannot balance classes the data does not show",
            present[0]
        )),
        _ => {}
    }
    let empty: Vec<usize> = (0..k).filter(|&c| counts[c] == 0).collect();
    if !empty.is_empty() {
        notes.push(format!("{} without rows: suggested α 0", classes_text(&empty)));
    }
    let n: f64 = counts.iter().map(|&c| c as f64).sum();
    let per_class = |f: &dyn Fn(f64) -> f64| -> Vec<f64> {
        counts.iter().map(|&c| if c == 0 { 0.0 } else { f(c as f64) }).collect()
    };
    let mut out = vec![
        AlphaSuggestion { method: "balanced", beta: None, alpha: per_class(&|nc| n / (k as f64 * nc)) },
        AlphaSuggestion {
            method: "inverse_sqrt",
            beta: None,
            alpha: scaled(per_class(&|nc| 1.0 / nc.sqrt()), present.len() as f64),
        },
    ];
    for beta in BETAS {
        let one_minus = 1.0 - beta;
        let ln_beta = (-one_minus).ln_1p();
        let alpha = scaled(per_class(&|nc| one_minus / -(nc * ln_beta).exp_m1()), k as f64);
        if present.iter().all(|&c| (alpha[c] - 1.0).abs() <= FLAT) {
            notes.push(format!(
                "effective number β = {beta}: every weight within 1 % of 1 (each class's rows far exceed 1/(1 − β)); no reweighting"
            ));
        }
        out.push(AlphaSuggestion { method: "effective_number", beta: Some(beta), alpha });
    }
    (out, notes)
}

/// `w` scaled so that its entries sum to `total` (entries ≥ 0, some > 0).
fn scaled(w: Vec<f64>, total: f64) -> Vec<f64> {
    // The largest first, so that the sum cannot overflow; w/max ≤ 1.
    let top = w.iter().copied().fold(0.0, f64::max);
    let r: Vec<f64> = w.iter().map(|&x| x / top).collect();
    let sum = neumaier(&r);
    r.iter().map(|&x| x / sum * total).collect()
}

/// The α balancing each class's share of the focal loss (module docs) from
/// `loss[c]`: class c's focal loss summed with α = 1 (any common scale),
/// `None` for a class without rows. The notes name classes that cannot be
/// balanced (`at` says where, e.g. "at γ = 2").
pub fn balancing_alpha(loss: &[Option<f64>], at: &str) -> (Vec<f64>, Vec<String>) {
    let u_min = loss.iter().flatten().copied().filter(|&u| u > 0.0).fold(f64::INFINITY, f64::min);
    let mut notes = Vec::new();
    let zero: Vec<usize> = (0..loss.len()).filter(|&c| loss[c] == Some(0.0)).collect();
    if !zero.is_empty() {
        notes.push(format!("{} with no focal loss {at}: balancing α 0", classes_text(&zero)));
    }
    if u_min == f64::INFINITY {
        return (vec![0.0; loss.len()], notes);
    }
    let r: Vec<f64> = loss.iter().map(|u| u.filter(|&u| u > 0.0).map_or(0.0, |u| (u_min / u).min(1.0))).collect();
    let with_rows = loss.iter().filter(|u| u.is_some()).count() as f64;
    let sum = neumaier(&r);
    (r.iter().map(|&x| x / sum * with_rows).collect(), notes)
}

/// Where a note of one γ's balancing α says it is from (`at` of
/// [`balancing_alpha`]).
pub fn at_gamma(gamma: f64) -> String {
    format!("at γ = {gamma}")
}

/// Whether `note` is one of γ's ([`at_gamma`], followed by its colon: "at
/// γ = 2:" is not in a note of γ = 0.2 or 12).
pub fn is_at_gamma(note: &str, gamma: f64) -> bool {
    note.contains(&format!("{}:", at_gamma(gamma)))
}

/// `part / total` in [0, 1]; 0 when the total is 0.
pub fn share(part: f64, total: f64) -> f64 {
    if total > 0.0 { (part / total).clamp(0.0, 1.0) } else { 0.0 }
}

/// "class 3" or "classes 1, 4, 7" (at most eight named).
fn classes_text(c: &[usize]) -> String {
    let named: Vec<String> = c.iter().take(8).map(|c| c.to_string()).collect();
    let more = if c.len() > 8 { format!(" and {} more", c.len() - 8) } else { String::new() };
    match c.len() {
        1 => format!("class {}", c[0]),
        _ => format!("classes {}{more}", named.join(", ")),
    }
}

/// A compensated sum (Neumaier's) of non-negative terms.
fn neumaier(x: &[f64]) -> f64 {
    let mut acc = super::sums::Neumaier::default();
    x.iter().for_each(|&v| acc.add(v));
    acc.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_classes_weigh_zero_and_are_noted() {
        let (s, notes) = alpha_suggestions(&[10, 0, 30]);
        for a in &s {
            assert_eq!(a.alpha[1], 0.0, "{}", a.method);
            assert!(a.alpha.iter().all(|x| x.is_finite()));
        }
        assert!(notes.iter().any(|n| n.starts_with("class 1 without rows")), "{notes:?}");
        // Balanced: n / (K n_c) with K = 3 (every class).
        assert!((s[0].alpha[0] - 40.0 / 30.0).abs() < 1e-15);
        let (b, notes) = balancing_alpha(&[Some(2.0), None, Some(0.0), Some(1e-320)], "at γ = 2");
        assert!(b.iter().all(|x| x.is_finite()) && b[1] == 0.0 && b[2] == 0.0, "{b:?}");
        assert!((b.iter().sum::<f64>() - 3.0).abs() < 1e-15);
        assert_eq!(notes, ["class 2 with no focal loss at γ = 2: balancing α 0"]);
    }

    #[test]
    fn flat_effective_numbers_are_noted() {
        // β = 0.9 only: 0.99^100 is far from 0.
        let (_, notes) = alpha_suggestions(&[100, 200]);
        assert_eq!(notes.iter().filter(|n| n.contains("within 1 %")).count(), 1, "{notes:?}");
        let (_, notes) = alpha_suggestions(&[5]);
        assert!(notes[0].starts_with("only class 0 has rows"), "{notes:?}");
    }
}
