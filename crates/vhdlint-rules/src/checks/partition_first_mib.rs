use crate::check::{CheckMeta, Evidence, Outcome, Status};
use crate::policy::Level;
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "partition/first-mib",
    title: "First MiB free",
    what: "Checks that no partition of an OS disk starts before LBA 2048, so that the first MiB holds nothing but the partition table.",
    why: "Azure writes billing and other metadata in the first MiB of OS disks; the Marketplace FAQ asks that the first 2,048 sectors be empty, \"otherwise, your publishing will fail\".",
    remedy: "Recreate the partitions with the first one starting at sector 2048 (sfdisk and sgdisk align to 1 MiB by default) and copy the filesystems over.",
    sources: &["Marketplace certification FAQ: \"ensure the first 2,048 sectors (1 MB) of the OS disk are empty\"", "Marketplace FAQ: VM images must have 1 MB free space"],
    profiles: Profile::OS,
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(crate::fix::OUTSIDE_THE_GUEST);

/// The thresholds of this check: the `["partition/first-mib"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// What a partition starting inside the first MiB of an OS disk gets.
    pub level: Level,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            level: Level::Warning,
        }
    }

    pub fn current() -> Thresholds {
        Thresholds { level: Level::Fail }
    }
}

pub fn run(ctx: &Context) -> Outcome {
    let layout = match ctx.layout_or_outcome() {
        Ok(l) => l,
        Err(o) => return o,
    };
    let parts = &layout.table.partitions;
    if parts.is_empty() {
        return Outcome::skipped("the disk has no partitions (see partition/table)");
    }
    let required = "every partition starts at LBA 2048 or later";
    let early: Vec<_> = parts
        .iter()
        .filter(|p| p.start_lba < 2048 && p.sectors > 0)
        .collect();
    let first = parts.iter().map(|p| p.start_lba).min().unwrap_or(0);
    if early.is_empty() {
        return Outcome::pass(format!("first partition at LBA {first}"), required);
    }
    let status = match ctx.policy.partition_first_mib.level {
        Level::Fail => Status::Fail,
        Level::Warning => Status::Warning,
    };
    let names: Vec<String> = early
        .iter()
        .map(|p| format!("partition {} at LBA {}", p.number, p.start_lba))
        .collect();
    Outcome::with_status(status, format!("first partition at LBA {first}"), required)
        .message(format!(
            "{} inside the first MiB of the OS disk",
            names.join(", ")
        ))
        .evidences(early.iter().map(|p| {
            Evidence::offset(
                p.entry_offset,
                format!("partition {} starts at LBA {}", p.number, p.start_lba),
            )
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::testing::{
        fixed_vhd, mbr_disk, offsets, run_image, run_image_with, said, unreadable_vhd,
    };

    fn first_mib(parts: &[(u8, u32, u32)], policy: &Policy) -> Outcome {
        run_image_with(
            fixed_vhd(&mbr_disk(4, parts)),
            Profile::LinuxOs,
            policy,
            run,
        )
    }

    #[test]
    fn passes_a_first_partition_at_lba_2048() {
        let o = first_mib(&[(0x83, 2048, 2048)], &Policy::current());
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "first partition at LBA 2048");
    }

    #[test]
    fn names_the_lowest_start_not_the_first_entry() {
        let o = first_mib(&[(0x83, 4096, 2048), (0x83, 2048, 2048)], &Policy::guide());
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "first partition at LBA 2048");
    }

    #[test]
    fn guide_warns_about_a_partition_at_lba_2047() {
        let o = first_mib(&[(0x83, 2047, 2048)], &Policy::guide());
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "first partition at LBA 2047");
        assert!(
            o.message
                .contains("partition 1 at LBA 2047 inside the first MiB"),
            "{s}"
        );
        assert!(s.contains("partition 1 starts at LBA 2047"), "{s}");
        assert_eq!(offsets(&o), vec![446]);
    }

    #[test]
    fn current_fails_a_partition_at_lba_2047() {
        let o = first_mib(&[(0x83, 2047, 2048)], &Policy::current());
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
    }

    #[test]
    fn lists_every_early_partition() {
        let o = first_mib(
            &[(0x83, 63, 900), (0x83, 1000, 1000), (0x83, 2048, 100)],
            &Policy::guide(),
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "first partition at LBA 63");
        assert!(
            o.message
                .contains("partition 1 at LBA 63, partition 2 at LBA 1000 inside"),
            "{s}"
        );
        assert_eq!(offsets(&o), vec![446, 462]);
    }

    #[test]
    fn an_empty_entry_inside_the_first_mib_is_not_a_partition_there() {
        let o = first_mib(&[(0x83, 63, 0), (0x83, 2048, 2048)], &Policy::current());
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn skipped_without_partitions() {
        let o = run_image(fixed_vhd(&[0; 64 << 10]), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(o.message.contains("no partitions"), "{}", said(&o));
    }

    #[test]
    fn error_when_the_guest_disk_of_a_vhd_cannot_be_read() {
        let o = run_image(unreadable_vhd(), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }
}
