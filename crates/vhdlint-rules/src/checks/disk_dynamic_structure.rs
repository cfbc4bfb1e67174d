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
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(crate::fix::OUTSIDE_THE_GUEST);

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{offsets, put, run_image, said, DynSpec, FooterSpec};

    /// A 1 MiB dynamic disk (16 blocks of 64 KiB) with block 0 allocated at sector 4.
    fn one_block() -> DynSpec {
        let mut d = DynSpec::new(1 << 20);
        d.bat[0] = 4;
        d
    }

    fn image(d: &DynSpec) -> Vec<u8> {
        d.image(&[], 2048 + 512 + (64 << 10))
    }

    #[test]
    fn passes_a_valid_header_and_bat() {
        let o = run_image(image(&one_block()), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(
            o.actual,
            "header valid; 16 BAT entries, 1 blocks allocated of 65536 bytes"
        );
        assert!(o.evidence.is_empty(), "{s}");
    }

    #[test]
    fn fails_a_bat_too_short_for_the_disk() {
        let mut d = one_block();
        d.max_entries = 8;
        let o = run_image(image(&d), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "1 defect(s)");
        assert!(
            o.message
                .contains("BAT has 8 entries but the 1048576-byte disk needs 16 blocks"),
            "{s}"
        );
        assert_eq!(offsets(&o), vec![512 + 28]);
    }

    #[test]
    fn warns_about_a_header_data_offset_that_is_not_all_ones() {
        let mut b = image(&one_block());
        put(&mut b, 512 + 8, &0u64.to_be_bytes());
        let c = vhdlint_disk::vhd::ones_complement_sum(&b[512..1536], 36);
        put(&mut b, 512 + 36, &c.to_be_bytes());
        let o = run_image(b, Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "1 problem(s)");
        assert!(o.message.contains("dynamic header data offset 0x0"), "{s}");
    }

    #[test]
    fn names_the_parent_of_a_differencing_disk() {
        let mut d = one_block();
        d.footer.disk_type = 4;
        d.parent_name = "base.vhd".into();
        let o = run_image(image(&d), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert!(s.contains("parent \"base.vhd\" (not opened)"), "{s}");
        assert_eq!(offsets(&o), vec![512 + 64]);
    }

    #[test]
    fn skipped_for_a_fixed_disk() {
        let o = run_image(
            FooterSpec::fixed(4096).after(&[0; 4096]),
            Profile::LinuxOs,
            run,
        );
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(
            o.message.contains("a fixed disk has no dynamic header"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn skipped_without_a_footer() {
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }
}
