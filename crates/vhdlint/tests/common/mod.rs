//! Shared helpers of the integration tests: fixture images built once per run by
//! `fixtures/build.sh` with the real tools, and the `vhdlint` binary.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Where fixtures are built: keyed by the content of the fixture scripts and trees, so a
/// change rebuilds.
fn cache_dir() -> PathBuf {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.file_name().is_some_and(|n| n == "expected") {
                continue;
            }
            if p.is_dir() && !p.is_symlink() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let root = repo_root();
    let mut files = Vec::new();
    walk(&root.join("fixtures"), &mut files);
    let mut h: u64 = 0xcbf29ce484222325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x100000001b3);
        }
    };
    for f in files {
        eat(f.strip_prefix(&root).unwrap().to_string_lossy().as_bytes());
        match std::fs::read_link(&f) {
            Ok(t) => eat(t.to_string_lossy().as_bytes()),
            Err(_) => eat(&std::fs::read(&f).unwrap_or_default()),
        }
    }
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fixtures-{h:016x}"))
}

/// The path of fixture `name`, built on first use. `None` when the machine lacks a
/// prerequisite (build.sh exit 77): the caller skips, saying so.
/// Per fixture: not built yet (None), or built with this outcome.
type Slot = Arc<Mutex<Option<Option<PathBuf>>>>;

pub fn fixture(name: &str) -> Option<PathBuf> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();
    let slot = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(name.to_string())
        .or_default()
        .clone();
    let mut slot = slot.lock().unwrap();
    if let Some(p) = &*slot {
        return p.clone();
    }
    let dir = cache_dir();
    let out = Command::new("bash")
        .arg(repo_root().join("fixtures/build.sh"))
        .arg(name)
        .arg(&dir)
        .output()
        .expect("bash runs");
    let result = match out.status.code() {
        Some(0) => {
            let stdout = String::from_utf8_lossy(&out.stdout);
            Some(PathBuf::from(
                stdout
                    .lines()
                    .last()
                    .expect("build.sh prints the path")
                    .trim(),
            ))
        }
        Some(77) => {
            eprintln!(
                "SKIP fixture {name}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            None
        }
        _ => panic!(
            "building fixture {name} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
    };
    *slot = Some(result.clone());
    result
}

/// A Debian 12 image built from a real debootstrap root by `fixtures/debian12.sh` (the root
/// is cached in target/tmp/debian12-cache between runs). `None` when the machine cannot build
/// it (not root, no Debian mirror): the caller skips.
pub fn debian12(variant: &str) -> Option<PathBuf> {
    static LOCK: Mutex<()> = Mutex::new(());
    let name = format!("debian12-{variant}");
    static DONE: OnceLock<Mutex<HashMap<String, Option<PathBuf>>>> = OnceLock::new();
    let done = DONE.get_or_init(Default::default);
    if let Some(p) = done.lock().unwrap().get(&name) {
        return p.clone();
    }
    let _guard = LOCK.lock().unwrap();
    if let Some(p) = done.lock().unwrap().get(&name) {
        return p.clone();
    }
    let script = repo_root().join("fixtures/debian12.sh");
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("debian12-cache");
    let run = |args: &[&std::ffi::OsStr]| {
        Command::new("bash")
            .arg(&script)
            .args(args)
            .output()
            .expect("bash runs")
    };
    let out = run(&["rootfs".as_ref(), cache.as_os_str()]);
    let result = match out.status.code() {
        Some(0) => {
            let dir = cache_dir();
            let out = run(&[
                "image".as_ref(),
                variant.as_ref(),
                cache.as_os_str(),
                dir.as_os_str(),
            ]);
            match out.status.code() {
                Some(0) => Some(PathBuf::from(
                    String::from_utf8_lossy(&out.stdout)
                        .lines()
                        .last()
                        .expect("a path")
                        .trim(),
                )),
                Some(77) => {
                    eprintln!(
                        "SKIP {name}: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    );
                    None
                }
                _ => panic!(
                    "building {name} failed:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }
        Some(77) => {
            eprintln!(
                "SKIP {name}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            None
        }
        _ => panic!(
            "debootstrap of the Debian 12 root failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
    };
    done.lock().unwrap().insert(name, result.clone());
    result
}

/// Runs the binary.
pub fn vhdlint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vhdlint"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("vhdlint runs")
}

/// `vhdlint check --format json` on one image with extra args: (exit code, the image report).
pub fn check_json(image: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "check",
        "--quiet",
        "--format",
        "json",
        image.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = vhdlint(&args);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), v["images"][0].clone())
}

/// The result of check `id` in an image report.
pub fn result<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no result for {id}"))
}

pub fn status<'a>(report: &'a Value, id: &str) -> &'a str {
    result(report, id)["status"].as_str().unwrap()
}

/// Skips the test (with a message) when a fixture cannot be built here.
#[macro_export]
macro_rules! fixture_or_skip {
    ($name:expr) => {
        match common::fixture($name) {
            Some(p) => p,
            None => return,
        }
    };
}
