//! The Python side of the interop tests: the virtualenv `scripts/test`
//! builds under `target/pyenv` with pymemcache 4.0.0 (and pytest, lz4).

use std::path::PathBuf;
use std::process::Command;

/// The virtualenv's python when it has `modules`. Without it: in CI (`CI`
/// set) the test fails, since `scripts/test` installs it there; elsewhere it
/// is skipped with the reason printed.
pub fn python(test: &str, modules: &str) -> Option<PathBuf> {
    let root = std::env::var_os("MEMCLIENT_PYENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/pyenv"));
    let python = root.join("bin/python");
    let check = Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .output();
    let why = match check {
        Ok(output) if output.status.success() => return Some(python),
        Ok(output) => format!(
            "{} cannot import {modules}: {}",
            python.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(err) => format!("{} does not run: {err}", python.display()),
    };
    let in_ci = std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false");
    assert!(
        !in_ci,
        "{test}: {why}; scripts/test builds that virtualenv (python3 -m venv + pip install pymemcache==4.0.0)"
    );
    eprintln!("skipping {test}: {why} (run scripts/test to build the virtualenv)");
    None
}
