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
};

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
