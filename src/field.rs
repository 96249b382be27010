//! The inputs: the four of an example (defaults: the seed's hard example),
//! shared by the command line and the explorer, plus the explorer's list of
//! γ values compared in the chart.

use crate::loss::{Mode, Params};
use crate::parse::{self, FieldError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Logits,
    Target,
    Gamma,
    Alpha,
    /// The γ values drawn as curves in the chart.
    Gammas,
}

impl Field {
    /// The fields of one example, in the order `params` takes their texts.
    pub const PARAMS: [Field; 4] = [Field::Logits, Field::Target, Field::Gamma, Field::Alpha];
    /// Every field, in focus order.
    pub const ALL: [Field; 5] = [Field::Logits, Field::Target, Field::Gamma, Field::Alpha, Field::Gammas];
    /// The fields of the dataset view, in focus order.
    pub const DATA: [Field; 3] = [Field::Gamma, Field::Alpha, Field::Gammas];

    pub fn label(self) -> &'static str {
        match self {
            Field::Logits => "Logits",
            Field::Target => "Target",
            Field::Gamma => "γ",
            Field::Alpha => "α",
            Field::Gammas => "Compare γ",
        }
    }

    pub fn flag(self) -> &'static str {
        match self {
            Field::Logits => "--logits",
            Field::Target => "--target",
            Field::Gamma => "--gamma",
            Field::Alpha => "--alpha",
            Field::Gammas => "--gammas",
        }
    }

    pub fn default_text(self) -> &'static str {
        match self {
            Field::Logits => "1.5, -0.8, 0.2",
            Field::Target => "1",
            Field::Gamma => "2",
            Field::Alpha => "0.25",
            // Figure 1 of Lin et al. (2017).
            Field::Gammas => "0, 0.5, 1, 2, 5",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Parses the four texts (in [`Field::PARAMS`] order) into validated `Params`,
/// or the first field that is wrong and why.
pub fn params(texts: [&str; 4], mode: Mode) -> Result<Params, (Field, FieldError)> {
    let [logits, target, gamma, alpha] = texts;
    let logits = parse::logits(logits).map_err(|e| (Field::Logits, e))?;
    let k = Some(logits.len());
    Ok(Params {
        target: parse::target(target, k).map_err(|e| (Field::Target, e))?,
        gamma: parse::gamma(gamma).map_err(|e| (Field::Gamma, e))?,
        alpha: parse::alpha(alpha, k, mode).map_err(|e| (Field::Alpha, e))?,
        logits,
        mode,
    })
}
