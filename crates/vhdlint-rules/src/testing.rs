//! Contexts over guests held in memory, for the checks' unit tests.

use std::sync::Arc;

use vhdlint_disk::MemSource;
use vhdlint_guest::linux::{LinuxGuest, LinuxInspection, OsRelease};

use crate::check::Outcome;
use crate::context::Context;
use crate::image::Image;
use crate::policy::Policy;
use crate::profile::Profile;

pub(crate) use vhdlint_guest::fs::mem::{MemFs, Node};

/// Runs check `run` with `policy` on a Linux guest whose root is `fs`.
pub(crate) fn run_linux_with(fs: MemFs, policy: &Policy, run: fn(&Context) -> Outcome) -> Outcome {
    let image = Image::from_source("memory", Arc::new(MemSource::new(vec![0; 512])));
    let mut ctx = Context::new(&image, policy, None);
    ctx.profile = Profile::LinuxOs;
    let view = fs.into_view();
    let guest = LinuxGuest {
        mounts: view.mounts(),
        view,
        facts: Arc::default(),
        root_volume: "p1".into(),
        not_mounted: Vec::new(),
        os: OsRelease::default(),
    };
    let inspection = LinuxInspection {
        candidates: Vec::new(),
        guest: Some(guest),
    };
    assert!(ctx.linux.set(Ok(inspection)).is_ok());
    run(&ctx)
}

/// Runs check `run` with the guide policy on a Linux guest whose root is `fs`.
pub(crate) fn run_linux(fs: MemFs, run: fn(&Context) -> Outcome) -> Outcome {
    run_linux_with(fs, &Policy::guide(), run)
}

/// Everything an outcome says: message, actual value and evidence (path:line text).
pub(crate) fn said(o: &Outcome) -> String {
    let mut s = format!("{} | {}", o.message, o.actual);
    for e in &o.evidence {
        s.push_str(" | ");
        if let Some(p) = &e.path {
            s.push_str(p);
            if let Some(l) = e.line {
                s.push_str(&format!(":{l}"));
            }
            s.push(' ');
        }
        s.push_str(&e.text);
    }
    s
}

// Windows guests and registry hives, for the windows/ checks' tests (group: windows/ and
// publish/ checks).

use vhdlint_guest::windows::{Candidate, WindowsGuest, WindowsInspection};

/// Runs check `run` with the guide policy on the Windows OS profile, with `inspection` as the
/// result of the search for a Windows system volume.
pub(crate) fn run_windows_inspection(
    inspection: Result<WindowsInspection, String>,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    let image = Image::from_source("memory", Arc::new(MemSource::new(vec![0; 512])));
    let policy = Policy::guide();
    let mut ctx = Context::new(&image, &policy, None);
    ctx.profile = Profile::WindowsOs;
    assert!(ctx.windows.set(inspection).is_ok());
    run(&ctx)
}

/// Runs check `run` with the guide policy on a Windows system volume `p1` whose root is `fs`.
pub(crate) fn run_windows(fs: MemFs, run: fn(&Context) -> Outcome) -> Outcome {
    let inspection = WindowsInspection {
        candidates: vec![Candidate {
            volume: "p1".into(),
            bitlocker: false,
            system32: true,
            error: None,
        }],
        guest: Some(WindowsGuest::new("p1", fs.into_view())),
    };
    run_windows_inspection(Ok(inspection), run)
}

/// A registry hive written by `fixtures/mkhive.py` (python3) with options `opts` (`--dirty`)
/// from `body`: the sections and values of a .reg file, keys relative to the hive's root.
pub(crate) fn hive_with(body: &str, opts: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("hive.reg");
    let out = dir.path().join("hive");
    std::fs::write(
        &spec,
        format!("Windows Registry Editor Version 5.00\n\n{body}\n"),
    )
    .unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/mkhive.py");
    let done = std::process::Command::new("python3")
        .arg(script)
        .args(opts)
        .arg(&out)
        .arg(&spec)
        .output()
        .expect("python3 runs fixtures/mkhive.py, which writes the hives of these tests");
    assert!(
        done.status.success(),
        "mkhive.py: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    std::fs::read(out).unwrap()
}

/// A clean registry hive from the body of a .reg file (see [`hive_with`]).
pub(crate) fn hive(body: &str) -> Vec<u8> {
    hive_with(body, &[])
}

/// Makes value `name` (an ASCII name found once in `hive`) unreadable: the signature of its vk
/// cell, 20 bytes before the name, is overwritten.
pub(crate) fn break_value(hive: &mut [u8], name: &str) {
    let at = hive
        .windows(name.len())
        .position(|w| w == name.as_bytes())
        .expect("the value's name is in the hive");
    assert_eq!(&hive[at - 20..at - 18], b"vk");
    hive[at - 20..at - 18].copy_from_slice(b"xx");
}
