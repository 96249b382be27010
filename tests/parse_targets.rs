//! The target, label-smoothing and α-none parsers: the forms they take, and
//! that no string makes them panic.

use focal_tui::loss::{Alpha, Mode, Target};
use focal_tui::parse;
use proptest::prelude::*;

#[test]
fn target_forms() {
    let k = Some(4);
    assert_eq!(parse::targets(" 2 ", k, Mode::Softmax).unwrap(), Target::Class(2));
    assert_eq!(parse::targets("None", k, Mode::Sigmoid).unwrap(), Target::Background);
    assert_eq!(parse::targets("[3, 0]", k, Mode::Sigmoid).unwrap(), Target::Classes(vec![3, 0]));
    assert_eq!(
        parse::targets("p: 0.25 0.25 0.5 0", k, Mode::Softmax).unwrap(),
        Target::Probs(vec![0.25, 0.25, 0.5, 0.0])
    );
    assert_eq!(parse::targets("P:[1, 1, 0, 0.5]", k, Mode::Sigmoid).unwrap(), Target::Probs(vec![1.0, 1.0, 0.0, 0.5]));
    // Columns count from the field's start, past the `p:`.
    let e = parse::targets("p: 0.5, x", k, Mode::Sigmoid).unwrap_err();
    assert_eq!((e.column, e.message.as_str()), (Some(9), "`x` at column 9 is not a number"));
    // Within 1e-6 of 1 is a distribution, used as given.
    assert!(parse::targets("p: 0.3 0.3 0.4000009 0", k, Mode::Softmax).is_ok());
    assert!(parse::targets("p: 0.3 0.3 0.400002 0", k, Mode::Softmax).is_err());
    assert_eq!(parse::smoothing("0.1").unwrap(), 0.1);
    assert!(parse::smoothing("1").is_err() && parse::smoothing("-0").is_ok());
    assert_eq!(parse::weights("none", k, Mode::Sigmoid).unwrap(), None);
    assert_eq!(parse::weights(" -1 ", k, Mode::Softmax).unwrap(), None);
    assert_eq!(parse::weights("0.5", k, Mode::Softmax).unwrap(), Some(Alpha::Scalar(0.5)));
}

proptest! {
    #[test]
    fn never_panics(s in "\\PC*", k in 0usize..5) {
        for mode in [Mode::Softmax, Mode::Sigmoid] {
            let _ = parse::targets(&s, Some(k), mode);
            let _ = parse::targets(&format!("p:{s}"), Some(k), mode);
            let _ = parse::weights(&s, Some(k), mode);
        }
        let _ = parse::smoothing(&s);
    }
}
