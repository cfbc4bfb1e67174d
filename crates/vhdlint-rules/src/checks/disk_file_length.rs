use super::bytes_mib;
use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/file-length",
    title: "File length",
    what: "Compares the length of the file with the footer's current size plus the 512-byte footer.",
    why: "Azure uploads the VHD as a page blob and requires the blob length to equal the virtual size plus the footer; a truncated copy, trailing padding or a dynamic layout is rejected.",
    remedy: "Copy the image again without truncation or padding, or convert it: qemu-img convert -f vpc -O vpc -o subformat=fixed,force_size IN OUT.vhd",
    sources: &["Marketplace certification FAQ: \"The VHD blob length is equal to the virtual size plus the VHD footer length (512)\"", "AzCopy page-blob upload: source size must equal the destination page blob size"],
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
    let len = ctx.image.container.file_size;
    let want = f.current_size.saturating_add(512);
    let required = format!("{want} bytes (virtual size + 512)");
    if len == want {
        return Outcome::pass(format!("{len} bytes"), required);
    }
    let why = if f.disk_type.is_sparse() {
        "a dynamic or differencing VHD stores only written blocks".to_string()
    } else if len < want {
        format!(
            "the file is {} short: a truncated copy",
            bytes_mib(want - len)
        )
    } else {
        format!("the file has {} more than its footer describes: padding or a footer from a smaller disk", bytes_mib(len - want))
    };
    Outcome::fail(format!("{len} bytes"), required)
        .message(format!(
            "file length {len} ≠ current size {} + 512 ({why})",
            f.current_size
        ))
        .evidence(Evidence::offset(
            f.offset + 48,
            format!("current size {}", f.current_size),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{offsets, run_image, said, DynSpec, FooterSpec};

    /// 4096 guest bytes followed by a fixed footer declaring `size`.
    fn fixed(size: u64) -> Vec<u8> {
        FooterSpec::fixed(size).after(&[0u8; 4096])
    }

    #[test]
    fn passes_when_the_length_is_the_size_plus_512() {
        let o = run_image(fixed(4096), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "4608 bytes");
        assert_eq!(o.required, "4608 bytes (virtual size + 512)");
    }

    #[test]
    fn fails_a_truncated_copy_one_byte_short() {
        let o = run_image(fixed(4097), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "4608 bytes");
        assert!(
            o.message
                .contains("file length 4608 ≠ current size 4097 + 512"),
            "{s}"
        );
        assert!(o.message.contains("the file is 1 bytes"), "{s}");
        assert!(o.message.contains("a truncated copy"), "{s}");
        assert!(s.contains("current size 4097"), "{s}");
        assert_eq!(offsets(&o), vec![4096 + 48]);
    }

    #[test]
    fn fails_padding_one_byte_too_long() {
        let o = run_image(fixed(4095), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("the file has 1 bytes"), "{s}");
        assert!(
            o.message
                .contains("padding or a footer from a smaller disk"),
            "{s}"
        );
    }

    #[test]
    fn fails_a_dynamic_disk_which_stores_only_written_blocks() {
        let image = DynSpec::new(1 << 20).image(&[], 0);
        let len = image.len();
        let o = run_image(image, Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, format!("{len} bytes"));
        assert!(o.message.contains("stores only written blocks"), "{s}");
        assert!(!o.message.contains("truncated"), "{s}");
        assert_eq!(offsets(&o), vec![len as u64 - 512 + 48]);
    }

    #[test]
    fn a_size_near_two_to_the_64_does_not_overflow() {
        let o = run_image(fixed(u64::MAX), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(
            o.required,
            format!("{} bytes (virtual size + 512)", u64::MAX)
        );
        assert!(o.message.contains("a truncated copy"), "{s}");
    }

    #[test]
    fn skipped_without_a_footer() {
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        let o = run_image(b"vhdxfile\0\0\0\0".to_vec(), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(o.message.contains("vhdx image"), "{}", said(&o));
    }
}
