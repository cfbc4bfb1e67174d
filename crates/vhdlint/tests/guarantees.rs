//! What vhdlint promises about the image and the host, whatever the image holds:
//!
//! - the image is opened read-only, and its bytes, size and times are the same after a lint;
//! - nothing outside the image is opened (only the image, the program's own libraries and the
//!   kernel's /proc and /sys files about this process and the CPUs);
//! - an image truncated or rewritten while it is being read gives error results, never a crash
//!   (the file is read with pread, not mapped: no SIGBUS);
//! - a zero-length file, a directory, a FIFO, a character and a block device as IMAGE give a
//!   clear answer at once (a FIFO is never opened, so nothing blocks on it).
//!
//! The system-call checks run the binary under strace (scripts/setup-system installs it).

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{fixture, vhdlint};

/// The fixtures every guarantee is checked on: a Linux guest on a fixed VHD, a dynamic VHD,
/// and a Windows guest (127 GiB, sparse).
const IMAGES: &[&str] = &[
    "linux-debian-dirty",
    "ext4-30g-dynamic",
    "win-generalized-gpt",
];

fn strace() -> &'static str {
    let ok = Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "strace is required for the system-call guarantees (scripts/setup-system installs it)"
    );
    "strace"
}

/// Size, times, mode and a digest of the content: every byte of an image under 1 GiB; for the
/// 127 GiB sparse one, 64 KiB of every 64 MiB and the last MiB (the strace checks cover the
/// rest: no call that could write).
#[derive(Debug, PartialEq, Eq)]
struct State {
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    mode: u32,
    digest: u64,
}

fn state(path: &Path) -> State {
    use std::io::{Read, Seek, SeekFrom};
    let m = std::fs::metadata(path).unwrap();
    let mut f = std::fs::File::open(path).unwrap();
    let mut h: u64 = 0xcbf29ce484222325;
    let (step, chunk) = if m.len() > (1 << 30) {
        (64 << 20, 64 << 10)
    } else {
        (1 << 20, 1 << 20)
    };
    let mut buf = vec![0u8; chunk];
    let mut pos = 0u64;
    while pos < m.len() {
        f.seek(SeekFrom::Start(pos)).unwrap();
        let n = f.read(&mut buf).unwrap();
        for b in &buf[..n] {
            h = (h ^ u64::from(*b)).wrapping_mul(0x100000001b3);
        }
        pos += step;
    }
    // Always the last MiB too: the footer.
    let tail = m.len().saturating_sub(1 << 20);
    f.seek(SeekFrom::Start(tail)).unwrap();
    let mut rest = Vec::new();
    f.read_to_end(&mut rest).unwrap();
    for b in rest {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    State {
        len: m.len(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
        mode: m.mode(),
        digest: h,
    }
}

/// Runs vhdlint under strace (file and descriptor calls), returns the trace.
fn traced(dir: &Path, args: &[&str]) -> String {
    let trace = dir.join("strace.txt");
    let out = Command::new(strace())
        .args(["-f", "-qq", "-e", "trace=%file,%desc", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_vhdlint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "vhdlint {args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&trace).unwrap()
}

fn images() -> Vec<PathBuf> {
    let v: Vec<PathBuf> = IMAGES.iter().map(|n| fixture(n)).collect();
    assert_eq!(v.len(), IMAGES.len(), "a fixture could not be built");
    v
}

#[test]
fn a_lint_opens_the_image_read_only_and_leaves_it_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    for img in images() {
        let p = img.to_str().unwrap();
        let before = state(&img);
        // Every command that reads an image, the surface scan included.
        let mut commands = vec![
            vec!["check", "--quiet", "--format", "json", p],
            vec!["inspect", p],
        ];
        if p.contains("linux") {
            commands.push(vec!["ls", p, "/etc"]);
            commands.push(vec!["cat", p, "/etc/os-release"]);
        }
        for args in commands {
            let t = traced(dir.path(), &args);
            let opens: Vec<&str> = t.lines().filter(|l| l.contains(p)).collect();
            assert!(!opens.is_empty(), "strace saw no access to {p}");
            for l in &opens {
                assert!(
                    !["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"]
                        .iter()
                        .any(|f| l.contains(f)),
                    "{args:?} opened the image for writing: {l}"
                );
                assert!(
                    ![
                        "truncate(",
                        "unlink",
                        "rename",
                        "utime",
                        "chmod",
                        "chown",
                        "setxattr"
                    ]
                    .iter()
                    .any(|c| l.contains(c)),
                    "{args:?} changed the image: {l}"
                );
            }
            // No call that writes through a descriptor, except to stdout and stderr.
            for l in t.lines() {
                let call = l.split_once(' ').map_or(l, |x| x.1).trim_start();
                let writes = [
                    "write(",
                    "pwrite64(",
                    "writev(",
                    "pwritev(",
                    "ftruncate(",
                    "fallocate(",
                ];
                if writes.iter().any(|w| call.starts_with(w)) {
                    let fd = call.split_once('(').unwrap().1;
                    assert!(
                        fd.starts_with("1,") || fd.starts_with("2,"),
                        "{args:?} wrote to a descriptor other than stdout/stderr: {l}"
                    );
                }
            }
        }
        assert_eq!(
            state(&img),
            before,
            "{} changed during the lint",
            img.display()
        );
    }
}

/// The paths a run may open besides the image: the dynamic loader's files, and what the
/// standard library and rayon read about the process and the CPUs.
fn allowed(path: &str) -> bool {
    let shared_object = Path::new(path)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains(".so"));
    shared_object
        || path == "/etc/ld.so.cache"
        || path.starts_with("/lib")
        || path.starts_with("/usr/lib")
        || path.starts_with("/proc/self/")
        || path.starts_with("/sys/fs/cgroup/")
        || path.starts_with("/sys/devices/system/cpu")
        || path == "vhdlint.toml" // the optional configuration in the current directory
        || path == "/dev/tty"
}

#[test]
fn nothing_but_the_image_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    for img in images() {
        let p = img.to_str().unwrap();
        let t = traced(
            dir.path(),
            &[
                "check",
                "--quiet",
                "--format",
                "json",
                "--profile",
                "auto",
                p,
            ],
        );
        let mut opened = Vec::new();
        for l in t.lines() {
            let Some(call) = ["open(", "openat(", "openat2("]
                .iter()
                .find_map(|c| l.find(c).map(|i| &l[i..]))
            else {
                continue;
            };
            // The first quoted argument is the path.
            let Some(path) = call.split('"').nth(1) else {
                continue;
            };
            if path != p && !allowed(path) {
                opened.push(l.to_string());
            }
        }
        assert!(
            opened.is_empty(),
            "linting {p} opened files outside the image:\n{}",
            opened.join("\n")
        );
        // The image is opened, and it is the only thing read with positioned reads.
        assert!(t.contains(p), "the image was not opened");
    }
}

fn copy_of(img: &Path, dir: &Path) -> PathBuf {
    let dest = dir.join("image.vhd");
    // cp keeps holes; std::fs::copy may not.
    let ok = Command::new("cp")
        .args(["--sparse=always"])
        .arg(img)
        .arg(&dest)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    dest
}

/// The deterministic case: opened at its full size, then truncated before the checks read it.
#[test]
fn an_image_truncated_after_it_was_opened_gives_errors_not_a_crash() {
    use vhdlint_rules::{run, Image, Policy, ProfileChoice, RunOptions, Selection, Status};
    let dir = tempfile::tempdir().unwrap();
    for name in ["linux-debian-dirty", "ext4-30g-dynamic"] {
        let img = fixture(name);
        for keep in [0u64, 4096, 1 << 20] {
            let copy = copy_of(&img, dir.path());
            // Open: the container (footer, header, BAT) is decoded from the whole file...
            let image = Image::open(&copy).unwrap();
            // ...then the file shrinks before the guest is read.
            std::fs::OpenOptions::new()
                .write(true)
                .open(&copy)
                .unwrap()
                .set_len(keep)
                .unwrap();
            let report = run(
                &image,
                &RunOptions {
                    policy: Policy::guide(),
                    profile: ProfileChoice::Auto,
                    selection: Selection::default(),
                    progress: None,
                    generation: Default::default(),
                },
            );
            // Every result is void: a pass drawn from a shrinking file would be a lie.
            for r in &report.checks {
                assert_eq!(r.status, Status::Error, "{name} truncated to {keep}: {r:?}");
                assert!(
                    r.message.contains("every result of this run is void")
                        && (r.message.contains("truncated while being read")
                            || r.message.contains("changed size while being read")),
                    "{name} truncated to {keep}: {}",
                    r.message
                );
            }
            assert_eq!(report.summary.error, report.checks.len());
        }
    }
}

/// The racy case, through the binary: another process truncates, extends and rewrites the
/// image over and over while vhdlint lints it. Every run must end with an exit code (0, 1 or
/// 2), never a signal, and never print a panic.
#[test]
fn an_image_rewritten_during_linting_never_crashes_vhdlint() {
    let dir = tempfile::tempdir().unwrap();
    let img = fixture("linux-debian-dirty");
    let original = std::fs::read(&img).unwrap();
    let copy = dir.path().join("image.vhd");
    std::fs::write(&copy, &original).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, copy) = (stop.clone(), copy.clone());
        std::thread::spawn(move || {
            use std::os::unix::fs::FileExt;
            let f = std::fs::OpenOptions::new().write(true).open(&copy).unwrap();
            let mut round = 0u64;
            while !stop.load(Ordering::Relaxed) {
                match round % 4 {
                    0 => f.set_len(0).unwrap(),
                    1 => f.set_len(original.len() as u64 / 3).unwrap(),
                    2 => {
                        // garbage over the first 8 MiB, at full size
                        f.set_len(original.len() as u64).unwrap();
                        let junk: Vec<u8> = (0..8u32 << 20)
                            .map(|i| (i * 7 + round as u32) as u8)
                            .collect();
                        f.write_all_at(&junk, 0).unwrap();
                    }
                    _ => f.write_all_at(&original, 0).unwrap(),
                }
                round += 1;
                std::thread::sleep(Duration::from_millis(3));
            }
            round
        })
    };
    let started = Instant::now();
    let mut codes = Vec::new();
    while codes.len() < 40 || started.elapsed() < Duration::from_secs(3) {
        let out = vhdlint(&[
            "check",
            "--quiet",
            "--format",
            "json",
            copy.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "vhdlint panicked:\n{stderr}");
        match out.status.code() {
            Some(c @ (0..=2)) => codes.push(c),
            _ => panic!("vhdlint ended with {:?}:\n{stderr}", out.status),
        }
        if codes.len() >= 200 {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let rounds = writer.join().unwrap();
    assert!(rounds > 10, "the writer barely ran ({rounds} rounds)");
    eprintln!("{} runs, exit codes seen: {:?}", codes.len(), {
        let mut c = codes.clone();
        c.sort();
        c.dedup();
        c
    });
}

#[test]
fn special_files_and_empty_files_get_a_clear_answer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let empty = dir.path().join("empty.vhd");
    std::fs::write(&empty, b"").unwrap();
    // a block device, when the machine has one we can name
    let block = std::fs::read_dir("/dev")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            use std::os::unix::fs::FileTypeExt;
            std::fs::metadata(p).is_ok_and(|m| m.file_type().is_block_device())
        });
    let mut cases: Vec<(PathBuf, &str)> = vec![
        (
            dir.path().to_owned(),
            "is not a regular file (it is a directory)",
        ),
        (fifo, "is not a regular file (it is a FIFO)"),
        (
            "/dev/null".into(),
            "is not a regular file (it is a character device)",
        ),
        (dir.path().join("missing.vhd"), "cannot open"),
    ];
    match &block {
        Some(b) => cases.push((b.clone(), "is not a regular file (it is a block device)")),
        None => common::skip("the block-device case", "no block device in /dev"),
    }
    for (path, expected) in cases {
        let started = Instant::now();
        let out = vhdlint(&["check", path.to_str().unwrap()]);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{} blocked",
            path.display()
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", path.display());
        assert!(stderr.contains(expected), "{}: {stderr}", path.display());
    }
    // An empty regular file is an image that is not a VHD: a lint result, not a usage error.
    let (code, report) = common::check_json(&empty, &[]);
    assert_eq!(code, 1);
    assert_eq!(common::status(&report, "disk/format"), "fail");
    let actual = common::result(&report, "disk/format")["actual"]
        .as_str()
        .unwrap();
    assert!(actual.contains("0 bytes"), "{actual}");
}
