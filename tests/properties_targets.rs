//! Invariants of every target form on random inputs (proptest): finite
//! results for any finite input, terms that sum to the loss, a softmax
//! gradient that sums to zero, a one-hot distribution that gives the
//! class-index loss, and gradients that match finite differences.

use focal_tui::loss::{Alpha, Focal, Mode, Params, Target, softmax_focal};
use proptest::prelude::*;

/// Any finite logit, the extremes often.
fn logit() -> impl Strategy<Value = f64> {
    prop_oneof![
        -50.0..50.0f64,
        prop::sample::select(vec![0.0, 1e-9, -1e-9, 800.0, -800.0, 1000.0, -1000.0, 1.7e308, -1.7e308, 40.0]),
    ]
}

/// A valid target for `k` classes in `mode`.
fn target(k: usize, mode: Mode) -> BoxedStrategy<Target> {
    let class = (0..k).prop_map(Target::Class);
    let probs = prop::collection::vec(0.0..=1.0f64, k);
    match mode {
        Mode::Sigmoid => prop_oneof![
            class,
            Just(Target::Background),
            prop::sample::subsequence((0..k).collect::<Vec<_>>(), 0..=k).prop_map(Target::Classes),
            probs.prop_map(Target::Probs),
        ]
        .boxed(),
        // A distribution: normalised, then its last entry taking the rest.
        Mode::Softmax => prop_oneof![
            class,
            probs.prop_filter("some mass", |p| p.iter().sum::<f64>() > 0.0).prop_map(|p| {
                let s: f64 = p.iter().sum();
                Target::Probs(p.iter().map(|x| x / s).collect())
            }),
        ]
        .boxed(),
    }
}

fn example(mode: Mode) -> impl Strategy<Value = Params> {
    prop::collection::vec(logit(), 1..7).prop_flat_map(move |logits| {
        let k = logits.len();
        let alpha = prop_oneof![
            Just(None),
            (0.0..=1.0f64).prop_map(|a| Some(Alpha::Scalar(a))),
            prop::collection::vec(0.0..=1.0f64, k).prop_map(|v| Some(Alpha::PerClass(v))),
        ];
        let smoothing = prop_oneof![Just(0.0), 0.0..1.0f64, Just(1e-10)];
        let gamma = prop_oneof![Just(0.0), Just(0.5), Just(2.0), 0.0..20.0f64];
        (Just(logits), target(k, mode), smoothing, gamma, alpha).prop_map(
            move |(logits, target, label_smoothing, gamma, alpha)| Params {
                logits,
                target,
                label_smoothing,
                gamma,
                alpha,
                mode,
            },
        )
    })
}

fn all_values(r: &Focal) -> Vec<f64> {
    let mut v =
        vec![r.alpha_t, r.p_t, r.one_minus_p_t, r.modulating_factor, r.cross_entropy, r.focal_loss, r.target_ce];
    for list in [&r.probabilities, &r.gradient, &r.grad_ce, &r.per_class_loss, &r.targets] {
        v.extend(list.iter().copied());
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(800))]

    #[test]
    fn every_target_is_finite_and_its_terms_sum_to_the_loss(
        p in prop_oneof![example(Mode::Softmax), example(Mode::Sigmoid)],
    ) {
        let r = p.compute();
        for x in all_values(&r) {
            prop_assert!(x.is_finite(), "{x} in {r:?}");
        }
        prop_assert!(r.focal_loss >= 0.0 && r.cross_entropy >= 0.0);
        let k = p.logits.len();
        let terms: Vec<f64> = (0..k).map(|i| r.term(i)).collect();
        prop_assert!(terms.iter().all(|&t| t >= 0.0));
        if !r.saturated {
            let sum: f64 = terms.iter().sum();
            prop_assert!((sum - r.focal_loss).abs() <= 1e-14 * r.focal_loss, "{sum} vs {}", r.focal_loss);
        }
        prop_assert!((0..k).all(|i| (0.0..=1.0).contains(&r.target_of(i))));
        prop_assert!(r.target < k);
    }

    /// Σ_k dFL/dz_k = 0 for the softmax, within the size of its terms.
    #[test]
    fn softmax_gradients_sum_to_zero(p in example(Mode::Softmax)) {
        prop_assume!(p.logits.iter().all(|z| z.abs() <= 1000.0));
        let r = p.compute();
        prop_assume!(!r.saturated);
        for g in [&r.gradient, &r.grad_ce] {
            let sum: f64 = g.iter().sum();
            let size: f64 = g.iter().map(|x| x.abs()).sum();
            // Each component is a difference of terms of size up to α·(1 + γ): p − q cancels.
            let terms = size + (1.0 + p.gamma);
            prop_assert!(sum.abs() <= 1e-14 * terms, "Σ = {sum:e}, Σ|·| = {size:e}");
        }
    }

    /// A one-hot distribution gives the class-index loss; a class with no
    /// smoothing *is* the class-index computation.
    #[test]
    fn one_hot_probabilities_are_the_class_index(
        z in prop::collection::vec(-60.0..60.0f64, 1..8), pick in any::<prop::sample::Index>(), gamma in 0.0..6.0f64,
    ) {
        let t = pick.index(z.len());
        let class = Params {
            logits: z.clone(), target: Target::Class(t), label_smoothing: 0.0, gamma,
            alpha: Some(Alpha::Scalar(0.25)), mode: Mode::Softmax,
        };
        prop_assert_eq!(&class.compute(), &softmax_focal(&z, t, gamma, &Alpha::Scalar(0.25)));
        let mut one_hot = vec![0.0; z.len()];
        one_hot[t] = 1.0;
        let a = class.compute();
        let b = Params { target: Target::Probs(one_hot), ..class }.compute();
        for (x, y) in all_values(&a).into_iter().zip([b.alpha_t, b.p_t, b.one_minus_p_t, b.modulating_factor, b.cross_entropy, b.focal_loss, b.target_ce]) {
            prop_assert!((x - y).abs() <= 1e-14 * x.abs().max(y.abs()) + 1e-300, "{x} vs {y}");
        }
        for (x, y) in a.gradient.iter().zip(&b.gradient) {
            prop_assert!((x - y).abs() <= 1e-14 * a.gradient.iter().map(|g| g.abs()).sum::<f64>() + 1e-300, "{x} vs {y}");
        }
    }

    /// dFL/dz against central differences of FL, for moderate logits.
    #[test]
    fn gradients_match_finite_differences(
        p in prop_oneof![example(Mode::Softmax), example(Mode::Sigmoid)].prop_map(|mut p| {
            // Moderate logits; γ = 0 or ≥ 1, where FL is smooth enough for differences.
            p.logits.iter_mut().for_each(|z| *z = z.clamp(-20.0, 20.0));
            p.gamma = if p.gamma == 0.0 { 0.0 } else { 1.0 + p.gamma % 5.0 };
            p
        }),
    ) {
        let r = p.compute();
        let scale = r.gradient.iter().map(|g| g.abs()).fold(0.0, f64::max).max(r.focal_loss);
        for k in 0..p.logits.len() {
            let h = 1e-6;
            let at = |dz: f64| {
                let mut q = p.clone();
                q.logits[k] += dz;
                q.compute().focal_loss
            };
            let numeric = (at(h) - at(-h)) / (2.0 * h);
            prop_assert!((numeric - r.gradient[k]).abs() <= 1e-5 * scale + 1e-9, "k = {k}: {numeric} vs {}", r.gradient[k]);
        }
    }
}
