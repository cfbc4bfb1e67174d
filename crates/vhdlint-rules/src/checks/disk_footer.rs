use std::time::{SystemTime, UNIX_EPOCH};

use vhdlint_disk::container::FooterPlace;
use vhdlint_disk::vhd::{DiskType, VHD_EPOCH};
use vhdlint_disk::Format;

use crate::check::{CheckMeta, Evidence, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/footer",
    title: "VHD footer",
    what: "Reads the 512-byte hard disk footer at the end of the file and checks its fields: cookie, features (bit 0x2 set), file format version 0x00010000, disk type 2/3/4, time stamp, saved state, data offset of a fixed disk, reserved bytes.",
    why: "Azure reads the footer to learn the disk's type and size; an image whose footer is missing or malformed is rejected as not a valid VHD.",
    remedy: "Rewrite the footer by converting the image again: qemu-img convert -f vpc -O vpc -o subformat=fixed,force_size IN OUT.vhd",
    sources: &[
        "Virtual Hard Disk Image Format Specification v1.0 (2006), Hard Disk Footer Format",
        "Marketplace certification FAQ: \"If the specified cookie value in the VHD footer is incorrect, the VHD will be considered invalid\"",
        "Xen blktap vhd-util check (footer rules)",
    ],
    profiles: Profile::ALL,
};

pub fn run(ctx: &Context) -> Outcome {
    let c = &ctx.image.container;
    let required = "a well-formed footer in the last 512 bytes";
    let f =
        match &c.footer {
            Some(f) => f,
            None if c.format == Format::Unknown || c.format == Format::Raw => {
                let why = if c.file_size < 512 {
                    format!(
                        "the file is {} bytes, smaller than a 512-byte footer",
                        c.file_size
                    )
                } else {
                    "no \"conectix\" cookie in the last 512 (or 511) bytes, nor at offset 0".into()
                };
                return Outcome::fail("no footer", required).message(why).evidence(
                    Evidence::offset(c.file_size.saturating_sub(512), "expected footer position"),
                );
            }
            None => {
                return Outcome::skipped(format!(
                    "the file is a {} image, not a VHD (see disk/format)",
                    c.format.name()
                ))
            }
        };
    let mut status = Status::Pass;
    let mut problems = Vec::new();
    let mut evidence = Vec::new();
    let mut flag = |s: Status, at: u64, msg: String| {
        status = status.max(s);
        evidence.push(Evidence::offset(f.offset + at, msg.clone()));
        problems.push(msg);
    };
    match c.footer_place {
        Some(FooterPlace::End511) => flag(Status::Warning, 0, "the footer occupies the last 511 bytes (made before Virtual PC 2004); Azure expects 512".into()),
        Some(FooterPlace::StartCopyOnly) => flag(Status::Fail, 0, "no footer at the end of the file; only the copy at offset 0 remains (truncated image)".into()),
        _ => {}
    }
    if f.format_version != 0x0001_0000 {
        flag(
            Status::Fail,
            12,
            format!(
                "file format version {:#010x}, expected 0x00010000",
                f.format_version
            ),
        );
    }
    if f.features & 0x2 == 0 {
        flag(
            Status::Fail,
            8,
            format!(
                "features {:#010x}: the reserved bit 0x2 must be set",
                f.features
            ),
        );
    } else if f.features & !0x3 != 0 {
        flag(
            Status::Warning,
            8,
            format!(
                "features {:#010x} has bits beyond temporary (0x1) and reserved (0x2)",
                f.features
            ),
        );
    }
    if let DiskType::Other(t) = f.disk_type {
        flag(
            Status::Fail,
            60,
            format!("disk type {t}, expected 2 (fixed), 3 (dynamic) or 4 (differencing)"),
        );
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let stamp = VHD_EPOCH + i64::from(f.timestamp);
    if stamp > now + ctx.policy.future_timestamp_slack_secs as i64 {
        flag(
            Status::Warning,
            24,
            format!(
                "time stamp {} is {} seconds in the future",
                f.timestamp,
                stamp - now
            ),
        );
    }
    match f.saved_state {
        0 => {}
        1 => flag(
            Status::Warning,
            84,
            "saved state is set: the disk belongs to a VM in saved state".into(),
        ),
        s => flag(
            Status::Fail,
            84,
            format!("saved state byte {s:#04x}, expected 0 or 1"),
        ),
    }
    if f.disk_type == DiskType::Fixed && f.data_offset != u64::MAX {
        flag(
            Status::Warning,
            16,
            format!(
                "data offset {:#x} on a fixed disk, expected 0xFFFFFFFFFFFFFFFF",
                f.data_offset
            ),
        );
    }
    if let Some(at) = f.reserved_nonzero_at {
        flag(
            Status::Warning,
            at as u64,
            format!("reserved footer byte at offset {at} is not zero"),
        );
    }
    if status == Status::Pass {
        return Outcome::pass(
            format!(
                "version 1.0, {} disk, created by \"{}\" {}",
                f.disk_type.name(),
                f.creator_app,
                f.creator_version_text()
            ),
            required,
        )
        .evidence(Evidence::offset(f.offset, "footer"));
    }
    Outcome::with_status(status, format!("{} problem(s)", problems.len()), required)
        .message(problems.join("; "))
        .evidences(evidence)
}
