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
};

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
    let limit = ctx.policy.sparse_reclaim_bytes;
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
