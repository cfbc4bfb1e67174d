use vhdlint_disk::probe::FsKind;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "partition/no-swap",
    title: "No swap partition",
    what: "Looks for swap on the OS disk: MBR partition type 0x82, GPT type 0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, or a SWAPSPACE2 signature in any partition or logical volume.",
    why: "Swap on the OS disk is not allowed: it slows the OS disk and its contents persist. Azure provides swap on the temporary resource disk (ResourceDisk.EnableSwap in waagent.conf, or cloud-init).",
    remedy: "Delete the swap partition (and its /etc/fstab line) and configure swap on the resource disk: ResourceDisk.EnableSwap=y and ResourceDisk.SwapSizeMB in /etc/waagent.conf, or cloud-init's swap settings.",
    sources: &["Certification Test Tool test 41 \"Swap Partition on OS Disk\"", "LISA AzureImageStandard verify_no_swap_on_osdisk", "Azure docs, create-upload-generic: \"Don't configure a swap partition on the OS disk\""],
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
        .filter(|p| p.part_type.is_swap())
    {
        ev.push(Evidence::offset(
            p.entry_offset,
            format!("partition {} has type {}", p.number, p.type_name),
        ));
    }
    for v in layout
        .volumes
        .iter()
        .filter(|v| v.probe.kind == FsKind::Swap)
    {
        let at = v
            .offset
            .map_or(String::new(), |o| format!(" (disk offset {o:#x})"));
        ev.push(Evidence::note(format!(
            "volume {} holds a swap signature{at}",
            v.id
        )));
    }
    let required = "no swap partition or swap volume";
    if ev.is_empty() {
        return Outcome::pass("no swap partition or signature", required);
    }
    Outcome::fail(format!("{} swap indication(s)", ev.len()), required)
        .message(
            ev.iter()
                .map(|e| e.text.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        )
        .evidences(ev)
}
