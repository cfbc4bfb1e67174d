use super::gib;
use crate::check::{CheckMeta, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/data-size",
    title: "Data disk size",
    what: "Compares the virtual size of a data disk with the policy's maximum: 1 TiB (guide) or 1023 GiB (current).",
    why: "Data disk requests larger than 1023 GB are not approved by the Marketplace.",
    remedy: "Shrink the data disk below the maximum, or split its content across several data disks.",
    sources: &["Marketplace certification FAQ: \"Data disk requests with a size greater than 1023 gigabytes (GB) won't be approved\"", "Azure Marketplace VM image guide: data disks can be as large as 1 TB"],
    profiles: &[Profile::DataDisk],
};

pub fn run(ctx: &Context) -> Outcome {
    let Some(size) = ctx.virtual_size() else {
        return Outcome::skipped("the virtual size is unknown for this format (see disk/format)");
    };
    let max = ctx.policy.data_disk_max_gib;
    let required = format!("at most {max} GiB ({} policy)", ctx.policy.name);
    if size as f64 > max * (1u64 << 30) as f64 {
        Outcome::fail(gib(size), required)
            .message(format!(
                "the data disk is {}, above the {max} GiB maximum",
                gib(size)
            ))
            .evidence(ctx.size_evidence())
    } else {
        Outcome::pass(gib(size), required).evidence(ctx.size_evidence())
    }
}
