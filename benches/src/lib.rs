//! Shared set-up of the benchmarks: fixture images built with the real tools.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds fixture `name` with `fixtures/build.sh` into `target/bench-fixtures` and returns its
/// path. Panics with the script's message when it cannot be built.
pub fn fixture(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out_dir = root.join("target/bench-fixtures");
    let out = Command::new("bash")
        .arg(root.join("fixtures/build.sh"))
        .arg(name)
        .arg(&out_dir)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "building {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    PathBuf::from(stdout.lines().last().expect("a path").trim())
}
