//! Runs the catalogue on an image, checks in parallel, results in catalogue order.

use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;
use vhdlint_disk::layout::{Partition, Scheme};
use vhdlint_disk::vhd::Geometry;
use vhdlint_guest::OsFamily;

use crate::check::{Check, CheckResult, Outcome, Status};
use crate::checks::CHECKS;
use crate::context::{Context, Progress};
use crate::image::Image;
use crate::policy::Policy;
use crate::profile::{Profile, ProfileChoice};

/// Which checks run: `--select` and `--ignore` patterns (an ID, or `prefix/*`).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

/// Whether a selection pattern (an ID, `prefix/*`, or `*`) matches check `id`.
pub fn matches(pattern: &str, id: &str) -> bool {
    match pattern
        .strip_suffix("/*")
        .or_else(|| pattern.strip_suffix('/'))
    {
        Some(prefix) => id.split('/').next() == Some(prefix),
        None => pattern == id || pattern == "*",
    }
}

impl Selection {
    pub fn includes(&self, id: &str) -> bool {
        (self.select.is_empty() || self.select.iter().any(|p| matches(p, id)))
            && !self.ignore.iter().any(|p| matches(p, id))
    }
    /// Patterns that match no check (typos), for a usage error.
    pub fn unknown_patterns(&self) -> Vec<String> {
        self.select
            .iter()
            .chain(&self.ignore)
            .filter(|p| !CHECKS.iter().any(|c| matches(p, c.meta.id)))
            .cloned()
            .collect()
    }
}

/// How to run.
#[derive(Clone)]
pub struct RunOptions {
    pub policy: Policy,
    pub profile: ProfileChoice,
    pub selection: Selection,
    pub progress: Option<Arc<dyn Progress>>,
}

/// Per-status counts. Field names are a public interface.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub warning: usize,
    pub skipped: usize,
    pub error: usize,
}

impl Summary {
    pub fn of(results: &[CheckResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            match r.status {
                Status::Pass => s.pass += 1,
                Status::Fail => s.fail += 1,
                Status::Warning => s.warning += 1,
                Status::Skipped => s.skipped += 1,
                Status::Error => s.error += 1,
            }
        }
        s
    }
}

/// Decoded facts about an image, reported beside the verdicts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facts {
    pub format: &'static str,
    pub file_size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator_application: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geometry: Option<Geometry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_scheme: Option<Scheme>,
    pub partitions: Vec<Partition>,
    pub volumes: Vec<VolumeFact>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_family: Option<OsFamily>,
    /// The Linux guest: root volume, distribution, mounts from its fstab.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linux: Option<LinuxFacts>,
    /// Bytes vhdlint read from the image file for this report.
    pub bytes_read: u64,
}

/// What was learnt about a Linux guest.
#[derive(Debug, Clone, Serialize)]
pub struct LinuxFacts {
    pub root_volume: String,
    pub os: vhdlint_guest::linux::OsRelease,
    pub mounts: Vec<vhdlint_guest::view::MountInfo>,
    pub not_mounted: Vec<vhdlint_guest::linux::MountNote>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
}

/// A volume in the facts.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeFact {
    pub id: String,
    pub size: u64,
    pub filesystem: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// ext2/3/4: state and features from the superblock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext: Option<vhdlint_disk::probe::ExtState>,
}

/// One image's report. Field names are a public interface.
#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    pub path: String,
    /// Why every result of this report is void (the image changed or could not be read while
    /// it was linted); absent otherwise. A void report makes the run exit 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub void: Option<String>,
    pub profile: Profile,
    pub profile_reason: String,
    pub facts: Facts,
    pub summary: Summary,
    pub checks: Vec<CheckResult>,
}

fn choose_profile(ctx: &Context, choice: ProfileChoice) -> (Profile, String) {
    if let ProfileChoice::Fixed(p) = choice {
        return (p, "given on the command line".into());
    }
    let Ok(linux) = ctx.linux() else {
        return (
            Profile::DataDisk,
            "auto: the guest disk cannot be read, so no operating system was found".into(),
        );
    };
    if let Some(g) = &linux.guest {
        return (
            Profile::LinuxOs,
            format!("auto: Linux root filesystem on {}", g.root_volume),
        );
    }
    if let Some(g) = ctx.windows().ok().and_then(|w| w.guest.as_ref()) {
        return (
            Profile::WindowsOs,
            format!("auto: Windows system volume on {}", g.volume),
        );
    }
    match ctx
        .windows()
        .ok()
        .and_then(|w| w.candidates.iter().find(|c| c.bitlocker))
    {
        Some(c) => (
            Profile::WindowsOs,
            format!(
                "auto: BitLocker volume on {} (an encrypted Windows volume)",
                c.volume
            ),
        ),
        None if linux.candidates.is_empty() => (
            Profile::DataDisk,
            "auto: no operating system volume found".into(),
        ),
        None => (
            Profile::DataDisk,
            "auto: Linux filesystems but no Linux root (see partition/os-found)".into(),
        ),
    }
}

fn run_one(check: &Check, ctx: &Context) -> CheckResult {
    let meta = check.meta;
    let outcome = if meta.profiles.contains(&ctx.profile) {
        (check.run)(ctx)
    } else {
        let for_: Vec<&str> = meta.profiles.iter().map(Profile::as_str).collect();
        Outcome::skipped(format!(
            "applies to {} disks; this is a {} disk ({})",
            for_.join(" and "),
            ctx.profile,
            ctx.profile_reason
        ))
    };
    CheckResult::from_outcome(meta, outcome)
}

/// Lints one opened image.
pub fn run(image: &Image, opts: &RunOptions) -> ImageReport {
    let mut ctx = Context::new(image, &opts.policy, opts.progress.clone());
    let (profile, reason) = choose_profile(&ctx, opts.profile);
    ctx.profile = profile;
    ctx.profile_reason = reason;
    // Publishing checks judge what is submitted with a disk, not its bytes.
    let selected: Vec<&Check> = CHECKS
        .iter()
        .filter(|c| c.meta.profiles != [Profile::Publish] && opts.selection.includes(c.meta.id))
        .collect();
    let mut checks: Vec<CheckResult> = selected.par_iter().map(|c| run_one(c, &ctx)).collect();
    let facts = facts(&ctx);
    // Bytes that changed under the lint make every result void, passes and the profile's
    // skips included: a probe that failed on a shrunken file would otherwise look like an
    // image with nothing to check.
    let void = image.source.changed();
    if let Some(why) = &void {
        for (r, c) in checks.iter_mut().zip(&selected) {
            let mut void = Outcome::error(format!("{why}: every result of this run is void"));
            void.remedy = Some(
                "Lint the image again when nothing writes to it (after the build that \
                 produces it has finished, or on a copy)."
                    .into(),
            );
            *r = CheckResult::from_outcome(c.meta, void);
        }
    }
    ImageReport {
        path: image.path.display().to_string(),
        void,
        profile: ctx.profile,
        profile_reason: ctx.profile_reason.clone(),
        summary: Summary::of(&checks),
        facts,
        checks,
    }
}

fn facts(ctx: &Context) -> Facts {
    let c = &ctx.image.container;
    let f = c.footer.as_ref();
    let layout = ctx.layout().ok();
    Facts {
        format: c.format.name(),
        file_size: c.file_size,
        disk_type: f.map(|f| f.disk_type.name()),
        virtual_size: ctx.virtual_size(),
        creator_application: f.map(|f| f.creator_app.clone()),
        creator_version: f.map(|f| f.creator_version_text()),
        geometry: f.map(|f| f.geometry),
        partition_scheme: layout.map(|l| l.table.scheme),
        partitions: layout
            .map(|l| l.table.partitions.clone())
            .unwrap_or_default(),
        volumes: layout
            .map(|l| {
                l.volumes
                    .iter()
                    .map(|v| VolumeFact {
                        id: v.id.clone(),
                        size: v.size,
                        filesystem: v.probe.kind.name(),
                        label: v.probe.label.clone(),
                        uuid: v.probe.uuid.clone(),
                        ext: v.probe.ext.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        os_family: ctx.os_hint().and_then(|h| h.family),
        linux: ctx
            .linux()
            .ok()
            .and_then(|l| l.guest.as_ref())
            .map(|g| LinuxFacts {
                root_volume: g.root_volume.clone(),
                os: g.os.clone(),
                mounts: g.mounts.clone(),
                not_mounted: g.not_mounted.clone(),
                kernel: g.facts.kernel(&g.view).version.clone(),
            }),
        bytes_read: ctx.image.source.bytes_read().unwrap_or(0),
    }
}
