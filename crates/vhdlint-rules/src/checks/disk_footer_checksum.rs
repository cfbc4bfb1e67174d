use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/footer-checksum",
    title: "VHD footer checksum",
    what: "Recomputes the footer checksum (the one's complement of the byte sum of the footer, checksum field excluded) and compares it with the stored one; for dynamic and differencing disks also compares the footer copy at offset 0 with the footer at the end.",
    why: "A footer whose checksum does not verify is treated as corrupt: Hyper-V falls back to the copy at offset 0 (which a fixed disk does not have), and Azure rejects the image.",
    remedy: "Rewrite the footer by converting the image again: qemu-img convert -f vpc -O vpc -o subformat=fixed,force_size IN OUT.vhd",
    sources: &["Virtual Hard Disk Image Format Specification v1.0 (2006), Hard Disk Footer Format: Checksum", "Xen blktap vhd-util check: \"primary and backup footers do not match\""],
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
    let c = &ctx.image.container;
    let required = "stored checksum = computed checksum";
    let at = Evidence::offset(
        f.offset + 64,
        format!(
            "stored {:#010x}, computed {:#010x}",
            f.checksum, f.computed_checksum
        ),
    );
    if !f.checksum_ok() {
        let copy_ok = c
            .start_copy
            .as_ref()
            .filter(|s| s.offset != f.offset)
            .is_some_and(|s| s.checksum_ok());
        let mut msg = format!("footer checksum {:#010x} does not match the computed {:#010x}: the footer was altered after it was written", f.checksum, f.computed_checksum);
        if copy_ok {
            msg.push_str("; the copy at offset 0 verifies");
        }
        return Outcome::fail(
            format!("{:#010x}", f.checksum),
            format!("{:#010x} (computed)", f.computed_checksum),
        )
        .message(msg)
        .evidence(at);
    }
    if f.disk_type.is_sparse() {
        match &c.start_copy {
            None => {
                return Outcome::warning("no footer copy at offset 0", "the footer copied at offset 0")
                    .message("a dynamic or differencing VHD keeps a copy of its footer at offset 0; it is missing")
                    .evidence(Evidence::offset(0, "expected \"conectix\" here"))
                    .evidence(at)
            }
            Some(s) if s.offset != f.offset && s.raw != f.raw => {
                let first = s.raw.iter().zip(&f.raw).position(|(a, b)| a != b).unwrap_or(0);
                return Outcome::warning("footer copy at offset 0 differs", "identical footers at offset 0 and at the end")
                    .message(format!("the footer copy at offset 0 differs from the footer at the end (first at footer byte {first})"))
                    .evidence(Evidence::offset(first as u64, "copy at offset 0"))
                    .evidence(Evidence::offset(f.offset + first as u64, "footer at the end"));
            }
            _ => {}
        }
    }
    Outcome::pass(format!("{:#010x} verifies", f.checksum), required).evidence(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{offsets, run_image, said, DynSpec, FooterSpec};
    use vhdlint_disk::vhd::Footer;

    /// A dynamic image and the offset of its end footer.
    fn dynamic() -> (Vec<u8>, usize) {
        let b = DynSpec::new(1 << 20).image(&[], 0);
        let end = b.len() - 512;
        (b, end)
    }

    #[test]
    fn passes_a_fixed_footer_that_verifies() {
        let b = FooterSpec::fixed(4096).after(&[0; 4096]);
        let f = Footer::parse(&b[4096..], 4096);
        let o = run_image(b, Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, format!("{:#010x} verifies", f.checksum));
        assert_eq!(offsets(&o), vec![4096 + 64]);
    }

    #[test]
    fn fails_a_footer_altered_after_it_was_written() {
        let mut b = FooterSpec::fixed(4096).after(&[0; 4096]);
        b[4096 + 100] = 1;
        let f = Footer::parse(&b[4096..], 4096);
        let o = run_image(b, Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, format!("{:#010x}", f.checksum));
        assert_eq!(
            o.required,
            format!("{:#010x} (computed)", f.computed_checksum)
        );
        assert!(o.message.contains("the footer was altered"), "{s}");
        assert!(!o.message.contains("the copy at offset 0 verifies"), "{s}");
        assert!(s.contains(&format!(
            "stored {:#010x}, computed {:#010x}",
            f.checksum, f.computed_checksum
        )));
        assert_eq!(offsets(&o), vec![4096 + 64]);
    }

    #[test]
    fn fails_and_says_when_the_copy_at_offset_0_verifies() {
        let (mut b, end) = dynamic();
        b[end + 100] = 1;
        let o = run_image(b, Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("; the copy at offset 0 verifies"), "{s}");
    }

    #[test]
    fn fails_without_praising_a_copy_that_does_not_verify_either() {
        let (mut b, end) = dynamic();
        b[end + 100] = 1;
        b[100] = 1;
        let o = run_image(b, Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(!o.message.contains("verifies"), "{s}");
    }

    #[test]
    fn passes_a_dynamic_disk_with_an_identical_copy() {
        let (b, end) = dynamic();
        let o = run_image(b, Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(offsets(&o), vec![end as u64 + 64]);
    }

    #[test]
    fn warns_when_a_dynamic_disk_has_no_copy_at_offset_0() {
        let (mut b, end) = dynamic();
        b[..8].fill(0);
        let o = run_image(b, Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "no footer copy at offset 0");
        assert_eq!(offsets(&o), vec![0, end as u64 + 64]);
    }

    #[test]
    fn warns_when_the_copy_at_offset_0_differs() {
        let (mut b, end) = dynamic();
        b[100] = 1;
        let o = run_image(b, Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "footer copy at offset 0 differs");
        assert!(o.message.contains("first at footer byte 100"), "{s}");
        assert_eq!(offsets(&o), vec![100, end as u64 + 100]);
    }

    #[test]
    fn passes_when_the_footer_is_the_copy_at_offset_0_itself() {
        // Truncated: the end footer is gone, so the copy at 0 describes the disk.
        let (mut b, _) = dynamic();
        b.truncate(b.len() - 512);
        let o = run_image(b, Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(offsets(&o), vec![64]);
    }

    #[test]
    fn skipped_without_a_footer() {
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }
}
