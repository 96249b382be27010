//! The inputs: the four of an example (defaults: the seed's hard example)
//! and its label smoothing, shared by the command line and the explorer,
//! plus the explorer's list of γ values compared in the chart.

use crate::loss::{Mode, Params};
use crate::parse::{self, FieldError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Logits,
    Target,
    Gamma,
    Alpha,
    /// Label smoothing ε (drawn on α's row).
    Smoothing,
    /// The γ values drawn as curves in the chart.
    Gammas,
}

impl Field {
    /// The fields of one example, in the order `params` takes their texts.
    pub const PARAMS: [Field; 4] = [Field::Logits, Field::Target, Field::Gamma, Field::Alpha];
    /// Every field, in focus order (which is also [`Field::index`] order).
    pub const ALL: [Field; 6] =
        [Field::Logits, Field::Target, Field::Gamma, Field::Alpha, Field::Smoothing, Field::Gammas];
    /// The fields of the dataset view, in focus order.
    pub const DATA: [Field; 3] = [Field::Gamma, Field::Alpha, Field::Gammas];

    pub fn label(self) -> &'static str {
        match self {
            Field::Logits => "Logits",
            Field::Target => "Target",
            Field::Gamma => "γ",
            Field::Alpha => "α",
            Field::Smoothing => "Smoothing",
            Field::Gammas => "Compare γ",
        }
    }

    pub fn flag(self) -> &'static str {
        match self {
            Field::Logits => "--logits",
            Field::Target => "--target",
            Field::Gamma => "--gamma",
            Field::Alpha => "--alpha",
            Field::Smoothing => "--label-smoothing",
            Field::Gammas => "--gammas",
        }
    }

    pub fn default_text(self) -> &'static str {
        match self {
            Field::Logits => "1.5, -0.8, 0.2",
            Field::Target => "1",
            Field::Gamma => "2",
            Field::Alpha => "0.25",
            Field::Smoothing => "0",
            // Figure 1 of Lin et al. (2017).
            Field::Gammas => "0, 0.5, 1, 2, 5",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Parses the four texts (in [`Field::PARAMS`] order) into validated `Params`
/// without label smoothing, or the first field that is wrong and why.
pub fn params(texts: [&str; 4], mode: Mode) -> Result<Params, (Field, FieldError)> {
    example(&Texts { fields: texts, smoothing: Field::Smoothing.default_text(), target_probs: None }, mode)
}

/// An example's texts as typed.
pub struct Texts<'a> {
    /// In [`Field::PARAMS`] order.
    pub fields: [&'a str; 4],
    pub smoothing: &'a str,
    /// Target probabilities given apart from the target field (`calc
    /// --target-probs`); they replace it.
    pub target_probs: Option<&'a str>,
}

/// Parses an example's texts into validated `Params`, or the first field
/// that is wrong and why.
pub fn example(texts: &Texts, mode: Mode) -> Result<Params, (Field, FieldError)> {
    let [logits, target, gamma, alpha] = texts.fields;
    let logits = parse::logits(logits).map_err(|e| (Field::Logits, e))?;
    let k = Some(logits.len());
    let target = match texts.target_probs {
        Some(list) => parse::target_probs(list, k, mode),
        None => parse::targets(target, k, mode),
    };
    Ok(Params {
        target: target.map_err(|e| (Field::Target, e))?,
        gamma: parse::gamma(gamma).map_err(|e| (Field::Gamma, e))?,
        alpha: parse::weights(alpha, k, mode).map_err(|e| (Field::Alpha, e))?,
        label_smoothing: parse::smoothing(texts.smoothing).map_err(|e| (Field::Smoothing, e))?,
        logits,
        mode,
    })
}
