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
};

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
