//! Library profiles: focal loss as each library computes it.
//!
//! Libraries disagree on purpose for the same γ and α: where α goes, whether
//! the classes are summed or averaged, what a batch is divided by. Each
//! difference is a knob; a profile is one row of [`PROFILES`] giving every
//! knob's value, checked against the library version it names (values in
//! `tests/reference/profiles_cases.json`, from `gen_profiles.py`). A profile
//! adds no numeric path: the exact core computes the per-class terms (α
//! placement is a per-class α), and the class reduction scales the sum.

use super::{Alpha, Focal, Mode, Params, Target};

/// Which classes α weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Softmax: the target class gets α; sigmoid: a positive gets α, a
    /// negative 1 − α (the paper).
    Target,
    /// Softmax: class 0 ("background") gets 1 − α, every other class α.
    BackgroundFirst,
}

/// One example's classes to one number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassReduction {
    Sum,
    Mean,
}

/// A batch's per-row sums over the classes to one number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchReduction {
    /// The mean over the N rows.
    Rows,
    /// The mean over the N·K elements.
    Elements,
    /// The sum.
    Sum,
    /// The sum divided by the number of positive targets (RetinaNet).
    Positives,
    /// The sum of each row's mean over the classes (÷ K).
    SumOfRowMeans,
}

/// Which targets a library takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Targets {
    /// Every form the mode has (softmax: a class or a distribution).
    Any,
    /// 0/1 labels only: a class, background, several classes.
    ZeroOne,
    /// One class index per row (or background where the mode has it).
    Index,
}

/// One library's focal loss in one mode: every knob's value.
#[derive(Debug, PartialEq)]
pub struct Profile {
    /// The name `--profile` takes.
    pub name: &'static str,
    pub mode: Mode,
    /// The library and the version its values were checked against.
    pub library: &'static str,
    /// The call, and where its source is.
    pub source: &'static str,
    pub placement: Placement,
    /// Whether α can be turned off.
    pub alpha_off: bool,
    /// Whether α can be one value per class.
    pub per_class_alpha: bool,
    pub targets: Targets,
    /// Whether the library smooths labels itself.
    pub smoothing: bool,
    pub classes: ClassReduction,
    /// The library's default reduction of a batch; where that is `none`
    /// (torchvision, kornia), its `mean`.
    pub batch: BatchReduction,
    /// γ and α (as `--gamma`/`--alpha` take them) when the user gives none.
    pub gamma: &'static str,
    pub alpha: &'static str,
}

/// The profiles, the default (`paper`) first; a library with both forms has
/// a row per mode, its softmax row first.
pub const PROFILES: &[Profile] = &[
    Profile {
        name: "paper",
        mode: Mode::Softmax,
        library: "the paper",
        source: "Lin et al. 2017, eq. 5: FL = −α_t·(1 − p_t)^γ·ln p_t",
        placement: Placement::Target,
        alpha_off: true,
        per_class_alpha: true,
        targets: Targets::Any,
        smoothing: true,
        classes: ClassReduction::Sum,
        batch: BatchReduction::Rows,
        gamma: "2",
        alpha: "0.25",
    },
    Profile {
        name: "paper",
        mode: Mode::Sigmoid,
        library: "the paper",
        source: "Lin et al. 2017, §3 and appendix: a sigmoid per class, summed",
        placement: Placement::Target,
        alpha_off: true,
        per_class_alpha: true,
        targets: Targets::Any,
        smoothing: true,
        classes: ClassReduction::Sum,
        batch: BatchReduction::Rows,
        gamma: "2",
        alpha: "0.25",
    },
    Profile {
        name: "torchvision",
        mode: Mode::Sigmoid,
        library: "torchvision 0.29",
        source: "torchvision/ops/focal_loss.py sigmoid_focal_loss (reduction 'none'; 'mean' ÷ N·K)",
        placement: Placement::Target,
        alpha_off: true,
        per_class_alpha: false,
        targets: Targets::Any,
        smoothing: false,
        classes: ClassReduction::Sum,
        batch: BatchReduction::Elements,
        gamma: "2",
        alpha: "0.25",
    },
    Profile {
        name: "kornia",
        mode: Mode::Softmax,
        library: "kornia 0.9",
        source: "kornia/losses/focal.py focal_loss (reduction 'none'; 'mean' ÷ N·K)",
        placement: Placement::BackgroundFirst,
        alpha_off: true,
        per_class_alpha: false,
        targets: Targets::Index,
        smoothing: false,
        classes: ClassReduction::Sum,
        batch: BatchReduction::Elements,
        gamma: "2",
        alpha: "0.25",
    },
    Profile {
        name: "kornia",
        mode: Mode::Sigmoid,
        library: "kornia 0.9",
        source: "kornia/losses/focal.py binary_focal_loss_with_logits (reduction 'none'; 'mean' ÷ N·K)",
        placement: Placement::Target,
        alpha_off: true,
        per_class_alpha: false,
        targets: Targets::ZeroOne,
        smoothing: false,
        classes: ClassReduction::Sum,
        batch: BatchReduction::Elements,
        gamma: "2",
        alpha: "0.25",
    },
    Profile {
        name: "monai",
        mode: Mode::Softmax,
        library: "MONAI 1.6",
        source: "monai/losses/focal_loss.py FocalLoss(use_softmax=True), softmax_focal_loss; 'mean' ÷ N·K",
        placement: Placement::BackgroundFirst,
        alpha_off: true,
        per_class_alpha: true,
        targets: Targets::Any,
        smoothing: false,
        classes: ClassReduction::Mean,
        batch: BatchReduction::Elements,
        gamma: "2",
        alpha: "none",
    },
    Profile {
        name: "monai",
        mode: Mode::Sigmoid,
        library: "MONAI 1.6",
        source: "monai/losses/focal_loss.py FocalLoss(), sigmoid_focal_loss; 'mean' ÷ N·K",
        placement: Placement::Target,
        alpha_off: true,
        per_class_alpha: true,
        targets: Targets::ZeroOne,
        smoothing: false,
        classes: ClassReduction::Mean,
        batch: BatchReduction::Elements,
        gamma: "2",
        alpha: "none",
    },
    Profile {
        name: "keras",
        mode: Mode::Softmax,
        library: "Keras 3.15",
        source: "keras/src/losses/losses.py CategoricalFocalCrossentropy(from_logits=True), sum over classes, mean over rows",
        placement: Placement::Target,
        alpha_off: true,
        per_class_alpha: false,
        targets: Targets::Any,
        smoothing: true,
        classes: ClassReduction::Sum,
        batch: BatchReduction::Rows,
        gamma: "2",
        alpha: "0.25",
    },
    Profile {
        name: "keras",
        mode: Mode::Sigmoid,
        library: "Keras 3.15",
        source: "keras/src/losses/losses.py BinaryFocalCrossentropy(from_logits=True), mean over classes and rows; α only with apply_class_balancing",
        placement: Placement::Target,
        alpha_off: true,
        per_class_alpha: false,
        targets: Targets::Any,
        smoothing: true,
        classes: ClassReduction::Mean,
        batch: BatchReduction::Elements,
        gamma: "2",
        alpha: "none",
    },
    Profile {
        name: "mmdet",
        mode: Mode::Sigmoid,
        library: "mmdet 3.3",
        source: "mmdet/models/losses/focal_loss.py FocalLoss, py_sigmoid_focal_loss (label K = background; 'mean' ÷ N·K)",
        placement: Placement::Target,
        alpha_off: false,
        per_class_alpha: false,
        targets: Targets::Index,
        smoothing: false,
        classes: ClassReduction::Mean,
        batch: BatchReduction::Elements,
        gamma: "2",
        alpha: "0.25",
    },
    Profile {
        name: "ultralytics",
        mode: Mode::Sigmoid,
        library: "ultralytics 8.4",
        source: "ultralytics/utils/loss.py FocalLoss: loss.mean(1).sum()",
        placement: Placement::Target,
        alpha_off: true,
        per_class_alpha: false,
        targets: Targets::Any,
        smoothing: false,
        classes: ClassReduction::Mean,
        batch: BatchReduction::SumOfRowMeans,
        gamma: "1.5",
        alpha: "0.25",
    },
];

/// The default profile: today's behaviour.
pub const PAPER: &str = "paper";

/// The profile names, in table order, each once.
pub fn names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = PROFILES.iter().map(|p| p.name).collect();
    names.dedup();
    names
}

/// The profile `name` in `mode`, and whether it implied sigmoid (a library
/// with only a sigmoid form); an unknown name lists the known ones.
pub fn find(name: &str, mode: Mode) -> Result<(&'static Profile, bool), String> {
    let rows = || PROFILES.iter().filter(|p| p.name == name);
    if let Some(p) = rows().find(|p| p.mode == mode) {
        return Ok((p, false));
    }
    rows().next().map(|p| (p, true)).ok_or_else(|| format!("unknown profile `{name}` (known: {})", names().join(", ")))
}

/// What a library returns for one example: its loss and dloss/dz.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub loss: f64,
    pub gradient: Vec<f64>,
}

impl Profile {
    pub fn is_paper(&self) -> bool {
        self.name == PAPER
    }

    /// Why the library cannot compute an example with this target, label
    /// smoothing and α, if it cannot.
    pub fn check(&self, target: &Target, label_smoothing: f64, alpha: Option<&Alpha>) -> Result<(), String> {
        let lib = self.library;
        if alpha.is_none() && !self.alpha_off {
            return Err(format!("{lib} cannot turn α off"));
        }
        if matches!(alpha, Some(Alpha::PerClass(_))) && !self.per_class_alpha {
            return Err(format!("{lib} takes one α, not one per class"));
        }
        if label_smoothing > 0.0 && !self.smoothing {
            return Err(format!("{lib} has no label smoothing"));
        }
        let zero_one = !matches!(target, Target::Probs(_));
        match self.targets {
            Targets::ZeroOne if !zero_one => {
                Err(format!("{lib}'s {} form takes 0/1 labels: it weighs a soft label its own way", self.mode.name()))
            }
            Targets::Index if !matches!(target, Target::Class(_) | Target::Background) => Err(format!(
                "{lib} takes one class index{}",
                if self.mode == Mode::Sigmoid { " or background" } else { "" }
            )),
            _ => Ok(()),
        }
    }

    /// Places α in `p` as the library places it, for the exact core: a
    /// background-first α is the per-class α (1 − α, α, …, α).
    pub fn place_alpha(&self, p: &mut Params) {
        p.alpha = self.place(p.alpha.take(), p.logits.len());
    }

    /// `alpha` for `k` classes as the library places it.
    pub fn place(&self, alpha: Option<Alpha>, k: usize) -> Option<Alpha> {
        match (self.placement, alpha) {
            (Placement::BackgroundFirst, Some(Alpha::Scalar(a))) => {
                Some(Alpha::PerClass((0..k).map(|i| if i == 0 { 1.0 - a } else { a }).collect()))
            }
            (_, alpha) => alpha,
        }
    }

    /// The library's value from the core's result (α placed as it places it).
    pub fn value(&self, r: &Focal) -> Value {
        let scale = self.classes.divisor(r.gradient.len());
        Value { loss: self.loss(r), gradient: r.gradient.iter().map(|g| g / scale).collect() }
    }

    /// The library's loss alone, from the core's result.
    pub fn loss(&self, r: &Focal) -> f64 {
        r.focal_loss / self.classes.divisor(r.gradient.len())
    }

    /// The library's value for `p`, or why it cannot compute it.
    pub fn compute(&self, p: &Params) -> Result<(Focal, Value), String> {
        self.check(&p.target, p.label_smoothing, p.alpha.as_ref())?;
        let mut core = p.clone();
        core.mode = self.mode;
        self.place_alpha(&mut core);
        let r = core.compute();
        let v = self.value(&r);
        Ok((r, v))
    }

    /// The knobs in one line: "class 0 gets 1 − α, every other class α; …".
    pub fn summary(&self, alpha: Option<&Alpha>) -> String {
        format!("{}; {}; a batch: {}", self.placement_text(alpha), self.classes.text(), self.batch.text())
    }

    /// Where α goes, for `alpha` as given.
    pub fn placement_text(&self, alpha: Option<&Alpha>) -> &'static str {
        match (self.placement, self.mode) {
            _ if alpha.is_none() => "no α",
            (_, Mode::Softmax) if matches!(alpha, Some(Alpha::PerClass(_))) => "α[i] on class i",
            (Placement::BackgroundFirst, _) => "class 0 gets 1 − α, every other class α",
            (Placement::Target, Mode::Softmax) => "α on the target class",
            (Placement::Target, Mode::Sigmoid) => "α on positives, 1 − α on negatives",
        }
    }
}

impl Placement {
    pub fn key(self) -> &'static str {
        match self {
            Placement::Target => "target",
            Placement::BackgroundFirst => "background_first",
        }
    }
}

impl ClassReduction {
    /// What the sum over `k` classes is divided by.
    pub fn divisor(self, k: usize) -> f64 {
        match self {
            ClassReduction::Sum => 1.0,
            ClassReduction::Mean => k as f64,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            ClassReduction::Sum => "sum",
            ClassReduction::Mean => "mean",
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            ClassReduction::Sum => "summed over classes",
            ClassReduction::Mean => "the mean over classes",
        }
    }
}

impl BatchReduction {
    /// What the sum of every row's class sum is divided by, for `rows` rows
    /// of `k` classes with `positives` positive targets; `None` when that is
    /// zero (a batch without positives has no per-positive mean).
    pub fn divisor(self, rows: u64, k: usize, positives: u64) -> Option<f64> {
        let d = match self {
            BatchReduction::Rows => rows as f64,
            BatchReduction::Elements => rows as f64 * k as f64,
            BatchReduction::Sum => 1.0,
            BatchReduction::Positives => positives as f64,
            BatchReduction::SumOfRowMeans => k as f64,
        };
        (d > 0.0).then_some(d)
    }

    pub fn key(self) -> &'static str {
        match self {
            BatchReduction::Rows => "mean_over_rows",
            BatchReduction::Elements => "mean_over_elements",
            BatchReduction::Sum => "sum",
            BatchReduction::Positives => "per_positive",
            BatchReduction::SumOfRowMeans => "sum_of_row_means",
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            BatchReduction::Rows => "the mean over rows",
            BatchReduction::Elements => "the mean over N·K elements",
            BatchReduction::Sum => "the sum",
            BatchReduction::Positives => "÷ the positive targets",
            BatchReduction::SumOfRowMeans => "the sum of each row's class mean",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::Field;

    /// The default profile's γ and α are today's defaults.
    #[test]
    fn paper_defaults_are_the_fields_defaults() {
        for mode in [Mode::Softmax, Mode::Sigmoid] {
            let (p, implied) = find(PAPER, mode).unwrap();
            assert!(!implied);
            assert_eq!((p.gamma, p.alpha), (Field::Gamma.default_text(), Field::Alpha.default_text()));
        }
    }

    /// Every name has a row per mode it has, softmax first, and sigmoid-only
    /// libraries imply sigmoid.
    #[test]
    fn lookup_by_name_and_mode() {
        assert_eq!(names(), ["paper", "torchvision", "kornia", "monai", "keras", "mmdet", "ultralytics"]);
        for name in ["torchvision", "mmdet", "ultralytics"] {
            let (p, implied) = find(name, Mode::Softmax).unwrap();
            assert!(implied && p.mode == Mode::Sigmoid, "{name}");
        }
        assert!(find("kornia", Mode::Sigmoid).unwrap().0.source.contains("binary"));
        let err = find("pytorch", Mode::Softmax).unwrap_err();
        assert_eq!(
            err,
            "unknown profile `pytorch` (known: paper, torchvision, kornia, monai, keras, mmdet, ultralytics)"
        );
    }
}
