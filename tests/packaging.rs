//! What the wheel is built from: `--version` (version and commit, from
//! build.rs).

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).current_dir(ROOT).output().ok()?;
    out.status.success().then(|| String::from_utf8(out.stdout).unwrap().trim().to_string())
}

#[test]
fn version_names_the_cargo_version_and_the_commit() {
    let in_checkout = git(&["rev-parse", "--show-toplevel"])
        .is_some_and(|top| Path::new(&top).canonicalize().ok() == Path::new(ROOT).canonicalize().ok());
    let commit = if in_checkout { git(&["rev-parse", "--short=12", "HEAD"]).unwrap() } else { "unknown".into() };
    let out = Command::new(env!("CARGO_BIN_EXE_focal-tui")).arg("--version").output().unwrap();
    assert!(out.status.success());
    let want = format!("focal-tui {} (commit {commit})\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
}
