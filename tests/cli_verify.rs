//! `focal-tui verify` against dumps of real implementations
//! (tests/reference/gen_verify.py → tests/data/verify/): torchvision's
//! sigmoid_focal_loss in float32, float64 and bfloat16 with every
//! reduction and its autograd gradients, kornia's focal_loss and the
//! paper's softmax in torch on a segmentation tensor with void pixels must
//! pass; the common bugs must give status 1 and point where the generator
//! located them; bad input gives status 2 and one line. Per-class
//! targets, a background label, probabilities and containers are read as
//! `data` reads them.

mod common;

use std::process::Output;

use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/verify/");

/// `verify` with `args`, run in the dumps' folder.
fn run(args: &[&str]) -> Output {
    common::run_in(DATA, &[&["verify"], args].concat())
}

/// The JSON report and the exit status (0 within, 1 off).
fn verify(args: &[&str]) -> (Value, i32) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = run(&all);
    assert!(out.stderr.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let status = out.status.code().unwrap();
    assert!(status == 0 || status == 1, "{args:?}: status {status}");
    (serde_json::from_slice(&out.stdout).expect("one JSON object"), status)
}

fn expected() -> Value {
    serde_json::from_str(include_str!("data/verify/expected.json")).unwrap()
}

/// Status 2, nothing on stdout, one line on stderr, containing `what`.
fn refused(args: &[&str], what: &[&str]) {
    let err = common::refusal(&run(args), args);
    for w in what {
        assert!(err.contains(w), "{args:?}: `{w}` not in {err}");
    }
}

#[test]
fn torchvision_passes_in_every_dtype_and_reduction_with_its_gradients() {
    for (dtype, logits, precision) in
        [("f32", "z.npy", "float32"), ("f64", "z.npy", "float64"), ("bf16", "z_bf16.npy", "bfloat16")]
    {
        for (reduction, layout, of) in [
            ("none", "per_element", "the summed losses"),
            ("mean", "reduced", "the reduced loss"),
            ("sum", "reduced", "the summed losses"),
        ] {
            let loss = format!("tv_{dtype}_{reduction}.npy");
            let grad = format!("tv_{dtype}_{reduction}_grad.npy");
            let mut args = vec!["--logits", logits, "--labels", "y.npy", "--loss", &loss, "--grad", &grad];
            args.extend(["--profile", "torchvision"]);
            if reduction == "sum" {
                args.extend(["--batch-reduction", "sum"]);
            }
            let (v, status) = verify(&args);
            let case = format!("{dtype} {reduction}");
            assert_eq!((status, &v["within"]), (0, &Value::Bool(true)), "{case}: {v}");
            assert_eq!(v["rows"], 96, "{case}");
            assert_eq!(v["losses"]["layout"], layout, "{case}");
            assert_eq!(v["losses"]["precision"], precision, "{case}");
            assert_eq!(v["gradient"]["precision"], precision, "{case}");
            assert_eq!(v["gradient"]["of"], of, "{case}");
            assert_eq!(v["losses"]["values"], if layout == "reduced" { 1 } else { 480 }, "{case}");
            assert_eq!(v["gradient"]["values"], 480, "{case}");
        }
    }
}

/// The default tolerance follows the precision: the bfloat16 run passes at
/// √ε of bfloat16 and is off at float32's.
#[test]
fn a_bfloat16_run_is_judged_by_bfloat16s_tolerance() {
    let args =
        ["--logits", "z_bf16.npy", "--labels", "y.npy", "--loss", "tv_bf16_none.npy", "--profile", "torchvision"];
    let (v, status) = verify(&args);
    assert_eq!(status, 0);
    assert!((v["losses"]["rtol"].as_f64().unwrap() - 0.0078125f64.sqrt()).abs() < 1e-15);
    let worst = v["losses"]["worst_error"].as_f64().unwrap();
    assert!(worst > 1e-3, "a bfloat16 computation errs well beyond float32's tolerance: {worst}");
    let (v, status) = verify(&[&args[..], &["--rtol", "3.4e-4"]].concat());
    assert_eq!((status, &v["losses"]["within"]), (1, &Value::Bool(false)));
}

#[test]
fn the_paper_softmax_on_a_segmentation_tensor_passes_with_void_pixels() {
    let (v, status) = verify(&[
        "--logits",
        "seg_z.npy",
        "--labels",
        "seg_y.npy",
        "--ignore-index",
        "255",
        "--loss",
        "seg_paper.npy",
        "--grad",
        "seg_paper_grad.npy",
    ]);
    assert_eq!(status, 0, "{v}");
    assert_eq!((v["rows"].as_u64(), v["ignored"].as_u64()), (Some(28), Some(2)));
    assert_eq!(v["losses"]["layout"], "per_row");
    assert_eq!(v["losses"]["values"], 28);
    assert_eq!(v["gradient"]["values"], 28 * 4);
    assert_eq!(v["gradient"]["of"], "the summed losses");
}

/// kornia gives class 0 1 − α: its dump passes with its profile and is off
/// with the paper's placement.
#[test]
fn kornia_passes_with_its_profile_only() {
    let args =
        ["--logits", "seg_z.npy", "--labels", "seg_y_kornia.npy", "--ignore-index", "-100", "--loss", "seg_kornia.npy"];
    let (v, status) = verify(&[&args[..], &["--profile", "kornia"]].concat());
    assert_eq!(status, 0, "{v}");
    assert_eq!(v["losses"]["layout"], "per_element");
    let (v, status) = verify(&args);
    assert_eq!(status, 1);
    // Off exactly where α differs: a pixel of class 0, 0.75 against 0.25.
    let worst = &v["losses"]["worst"];
    assert_eq!((worst["label"].as_u64(), worst["class"].as_u64()), (Some(0), Some(0)), "{worst}");
    assert!((worst["error"].as_f64().unwrap() - 2.0).abs() < 1e-5, "{worst}");
}

#[test]
fn alpha_and_one_minus_alpha_swapped_is_caught_at_a_positive() {
    let (v, status) = verify(&[
        "--logits",
        "z.npy",
        "--labels",
        "y.npy",
        "--loss",
        "bug_alpha_swapped.npy",
        "--profile",
        "torchvision",
    ]);
    assert_eq!(status, 1);
    let worst = &v["losses"]["worst"];
    assert_eq!(worst["class"], worst["label"], "the positive's term is 3× too large: {worst}");
    assert!((worst["error"].as_f64().unwrap() - 2.0).abs() < 1e-9, "{worst}");
    assert!(v["losses"]["beyond"].as_u64().unwrap() >= 96);
}

#[test]
fn the_factor_applied_to_the_mean_cross_entropy_is_caught() {
    let (v, status) = verify(&["--logits", "z.npy", "--labels", "y.npy", "--loss", "bug_factor_on_mean.npy"]);
    assert_eq!(status, 1);
    assert_eq!(v["losses"]["layout"], "reduced");
    assert_eq!(v["losses"]["batch_reduction"], "mean_over_rows");
    assert!(v["losses"]["worst_error"].as_f64().unwrap() > 0.01);
    assert!(v["losses"].get("note").is_none(), "no other reduction explains it: {v}");
}

#[test]
fn gamma_ignored_is_caught_where_the_generator_locates_it() {
    let e = expected();
    let (v, status) = verify(&["--logits", "z.npy", "--labels", "y.npy", "--loss", "bug_gamma_ignored.npy"]);
    assert_eq!(status, 1);
    assert_eq!(v["losses"]["worst"]["row"], e["gamma_ignored_row"]);
    assert_eq!(v["losses"]["beyond"], 96);
    let (v, status) = verify(&[
        "--logits",
        "seg_z.npy",
        "--labels",
        "seg_y.npy",
        "--ignore-index",
        "255",
        "--loss",
        "seg_bug_gamma_ignored.npy",
    ]);
    assert_eq!(status, 1);
    assert_eq!(v["losses"]["worst"]["position"], e["seg_gamma_ignored_position"]);
}

#[test]
fn one_minus_p_formed_naively_gives_inf_at_the_planted_rows() {
    let e = expected();
    let (v, status) = verify(&["--logits", "z_naive.npy", "--labels", "y.npy", "--loss", "bug_naive.npy"]);
    assert_eq!(status, 1);
    assert_eq!(v["losses"]["non_finite"], e["naive_non_finite"]);
    let first = &v["losses"]["first_non_finite"];
    assert_eq!(first["row"], e["naive_first_row"]);
    assert_eq!(first["yours"], "inf");
    assert!(first["exact"].as_f64().unwrap() > 29.0, "a hard row: {first}");
}

#[test]
fn a_gradient_of_another_reduction_is_flagged_with_its_scale() {
    let (v, status) = verify(&[
        "--logits",
        "z.npy",
        "--labels",
        "y.npy",
        "--loss",
        "tv_f32_none.npy",
        "--grad",
        "bug_grad_row_mean.npy",
        "--profile",
        "torchvision",
    ]);
    assert_eq!(status, 1);
    assert_eq!(v["losses"]["within"], true);
    let scale = v["gradient"]["unexplained_scale"].as_f64().unwrap();
    assert!((scale * 96.0 - 1.0).abs() < 1e-5, "the mean over 96 rows: {scale}");
}

#[test]
fn a_scalar_reduced_another_way_names_the_flag() {
    let out = run(&["--logits", "z.npy", "--labels", "y.npy", "--loss", "tv_f32_sum.npy", "--profile", "torchvision"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("pass --batch-reduction sum"), "{text}");
    assert!(text.trim_end().ends_with("OFF: your implementation differs from the exact values"), "{text}");
    let out = run(&["--logits", "z.npy", "--labels", "y.npy", "--loss", "tv_f32_mean.npy", "--profile", "torchvision"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stdout).unwrap().trim_end().ends_with("within the tolerance"));
}

/// The same logits as text (every float32 value printed exactly), and in
/// Fortran order, give the same verdicts as the C-order `.npy`.
#[test]
fn text_and_fortran_order_logits_are_read_as_data_reads_them() {
    let z = npy_f32(&format!("{DATA}z.npy"));
    let (n, k) = (96, 5);
    let text: String =
        z.chunks(k).map(|r| r.iter().map(|&v| f64::from(v).to_string()).collect::<Vec<_>>().join(" ") + "\n").collect();
    let labels = npy_i64(&format!("{DATA}y.npy"));
    let labels_text: String = labels.iter().map(|l| format!("{l}\n")).collect();
    let zt = common::scratch_file("verify", "z.txt", text.as_bytes());
    let yt = common::scratch_file("verify", "y.txt", labels_text.as_bytes());
    let (zt, yt) = (zt.to_str().unwrap(), yt.to_str().unwrap());
    for loss in ["tv_f64_none.npy", "tv_f64_mean.npy"] {
        let (v, status) = verify(&["--logits", zt, "--labels", yt, "--loss", loss, "--profile", "torchvision"]);
        assert_eq!((status, v["rows"].as_u64()), (0, Some(96)), "{loss}: {v}");
    }
    let mut fortran = Vec::new();
    for c in 0..k {
        for r in 0..n {
            fortran.extend_from_slice(&z[r * k + c].to_le_bytes());
        }
    }
    let zf = common::scratch_file("verify", "z_fortran.npy", &common::npy_file("<f4", true, "(96, 5)", &fortran));
    let zf = zf.to_str().unwrap();
    let (v, status) =
        verify(&["--logits", zf, "--labels", "y.npy", "--loss", "tv_f64_none.npy", "--profile", "torchvision"]);
    assert_eq!(status, 0, "{v}");
    // A broken dump is still located at the same row.
    let (v, status) = verify(&["--logits", zf, "--labels", "y.npy", "--loss", "bug_gamma_ignored.npy"]);
    assert_eq!((status, &v["losses"]["worst"]["row"]), (1, &expected()["gamma_ignored_row"]));
}

/// Detection-style [B, A, K] logits with `--class-axis -1`: the same rows,
/// located by their multi-index.
#[test]
fn the_class_axis_last_gives_multi_indices() {
    let reshaped = |file: &str, descr: &str, shape: &str| {
        let bytes = std::fs::read(format!("{DATA}{file}")).unwrap();
        let data = &bytes[npy_data_offset(&bytes)..];
        let name = format!("ba_{file}");
        common::scratch_file("verify", &name, &common::npy_file(descr, false, shape, data))
            .to_str()
            .unwrap()
            .to_string()
    };
    let z = reshaped("z.npy", "<f4", "(2, 48, 5)");
    let y = reshaped("y.npy", "<i8", "(2, 48)");
    let good = reshaped("tv_f64_none.npy", "<f8", "(2, 48, 5)");
    let bad = reshaped("bug_gamma_ignored.npy", "<f8", "(2, 48)");
    let base = ["--logits", &z, "--labels", &y, "--class-axis", "-1"];
    let (v, status) = verify(&[&base[..], &["--loss", &good, "--profile", "torchvision"]].concat());
    assert_eq!((status, v["losses"]["layout"].as_str()), (0, Some("per_element")), "{v}");
    let (v, status) = verify(&[&base[..], &["--loss", &bad]].concat());
    let row = expected()["gamma_ignored_row"].as_u64().unwrap();
    assert_eq!(status, 1);
    assert_eq!(v["losses"]["worst"]["position"], serde_json::json!([row / 48, row % 48]));
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    let base = ["--logits", "z.npy", "--labels", "y.npy"];
    let with = |more: &[&'static str]| [&base[..], more].concat();
    refused(&with(&["--loss", "seg_paper.npy"]), &["seg_paper.npy", "matches neither", "(96, 5)"]);
    refused(&with(&["--loss", "tv_f32_none.npy", "--grad", "tv_f32_mean.npy"]), &["tv_f32_mean.npy", "logits' shape"]);
    refused(&with(&["--loss", "y.npy"]), &["y.npy", "losses of dtype '<i8'"]);
    refused(&with(&["--loss", "missing.npy"]), &["missing.npy", "cannot open"]);
    refused(&with(&["--loss", "tv_f32_none.npy", "--rtol", "-1"]), &["--rtol"]);
    refused(
        &with(&["--loss", "tv_f32_sum.npy", "--batch-reduction", "total"]),
        &["--batch-reduction", "mean_over_rows"],
    );
    refused(&with(&["--loss", "tv_f32_none.npy", "--profile", "pytorch"]), &["--profile", "kornia"]);
    refused(&["--logits", "seg_z.npy", "--labels", "seg_y.npy", "--loss", "seg_paper.npy"], &["255", "--ignore-index"]);
    let truncated = common::scratch_file("verify", "short.npy", &common::npy_file("<f4", false, "(96,)", &[0; 10]));
    refused(&[&base[..], &["--loss", truncated.to_str().unwrap()]].concat(), &["short.npy", "truncated"]);
    let z = common::scratch_file("verify", "three.txt", b"1 2\n3 4\n5 6\n");
    let y = common::scratch_file("verify", "three_labels.txt", b"0\n1\n0\n");
    let four = common::scratch_file("verify", "four.npy", &common::npy_file("<f8", false, "(4,)", &[0; 32]));
    refused(
        &["--logits", z.to_str().unwrap(), "--labels", y.to_str().unwrap(), "--loss", four.to_str().unwrap()],
        &["three.txt", "3 rows", "4"],
    );
}

/// torchvision with multi-label and soft targets shaped like the logits,
/// in float32 and float64, per element and reduced, with the gradients.
#[test]
fn per_class_targets_pass_as_torchvision_computes_them() {
    for (targets, name) in [("t_multi.npy", "multi"), ("t_soft.npy", "soft")] {
        for (dump, layout) in [("f32_none", "per_element"), ("f64_none", "per_element"), ("f64_mean", "reduced")] {
            let (loss, grad) = (format!("tv_{name}_{dump}.npy"), format!("tv_{name}_{dump}_grad.npy"));
            let args = ["--logits", "z.npy", "--labels", targets, "--loss", &loss, "--grad", &grad];
            let (v, status) = verify(&[&args[..], &["--profile", "torchvision"]].concat());
            let case = format!("{name} {dump}");
            assert_eq!(status, 0, "{case}: {v}");
            assert_eq!((v["rows"].as_u64(), v["losses"]["layout"].as_str()), (Some(96), Some(layout)), "{case}");
            assert_eq!(v["gradient"]["values"], 480, "{case}");
        }
    }
    // The paper's softmax of a target distribution, per row, with its gradient.
    let (v, status) = verify(&[
        "--logits",
        "z.npy",
        "--labels",
        "t_dist.npy",
        "--loss",
        "dist_paper.npy",
        "--grad",
        "dist_paper_grad.npy",
    ]);
    assert_eq!((status, v["losses"]["layout"].as_str()), (0, Some("per_row")), "{v}");
    assert_eq!(v["gradient"]["of"], "the summed losses");
}

/// A background label: its rows are all negatives, and a per-positive mean
/// divides by the rows that have a positive (its gradient too).
#[test]
fn a_background_label_passes_and_divides_by_the_positives() {
    let base = ["--logits", "z.npy", "--labels", "y_bg.npy", "--background", "5", "--profile", "torchvision"];
    let (v, status) = verify(&[&base[..], &["--loss", "bg_none.npy"]].concat());
    assert_eq!((status, v["rows"].as_u64()), (0, Some(96)), "{v}");
    let reduced = ["--loss", "bg_per_positive.npy", "--grad", "bg_per_positive_grad.npy"];
    let (v, status) = verify(&[&base[..], &reduced, &["--batch-reduction", "per_positive"]].concat());
    assert_eq!(status, 0, "{v}");
    assert_eq!(v["gradient"]["of"], "the reduced loss");
    // Without the flag the background label is out of range.
    refused(&["--logits", "z.npy", "--labels", "y_bg.npy", "--loss", "bg_none.npy", "--sigmoid"], &["y_bg.npy", "5"]);
}

/// Probabilities as inputs: torch's binary_cross_entropy on sigmoid outputs
/// and the softmax focal loss of softmax outputs pass; losses only.
#[test]
fn probabilities_pass_as_given() {
    let (v, status) = verify(&[
        "--logits",
        "p_sigmoid.npy",
        "--labels",
        "t_multi.npy",
        "--probs",
        "--loss",
        "p_sigmoid_loss.npy",
        "--profile",
        "torchvision",
    ]);
    assert_eq!((status, v["losses"]["layout"].as_str()), (0, Some("per_element")), "{v}");
    let worst = v["losses"]["worst_error"].as_f64().unwrap();
    assert!(worst < 1e-12, "float64 probabilities agree to a few ulp: {worst}");
    let (v, status) =
        verify(&["--logits", "p_softmax.npy", "--labels", "y.npy", "--probs", "--loss", "p_softmax_loss.npy"]);
    assert_eq!(status, 0, "{v}");
    // The same probabilities read as logits are far off.
    let (_, status) = verify(&["--logits", "p_softmax.npy", "--labels", "y.npy", "--loss", "p_softmax_loss.npy"]);
    assert_eq!(status, 1);
}

/// Containers: the logits and labels of an .npz by their default names
/// (no --labels), a dump in it by FILE:NAME, and safetensors tensors by name.
#[test]
fn containers_are_read_as_data_reads_them() {
    let (v, status) = verify(&["--logits", "multi.npz", "--loss", "multi.npz:loss", "--profile", "torchvision"]);
    assert_eq!((status, v["rows"].as_u64()), (0, Some(96)), "{v}");
    let (v, status) = verify(&[
        "--logits",
        "soft.safetensors:z",
        "--labels",
        "soft.safetensors:soft",
        "--loss",
        "tv_soft_f64_none.npy",
        "--grad",
        "tv_soft_f64_none_grad.npy",
        "--profile",
        "torchvision",
    ]);
    assert_eq!(status, 0, "{v}");
    let (_, status) =
        verify(&["--logits", "multi.npz", "--loss", "bug_multi_alpha_swapped.npy", "--profile", "torchvision"]);
    assert_eq!(status, 1);
    refused(&["--logits", "multi.npz", "--loss", "multi.npz:lose"], &["multi.npz", "no array named 'lose'", "loss"]);
}

#[test]
fn bugs_with_per_class_targets_are_caught_where_the_generator_locates_them() {
    let e = expected();
    let tv = ["--profile", "torchvision"];
    let (v, status) = verify(
        &[&["--logits", "z.npy", "--labels", "t_multi.npy", "--loss", "bug_multi_alpha_swapped.npy"], &tv[..]].concat(),
    );
    assert_eq!(status, 1);
    let worst = &v["losses"]["worst"];
    let class = worst["class"].as_u64().unwrap() as usize;
    assert_eq!(worst["targets"][class], 1.0, "a positive's term is 3× too large: {worst}");
    assert!((worst["error"].as_f64().unwrap() - 2.0).abs() < 1e-9, "{worst}");
    let (v, status) = verify(
        &[&["--logits", "z.npy", "--labels", "t_soft.npy", "--loss", "bug_soft_gamma_ignored.npy"], &tv[..]].concat(),
    );
    assert_eq!(status, 1);
    let worst = &v["losses"]["worst"];
    assert_eq!(serde_json::json!([worst["row"], worst["class"]]), e["soft_gamma_ignored_at"], "{worst}");
    let (v, status) = verify(
        &[&["--logits", "z_multi_naive.npy", "--labels", "t_multi.npy", "--loss", "bug_multi_naive.npy"], &tv[..]]
            .concat(),
    );
    assert_eq!(status, 1);
    assert_eq!(v["losses"]["non_finite"], e["multi_naive_non_finite"]);
    let first = &v["losses"]["first_non_finite"];
    assert_eq!(serde_json::json!([first["row"], first["class"]]), e["multi_naive_first"], "{first}");
    assert_eq!(first["yours"], "inf");
}

#[test]
fn bad_target_options_are_one_line_and_status_2() {
    let base = ["--logits", "z.npy", "--labels", "y.npy", "--loss", "bg_none.npy"];
    refused(&[&base[..], &["--background", "5"]].concat(), &["--background 5", "--sigmoid"]);
    refused(
        &[
            "--logits",
            "p_sigmoid.npy",
            "--labels",
            "t_multi.npy",
            "--probs",
            "--sigmoid",
            "--loss",
            "p_sigmoid_loss.npy",
            "--grad",
            "tv_multi_f64_none_grad.npy",
        ],
        &["--grad", "--probs"],
    );
    refused(
        &[
            "--logits",
            "z.npy",
            "--labels",
            "t_soft.npy",
            "--loss",
            "tv_soft_f64_none.npy",
            "--profile",
            "kornia",
            "--sigmoid",
        ],
        &["t_soft.npy", "0/1 labels"],
    );
    refused(
        &["--logits", "z.npy", "--labels", "t_multi.npy", "--loss", "tv_multi_f64_none.npy"],
        &["t_multi.npy", "not 1", "--sigmoid"],
    );
    refused(&["--logits", "z.npy", "--loss", "bg_none.npy", "--sigmoid"], &["z.npy", "no --labels"]);
}

fn npy_f32(path: &str) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    let data = &bytes[npy_data_offset(&bytes)..];
    data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

fn npy_i64(path: &str) -> Vec<i64> {
    let bytes = std::fs::read(path).unwrap();
    let data = &bytes[npy_data_offset(&bytes)..];
    data.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap())).collect()
}

/// Where a version 1.0 file's data starts.
fn npy_data_offset(bytes: &[u8]) -> usize {
    10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize
}
