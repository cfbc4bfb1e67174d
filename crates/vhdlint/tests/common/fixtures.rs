//! Fixture images built once per test process by `fixtures/build.sh` and
//! `fixtures/debian12.sh` with the real tools, cached under the target directory. Shared by
//! the integration tests of `vhdlint` (through `common`) and of `vhdlint-report` (by path);
//! the including module declares `prereq` (`prereq.rs`) beside this one.
#![allow(dead_code)]

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use super::prereq::skip;

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
            if p.file_name()
                .is_some_and(|n| n == "expected" || n == "__pycache__")
            {
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

/// Runs fixture script `script` with `args`: the last line it prints (the path it built) when
/// it succeeds, `Err` with its message when the machine lacks a prerequisite (exit 77); any
/// other exit fails the test.
fn run(what: &str, script: &str, args: &[&OsStr]) -> Result<PathBuf, String> {
    run_env(what, script, args, &[])
}

fn run_env(
    what: &str,
    script: &str,
    args: &[&OsStr],
    env: &[(&str, &OsStr)],
) -> Result<PathBuf, String> {
    let out = Command::new("bash")
        .arg(repo_root().join("fixtures").join(script))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("bash runs");
    match out.status.code() {
        Some(0) => Ok(PathBuf::from(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .unwrap_or_default()
                .trim(),
        )),
        Some(77) => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        _ => panic!(
            "building {what} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// A fixture's build: its path, or why this machine cannot build it.
type Built = Result<PathBuf, String>;

/// Per fixture: not built yet (None), or built with this outcome.
type Slot = Arc<Mutex<Option<Built>>>;

/// Fixture `name`, built on first use: its path, or why this machine cannot build it
/// (build.sh exit 77). Other failures fail the test.
fn build(name: &str) -> Built {
    static LOCKS: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();
    let slot = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(name.to_string())
        .or_default()
        .clone();
    let mut slot = slot.lock().unwrap();
    if let Some(built) = &*slot {
        return built.clone();
    }
    let built = run(
        &format!("fixture {name}"),
        "build.sh",
        &[name.as_ref(), cache_dir().as_os_str()],
    );
    *slot = Some(built.clone());
    built
}

/// The path of fixture `name`, built on first use; `None` when the machine lacks a
/// prerequisite, after [`skip`] has said so (or failed the test, under
/// `VHDLINT_REQUIRE_PREREQS=1`). In a loop, skip the item: `let Some(img) = ... else {
/// continue };`.
pub fn fixture_or_skip(name: &str) -> Option<PathBuf> {
    match build(name) {
        Ok(path) => Some(path),
        Err(why) => {
            skip(&format!("fixture {name}"), &why);
            None
        }
    }
}

/// The path of fixture `name`, for tests that cannot do without it: a fixture this machine
/// cannot build fails the test.
pub fn fixture(name: &str) -> PathBuf {
    build(name).unwrap_or_else(|why| panic!("fixture {name} cannot be built here: {why}"))
}

/// A Debian 12 image built from a real debootstrap root by `fixtures/debian12.sh` (the root
/// is cached in target/tmp/debian12-cache between runs). `None` when the machine cannot build
/// it (not root, no Debian mirror), after [`skip`] has said so (or failed the test, under
/// `VHDLINT_REQUIRE_PREREQS=1`).
pub fn debian12_or_skip(variant: &str) -> Option<PathBuf> {
    let name = format!("debian12-{variant}");
    match build_debian12(&name, variant) {
        Ok(path) => Some(path),
        Err(why) => {
            skip(&name, &why);
            None
        }
    }
}

/// The cached Debian 12 root of `fixtures/debian12.sh rootfs` (a tarball with numeric owners,
/// debootstrapped once and kept in target/tmp/debian12-cache between runs). `None` when the
/// machine cannot build it (not root, no Debian mirror), after [`skip`] has said so (or failed
/// the test, under `VHDLINT_REQUIRE_PREREQS=1`).
pub fn debian12_rootfs_or_skip() -> Option<PathBuf> {
    match build_debian12_rootfs() {
        Ok(path) => Some(path),
        Err(why) => {
            skip("the Debian 12 root (debian12.sh rootfs)", &why);
            None
        }
    }
}

fn debian12_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("debian12-cache")
}

/// The tarball of [`debian12_rootfs_or_skip`], built (or found in the cache) once per test
/// process.
fn build_debian12_rootfs() -> Built {
    static ROOTFS: Mutex<Option<Built>> = Mutex::new(None);
    let mut slot = ROOTFS.lock().unwrap();
    if let Some(built) = &*slot {
        return built.clone();
    }
    let built = run(
        "the debootstrap of the Debian 12 root",
        "debian12.sh",
        &["rootfs".as_ref(), debian12_cache().as_os_str()],
    );
    *slot = Some(built.clone());
    built
}

/// Image `name` of [`debian12_or_skip`], built on first use (one build at a time).
fn build_debian12(name: &str, variant: &str) -> Built {
    static LOCK: Mutex<()> = Mutex::new(());
    static DONE: OnceLock<Mutex<HashMap<String, Built>>> = OnceLock::new();
    let done = DONE.get_or_init(Default::default);
    if let Some(built) = done.lock().unwrap().get(name) {
        return built.clone();
    }
    let _guard = LOCK.lock().unwrap();
    if let Some(built) = done.lock().unwrap().get(name) {
        return built.clone();
    }
    let cache = debian12_cache();
    let built = build_debian12_rootfs().and_then(|_| {
        run(
            name,
            "debian12.sh",
            &[
                "image".as_ref(),
                variant.as_ref(),
                cache.as_os_str(),
                cache_dir().as_os_str(),
            ],
        )
    });
    done.lock().unwrap().insert(name.to_string(), built.clone());
    built
}

/// Runs `fixtures/debian12.sh ARGS` (for the commands that work on a root directory:
/// `plain-root`, `image-of-root`): the path it printed, or `None` after [`skip`] when the
/// machine lacks a prerequisite (not root, no Debian mirror). The Debian root is the cached
/// one of [`debian12_or_skip`].
pub fn debian12_script_or_skip(what: &str, args: &[&OsStr]) -> Option<PathBuf> {
    match run(what, "debian12.sh", args) {
        Ok(p) => Some(p),
        Err(why) => {
            skip(what, &why);
            None
        }
    }
}

/// `bash fixtures/build.sh NAME OUTDIR` with `env` set (LX_TREE_OUT, LX_TREE_IN, LX_DISK_GIB
/// of the linux-* trees): the image's path, or `None` after [`skip`] when the machine cannot
/// build it.
pub fn build_sh_or_skip(
    what: &str,
    name: &str,
    outdir: &Path,
    env: &[(&str, &OsStr)],
) -> Option<PathBuf> {
    match run_env(what, "build.sh", &[name.as_ref(), outdir.as_os_str()], env) {
        Ok(p) => Some(p),
        Err(why) => {
            skip(what, &why);
            None
        }
    }
}

/// The 30 GiB image of a Debian 12 root as it is (`debian12.sh image-of-root ROOT OUT`), for a
/// root this run already built (so the image can be built too).
pub fn debian12_image_of_root(root: &Path, out: &Path) -> PathBuf {
    debian12_script_or_skip(
        "an image of the root (debian12.sh image-of-root)",
        &[
            OsStr::new("image-of-root"),
            root.as_os_str(),
            out.as_os_str(),
        ],
    )
    .expect("the root was built, so its image can be")
}

/// Where the cached Debian 12 root lives ([`debian12_or_skip`]'s cache).
pub fn debian12_cache_dir() -> PathBuf {
    debian12_cache()
}
