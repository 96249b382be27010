//! Records the git commit the binary is built from, for `--version`.
//! Outside a git checkout of this crate (an sdist, a tarball, no git) it is
//! "unknown".

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
