use vhdlint_disk::MIB;

use super::bytes_mib;
use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/size-alignment",
    title: "Virtual size in whole MiB",
    what: "Checks that the footer's current size (the virtual size Azure uses) is a whole number of MiB (1,048,576 bytes).",
    why: "Azure rejects a VHD whose virtual size is not a whole number of MiB: \"The size must be a whole number (in MBs)\". qemu-img without force_size rounds the size to CHS geometry, which rarely is.",
    remedy: "Resize the raw disk to a whole MiB and convert with force_size: qemu-img convert -f vpc -O raw IN tmp.raw; qemu-img resize -f raw tmp.raw SIZE; qemu-img convert -f raw -O vpc -o subformat=fixed,force_size tmp.raw OUT.vhd",
    sources: &["Azure docs, create-upload-generic (Resizing VHDs): \"All VHDs on Azure must have a virtual size aligned to 1 MB\"", "Marketplace certification FAQ: \"The virtual size must be a multiple of 1 MB\"", "qemu commit fb9245c (2016): force_size for Azure"],
    profiles: Profile::ALL,
};

pub fn run(ctx: &Context) -> Outcome {
    let f = match ctx.footer() {
        Ok(f) => f,
        Err(o) => return o,
    };
    let size = f.current_size;
    let required = "a whole number of MiB";
    let ev = Evidence::offset(f.offset + 48, format!("current size {size}"));
    if size % MIB == 0 && size > 0 {
        return Outcome::pass(bytes_mib(size), required).evidence(ev);
    }
    let down = size / MIB * MIB;
    // In the last MiB below 2^64 there is no whole number of MiB above the size.
    let up = down.checked_add(MIB).unwrap_or(down);
    let above = if up > size {
        format!("{up} bytes ({} MiB) above, ", up >> 20)
    } else {
        String::new()
    };
    let mut msg = format!(
        "Azure would reject this disk: \"unsupported virtual size of {size} bytes. The size must be a whole number (in MBs)\". Nearest valid sizes: {above}{down} bytes ({} MiB) below",
        down >> 20
    );
    if f.creator_app_raw == *b"qemu" {
        msg.push_str("; the creator is qemu-img without force_size, which rounds the size up to a CHS geometry: convert again with -o subformat=fixed,force_size");
    }
    Outcome::fail(bytes_mib(size), required)
        .message(msg)
        .evidence(ev)
        .evidence(Evidence::offset(f.offset + 28, format!("creator application \"{}\"", f.creator_app)))
        .remedy(format!(
            "qemu-img convert -f vpc -O raw IN tmp.raw && qemu-img resize -f raw tmp.raw {up} && qemu-img convert -f raw -O vpc -o subformat=fixed,force_size tmp.raw OUT.vhd"
        ))
}
