//! The parser: what it accepts, the exact messages for what it rejects, and
//! that no string at all makes it panic.

use focal_tui::loss::{Alpha, Mode};
use focal_tui::parse::{self, FieldError};
use proptest::prelude::*;

fn err(r: Result<impl std::fmt::Debug, FieldError>) -> String {
    r.expect_err("should be rejected").message
}

#[test]
fn logits_accept_the_usual_spellings() {
    let want = vec![1.0, -2.0, 0.003, 3.0, 0.5, 20.0, -1.5];
    for text in [
        "1, -2E+0, 3e-3, 3., .5, +2e1, -1.5",
        "[1 -2 3e-3 3. .5 +2e1 -1.5]",
        "  [ 1,-2, 3e-3,3.,.5 ,+2e1 ,\u{2212}1.5, ]  ",
        "1\n-2\t0.003 3. 0.5 20 -1.5",
    ] {
        assert_eq!(parse::logits(text).unwrap(), want, "{text:?}");
    }
}

#[test]
fn logits_reject_with_the_token_and_column() {
    assert_eq!(err(parse::logits("")), "no logits: type at least one number, e.g. 1.5, -0.8, 0.2");
    assert_eq!(err(parse::logits("[ ]")), "no logits: type at least one number, e.g. 1.5, -0.8, 0.2");
    assert_eq!(err(parse::logits("1,,2")), "empty value before `,` at column 3");
    assert_eq!(err(parse::logits(", 1")), "nothing before `,` at column 1");
    assert_eq!(err(parse::logits("1, two, 3")), "`two` at column 4 is not a number");
    assert_eq!(err(parse::logits("1 nan")), "`nan` at column 3 is not a finite number");
    assert_eq!(err(parse::logits("-inf 2")), "`-inf` at column 1 is not a finite number");
    assert_eq!(err(parse::logits("1 1e999")), "`1e999` at column 3 overflows: |x| must be ≤ 1.8e308");
    assert_eq!(err(parse::logits("[1, 2")), "`[` at column 1 is never closed by `]`");
    assert_eq!(err(parse::logits("1 [2]")), "unexpected `[` at column 3: only one pair of [ ] around the whole list");
    assert_eq!(err(parse::logits("1e")), "`1e` at column 1 is not a number");
    assert_eq!(err(parse::logits("1.2.3")), "`1.2.3` at column 1 is not a number");
    assert_eq!(err(parse::logits("0x10")), "`0x10` at column 1 is not a number");
    assert_eq!(parse::logits("1,,2").unwrap_err().column, Some(3));
    // Columns count characters, not bytes.
    assert_eq!(parse::logits("γ").unwrap_err().column, Some(1));
    assert_eq!(err(parse::logits("−1 é")), "`é` at column 4 is not a number");
}

#[test]
fn logits_keep_the_extremes() {
    assert_eq!(parse::logits("1.7e308, -1.7e308").unwrap(), vec![1.7e308, -1.7e308]);
    assert_eq!(parse::logits("1e-400").unwrap(), vec![0.0]);
}

#[test]
fn target_is_a_class_index_in_range() {
    assert_eq!(parse::target(" 2 ", Some(3)).unwrap(), 2);
    assert_eq!(err(parse::target("3", Some(3))), "class 3 does not exist: 3 logits give classes 0..2");
    assert_eq!(err(parse::target("1", Some(1))), "class 1 does not exist: 1 logit gives classes 0..0");
    assert_eq!(err(parse::target("1.0", Some(3))), "`1.0` is not a class index: type a whole number in 0..2");
    assert_eq!(err(parse::target("-1", Some(3))), "`-1` is not a class index: type a whole number in 0..2");
    assert_eq!(err(parse::target("", Some(3))), "no target class: type one of 0..2");
    assert_eq!(err(parse::target("1 2", Some(3))), "`2` at column 3: the target is one class (0..2)");
    assert_eq!(parse::target("7", None).unwrap(), 7);
}

#[test]
fn gamma_is_one_finite_non_negative_number() {
    assert_eq!(parse::gamma("0").unwrap(), 0.0);
    assert_eq!(parse::gamma("-0").unwrap().to_bits(), 0.0_f64.to_bits());
    assert_eq!(parse::gamma("2.5").unwrap(), 2.5);
    assert_eq!(err(parse::gamma("-1")), "γ = -1 is negative: γ must be ≥ 0");
    assert_eq!(err(parse::gamma("")), "no γ: type a number ≥ 0, e.g. 2");
    assert_eq!(err(parse::gamma("1 2")), "γ is one number, got 2");
    assert_eq!(err(parse::gamma("inf")), "`inf` at column 1 is not a finite number");
    assert_eq!(parse::gammas("0, 0.5, 1, 2, 5").unwrap(), vec![0.0, 0.5, 1.0, 2.0, 5.0]);
    assert_eq!(err(parse::gammas("1 -2")), "γ = -2 is negative: every γ must be ≥ 0");
    // The list is capped: each γ costs the sweep memory and time.
    let list = |n: usize| (0..n).map(|i| (i as f64 / 10.0).to_string()).collect::<Vec<_>>().join(", ");
    assert_eq!(parse::gammas(&list(parse::MAX_GAMMAS)).unwrap().len(), 32);
    assert_eq!(err(parse::gammas(&list(33))), "33 γ values: at most 32 can be compared");
    assert_eq!(err(parse::gammas(&list(65_000))), "65000 γ values: at most 32 can be compared");
}

#[test]
fn alpha_is_a_scalar_or_one_per_class() {
    assert_eq!(parse::alpha("0.25", Some(3), Mode::Softmax).unwrap(), Alpha::Scalar(0.25));
    assert_eq!(parse::alpha("1 2 3", Some(3), Mode::Softmax).unwrap(), Alpha::PerClass(vec![1.0, 2.0, 3.0]));
    assert_eq!(err(parse::alpha("1 2", Some(3), Mode::Softmax)), "3 logits need 1 α or 3 (one per class), got 2");
    assert_eq!(err(parse::alpha("-0.5", Some(3), Mode::Softmax)), "α = -0.5 is negative: α must be ≥ 0");
    assert_eq!(err(parse::alpha("", Some(3), Mode::Softmax)), "no α: type a number such as 0.25, or one per class");
    assert_eq!(parse::alpha("4", Some(3), Mode::Softmax).unwrap(), Alpha::Scalar(4.0));
    assert_eq!(
        err(parse::alpha("4", Some(3), Mode::Sigmoid)),
        "α = 4 is above 1: in sigmoid mode negatives get 1 − α, so α must be in [0, 1]"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    // Any string: an answer, never a panic; an error always has a message.
    #[test]
    fn never_panics_on_any_string(s in "\\PC*") {
        for r in [parse::logits(&s).map(|_| ()), parse::gamma(&s).map(|_| ()), parse::gammas(&s).map(|_| ())] {
            if let Err(e) = r { prop_assert!(!e.message.is_empty()); }
        }
        let _ = parse::target(&s, Some(3));
        let _ = parse::alpha(&s, Some(3), Mode::Sigmoid);
    }

    // Strings made of the characters that matter to the grammar.
    #[test]
    fn never_panics_on_number_like_strings(s in "[0-9eE+\\-., \\[\\]\u{2212}a-z]{0,40}") {
        if let Ok(v) = parse::logits(&s) {
            prop_assert!(!v.is_empty() && v.iter().all(|x| x.is_finite()));
        }
        if let Err(FieldError { column: Some(c), .. }) = parse::logits(&s) {
            prop_assert!(c >= 1 && c <= s.chars().count());
        }
    }

    // Re-parsing after an edit (reusing the numbers it did not touch) gives
    // exactly what a fresh parse gives: values, or the same error.
    #[test]
    fn reusing_numbers_after_an_edit_equals_a_fresh_parse(
        numbers in prop::collection::vec("-?[0-9]{1,3}(\\.[0-9]{1,2})?", 1..8),
        separator in "(, | |,|  )",
        at in 0usize..40,
        cut in 0usize..4,
        insert in "[0-9 ,.\\-x\\[\\]]{0,3}",
        frame in prop::sample::select(vec![("", ""), ("[", "]"), (" [", "] "), ("  ", " ")]),
    ) {
        let old = format!("{}{}{}", frame.0, numbers.join(&separator), frame.1);
        let chars: Vec<char> = old.chars().collect();
        let at = at.min(chars.len());
        let end = (at + cut).min(chars.len());
        let new: String = chars[..at].iter().copied().chain(insert.chars()).chain(chars[end..].iter().copied()).collect();
        let previous = parse::logits_reusing(&old, None).ok();
        let reused = parse::logits_reusing(&new, previous.as_ref()).map(|l| l.values);
        prop_assert_eq!(reused, parse::logits(&new));
    }

    // Printing numbers and parsing them back gives the same numbers.
    #[test]
    fn round_trips_printed_lists(v in prop::collection::vec(-1e300f64..1e300, 1..20)) {
        let text = v.iter().map(|x| format!("{x:e}")).collect::<Vec<_>>().join(", ");
        prop_assert_eq!(parse::logits(&format!("[{text}]")).unwrap(), v);
    }
}
