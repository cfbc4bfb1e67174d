use super::gib;
use crate::check::{CheckMeta, Outcome, Status};
use crate::policy::{Level, SizeRange};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/os-size",
    title: "OS disk size",
    what: "Compares the virtual size of an OS disk with the policy's range: linux-os 30–50 GiB (guide; above 50 GiB is considered case by case) or 1–1023 GiB (current); windows-os 127–128 GiB (guide) or 30–250 GiB (current).",
    why: "The Marketplace validates OS disk sizes; an OS disk outside the range is rejected or needs an exception from support.",
    remedy: "Resize the disk to a size inside the range (qemu-img resize on the raw disk, then grow or shrink the partitions and filesystems) and convert again with force_size.",
    sources: &["Azure Marketplace VM image guide: Linux OS VHD 30–50 GB; Windows OS VHD 128 GB", "Marketplace certification FAQ, OS disk size validation: Linux 1–1023 GB, Windows 30–250 GB"],
    profiles: Profile::OS,
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(crate::fix::OUTSIDE_THE_GUEST);

/// The thresholds of this check: the `["disk/os-size"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// The range of a Linux OS disk.
    pub linux: SizeRange,
    /// The range of a Windows OS disk.
    pub windows: SizeRange,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            linux: SizeRange {
                min_gib: 30.0,
                max_gib: 50.0,
                above_max: Level::Warning,
            },
            windows: SizeRange {
                min_gib: 127.0,
                max_gib: 128.0,
                above_max: Level::Fail,
            },
        }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            linux: SizeRange {
                min_gib: 1.0,
                max_gib: 1023.0,
                above_max: Level::Fail,
            },
            windows: SizeRange {
                min_gib: 30.0,
                max_gib: 250.0,
                above_max: Level::Fail,
            },
        }
    }
}

impl Thresholds {
    /// A range whose minimum lies above its maximum admits no disk.
    pub fn validate(&self) -> Result<(), String> {
        for (key, r) in [("linux", &self.linux), ("windows", &self.windows)] {
            if !(r.min_gib >= 0.0 && r.min_gib <= r.max_gib) {
                return Err(format!(
                    "[\"disk/os-size\"] {key}: min-gib = {} with max-gib = {}: the minimum must be at least 0 and at most the maximum",
                    r.min_gib, r.max_gib
                ));
            }
        }
        Ok(())
    }
}

pub fn run(ctx: &Context) -> Outcome {
    let Some(size) = ctx.virtual_size() else {
        return Outcome::skipped("the virtual size is unknown for this format (see disk/format)");
    };
    let range = match ctx.profile {
        Profile::WindowsOs => &ctx.policy.disk_os_size.windows,
        _ => &ctx.policy.disk_os_size.linux,
    };
    let g = size as f64 / (1u64 << 30) as f64;
    let required = format!(
        "{}–{} GiB ({} policy, {})",
        range.min_gib, range.max_gib, ctx.policy.name, ctx.profile
    );
    let out = if g < range.min_gib {
        Outcome::fail(gib(size), required).message(format!(
            "the OS disk is {}, below the {} GiB minimum",
            gib(size),
            range.min_gib
        ))
    } else if g > range.max_gib {
        let status = match range.above_max {
            Level::Fail => Status::Fail,
            Level::Warning => Status::Warning,
        };
        let tail = if status == Status::Warning {
            " (considered case by case)"
        } else {
            ""
        };
        Outcome::with_status(status, gib(size), required).message(format!(
            "the OS disk is {}, above the {} GiB maximum{tail}",
            gib(size),
            range.max_gib
        ))
    } else {
        Outcome::pass(gib(size), required)
    };
    out.evidence(ctx.size_evidence())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::testing::{run_image_with, said, FooterSpec};

    const GIB: u64 = 1 << 30;

    fn os_size(size: u64, profile: Profile, policy: &Policy) -> Outcome {
        run_image_with(FooterSpec::fixed(size).after(&[]), profile, policy, run)
    }

    #[test]
    fn linux_guide_fails_one_byte_below_30_gib() {
        let o = os_size(30 * GIB - 1, Profile::LinuxOs, &Policy::guide());
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("below the 30 GiB minimum"), "{s}");
        assert!(
            s.contains(&format!("footer current size {}", 30 * GIB - 1)),
            "{s}"
        );
    }

    #[test]
    fn linux_guide_passes_from_30_to_50_gib() {
        for size in [30 * GIB, 50 * GIB] {
            let o = os_size(size, Profile::LinuxOs, &Policy::guide());
            let s = said(&o);
            assert_eq!(o.status, Status::Pass, "{s}");
            assert_eq!(o.required, "30–50 GiB (guide policy, linux-os)");
            assert!(s.contains(&format!("footer current size {size}")), "{s}");
        }
    }

    #[test]
    fn linux_guide_warns_one_byte_above_50_gib() {
        let o = os_size(50 * GIB + 1, Profile::LinuxOs, &Policy::guide());
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.message
                .contains("above the 50 GiB maximum (considered case by case)"),
            "{s}"
        );
        assert!(
            s.contains(&format!("footer current size {}", 50 * GIB + 1)),
            "{s}"
        );
    }

    #[test]
    fn linux_current_range_is_1_to_1023_gib() {
        let current = Policy::current();
        let o = os_size(GIB - 1, Profile::LinuxOs, &current);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(o.message.contains("below the 1 GiB minimum"));
        for size in [GIB, 1023 * GIB] {
            let o = os_size(size, Profile::LinuxOs, &current);
            assert_eq!(o.status, Status::Pass, "{}", said(&o));
            assert_eq!(o.required, "1–1023 GiB (current policy, linux-os)");
        }
    }

    #[test]
    fn linux_current_fails_one_byte_above_1023_gib() {
        let o = os_size(1023 * GIB + 1, Profile::LinuxOs, &Policy::current());
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("above the 1023 GiB maximum"), "{s}");
        assert!(!o.message.contains("case by case"), "{s}");
    }

    #[test]
    fn windows_guide_range_is_127_to_128_gib() {
        let guide = Policy::guide();
        let o = os_size(127 * GIB - 1, Profile::WindowsOs, &guide);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(o.message.contains("below the 127 GiB minimum"));
        for size in [127 * GIB, 128 * GIB] {
            let o = os_size(size, Profile::WindowsOs, &guide);
            assert_eq!(o.status, Status::Pass, "{}", said(&o));
            assert_eq!(o.required, "127–128 GiB (guide policy, windows-os)");
        }
        let o = os_size(128 * GIB + 1, Profile::WindowsOs, &guide);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("above the 128 GiB maximum"), "{s}");
        assert!(!o.message.contains("case by case"), "{s}");
    }

    #[test]
    fn windows_current_range_is_30_to_250_gib() {
        let current = Policy::current();
        let o = os_size(30 * GIB - 1, Profile::WindowsOs, &current);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        let o = os_size(250 * GIB, Profile::WindowsOs, &current);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.required, "30–250 GiB (current policy, windows-os)");
        let o = os_size(250 * GIB + 1, Profile::WindowsOs, &current);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(o.message.contains("above the 250 GiB maximum"));
    }

    #[test]
    fn a_warning_level_above_the_maximum_warns_for_windows_too() {
        let mut policy = Policy::guide();
        policy.disk_os_size.windows = SizeRange {
            min_gib: 30.0,
            max_gib: 40.0,
            above_max: Level::Warning,
        };
        let o = os_size(40 * GIB + 1, Profile::WindowsOs, &policy);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(o.message.contains("(considered case by case)"));
    }

    #[test]
    fn skipped_when_the_virtual_size_is_unknown() {
        let o = run_image_with(vec![7; 1000], Profile::LinuxOs, &Policy::guide(), run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(o.message.contains("virtual size is unknown"));
    }

    #[test]
    fn a_policy_range_may_be_one_size_but_not_empty_or_negative() {
        let mut t = super::Thresholds::guide();
        t.windows.min_gib = 128.0;
        assert_eq!(t.validate(), Ok(()));
        t.linux.min_gib = 50.5;
        let e = t.validate().unwrap_err();
        assert!(e.contains("linux: min-gib = 50.5 with max-gib = 50"), "{e}");
        let mut t = super::Thresholds::guide();
        t.windows.min_gib = -1.0;
        let e = t.validate().unwrap_err();
        assert!(e.contains("windows: min-gib = -1"), "{e}");
        t.windows.min_gib = f64::NAN;
        assert!(t.validate().is_err());
    }
}
