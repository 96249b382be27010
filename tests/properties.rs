//! Invariants of the focal loss that hold for every input, checked on random
//! inputs (proptest): they could fail for a wrong formula even where no
//! reference digits exist.

use focal_tui::loss::{Alpha, Focal, sigmoid_focal, softmax_focal};
use proptest::prelude::*;

type LossFn = fn(&[f64], usize, f64, &Alpha) -> Focal;

/// Logits with a target index inside them.
fn example(range: f64, max_k: usize) -> impl Strategy<Value = (Vec<f64>, usize)> {
    prop::collection::vec(-range..range, 1..max_k).prop_flat_map(|z| {
        let k = z.len();
        (Just(z), 0..k)
    })
}

fn rel_close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()) + 1e-300
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn focal_is_between_zero_and_weighted_ce((z, t) in example(60.0, 12), gamma in 0.0..8.0f64, a in 0.0..1.0f64) {
        let alpha = Alpha::Scalar(a);
        for f in [softmax_focal as LossFn, sigmoid_focal] {
            let r = f(&z, t, gamma, &alpha);
            let bound = f(&z, t, 0.0, &alpha).focal_loss; // the γ = 0 loss, Σ α_t·CE
            prop_assert!(r.focal_loss >= 0.0);
            prop_assert!(r.focal_loss <= bound * (1.0 + 1e-15), "{} > {}", r.focal_loss, bound);
        }
    }

    #[test]
    fn gamma_zero_is_alpha_times_ce((z, t) in example(60.0, 12), a in 0.0..4.0f64) {
        let r = softmax_focal(&z, t, 0.0, &Alpha::Scalar(a));
        prop_assert_eq!(r.modulating_factor, 1.0);
        prop_assert!(rel_close(r.focal_loss, a * r.cross_entropy, 1e-15));
        for (g, gce) in r.gradient.iter().zip(&r.grad_ce) {
            prop_assert!(rel_close(*g, a * gce, 1e-15));
        }
    }

    // Logits on a 1/1024 grid plus an integer shift: z + c is exact, so the
    // result must be bit-for-bit the same (everything depends on differences).
    #[test]
    fn shifting_all_logits_changes_nothing(
        grid in prop::collection::vec(-51_200i32..51_200, 1..10),
        shift in -1_000_000i32..1_000_000,
        gamma in 0.0..6.0f64,
        t_pick in any::<prop::sample::Index>(),
    ) {
        let z: Vec<f64> = grid.iter().map(|&n| f64::from(n) / 1024.0).collect();
        let moved: Vec<f64> = z.iter().map(|x| x + f64::from(shift)).collect();
        let t = t_pick.index(z.len());
        let (a, b) = (softmax_focal(&z, t, gamma, &Alpha::Scalar(0.25)), softmax_focal(&moved, t, gamma, &Alpha::Scalar(0.25)));
        prop_assert_eq!(a.focal_loss, b.focal_loss);
        prop_assert_eq!(a.probabilities, b.probabilities);
        prop_assert_eq!(a.gradient, b.gradient);
        prop_assert_eq!(a.one_minus_p_t, b.one_minus_p_t);
    }

    #[test]
    fn softmax_gradient_sums_to_zero_and_probabilities_to_one((z, t) in example(40.0, 30), gamma in 0.0..6.0f64) {
        let r = softmax_focal(&z, t, gamma, &Alpha::Scalar(0.25));
        let total: f64 = r.gradient.iter().sum();
        let scale: f64 = r.gradient.iter().map(|g| g.abs()).sum();
        prop_assert!(total.abs() <= 1e-14 * scale + 1e-300, "Σ dFL/dz = {total}, Σ|g| = {scale}");
        let p: f64 = r.probabilities.iter().sum();
        prop_assert!((p - 1.0).abs() <= 1e-14);
        prop_assert!(rel_close(r.one_minus_p_t, r.probabilities.iter().enumerate().filter(|(i, _)| *i != t).map(|(_, p)| p).sum(), 1e-13));
    }

    // Central differences, where the loss is smooth on the step's scale.
    #[test]
    fn gradient_matches_finite_differences((z, t) in example(5.0, 7), gamma in prop::sample::select(vec![0.0, 1.0, 1.5, 2.0, 3.0, 5.0]), a in 0.1..1.0f64) {
        let alpha = Alpha::Scalar(a);
        for f in [softmax_focal as LossFn, sigmoid_focal] {
            let r = f(&z, t, gamma, &alpha);
            for i in 0..z.len() {
                let h = 1e-5;
                let (mut up, mut down) = (z.clone(), z.clone());
                up[i] += h;
                down[i] -= h;
                let fd = (f(&up, t, gamma, &alpha).focal_loss - f(&down, t, gamma, &alpha).focal_loss) / (up[i] - down[i]);
                prop_assert!((fd - r.gradient[i]).abs() <= 1e-6 * r.gradient[i].abs() + 1e-8, "class {i}: fd {fd} vs {}", r.gradient[i]);
            }
        }
    }

    // Any finite input at all: finite, in-range outputs.
    #[test]
    fn every_finite_input_gives_finite_output(
        z in prop::collection::vec(prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO, 1..8),
        t_pick in any::<prop::sample::Index>(),
        gamma in prop::num::f64::POSITIVE | prop::num::f64::ZERO,
        a in 0.0..=1.0f64,
        big in 1.0..f64::MAX,
    ) {
        let t = t_pick.index(z.len());
        // Sigmoid α is in [0, 1]; softmax takes any finite α ≥ 0, however large.
        for (f, a) in [(softmax_focal as LossFn, a), (sigmoid_focal, a), (softmax_focal, big)] {
            let r = f(&z, t, gamma, &Alpha::Scalar(a));
            let scalars = [r.p_t, r.one_minus_p_t, r.modulating_factor, r.cross_entropy, r.focal_loss, r.alpha_t];
            prop_assert!(scalars.iter().chain(&r.probabilities).chain(&r.gradient).chain(&r.grad_ce).all(|x| x.is_finite()), "{r:?}");
            prop_assert!((0.0..=1.0).contains(&r.p_t) && (0.0..=1.0).contains(&r.one_minus_p_t));
            prop_assert!(r.focal_loss >= 0.0 && r.cross_entropy >= 0.0);
        }
    }
}

#[test]
fn gamma_below_one_near_certainty_has_a_finite_gradient() {
    for gap in [20.0, 40.0, 400.0, 800.0, 1e300] {
        for gamma in [0.1, 0.5, 0.9] {
            let r = softmax_focal(&[0.0, gap], 1, gamma, &Alpha::Scalar(0.25));
            assert!(r.gradient.iter().all(|g| g.is_finite()), "gap {gap} γ {gamma}: {:?}", r.gradient);
        }
    }
}
