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
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(crate::fix::OUTSIDE_THE_GUEST);

/// The thresholds of this check: the `["disk/footer"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// Seconds a footer time stamp may lie in the future.
    pub future_slack_secs: u64,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            future_slack_secs: 1800,
        }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            future_slack_secs: 1800,
        }
    }
}

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
    if stamp > now + ctx.policy.disk_footer.future_slack_secs as i64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::testing::{offsets, run_image, run_image_with, said, DynSpec, FooterSpec};

    /// 4096 guest bytes, then the footer `f` at offset 4096.
    fn with_footer(f: FooterSpec) -> Outcome {
        run_image(f.after(&[0; 4096]), Profile::LinuxOs, run)
    }

    fn fixed() -> FooterSpec {
        FooterSpec::fixed(4096)
    }

    /// Seconds since the VHD epoch, now.
    fn vhd_now() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
            - VHD_EPOCH
    }

    #[test]
    fn passes_a_well_formed_footer() {
        let o = with_footer(fixed());
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(
            o.actual,
            "version 1.0, fixed disk, created by \"win \" 10.0"
        );
        assert_eq!(offsets(&o), vec![4096]);
    }

    #[test]
    fn passes_a_dynamic_footer_whose_data_offset_points_at_its_header() {
        let o = run_image(DynSpec::new(1 << 20).image(&[], 0), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(o.actual.contains("dynamic disk"), "{}", said(&o));
    }

    #[test]
    fn fails_a_file_smaller_than_a_footer() {
        let o = run_image(vec![7; 511], Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "no footer");
        assert!(
            o.message
                .contains("the file is 511 bytes, smaller than a 512-byte footer"),
            "{s}"
        );
        assert_eq!(offsets(&o), vec![0]);
    }

    #[test]
    fn fails_a_file_without_a_cookie() {
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("no \"conectix\" cookie"), "{s}");
        assert_eq!(offsets(&o), vec![488]);
        let o = run_image(vec![7; 512], Profile::LinuxOs, run);
        assert!(o.message.contains("no \"conectix\" cookie"), "{}", said(&o));
    }

    #[test]
    fn fails_a_raw_disk_without_a_footer() {
        let mut disk = vec![0u8; 4096];
        disk[510] = 0x55;
        disk[511] = 0xAA;
        let o = run_image(disk, Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "no footer");
        assert!(o.message.contains("no \"conectix\" cookie"), "{s}");
        assert_eq!(offsets(&o), vec![4096 - 512]);
    }

    #[test]
    fn skipped_for_another_container() {
        let mut b = b"QFI\xfb".to_vec();
        b.resize(4096, 0);
        let o = run_image(b, Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(o.message.contains("qcow2 image"), "{}", said(&o));
    }

    #[test]
    fn warns_about_a_511_byte_footer() {
        let mut b = fixed().after(&[0; 4096]);
        b.pop();
        let o = run_image(b, Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "1 problem(s)");
        assert!(o.message.contains("last 511 bytes"), "{s}");
        assert_eq!(offsets(&o), vec![4096]);
    }

    #[test]
    fn fails_when_only_the_copy_at_offset_0_remains() {
        let mut b = DynSpec::new(1 << 20).image(&[], 0);
        b.truncate(b.len() - 512);
        let o = run_image(b, Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(
            o.message.contains("only the copy at offset 0 remains"),
            "{s}"
        );
        assert_eq!(offsets(&o), vec![0]);
    }

    #[test]
    fn fails_another_format_version() {
        let o = with_footer(FooterSpec {
            version: 0x0001_0001,
            ..fixed()
        });
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("file format version 0x00010001"), "{s}");
        assert_eq!(offsets(&o), vec![4096 + 12]);
    }

    #[test]
    fn fails_features_without_the_reserved_bit() {
        for features in [0, 1] {
            let o = with_footer(FooterSpec {
                features,
                ..fixed()
            });
            let s = said(&o);
            assert_eq!(o.status, Status::Fail, "{s}");
            assert!(
                o.message.contains("the reserved bit 0x2 must be set"),
                "{s}"
            );
            assert_eq!(offsets(&o), vec![4096 + 8]);
        }
    }

    #[test]
    fn passes_the_temporary_feature_bit() {
        let o = with_footer(FooterSpec {
            features: 3,
            ..fixed()
        });
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_about_unknown_feature_bits() {
        let o = with_footer(FooterSpec {
            features: 6,
            ..fixed()
        });
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.message.contains("features 0x00000006 has bits beyond"),
            "{s}"
        );
        assert_eq!(offsets(&o), vec![4096 + 8]);
    }

    #[test]
    fn fails_an_unknown_disk_type() {
        let o = with_footer(FooterSpec {
            disk_type: 7,
            ..fixed()
        });
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("disk type 7, expected 2"), "{s}");
        assert!(offsets(&o).contains(&(4096 + 60)), "{s}");
        assert!(!o.message.contains("data offset"), "{s}");
    }

    #[test]
    fn warns_about_a_time_stamp_beyond_the_slack() {
        let slack = Policy::guide().disk_footer.future_slack_secs as i64;
        let o = with_footer(FooterSpec {
            timestamp: (vhd_now() + slack + 120) as u32,
            ..fixed()
        });
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        let ahead: i64 = o
            .message
            .split(" seconds in the future")
            .next()
            .and_then(|m| m.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no seconds in the future: {s}"));
        assert!((slack + 110..=slack + 120).contains(&ahead), "{s}");
        assert_eq!(offsets(&o), vec![4096 + 24]);
    }

    #[test]
    fn passes_a_time_stamp_within_the_slack() {
        let slack = Policy::guide().disk_footer.future_slack_secs as i64;
        for ahead in [slack - 120, slack] {
            let o = with_footer(FooterSpec {
                timestamp: (vhd_now() + ahead) as u32,
                ..fixed()
            });
            assert_eq!(o.status, Status::Pass, "{ahead}: {}", said(&o));
        }
    }

    #[test]
    fn the_slack_comes_from_the_policy() {
        let mut policy = Policy::guide();
        policy.disk_footer.future_slack_secs = 0;
        let f = FooterSpec {
            timestamp: (vhd_now() + 120) as u32,
            ..fixed()
        };
        let o = run_image_with(f.after(&[0; 4096]), Profile::LinuxOs, &policy, run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn warns_about_a_saved_state() {
        let o = with_footer(FooterSpec {
            saved_state: 1,
            ..fixed()
        });
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(o.message.contains("saved state is set"), "{s}");
        assert_eq!(offsets(&o), vec![4096 + 84]);
    }

    #[test]
    fn fails_a_saved_state_byte_other_than_0_or_1() {
        let o = with_footer(FooterSpec {
            saved_state: 2,
            ..fixed()
        });
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("saved state byte 0x02"), "{s}");
    }

    #[test]
    fn warns_about_a_data_offset_on_a_fixed_disk() {
        let o = with_footer(FooterSpec {
            data_offset: 512,
            ..fixed()
        });
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.message.contains("data offset 0x200 on a fixed disk"),
            "{s}"
        );
        assert_eq!(offsets(&o), vec![4096 + 16]);
    }

    #[test]
    fn warns_about_a_reserved_byte_that_is_not_zero() {
        let mut b = fixed().after(&[0; 4096]);
        b[4096 + 100] = 1;
        let o = run_image(b, Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.message.contains("reserved footer byte at offset 100"),
            "{s}"
        );
        assert_eq!(offsets(&o), vec![4096 + 100]);
    }

    #[test]
    fn a_failure_outweighs_a_warning_and_every_problem_is_listed() {
        let o = with_footer(FooterSpec {
            saved_state: 1,
            version: 2,
            ..fixed()
        });
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "2 problem(s)");
        assert!(
            o.message.contains("file format version") && o.message.contains("saved state is set"),
            "{s}"
        );
        let o = with_footer(FooterSpec {
            version: 2,
            saved_state: 1,
            features: 6,
            ..fixed()
        });
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "3 problem(s)");
    }
}
