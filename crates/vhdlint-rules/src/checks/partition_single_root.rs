use vhdlint_disk::layout::{
    Layout, PartType, GPT_LINUX_XBOOTLDR, GPT_MS_RESERVED, GPT_WINDOWS_RECOVERY,
};
use vhdlint_disk::probe::FsKind;
use vhdlint_disk::Volume;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "partition/single-root",
    title: "Single root partition",
    what: "Counts the data partitions of the OS disk, leaving out the EFI system partition, the BIOS boot partition, a /boot partition (GPT type XBOOTLDR, or a partition or filesystem named \"boot\"), swap, LVM physical volumes, and Windows' reserved and recovery partitions.",
    why: "The guide asks for a single root partition: Azure grows the OS disk's last partition and the resource disk provides scratch space, so extra partitions on the OS disk only get in the way.",
    remedy: "Move the extra filesystems into the root filesystem (or to data disks) and delete their partitions.",
    sources: &["Azure Marketplace VM image guide: a single root partition for the OS disk"],
    // The rule comes from the guide's Linux preparation: Windows' own layout (System Reserved +
    // Windows, or EFI + MSR + Windows) is what Azure's Windows images use.
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(crate::fix::OUTSIDE_THE_GUEST);

fn is_boot(layout: &Layout, v: &Volume) -> bool {
    let named_boot =
        |s: &Option<String>| s.as_deref().is_some_and(|n| n.eq_ignore_ascii_case("boot"));
    named_boot(&v.probe.label)
        || layout.partition(v).is_some_and(|p| {
            p.part_type == PartType::Gpt(GPT_LINUX_XBOOTLDR) || named_boot(&p.name)
        })
}

pub fn run(ctx: &Context) -> Outcome {
    let layout = match ctx.layout_or_outcome() {
        Ok(l) => l,
        Err(o) => return o,
    };
    let mut data = Vec::new();
    let mut boot = Vec::new();
    for v in layout
        .volumes
        .iter()
        .filter(|v| layout.partition(v).is_some())
    {
        let p = layout.partition(v).expect("filtered");
        let t = p.part_type;
        let skip = t.is_efi_system()
            || t.is_bios_boot()
            || t.is_swap()
            || t.is_lvm()
            || t == PartType::Gpt(GPT_MS_RESERVED)
            || t == PartType::Gpt(GPT_WINDOWS_RECOVERY)
            || t == PartType::Mbr(0x27);
        if skip
            || v.probe.kind.is_swap()
            || matches!(v.probe.kind, FsKind::Jbd | FsKind::LvmPv | FsKind::Empty)
        {
            continue;
        }
        if is_boot(layout, v) {
            boot.push(v);
        } else {
            data.push(v);
        }
    }
    let required = "one data partition (besides EFI system, BIOS boot and /boot)";
    let describe = |v: &&Volume| {
        format!(
            "{} ({}{})",
            v.id,
            v.probe.kind.name(),
            v.probe
                .label
                .as_ref()
                .map_or(String::new(), |l| format!(", label {l}"))
        )
    };
    let ev: Vec<Evidence> = data
        .iter()
        .map(|v| {
            Evidence::offset(
                v.offset.unwrap_or(0),
                format!("data partition {}", describe(v)),
            )
        })
        .collect();
    match data.len() {
        0 => Outcome::skipped(
            "the OS disk has no data partition with a filesystem (see partition/table)",
        ),
        1 => Outcome::pass(
            format!("one data partition: {}", describe(&data[0])),
            required,
        )
        .evidences(ev),
        n => {
            let mut msg = format!(
                "{n} data partitions: {}",
                data.iter().map(describe).collect::<Vec<_>>().join(", ")
            );
            if n == 2 && boot.is_empty() {
                msg.push_str("; if one of them is /boot, it carries no type or name that says so (the image's fstab is read once Linux guest inspection is available)");
            }
            Outcome::warning(format!("{n} data partitions"), required)
                .message(msg)
                .evidences(ev)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{
        fixed_vhd, mbr_disk, offsets, put, put_ext, put_gpt, run_image, said, unreadable_vhd,
        GptPart,
    };
    use vhdlint_disk::guid::Guid;
    use vhdlint_disk::layout::{GPT_BIOS_BOOT, GPT_EFI_SYSTEM, GPT_LINUX_LVM, GPT_LINUX_SWAP};

    const LINUX: Guid = vhdlint_disk::guid!("0FC63DAF-8483-4772-8E79-3D69D8477DE4");

    /// What a test partition holds.
    #[derive(Clone, Copy)]
    enum Holds {
        /// An ext2 filesystem with this label.
        Ext(&'static str),
        /// Bytes no probe recognises.
        Garbage,
        Swap,
        LvmPv,
        Nothing,
    }

    fn fill(disk: &mut [u8], at: usize, holds: Holds) {
        match holds {
            Holds::Ext(label) => put_ext(disk, at, label, 1, 0),
            Holds::Garbage => put(disk, at, &[0x42; 64]),
            Holds::Swap => put(disk, at + 4096 - 10, b"SWAPSPACE2"),
            Holds::LvmPv => {
                put(disk, at + 512, vhdlint_disk::lvm::LABEL_ID);
                put(disk, at + 512 + 24, vhdlint_disk::lvm::LABEL_TYPE);
            }
            Holds::Nothing => {}
        }
    }

    /// A GPT disk whose partitions (type, name, content) are 1 MiB each from LBA 2048.
    fn gpt(parts: &[(Guid, &str, Holds)]) -> Vec<u8> {
        let mut disk = vec![0u8; 8 << 20];
        let entries: Vec<GptPart> = parts
            .iter()
            .enumerate()
            .map(|(i, &(type_guid, name, _))| GptPart {
                type_guid,
                first: 2048 * (i as u64 + 1),
                last: 2048 * (i as u64 + 2) - 1,
                name,
            })
            .collect();
        put_gpt(&mut disk, &entries);
        for (i, &(_, _, holds)) in parts.iter().enumerate() {
            fill(&mut disk, (i + 1) << 20, holds);
        }
        disk
    }

    /// An MBR disk whose partitions (type, content) are 1 MiB each from LBA 2048.
    fn mbr(parts: &[(u8, Holds)]) -> Vec<u8> {
        let table: Vec<(u8, u32, u32)> = parts
            .iter()
            .enumerate()
            .map(|(i, &(kind, _))| (kind, 2048 * (i as u32 + 1), 2048))
            .collect();
        let mut disk = mbr_disk(8, &table);
        for (i, &(_, holds)) in parts.iter().enumerate() {
            fill(&mut disk, (i + 1) << 20, holds);
        }
        disk
    }

    fn single_root(disk: &[u8]) -> Outcome {
        run_image(fixed_vhd(disk), Profile::LinuxOs, run)
    }

    #[test]
    fn passes_one_data_partition() {
        let o = single_root(&gpt(&[(LINUX, "", Holds::Ext("root"))]));
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "one data partition: p1 (ext2, label root)");
        assert!(s.contains("data partition p1 (ext2, label root)"), "{s}");
        assert_eq!(offsets(&o), vec![1 << 20]);
        let o = single_root(&mbr(&[(0x83, Holds::Ext(""))]));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "one data partition: p1 (ext2)");
    }

    #[test]
    fn leaves_out_the_partitions_of_every_special_gpt_type() {
        for t in [
            GPT_EFI_SYSTEM,
            GPT_BIOS_BOOT,
            GPT_LINUX_SWAP,
            GPT_LINUX_LVM,
            GPT_MS_RESERVED,
            GPT_WINDOWS_RECOVERY,
        ] {
            let o = single_root(&gpt(&[
                (LINUX, "", Holds::Ext("")),
                (t, "", Holds::Garbage),
            ]));
            assert_eq!(o.status, Status::Pass, "{t}: {}", said(&o));
            assert_eq!(o.actual, "one data partition: p1 (ext2)", "{t}");
        }
    }

    #[test]
    fn leaves_out_the_partitions_of_every_special_mbr_type() {
        for t in [0xef, 0x82, 0x8e, 0x27] {
            let o = single_root(&mbr(&[(t, Holds::Garbage), (0x83, Holds::Ext(""))]));
            assert_eq!(o.status, Status::Pass, "{t:#x}: {}", said(&o));
            assert_eq!(o.actual, "one data partition: p2 (ext2)", "{t:#x}");
        }
    }

    #[test]
    fn leaves_out_swap_physical_volumes_and_empty_partitions_by_content() {
        for holds in [Holds::Swap, Holds::LvmPv, Holds::Nothing] {
            let o = single_root(&mbr(&[(0x83, holds), (0x83, Holds::Ext(""))]));
            assert_eq!(o.status, Status::Pass, "{}", said(&o));
            assert_eq!(o.actual, "one data partition: p2 (ext2)");
        }
    }

    #[test]
    fn a_partition_of_unknown_content_is_a_data_partition() {
        let o = single_root(&mbr(&[(0x83, Holds::Garbage), (0x83, Holds::Ext(""))]));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "2 data partitions");
    }

    #[test]
    fn leaves_out_a_boot_partition_by_type_name_or_label() {
        let boots = [
            (GPT_LINUX_XBOOTLDR, "", Holds::Ext("")),
            (LINUX, "boot", Holds::Ext("")),
            (LINUX, "", Holds::Ext("BOOT")),
        ];
        for boot in boots {
            let o = single_root(&gpt(&[boot, (LINUX, "", Holds::Ext("root"))]));
            assert_eq!(o.status, Status::Pass, "{}", said(&o));
            assert_eq!(o.actual, "one data partition: p2 (ext2, label root)");
        }
    }

    #[test]
    fn warns_about_two_data_partitions_suggesting_an_unmarked_boot() {
        let o = single_root(&gpt(&[
            (LINUX, "", Holds::Ext("one")),
            (LINUX, "", Holds::Ext("two")),
        ]));
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "2 data partitions");
        assert!(
            o.message
                .starts_with("2 data partitions: p1 (ext2, label one), p2 (ext2, label two)"),
            "{s}"
        );
        assert!(o.message.contains("if one of them is /boot"), "{s}");
        assert_eq!(offsets(&o), vec![1 << 20, 2 << 20]);
    }

    #[test]
    fn warns_about_two_data_partitions_beside_a_marked_boot() {
        let o = single_root(&gpt(&[
            (GPT_LINUX_XBOOTLDR, "", Holds::Ext("")),
            (LINUX, "", Holds::Ext("one")),
            (LINUX, "", Holds::Ext("two")),
        ]));
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(!o.message.contains("/boot"), "{s}");
    }

    #[test]
    fn warns_about_three_data_partitions() {
        let o = single_root(&gpt(&[
            (LINUX, "", Holds::Ext("")),
            (LINUX, "", Holds::Ext("")),
            (LINUX, "", Holds::Ext("")),
        ]));
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "3 data partitions");
        assert!(!o.message.contains("/boot"), "{s}");
    }

    #[test]
    fn skipped_without_a_data_partition() {
        let o = single_root(&gpt(&[(GPT_EFI_SYSTEM, "", Holds::Garbage)]));
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(o.message.contains("no data partition"), "{}", said(&o));
    }

    #[test]
    fn skipped_for_a_filesystem_on_the_whole_disk() {
        let mut disk = vec![0u8; 64 << 10];
        put_ext(&mut disk, 0, "", 1, 0);
        let o = single_root(&disk);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }

    #[test]
    fn error_when_the_guest_disk_of_a_vhd_cannot_be_read() {
        let o = run_image(unreadable_vhd(), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }
}
