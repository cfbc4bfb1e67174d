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

// Group linux/network … linux/sudoers: guests with a chosen os-release, and no guest at all.

/// Runs check `run` with `policy` on a context whose search for a Linux root gave `linux`.
fn run_inspection(
    linux: Result<LinuxInspection, String>,
    policy: &Policy,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    let image = Image::from_source("memory", Arc::new(MemSource::new(vec![0; 512])));
    let mut ctx = Context::new(&image, policy, None);
    ctx.profile = Profile::LinuxOs;
    assert!(ctx.linux.set(linux).is_ok());
    run(&ctx)
}

/// Runs check `run` with `policy` on a Linux guest whose root is `fs` and whose os-release
/// says `os`.
pub(crate) fn run_linux_os(
    fs: MemFs,
    os: OsRelease,
    policy: &Policy,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    let view = fs.into_view();
    let guest = LinuxGuest {
        mounts: view.mounts(),
        view,
        facts: Arc::default(),
        root_volume: "p1".into(),
        not_mounted: Vec::new(),
        os,
    };
    let inspection = LinuxInspection {
        candidates: Vec::new(),
        guest: Some(guest),
    };
    run_inspection(Ok(inspection), policy, run)
}

/// Runs check `run` with `policy` where the search for a Linux root looked at `candidates`
/// and found no guest.
pub(crate) fn run_no_linux_guest(
    candidates: Vec<vhdlint_guest::linux::Candidate>,
    policy: &Policy,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    let inspection = LinuxInspection {
        candidates,
        guest: None,
    };
    run_inspection(Ok(inspection), policy, run)
}

/// Runs check `run` with `policy` where the guest disk could not be read (`error`).
pub(crate) fn run_unreadable_disk(
    error: &str,
    policy: &Policy,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    run_inspection(Err(error.to_string()), policy, run)
}

/// A volume the search for a Linux root looked into, missing `missing`.
pub(crate) fn candidate_missing(
    volume: &str,
    missing: &[&'static str],
) -> vhdlint_guest::linux::Candidate {
    vhdlint_guest::linux::Candidate {
        volume: volume.into(),
        filesystem: "ext4",
        found: Vec::new(),
        missing: missing.to_vec(),
        error: None,
    }
}

/// A volume the search for a Linux root could not look into (`error`).
pub(crate) fn candidate_unreadable(volume: &str, error: &str) -> vhdlint_guest::linux::Candidate {
    vhdlint_guest::linux::Candidate {
        volume: volume.into(),
        filesystem: "xfs",
        found: Vec::new(),
        missing: Vec::new(),
        error: Some(error.into()),
    }
}

/// Asserts that check `run` gives an error on each way there is no Linux guest: the guest
/// disk unreadable, no Linux filesystem, and volumes that are not a Linux root.
pub(crate) fn assert_errors_without_a_linux_guest(run: fn(&Context) -> Outcome) {
    let p = Policy::guide();
    let o = run_unreadable_disk("bad partition table", &p, run);
    assert_eq!(o.status, crate::check::Status::Error, "{}", said(&o));
    assert!(said(&o).contains("bad partition table"), "{}", said(&o));
    let o = run_no_linux_guest(Vec::new(), &p, run);
    assert_eq!(o.status, crate::check::Status::Error, "{}", said(&o));
    assert!(said(&o).contains("no Linux filesystem"), "{}", said(&o));
    let o = run_no_linux_guest(
        vec![
            candidate_missing("p1", &["/etc", "/usr"]),
            candidate_unreadable("p2", "bad superblock"),
        ],
        &p,
        run,
    );
    assert_eq!(o.status, crate::check::Status::Error, "{}", said(&o));
    let s = said(&o);
    assert!(s.contains("p1 (ext4): missing /etc, /usr"), "{s}");
    assert!(s.contains("p2 (xfs): bad superblock"), "{s}");
}
