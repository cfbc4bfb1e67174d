use vhdlint_disk::vhd::DiskType;

use super::convert_command;
use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/fixed",
    title: "Fixed disk type",
    what: "Reads the disk type field of the footer (offset 60): 2 fixed, 3 dynamic, 4 differencing.",
    why: "Azure accepts fixed VHDs only; a dynamic or differencing VHD is rejected when the disk is created.",
    remedy: "Convert to a fixed VHD: qemu-img convert -f vpc -O vpc -o subformat=fixed,force_size IN OUT.vhd (or Convert-VHD -VHDType Fixed on Hyper-V)",
    sources: &["Azure docs, create-upload-generic: \"Azure supports only fixed VHD\"", "Azure Marketplace VM image guide: fixed-format VHD"],
    profiles: Profile::ALL,
};

pub fn run(ctx: &Context) -> Outcome {
    let f = match ctx.footer() {
        Ok(f) => f,
        Err(o) => return o,
    };
    let ev = Evidence::offset(f.offset + 60, format!("disk type {}", f.disk_type.name()));
    match f.disk_type {
        DiskType::Fixed => Outcome::pass("fixed", "fixed").evidence(ev),
        t => {
            let mut msg = format!("the disk is {}: Azure accepts fixed VHDs only", t.name());
            if t == DiskType::Differencing {
                let parent = ctx
                    .image
                    .container
                    .dynamic
                    .as_ref()
                    .map(|d| d.header.parent_name.clone())
                    .unwrap_or_default();
                msg.push_str(&format!(
                    "; it depends on the parent \"{parent}\", which is not opened"
                ));
            }
            Outcome::fail(t.name(), "fixed")
                .message(msg)
                .evidence(ev)
                .remedy(convert_command("vpc"))
        }
    }
}
