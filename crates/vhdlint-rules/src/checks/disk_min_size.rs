use super::bytes_mib;
use crate::check::{CheckMeta, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/min-size",
    title: "Minimum size",
    what: "Checks that the virtual size is at least 20 MiB.",
    why: "Azure does not create disks smaller than 20 MiB; the upload size must be at least 20 MiB plus the footer.",
    remedy: "Grow the disk to at least 20 MiB: qemu-img resize -f raw tmp.raw 20M, then convert with force_size.",
    sources: &["Marketplace certification FAQ: \"The VHD's virtual size is at least 20 MB\"", "Azure REST CreationData.uploadSizeBytes: at least 20972032 (20 MiB + 512)"],
    profiles: Profile::ALL,
};

pub fn run(ctx: &Context) -> Outcome {
    let Some(size) = ctx.virtual_size() else {
        return Outcome::skipped("the virtual size is unknown for this format (see disk/format)");
    };
    let min = ctx.policy.min_size_bytes;
    let required = format!("at least {}", bytes_mib(min));
    if size < min {
        Outcome::fail(bytes_mib(size), required)
            .message(format!("the disk is smaller than {}", bytes_mib(min)))
            .evidence(ctx.size_evidence())
    } else {
        Outcome::pass(bytes_mib(size), required).evidence(ctx.size_evidence())
    }
}
