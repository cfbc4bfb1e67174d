use vhdlint_disk::layout::Scheme;

use super::findings_outcome;
use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "partition/table",
    title: "Partition table",
    what: "Reads the partition table. GPT: signature, header CRC, entry-array CRC, backup header at the last LBA and consistent with the primary, protective MBR (hybrid MBRs reported), entries inside the usable range and not overlapping. MBR: 55AA signature, entries inside the disk and not overlapping, extended chains followed (loop-safe), BSD disklabels nested in FreeBSD/OpenBSD/NetBSD slices. The BSD, SGI and Sun labels of other Unix systems are read as libblkid reads them; an OS disk carrying one fails, since Azure boots MBR and GPT disks only.",
    why: "Azure boots the OS disk with its own firmware: a damaged or inconsistent table can leave the VM unbootable, and a backup GPT that is not at the end of the disk shows the image was resized without fixing the table.",
    remedy: "Repair the table: sgdisk -e (move the backup GPT to the end), sgdisk -v / gdisk recovery for damaged GPTs, sfdisk to rewrite an MBR.",
    sources: &["UEFI specification 2.x, GUID Partition Table format", "Linux block/partitions/efi.c is_gpt_valid / compare_gpts; msdos.c parse_extended"],
    profiles: Profile::ALL,
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(crate::fix::OUTSIDE_THE_GUEST);

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
                        match &t.not_mbr {
                            Some(why) => format!(
                                "sector 0 ends in 55AA but is no MBR to the kernel and blkid: {why}; no protective MBR, no \"EFI PART\" at LBA 1"
                            ),
                            None => "no 55AA signature, no protective MBR, no \"EFI PART\" at LBA 1".into(),
                        },
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
        Scheme::Bsd | Scheme::Sgi | Scheme::Sun => {
            let name = match t.scheme {
                Scheme::Bsd => "a BSD disklabel",
                Scheme::Sgi => "an SGI volume header",
                _ => "a Sun disk label",
            };
            let actual = format!("{name}, {parts} partition(s)");
            if ctx.profile.is_os() {
                Outcome::fail(actual, "an MBR or GPT partition table")
                    .message(format!(
                        "the OS disk carries {name}, not an MBR or GPT: Azure's firmware (BIOS for generation 1, UEFI for generation 2) boots neither"
                    ))
                    .evidence(Evidence::offset(0, format!("{name} read as libblkid reads it")))
            } else {
                findings_outcome(&findings, actual, "a consistent partition table")
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::profile::Profile;
    use crate::testing::{
        fixed_vhd, mbr_disk, mbr_entry, offsets, put_ext, put_gpt, run_image, said, unreadable_vhd,
        FooterSpec, GptPart,
    };
    use vhdlint_disk::layout::GPT_LINUX_SWAP;

    fn gpt(parts: usize) -> Vec<u8> {
        let mut disk = vec![0u8; 4 << 20];
        let parts: Vec<GptPart> = (0..parts as u64)
            .map(|i| GptPart {
                type_guid: GPT_LINUX_SWAP,
                first: 2048 + 1024 * i,
                last: 2048 + 1024 * i + 1023,
                name: "",
            })
            .collect();
        put_gpt(&mut disk, &parts);
        disk
    }

    #[test]
    fn error_when_the_guest_disk_of_a_vhd_cannot_be_read() {
        let o = run_image(unreadable_vhd(), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            o.message.contains("the guest disk cannot be read"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn skipped_when_the_file_is_not_a_disk_image() {
        let o = run_image(vec![7; 1000], Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Skipped, "{}", said(&o));
        assert!(o.message.contains("(see disk/format)"), "{}", said(&o));
    }

    #[test]
    fn error_when_sector_0_cannot_be_read() {
        let o = run_image(
            FooterSpec::fixed(100).after(&[0; 100]),
            Profile::LinuxOs,
            run,
        );
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(o.message.contains("sector 0 cannot be read"), "{s}");
        assert_eq!(offsets(&o), vec![0]);
    }

    #[test]
    fn fails_an_os_disk_without_a_table() {
        for profile in [Profile::LinuxOs, Profile::WindowsOs] {
            let o = run_image(fixed_vhd(&[0; 64 << 10]), profile, run);
            let s = said(&o);
            assert_eq!(o.status, Status::Fail, "{s}");
            assert_eq!(o.actual, "no partition table");
            assert!(o.message.contains("(whole disk: empty)"), "{s}");
            assert_eq!(offsets(&o), vec![0]);
        }
    }

    #[test]
    fn passes_a_data_disk_without_a_table() {
        let o = run_image(fixed_vhd(&[0; 64 << 10]), Profile::DataDisk, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "no partition table (whole disk: empty)");
        let mut disk = vec![0u8; 64 << 10];
        put_ext(&mut disk, 0, "", 1, 0);
        let o = run_image(fixed_vhd(&disk), Profile::DataDisk, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "no partition table (whole disk: ext2)");
    }

    /// A Sun label in sector 0 (checksum set) with one Linux partition of `sectors`.
    fn sun_disk(sectors: u32) -> Vec<u8> {
        let mut disk = vec![0u8; 4 << 20];
        disk[436..438].copy_from_slice(&4u16.to_be_bytes());
        disk[438..440].copy_from_slice(&16u16.to_be_bytes());
        disk[444..448].copy_from_slice(&32u32.to_be_bytes());
        disk[448..452].copy_from_slice(&sectors.to_be_bytes());
        disk[508..510].copy_from_slice(&[0xDA, 0xBE]);
        let x = (0..255).fold(0u16, |x, i| {
            x ^ u16::from_be_bytes([disk[2 * i], disk[2 * i + 1]])
        });
        disk[510..512].copy_from_slice(&x.to_be_bytes());
        disk
    }

    #[test]
    fn fails_an_os_disk_with_a_sun_label_and_reads_it_on_a_data_disk() {
        let o = run_image(fixed_vhd(&sun_disk(2048)), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "a Sun disk label, 1 partition(s)");
        assert!(o.message.contains("not an MBR or GPT"), "{s}");
        let o = run_image(fixed_vhd(&sun_disk(2048)), Profile::DataDisk, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        // A partition past the end of the disk is a defect on a data disk too.
        let o = run_image(fixed_vhd(&sun_disk(1 << 20)), Profile::DataDisk, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(s.contains("runs past the end of the disk"), "{s}");
    }

    #[test]
    fn passes_a_consistent_mbr_counting_logical_partitions() {
        // Partition 1, and the extended partition 4 holding logical partition 5.
        let mut disk = mbr_disk(4, &[(0x83, 2048, 2048)]);
        mbr_entry(&mut disk, 0, 3, 0x05, 4096, 2048);
        mbr_entry(&mut disk, 4096, 0, 0x83, 1, 1000);
        let o = run_image(fixed_vhd(&disk), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "MBR, 2 partition(s) (1 logical)");
        assert_eq!(o.required, "a consistent MBR");
    }

    #[test]
    fn counts_only_the_logical_partitions_as_logical() {
        // Primary 1, the extended partition 4 with a chain of two logical ones (5, 6).
        let mut disk = mbr_disk(8, &[(0x83, 2048, 2048)]);
        mbr_entry(&mut disk, 0, 3, 0x05, 4096, 4096);
        mbr_entry(&mut disk, 4096, 0, 0x83, 1, 1000);
        mbr_entry(&mut disk, 4096, 1, 0x05, 2048, 1024);
        mbr_entry(&mut disk, 6144, 0, 0x83, 1, 500);
        let o = run_image(fixed_vhd(&disk), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "MBR, 3 partition(s) (2 logical)");
    }

    #[test]
    fn fails_overlapping_mbr_partitions() {
        let disk = mbr_disk(4, &[(0x83, 2048, 2048), (0x83, 3000, 1000)]);
        let o = run_image(fixed_vhd(&disk), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "1 defect(s)");
        assert!(
            o.message.contains("partitions 1 and 2 overlap at LBA 3000"),
            "{s}"
        );
    }

    #[test]
    fn an_odd_mbr_status_byte_is_no_table() {
        // The kernel and blkid take a status byte other than 0x00 and 0x80 for boot code.
        let mut disk = mbr_disk(4, &[(0x83, 2048, 2048)]);
        disk[446] = 0x01;
        let o = run_image(fixed_vhd(&disk), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "no partition table");
        assert!(s.contains("status byte 0x01"), "{s}");
    }

    #[test]
    fn passes_a_valid_gpt() {
        let o = run_image(fixed_vhd(&gpt(2)), Profile::LinuxOs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "GPT, 2 partition(s), primary and backup valid");
        assert_eq!(
            o.required,
            "valid primary and backup GPT with a protective MBR"
        );
    }

    #[test]
    fn fails_a_damaged_primary_gpt() {
        let mut disk = gpt(1);
        disk[512 + 16] ^= 0xFF; // header CRC
        let o = run_image(fixed_vhd(&disk), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(o.message.contains("only the backup copy is usable"), "{s}");
    }

    #[test]
    fn warns_about_a_hybrid_mbr() {
        let mut disk = gpt(1);
        mbr_entry(&mut disk, 0, 1, 0x83, 2048, 1024);
        let o = run_image(fixed_vhd(&disk), Profile::LinuxOs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert!(o.message.contains("hybrid MBR"), "{s}");
    }
}
