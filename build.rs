//! Records the git commit the binary is built from, for `--version`.
//! Outside a git checkout of this crate (an sdist, a tarball, no git) it is
//! "unknown". Also marks what the tests need and this machine lacks (tmux,
//! an AVX2 or AVX-512 CPU), so that those tests are built ignored: `cargo
//! test` counts them as skipped, not passed.

use std::path::Path;
use std::process::Command;

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let commit = git(&dir, &["rev-parse", "--show-toplevel"])
        // A tarball unpacked inside some other repository must not take its commit.
        .filter(|top| same_dir(top, &dir))
        .and_then(|_| git(&dir, &["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=FOCAL_TUI_COMMIT={commit}");

    println!("cargo::rustc-check-cfg=cfg(no_tmux, no_avx2, no_avx512)");
    if !Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()) {
        println!("cargo:rustc-cfg=no_tmux");
    }
    let (avx2, avx512) = x86_paths();
    if !avx2 {
        println!("cargo:rustc-cfg=no_avx2");
    }
    if !avx512 {
        println!("cargo:rustc-cfg=no_avx512");
    }

    println!("cargo:rerun-if-changed=build.rs");
    // A commit or checkout moves HEAD or the branch's ref (loose or packed).
    let branch = git(&dir, &["symbolic-ref", "-q", "HEAD"]);
    for file in ["HEAD", "packed-refs"].into_iter().chain(branch.as_deref()) {
        let path = git(&dir, &["rev-parse", "--path-format=absolute", "--git-path", file]);
        if let Some(path) = path.filter(|p| Path::new(p).exists()) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

/// Whether this CPU takes the AVX2 path (with FMA) and the AVX-512 path
/// (with both), as `simd::x86_64::hardware` decides.
fn x86_paths() -> (bool, bool) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        let avx2 = has!("avx2") && has!("fma");
        (avx2, avx2 && has!("avx512f"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        (false, false)
    }
}

/// `git ARGS` run in `dir`: its first output line, or None if git is missing or fails.
fn git(dir: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).current_dir(dir).output().ok()?;
    let line = String::from_utf8(out.stdout).ok()?.lines().next()?.trim().to_string();
    (out.status.success() && !line.is_empty()).then_some(line)
}

fn same_dir(a: &str, b: &str) -> bool {
    match (Path::new(a).canonicalize(), Path::new(b).canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
