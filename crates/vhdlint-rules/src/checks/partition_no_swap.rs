use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "partition/no-swap",
    title: "No swap partition",
    what: "Looks for swap on the OS disk: MBR partition type 0x82, GPT type 0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, or a SWAPSPACE2 signature in any partition or logical volume.",
    why: "Swap on the OS disk is not allowed: it slows the OS disk and its contents persist. Azure provides swap on the temporary resource disk (ResourceDisk.EnableSwap in waagent.conf, or cloud-init).",
    remedy: "Delete the swap partition (and its /etc/fstab line) and configure swap on the resource disk: ResourceDisk.EnableSwap=y and ResourceDisk.SwapSizeMB in /etc/waagent.conf, or cloud-init's swap settings.",
    sources: &["Certification Test Tool test 41 \"Swap Partition on OS Disk\"", "LISA AzureImageStandard.verify_no_swap_on_osdisk", "Azure docs, create-upload-generic: \"Don't configure a swap partition on the OS disk\""],
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
        .filter(|p| p.part_type.is_swap())
    {
        ev.push(Evidence::offset(
            p.entry_offset,
            format!("partition {} has type {}", p.number, p.type_name),
        ));
    }
    for v in layout.volumes.iter().filter(|v| v.probe.kind.is_swap()) {
        let at = v
            .offset
            .map_or(String::new(), |o| format!(" (disk offset {o:#x})"));
        ev.push(Evidence::note(format!(
            "volume {} holds a {} signature{at}",
            v.id,
            v.probe.kind.name()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{
        fixed_vhd, lvm_metadata, mbr_disk, offsets, put, put_gpt, put_pv, run_image, said,
        unreadable_vhd, GptPart, PV_ID,
    };
    use vhdlint_disk::layout::GPT_LINUX_SWAP;

    fn no_swap(disk: &[u8]) -> Outcome {
        run_image(fixed_vhd(disk), Profile::LinuxOs, run)
    }

    /// Writes a swap signature in the first 4 KiB page of the volume at byte `at`.
    fn swap_signature(disk: &mut [u8], at: usize) {
        put(disk, at + 4096 - 10, b"SWAPSPACE2");
    }

    #[test]
    fn passes_without_swap() {
        let o = no_swap(&mbr_disk(4, &[(0x83, 2048, 2048)]));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "no swap partition or signature");
    }

    #[test]
    fn fails_an_mbr_swap_partition() {
        let o = no_swap(&mbr_disk(4, &[(0x83, 2048, 2048), (0x82, 4096, 2048)]));
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "1 swap indication(s)");
        assert!(
            o.message.contains("partition 2 has type Linux swap (0x82)"),
            "{s}"
        );
        assert_eq!(offsets(&o), vec![462]);
    }

    #[test]
    fn fails_a_gpt_swap_partition() {
        let mut disk = vec![0u8; 4 << 20];
        put_gpt(
            &mut disk,
            &[GptPart {
                type_guid: GPT_LINUX_SWAP,
                first: 2048,
                last: 4095,
                name: "",
            }],
        );
        let o = no_swap(&disk);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(
            o.message
                .contains("partition 1 has type Linux swap (0657FD6D"),
            "{s}"
        );
        assert_eq!(offsets(&o), vec![1024]);
    }

    #[test]
    fn fails_a_swap_signature_in_a_linux_partition() {
        let mut disk = mbr_disk(4, &[(0x83, 2048, 2048)]);
        swap_signature(&mut disk, 2048 * 512);
        let o = no_swap(&disk);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(
            o.message
                .contains("volume p1 holds a swap signature (disk offset 0x100000)"),
            "{s}"
        );
        assert!(offsets(&o).is_empty(), "{s}");
    }

    #[test]
    fn counts_a_swap_partition_and_its_signature() {
        let mut disk = mbr_disk(4, &[(0x82, 2048, 2048)]);
        swap_signature(&mut disk, 2048 * 512);
        let o = no_swap(&disk);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "2 swap indication(s)");
        assert!(
            o.message
                .contains("(0x82); volume p1 holds a swap signature"),
            "{s}"
        );
    }

    #[test]
    fn fails_swap_on_the_whole_disk() {
        let mut disk = vec![0u8; 64 << 10];
        swap_signature(&mut disk, 0);
        let o = no_swap(&disk);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(
            o.message
                .contains("volume disk holds a swap signature (disk offset 0x0)"),
            "{s}"
        );
    }

    #[test]
    fn fails_a_swap_signature_in_a_logical_volume() {
        // Partition 1 holds a PV whose extents start 1 MiB into it: LV vg0/swap at 2 MiB.
        let mut disk = mbr_disk(4, &[(0x8e, 2048, 4096)]);
        let text = lvm_metadata(PV_ID, &["swap"]);
        put_pv(
            &mut disk,
            1 << 20,
            text.as_bytes(),
            vhdlint_disk::lvm::lvm_crc(text.as_bytes()),
        );
        swap_signature(&mut disk, 2 << 20);
        let o = no_swap(&disk);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "1 swap indication(s)");
        assert_eq!(o.message, "volume vg0/swap holds a swap signature");
    }

    #[test]
    fn error_when_the_guest_disk_of_a_vhd_cannot_be_read() {
        let o = run_image(unreadable_vhd(), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    }
}
