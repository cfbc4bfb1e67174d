use vhdlint_disk::vhd::Geometry;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/geometry",
    title: "CHS geometry",
    what: "Compares the footer's CHS geometry with the one the VHD specification's algorithm computes from the current size (or the maximum 65535/16/255), and checks that tools which size the disk from the geometry (creator vpc, vs, qemu) and those which use the current size (Hyper-V, Azure) see the same size.",
    why: "When the geometry and the current size disagree, qemu and Virtual PC see a different disk size than Hyper-V and Azure, so partitions near the end of the disk may be cut off on one of them.",
    remedy: "Convert with force_size so that the geometry is the maximum and the current size is authoritative: qemu-img convert -f vpc -O vpc -o subformat=fixed,force_size IN OUT.vhd",
    sources: &["Virtual Hard Disk Image Format Specification v1.0 (2006), appendix: CHS calculation", "qemu block/vpc.c: size from CHS unless the creator is win/qem2/d2v/CTXS/tap"],
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
    let expected = Geometry::for_sectors(f.current_size / 512);
    let required = format!(
        "{expected} (from the current size) or {} (maximum)",
        Geometry::MAX
    );
    let ev = Evidence::offset(f.offset + 56, format!("geometry {}", f.geometry));
    if f.geometry != expected && f.geometry != Geometry::MAX {
        return Outcome::warning(f.geometry.to_string(), required)
            .message(format!("the stored geometry {} is not the {expected} the specification computes for {} bytes", f.geometry, f.current_size))
            .evidence(ev);
    }
    // qemu_size() is the geometry's size for the CHS family (unless the geometry is the maximum).
    let chs_size = f.qemu_size();
    if chs_size != f.current_size {
        return Outcome::warning(format!("{} (= {chs_size} bytes)", f.geometry), "one size for every tool")
            .message(format!(
                "creator \"{}\" makes qemu and Virtual PC size the disk from its geometry ({chs_size} bytes) while Hyper-V and Azure use the current size ({} bytes)",
                f.creator_app, f.current_size
            ))
            .evidence(ev)
            .evidence(Evidence::offset(f.offset + 28, format!("creator application \"{}\"", f.creator_app)));
    }
    Outcome::pass(f.geometry.to_string(), required).evidence(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{offsets, run_image, said, FooterSpec};

    /// 20 MiB: the specification's geometry 602/4/17 addresses 40936 of its 40960 sectors.
    const SIZE: u64 = 20 << 20;

    fn footer(creator: &[u8; 4], geometry: Geometry, size: u64) -> Vec<u8> {
        FooterSpec {
            creator_app: *creator,
            geometry,
            ..FooterSpec::fixed(size)
        }
        .after(&[])
    }

    #[test]
    fn passes_the_computed_geometry_of_a_current_size_creator() {
        let g = Geometry::for_sectors(SIZE / 512);
        assert_eq!(g.to_string(), "602/4/17");
        let o = run_image(footer(b"win ", g, SIZE), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "602/4/17");
        assert_eq!(
            o.required,
            "602/4/17 (from the current size) or 65535/16/255 (maximum)"
        );
        assert!(s.contains("geometry 602/4/17"), "{s}");
        assert_eq!(offsets(&o), vec![56]);
    }

    #[test]
    fn passes_the_maximum_geometry_for_any_creator() {
        let o = run_image(footer(b"vpc ", Geometry::MAX, SIZE), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "65535/16/255");
    }

    #[test]
    fn warns_when_the_geometry_is_neither_computed_nor_maximum() {
        let g = Geometry {
            cylinders: 600,
            heads: 4,
            sectors: 17,
        };
        let o = run_image(footer(b"win ", g, SIZE), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "600/4/17");
        assert!(
            o.message.contains(
                "600/4/17 is not the 602/4/17 the specification computes for 20971520 bytes"
            ),
            "{s}"
        );
        assert_eq!(offsets(&o), vec![56]);
    }

    #[test]
    fn warns_when_a_chs_creator_sees_another_size() {
        let g = Geometry::for_sectors(SIZE / 512);
        let o = run_image(footer(b"vpc ", g, SIZE), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "602/4/17 (= 20959232 bytes)");
        assert_eq!(o.required, "one size for every tool");
        assert!(o.message.contains("creator \"vpc \""), "{s}");
        assert!(o.message.contains("(20959232 bytes)"), "{s}");
        assert!(o.message.contains("current size (20971520 bytes)"), "{s}");
        assert!(s.contains("creator application \"vpc \""), "{s}");
        assert_eq!(offsets(&o), vec![56, 28]);
    }

    #[test]
    fn passes_a_chs_creator_whose_geometry_is_the_whole_size() {
        let size = 40936 * 512;
        let g = Geometry::for_sectors(size / 512);
        assert_eq!(g.total_sectors(), 40936);
        let o = run_image(footer(b"vpc ", g, size), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "602/4/17");
    }

    #[test]
    fn skipped_without_a_footer() {
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }
}
