//! The master boot record and the extended boot records of its logical partitions.

use std::collections::HashSet;

use serde::Serialize;

use crate::bytes::le_u32;
use crate::finding::Finding;
use crate::limits::MAX_EBR_CHAIN;
use crate::probe::{self, FsKind};
use crate::source::ReadAt;
use crate::SECTOR;

/// Offset of the partition table in an MBR or EBR sector.
pub const TABLE_AT: usize = 446;
/// Length of the MBR's boot code area (the disk signature follows it).
pub const BOOT_CODE_LEN: usize = 440;

/// One 16-byte partition entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MbrEntry {
    /// 0..=3
    pub slot: usize,
    pub status: u8,
    pub kind: u8,
    pub start_lba: u32,
    pub sectors: u32,
}

impl MbrEntry {
    pub fn is_empty(&self) -> bool {
        self.kind == 0
    }
    pub fn is_extended(&self) -> bool {
        matches!(self.kind, 0x05 | 0x0F | 0x85)
    }
}

/// A decoded MBR or EBR sector.
#[derive(Debug, Clone, Serialize)]
pub struct Mbr {
    pub signature_ok: bool,
    pub disk_signature: u32,
    pub entries: [MbrEntry; 4],
    /// The boot code area (bytes 0..440) holds something: a loader (GRUB's boot.img, Windows'
    /// MBR code, SYSLINUX) was installed, as on a disk that boots.
    pub boot_code: bool,
}

impl Mbr {
    /// Decodes a sector (missing bytes read as zero).
    pub fn parse(sector: &[u8]) -> Mbr {
        let mut b = [0u8; 512];
        let n = sector.len().min(512);
        b[..n].copy_from_slice(&sector[..n]);
        let entry = |slot: usize| {
            let e = &b[TABLE_AT + 16 * slot..TABLE_AT + 16 * (slot + 1)];
            MbrEntry {
                slot,
                status: e[0],
                kind: e[4],
                start_lba: le_u32(e, 8),
                sectors: le_u32(e, 12),
            }
        };
        Mbr {
            signature_ok: b[510] == 0x55 && b[511] == 0xAA,
            disk_signature: le_u32(&b, 440),
            entries: [entry(0), entry(1), entry(2), entry(3)],
            boot_code: b[..BOOT_CODE_LEN].iter().any(|&x| x != 0),
        }
    }

    /// The 0xEE entry of a protective MBR, if any.
    pub fn protective_entry(&self) -> Option<&MbrEntry> {
        self.entries.iter().find(|e| e.kind == 0xEE)
    }
}

/// Why sector 0 is not a partition table to libblkid (`partitions/dos.c`), or `None` when it is
/// one. `head` is the disk's first bytes (sector 0, and the 12 sectors exFAT's boot checksum
/// covers); `whole` is what the whole disk's signature probe found. In dos.c's order: no 55AA; AIX's
/// magic; a status byte other than 0x00 and 0x80 (the boot sectors of exFAT, HPFS, BeFS and
/// others carry code there); a 0xEE entry (GPT); a FAT or exFAT boot sector; an NTFS boot
/// sector; an LVM2 label with no partition in the MBR. A filesystem signature on the whole disk
/// does not hide a table that passes these: blkid reports both (its `TYPE` and `PTTYPE`), and
/// the kernel reads the partitions.
pub fn not_a_table(head: &[u8], whole: FsKind) -> Option<String> {
    let m = Mbr::parse(head);
    if !m.signature_ok {
        return Some("no 55AA boot signature at byte 510".into());
    }
    if head.get(..4) == Some(&AIX_MAGIC[..]) {
        return Some("an AIX physical volume (its magic at byte 0)".into());
    }
    if let Some(e) = m.entries.iter().find(|e| !matches!(e.status, 0 | 0x80)) {
        return Some(format!(
            "entry {} has status byte {:#04x}, neither 0x00 nor 0x80: boot code, not a partition entry",
            e.slot + 1,
            e.status
        ));
    }
    if m.protective_entry().is_some() {
        return Some("a 0xEE entry: a protective MBR".into());
    }
    if probe::is_vfat(head) {
        return Some("a FAT boot sector".into());
    }
    if probe::is_exfat(head) {
        return Some("an exFAT boot sector".into());
    }
    if probe::is_ntfs(head) {
        return Some("an NTFS boot sector".into());
    }
    if whole == FsKind::LvmPv && m.entries.iter().all(|e| e.sectors == 0) {
        return Some("an LVM2 physical volume with an MBR that lists no partition".into());
    }
    None
}

/// AIX's physical volume magic at byte 0 (libblkid's `partitions/aix.h`).
const AIX_MAGIC: [u8; 4] = [0xC9, 0xC2, 0xD4, 0xC1];

/// A logical partition found along the EBR chain, with its absolute start.
#[derive(Debug, Clone, Serialize)]
pub struct Logical {
    /// LBA of the EBR that describes it.
    pub ebr_lba: u64,
    /// Entry of that EBR (0..=3).
    pub slot: usize,
    pub kind: u8,
    pub status: u8,
    pub start_lba: u64,
    pub sectors: u64,
}

/// Follows the EBR chain of the extended partition `ext` as the kernel and libblkid do
/// (`parse_dos_extended`), bounded by [`MAX_EBR_CHAIN`]: in each EBR every entry with sectors
/// that is not an extended one is a logical partition if it lies inside the extended partition
/// (the third and fourth entries also inside the EBR's own area), at a start not seen before;
/// the first extended entry with sectors and a non-zero start links to the next EBR, which must
/// lie inside the extended partition and after the current one (so the chain cannot loop).
/// Returns the logical partitions and the defects met.
pub fn read_ebr_chain(disk: &dyn ReadAt, ext: &MbrEntry) -> (Vec<Logical>, Vec<Finding>) {
    let mut logicals = Vec::new();
    let mut findings = Vec::new();
    let ext_start = u64::from(ext.start_lba);
    let ext_end = ext_start + u64::from(ext.sectors);
    if ext_start == 0 {
        findings.push(Finding::fail(
            TABLE_AT as u64 + 16 * ext.slot as u64,
            "extended partition starts at LBA 0, over the MBR; its chain is not followed",
        ));
        return (logicals, findings);
    }
    let mut starts = HashSet::new();
    let (mut ebr, mut ebr_size) = (ext_start, u64::from(ext.sectors));
    for hop in 0.. {
        if hop >= MAX_EBR_CHAIN {
            findings.push(Finding::fail(
                ebr * SECTOR,
                format!("EBR chain longer than {MAX_EBR_CHAIN} links; the rest is not followed"),
            ));
            break;
        }
        let mut sector = [0u8; 512];
        if let Err(e) = disk.read_at(ebr * SECTOR, &mut sector) {
            findings.push(Finding::fail(
                ebr * SECTOR,
                format!("EBR at LBA {ebr} cannot be read: {e}"),
            ));
            break;
        }
        let m = Mbr::parse(&sector);
        if !m.signature_ok {
            findings.push(Finding::fail(
                ebr * SECTOR + 510,
                format!("EBR at LBA {ebr} lacks the 55AA signature"),
            ));
            break;
        }
        for e in m
            .entries
            .iter()
            .filter(|e| e.sectors != 0 && !e.is_extended())
        {
            let at = ebr * SECTOR + TABLE_AT as u64 + 16 * e.slot as u64;
            let rel = u64::from(e.start_lba);
            let start = ebr + rel;
            let sectors = u64::from(e.sectors);
            if start < ext_start || start + sectors > ext_end {
                findings.push(Finding::fail(
                    at,
                    format!(
                        "logical partition in entry {} of the EBR at LBA {ebr} (LBA {start}, {sectors} sectors) does not fit inside the extended partition (LBA {ext_start}..{ext_end}); the kernel and blkid ignore it",
                        e.slot + 1
                    ),
                ));
                continue;
            }
            if e.slot >= 2 {
                let kept = rel + sectors <= ebr_size;
                findings.push(Finding::warning(
                    at,
                    format!(
                        "EBR at LBA {ebr} uses entry {} (only the first two are defined){}",
                        e.slot + 1,
                        if kept {
                            ""
                        } else {
                            "; it runs past the EBR's own area, and the kernel and blkid ignore it"
                        }
                    ),
                ));
                if !kept {
                    continue;
                }
            }
            if !starts.insert(start) {
                findings.push(Finding::fail(
                    at,
                    format!(
                        "logical partition in the EBR at LBA {ebr} starts at LBA {start} like an earlier one; the kernel and blkid ignore it"
                    ),
                ));
                continue;
            }
            if rel == 0 {
                findings.push(Finding::fail(
                    at,
                    format!("logical partition of the EBR at LBA {ebr} starts on the EBR itself"),
                ));
            }
            logicals.push(Logical {
                ebr_lba: ebr,
                slot: e.slot,
                kind: e.kind,
                status: e.status,
                start_lba: start,
                sectors,
            });
        }
        let links = || {
            m.entries
                .iter()
                .filter(|e| e.sectors != 0 && e.is_extended())
        };
        // libblkid skips a link of offset 0 (the kernel follows it back to the first EBR).
        let Some(link) = links().find(|e| e.start_lba != 0) else {
            if let Some(back) = links().next() {
                findings.push(Finding::fail(
                    ebr * SECTOR + TABLE_AT as u64 + 16 * back.slot as u64,
                    format!("EBR chain loops: the EBR at LBA {ebr} links back to LBA {ext_start} (offset 0); the chain ends here"),
                ));
            }
            break;
        };
        let at = ebr * SECTOR + TABLE_AT as u64 + 16 * link.slot as u64;
        let next = ext_start + u64::from(link.start_lba);
        let size = u64::from(link.sectors);
        if next + size > ext_end {
            findings.push(Finding::fail(
                at,
                format!("EBR link to LBA {next} ({size} sectors) lies outside the extended partition (LBA {ext_start}..{ext_end}); the chain ends here"),
            ));
            break;
        }
        if next <= ebr {
            findings.push(Finding::fail(
                at,
                format!("EBR chain loops: the EBR at LBA {ebr} links back to LBA {next}; the chain ends here"),
            ));
            break;
        }
        (ebr, ebr_size) = (next, size);
    }
    (logicals, findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    fn put(b: &mut [u8], sector: usize, slot: usize, kind: u8, start: u32, len: u32) {
        let at = sector * 512 + TABLE_AT + 16 * slot;
        b[at + 4] = kind;
        b[at + 8..at + 12].copy_from_slice(&start.to_le_bytes());
        b[at + 12..at + 16].copy_from_slice(&len.to_le_bytes());
        b[sector * 512 + 510] = 0x55;
        b[sector * 512 + 511] = 0xAA;
    }

    #[test]
    fn chain_and_loop() {
        let mut d = vec![0u8; 64 * 512];
        put(&mut d, 0, 0, 0x05, 10, 50);
        put(&mut d, 10, 0, 0x83, 1, 5);
        put(&mut d, 10, 1, 0x05, 10, 10);
        put(&mut d, 20, 0, 0x82, 1, 5);
        put(&mut d, 20, 1, 0x05, 10, 10); // back to itself (LBA 10 + 10)
        let mbr = Mbr::parse(&d[..512]);
        let (l, f) = read_ebr_chain(&MemSource::new(d), &mbr.entries[0]);
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].start_lba, l[1].start_lba), (11, 21));
        assert!(f.iter().any(|f| f.message.contains("loops")), "{f:?}");
    }

    #[test]
    fn tables_by_blkid_rules() {
        use crate::layout::{PartitionTable, Scheme};
        let read = |d: &[u8]| PartitionTable::read(&MemSource::new(d.to_vec()));
        let mut d = vec![0u8; 8 << 20];
        put(&mut d, 0, 0, 0x00, 2048, 2048); // type 0x00 with sectors: a partition
        put(&mut d, 0, 1, 0x83, 4096, 0); // a type without sectors: none
        put(&mut d, 0, 2, 0x83, 6144, 2048);
        let t = read(&d);
        assert_eq!(t.scheme, Scheme::Mbr);
        let nums: Vec<u32> = t.partitions.iter().map(|p| p.number).collect();
        assert_eq!(nums, [1, 3]);
        assert!(t
            .findings
            .iter()
            .any(|f| f.message.contains("zero sectors")));
        // A stale ext superblock on the whole disk does not hide the table.
        d[1024..1028].copy_from_slice(&1024u32.to_le_bytes());
        d[1080..1082].copy_from_slice(&[0x53, 0xEF]);
        let t = read(&d);
        assert_eq!(t.partitions.len(), 2);
        assert!(
            t.findings
                .iter()
                .any(|f| f.message.contains("signature (ext2, at byte 1080)")),
            "{:?}",
            t.findings
        );
        // Boot code where a status byte is: no table.
        d[446 + 16] = 0x63;
        let t = read(&d);
        assert_eq!(t.scheme, Scheme::None);
        assert!(t
            .not_mbr
            .as_deref()
            .unwrap_or("")
            .contains("status byte 0x63"));
        // A FAT boot sector is no table either, whatever lies where the entries would be.
        let mut f = vec![0u8; 8 << 20];
        crate::probe::tests::fat16_boot_sector(&mut f);
        put(&mut f, 0, 0, 0x83, 2048, 2048);
        assert_eq!(read(&f).scheme, Scheme::None);
        // An MBR with no partition beside a whole-disk filesystem: that filesystem is the volume.
        let mut e = vec![0u8; 8 << 20];
        e[1024..1028].copy_from_slice(&1024u32.to_le_bytes());
        e[1080..1082].copy_from_slice(&[0x53, 0xEF]);
        e[510] = 0x55;
        e[511] = 0xAA;
        let l = crate::layout::Layout::read(std::sync::Arc::new(MemSource::new(e)));
        assert_eq!(l.table.scheme, Scheme::Mbr);
        assert_eq!(l.volumes.len(), 1);
        assert_eq!(l.volumes[0].probe.kind.name(), "ext2");
    }

    #[test]
    fn boot_code_is_any_byte_before_the_disk_signature() {
        let mut d = vec![0u8; 512];
        put(&mut d, 0, 0, 0x83, 2048, 2048);
        d[440..444].copy_from_slice(&[1, 2, 3, 4]); // the disk signature is not boot code
        assert!(!Mbr::parse(&d).boot_code);
        d[439] = 0x90;
        assert!(Mbr::parse(&d).boot_code);
        d[439] = 0;
        d[0] = 0xEB;
        assert!(Mbr::parse(&d).boot_code);
    }

    #[test]
    fn partition_types_that_hold_roots() {
        use crate::layout::*;
        for t in [0x83, 0x8e] {
            assert!(PartType::Mbr(t).holds_linux_root());
            assert!(!PartType::Mbr(t).holds_windows_system());
        }
        for g in [
            GPT_LINUX_FS,
            GPT_LINUX_LVM,
            GPT_LINUX_ROOT_X86_64,
            GPT_LINUX_ROOT_ARM64,
        ] {
            assert!(PartType::Gpt(g).holds_linux_root());
        }
        assert!(PartType::Mbr(0x07).holds_windows_system());
        assert!(PartType::Gpt(GPT_MS_BASIC_DATA).holds_windows_system());
        for t in [
            PartType::Mbr(0x82),
            PartType::Mbr(0xef),
            PartType::Mbr(0x0c),
            PartType::Gpt(GPT_EFI_SYSTEM),
            PartType::Gpt(GPT_BIOS_BOOT),
            PartType::Gpt(GPT_LINUX_SWAP),
        ] {
            assert!(!t.holds_linux_root() && !t.holds_windows_system(), "{t:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn chain_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..8192), start in 0u32..20, len in 0u32..u32::MAX) {
            let e = MbrEntry { slot: 0, status: 0, kind: 5, start_lba: start, sectors: len };
            let _ = read_ebr_chain(&MemSource::new(bytes.clone()), &e);
            let _ = Mbr::parse(&bytes);
        }
    }
}
