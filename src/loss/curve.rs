//! Focal loss as a function of a given p_t: the table's reference rows and
//! the chart's curves, where p_t is a chosen grid value rather than the
//! softmax of logits.

/// One row of the modulating-factor table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointLoss {
    pub p_t: f64,
    pub one_minus_p_t: f64,
    pub modulating_factor: f64,
    pub cross_entropy: f64,
    pub focal_loss: f64,
}

/// Focal loss at a probability `p ∈ (0, 1]` taken as exact.
///
/// `1 − p` is exact for `p ≥ ½` (Sterbenz) and correctly rounded below, so
/// every field is accurate to a few ulp for the grid values the UI uses; for
/// examples that come from logits use [`super::softmax_focal`], which never
/// forms `1 − p`. γ = 0 gives a factor of exactly 1; `p = 0` gives an
/// infinite CE, so callers keep `p > 0`. FL saturates at `f64::MAX` (an α_t
/// near it), as the loss of an example does.
pub fn at_probability(p: f64, gamma: f64, alpha_t: f64) -> PointLoss {
    let one_minus = 1.0 - p;
    let modulating_factor = if gamma == 0.0 { 1.0 } else { one_minus.powf(gamma) };
    let cross_entropy = -p.ln() + 0.0;
    PointLoss {
        p_t: p,
        one_minus_p_t: one_minus,
        modulating_factor,
        cross_entropy,
        focal_loss: (alpha_t * modulating_factor * cross_entropy).min(f64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_framing_gamma_2_at_0_9_is_100x_below_ce() {
        let r = at_probability(0.9, 2.0, 1.0);
        // (1 − 0.9)^2 = 0.01 up to the rounding of 0.9 itself.
        assert!((r.focal_loss / r.cross_entropy - 0.01).abs() < 1e-15);
        assert_eq!(at_probability(1.0, 0.0, 0.25).focal_loss, 0.0);
    }
}
