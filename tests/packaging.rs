//! What the wheel is built from: `--version` (version and commit, from
//! build.rs) and pyproject.toml's maturin settings. `scripts/test-wheel`
//! builds and checks the wheel itself.

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

/// The commit build.rs records when run as cargo would, for the crate in
/// `dir`; `path` replaces PATH (to hide git).
fn build_script_commit(dir: &Path, path: Option<&str>) -> String {
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join("packaging-build-script");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let status = Command::new(rustc)
        .args(["--edition", "2024", "-o"])
        .arg(&exe)
        .arg(Path::new(ROOT).join("build.rs"))
        .status()
        .unwrap();
    assert!(status.success(), "build.rs compiles");
    let mut run = Command::new(&exe);
    run.env("CARGO_MANIFEST_DIR", dir);
    if let Some(path) = path {
        run.env("PATH", path);
    }
    let out = String::from_utf8(run.output().unwrap().stdout).unwrap();
    let line = out.lines().find_map(|l| l.strip_prefix("cargo:rustc-env=FOCAL_TUI_COMMIT="));
    line.expect("build.rs sets FOCAL_TUI_COMMIT").to_string()
}

#[test]
fn build_script_says_unknown_outside_a_checkout() {
    if git(&["rev-parse", "--show-toplevel"]).is_none() {
        return; // not a checkout: the --version test covers "unknown"
    }
    assert_eq!(build_script_commit(Path::new(ROOT), None), git(&["rev-parse", "--short=12", "HEAD"]).unwrap());
    // No git (an sdist built on a server without it).
    assert_eq!(build_script_commit(Path::new(ROOT), Some("")), "unknown");
    // An unpacked tarball inside some other repository (here: this one's target/).
    let tarball = Path::new(env!("CARGO_TARGET_TMPDIR")).join("unpacked-sdist");
    std::fs::create_dir_all(&tarball).unwrap();
    assert_eq!(build_script_commit(&tarball, None), "unknown");
}

/// `(section, key, value)` of every `key = value` line of a TOML file
/// (enough for pyproject.toml's flat settings).
fn toml_keys(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut keys = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else if let Some((key, value)) = line.split_once('=') {
            keys.push((section.clone(), key.trim().to_string(), value.trim().to_string()));
        }
    }
    keys
}

#[test]
fn pyproject_builds_the_stripped_binary_at_cargos_version() {
    let text = std::fs::read_to_string(Path::new(ROOT).join("pyproject.toml")).unwrap();
    let keys = toml_keys(&text);
    let value =
        |section: &str, key: &str| keys.iter().find(|(s, k, _)| s == section && k == key).map(|(_, _, v)| v.as_str());
    assert_eq!(value("build-system", "build-backend"), Some(r#""maturin""#));
    assert_eq!(value("project", "name"), Some(r#""focal-tui""#));
    // One source of truth: maturin takes the version from Cargo.toml.
    assert_eq!(value("project", "dynamic"), Some(r#"["version"]"#));
    assert_eq!(value("project", "version"), None);
    assert_eq!(value("tool.maturin", "bindings"), Some(r#""bin""#));
    assert_eq!(value("tool.maturin", "strip"), Some("true"));
}
