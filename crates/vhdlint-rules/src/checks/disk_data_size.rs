use super::gib;
use crate::check::{CheckMeta, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/data-size",
    title: "Data disk size",
    what: "Compares the virtual size of a data disk with the policy's maximum: 1 TiB (guide) or 1023 GiB (current).",
    why: "Data disk requests larger than 1023 GB are not approved by the Marketplace.",
    remedy: "Shrink the data disk below the maximum, or split its content across several data disks.",
    sources: &["Marketplace certification FAQ: \"Data disk requests with a size greater than 1023 gigabytes (GB) won't be approved\"", "Azure Marketplace VM image guide: data disks can be as large as 1 TB"],
    profiles: &[Profile::DataDisk],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(crate::fix::OUTSIDE_THE_GUEST);

/// The thresholds of this check: the `["disk/data-size"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// Largest data disk, in GiB.
    pub max_gib: f64,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds { max_gib: 1024.0 }
    }

    pub fn current() -> Thresholds {
        Thresholds { max_gib: 1023.0 }
    }
}

pub fn run(ctx: &Context) -> Outcome {
    let Some(size) = ctx.virtual_size() else {
        return Outcome::skipped("the virtual size is unknown for this format (see disk/format)");
    };
    let max = ctx.policy.disk_data_size.max_gib;
    let required = format!("at most {max} GiB ({} policy)", ctx.policy.name);
    if size as f64 > max * (1u64 << 30) as f64 {
        Outcome::fail(gib(size), required)
            .message(format!(
                "the data disk is {}, above the {max} GiB maximum",
                gib(size)
            ))
            .evidence(ctx.size_evidence())
    } else {
        Outcome::pass(gib(size), required).evidence(ctx.size_evidence())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::policy::Policy;
    use crate::testing::{mbr_entry, run_image, run_image_with, said, FooterSpec};

    const GIB: u64 = 1 << 30;

    /// A footer alone declaring `size` bytes.
    fn vhd(size: u64) -> Vec<u8> {
        FooterSpec::fixed(size).after(&[])
    }

    #[test]
    fn passes_at_the_guide_maximum_of_1024_gib() {
        let o = run_image(vhd(1024 * GIB), Profile::DataDisk, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "1024 GiB");
        assert!(
            o.required.contains("at most 1024 GiB (guide policy)"),
            "{s}"
        );
        assert!(
            s.contains(&format!("footer current size {}", 1024 * GIB)),
            "{s}"
        );
    }

    #[test]
    fn fails_one_byte_above_the_guide_maximum() {
        let o = run_image(vhd(1024 * GIB + 1), Profile::DataDisk, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("above the 1024 GiB maximum"), "{s}");
        assert!(
            s.contains(&format!("footer current size {}", 1024 * GIB + 1)),
            "{s}"
        );
    }

    #[test]
    fn passes_at_the_current_maximum_of_1023_gib() {
        let o = run_image_with(vhd(1023 * GIB), Profile::DataDisk, &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(o.required.contains("at most 1023 GiB (current policy)"));
    }

    #[test]
    fn fails_one_byte_above_the_current_maximum() {
        let o = run_image_with(
            vhd(1023 * GIB + 1),
            Profile::DataDisk,
            &Policy::current(),
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("above the 1023 GiB maximum"), "{s}");
    }

    #[test]
    fn reads_the_size_of_a_raw_image_from_its_length() {
        let mut disk = vec![0u8; 4096];
        mbr_entry(&mut disk, 0, 0, 0x83, 1, 7);
        let o = run_image(disk, Profile::DataDisk, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert!(s.contains("raw image: file size 4096 bytes"), "{s}");
    }

    #[test]
    fn skipped_when_the_virtual_size_is_unknown() {
        let o = run_image(vec![7; 1000], Profile::DataDisk, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(o.message.contains("virtual size is unknown"));
    }
}
