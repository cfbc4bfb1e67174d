use vhdlint_disk::vhd::DiskType;

use super::gib;
use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/sparse",
    title: "Stored sparse",
    what: "For a fixed VHD, compares the bytes the host filesystem has allocated for the file (st_blocks) with the bytes that hold data: holes are skipped with SEEK_DATA/SEEK_HOLE and the allocated extents are scanned for 4 KiB blocks of zeros.",
    why: "A fixed VHD is as large as the disk; stored sparse it takes only the space of its content, which makes copying and uploading much faster. The guide asks that the VHD be sparse.",
    remedy: "Punch out the zero blocks: fallocate --dig-holes IMAGE.vhd (or copy it with cp --sparse=always IMAGE.vhd NEW.vhd)",
    sources: &["Azure Marketplace VM image guide: the VHD should be sparse", "Marketplace certification FAQ: virtual size vs. blob size"],
    profiles: Profile::ALL,
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(crate::fix::OUTSIDE_THE_GUEST);

/// The thresholds of this check: the `["disk/sparse"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// Zero-filled allocated bytes above which the check warns.
    pub reclaim_bytes: u64,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            reclaim_bytes: 1 << 30,
        }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            reclaim_bytes: 1 << 30,
        }
    }
}

pub fn run(ctx: &Context) -> Outcome {
    let f = match ctx.footer() {
        Ok(f) => f,
        Err(o) => return o,
    };
    if f.disk_type != DiskType::Fixed {
        return Outcome::skipped(format!(
            "a {} VHD stores only written blocks; this applies to fixed VHDs",
            f.disk_type.name()
        ));
    }
    let s = match ctx.sparse_scan() {
        Ok(s) => s,
        Err(Some(e)) => return Outcome::error(e.to_string()),
        Err(None) => {
            return Outcome::skipped(format!(
                "{} is not a local file: the surface scan reads every allocated byte, which is \
                 only done on a local copy",
                ctx.image.path.display()
            ))
        }
    };
    let limit = ctx.policy.disk_sparse.reclaim_bytes;
    let actual = format!(
        "{} allocated of {} ({} of zero blocks allocated)",
        gib(s.allocated_bytes),
        gib(s.file_size),
        gib(s.zero_bytes)
    );
    let required = format!("at most {} of allocated zero blocks", gib(limit));
    let ev = Evidence::note(format!(
        "{} data extents, {} bytes scanned, {} bytes allocated, {} bytes in zero-filled 4 KiB blocks",
        s.extents, s.data_bytes, s.allocated_bytes, s.zero_bytes
    ));
    if s.zero_bytes > limit {
        Outcome::warning(actual, required)
            .message(format!(
                "{} of the file's allocated blocks hold only zeros and could be reclaimed",
                gib(s.zero_bytes)
            ))
            .evidence(ev)
    } else {
        Outcome::pass(actual, required).evidence(ev)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::check::Status;
    use crate::image::Image;
    use crate::policy::Policy;
    use crate::testing::{run_image, said, DynSpec, FooterSpec};

    /// A fixed VHD in a temporary file: 4 KiB of data, 12 KiB of zeros written out, footer.
    fn local_fixed() -> (tempfile::NamedTempFile, Image) {
        let mut disk = vec![0u8; 16 << 10];
        disk[..4096].fill(1);
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(&FooterSpec::fixed(disk.len() as u64).after(&disk))
            .expect("write image");
        file.flush().expect("flush image");
        let image = Image::open(file.path()).expect("open image");
        (file, image)
    }

    fn run_with(image: &Image, policy: &Policy) -> Outcome {
        run(&Context::new(image, policy, None))
    }

    /// The zero-filled bytes the scan finds in [`local_fixed`].
    fn zero_bytes(image: &Image) -> u64 {
        let policy = Policy::guide();
        let ctx = Context::new(image, &policy, None);
        let z = ctx.sparse_scan().expect("scan").zero_bytes;
        assert!(z > 0, "the zeros written out are allocated");
        z
    }

    #[test]
    fn passes_below_the_guide_reclaim_limit() {
        let (_file, image) = local_fixed();
        let z = zero_bytes(&image);
        let o = run_with(&image, &Policy::guide());
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.required, "at most 1 GiB of allocated zero blocks");
        assert!(o.actual.contains("of zero blocks allocated"), "{s}");
        assert!(
            s.contains(&format!("{z} bytes in zero-filled 4 KiB blocks")),
            "{s}"
        );
    }

    #[test]
    fn passes_at_exactly_the_reclaim_limit() {
        let (_file, image) = local_fixed();
        let z = zero_bytes(&image);
        let mut policy = Policy::guide();
        policy.disk_sparse.reclaim_bytes = z;
        let o = run_with(&image, &policy);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_one_byte_above_the_reclaim_limit() {
        let (_file, image) = local_fixed();
        let z = zero_bytes(&image);
        let mut policy = Policy::guide();
        policy.disk_sparse.reclaim_bytes = z - 1;
        let o = run_with(&image, &policy);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.message.contains("hold only zeros and could be reclaimed"),
            "{s}"
        );
        assert!(
            s.contains(&format!("{z} bytes in zero-filled 4 KiB blocks")),
            "{s}"
        );
    }

    #[test]
    fn skipped_for_an_image_that_is_not_a_local_file() {
        let o = run_image(
            FooterSpec::fixed(4096).after(&[0; 4096]),
            Profile::LinuxOs,
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Skipped, "{s}");
        assert!(o.message.contains("memory is not a local file"), "{s}");
    }

    #[test]
    fn skipped_for_a_dynamic_disk() {
        let o = run_image(DynSpec::new(1 << 20).image(&[], 0), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Skipped, "{s}");
        assert!(
            o.message
                .contains("a dynamic VHD stores only written blocks"),
            "{s}"
        );
    }

    #[test]
    fn skipped_without_a_footer() {
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }
}
