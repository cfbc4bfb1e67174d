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
};

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
