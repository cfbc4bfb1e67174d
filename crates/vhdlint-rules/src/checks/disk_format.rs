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
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(crate::fix::OUTSIDE_THE_GUEST);

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{mbr_entry, offsets, run_image, said, DynSpec, FooterSpec};

    #[test]
    fn passes_a_vhd_naming_its_disk_type() {
        let o = run_image(
            FooterSpec::fixed(4096).after(&[0; 4096]),
            Profile::LinuxOs,
            run,
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "VHD (fixed)");
        assert_eq!(offsets(&o), vec![4096]);
        let image = DynSpec::new(1 << 20).image(&[], 0);
        let footer_at = image.len() as u64 - 512;
        let o = run_image(image, Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "VHD (dynamic)");
        assert_eq!(offsets(&o), vec![footer_at]);
    }

    #[test]
    fn fails_an_unrecognised_file_smaller_than_a_footer() {
        let o = run_image(vec![7; 511], Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(
            o.actual,
            "unrecognised (511 bytes, smaller than a VHD footer)"
        );
        assert_eq!(offsets(&o), vec![0]);
        assert!(o.remedy.as_deref().unwrap_or("").contains("-f raw"), "{s}");
    }

    #[test]
    fn fails_an_unrecognised_file_of_512_bytes_or_more() {
        let o = run_image(vec![7; 512], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(
            o.actual.starts_with("unrecognised (no VHD footer"),
            "{}",
            said(&o)
        );
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(offsets(&o), vec![488]);
    }

    #[test]
    fn fails_a_raw_disk() {
        let mut disk = vec![0u8; 4096];
        mbr_entry(&mut disk, 0, 0, 0x83, 1, 7);
        let o = run_image(disk, Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "raw image");
        assert!(o.message.contains("a raw image, not a VHD"), "{s}");
        assert!(s.contains("partition table at the start"), "{s}");
        assert_eq!(o.remedy.as_deref(), Some(convert_command("raw").as_str()));
    }

    #[test]
    fn fails_each_other_container_naming_its_magic() {
        let cases: [(&[u8], &str, &str, &str); 5] = [
            (
                b"vhdxfile",
                "vhdx image",
                "\"vhdxfile\" at offset 0",
                "vhdx",
            ),
            (
                b"QFI\xfb\0\0\0\x03",
                "qcow2 image",
                "\"QFI\\xfb\" at offset 0",
                "qcow2",
            ),
            (
                b"KDMV....",
                "vmdk (sparse extent) image",
                "\"KDMV\" at offset 0",
                "vmdk",
            ),
            (
                b"COWD....",
                "vmdk (ESX sparse extent) image",
                "\"COWD\" at offset 0",
                "vmdk",
            ),
            (
                b"# Disk DescriptorFile\nversion=1\n",
                "vmdk (text descriptor) image",
                "VMDK text descriptor (version= line)",
                "vmdk",
            ),
        ];
        for (magic, actual, evidence, qemu) in cases {
            let mut b = magic.to_vec();
            b.resize(4096, 0);
            let o = run_image(b, Profile::LinuxOs, run);
            let s = said(&o);
            assert_eq!(o.status, Status::Fail, "{s}");
            assert_eq!(o.actual, actual, "{s}");
            assert!(s.contains(evidence), "{s}");
            assert_eq!(offsets(&o), vec![0], "{s}");
            assert_eq!(
                o.remedy.as_deref(),
                Some(convert_command(qemu).as_str()),
                "{s}"
            );
        }
    }
}
