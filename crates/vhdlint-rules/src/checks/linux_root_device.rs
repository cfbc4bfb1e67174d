use crate::check::{sentence, CheckMeta, Evidence, Outcome, Status};
use crate::{Context, Profile};
use vhdlint_disk::probe::FsKind;
use vhdlint_disk::{Layout, VolumeOrigin};
use vhdlint_guest::devices::{self, Resolution, Target};
use vhdlint_guest::facts::FSTAB;
use vhdlint_guest::fs::FsError;

pub static META: CheckMeta = CheckMeta {
    id: "linux/root-device",
    title: "Root and boot-time mounts found",
    what: "Resolves every /etc/fstab entry mounted at boot (without nofail or noauto; sources that are no device, such as proc, tmpfs, a swap file or a network share, are left out) and the root= of the default boot entry (found as linux/kernel-cmdline finds it: grub.cfg with grubenv, or the BLS entry) against what is on this disk: UUID= and LABEL= (and /dev/disk/by-uuid, /dev/disk/by-label) against the filesystem UUIDs and labels as blkid prints them, PARTUUID= and PARTLABEL= against the GPT unique GUIDs and names and the MBR disk id with the partition number (SSSSSSSS-NN), /dev/mapper/VG-LV (dashes inside names doubled) and /dev/VG/LV against the logical volumes of the LVM metadata. Identifiers are compared as written, as udev's links and systemd look them up; one that matches only when case is ignored fails in fstab (systemd waits for a link that never appears) and warns in root= (dracut lower-cases root=UUID=). Kernel names (/dev/sdX, /dev/hdX, /dev/vdX, /dev/xvdX, /dev/nvmeXnY) warn, or fail when this disk has no such partition; /dev/disk/by-id and by-path names warn. An LVM root with /etc/lvm/devices/system.devices warns.",
    why: "A root filesystem or boot-time mount that is not found stops the boot: the initramfs drops to an emergency shell (\"Gave up waiting for root device\", \"ALERT! UUID=... does not exist\") or systemd waits for the device and enters emergency mode, and the VM never provisions. This happens when an image is cloned or its filesystem recreated (mkfs, tune2fs -U) after fstab was written. Kernel names change between VM sizes (an NVMe size presents the OS disk as nvme0n1, not sda) and with attached disks; LVM's devices file lists disks by WWID, which differ on every VM.",
    remedy: "Name filesystems by UUID as blkid prints it: run blkid on the image's partitions (or lsblk -f), write UUID=<uuid> into /etc/fstab and regenerate the boot configuration (update-grub, or grub2-mkconfig -o /boot/grub2/grub.cfg; update-initramfs -u or dracut -f); mark mounts that are not needed to boot nofail. For LVM, use /dev/mapper/VG-LV and remove /etc/lvm/devices/system.devices (or set use_devicesfile=0 in lvm.conf).",
    sources: &[
        "Azure docs, Troubleshoot Linux VM boot issues due to fstab errors (use UUIDs; nofail)",
        "Azure docs, Linux VM boots to emergency mode / \"Gave up waiting for root device\" troubleshooting",
        "Azure docs, Azure VM NVMe overview: the OS disk appears as /dev/nvme0n1 on NVMe sizes",
        "Azure docs, Troubleshoot LVM devices file (system.devices) after cloning",
    ],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual("naming the root device another way changes fstab and the boot line together: the remedy says how");

/// fstab types whose source is not a device of this disk.
const NOT_A_DEVICE: &[&str] = &[
    "none",
    "tmpfs",
    "proc",
    "sysfs",
    "devpts",
    "devtmpfs",
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "overlay",
    "efivarfs",
    "securityfs",
    "cgroup",
    "cgroup2",
    "debugfs",
    "tracefs",
    "hugetlbfs",
    "mqueue",
    "fuse",
    "9p",
    "virtiofs",
    "ramfs",
    "binfmt_misc",
];

/// One name judged: where it is written, the name, and how it resolves.
struct Judged {
    status: Status,
    path: String,
    line: Option<usize>,
    /// `/etc/fstab line 3 (/boot)` or `root= of /boot/grub/grub.cfg`.
    place: String,
    name: String,
    said: String,
}

/// Whether a Missing may be wrong: volumes whose filesystem vhdlint does not recognise could
/// hold the UUID or label.
fn unrecognised(layout: &Layout) -> Vec<String> {
    layout
        .volumes
        .iter()
        .filter(|v| v.probe.kind == FsKind::Unknown && v.origin != VolumeOrigin::WholeDisk)
        .filter(|v| {
            !layout
                .partition(v)
                .is_some_and(|p| p.part_type.is_bios_boot())
        })
        .map(|v| v.id.clone())
        .collect()
}

/// How one name fares. `in_fstab`: a case-only match fails there (systemd), warns in root=.
fn judge(layout: &Layout, name: &str, in_fstab: bool) -> (Status, String, Option<Target>) {
    match devices::resolve(layout, name) {
        Resolution::Found(t) => (Status::Pass, t.describe(), Some(t)),
        Resolution::CaseOnly { target, on_disk } => (
            if in_fstab { Status::Fail } else { Status::Warning },
            format!(
                "matches {} only if case is ignored (the disk has {on_disk}); {}",
                target.describe(),
                if in_fstab {
                    "systemd looks the name up as written and udev's link carries blkid's case, so the mount is never found"
                } else {
                    "dracut lower-cases root=UUID= and root=PARTUUID=, initramfs-tools looks it up as written"
                }
            ),
            Some(target),
        ),
        Resolution::Kernel { target: Some(t), .. } => (
            Status::Warning,
            format!(
                "is a kernel name: {} while this disk is the first, but the OS disk is nvme0n1 on NVMe VM sizes and names move with attached disks",
                t.describe()
            ),
            Some(t),
        ),
        Resolution::Kernel { target: None, first_disk: true } => (
            Status::Fail,
            "is a kernel name of a partition this disk does not have".to_string(),
            None,
        ),
        Resolution::Kernel { target: None, first_disk: false } => (
            Status::Warning,
            "is a kernel name of another disk than the OS disk (on Azure the second SCSI disk is the temporary resource disk)".to_string(),
            None,
        ),
        Resolution::Missing => {
            let unknown = unrecognised(layout);
            let tagged = name.starts_with("UUID=")
                || name.starts_with("LABEL=")
                || name.starts_with("/dev/disk/by-uuid/")
                || name.starts_with("/dev/disk/by-label/");
            if tagged && !unknown.is_empty() {
                (
                    Status::Warning,
                    format!(
                        "names no filesystem vhdlint can read on this disk; {} hold a filesystem it does not recognise, which may be it",
                        unknown.join(", ")
                    ),
                    None,
                )
            } else {
                (Status::Fail, "names nothing on this disk".to_string(), None)
            }
        }
        Resolution::Unjudged(why) => (Status::Warning, format!("is not judged: {why}"), None),
    }
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let layout = match ctx.guest() {
        Ok(guest) => guest.layout(),
        Err(e) => return Outcome::error(format!("the guest disk cannot be read: {e}")),
    };
    let mut judged: Vec<Judged> = Vec::new();
    let mut notes: Vec<Evidence> = Vec::new();
    let mut root_target: Option<Target> = None;
    match g.facts.fstab(&g.view) {
        Ok(fstab) => {
            for e in &fstab.entries {
                if e.has_option("nofail") || e.has_option("noauto") {
                    continue;
                }
                if NOT_A_DEVICE.contains(&e.fstype.as_str())
                    || !devices::is_device_name(&e.spec)
                    || e.has_option("bind")
                {
                    continue;
                }
                let (status, said, target) = judge(layout, &e.spec, true);
                if e.mountpoint == "/" {
                    root_target = target;
                }
                judged.push(Judged {
                    status,
                    path: FSTAB.to_string(),
                    line: Some(e.line),
                    place: format!("{FSTAB} line {} ({})", e.line, e.mountpoint),
                    name: e.spec.clone(),
                    said,
                });
            }
            for (line, text) in &fstab.malformed {
                notes.push(Evidence::path(
                    FSTAB,
                    Some(*line),
                    format!("not an fstab entry libmount reads, left out: {text}"),
                ));
            }
        }
        Err(FsError::NotFound(_)) => {
            notes.push(Evidence::note(format!("no {FSTAB}: only root= is judged")));
        }
        Err(e) => return Outcome::error(format!("{FSTAB}: {e}")),
    }
    let k = g.facts.kernel(&g.view);
    let mut status = Status::Pass;
    let mut problems: Vec<String> = Vec::new();
    match &k.boot_entry {
        Some(b) => match b.cmdline.last("root") {
            Some(p) => {
                let name = p.value.clone().unwrap_or_default();
                let (st, said, target) = judge(layout, &name, false);
                if target.is_some() {
                    root_target = target;
                }
                judged.push(Judged {
                    status: st,
                    path: b.path.clone(),
                    line: b.line,
                    place: format!("root= of {}", b.path),
                    name,
                    said,
                });
            }
            None => {
                status = Status::Warning;
                problems.push(format!(
                    "the default boot entry in {} has no root=, so the root device it boots is not known",
                    b.path
                ));
                notes.push(Evidence::path(b.path.clone(), b.line, b.text.clone()));
            }
        },
        None => {
            status = Status::Warning;
            problems.push(format!(
                "no default boot entry was found to read root= from ({})",
                sentence(&k.notes)
            ));
        }
    }
    if root_target.as_ref().is_some_and(Target::is_lvm) {
        let devfile = "/etc/lvm/devices/system.devices";
        let mut unread = Vec::new();
        if g.view.exists_noted(devfile, &mut unread) {
            status = status.max(Status::Warning);
            problems.push(format!(
                "the root is an LVM logical volume and {devfile} exists: LVM then uses only the devices it lists, by WWID or serial, which differ on every VM"
            ));
            notes.push(Evidence::path(devfile, None, "LVM devices file"));
        }
        for n in unread {
            notes.push(Evidence::note(format!(
                "{devfile} could not be looked up: {n}"
            )));
        }
    }
    for j in &judged {
        status = status.max(j.status);
        if j.status != Status::Pass {
            problems.push(format!("{}: {} {}", j.place, j.name, j.said));
        }
    }
    let ev: Vec<Evidence> = judged
        .iter()
        .map(|j| Evidence::path(j.path.clone(), j.line, format!("{} -> {}", j.name, j.said)))
        .chain(notes)
        .collect();
    let required = "every fstab device mounted at boot and the boot entry's root= name a filesystem on this disk (UUID=, PARTUUID=, LABEL=, PARTLABEL= or an LVM name), not a kernel name";
    let resolved = judged.iter().filter(|j| j.status == Status::Pass).count();
    let actual = format!(
        "{resolved} of {} device names resolve on this disk",
        judged.len()
    );
    if status == Status::Pass {
        return Outcome::pass(actual, required).evidences(ev);
    }
    Outcome::with_status(status, actual, required)
        .message(problems.join("; "))
        .evidences(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::testing::{
        lvm_metadata, put, put_ext, put_gpt, put_pv, run_linux, run_linux_on_disk, said, GptPart,
        MemFs, PV_ID,
    };
    use vhdlint_disk::layout::{GPT_LINUX_FS, GPT_LINUX_LVM};
    use vhdlint_disk::lvm::lvm_crc;

    const ROOT_UUID: &str = "6a1f3c2e-4b5d-4e6f-8a9b-0c1d2e3f5a60";
    /// GPT unique GUID of partition 1 as `put_gpt` writes it.
    const P1_PARTUUID: &str = "00000001-0000-0000-0000-000000000000";
    const CFG: &str = "/boot/grub/grub.cfg";

    /// An 8 MiB GPT disk: p1 "root" ext4 (label rootfs, UUID ROOT_UUID), p2 an LVM PV with VG
    /// vg0 holding LVs `root` and `my-lv`.
    fn disk() -> Vec<u8> {
        let mut d = vec![0u8; 8 << 20];
        put_gpt(
            &mut d,
            &[
                GptPart {
                    type_guid: GPT_LINUX_FS,
                    first: 2048,
                    last: 4095,
                    name: "root",
                },
                GptPart {
                    type_guid: GPT_LINUX_LVM,
                    first: 4096,
                    last: 8191,
                    name: "lvm",
                },
            ],
        );
        put_ext(&mut d, 2048 * 512, "rootfs", 1, 0x40);
        let uuid: Vec<u8> = (0..16)
            .map(|i| u8::from_str_radix(&ROOT_UUID.replace('-', "")[i * 2..i * 2 + 2], 16).unwrap())
            .collect();
        put(&mut d, 2048 * 512 + 1024 + 0x68, &uuid);
        let text = lvm_metadata(PV_ID, &["root", "my-lv"]);
        put_pv(
            &mut d,
            4096 * 512,
            text.as_bytes(),
            lvm_crc(text.as_bytes()),
        );
        d
    }

    /// A guest whose fstab is `fstab` and whose default GRUB entry boots with `root`.
    fn guest(fstab: &str, root: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file("/etc/fstab", fstab);
        fs.file(
            CFG,
            format!("menuentry 'Linux' {{\n  linux /boot/vmlinuz-6.1.0 root={root} ro console=ttyS0\n}}\n"),
        );
        fs
    }

    fn check(fstab: &str, root: &str) -> Outcome {
        run_linux_on_disk(disk(), guest(fstab, root), &Policy::guide(), run)
    }

    #[test]
    fn passes_when_every_name_resolves() {
        for (fstab, root) in [
            (format!("UUID={ROOT_UUID} / ext4 defaults 0 1\n"), format!("UUID={ROOT_UUID}")),
            ("LABEL=rootfs / ext4 defaults 0 1\n".into(), format!("PARTUUID={P1_PARTUUID}")),
            ("PARTLABEL=root / ext4 defaults 0 1\n".into(), "/dev/disk/by-label/rootfs".into()),
            (format!("/dev/disk/by-uuid/{ROOT_UUID} / ext4 defaults 0 1\n"), format!("\"UUID={ROOT_UUID}\"")),
            ("/dev/mapper/vg0-root / ext4 defaults 0 1\n/dev/mapper/vg0-my--lv /srv ext4 defaults 0 2\n".into(), "/dev/vg0/root".into()),
            (format!("UUID=\"{ROOT_UUID}\" / ext4 defaults 0 1\nproc /proc proc defaults 0 0\ntmpfs /tmp tmpfs defaults 0 0\n/swapfile none swap sw 0 0\n//srv/share /mnt cifs defaults 0 0\n"), "LABEL=rootfs".into()),
        ] {
            let o = check(&fstab, &root);
            assert_eq!(o.status, Status::Pass, "{fstab} {root}: {}", said(&o));
        }
        let o = check(
            &format!("UUID={ROOT_UUID} / ext4 defaults 0 1\n"),
            "/dev/mapper/vg0-root",
        );
        assert_eq!(o.actual, "2 of 2 device names resolve on this disk");
        let s = said(&o);
        assert!(s.contains(&format!("/etc/fstab:1 UUID={ROOT_UUID} -> p1 (partition 1, ext4, UUID {ROOT_UUID}, LABEL rootfs, PARTUUID {P1_PARTUUID})")), "{s}");
        assert!(
            s.contains(&format!(
                "{CFG}:2 /dev/mapper/vg0-root -> vg0/root (LVM logical volume vg0/root"
            )),
            "{s}"
        );
    }

    #[test]
    fn mbr_partuuids_are_the_disk_id_and_the_number() {
        // As blkid writes them: 8 hex digits of the MBR disk signature, a dash, 2 of the number.
        let mut d = crate::testing::mbr_disk(4, &[(0x83, 2048, 4096)]);
        put(&mut d, 440, &0xd120_0001u32.to_le_bytes());
        put_ext(&mut d, 2048 * 512, "rootfs", 1, 0x40);
        for (root, want) in [
            ("PARTUUID=d1200001-01", Status::Pass),
            ("PARTUUID=D1200001-01", Status::Warning),
            ("PARTUUID=d1200001-02", Status::Fail),
        ] {
            let o = run_linux_on_disk(
                d.clone(),
                guest("LABEL=rootfs / ext4 defaults 0 1\n", root),
                &Policy::guide(),
                run,
            );
            assert_eq!(o.status, want, "{root}: {}", said(&o));
        }
    }

    #[test]
    fn fails_when_a_uuid_is_not_on_the_disk() {
        let o = check(
            "UUID=0b7e4ab4-0a3e-4f7a-9d0c-5d1f2f0e9c11 / ext4 defaults 0 1\n",
            &format!("UUID={ROOT_UUID}"),
        );
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(
            o.message,
            "/etc/fstab line 1 (/): UUID=0b7e4ab4-0a3e-4f7a-9d0c-5d1f2f0e9c11 names nothing on this disk"
        );
        // root= alone, too; and every kind of name.
        for root in [
            "UUID=0b7e4ab4-0a3e-4f7a-9d0c-5d1f2f0e9c11",
            "LABEL=cloudimg-rootfs",
            "PARTUUID=8b3c4d5e-01",
            "PARTLABEL=Linux",
            "/dev/mapper/vg0-home",
            "/dev/mapper/rootvg-rootlv",
            "/dev/vg1/root",
            "/dev/sda7",
        ] {
            let o = check(&format!("UUID={ROOT_UUID} / ext4 defaults 0 1\n"), root);
            assert_eq!(o.status, Status::Fail, "{root}: {}", said(&o));
            assert!(
                o.message.starts_with(&format!("root= of {CFG}: {root} ")),
                "{root}: {}",
                said(&o)
            );
        }
    }

    #[test]
    fn entries_not_needed_at_boot_are_not_judged() {
        let o = check(
            &format!("UUID={ROOT_UUID} / ext4 defaults 0 1\nUUID=0b7e4ab4-0a3e-4f7a-9d0c-5d1f2f0e9c11 /data ext4 defaults,nofail 0 2\nLABEL=gone /mnt ext4 noauto 0 0\n"),
            "LABEL=rootfs",
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        // A swap device is needed at boot, a swap file is no device.
        let o = check(
            &format!("UUID={ROOT_UUID} / ext4 defaults 0 1\nUUID=0b7e4ab4-0a3e-4f7a-9d0c-5d1f2f0e9c11 none swap sw 0 0\n"),
            "LABEL=rootfs",
        );
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(
            o.message.starts_with("/etc/fstab line 2 (none):"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn warns_for_kernel_names() {
        for name in [
            "/dev/sda1",
            "/dev/nvme0n1p1",
            "/dev/vda1",
            "/dev/xvda1",
            "/dev/hda1",
        ] {
            let o = check(&format!("{name} / ext4 defaults 0 1\n"), "LABEL=rootfs");
            assert_eq!(o.status, Status::Warning, "{name}: {}", said(&o));
            assert!(
                o.message.starts_with(&format!(
                    "/etc/fstab line 1 (/): {name} is a kernel name: p1 (partition 1,"
                )),
                "{name}: {}",
                said(&o)
            );
            let o = check(&format!("UUID={ROOT_UUID} / ext4 defaults 0 1\n"), name);
            assert_eq!(o.status, Status::Warning, "{name}: {}", said(&o));
        }
        // Another disk: warned about, it may be there.
        let o = check(
            &format!("UUID={ROOT_UUID} / ext4 defaults 0 1\n/dev/sdb1 /srv ext4 defaults 0 2\n"),
            "LABEL=rootfs",
        );
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(
            o.message.contains("another disk than the OS disk"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn case_matters_in_fstab_and_warns_in_root() {
        let upper = ROOT_UUID.to_uppercase();
        let o = check(
            &format!("UUID={upper} / ext4 defaults 0 1\n"),
            "LABEL=rootfs",
        );
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(
            o.message.contains(&format!(
                "only if case is ignored (the disk has {ROOT_UUID})"
            )),
            "{}",
            said(&o)
        );
        let o = check(
            &format!("UUID={ROOT_UUID} / ext4 defaults 0 1\n"),
            &format!("UUID={upper}"),
        );
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        // Labels too: LABEL=ROOTFS is not rootfs.
        let o = check("LABEL=ROOTFS / ext4 defaults 0 1\n", "LABEL=rootfs");
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
    }

    #[test]
    fn names_that_depend_on_the_machine_warn() {
        for name in [
            "/dev/disk/by-id/scsi-360022480abc-part1",
            "/dev/disk/by-path/acpi-VMBUS:00-scsi-0:0:0:0-part1",
            "/dev/mapper/cryptroot",
            "ID=scsi-3600",
        ] {
            let o = check(
                &format!("UUID={ROOT_UUID} / ext4 defaults 0 1\n{name} /srv ext4 defaults 0 2\n"),
                "LABEL=rootfs",
            );
            assert_eq!(o.status, Status::Warning, "{name}: {}", said(&o));
        }
    }

    #[test]
    fn warns_for_an_lvm_root_with_a_devices_file() {
        let mut fs = guest(
            "/dev/mapper/vg0-root / ext4 defaults 0 1\n",
            "/dev/mapper/vg0-root",
        );
        fs.file(
            "/etc/lvm/devices/system.devices",
            "VERSION=1.1.2\nIDTYPE=sys_wwid IDNAME=naa.600224 DEVNAME=/dev/sda2 PVID=x\n",
        );
        let o = run_linux_on_disk(disk(), fs, &Policy::guide(), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(
            o.message.contains("/etc/lvm/devices/system.devices exists"),
            "{}",
            said(&o)
        );
        // Not for a root that is no logical volume.
        let mut fs = guest(
            &format!("UUID={ROOT_UUID} / ext4 defaults 0 1\n"),
            "LABEL=rootfs",
        );
        fs.file("/etc/lvm/devices/system.devices", "VERSION=1.1.2\n");
        let o = run_linux_on_disk(disk(), fs, &Policy::guide(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_without_a_boot_entry_or_root() {
        let mut fs = MemFs::new();
        fs.file(
            "/etc/fstab",
            format!("UUID={ROOT_UUID} / ext4 defaults 0 1\n"),
        );
        let o = run_linux_on_disk(disk(), fs, &Policy::guide(), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(
            o.message
                .starts_with("no default boot entry was found to read root= from"),
            "{}",
            said(&o)
        );
        let mut fs = MemFs::new();
        fs.file(
            "/etc/fstab",
            format!("UUID={ROOT_UUID} / ext4 defaults 0 1\n"),
        )
        .file(
            CFG,
            "menuentry 'Linux' {\n  linux /boot/vmlinuz-6.1.0 ro\n}\n",
        );
        let o = run_linux_on_disk(disk(), fs, &Policy::guide(), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(o.message.contains("has no root="), "{}", said(&o));
    }

    #[test]
    fn an_unreadable_fstab_is_an_error() {
        let mut fs = guest("", "LABEL=rootfs");
        fs.broken_file("/etc/fstab", FsError::Corrupt("fstab: bad extent".into()));
        let o = run_linux_on_disk(disk(), fs, &Policy::guide(), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("bad extent"), "{}", said(&o));
    }

    #[test]
    fn without_fstab_root_is_judged_alone() {
        let mut fs = MemFs::new();
        fs.file(
            CFG,
            "menuentry 'Linux' {\n  linux /boot/vmlinuz-6.1.0 root=LABEL=rootfs\n}\n",
        );
        let o = run_linux_on_disk(disk(), fs, &Policy::guide(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(said(&o).contains("no /etc/fstab"), "{}", said(&o));
    }

    #[test]
    fn an_empty_disk_resolves_nothing() {
        // The MemFs guests of the other tests sit on a disk of zeros.
        let o = run_linux(
            guest(
                &format!("UUID={ROOT_UUID} / ext4 defaults 0 1\n"),
                "LABEL=rootfs",
            ),
            run,
        );
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "0 of 2 device names resolve on this disk");
    }

    #[test]
    fn error_without_a_linux_guest() {
        crate::testing::assert_errors_without_a_linux_guest(run);
    }
}
