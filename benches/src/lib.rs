//! Shared set-up of the benchmarks: fixture images built with the real tools, the release
//! binary, the statistics the figures are given in, and the loopback range server of the
//! remote benchmark.

pub mod range_server;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs a fixture script and returns the path it printed last. Panics with the script's
/// message when it cannot build (exit 77 says a prerequisite is missing: root, a mirror).
fn built(script: &str, args: &[&str], what: &str) -> PathBuf {
    let out = Command::new("bash")
        .arg(repo_root().join("fixtures").join(script))
        .args(args)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "building {what} (exit {:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    PathBuf::from(stdout.lines().last().expect("a path").trim())
}

/// Builds fixture `name` with `fixtures/build.sh` into `target/bench-fixtures` and returns its
/// path. Panics with the script's message when it cannot be built.
pub fn fixture(name: &str) -> PathBuf {
    let out_dir = repo_root().join("target/bench-fixtures");
    built(
        "build.sh",
        &[name, out_dir.to_str().expect("a UTF-8 path")],
        &format!("fixture {name}"),
    )
}

/// Builds the Debian 12 image `variant` of `fixtures/debian12.sh` (a debootstrapped root with
/// its real kernel and initramfs; needs root and a Debian mirror the first time) into
/// `target/bench-fixtures`. The root is cached where the tests keep it (`target/tmp`).
pub fn debian12(variant: &str) -> PathBuf {
    let root = repo_root();
    let cache = root.join("target/tmp/debian12-cache");
    let out_dir = root.join("target/bench-fixtures");
    built(
        "debian12.sh",
        &[
            "image",
            variant,
            cache.to_str().expect("a UTF-8 path"),
            out_dir.to_str().expect("a UTF-8 path"),
        ],
        &format!("the Debian 12 image {variant}"),
    )
}

/// Builds `target/release/vhdlint` (`cargo build --release -p vhdlint`) and returns its path.
pub fn release_binary() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--locked", "-p", "vhdlint"])
        .current_dir(repo_root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build --release -p vhdlint failed");
    repo_root().join("target/release/vhdlint")
}

/// Wall time of one run of `cmd` (its output discarded), in milliseconds.
pub fn time_ms(cmd: &mut Command) -> f64 {
    let start = Instant::now();
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the command runs");
    let ms = start.elapsed().as_secs_f64() * 1e3;
    // Exit 1 (a check failed) is an answer; 2 and above are not.
    assert!(
        matches!(status.code(), Some(0 | 1)),
        "{cmd:?} exited with {status}"
    );
    ms
}

/// The median of `xs` (the mean of the middle two for an even count).
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    assert!(n > 0, "no samples");
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Peak resident set size of one run of `program args`, in KiB, as GNU time reports it
/// (`/usr/bin/time -f %M`); `None` when GNU time is not installed.
pub fn peak_rss_kib(program: &Path, args: &[&str]) -> Option<u64> {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let out = Command::new(time)
        .args(["-f", "peak-rss-kib %M"])
        .arg(program)
        .args(args)
        .stdout(Stdio::null())
        .output()
        .expect("GNU time runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("peak-rss-kib "))
        .next_back()
        .and_then(|v| v.trim().parse().ok())
}
