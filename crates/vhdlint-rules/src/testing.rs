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

/// Runs check `run` with `policy` on a Linux guest whose root is `fs`, and applies the
/// runner's rules to what it noted, as a run does.
pub(crate) fn run_linux_with(fs: MemFs, policy: &Policy, run: fn(&Context) -> Outcome) -> Outcome {
    crate::runner::apply_notes(run_linux_raw(fs, policy, run))
}

/// The outcome check `run` itself gives with `policy` on a Linux guest whose root is `fs`,
/// before the runner applies its rules to the notes.
pub(crate) fn run_linux_raw(fs: MemFs, policy: &Policy, run: fn(&Context) -> Outcome) -> Outcome {
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
