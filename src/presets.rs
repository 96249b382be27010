//! Examples worth jumping to (F5), each with where it comes from.

use crate::loss::Mode;

/// A preset sets γ and α, and the logits, target and mode when it names them.
pub struct Preset {
    pub name: &'static str,
    pub source: &'static str,
    pub logits: Option<&'static str>,
    pub target: Option<&'static str>,
    pub gamma: &'static str,
    pub alpha: &'static str,
    pub mode: Option<Mode>,
}

const fn pair(name: &'static str, gamma: &'static str, alpha: &'static str) -> Preset {
    Preset {
        name,
        source: "Lin et al. 2017, Table 1b (RetinaNet, ResNet-50, COCO)",
        logits: None,
        target: None,
        gamma,
        alpha,
        mode: None,
    }
}

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "seed example 1, well classified",
        source: "the web calculator's worked example 1 (it prints FL 0.000024885; exact 2.5354e-5)",
        logits: Some("-1, 3, -0.5"),
        target: Some("1"),
        gamma: "2",
        alpha: "0.25",
        mode: None,
    },
    Preset {
        name: "seed example 2, hard",
        source: "the web calculator's worked example 2",
        logits: Some("1.5, -0.8, 0.2"),
        target: Some("1"),
        gamma: "2",
        alpha: "0.25",
        mode: None,
    },
    Preset {
        name: "the paper's default, γ 2 and α 0.25",
        source: "Lin et al. 2017, §3.1 and §5.1",
        logits: None,
        target: None,
        gamma: "2",
        alpha: "0.25",
        mode: None,
    },
    pair("γ 0, best α 0.75: AP 31.1", "0", "0.75"),
    pair("γ 0.1, best α 0.75: AP 31.4", "0.1", "0.75"),
    pair("γ 0.2, best α 0.75: AP 31.9", "0.2", "0.75"),
    pair("γ 0.5, best α 0.5: AP 32.9", "0.5", "0.5"),
    pair("γ 1, best α 0.25: AP 33.7", "1", "0.25"),
    pair("γ 2, best α 0.25: AP 34.0", "2", "0.25"),
    pair("γ 5, best α 0.25: AP 32.2", "5", "0.25"),
    Preset {
        name: "RetinaNet background anchor, the easy negative",
        source: "Lin et al. 2017, §4.1: every class's logit near the prior bias −log((1 − π)/π) = −log 99 ≈ −4.6",
        logits: Some("-4.6, -4.4, -4.8, -4.5, -4.7, -4.6, -4.9, -4.3"),
        target: Some("none"),
        gamma: "2",
        alpha: "0.25",
        mode: Some(Mode::Sigmoid),
    },
    Preset {
        name: "multi-label: two positives",
        source: "sigmoid focal loss with a multi-hot target (torchvision, Keras)",
        logits: Some("2.5, -1.2, 0.8, -3, 1.1"),
        target: Some("0, 2"),
        gamma: "2",
        alpha: "0.25",
        mode: Some(Mode::Sigmoid),
    },
];
