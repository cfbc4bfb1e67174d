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
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(crate::fix::OUTSIDE_THE_GUEST);

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{offsets, run_image, said, FooterSpec};

    fn footer(creator: &[u8; 4], size: u64) -> Vec<u8> {
        FooterSpec {
            creator_app: *creator,
            ..FooterSpec::fixed(size)
        }
        .after(&[])
    }

    #[test]
    fn passes_a_whole_number_of_mib() {
        let o = run_image(footer(b"win ", 20 * MIB), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "20971520 bytes (20 MiB)");
        assert!(s.contains("current size 20971520"), "{s}");
        assert_eq!(offsets(&o), vec![48]);
    }

    #[test]
    fn fails_one_byte_past_a_whole_mib() {
        let o = run_image(footer(b"win ", 20 * MIB + 1), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.actual.starts_with("20971521 bytes"), "{s}");
        assert!(
            o.message.contains(
                "Nearest valid sizes: 22020096 bytes (21 MiB) above, 20971520 bytes (20 MiB) below"
            ),
            "{s}"
        );
        assert!(!o.message.contains("qemu-img without force_size"), "{s}");
        assert!(s.contains("creator application \"win \""), "{s}");
        assert_eq!(offsets(&o), vec![48, 28]);
        assert!(
            o.remedy
                .as_deref()
                .unwrap_or("")
                .contains("resize -f raw tmp.raw 22020096 "),
            "{s}"
        );
    }

    #[test]
    fn fails_one_byte_short_of_a_whole_mib() {
        let o = run_image(footer(b"win ", MIB - 1), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(
            o.message
                .contains("1048576 bytes (1 MiB) above, 0 bytes (0 MiB) below"),
            "{s}"
        );
    }

    #[test]
    fn fails_a_size_of_zero() {
        let o = run_image(footer(b"win ", 0), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(
            o.message.contains("unsupported virtual size of 0 bytes"),
            "{s}"
        );
        assert!(
            o.message
                .contains("1048576 bytes (1 MiB) above, 0 bytes (0 MiB) below"),
            "{s}"
        );
    }

    #[test]
    fn names_qemu_img_without_force_size() {
        let o = run_image(footer(b"qemu", 20 * MIB + 512), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("qemu-img without force_size"), "{s}");
        assert!(s.contains("creator application \"qemu\""), "{s}");
    }

    #[test]
    fn in_the_last_mib_below_two_to_the_64_offers_only_the_size_below() {
        let o = run_image(footer(b"win ", u64::MAX), Profile::LinuxOs, run);
        let s = said(&o);
        let down = u64::MAX / MIB * MIB;
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(
            o.message
                .contains(&format!("Nearest valid sizes: {down} bytes")),
            "{s}"
        );
        assert!(!o.message.contains("above"), "{s}");
        assert!(
            o.remedy
                .as_deref()
                .unwrap_or("")
                .contains(&format!("tmp.raw {down} ")),
            "{s}"
        );
    }

    #[test]
    fn skipped_without_a_footer() {
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }
}
