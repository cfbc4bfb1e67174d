//! Finding a Linux root filesystem among the volumes, mounting the others where the image's
//! own `/etc/fstab` puts them, and the distribution it says it is.

use std::sync::Arc;

use serde::Serialize;
use vhdlint_disk::layout::{Layout, VolumeOrigin};
use vhdlint_disk::probe::FsKind;
use vhdlint_disk::Volume;

use crate::facts::Facts;
use crate::fs::btrfs::{BtrfsFs, Subvolume};
use crate::fs::ext4::Ext4Fs;
use crate::fs::fat::FatFs;
use crate::fs::xfs::XfsFs;
use crate::fs::{FileKind, Filesystem, FsError};
use crate::limits::MAX_BTRFS_ROOT_CANDIDATES;
use crate::view::{GuestView, Mount, MountInfo};

/// Opens the filesystem a volume holds, when vhdlint can read it (a btrfs volume at its
/// default subvolume, as a mount without `subvol=` shows it).
pub fn open_fs(v: &Volume) -> Result<Arc<dyn Filesystem>, FsError> {
    open_fs_with(v, &[])
}

/// The btrfs subvolume an fstab entry's mount options select: `subvol=` (a path from the top
/// level) or `subvolid=`, else the default subvolume.
pub fn btrfs_subvolume(options: &[String]) -> Subvolume<'_> {
    let mut id = None;
    for o in options {
        if let Some(p) = o.strip_prefix("subvol=") {
            return Subvolume::Path(p);
        }
        if let Some(n) = o.strip_prefix("subvolid=") {
            id = n.parse().ok().map(Subvolume::Id);
        }
    }
    id.unwrap_or(Subvolume::Default)
}

/// Opens the filesystem a volume holds with an fstab entry's mount `options` (for btrfs,
/// the subvolume they select).
pub fn open_fs_with(v: &Volume, options: &[String]) -> Result<Arc<dyn Filesystem>, FsError> {
    open_fs_noted(v, options).map(|(fs, _)| fs)
}

/// [`open_fs_with`], and what the reader noticed on opening that the mount's reason should
/// say (a btrfs primary superblock that is damaged, and the copy read instead).
fn open_fs_noted(
    v: &Volume,
    options: &[String],
) -> Result<(Arc<dyn Filesystem>, Option<String>), FsError> {
    if v.probe.kind == FsKind::Btrfs {
        let fs = BtrfsFs::open_subvolume(v.source.clone(), btrfs_subvolume(options))?;
        let notice = fs.notice().map(str::to_string);
        return Ok((Arc::new(fs), notice));
    }
    let fs: Arc<dyn Filesystem> = match v.probe.kind {
        FsKind::Ext2 | FsKind::Ext3 | FsKind::Ext4 => {
            Arc::new(Ext4Fs::open(v.source.clone(), v.probe.kind.name())?)
        }
        FsKind::Xfs => Arc::new(XfsFs::open(v.source.clone())?),
        // An EFI system partition mounted at /boot/efi, or any FAT fstab names.
        FsKind::Fat => Arc::new(FatFs::open(v.source.clone())?),
        k => {
            return Err(FsError::Unsupported(format!(
                "{} volumes hold no Linux filesystem",
                k.name()
            )))
        }
    };
    Ok((fs, None))
}

/// The markers of a Linux root (as libguestfs's inspection looks for them).
pub const ROOT_MARKERS: &[&str] = &[
    "/etc (directory)",
    "/bin or /usr/bin (directory)",
    "/etc/fstab or /etc/hosts (file)",
];

/// One volume considered as the root.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub volume: String,
    pub filesystem: &'static str,
    /// The markers of [`ROOT_MARKERS`] that were found.
    pub found: Vec<&'static str>,
    pub missing: Vec<&'static str>,
    /// Why the volume could not be looked into, if it could not.
    pub error: Option<String>,
}

/// The distribution, from /etc/os-release or the older release files.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct OsRelease {
    pub id: Option<String>,
    pub version_id: Option<String>,
    pub id_like: Vec<String>,
    pub pretty_name: Option<String>,
    /// The file it was read from.
    pub source: Option<String>,
}

/// An fstab entry that was not mounted, and why.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct MountNote {
    pub line: usize,
    pub spec: String,
    pub point: String,
    pub reason: String,
}

/// A Linux guest: its tree and what was learnt while assembling it.
#[derive(Clone, Serialize)]
pub struct LinuxGuest {
    #[serde(skip)]
    pub view: GuestView,
    /// Parsed configuration shared by the checks.
    #[serde(skip)]
    pub facts: Arc<Facts>,
    pub root_volume: String,
    pub mounts: Vec<MountInfo>,
    pub not_mounted: Vec<MountNote>,
    pub os: OsRelease,
}

/// The result of looking for a Linux root.
#[derive(Clone, Serialize)]
pub struct LinuxInspection {
    pub candidates: Vec<Candidate>,
    pub guest: Option<LinuxGuest>,
}

fn single(fs: Arc<dyn Filesystem>, volume: &str) -> GuestView {
    single_noted(fs, volume, None)
}

fn single_noted(fs: Arc<dyn Filesystem>, volume: &str, notice: Option<&str>) -> GuestView {
    GuestView::new(Mount {
        point: "/".into(),
        volume: volume.into(),
        reason: match notice {
            Some(n) => format!("root filesystem ({n})"),
            None => "root filesystem".into(),
        },
        fs,
    })
}

/// Whether `path` is a `kind`. A filesystem that cannot be read there (corrupt, unsupported,
/// an I/O error) is remembered in `error`: it is why a marker is missing, not that it is absent.
fn is(view: &GuestView, path: &str, kind: FileKind, error: &mut Option<FsError>) -> bool {
    match view.metadata(path) {
        Ok(m) => m.kind == kind,
        Err(e @ (FsError::Corrupt(_) | FsError::Io(_) | FsError::Unsupported(_))) => {
            error.get_or_insert(e);
            false
        }
        Err(_) => false,
    }
}

/// The markers of [`ROOT_MARKERS`] found and missing on `fs`, and the first error that kept
/// one from being looked at.
fn markers(
    fs: &Arc<dyn Filesystem>,
    volume: &str,
) -> (Vec<&'static str>, Vec<&'static str>, Option<FsError>) {
    let view = single(fs.clone(), volume);
    let mut err = None;
    let checks = [
        is(&view, "/etc", FileKind::Dir, &mut err),
        is(&view, "/bin", FileKind::Dir, &mut err)
            || is(&view, "/usr/bin", FileKind::Dir, &mut err),
        is(&view, "/etc/fstab", FileKind::File, &mut err)
            || is(&view, "/etc/hosts", FileKind::File, &mut err),
    ];
    let (mut found, mut missing) = (vec![], vec![]);
    for (m, ok) in ROOT_MARKERS.iter().zip(checks) {
        if ok {
            found.push(*m)
        } else {
            missing.push(*m)
        }
    }
    (found, missing, err)
}

/// The first subvolume directly under the top level of btrfs volume `v` that holds a Linux
/// root, with its path (at most [`MAX_BTRFS_ROOT_CANDIDATES`] directories are tried).
fn btrfs_root_subvolume(v: &Volume) -> Option<(String, Arc<dyn Filesystem>)> {
    let top = BtrfsFs::open_subvolume(v.source.clone(), Subvolume::Id(5)).ok()?;
    let mut dirs: Vec<String> = top
        .read_dir("/")
        .ok()?
        .into_iter()
        .filter(|e| e.kind == FileKind::Dir)
        .map(|e| e.name)
        .collect();
    dirs.sort();
    for name in dirs.into_iter().take(MAX_BTRFS_ROOT_CANDIDATES) {
        let path = format!("/{name}");
        let Ok(fs) = BtrfsFs::open_subvolume(v.source.clone(), Subvolume::Path(&path)) else {
            continue;
        };
        let fs: Arc<dyn Filesystem> = Arc::new(fs);
        if markers(&fs, &v.id).1.is_empty() {
            return Some((path, fs));
        }
    }
    None
}

/// Looks for a Linux root on every volume with a Linux filesystem.
pub fn inspect(layout: &Layout) -> LinuxInspection {
    let mut candidates = Vec::new();
    let mut root = None;
    for v in layout.volumes.iter().filter(|v| v.probe.kind.is_linux_fs()) {
        let mut c = Candidate {
            volume: v.id.clone(),
            filesystem: v.probe.kind.name(),
            found: vec![],
            missing: vec![],
            error: None,
        };
        match open_fs_noted(v, &[]) {
            Err(e) => c.error = Some(e.to_string()),
            Ok((fs, notice)) => {
                let (mut found, mut missing, mut err) = markers(&fs, &v.id);
                let mut chosen = (fs, notice);
                if !missing.is_empty() && v.probe.kind == FsKind::Btrfs {
                    // The default subvolume holds no root: look in the top level's
                    // subvolumes, as the kernel mounts one named by rootflags=subvol= (Fedora's
                    // `root`, an `@` never made the default).
                    if let Some((sub, fs)) = btrfs_root_subvolume(v) {
                        (found, missing, err) = (ROOT_MARKERS.to_vec(), vec![], None);
                        chosen = (
                            fs,
                            Some(format!(
                                "btrfs subvolume {sub}: the default subvolume holds no root"
                            )),
                        );
                    }
                }
                c.found = found;
                c.missing = missing;
                if c.missing.is_empty() {
                    if root.is_none() {
                        root = Some((v, chosen.0, chosen.1));
                    }
                } else if let Some(e) = err {
                    c.error = Some(e.to_string());
                }
            }
        }
        candidates.push(c);
    }
    let guest = root.map(|(v, fs, notice)| assemble(layout, v, fs, notice.as_deref()));
    LinuxInspection { candidates, guest }
}

fn assemble(
    layout: &Layout,
    root: &Volume,
    fs: Arc<dyn Filesystem>,
    notice: Option<&str>,
) -> LinuxGuest {
    let mut view = single_noted(fs, &root.id, notice);
    let mut not_mounted = Vec::new();
    // /etc/fstab is read (through the root alone) into the facts the checks share.
    let facts: Arc<crate::facts::Facts> = Arc::default();
    if let Ok(fstab) = facts.fstab(&view) {
        for e in &fstab.entries {
            let (line, spec, point, fstype, options) = (
                e.line,
                e.spec.clone(),
                e.mountpoint.clone(),
                e.fstype.clone(),
                e.options.clone(),
            );
            let note = |reason: String| MountNote {
                line,
                spec: spec.clone(),
                point: point.clone(),
                reason,
            };
            if point == "/" || !point.starts_with('/') {
                continue;
            }
            if matches!(
                fstype.as_str(),
                "swap"
                    | "none"
                    | "tmpfs"
                    | "proc"
                    | "sysfs"
                    | "devpts"
                    | "devtmpfs"
                    | "nfs"
                    | "nfs4"
                    | "cifs"
                    | "smbfs"
                    | "bind"
                    | "overlay"
                    | "efivarfs"
                    | "securityfs"
                    | "cgroup"
                    | "cgroup2"
            ) {
                continue;
            }
            let Some(v) = find_volume(layout, &spec) else {
                not_mounted.push(note(format!("no volume on this disk matches {spec}")));
                continue;
            };
            match open_fs_noted(v, &options) {
                Ok((fs, notice)) => view.mount(Mount {
                    point: point.clone(),
                    volume: v.id.clone(),
                    reason: match (fstype.as_str(), btrfs_subvolume(&options), notice) {
                        (_, _, Some(n)) => format!("/etc/fstab line {line}: {spec} ({n})"),
                        ("btrfs", Subvolume::Path(p), None) => {
                            format!("/etc/fstab line {line}: {spec}, subvol={p}")
                        }
                        ("btrfs", Subvolume::Id(id), None) => {
                            format!("/etc/fstab line {line}: {spec}, subvolid={id}")
                        }
                        _ => format!("/etc/fstab line {line}: {spec}"),
                    },
                    fs,
                }),
                Err(e) => {
                    not_mounted.push(note(format!("{} ({}): {e}", v.id, v.probe.kind.name())))
                }
            }
        }
    }
    let os = os_release(&view);
    LinuxGuest {
        mounts: view.mounts(),
        view,
        facts,
        root_volume: root.id.clone(),
        not_mounted,
        os,
    }
}

/// The volume an fstab device spec names.
pub fn find_volume<'a>(layout: &'a Layout, spec: &str) -> Option<&'a Volume> {
    let eq = |a: &Option<String>, b: &str| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b));
    let part = |pred: &dyn Fn(&vhdlint_disk::layout::Partition) -> bool| {
        layout
            .volumes
            .iter()
            .find(|v| layout.partition(v).is_some_and(pred))
    };
    let (key, value) = spec.split_once('=').unwrap_or(("", spec));
    let value = value.trim_matches('"');
    match key {
        "UUID" => return layout.volumes.iter().find(|v| eq(&v.probe.uuid, value)),
        "LABEL" => {
            return layout
                .volumes
                .iter()
                .find(|v| v.probe.label.as_deref() == Some(value))
        }
        "PARTUUID" => return part(&|p| p.partuuid.eq_ignore_ascii_case(value)),
        "PARTLABEL" => return part(&|p| p.name.as_deref() == Some(value)),
        _ => {}
    }
    if let Some(u) = spec.strip_prefix("/dev/disk/by-uuid/") {
        return find_volume(layout, &format!("UUID={u}"));
    }
    if let Some(u) = spec.strip_prefix("/dev/disk/by-label/") {
        return find_volume(layout, &format!("LABEL={u}"));
    }
    if let Some(u) = spec.strip_prefix("/dev/disk/by-partuuid/") {
        return find_volume(layout, &format!("PARTUUID={u}"));
    }
    let lv = |vg: &str, lv: &str| {
        layout.volumes.iter().find(|v| matches!(&v.origin, VolumeOrigin::LogicalVolume { vg: g, lv: l } if g == vg && l == lv))
    };
    if let Some(rest) = spec.strip_prefix("/dev/mapper/") {
        let (vg, l) = crate::devices::split_dm_name(rest)?;
        return lv(&vg, &l);
    }
    if let Some(rest) = spec.strip_prefix("/dev/") {
        // /dev/sda2, /dev/vda2, /dev/xvda2, /dev/hda2, /dev/nvme0n1p2, /dev/mmcblk0p2: the OS disk.
        for prefix in ["sda", "vda", "xvda", "hda", "nvme0n1p", "mmcblk0p"] {
            if let Some(n) = rest
                .strip_prefix(prefix)
                .and_then(|n| n.parse::<u32>().ok())
            {
                return layout
                    .volumes
                    .iter()
                    .find(|v| v.origin == VolumeOrigin::Partition { number: n });
            }
        }
        let mut it = rest.splitn(2, '/');
        if let (Some(vg), Some(l)) = (it.next(), it.next()) {
            return lv(vg, l);
        }
    }
    None
}

/// Unquotes a shell-style `KEY=value` value.
fn unquote(v: &str) -> String {
    let v = v.trim();
    let inner = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(v);
    inner.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// Reads the distribution from /etc/os-release (or /usr/lib/os-release), else from the older
/// release files.
pub fn os_release(view: &GuestView) -> OsRelease {
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Ok(text) = view.read_config(path) {
            let mut r = OsRelease {
                source: Some(path.into()),
                ..Default::default()
            };
            for l in text.lines() {
                let Some((k, v)) = l.split_once('=') else {
                    continue;
                };
                let v = unquote(v);
                match k.trim() {
                    "ID" => r.id = Some(v),
                    "VERSION_ID" => r.version_id = Some(v),
                    "ID_LIKE" => r.id_like = v.split_whitespace().map(str::to_string).collect(),
                    "PRETTY_NAME" => r.pretty_name = Some(v),
                    _ => {}
                }
            }
            if r.id.is_some() {
                return r;
            }
        }
    }
    let first_line = |p: &str| {
        view.read_config(p)
            .ok()
            .and_then(|t| t.lines().next().map(|l| l.trim().to_string()))
    };
    let version_in = |s: &str| {
        s.split_whitespace()
            .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .map(str::to_string)
    };
    for (path, id) in [
        ("/etc/redhat-release", None),
        ("/etc/centos-release", Some("centos")),
        ("/etc/SuSE-release", Some("sles")),
        ("/etc/debian_version", Some("debian")),
    ] {
        if let Some(l) = first_line(path) {
            let id = id.map(str::to_string).unwrap_or_else(|| {
                let low = l.to_lowercase();
                if low.contains("centos") {
                    "centos"
                } else if low.contains("oracle") {
                    "ol"
                } else if low.contains("red hat") {
                    "rhel"
                } else if low.contains("fedora") {
                    "fedora"
                } else {
                    "rhel"
                }
                .to_string()
            });
            let version_id = if path == "/etc/debian_version" {
                Some(l.clone())
            } else {
                version_in(&l)
            };
            return OsRelease {
                id: Some(id),
                version_id,
                id_like: vec![],
                pretty_name: Some(l),
                source: Some(path.into()),
            };
        }
    }
    OsRelease::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn btrfs_subvolume_from_mount_options() {
        let o = |s: &str| s.split(',').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(btrfs_subvolume(&o("defaults")), Subvolume::Default);
        assert_eq!(
            btrfs_subvolume(&o("noatime,subvol=/@/home,compress=zstd:1")),
            Subvolume::Path("/@/home")
        );
        assert_eq!(btrfs_subvolume(&o("subvolid=258")), Subvolume::Id(258));
        // subvol= wins over subvolid= (the kernel refuses a mount where they disagree).
        assert_eq!(
            btrfs_subvolume(&o("subvolid=258,subvol=@")),
            Subvolume::Path("@")
        );
        assert_eq!(btrfs_subvolume(&o("subvolid=x")), Subvolume::Default);
    }

    #[test]
    fn unquoting() {
        assert_eq!(
            unquote("\"Debian GNU/Linux 12 (bookworm)\""),
            "Debian GNU/Linux 12 (bookworm)"
        );
        assert_eq!(unquote("'a'"), "a");
        assert_eq!(unquote("rhel"), "rhel");
    }
}
