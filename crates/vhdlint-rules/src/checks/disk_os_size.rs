use super::gib;
use crate::check::{CheckMeta, Outcome, Status};
use crate::policy::Level;
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/os-size",
    title: "OS disk size",
    what: "Compares the virtual size of an OS disk with the policy's range: linux-os 30–50 GiB (guide; above 50 GiB is considered case by case) or 1–1023 GiB (current); windows-os 127–128 GiB (guide) or 30–250 GiB (current).",
    why: "The Marketplace validates OS disk sizes; an OS disk outside the range is rejected or needs an exception from support.",
    remedy: "Resize the disk to a size inside the range (qemu-img resize on the raw disk, then grow or shrink the partitions and filesystems) and convert again with force_size.",
    sources: &["Azure Marketplace VM image guide: Linux OS VHD 30–50 GB; Windows OS VHD 128 GB", "Marketplace certification FAQ, OS disk size validation: Linux 1–1023 GB, Windows 30–250 GB"],
    profiles: Profile::OS,
};

pub fn run(ctx: &Context) -> Outcome {
    let Some(size) = ctx.virtual_size() else {
        return Outcome::skipped("the virtual size is unknown for this format (see disk/format)");
    };
    let range = match ctx.profile {
        Profile::WindowsOs => &ctx.policy.windows_os_size,
        _ => &ctx.policy.linux_os_size,
    };
    let g = size as f64 / (1u64 << 30) as f64;
    let required = format!(
        "{}–{} GiB ({} policy, {})",
        range.min_gib, range.max_gib, ctx.policy.name, ctx.profile
    );
    let out = if g < range.min_gib {
        Outcome::fail(gib(size), required).message(format!(
            "the OS disk is {}, below the {} GiB minimum",
            gib(size),
            range.min_gib
        ))
    } else if g > range.max_gib {
        let status = match range.above_max {
            Level::Fail => Status::Fail,
            Level::Warning => Status::Warning,
        };
        let tail = if status == Status::Warning {
            " (considered case by case)"
        } else {
            ""
        };
        Outcome::with_status(status, gib(size), required).message(format!(
            "the OS disk is {}, above the {} GiB maximum{tail}",
            gib(size),
            range.max_gib
        ))
    } else {
        Outcome::pass(gib(size), required)
    };
    out.evidence(ctx.size_evidence())
}
