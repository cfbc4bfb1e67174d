//! Volumes that could not be read, and the signs that a disk holds an operating system: what
//! keeps a disk whose root cannot be read from passing as a data disk.

use serde::Serialize;
use vhdlint_disk::layout::{Layout, Scheme, VolumeOrigin};
use vhdlint_disk::probe::FsKind;
use vhdlint_disk::Volume;

use crate::fs::FileKind;
use crate::linux::LinuxInspection;
use crate::windows::WindowsInspection;
use crate::OsFamily;

/// A volume that may hold an operating system's files but could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadVolume {
    /// `p2`, `vg0/root`, `disk`.
    pub volume: String,
    /// What the volume holds as probed: `btrfs`, `ext4`, `ntfs`, `unknown`.
    pub filesystem: &'static str,
    /// Why it could not be read.
    pub why: String,
    /// The family whose system it could hold, when its filesystem or partition type tells.
    pub family: Option<OsFamily>,
}

impl std::fmt::Display for UnreadVolume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.volume, self.filesystem, self.why)
    }
}

/// A disk that shows signs of an operating system beside volumes that could not be read: an
/// OS disk whose system could not be read, never a data disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadOs {
    /// The family the unread volumes and the signs point to; `None` when they do not agree or
    /// do not tell.
    pub family: Option<OsFamily>,
    /// The volumes that could not be read.
    pub volumes: Vec<UnreadVolume>,
    /// What shows that the disk holds an operating system, e.g. `p1: EFI System partition`.
    pub signs: Vec<String>,
}

impl UnreadOs {
    /// One sentence: what could not be read and why the disk is taken for an OS disk.
    pub fn describe(&self) -> String {
        format!(
            "{} could not be read ({}), and the disk shows signs of an operating system ({})",
            if self.volumes.len() == 1 {
                "a volume".to_string()
            } else {
                format!("{} volumes", self.volumes.len())
            },
            join(&self.volumes),
            self.signs.join("; ")
        )
    }
}

fn join(volumes: &[UnreadVolume]) -> String {
    volumes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a partition's type or a volume's origin says about the family of a system on it.
fn family_of(layout: &Layout, v: &Volume) -> Option<OsFamily> {
    match (&v.origin, layout.partition(v)) {
        (VolumeOrigin::LogicalVolume { .. }, _) => Some(OsFamily::Linux),
        (_, Some(p)) if p.part_type.holds_linux_root() => Some(OsFamily::Linux),
        (_, Some(p)) if p.part_type.holds_windows_system() => Some(OsFamily::Windows),
        _ => None,
    }
}

/// Every volume that could hold an operating system's files but could not be read: a Linux
/// filesystem that cannot be opened or looked into (unsupported, damaged), an NTFS volume that
/// cannot be read, a partition or logical volume whose content has no signature vhdlint
/// recognises (a damaged superblock, an encrypted or unsupported filesystem), an LVM2 physical
/// volume whose metadata could not be read (its logical volumes are not seen) and a logical
/// volume that could not be assembled. BitLocker is not among them: it is a Windows system
/// volume that is refused (windows/ntfs).
pub fn unread_volumes(
    layout: &Layout,
    linux: &LinuxInspection,
    windows: &WindowsInspection,
) -> Vec<UnreadVolume> {
    let linux = linux.candidates.iter().filter_map(|c| {
        c.error.as_ref().map(|why| UnreadVolume {
            volume: c.volume.clone(),
            filesystem: c.filesystem,
            why: why.clone(),
            family: Some(OsFamily::Linux),
        })
    });
    let ntfs = windows
        .candidates
        .iter()
        .filter(|c| !c.bitlocker)
        .filter_map(|c| {
            c.error.as_ref().map(|why| UnreadVolume {
                volume: c.volume.clone(),
                filesystem: FsKind::Ntfs.name(),
                why: why.clone(),
                family: Some(OsFamily::Windows),
            })
        });
    // A whole disk of unknown bytes is a disk without a partition table: a data disk written
    // raw, not a volume an OS could be read from.
    let unknown = layout
        .volumes
        .iter()
        .filter(|v| v.probe.kind == FsKind::Unknown && v.origin != VolumeOrigin::WholeDisk)
        .map(|v| UnreadVolume {
            volume: v.id.clone(),
            filesystem: v.probe.kind.name(),
            why: "no filesystem signature vhdlint recognises (a damaged superblock, or an encrypted or unsupported filesystem)".into(),
            family: family_of(layout, v),
        });
    // A PV that holds metadata that could not be read, unless a volume group read from
    // another PV's copy of it includes this one.
    let pvs = layout
        .physical_volumes
        .iter()
        .filter(|pv| {
            !layout
                .volume_groups
                .iter()
                .any(|vg| vg.pvs.values().any(|u| *u == pv.uuid))
        })
        .filter_map(|pv| {
            pv.unread.as_ref().map(|why| UnreadVolume {
                volume: pv.volume.clone(),
                filesystem: FsKind::LvmPv.name(),
                why: format!("LVM2 physical volume whose metadata could not be read: {why}"),
                family: Some(OsFamily::Linux),
            })
        });
    let lvs = layout.volume_groups.iter().flat_map(|vg| {
        vg.lvs.iter().filter_map(|lv| {
            lv.unreadable.as_ref().map(|why| UnreadVolume {
                volume: format!("{}/{}", lv.vg, lv.name),
                filesystem: FsKind::Unknown.name(),
                why: format!("LVM2 logical volume not assembled: {why}"),
                family: Some(OsFamily::Linux),
            })
        })
    });
    linux
        .chain(ntfs)
        .chain(unknown)
        .chain(pvs)
        .chain(lvs)
        .collect()
}

/// Directory entries at the top of a filesystem that make it a `/boot`: a boot loader's
/// directory, a kernel or an initramfs.
fn is_boot_entry(name: &str, kind: FileKind) -> bool {
    (kind == FileKind::Dir && matches!(name, "grub" | "grub2" | "loader"))
        || ["vmlinuz", "vmlinux", "initrd", "initramfs"]
            .iter()
            .any(|p| name.starts_with(p))
}

/// The signs that a disk holds an operating system, each with the family it points to when it
/// points to one: an EFI system or BIOS boot partition, boot code in the MBR, an active
/// partition, a partition type or filesystem that holds roots, a filesystem laid out as a
/// `/boot`.
pub fn os_signs(layout: &Layout, linux: &LinuxInspection) -> Vec<(String, Option<OsFamily>)> {
    let mut signs = Vec::new();
    if layout.table.scheme != Scheme::None && layout.table.mbr.as_ref().is_some_and(|m| m.boot_code)
    {
        signs.push(("boot code in the MBR".to_string(), None));
    }
    for p in layout.table.partitions.iter().filter(|p| !p.container) {
        let id = format!("p{}", p.number);
        let t = &p.part_type;
        if t.is_efi_system() {
            signs.push((format!("{id}: EFI System partition"), None));
        } else if t.is_bios_boot() {
            signs.push((
                format!("{id}: BIOS boot partition (GRUB's core image)"),
                Some(OsFamily::Linux),
            ));
        } else if t.holds_linux_root() {
            signs.push((
                format!(
                    "{id}: partition type {}, which holds Linux roots",
                    p.type_name
                ),
                Some(OsFamily::Linux),
            ));
        } else if t.holds_windows_system() {
            signs.push((
                format!(
                    "{id}: partition type {}, which holds Windows system volumes",
                    p.type_name
                ),
                Some(OsFamily::Windows),
            ));
        }
        if p.bootable {
            signs.push((format!("{id}: active (bootable) partition"), None));
        }
    }
    for v in &layout.volumes {
        let kind = v.probe.kind;
        if kind.is_linux_fs() {
            signs.push((
                format!(
                    "{}: {} filesystem, which holds Linux roots",
                    v.id,
                    kind.name()
                ),
                Some(OsFamily::Linux),
            ));
        } else if kind == FsKind::Ntfs {
            signs.push((
                format!("{}: NTFS, which holds Windows system volumes", v.id),
                Some(OsFamily::Windows),
            ));
        }
    }
    // A readable Linux filesystem that is not a root but holds a boot loader or kernels is a
    // separate /boot: the root it boots is elsewhere on the disk.
    for c in linux.candidates.iter().filter(|c| c.error.is_none()) {
        let Some(v) = layout.volumes.iter().find(|v| v.id == c.volume) else {
            continue;
        };
        let Ok(fs) = crate::linux::open_fs(v) else {
            continue;
        };
        let boot: Vec<String> = fs
            .read_dir("/")
            .unwrap_or_default()
            .into_iter()
            .filter(|e| is_boot_entry(&e.name, e.kind))
            .map(|e| e.name)
            .collect();
        if !boot.is_empty() {
            signs.push((
                format!("{}: a /boot filesystem ({})", v.id, boot.join(", ")),
                Some(OsFamily::Linux),
            ));
        }
    }
    signs
}

/// The one family every item that tells names; `None` when none tells or two disagree.
fn agreed(families: impl Iterator<Item = Option<OsFamily>>) -> Option<OsFamily> {
    let mut families = families.flatten();
    let first = families.next()?;
    families.all(|f| f == first).then_some(first)
}

/// The disk is an OS disk whose system could not be read: no Linux root and no Windows system
/// volume was found, a volume could not be read, and the disk shows signs of an operating
/// system. `None` otherwise (an OS was found, every volume was read, or nothing points to an OS).
pub fn unread_os(
    layout: &Layout,
    linux: &LinuxInspection,
    windows: &WindowsInspection,
) -> Option<UnreadOs> {
    if linux.guest.is_some() || windows.guest.is_some() {
        return None;
    }
    let volumes = unread_volumes(layout, linux, windows);
    if volumes.is_empty() {
        return None;
    }
    let signs = os_signs(layout, linux);
    if signs.is_empty() {
        return None;
    }
    // What the unread volumes themselves are decides; the signs, when they do not tell.
    let family =
        agreed(volumes.iter().map(|v| v.family)).or_else(|| agreed(signs.iter().map(|s| s.1)));
    Some(UnreadOs {
        family,
        volumes,
        signs: signs.into_iter().map(|s| s.0).collect(),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use vhdlint_disk::layout::{PartType, Partition, PartitionTable, GPT_BIOS_BOOT};
    use vhdlint_disk::mbr::Mbr;
    use vhdlint_disk::probe::Probe;
    use vhdlint_disk::MemSource;

    use super::*;
    use crate::linux::Candidate;
    use crate::windows;

    /// A layout whose partitions p1, p2, … have these types, active flags and probed contents;
    /// `boot_code`: the MBR holds boot code.
    fn layout(parts: &[(PartType, bool, FsKind)], boot_code: bool) -> Layout {
        let mut mbr = Mbr::parse(&[0u8; 512]);
        mbr.boot_code = boot_code;
        let partitions = parts
            .iter()
            .enumerate()
            .map(|(i, &(part_type, bootable, _))| Partition {
                number: i as u32 + 1,
                part_type,
                type_name: part_type.name(),
                start_lba: 2048 * (i as u64 + 1),
                sectors: 2048,
                bootable,
                name: None,
                partuuid: String::new(),
                entry_offset: 0,
                container: false,
                nested_in: None,
            })
            .collect();
        let volumes = parts
            .iter()
            .enumerate()
            .map(|(i, &(_, _, kind))| Volume {
                id: format!("p{}", i + 1),
                origin: VolumeOrigin::Partition {
                    number: i as u32 + 1,
                },
                offset: Some(0),
                size: 0,
                probe: Probe {
                    kind,
                    label: None,
                    uuid: None,
                    magic_offset: None,
                    ext: None,
                },
                source: Arc::new(MemSource::new(Vec::new())),
            })
            .collect();
        Layout {
            disk_size: 8 << 20,
            table: PartitionTable {
                scheme: Scheme::Mbr,
                partitions,
                hybrid_mbr: false,
                findings: Vec::new(),
                not_mbr: None,
                mbr: Some(mbr),
                gpt: None,
            },
            volumes,
            physical_volumes: Vec::new(),
            volume_groups: Vec::new(),
            lvm_findings: Vec::new(),
        }
    }

    fn no_linux() -> LinuxInspection {
        LinuxInspection {
            candidates: Vec::new(),
            guest: None,
        }
    }

    fn no_windows() -> WindowsInspection {
        WindowsInspection {
            candidates: Vec::new(),
            guest: None,
        }
    }

    fn linux_unread(volume: &str, filesystem: &'static str, why: &str) -> LinuxInspection {
        LinuxInspection {
            candidates: vec![Candidate {
                volume: volume.into(),
                filesystem,
                found: Vec::new(),
                missing: Vec::new(),
                error: Some(why.into()),
            }],
            guest: None,
        }
    }

    fn ntfs(volume: &str, bitlocker: bool, error: Option<&str>) -> windows::Candidate {
        windows::Candidate {
            volume: volume.into(),
            bitlocker,
            system32: false,
            error: error.map(String::from),
        }
    }

    const LINUX: PartType = PartType::Mbr(0x83);
    const NTFS: PartType = PartType::Mbr(0x07);
    const OTHER: PartType = PartType::Mbr(0xda);

    fn signs(l: &Layout) -> Vec<String> {
        os_signs(l, &no_linux()).into_iter().map(|s| s.0).collect()
    }

    #[test]
    fn unread_volumes_are_linux_and_ntfs_volumes_that_failed_and_unknown_partitions() {
        let l = layout(
            &[
                (LINUX, false, FsKind::Btrfs),
                (NTFS, false, FsKind::Ntfs),
                (NTFS, false, FsKind::Bitlocker),
                (LINUX, false, FsKind::Unknown),
                (NTFS, false, FsKind::Unknown),
                (OTHER, false, FsKind::Unknown),
                (LINUX, false, FsKind::Empty),
                (LINUX, false, FsKind::Fat),
            ],
            false,
        );
        let w = WindowsInspection {
            candidates: vec![
                ntfs("p2", false, Some("corrupt MFT")),
                ntfs("p3", true, Some("BitLocker-encrypted")),
            ],
            guest: None,
        };
        let u = unread_volumes(&l, &linux_unread("p1", "btrfs", "not inspected"), &w);
        let got: Vec<(String, Option<OsFamily>)> =
            u.iter().map(|v| (v.to_string(), v.family)).collect();
        let unknown = "no filesystem signature vhdlint recognises (a damaged superblock, or an encrypted or unsupported filesystem)";
        assert_eq!(
            got,
            vec![
                (
                    "p1 (btrfs): not inspected".to_string(),
                    Some(OsFamily::Linux)
                ),
                (
                    "p2 (ntfs): corrupt MFT".to_string(),
                    Some(OsFamily::Windows)
                ),
                (format!("p4 (unknown): {unknown}"), Some(OsFamily::Linux)),
                (format!("p5 (unknown): {unknown}"), Some(OsFamily::Windows)),
                (format!("p6 (unknown): {unknown}"), None),
            ]
        );
    }

    #[test]
    fn a_whole_disk_of_unknown_bytes_is_not_an_unread_volume() {
        let mut l = layout(&[], false);
        l.table.scheme = Scheme::None;
        l.table.mbr = None;
        l.volumes.push(Volume {
            id: "disk".into(),
            origin: VolumeOrigin::WholeDisk,
            offset: Some(0),
            size: 0,
            probe: Probe {
                kind: FsKind::Unknown,
                label: None,
                uuid: None,
                magic_offset: None,
                ext: None,
            },
            source: Arc::new(MemSource::new(Vec::new())),
        });
        assert!(unread_volumes(&l, &no_linux(), &no_windows()).is_empty());
        assert!(unread_os(&l, &no_linux(), &no_windows()).is_none());
    }

    #[test]
    fn the_signs_of_an_operating_system() {
        let l = layout(
            &[
                (PartType::Mbr(0xef), false, FsKind::Fat),
                (PartType::Gpt(GPT_BIOS_BOOT), false, FsKind::Empty),
                (LINUX, true, FsKind::Xfs),
                (NTFS, false, FsKind::Ntfs),
                (OTHER, false, FsKind::Empty),
            ],
            true,
        );
        assert_eq!(
            signs(&l),
            vec![
                "boot code in the MBR",
                "p1: EFI System partition",
                "p2: BIOS boot partition (GRUB's core image)",
                "p3: partition type Linux (0x83), which holds Linux roots",
                "p3: active (bootable) partition",
                "p4: partition type HPFS/NTFS/exFAT (0x07), which holds Windows system volumes",
                "p3: xfs filesystem, which holds Linux roots",
                "p4: NTFS, which holds Windows system volumes",
            ]
        );
        let families: Vec<Option<OsFamily>> =
            os_signs(&l, &no_linux()).into_iter().map(|s| s.1).collect();
        use OsFamily::{Linux, Windows};
        assert_eq!(
            families,
            vec![
                None,
                None,
                Some(Linux),
                Some(Linux),
                None,
                Some(Windows),
                Some(Linux),
                Some(Windows)
            ]
        );
    }

    #[test]
    fn no_signs_on_a_disk_of_plain_partitions() {
        let l = layout(
            &[
                (OTHER, false, FsKind::Unknown),
                (PartType::Mbr(0x0c), false, FsKind::Fat),
            ],
            false,
        );
        assert!(signs(&l).is_empty());
        // Boot code counts only on a disk with a partition table.
        let mut l = layout(&[], true);
        l.table.scheme = Scheme::None;
        assert!(signs(&l).is_empty());
    }

    #[test]
    fn an_unread_volume_and_a_sign_make_an_unread_os() {
        let l = layout(&[(OTHER, true, FsKind::Unknown)], false);
        let u = unread_os(&l, &no_linux(), &no_windows()).expect("an unread OS");
        assert_eq!(u.family, None);
        assert_eq!(u.signs, vec!["p1: active (bootable) partition"]);
        assert_eq!(
            u.describe(),
            "a volume could not be read (p1 (unknown): no filesystem signature vhdlint recognises (a damaged superblock, or an encrypted or unsupported filesystem)), and the disk shows signs of an operating system (p1: active (bootable) partition)"
        );
        // Without the sign it is not one.
        let l = layout(&[(OTHER, false, FsKind::Unknown)], false);
        assert!(unread_os(&l, &no_linux(), &no_windows()).is_none());
        // Without an unread volume neither.
        let l = layout(&[(LINUX, true, FsKind::Empty)], true);
        assert!(unread_os(&l, &no_linux(), &no_windows()).is_none());
    }

    #[test]
    fn the_unread_volumes_decide_the_family_and_the_signs_when_they_do_not_tell() {
        // A btrfs volume beside an NTFS data partition: the unread volume is Linux.
        let l = layout(
            &[(LINUX, false, FsKind::Btrfs), (NTFS, false, FsKind::Ntfs)],
            false,
        );
        let u = unread_os(&l, &linux_unread("p1", "btrfs", "x"), &no_windows()).unwrap();
        assert_eq!(u.family, Some(OsFamily::Linux));
        assert_eq!(u.volumes.len(), 1);
        // Unknown bytes on a type that names no OS, next to a BIOS boot partition: Linux.
        let l = layout(
            &[
                (PartType::Gpt(GPT_BIOS_BOOT), false, FsKind::Empty),
                (OTHER, false, FsKind::Unknown),
            ],
            false,
        );
        let u = unread_os(&l, &no_linux(), &no_windows()).unwrap();
        assert_eq!(u.family, Some(OsFamily::Linux));
        // Unread volumes of both families: not told.
        let l = layout(
            &[
                (LINUX, false, FsKind::Unknown),
                (NTFS, false, FsKind::Unknown),
            ],
            false,
        );
        let u = unread_os(&l, &no_linux(), &no_windows()).unwrap();
        assert_eq!(u.family, None);
        assert_eq!(u.volumes.len(), 2);
        assert!(u
            .describe()
            .starts_with("2 volumes could not be read (p1 (unknown): "));
    }

    #[test]
    fn boot_entries() {
        for (name, kind) in [
            ("grub", FileKind::Dir),
            ("grub2", FileKind::Dir),
            ("loader", FileKind::Dir),
            ("vmlinuz-6.1.0-18-amd64", FileKind::File),
            ("vmlinuz", FileKind::Symlink),
            ("initrd.img-6.1.0-18-amd64", FileKind::File),
            ("initramfs-5.14.0.img", FileKind::File),
        ] {
            assert!(is_boot_entry(name, kind), "{name}");
        }
        for (name, kind) in [
            ("grub", FileKind::File),
            ("lost+found", FileKind::Dir),
            ("etc", FileKind::Dir),
            ("data.img", FileKind::File),
        ] {
            assert!(!is_boot_entry(name, kind), "{name}");
        }
    }
}
