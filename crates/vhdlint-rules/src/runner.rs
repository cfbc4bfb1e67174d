//! Runs the catalogue on an image, checks in parallel, results in catalogue order.

use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use vhdlint_disk::layout::{Partition, Scheme};
use vhdlint_disk::timing::{self, Timing};
use vhdlint_disk::vhd::Geometry;
use vhdlint_guest::OsFamily;

use crate::check::{Check, CheckMeta, CheckResult, Outcome, Status};
use crate::checks::CHECKS;
use crate::context::{Context, Progress};
use crate::image::Image;
use crate::policy::Policy;
use crate::profile::{Generation, Profile, ProfileChoice};

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
            .filter(|p| !crate::CATALOGUE.iter().any(|m| matches(p, m.id)))
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
    /// The VM generation the image is published for (`--generation`).
    pub generation: Generation,
}

/// Per-status counts. Field names are a public interface.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Facts {
    #[serde(deserialize_with = "vhdlint_disk::static_str::deserialize")]
    pub format: vhdlint_disk::static_str::Interned,
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinuxFacts {
    pub root_volume: String,
    pub os: vhdlint_guest::linux::OsRelease,
    pub mounts: Vec<vhdlint_guest::view::MountInfo>,
    pub not_mounted: Vec<vhdlint_guest::linux::MountNote>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
}

/// A volume in the facts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VolumeFact {
    pub id: String,
    pub size: u64,
    #[serde(deserialize_with = "vhdlint_disk::static_str::deserialize")]
    pub filesystem: vhdlint_disk::static_str::Interned,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// ext2/3/4: state and features from the superblock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext: Option<vhdlint_disk::probe::ExtState>,
}

/// One image's report. Field names are a public interface.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageReport {
    pub path: String,
    /// Why every result of this report is void (the image changed or could not be read while
    /// it was linted); absent otherwise. A void report makes the run exit 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub void: Option<String>,
    pub profile: Profile,
    pub profile_reason: String,
    /// The VM generation the checks were told (`--generation`: `auto`, `1`, `2`); absent for
    /// what is not a disk (a SAS URI, a SKU's metadata).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation: Option<Generation>,
    pub facts: Facts,
    pub summary: Summary,
    pub checks: Vec<CheckResult>,
    /// Where the time and the bytes went ([`run_timed`]); not part of the report's formats.
    #[serde(skip)]
    pub timings: Option<Timings>,
}

/// The wall time and bytes read of every check and shared fact of one image's lint
/// (`--timings`). Each entry's figures are its own: a fact a check was the first to need is an
/// entry of its own and is left out of the check's figures, so the entries add up to the run.
#[derive(Debug, Clone)]
pub struct Timings {
    /// Checks and facts, slowest first.
    pub entries: Vec<Timing>,
    /// The whole lint: wall time and bytes read from the image from start to end.
    pub elapsed: std::time::Duration,
    pub bytes_read: u64,
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
    if let Some(c) = ctx
        .windows()
        .ok()
        .and_then(|w| w.candidates.iter().find(|c| c.bitlocker))
    {
        return (
            Profile::WindowsOs,
            format!(
                "auto: BitLocker volume on {} (an encrypted Windows volume)",
                c.volume
            ),
        );
    }
    // Unknown is never a pass: a volume that could not be read on a disk that shows signs of
    // an OS may be its system, so the disk is an OS disk whose checks cannot look.
    if let Some(u) = ctx.unread_os() {
        let (profile, which) = match u.family {
            Some(OsFamily::Windows) => (Profile::WindowsOs, "a Windows"),
            Some(OsFamily::Linux) => (Profile::LinuxOs, "a Linux"),
            None => (Profile::LinuxOs, "an"),
        };
        return (
            profile,
            format!(
                "auto: {which} OS disk whose system could not be read: {} (see partition/os-found)",
                u.describe()
            ),
        );
    }
    if linux.candidates.is_empty() {
        (
            Profile::DataDisk,
            "auto: no operating system volume found".into(),
        )
    } else {
        (
            Profile::DataDisk,
            "auto: Linux filesystems but no Linux root (see partition/os-found)".into(),
        )
    }
}

/// The remedy of a pass that a bound of the readers turned into a warning.
pub const BOUND_REMEDY: &str = "Look at the files named in the evidence: a bound of vhdlint's readers kept part of them from being read (they are far larger, deeper or more numerous than real ones). Make them ordinary, or check by hand what they hold.";

/// The remedy of a result that could not look at everything it needs.
pub const UNREADABLE_REMEDY: &str = "vhdlint could not read the files named in the evidence (corrupt structures, an unsupported feature or a read error): check the filesystem (e2fsck -fn, xfs_repair -n, ntfsfix -n) and lint again, or check by hand what they hold.";

/// Applies the rules to what the readers noticed while a check looked, the same for every
/// check: every note becomes evidence; a note that something the check needs could not be read
/// makes a pass, warning or skip an `error`; a bound reached makes a pass a warning that names
/// the bound; a failure stays a failure and says what was not read.
pub fn apply_notes(mut o: Outcome) -> Outcome {
    use crate::check::{sentence, Evidence, Note, NoteKind};
    let notes = std::mem::take(&mut o.notes);
    if notes.is_empty() {
        return o;
    }
    let unreadable: Vec<&Note> = notes.iter().filter(|n| n.is_unreadable()).collect();
    let bounds: Vec<&Note> = notes.iter().filter(|n| n.is_bound()).collect();
    let before = o.said();
    if !unreadable.is_empty() {
        match o.status {
            Status::Pass | Status::Warning | Status::Skipped => {
                o.status = Status::Error;
                o.actual = "could not be evaluated".into();
                o.remedy = Some(UNREADABLE_REMEDY.into());
                o.message = format!(
                    "{before}; could not read what this check needs, so it cannot answer: {}",
                    sentence(unreadable.iter().copied())
                );
            }
            Status::Fail => {
                o.message = format!(
                    "{before}; not everything could be read: {}",
                    sentence(unreadable.iter().copied())
                );
            }
            Status::Error => {}
        }
    }
    if !bounds.is_empty() && !matches!(o.status, Status::Skipped | Status::Error) {
        if o.status == Status::Pass {
            o.status = Status::Warning;
            o.remedy = Some(BOUND_REMEDY.into());
        }
        let mut limits: Vec<&str> = Vec::new();
        for n in &bounds {
            if let NoteKind::Bound { limit } = n.kind {
                if !limits.contains(&limit) {
                    limits.push(limit);
                }
            }
        }
        o.message = format!(
            "{}; not everything was read, so this result may be wrong (bound {} reached): {}",
            o.said(),
            limits.join(", "),
            sentence(bounds.iter().copied())
        );
    }
    o.evidences(notes.into_iter().map(Evidence::from))
}

/// The skip of a check that is not part of `policy` ([`CheckMeta::policies`]).
pub fn policy_skip(meta: &CheckMeta, policy: &Policy) -> Option<Outcome> {
    if meta.policies.contains(&policy.base) {
        return None;
    }
    let by = if meta.policies == [crate::policy::GUIDE] {
        "the guide asks for it".to_string()
    } else if meta.policies == [crate::policy::CURRENT] {
        "the current certification checks it".to_string()
    } else {
        format!("part of {}", meta.policies.join(" and "))
    };
    Some(Outcome::skipped(format!(
        "not part of the {} policy ({by})",
        policy.name
    )))
}

/// Runs `check`, measuring its wall time (as a [`timing::span`] when timings are recorded).
fn run_timed_one(check: &Check, ctx: &Context) -> CheckResult {
    let start = Instant::now();
    let mut r = timing::span(timing::Kind::Check, check.meta.id, || run_one(check, ctx));
    r.elapsed_us = crate::publish::micros(start.elapsed());
    r
}

fn run_one(check: &Check, ctx: &Context) -> CheckResult {
    let meta = check.meta;
    let outcome = if let Some(skip) = policy_skip(meta, ctx.policy) {
        skip
    } else if meta.profiles.contains(&ctx.profile) {
        apply_notes((check.run)(ctx))
    } else if ctx.os_undetermined && meta.profiles.iter().any(Profile::is_os) {
        // The disk holds an OS that could not be read, and which one could not be told: the
        // checks of either OS cannot look, which is not "does not apply".
        Outcome::error(format!(
            "this check applies to {} disks, and whether this disk is one could not be told: {}",
            meta.profiles
                .iter()
                .map(Profile::as_str)
                .collect::<Vec<_>>()
                .join(" and "),
            ctx.profile_reason
        ))
        .remedy(UNREADABLE_REMEDY)
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

/// Checks that start before the others when checks run in parallel: the ones that wait on
/// the costliest reads (linux/hyperv-drivers lists the initramfs).
const RUN_FIRST: &[&str] = &["linux/hyperv-drivers"];

/// Lints one opened image.
pub fn run(image: &Image, opts: &RunOptions) -> ImageReport {
    lint(image, opts, false)
}

/// Lints one opened image like [`run`], one check at a time, and records the wall time and
/// bytes read of every check and shared fact in [`ImageReport::timings`] (`--timings`). The
/// checks run one after another so that the bytes read while one runs are that check's.
pub fn run_timed(image: &Image, opts: &RunOptions) -> ImageReport {
    let source = image.source.clone();
    let bytes = move || source.bytes_read().unwrap_or(0);
    let bytes0 = bytes();
    let start = Instant::now();
    let (mut report, recorded) = timing::record(bytes.clone(), || lint(image, opts, true));
    let elapsed = start.elapsed();
    let mut entries: Vec<Timing> = Vec::new();
    for t in recorded {
        // A fact read again (an initramfs listed further for another check) is one entry.
        match entries
            .iter_mut()
            .find(|e| e.kind == t.kind && e.name == t.name)
        {
            Some(e) => {
                e.elapsed += t.elapsed;
                e.bytes_read += t.bytes_read;
            }
            None => entries.push(t),
        }
    }
    entries.sort_by(|a, b| {
        b.elapsed
            .cmp(&a.elapsed)
            .then(b.bytes_read.cmp(&a.bytes_read))
            .then(a.name.cmp(&b.name))
    });
    report.timings = Some(Timings {
        entries,
        elapsed,
        bytes_read: bytes().saturating_sub(bytes0),
    });
    report
}

fn lint(image: &Image, opts: &RunOptions, one_at_a_time: bool) -> ImageReport {
    let mut ctx = Context::new(image, &opts.policy, opts.progress.clone());
    let (profile, reason) = choose_profile(&ctx, opts.profile);
    ctx.os_undetermined = opts.profile == ProfileChoice::Auto
        && profile.is_os()
        && ctx.unread_os().is_some_and(|u| u.family.is_none());
    ctx.profile = profile;
    ctx.profile_reason = reason;
    ctx.generation = opts.generation;
    let selected: Vec<&Check> = CHECKS
        .iter()
        .filter(|c| opts.selection.includes(c.meta.id))
        .collect();
    let mut checks: Vec<CheckResult> = if one_at_a_time {
        selected.iter().map(|c| run_timed_one(c, &ctx)).collect()
    } else {
        // The checks that take longest start first, so that the others run beside them
        // rather than before them; the results go back into catalogue order.
        let mut order: Vec<usize> = (0..selected.len()).collect();
        order.sort_by_key(|&i| !RUN_FIRST.contains(&selected[i].meta.id));
        let mut done: Vec<(usize, CheckResult)> = order
            .par_iter()
            .map(|&i| (i, run_timed_one(selected[i], &ctx)))
            .collect();
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, r)| r).collect()
    };
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
            let elapsed_us = r.elapsed_us;
            *r = CheckResult::from_outcome(c.meta, void);
            r.elapsed_us = elapsed_us;
        }
    }
    ImageReport {
        path: image.path.display().to_string(),
        void,
        profile: ctx.profile,
        profile_reason: ctx.profile_reason.clone(),
        generation: Some(ctx.generation),
        summary: Summary::of(&checks),
        facts,
        checks,
        timings: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Note;
    use vhdlint_guest::note::Unreadable;

    fn bound() -> Note {
        Note::bound("MAX_CONFIG_BYTES", "/etc/x is larger than 1048576 bytes").at("/etc/x")
    }
    fn unreadable() -> Note {
        Note::unreadable(Unreadable::Corrupt, "corrupt filesystem: bad inode").at("/etc/y")
    }

    /// Lints `bytes` (a fixed VHD) with the profile chosen by `auto`.
    fn auto(bytes: Vec<u8>) -> ImageReport {
        lint(bytes, ProfileChoice::Auto)
    }

    fn lint(bytes: Vec<u8>, profile: ProfileChoice) -> ImageReport {
        let image = Image::from_source("memory", Arc::new(vhdlint_disk::MemSource::new(bytes)));
        run(
            &image,
            &RunOptions {
                policy: Policy::guide(),
                profile,
                selection: Selection::default(),
                progress: None,
                generation: Default::default(),
            },
        )
    }

    fn result<'a>(r: &'a ImageReport, id: &str) -> &'a CheckResult {
        r.checks
            .iter()
            .find(|c| c.id == id)
            .expect("in the catalogue")
    }

    /// A fixed VHD of 8 MiB whose MBR lists partitions of `types` (1 MiB each from LBA 2048),
    /// each starting with the bytes `fill` gives it; `active` marks the first one bootable.
    fn disk(types: &[u8], fill: impl Fn(usize, &mut [u8]), active: bool) -> Vec<u8> {
        let table: Vec<(u8, u32, u32)> = (0..types.len() as u32)
            .map(|i| (types[i as usize], 2048 * (i + 1), 2048))
            .collect();
        let mut d = crate::testing::mbr_disk(8, &table);
        for i in 0..types.len() {
            fill(i, &mut d[(i + 1) << 20..(i + 2) << 20]);
        }
        if active {
            d[446] = 0x80;
        }
        crate::testing::fixed_vhd(&d)
    }

    /// An ext2 superblock the reader refuses (no root directory behind it).
    fn bad_ext(_: usize, v: &mut [u8]) {
        crate::testing::put_ext(v, 0, "", 1, 0);
    }

    /// Bytes no probe recognises (a damaged superblock, an encrypted volume).
    fn garbage(_: usize, v: &mut [u8]) {
        v[..4096].fill(0x5A);
    }

    fn zeros(_: usize, _: &mut [u8]) {}

    fn linux_and_windows_checks(r: &ImageReport) -> Vec<&CheckResult> {
        r.checks
            .iter()
            .filter(|c| c.id.starts_with("linux/") || c.id.starts_with("windows/"))
            .collect()
    }

    #[test]
    fn auto_takes_a_disk_with_an_unread_linux_volume_for_a_linux_os_disk() {
        let r = auto(disk(&[0x83], bad_ext, false));
        assert_eq!(r.profile, Profile::LinuxOs, "{}", r.profile_reason);
        assert!(
            r.profile_reason.starts_with(
                "auto: a Linux OS disk whose system could not be read: a volume could not be read (p1 (ext2): "
            ),
            "{}",
            r.profile_reason
        );
        assert!(
            r.profile_reason
                .contains("p1: partition type Linux (0x83), which holds Linux roots"),
            "{}",
            r.profile_reason
        );
        let os = result(&r, "partition/os-found");
        assert_eq!(os.status, Status::Error, "{}", os.message);
        assert_eq!(os.actual, "p1 (ext2) could not be read");
        let hostname = result(&r, "linux/hostname");
        assert_eq!(hostname.status, Status::Error, "{}", hostname.message);
        assert!(
            hostname.message.contains("p1 (ext2): "),
            "{}",
            hostname.message
        );
        let ntfs = result(&r, "windows/ntfs");
        assert_eq!(ntfs.status, Status::Skipped, "{}", ntfs.message);
        assert!(r.summary.error > 0 && r.summary.pass > 0);
    }

    /// An LVM2 PV over the partition, holding `text` as its metadata, then `damage` done to it.
    fn pv(text: &str, damage: impl Fn(&mut [u8])) -> impl Fn(usize, &mut [u8]) {
        let text = text.to_string();
        move |_, v| {
            let crc = vhdlint_disk::lvm::lvm_crc(text.as_bytes());
            crate::testing::put_pv(v, 0, text.as_bytes(), crc);
            damage(v);
        }
    }

    #[test]
    fn auto_takes_a_disk_with_an_lvm_pv_whose_metadata_cannot_be_read_for_a_linux_os_disk() {
        use crate::testing::{lvm_metadata, PV_ID};
        let good = lvm_metadata(PV_ID, &[]);
        type Damage = Box<dyn Fn(&mut [u8])>;
        let cases: [(&str, String, Damage); 3] = [
            (
                "metadata that does not parse",
                good.replacen('{', "[", 1),
                Box::new(|_| {}),
            ),
            (
                "a metadata area header whose magic is damaged",
                good.clone(),
                Box::new(|v| v[4096 + 4] ^= 0xFF),
            ),
            (
                "a PV header offset outside the label sector",
                good.clone(),
                Box::new(|v| v[512 + 20..512 + 24].copy_from_slice(&496u32.to_le_bytes())),
            ),
        ];
        for (what, text, damage) in cases {
            let r = auto(disk(&[0x8e], pv(&text, damage), false));
            assert_eq!(r.profile, Profile::LinuxOs, "{what}: {}", r.profile_reason);
            let os = result(&r, "partition/os-found");
            assert_eq!(os.status, Status::Error, "{what}: {}", os.message);
            assert_eq!(os.actual, "p1 (LVM2_member) could not be read", "{what}");
            assert!(
                os.message.contains(
                    "p1 (LVM2_member): LVM2 physical volume whose metadata could not be read: "
                ),
                "{what}: {}",
                os.message
            );
        }
    }

    #[test]
    fn auto_takes_a_disk_with_a_logical_volume_not_assembled_for_a_linux_os_disk() {
        // vg0/root's extents start at 1 MiB of a PV of 1 MiB: past its end.
        let text = crate::testing::lvm_metadata(crate::testing::PV_ID, &["root"]);
        let r = auto(disk(&[0x8e], pv(&text, |_| {}), false));
        assert_eq!(r.profile, Profile::LinuxOs, "{}", r.profile_reason);
        let os = result(&r, "partition/os-found");
        assert_eq!(os.status, Status::Error, "{}", os.message);
        assert!(
            os.message
                .contains("vg0/root (unknown): LVM2 logical volume not assembled: "),
            "{}",
            os.message
        );
    }

    #[test]
    fn a_pv_read_in_full_or_in_no_volume_group_is_no_unread_volume() {
        use crate::testing::{lvm_metadata, PV_ID};
        // A volume group without logical volumes: nothing on the disk is unread.
        let r = auto(disk(&[0x8e], pv(&lvm_metadata(PV_ID, &[]), |_| {}), false));
        assert_eq!(r.profile, Profile::DataDisk, "{}", r.profile_reason);
        // A PV made but in no volume group: its metadata area holds no location yet.
        let blank = |v: &mut [u8]| {
            v[4096 + 48..4096 + 56].fill(0);
            let crc = vhdlint_disk::lvm::lvm_crc(&v[4096 + 4..4096 + 512]);
            v[4096..4096 + 4].copy_from_slice(&crc.to_le_bytes());
        };
        let r = auto(disk(&[0x8e], pv(&lvm_metadata(PV_ID, &[]), blank), false));
        assert_eq!(r.profile, Profile::DataDisk, "{}", r.profile_reason);
    }

    #[test]
    fn auto_takes_a_disk_with_an_unread_windows_volume_for_a_windows_os_disk() {
        let r = auto(disk(
            &[0x07],
            |_, v| v[3..11].copy_from_slice(b"NTFS    "),
            false,
        ));
        assert_eq!(r.profile, Profile::WindowsOs, "{}", r.profile_reason);
        assert!(
            r.profile_reason
                .starts_with("auto: a Windows OS disk whose system could not be read: a volume could not be read (p1 (ntfs): "),
            "{}",
            r.profile_reason
        );
        for id in ["partition/os-found", "windows/ntfs", "windows/rdp"] {
            let c = result(&r, id);
            assert_eq!(c.status, Status::Error, "{id}: {}", c.message);
        }
        assert_eq!(result(&r, "linux/hostname").status, Status::Skipped);
    }

    #[test]
    fn auto_errors_the_checks_of_either_os_when_the_family_is_unknown() {
        // Unknown bytes on a partition of a type that names no OS, on an active partition.
        let r = auto(disk(&[0xda], garbage, true));
        assert!(r.profile.is_os(), "{}", r.profile_reason);
        assert!(
            r.profile_reason.starts_with("auto: an OS disk whose system could not be read: a volume could not be read (p1 (unknown): no filesystem signature"),
            "{}",
            r.profile_reason
        );
        assert!(
            r.profile_reason.contains("p1: active (bootable) partition"),
            "{}",
            r.profile_reason
        );
        let checks = linux_and_windows_checks(&r);
        assert!(checks.iter().any(|c| c.id.starts_with("windows/")));
        for c in checks
            .iter()
            .filter(|c| !c.message.starts_with("not part of"))
        {
            assert_eq!(c.status, Status::Error, "{}: {}", c.id, c.message);
        }
        let w = result(&r, "windows/rdp");
        assert!(
            w.message.starts_with("this check applies to windows-os disks, and whether this disk is one could not be told: auto: an OS disk"),
            "{}",
            w.message
        );
        assert_eq!(w.remedy.as_deref(), Some(UNREADABLE_REMEDY));
        assert_eq!(result(&r, "partition/os-found").status, Status::Error);
    }

    #[test]
    fn unknown_bytes_without_signs_of_an_os_make_a_data_disk() {
        let r = auto(disk(&[0xda], garbage, false));
        assert_eq!(r.profile, Profile::DataDisk, "{}", r.profile_reason);
        assert_eq!(r.summary.error, 0, "{:?}", r.summary);
    }

    #[test]
    fn empty_disks_are_data_disks() {
        for (bytes, why) in [
            (
                crate::testing::fixed_vhd(&vec![0; 8 << 20]),
                "auto: no operating system volume found",
            ),
            (
                disk(&[0x83], zeros, false),
                "auto: no operating system volume found",
            ),
        ] {
            let r = auto(bytes);
            assert_eq!(r.profile, Profile::DataDisk, "{}", r.profile_reason);
            assert_eq!(r.profile_reason, why);
            let not_passed: Vec<_> = r
                .checks
                .iter()
                .filter(|c| matches!(c.status, Status::Error | Status::Fail))
                .map(|c| (c.id, &c.message))
                .collect();
            assert_eq!(r.summary.error, 0, "{not_passed:?}");
        }
    }

    #[test]
    fn a_profile_given_is_kept_when_a_volume_cannot_be_read() {
        let r = lint(
            disk(&[0x83], bad_ext, true),
            ProfileChoice::Fixed(Profile::DataDisk),
        );
        assert_eq!(r.profile, Profile::DataDisk);
        assert_eq!(result(&r, "partition/os-found").status, Status::Skipped);
        assert!(linux_and_windows_checks(&r)
            .iter()
            .all(|c| c.status == Status::Skipped));
    }

    #[test]
    fn an_outcome_without_notes_is_unchanged() {
        let o = apply_notes(Outcome::pass("fine", "fine"));
        assert_eq!(o.status, Status::Pass);
        assert!(o.evidence.is_empty() && o.message.is_empty() && o.remedy.is_none());
    }

    #[test]
    fn a_bound_makes_a_pass_a_warning_that_names_it() {
        let o = apply_notes(Outcome::pass("fine", "fine").noted([bound()]));
        assert_eq!(o.status, Status::Warning);
        assert!(o.message.starts_with("fine; "), "{}", o.message);
        assert!(o.message.contains("MAX_CONFIG_BYTES"), "{}", o.message);
        assert!(o.message.contains("/etc/x is larger"), "{}", o.message);
        assert_eq!(o.remedy.as_deref(), Some(BOUND_REMEDY));
        assert_eq!(o.evidence.len(), 1);
        assert_eq!(o.evidence[0].path.as_deref(), Some("/etc/x"));
        assert!(o.notes.is_empty());
    }

    #[test]
    fn a_bound_keeps_a_failure_and_says_it_may_be_wrong() {
        let o = apply_notes(
            Outcome::fail("bad", "good")
                .remedy("fix it")
                .noted([bound()]),
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.remedy.as_deref(), Some("fix it"));
        assert!(o.message.contains("may be wrong"), "{}", o.message);
        let w = apply_notes(Outcome::warning("meh", "good").noted([bound()]));
        assert_eq!(w.status, Status::Warning);
        assert!(w.remedy.is_none());
        assert!(w.message.contains("MAX_CONFIG_BYTES"), "{}", w.message);
    }

    #[test]
    fn a_bound_leaves_a_skip_or_an_error_as_it_is() {
        for o in [Outcome::skipped("n/a"), Outcome::error("broken")] {
            let status = o.status;
            let message = o.message.clone();
            let o = apply_notes(o.noted([bound()]));
            assert_eq!(o.status, status);
            assert_eq!(o.message, message);
            assert!(o
                .evidence
                .iter()
                .any(|e| e.path.as_deref() == Some("/etc/x")));
        }
    }

    #[test]
    fn something_unreadable_makes_a_pass_warning_or_skip_an_error() {
        for o in [
            Outcome::pass("fine", "fine"),
            Outcome::warning("meh", "fine"),
            Outcome::skipped("nothing to look at"),
        ] {
            let o = apply_notes(o.noted([unreadable(), bound()]));
            assert_eq!(o.status, Status::Error);
            assert_eq!(o.actual, "could not be evaluated");
            assert_eq!(o.remedy.as_deref(), Some(UNREADABLE_REMEDY));
            assert!(
                o.message.contains("/etc/y: corrupt filesystem"),
                "{}",
                o.message
            );
            assert_eq!(o.evidence.len(), 2);
        }
    }

    #[test]
    fn something_unreadable_keeps_a_failure() {
        let o = apply_notes(Outcome::fail("bad", "good").noted([unreadable()]));
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.actual, "bad");
        assert!(
            o.message.contains("not everything could be read"),
            "{}",
            o.message
        );
    }

    #[test]
    fn syntax_and_ignored_notes_are_evidence_only() {
        let o = apply_notes(
            Outcome::pass("fine", "fine").noted([
                Note::syntax("invalid quotes")
                    .at("/etc/ssh/sshd_config")
                    .line(3),
                Note::ignored("inside a Match block"),
            ]),
        );
        assert_eq!(o.status, Status::Pass);
        assert!(o.message.is_empty() && o.remedy.is_none());
        assert_eq!(o.evidence.len(), 2);
        assert_eq!(o.evidence[0].line, Some(3));
    }

    #[test]
    fn notes_aside_keep_the_status() {
        let o = Outcome::pass("fine", "fine").aside([unreadable(), bound()]);
        assert_eq!(o.status, Status::Pass);
        assert!(
            o.message.contains("not everything was read"),
            "{}",
            o.message
        );
        assert_eq!(o.evidence.len(), 2);
        assert!(o.notes.is_empty());
    }
}
