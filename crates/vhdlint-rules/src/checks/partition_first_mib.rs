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
};

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
    let status = match ctx.policy.first_mib {
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
