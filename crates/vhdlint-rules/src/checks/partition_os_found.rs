use vhdlint_disk::probe::FsKind;
use vhdlint_guest::linux::ROOT_MARKERS;
use vhdlint_guest::OsFamily;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "partition/os-found",
    title: "Operating system found",
    what: "Looks for the operating system the profile declares: for linux-os, a filesystem holding /etc, /bin (or /usr/bin) and /etc/fstab (or /etc/hosts), the markers libguestfs's inspection uses, with the distribution from /etc/os-release; for windows-os, an NTFS volume holding \\Windows\\System32. When no system is found and a volume that could hold it could not be read (a btrfs whose metadata checksums are not crc32c or whose data is striped across devices, an ext4 incompatible feature the reader does not know, a journal on an external device or with fast commits that needs recovery, a damaged superblock, an encrypted volume, an LVM2 physical volume whose metadata could not be read, a logical volume that could not be assembled), the result is error, naming the volume and why: unknown is never a pass, and an error makes the run exit 1 like a failure. Under auto, such a volume on a disk that shows signs of an OS (an EFI system or BIOS boot partition, MBR boot code, an active partition, a partition type or filesystem that holds roots, a /boot filesystem) makes the disk an OS disk whose checks report error, never a data disk.",
    why: "An OS disk without a recognisable operating system (a wrong image, a data disk uploaded as OS disk, a root on a filesystem that cannot be read) fails provisioning; finding it offline also tells which checks can run.",
    remedy: "Upload the OS disk itself (not a data disk or a partition image), with its root filesystem on ext4, XFS or btrfs, and declare the matching profile (--profile linux-os | windows-os). A volume that could not be read: run the filesystem's own check on a copy (e2fsck -fn, xfs_repair -n, btrfs check --readonly), capture the image after a clean shutdown (a journal that needs recovery and cannot be replayed in memory), or check it by hand; a data disk is linted with --profile data-disk.",
    sources: &["libguestfs inspection (daemon/inspect_fs.ml): Linux root markers", "Azure Marketplace VM image guide: OS disk"],
    profiles: Profile::OS,
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual("nothing to change inside a guest that was not found: the disk must hold the OS (or be linted as a data disk)");

pub fn run(ctx: &Context) -> Outcome {
    let layout = match ctx.layout_or_outcome() {
        Ok(l) => l,
        Err(o) => return o,
    };
    let linux = match ctx.linux() {
        Ok(l) => l,
        Err(e) => return Outcome::error(format!("the guest disk cannot be read: {e}")),
    };
    let markers = ROOT_MARKERS.join(", ");
    let ntfs: Vec<&str> = layout
        .volumes
        .iter()
        .filter(|v| matches!(v.probe.kind, FsKind::Ntfs | FsKind::Bitlocker))
        .map(|v| v.id.as_str())
        .collect();
    let candidates: Vec<Evidence> = linux
        .candidates
        .iter()
        .map(|c| {
            Evidence::note(match &c.error {
                Some(e) => format!("{} ({}): not readable: {e}", c.volume, c.filesystem),
                None if c.missing.is_empty() => {
                    format!("{} ({}): all root markers present", c.volume, c.filesystem)
                }
                None => format!(
                    "{} ({}): found {}; missing {}",
                    c.volume,
                    c.filesystem,
                    if c.found.is_empty() {
                        "none".into()
                    } else {
                        c.found.join(", ")
                    },
                    c.missing.join(", ")
                ),
            })
        })
        .collect();
    match ctx.profile {
        Profile::LinuxOs => match &linux.guest {
            Some(g) => {
                let os =
                    g.os.pretty_name
                        .clone()
                        .or_else(|| g.os.id.clone())
                        .unwrap_or_else(|| "distribution unknown (no os-release)".into());
                let mut ev = vec![Evidence::note(format!(
                    "root filesystem on {}",
                    g.root_volume
                ))];
                let root_ext = layout
                    .volumes
                    .iter()
                    .find(|v| v.id == g.root_volume)
                    .and_then(|v| v.probe.ext.as_ref());
                if let Some(e) = root_ext.filter(|e| e.needs_recovery || e.errors || !e.clean) {
                    ev.push(Evidence::note(format!(
                        "the root ext filesystem was not cleanly unmounted{} (its journal is replayed in memory when read)",
                        if e.errors { " and has errors recorded" } else { "" }
                    )));
                }
                for m in &g.mounts {
                    for n in &m.notes {
                        ev.push(Evidence::note(format!("{} on {}: {n}", m.point, m.volume)));
                    }
                }
                if let Some(src) = &g.os.source {
                    ev.push(Evidence {
                        path: Some(src.clone()),
                        line: None,
                        offset: None,
                        text: format!(
                            "ID={} VERSION_ID={}",
                            g.os.id.as_deref().unwrap_or("?"),
                            g.os.version_id.as_deref().unwrap_or("?")
                        ),
                    });
                }
                Outcome::pass(
                    format!("Linux root on {}: {os}", g.root_volume),
                    format!("a Linux root ({markers})"),
                )
                .evidences(ev)
            }
            None if !ctx.unread_volumes(OsFamily::Linux).is_empty() => ctx
                .unread_error(
                    &ctx.unread_volumes(OsFamily::Linux),
                    "a Linux root",
                    format!("a Linux root ({markers})"),
                )
                .evidences(candidates)
                .evidence(Evidence::note(format!("markers looked for: {markers}"))),
            None => {
                let mut msg = format!("no Linux root filesystem found; looked for {markers}");
                if !ntfs.is_empty() {
                    msg.push_str(&format!(
                        "; the disk holds Windows volumes ({})",
                        ntfs.join(", ")
                    ));
                }
                let actual = if candidates.is_empty() {
                    "no Linux filesystem".to_string()
                } else {
                    format!("{} Linux filesystem(s), none a root", candidates.len())
                };
                Outcome::fail(actual, format!("a Linux root ({markers})"))
                    .message(msg)
                    .evidences(candidates)
                    .evidence(Evidence::note(format!("markers looked for: {markers}")))
            }
        },
        _ => {
            if let Some(g) = &linux.guest {
                return Outcome::fail(
                    format!("a Linux root on {}", g.root_volume),
                    "a Windows system volume",
                )
                .message(format!(
                    "the profile is windows-os but the disk holds a Linux root on {}",
                    g.root_volume
                ))
                .evidences(candidates);
            }
            let w = match ctx.windows() {
                Ok(w) => w,
                Err(e) => return Outcome::error(format!("the guest disk cannot be read: {e}")),
            };
            let marker = vhdlint_guest::windows::SYSTEM_MARKER;
            let required = format!("a Windows system volume ({marker})");
            let unread_here = ctx.unread_volumes(OsFamily::Windows);
            match &w.guest {
                None if !unread_here.is_empty() => {
                    ctx.unread_error(&unread_here, "a Windows system volume", required)
                }
                Some(g) => {
                    Outcome::pass(format!("Windows system volume on {}", g.volume), required)
                        .evidence(Evidence::path(
                            "\\Windows\\System32",
                            None,
                            format!("on volume {}", g.volume),
                        ))
                }
                None => {
                    let ev: Vec<Evidence> = w
                        .candidates
                        .iter()
                        .map(|c| {
                            Evidence::note(format!(
                                "{}: {}",
                                c.volume,
                                c.error
                                    .clone()
                                    .unwrap_or_else(|| "NTFS without \\Windows\\System32".into())
                            ))
                        })
                        .collect();
                    let actual = if ntfs.is_empty() {
                        "no NTFS volume".to_string()
                    } else {
                        format!(
                            "{} NTFS/BitLocker volume(s), none a readable system volume",
                            ntfs.len()
                        )
                    };
                    Outcome::fail(actual, required)
                        .message(format!(
                            "no Windows system volume found; looked for {marker}"
                        ))
                        .evidences(ev)
                        .evidence(Evidence::note(format!("markers looked for: {marker}")))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::check::Status;
    use crate::policy::Policy;
    use crate::testing::{
        fixed_vhd, mbr_disk, put, put_ext, run_image, said, unreadable_vhd, with_image, MemFs,
    };
    use vhdlint_guest::linux::{Candidate, LinuxGuest, LinuxInspection, OsRelease};
    use vhdlint_guest::view::GuestView;
    use vhdlint_guest::windows::{WindowsGuest, WindowsInspection};

    /// What a test partition holds.
    #[derive(Clone, Copy)]
    enum Holds {
        /// An ext2 superblock with this `s_state` and these incompatible features.
        Ext(u16, u32),
        Ntfs,
        Bitlocker,
        Nothing,
        /// Bytes no probe recognises (a damaged superblock, an encrypted volume).
        Garbage,
    }

    /// A fixed VHD whose MBR partitions (type 0x83, 1 MiB each from LBA 2048) hold `parts`.
    fn image(parts: &[Holds]) -> Vec<u8> {
        typed(&vec![0x83; parts.len()], parts)
    }

    /// A fixed VHD whose MBR partitions of `types` (1 MiB each from LBA 2048) hold `parts`.
    fn typed(types: &[u8], parts: &[Holds]) -> Vec<u8> {
        let table: Vec<(u8, u32, u32)> = (0..parts.len() as u32)
            .map(|i| (types[i as usize], 2048 * (i + 1), 2048))
            .collect();
        let mut disk = mbr_disk(8, &table);
        for (i, holds) in parts.iter().enumerate() {
            let at = (i + 1) << 20;
            match *holds {
                Holds::Ext(state, incompat) => put_ext(&mut disk, at, "", state, incompat),
                Holds::Ntfs => put(&mut disk, at + 3, b"NTFS    "),
                Holds::Bitlocker => put(&mut disk, at + 3, b"-FVE-FS-"),
                Holds::Garbage => put(&mut disk, at, &[0x5A; 4096]),
                Holds::Nothing => {}
            }
        }
        fixed_vhd(&disk)
    }

    fn linux_guest(root: &str, os: OsRelease) -> LinuxGuest {
        let view = GuestView::of(MemFs::new());
        LinuxGuest {
            mounts: view.mounts(),
            view,
            facts: Arc::default(),
            root_volume: root.into(),
            not_mounted: Vec::new(),
            os,
        }
    }

    fn candidate(volume: &str, found: Vec<&'static str>, missing: Vec<&'static str>) -> Candidate {
        Candidate {
            volume: volume.into(),
            filesystem: "ext4",
            found,
            missing,
            error: None,
        }
    }

    /// Runs the check on `bytes` as `profile`, with the Linux and Windows inspections given
    /// (or, when `None`, made from the disk).
    fn os_found(
        bytes: Vec<u8>,
        profile: Profile,
        linux: Option<Result<LinuxInspection, String>>,
        windows: Option<Result<WindowsInspection, String>>,
    ) -> Outcome {
        with_image(bytes, profile, &Policy::guide(), |ctx| {
            crate::testing::set_guest(ctx, linux, windows);
            run(ctx)
        })
    }

    fn found_linux(guest: LinuxGuest) -> Option<Result<LinuxInspection, String>> {
        Some(Ok(LinuxInspection {
            candidates: Vec::new(),
            guest: Some(guest),
        }))
    }

    fn ubuntu() -> OsRelease {
        OsRelease {
            id: Some("ubuntu".into()),
            version_id: Some("22.04".into()),
            pretty_name: Some("Ubuntu 22.04.3 LTS".into()),
            source: Some("/etc/os-release".into()),
            ..OsRelease::default()
        }
    }

    #[test]
    fn passes_a_linux_root_naming_its_distribution() {
        let g = linux_guest("p1", ubuntu());
        let o = os_found(
            image(&[Holds::Ext(1, 0)]),
            Profile::LinuxOs,
            found_linux(g),
            None,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "Linux root on p1: Ubuntu 22.04.3 LTS");
        assert!(
            o.required.starts_with("a Linux root (/etc (directory)"),
            "{s}"
        );
        assert!(s.contains("root filesystem on p1"), "{s}");
        assert!(
            s.contains("/etc/os-release ID=ubuntu VERSION_ID=22.04"),
            "{s}"
        );
        assert!(!s.contains("cleanly"), "{s}");
    }

    #[test]
    fn passes_a_linux_root_named_by_its_id_or_unknown() {
        let os = OsRelease {
            id: Some("debian".into()),
            source: Some("/etc/os-release".into()),
            ..OsRelease::default()
        };
        let o = os_found(
            image(&[Holds::Nothing]),
            Profile::LinuxOs,
            found_linux(linux_guest("p1", os)),
            None,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "Linux root on p1: debian");
        assert!(s.contains("ID=debian VERSION_ID=?"), "{s}");
        let os = OsRelease {
            source: Some("/etc/redhat-release".into()),
            ..OsRelease::default()
        };
        let o = os_found(
            image(&[Holds::Nothing]),
            Profile::LinuxOs,
            found_linux(linux_guest("p1", os)),
            None,
        );
        let s = said(&o);
        assert_eq!(
            o.actual,
            "Linux root on p1: distribution unknown (no os-release)"
        );
        assert!(s.contains("/etc/redhat-release ID=? VERSION_ID=?"), "{s}");
        let o = os_found(
            image(&[Holds::Nothing]),
            Profile::LinuxOs,
            found_linux(linux_guest("p1", OsRelease::default())),
            None,
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(o.evidence.iter().all(|e| e.path.is_none()), "{}", said(&o));
    }

    #[test]
    fn notes_a_root_ext_filesystem_not_cleanly_unmounted() {
        for (state, incompat) in [(0, 0), (1, 0x4)] {
            let g = linux_guest("p1", ubuntu());
            let o = os_found(
                image(&[Holds::Ext(state, incompat)]),
                Profile::LinuxOs,
                found_linux(g),
                None,
            );
            let s = said(&o);
            assert_eq!(o.status, Status::Pass, "{s}");
            assert!(
                s.contains("the root ext filesystem was not cleanly unmounted (its journal"),
                "{s}"
            );
        }
    }

    #[test]
    fn notes_errors_recorded_on_the_root_ext_filesystem() {
        let g = linux_guest("p1", ubuntu());
        let o = os_found(
            image(&[Holds::Ext(3, 0)]),
            Profile::LinuxOs,
            found_linux(g),
            None,
        );
        let s = said(&o);
        assert!(
            s.contains("not cleanly unmounted and has errors recorded"),
            "{s}"
        );
    }

    #[test]
    fn the_note_is_about_the_root_volume_only() {
        let g = linux_guest("p2", ubuntu());
        let o = os_found(
            image(&[Holds::Ext(0, 0x4), Holds::Ext(1, 0)]),
            Profile::LinuxOs,
            found_linux(g),
            None,
        );
        let s = said(&o);
        assert_eq!(o.actual, "Linux root on p2: Ubuntu 22.04.3 LTS");
        assert!(!s.contains("cleanly"), "{s}");
    }

    #[test]
    fn fails_a_linux_os_disk_without_a_linux_filesystem() {
        let o = os_found(image(&[Holds::Nothing]), Profile::LinuxOs, None, None);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "no Linux filesystem");
        assert!(
            o.message
                .starts_with("no Linux root filesystem found; looked for /etc (directory)"),
            "{s}"
        );
        assert!(!o.message.contains("Windows volumes"), "{s}");
        assert!(s.contains("markers looked for: /etc (directory)"), "{s}");
    }

    #[test]
    fn fails_a_linux_os_disk_naming_its_windows_volumes() {
        let o = os_found(
            image(&[Holds::Ntfs, Holds::Bitlocker]),
            Profile::LinuxOs,
            None,
            None,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(
            o.message
                .ends_with("; the disk holds Windows volumes (p1, p2)"),
            "{s}"
        );
    }

    #[test]
    fn error_when_a_linux_filesystem_cannot_be_read() {
        let o = os_found(image(&[Holds::Ext(1, 0)]), Profile::LinuxOs, None, None);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert_eq!(o.actual, "p1 (ext2) could not be read");
        assert!(
            o.required.starts_with("a Linux root (/etc (directory)"),
            "{s}"
        );
        assert!(
            o.message.starts_with(
                "a Linux root was not found, and a volume that could hold it could not be read, so whether the disk holds it is unknown: p1 (ext2): "
            ),
            "{s}"
        );
        assert!(s.contains("p1 (ext2): not readable: "), "{s}");
        assert!(
            s.contains("sign of an operating system: p1: partition type Linux (0x83), which holds Linux roots"),
            "{s}"
        );
        assert!(s.contains("markers looked for: /etc (directory)"), "{s}");
    }

    #[test]
    fn error_names_every_volume_that_cannot_be_read() {
        let o = os_found(
            image(&[Holds::Ext(1, 0), Holds::Garbage, Holds::Nothing]),
            Profile::LinuxOs,
            None,
            None,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert_eq!(o.actual, "p1 (ext2), p2 (unknown) could not be read");
        assert!(o.message.contains("and volumes that could hold it"), "{s}");
        assert!(
            s.contains("p2 (unknown): no filesystem signature vhdlint recognises"),
            "{s}"
        );
        assert!(!s.contains("p3 ("), "an empty partition is read: {s}");
    }

    #[test]
    fn error_for_a_damaged_volume_without_signs_says_none() {
        // Type 0xda (non-FS data) holds no root and nothing else shows an OS: the volume is
        // still one the declared root could be on.
        let o = os_found(
            typed(&[0xda], &[Holds::Garbage]),
            Profile::LinuxOs,
            None,
            None,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert_eq!(o.actual, "p1 (unknown) could not be read");
        assert!(!s.contains("signs of an operating system"), "{s}");
    }

    #[test]
    fn a_volume_of_the_other_family_is_no_reason_for_an_error() {
        // An NTFS volume that cannot be read cannot hold a Linux root.
        let o = os_found(typed(&[0x07], &[Holds::Ntfs]), Profile::LinuxOs, None, None);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        // An ext filesystem that cannot be read cannot hold a Windows system volume.
        let o = os_found(image(&[Holds::Ext(1, 0)]), Profile::WindowsOs, None, None);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "no NTFS volume");
    }

    #[test]
    fn fails_linux_filesystems_missing_root_markers() {
        let linux = LinuxInspection {
            candidates: vec![
                candidate("p1", vec![], ROOT_MARKERS.to_vec()),
                candidate("p2", vec![ROOT_MARKERS[0]], ROOT_MARKERS[1..].to_vec()),
                candidate("p3", ROOT_MARKERS.to_vec(), vec![]),
            ],
            guest: None,
        };
        let o = os_found(
            image(&[Holds::Nothing]),
            Profile::LinuxOs,
            Some(Ok(linux)),
            None,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "3 Linux filesystem(s), none a root");
        assert!(
            s.contains("p1 (ext4): found none; missing /etc (directory), /bin"),
            "{s}"
        );
        assert!(
            s.contains("p2 (ext4): found /etc (directory); missing /bin or /usr/bin (directory), /etc/fstab"),
            "{s}"
        );
        assert!(s.contains("p3 (ext4): all root markers present"), "{s}");
    }

    #[test]
    fn error_when_the_linux_search_fails() {
        let o = os_found(
            image(&[Holds::Nothing]),
            Profile::LinuxOs,
            Some(Err("boom".into())),
            None,
        );
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            o.message.contains("the guest disk cannot be read: boom"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn fails_a_windows_os_disk_holding_a_linux_root() {
        let linux = LinuxInspection {
            candidates: vec![candidate("p1", ROOT_MARKERS.to_vec(), vec![])],
            guest: Some(linux_guest("p1", ubuntu())),
        };
        let o = os_found(
            image(&[Holds::Nothing]),
            Profile::WindowsOs,
            Some(Ok(linux)),
            None,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "a Linux root on p1");
        assert_eq!(o.required, "a Windows system volume");
        assert!(
            o.message
                .contains("the profile is windows-os but the disk holds a Linux root on p1"),
            "{s}"
        );
        assert!(s.contains("p1 (ext4): all root markers present"), "{s}");
    }

    #[test]
    fn passes_a_windows_system_volume() {
        let w = WindowsInspection {
            candidates: Vec::new(),
            guest: Some(WindowsGuest::new("p2", GuestView::of(MemFs::new()))),
        };
        let o = os_found(
            image(&[Holds::Nothing]),
            Profile::WindowsOs,
            None,
            Some(Ok(w)),
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "Windows system volume on p2");
        assert!(
            o.required
                .starts_with("a Windows system volume (\\Windows\\System32"),
            "{s}"
        );
        assert!(s.contains("\\Windows\\System32 on volume p2"), "{s}");
    }

    #[test]
    fn fails_a_windows_os_disk_without_ntfs() {
        let o = os_found(image(&[Holds::Nothing]), Profile::WindowsOs, None, None);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "no NTFS volume");
        assert!(
            o.message
                .starts_with("no Windows system volume found; looked for \\Windows\\System32"),
            "{s}"
        );
        assert!(s.contains("markers looked for: \\Windows\\System32"), "{s}");
    }

    #[test]
    fn fails_a_bitlocker_volume() {
        let o = os_found(image(&[Holds::Bitlocker]), Profile::WindowsOs, None, None);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(
            o.actual,
            "1 NTFS/BitLocker volume(s), none a readable system volume"
        );
        assert!(s.contains("p1: BitLocker-encrypted"), "{s}");
    }

    #[test]
    fn error_when_an_ntfs_volume_cannot_be_read() {
        let o = os_found(
            typed(&[0x07, 0x07], &[Holds::Ntfs, Holds::Bitlocker]),
            Profile::WindowsOs,
            None,
            None,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert_eq!(o.actual, "p1 (ntfs) could not be read");
        assert!(
            o.required
                .starts_with("a Windows system volume (\\Windows\\System32"),
            "{s}"
        );
        assert!(
            o.message.starts_with("a Windows system volume was not found, and a volume that could hold it could not be read"),
            "{s}"
        );
        assert!(
            s.contains(
                "p1: partition type HPFS/NTFS/exFAT (0x07), which holds Windows system volumes"
            ),
            "{s}"
        );
    }

    #[test]
    fn fails_an_ntfs_volume_without_system32() {
        let w = WindowsInspection {
            candidates: vec![vhdlint_guest::windows::Candidate {
                volume: "p1".into(),
                bitlocker: false,
                system32: false,
                error: None,
            }],
            guest: None,
        };
        let o = os_found(image(&[Holds::Ntfs]), Profile::WindowsOs, None, Some(Ok(w)));
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(
            o.actual,
            "1 NTFS/BitLocker volume(s), none a readable system volume"
        );
        assert!(s.contains("p1: NTFS without \\Windows\\System32"), "{s}");
    }

    #[test]
    fn error_when_the_windows_search_fails() {
        let o = os_found(
            image(&[Holds::Nothing]),
            Profile::WindowsOs,
            None,
            Some(Err("boom".into())),
        );
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            o.message.contains("the guest disk cannot be read: boom"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_when_the_guest_disk_of_a_vhd_cannot_be_read() {
        let o = run_image(unreadable_vhd(), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }
}
