//! The four inputs of an example, their names and their defaults (the seed's
//! hard example), shared by the command line and the explorer.

use crate::loss::{Mode, Params};
use crate::parse::{self, FieldError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Logits,
    Target,
    Gamma,
    Alpha,
}

impl Field {
    pub const ALL: [Field; 4] = [Field::Logits, Field::Target, Field::Gamma, Field::Alpha];

    pub fn label(self) -> &'static str {
        match self {
            Field::Logits => "Logits",
            Field::Target => "Target",
            Field::Gamma => "γ",
            Field::Alpha => "α",
        }
    }

    pub fn flag(self) -> &'static str {
        match self {
            Field::Logits => "--logits",
            Field::Target => "--target",
            Field::Gamma => "--gamma",
            Field::Alpha => "--alpha",
        }
    }

    pub fn default_text(self) -> &'static str {
        match self {
            Field::Logits => "1.5, -0.8, 0.2",
            Field::Target => "1",
            Field::Gamma => "2",
            Field::Alpha => "0.25",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Parses the four texts (in [`Field::ALL`] order) into validated `Params`,
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
