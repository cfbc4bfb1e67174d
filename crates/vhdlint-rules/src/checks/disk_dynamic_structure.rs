use super::findings_outcome;
use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/dynamic-structure",
    title: "Dynamic disk structure",
    what: "For dynamic and differencing VHDs: the dynamic header (cookie `cxsparse`, checksum, version), the BAT offset (in bounds, 512-aligned), the block size (a power of two), enough BAT entries for the disk, every allocated block inside the file and overlapping neither the metadata nor another block, and the parent locators.",
    why: "A damaged dynamic structure makes blocks unreadable or aliased: the conversion to a fixed VHD (which Azure needs) would silently produce wrong data.",
    remedy: "Repair the image on the system that made it (Hyper-V: Edit-VHD / Test-VHD), then convert to a fixed VHD: qemu-img convert -f vpc -O vpc -o subformat=fixed,force_size IN OUT.vhd",
    sources: &["Virtual Hard Disk Image Format Specification v1.0 (2006): Dynamic Disk Header, Block Allocation Table", "Xen blktap vhd-util check (header and BAT rules)", "qemu block/vpc.c open-time checks"],
    profiles: Profile::ALL,
};

pub fn run(ctx: &Context) -> Outcome {
    let f = match ctx.footer() {
        Ok(f) => f,
        Err(o) => return o,
    };
    let Some(d) = &ctx.image.container.dynamic else {
        return Outcome::skipped(format!(
            "a {} disk has no dynamic header or BAT",
            f.disk_type.name()
        ));
    };
    let findings: Vec<_> = d.findings.iter().collect();
    let allocated = d.bat.allocated().count();
    let mut out = findings_outcome(
        &findings,
        format!(
            "header valid; {} BAT entries, {allocated} blocks allocated of {} bytes",
            d.bat.declared, d.header.block_size
        ),
        "a valid dynamic header and BAT",
    );
    if f.disk_type == vhdlint_disk::vhd::DiskType::Differencing {
        out = out.evidence(Evidence::offset(
            d.header.offset + 64,
            format!("parent \"{}\" (not opened)", d.header.parent_name),
        ));
    }
    out
}
