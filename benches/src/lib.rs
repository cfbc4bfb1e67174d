//! Shared set-up of the benchmarks: fixture images built with the real tools, and the loopback
//! range server of the remote benchmark.

pub mod range_server;

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

/// The debootstrapped Debian 12 image `debian12-VARIANT.vhd` (30 GiB, with its real initramfs),
/// built by `fixtures/debian12.sh image VARIANT CACHE target/bench-fixtures` (needs root, and
/// the network the first time) with CACHE from `VHDLINT_DEBIAN12_CACHE`, else
/// `target/bench-fixtures/debian12-cache`. Panics with the script's message when it cannot be
/// built.
pub fn debian12(variant: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out_dir = root.join("target/bench-fixtures");
    let cache = std::env::var_os("VHDLINT_DEBIAN12_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| out_dir.join("debian12-cache"));
    let out = Command::new("bash")
        .arg(root.join("fixtures/debian12.sh"))
        .args(["image", variant])
        .arg(&cache)
        .arg(&out_dir)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "building debian12-{variant}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    PathBuf::from(stdout.lines().last().expect("a path").trim())
}
