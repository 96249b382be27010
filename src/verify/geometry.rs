//! Where a row of the logits is, and where its values are in a dump.
//!
//! The readers hand out positions in the logits' file order (Fortran order:
//! the first index fastest). A position's multi-index is the same in every
//! array of the run; each dump is then indexed in its own order, so a loss
//! saved in C order checks logits saved in Fortran order.

use crate::data::npy::{Floats, shape_text};

/// The logits' shape as positions and classes.
pub(super) struct Geometry {
    pub(super) shape: Vec<u64>,
    /// The class axis.
    pub(super) axis: usize,
    /// Positions run in Fortran order in the logits' file.
    pub(super) fortran: bool,
}

impl Geometry {
    /// The positions' shape: the logits' without the class axis.
    pub(super) fn positions(&self) -> Vec<u64> {
        self.shape.iter().enumerate().filter(|&(i, _)| i != self.axis).map(|(_, &d)| d).collect()
    }

    /// The number of positions.
    pub(super) fn n(&self) -> u64 {
        self.positions().iter().product()
    }

    /// The multi-index of position `p` (file order) over [`Geometry::positions`], into `out`.
    pub(super) fn multi(&self, dims: &[u64], mut p: u64, out: &mut Vec<u64>) {
        out.clear();
        out.resize(dims.len(), 0);
        let mut place = |i: usize| {
            out[i] = p % dims[i];
            p /= dims[i];
        };
        match self.fortran {
            true => (0..dims.len()).for_each(&mut place),
            false => (0..dims.len()).rev().for_each(&mut place),
        }
    }
}

/// What a dump holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// One loss per position.
    PerRow,
    /// One value per logit (per-class terms, or a gradient).
    PerElement,
    /// One number: the batch reduced.
    Reduced,
}

impl Kind {
    pub(super) fn key(self) -> &'static str {
        match self {
            Kind::PerRow => "per_row",
            Kind::PerElement => "per_element",
            Kind::Reduced => "reduced",
        }
    }
}

/// A dump matched against the logits: its kind and the stride of each
/// position axis (and of the class axis) in its own file order.
pub(super) struct Layout {
    pub(super) kind: Kind,
    strides: Vec<u64>,
    class_stride: u64,
}

impl Layout {
    /// The loss dump `f`: per row (the positions' shape, or flat in C
    /// order), per element (the logits' shape), or reduced (`()` or `(1,)`;
    /// `(1,)` is per row when there is one position).
    pub(super) fn of_loss(f: &Floats, g: &Geometry) -> Result<Layout, String> {
        let (dims, positions) = (&f.header.shape, g.positions());
        let n = g.n();
        if *dims == positions || *dims == [n] {
            let strides =
                if *dims == positions { strides(dims, f.header.fortran_order) } else { strides(&positions, false) };
            return Ok(Layout { kind: Kind::PerRow, strides, class_stride: 0 });
        }
        if *dims == g.shape {
            return Ok(Layout::per_element(f, g));
        }
        if dims.is_empty() || *dims == [1] {
            return Ok(Layout { kind: Kind::Reduced, strides: Vec::new(), class_stride: 0 });
        }
        Err(format!(
            "{}: shape {} matches neither the positions {} (a loss per row), the logits {} (per element) nor () or (1,) (a reduced loss)",
            f.name,
            shape_text(dims),
            shape_text(&positions),
            shape_text(&g.shape)
        ))
    }

    /// The gradient dump `f`: the logits' shape.
    pub(super) fn of_grad(f: &Floats, g: &Geometry) -> Result<Layout, String> {
        if f.header.shape != g.shape {
            return Err(format!(
                "{}: a gradient must have the logits' shape {}, got {}",
                f.name,
                shape_text(&g.shape),
                shape_text(&f.header.shape)
            ));
        }
        Ok(Layout::per_element(f, g))
    }

    fn per_element(f: &Floats, g: &Geometry) -> Layout {
        let all = strides(&g.shape, f.header.fortran_order);
        let class_stride = all[g.axis];
        let strides = all.iter().enumerate().filter(|&(i, _)| i != g.axis).map(|(_, &s)| s).collect();
        Layout { kind: Kind::PerElement, strides, class_stride }
    }

    /// The index in the dump's values of the position `multi`, class `c`.
    pub(super) fn index(&self, multi: &[u64], c: usize) -> usize {
        let base: u64 = multi.iter().zip(&self.strides).map(|(i, s)| i * s).sum();
        (base + c as u64 * self.class_stride) as usize
    }
}

/// The stride of each axis of `dims`, in items, for C or Fortran order.
fn strides(dims: &[u64], fortran: bool) -> Vec<u64> {
    let mut out = vec![0; dims.len()];
    let mut step = 1;
    let mut visit = |i: usize| {
        out[i] = step;
        step *= dims[i];
    };
    match fortran {
        true => (0..dims.len()).for_each(&mut visit),
        false => (0..dims.len()).rev().for_each(&mut visit),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A position's multi-index, raveled in either order, gives back the
    /// flat index numpy would.
    #[test]
    fn multi_index_and_strides_agree_with_numpy_order() {
        let g = Geometry { shape: vec![2, 3, 4, 5], axis: 1, fortran: false };
        let dims = g.positions();
        assert_eq!(dims, [2, 4, 5]);
        let mut m = Vec::new();
        g.multi(&dims, 23, &mut m);
        assert_eq!(m, [1, 0, 3]);
        let f = Geometry { fortran: true, ..g };
        f.multi(&dims, 23, &mut m);
        assert_eq!(m, [1, 3, 2]);
        assert_eq!(strides(&[2, 3, 4], false), [12, 4, 1]);
        assert_eq!(strides(&[2, 3, 4], true), [1, 2, 6]);
    }
}
