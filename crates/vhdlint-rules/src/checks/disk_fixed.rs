use vhdlint_disk::vhd::DiskType;

use super::convert_command;
use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/fixed",
    title: "Fixed disk type",
    what: "Reads the disk type field of the footer (offset 60): 2 fixed, 3 dynamic, 4 differencing.",
    why: "Azure accepts fixed VHDs only; a dynamic or differencing VHD is rejected when the disk is created.",
    remedy: "Convert to a fixed VHD: qemu-img convert -f vpc -O vpc -o subformat=fixed,force_size IN OUT.vhd (or Convert-VHD -VHDType Fixed on Hyper-V)",
    sources: &["Azure docs, create-upload-generic: \"Azure supports only fixed VHD\"", "Azure Marketplace VM image guide: fixed-format VHD"],
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
    let ev = Evidence::offset(f.offset + 60, format!("disk type {}", f.disk_type.name()));
    match f.disk_type {
        DiskType::Fixed => Outcome::pass("fixed", "fixed").evidence(ev),
        t => {
            let mut msg = format!("the disk is {}: Azure accepts fixed VHDs only", t.name());
            if t == DiskType::Differencing {
                let parent = ctx
                    .image
                    .container
                    .dynamic
                    .as_ref()
                    .map(|d| d.header.parent_name.clone())
                    .unwrap_or_default();
                msg.push_str(&format!(
                    "; it depends on the parent \"{parent}\", which is not opened"
                ));
            }
            Outcome::fail(t.name(), "fixed")
                .message(msg)
                .evidence(ev)
                .remedy(convert_command("vpc"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{offsets, run_image, said, DynSpec, FooterSpec};

    #[test]
    fn passes_a_fixed_disk() {
        let o = run_image(
            FooterSpec::fixed(4096).after(&[0; 4096]),
            Profile::LinuxOs,
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "fixed");
        assert!(s.contains("disk type fixed"), "{s}");
        assert_eq!(offsets(&o), vec![4096 + 60]);
    }

    #[test]
    fn fails_a_dynamic_disk() {
        let o = run_image(DynSpec::new(1 << 20).image(&[], 0), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "dynamic");
        assert!(o.message.contains("the disk is dynamic"), "{s}");
        assert!(!o.message.contains("parent"), "{s}");
        assert!(s.contains("disk type dynamic"), "{s}");
        assert_eq!(o.remedy.as_deref(), Some(convert_command("vpc").as_str()));
    }

    #[test]
    fn fails_a_differencing_disk_naming_its_parent() {
        let mut d = DynSpec::new(1 << 20);
        d.footer.disk_type = 4;
        d.parent_name = "base.vhd".into();
        let o = run_image(d.image(&[], 0), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "differencing");
        assert!(
            o.message.contains("depends on the parent \"base.vhd\""),
            "{s}"
        );
    }

    #[test]
    fn fails_an_unknown_disk_type() {
        let f = FooterSpec {
            disk_type: 7,
            ..FooterSpec::fixed(4096)
        };
        let o = run_image(f.after(&[0; 4096]), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "unknown (7)");
        assert!(!o.message.contains("parent"), "{s}");
    }

    #[test]
    fn skipped_without_a_footer() {
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }
}
