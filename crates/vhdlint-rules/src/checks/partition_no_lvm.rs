use vhdlint_disk::probe::FsKind;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "partition/no-lvm",
    title: "Standard partitions",
    what: "Looks for LVM on the OS disk: MBR partition type 0x8E, GPT type E6D6D379-F507-44C2-A23C-238F2A3DF928, or an LVM2 LABELONE label.",
    why: "Microsoft recommends standard partitions rather than LVM for OS disks: an image whose volume group name clashes with a data disk's, or that cannot be resized simply, is hard to recover. LVM on data disks is fine.",
    remedy: "Rebuild the OS disk with standard partitions (or keep LVM and justify it with a waiver).",
    sources: &["Azure docs, create-upload-generic: \"we recommend that you use standard partitions, rather than Logical Volume Manager (LVM)\"", "Azure security recommendations for Marketplace images: avoid LVM"],
    profiles: Profile::OS,
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(crate::fix::OUTSIDE_THE_GUEST);

pub fn run(ctx: &Context) -> Outcome {
    let layout = match ctx.layout_or_outcome() {
        Ok(l) => l,
        Err(o) => return o,
    };
    let mut ev = Vec::new();
    for p in layout
        .table
        .partitions
        .iter()
        .filter(|p| p.part_type.is_lvm())
    {
        ev.push(Evidence::offset(
            p.entry_offset,
            format!("partition {} has type {}", p.number, p.type_name),
        ));
    }
    for v in layout
        .volumes
        .iter()
        .filter(|v| v.probe.kind == FsKind::LvmPv)
    {
        ev.push(Evidence::note(format!(
            "volume {} is an LVM2 physical volume",
            v.id
        )));
    }
    for vg in &layout.volume_groups {
        let lvs: Vec<&str> = vg.lvs.iter().map(|l| l.name.as_str()).collect();
        let lvs = if lvs.is_empty() {
            "no logical volumes".to_string()
        } else {
            format!("logical volumes {}", lvs.join(", "))
        };
        ev.push(Evidence::note(format!(
            "volume group {} with {lvs}",
            vg.name
        )));
    }
    // Defects of the LVM2 structures themselves, so that a damaged PV is not silent.
    for f in layout
        .physical_volumes
        .iter()
        .flat_map(|p| &p.findings)
        .chain(&layout.lvm_findings)
        .chain(layout.volume_groups.iter().flat_map(|g| &g.findings))
    {
        ev.push(match f.offset {
            Some(o) => Evidence::offset(o, format!("LVM2: {}", f.message)),
            None => Evidence::note(format!("LVM2: {}", f.message)),
        });
    }
    let required = "standard partitions";
    if ev.is_empty() {
        return Outcome::pass("standard partitions", required);
    }
    Outcome::warning("LVM on the OS disk", required)
        .message(
            ev.iter()
                .map(|e| e.text.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        )
        .evidences(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{
        fixed_vhd, lvm_metadata as metadata, mbr_disk, offsets, put_gpt, put_pv, run_image, said,
        unreadable_vhd, GptPart, PV_ID,
    };
    use vhdlint_disk::layout::GPT_LINUX_LVM;
    use vhdlint_disk::lvm::lvm_crc;

    /// A disk whose partition 1 (type `kind`, 2 MiB at LBA 2048) holds a PV with `text`.
    fn pv_disk(kind: u8, text: &str, text_crc: Option<u32>) -> Vec<u8> {
        let mut disk = mbr_disk(4, &[(kind, 2048, 4096)]);
        let crc = text_crc.unwrap_or_else(|| lvm_crc(text.as_bytes()));
        put_pv(&mut disk, 2048 * 512, text.as_bytes(), crc);
        disk
    }

    fn no_lvm(disk: &[u8]) -> Outcome {
        run_image(fixed_vhd(disk), Profile::LinuxOs, run)
    }

    #[test]
    fn passes_standard_partitions() {
        let o = no_lvm(&mbr_disk(4, &[(0x83, 2048, 2048)]));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "standard partitions");
    }

    #[test]
    fn warns_about_an_mbr_lvm_partition_type() {
        let o = no_lvm(&mbr_disk(4, &[(0x83, 2048, 2048), (0x8e, 4096, 2048)]));
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "LVM on the OS disk");
        assert_eq!(o.message, "partition 2 has type Linux LVM (0x8e)");
        assert_eq!(offsets(&o), vec![462]);
    }

    #[test]
    fn warns_about_a_gpt_lvm_partition_type() {
        let mut disk = vec![0u8; 4 << 20];
        put_gpt(
            &mut disk,
            &[GptPart {
                type_guid: GPT_LINUX_LVM,
                first: 2048,
                last: 4095,
                name: "",
            }],
        );
        let o = no_lvm(&disk);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.message
                .contains("partition 1 has type Linux LVM (E6D6D379"),
            "{s}"
        );
        assert_eq!(offsets(&o), vec![1024]);
    }

    #[test]
    fn warns_about_a_physical_volume_and_names_its_group_and_volumes() {
        let o = no_lvm(&pv_disk(0x83, &metadata(PV_ID, &["root", "home"]), None));
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(
            o.message,
            "volume p1 is an LVM2 physical volume; volume group vg0 with logical volumes root, home"
        );
    }

    #[test]
    fn names_a_volume_group_without_logical_volumes() {
        let o = no_lvm(&pv_disk(0x8e, &metadata(PV_ID, &[]), None));
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.message.ends_with(
                "partition 1 has type Linux LVM (0x8e); volume p1 is an LVM2 physical volume; volume group vg0 with no logical volumes"
            ),
            "{s}"
        );
    }

    #[test]
    fn reports_a_defect_of_a_physical_volume_where_it_is() {
        let text = metadata(PV_ID, &["root"]);
        let o = no_lvm(&pv_disk(0x83, &text, Some(0)));
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        let e = o
            .evidence
            .iter()
            .find(|e| e.text.starts_with("LVM2: LVM2 text metadata checksum"))
            .unwrap_or_else(|| panic!("no checksum defect: {s}"));
        assert_eq!(e.offset, Some(4096 + 512), "{s}");
    }

    #[test]
    fn reports_metadata_that_does_not_parse() {
        let o = no_lvm(&pv_disk(0x83, "vg0 { extent_size = ", None));
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(
            o.evidence
                .iter()
                .any(|e| e.text.starts_with("LVM2: p1: LVM2 text metadata") && e.offset.is_some()),
            "{s}"
        );
    }

    #[test]
    fn reports_a_volume_group_defect_without_an_offset() {
        let o = no_lvm(&pv_disk(0x83, &metadata("other-pv", &["root"]), None));
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        let e = o
            .evidence
            .iter()
            .find(|e| {
                e.text
                    .contains("physical volume pv0 (otherpv) is not on this disk")
            })
            .unwrap_or_else(|| panic!("no missing-PV defect: {s}"));
        assert!(e.text.starts_with("LVM2: volume group vg0"), "{s}");
        assert_eq!(e.offset, None, "{s}");
    }

    #[test]
    fn error_when_the_guest_disk_of_a_vhd_cannot_be_read() {
        let o = run_image(unreadable_vhd(), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }
}
