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

// Helpers of the linux/ checks' tests (agent-config … kernel-cmdline).

/// Runs check `run` with `policy` on an image whose search for a Linux root gave `inspection`
/// (`Err`: the guest disk could not be read).
pub(crate) fn run_linux_inspection(
    inspection: Result<LinuxInspection, String>,
    policy: &Policy,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    let image = Image::from_source("memory", Arc::new(MemSource::new(vec![0; 512])));
    let mut ctx = Context::new(&image, policy, None);
    ctx.profile = Profile::LinuxOs;
    assert!(ctx.linux.set(inspection).is_ok());
    run(&ctx)
}

/// Runs check `run` with `policy` on a disk with no Linux filesystem: a search for a Linux
/// root that found no candidate, so no guest.
pub(crate) fn run_no_linux_with(policy: &Policy, run: fn(&Context) -> Outcome) -> Outcome {
    let inspection = LinuxInspection {
        candidates: Vec::new(),
        guest: None,
    };
    run_linux_inspection(Ok(inspection), policy, run)
}

/// [`run_no_linux_with`] with the guide policy.
pub(crate) fn run_no_linux(run: fn(&Context) -> Outcome) -> Outcome {
    run_no_linux_with(&Policy::guide(), run)
}
