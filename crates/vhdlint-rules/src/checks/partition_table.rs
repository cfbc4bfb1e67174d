use vhdlint_disk::layout::Scheme;

use super::findings_outcome;
use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "partition/table",
    title: "Partition table",
    what: "Reads the partition table. GPT: signature, header CRC, entry-array CRC, backup header at the last LBA and consistent with the primary, protective MBR (hybrid MBRs reported), entries inside the usable range and not overlapping. MBR: 55AA signature, entries inside the disk and not overlapping, extended chains followed (loop-safe).",
    why: "Azure boots the OS disk with its own firmware: a damaged or inconsistent table can leave the VM unbootable, and a backup GPT that is not at the end of the disk shows the image was resized without fixing the table.",
    remedy: "Repair the table: sgdisk -e (move the backup GPT to the end), sgdisk -v / gdisk recovery for damaged GPTs, sfdisk to rewrite an MBR.",
    sources: &["UEFI specification 2.x, GUID Partition Table format", "Linux block/partitions/efi.c is_gpt_valid / compare_gpts; msdos.c parse_extended"],
    profiles: Profile::ALL,
};

pub fn run(ctx: &Context) -> Outcome {
    let layout = match ctx.layout_or_outcome() {
        Ok(l) => l,
        Err(o) => return o,
    };
    let t = &layout.table;
    let findings: Vec<_> = t.findings.iter().collect();
    let parts = t.partitions.iter().filter(|p| !p.container).count();
    match t.scheme {
        // Sector 0 itself could not be read: whether there is a table is unknown.
        Scheme::None if !findings.is_empty() => Outcome::error(
            findings
                .iter()
                .map(|f| f.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        )
        .evidences(
            findings
                .iter()
                .map(|f| Evidence::offset(f.offset.unwrap_or(0), &f.message)),
        ),
        Scheme::None => {
            let whole = layout
                .volumes
                .first()
                .map(|v| v.probe.kind.name())
                .unwrap_or("empty");
            if ctx.profile.is_os() {
                Outcome::fail("no partition table", "an MBR or GPT partition table")
                    .message(format!(
                        "the OS disk has no partition table (whole disk: {whole})"
                    ))
                    .evidence(Evidence::offset(
                        0,
                        "no 55AA signature, no protective MBR, no \"EFI PART\" at LBA 1",
                    ))
            } else {
                Outcome::pass(
                    format!("no partition table (whole disk: {whole})"),
                    "an MBR or GPT, or none on a data disk",
                )
            }
        }
        Scheme::Mbr => {
            let logical = t.partitions.iter().filter(|p| p.number > 4).count();
            findings_outcome(
                &findings,
                format!("MBR, {parts} partition(s) ({logical} logical)"),
                "a consistent MBR",
            )
        }
        Scheme::Gpt => {
            let hybrid = if t.hybrid_mbr { ", hybrid MBR" } else { "" };
            findings_outcome(
                &findings,
                format!("GPT, {parts} partition(s), primary and backup valid{hybrid}"),
                "valid primary and backup GPT with a protective MBR",
            )
        }
    }
}
