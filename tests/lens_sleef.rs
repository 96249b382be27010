//! The Sleef port and torch's float32 sum grouping against torch itself,
//! bit for bit (`tests/reference/gen_sleef.py` → `sleef_cases.bin`).

use focal_tui::lens::amp::reduce::{CAPABILITY, cascade_sum, lane_sum};
use focal_tui::lens::amp::sleef::{expf, log1pf, logf};

/// The reference file, read section by section.
struct Reader {
    bytes: Vec<u8>,
    at: usize,
}

impl Reader {
    fn u32(&mut self) -> u32 {
        let v = u32::from_le_bytes(self.bytes[self.at..self.at + 4].try_into().unwrap());
        self.at += 4;
        v
    }

    fn f32(&mut self) -> f32 {
        f32::from_bits(self.u32())
    }

    /// The header's JSON.
    fn header(&mut self) -> serde_json::Value {
        assert_eq!(self.u32(), 0x534c_4546, "sleef_cases.bin magic");
        let n = self.u32() as usize;
        let v = serde_json::from_slice(&self.bytes[self.at..self.at + n]).unwrap();
        self.at += n;
        v
    }

    /// One section of fixed-width records.
    fn records<const W: usize>(&mut self) -> Vec<[f32; W]> {
        let n = self.u32();
        (0..n).map(|_| std::array::from_fn(|_| self.f32())).collect()
    }
}

struct Cases {
    /// (x, torch's exp(−|x|) buffer, torch's log_sigmoid(x), torch.exp(−|x|)).
    log_sigmoid: Vec<[f32; 4]>,
    /// (n, t, torch's log_softmax([0, t, …, t])[0] over n terms).
    log_softmax: Vec<[f32; 3]>,
    /// (row, torch's sum).
    sums: Vec<(Vec<f32>, f32)>,
}

fn cases() -> Cases {
    let bytes = std::fs::read("tests/reference/sleef_cases.bin").expect("sleef_cases.bin");
    let mut r = Reader { bytes, at: 0 };
    let header = r.header();
    assert_eq!(header["cpu_capability"], CAPABILITY, "the reference was made under another CPU capability");
    let log_sigmoid = r.records::<4>();
    let log_softmax = r.records::<3>();
    let n = r.u32();
    let sums = (0..n)
        .map(|_| {
            let len = r.u32() as usize;
            let row: Vec<f32> = (0..len).map(|_| r.f32()).collect();
            (row, r.f32())
        })
        .collect();
    assert_eq!(r.at, r.bytes.len(), "trailing bytes");
    Cases { log_sigmoid, log_softmax, sums }
}

fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Sleef's `exp` on x ≤ 0 and `log1p` on (0, 1], through the buffer and the
/// output of torch's float32 `log_sigmoid`; where the C library's `expf`
/// and `log1pf` differ from them (the cases a libm emulation got wrong);
/// and how often the C library's `expf` differs from `torch.exp` (MKL).
#[test]
fn exp_and_log1p_match_torch_log_sigmoid() {
    let c = cases().log_sigmoid;
    assert!(c.len() > 10_000);
    let (mut libm_exp, mut libm_log1p, mut mkl) = (0, 0, 0);
    for &[x, buf, out, torch_exp] in &c {
        let e = expf(-x.abs());
        assert!(same(e, buf), "exp({:e}) = {e:e}, torch {buf:e}", -x.abs());
        let l = x.min(0.0) - log1pf(buf);
        assert!(same(l, out), "log_sigmoid({x:e}) = {l:e}, torch {out:e}");
        libm_exp += usize::from(!same((-x.abs()).exp(), buf));
        libm_log1p += usize::from(!same(x.min(0.0) - buf.ln_1p(), out));
        mkl += usize::from(!same((-x.abs()).exp(), torch_exp));
    }
    eprintln!(
        "{} inputs bit for bit; the C library differs in {libm_exp} exp, {libm_log1p} log_sigmoid; \
         from torch.exp (MKL) in {mkl}",
        c.len()
    );
    assert!(libm_exp > 0 && libm_log1p > 0, "the grid no longer tells Sleef from the C library");
    assert!(mkl * 40 < c.len(), "the C library's expf stands in for MKL's: {mkl} differ");
}

/// Sleef's `log` on [1, n] through torch's float32 `log_softmax` of
/// `[0, t, …, t]`: `0 − log S`, S the sum of Sleef's `exp` as
/// `vec::map_reduce_all` groups it.
#[test]
fn log_matches_torch_log_softmax() {
    let c = cases().log_softmax;
    assert!(c.len() > 5_000);
    let mut libm = 0;
    for &[n, t, out] in &c {
        let mut row = vec![expf(t); n as usize];
        row[0] = expf(0.0);
        let s = lane_sum(&row);
        assert!(same(0.0 - logf(s), out), "log({s:e}) = {:e}, torch {:e} (n = {n})", logf(s), -out);
        libm += usize::from(!same(0.0 - s.ln(), out));
    }
    eprintln!("{} rows bit for bit; the C library's logf differs in {libm}", c.len());
    assert!(libm > 0, "the grid no longer tells Sleef from the C library");
}

/// Special values as Sleef defines them.
#[test]
fn special_values() {
    assert_eq!(expf(0.0), 1.0);
    assert_eq!(expf(-104.5), 0.0);
    assert_eq!(expf(100.5), f32::INFINITY);
    assert_eq!(expf(f32::NEG_INFINITY), 0.0);
    assert_eq!(logf(1.0), 0.0);
    assert_eq!(logf(0.0), f32::NEG_INFINITY);
    assert!(logf(-1.0).is_nan() && logf(f32::NAN).is_nan());
    assert_eq!(logf(f32::INFINITY), f32::INFINITY);
    assert_eq!(log1pf(-1.0), f32::NEG_INFINITY);
    assert!(log1pf(-2.0).is_nan());
    assert!(log1pf(-0.0).is_sign_negative() && log1pf(-0.0) == 0.0);
    assert_eq!(log1pf(2e38), f32::INFINITY);
    // Subnormal and huge arguments stay within an ulp of the exact value.
    for x in [1e-40f32, 3e-45, 1e30, f32::MAX] {
        let exact = f64::from(x).ln();
        assert!((f64::from(logf(x)) - exact).abs() <= exact.abs() * 1.2e-7, "log({x:e})");
    }
}

/// torch's float32 `sum()` grouping, rows of 1 to 130 terms, and where a
/// left-to-right sum differs from it.
#[test]
fn cascade_sum_matches_torch() {
    let c = cases().sums;
    let mut naive = 0;
    for (row, want) in &c {
        let got = cascade_sum(row);
        assert!(same(got, *want), "sum of {} terms {got:e}, torch {want:e}", row.len());
        naive += usize::from(!same(row.iter().sum(), *want));
    }
    eprintln!("{} rows bit for bit; a left-to-right sum differs in {naive}", c.len());
    assert!(naive > 0);
}
