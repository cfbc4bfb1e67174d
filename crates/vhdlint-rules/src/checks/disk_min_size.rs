use super::bytes_mib;
use crate::check::{CheckMeta, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/min-size",
    title: "Minimum size",
    what: "Checks that the virtual size is at least 20 MiB.",
    why: "Azure does not create disks smaller than 20 MiB; the upload size must be at least 20 MiB plus the footer.",
    remedy: "Grow the disk to at least 20 MiB: qemu-img resize -f raw tmp.raw 20M, then convert with force_size.",
    sources: &["Marketplace certification FAQ: \"The VHD's virtual size is at least 20 MB\"", "Azure REST CreationData.uploadSizeBytes: at least 20972032 (20 MiB + 512)"],
    profiles: Profile::ALL,
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(crate::fix::OUTSIDE_THE_GUEST);

/// The thresholds of this check: the `["disk/min-size"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// Smallest virtual size, in bytes.
    pub min_bytes: u64,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            min_bytes: 20 << 20,
        }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            min_bytes: 20 << 20,
        }
    }
}

pub fn run(ctx: &Context) -> Outcome {
    let Some(size) = ctx.virtual_size() else {
        return Outcome::skipped("the virtual size is unknown for this format (see disk/format)");
    };
    let min = ctx.policy.disk_min_size.min_bytes;
    let required = format!("at least {}", bytes_mib(min));
    if size < min {
        Outcome::fail(bytes_mib(size), required)
            .message(format!("the disk is smaller than {}", bytes_mib(min)))
            .evidence(ctx.size_evidence())
    } else {
        Outcome::pass(bytes_mib(size), required).evidence(ctx.size_evidence())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::policy::Policy;
    use crate::testing::{run_image, run_image_with, said, FooterSpec};

    const MIN: u64 = 20 << 20;

    fn vhd(size: u64) -> Vec<u8> {
        FooterSpec::fixed(size).after(&[])
    }

    #[test]
    fn passes_at_exactly_20_mib() {
        let o = run_image(vhd(MIN), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "20971520 bytes (20 MiB)");
        assert_eq!(o.required, "at least 20971520 bytes (20 MiB)");
        assert!(s.contains("footer current size 20971520"), "{s}");
    }

    #[test]
    fn fails_one_byte_below_20_mib() {
        let o = run_image(vhd(MIN - 1), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.actual.starts_with("20971519 bytes"), "{s}");
        assert!(o.message.contains("smaller than 20971520 bytes"), "{s}");
        assert!(s.contains("footer current size 20971519"), "{s}");
    }

    #[test]
    fn follows_the_policy_minimum() {
        let mut policy = Policy::guide();
        policy.disk_min_size.min_bytes = 4096;
        let o = run_image_with(vhd(4096), Profile::DataDisk, &policy, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        let o = run_image_with(vhd(4095), Profile::DataDisk, &policy, run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.required, "at least 4096 bytes (0.0039 MiB)");
    }

    #[test]
    fn skipped_when_the_virtual_size_is_unknown() {
        let o = run_image(vec![7; 1000], Profile::DataDisk, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(o.message.contains("virtual size is unknown"));
    }
}
