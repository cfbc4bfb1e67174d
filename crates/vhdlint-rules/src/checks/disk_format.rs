use vhdlint_disk::Format;

use super::convert_command;
use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/format",
    title: "VHD format",
    what: "Recognises the container from its magic bytes: VHDX (`vhdxfile` at 0), qcow2 (`QFI\\xfb`), VMDK (`KDMV`, `COWD` or a text descriptor), a VHD footer (`conectix` in the last 512 bytes), or a raw disk.",
    why: "Azure accepts only the VHD format; VHDX, qcow2, VMDK and raw images are rejected when the disk is created.",
    remedy: "Convert the image: qemu-img convert -f FMT -O vpc -o subformat=fixed,force_size IN OUT.vhd",
    sources: &[
        "Azure docs, create-upload-generic: \"Azure doesn't support the Hyper-V virtual hard disk (VHDX) format. Azure supports only fixed VHD\"",
        "Azure Marketplace VM image guide: the OS VHD must be a fixed-format VHD",
    ],
    profiles: Profile::ALL,
};

pub fn run(ctx: &Context) -> Outcome {
    let c = &ctx.image.container;
    let required = "a VHD (conectix footer)";
    match c.format {
        Format::Vhd => Outcome::pass(
            format!(
                "VHD ({})",
                c.footer.as_ref().map_or("?".into(), |f| f.disk_type.name())
            ),
            required,
        )
        .evidence(Evidence::offset(
            c.footer.as_ref().map_or(0, |f| f.offset),
            "\"conectix\" footer cookie",
        )),
        Format::Unknown => {
            let actual = if c.file_size < 512 {
                format!(
                    "unrecognised ({} bytes, smaller than a VHD footer)",
                    c.file_size
                )
            } else {
                "unrecognised (no VHD footer, no known container magic, no partition table)".into()
            };
            Outcome::fail(actual, required)
                .message("the file is not a disk image vhdlint recognises: no VHD footer in its last 512 bytes and no VHDX, qcow2, VMDK or partition-table signature")
                .evidence(Evidence::offset(c.file_size.saturating_sub(512), "no \"conectix\" cookie here"))
                .remedy("Produce the image again as a fixed VHD, e.g. qemu-img convert -f raw -O vpc -o subformat=fixed,force_size IN OUT.vhd")
        }
        f => {
            let qemu = f.qemu_name().unwrap_or("raw");
            let magic = match f {
                Format::Raw => "partition table at the start, no VHD footer at the end",
                Format::Vhdx => "\"vhdxfile\" at offset 0",
                Format::Qcow2 => "\"QFI\\xfb\" at offset 0",
                Format::VmdkSparse => "\"KDMV\" at offset 0",
                Format::VmdkCowd => "\"COWD\" at offset 0",
                _ => "VMDK text descriptor (version= line)",
            };
            Outcome::fail(format!("{} image", f.name()), required)
                .message(format!(
                    "the file is a {} image, not a VHD; Azure accepts fixed VHDs only",
                    f.name()
                ))
                .evidence(Evidence::offset(0, magic))
                .remedy(convert_command(qemu))
        }
    }
}
