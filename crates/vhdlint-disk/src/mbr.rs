//! The master boot record and the extended boot records of its logical partitions.

use std::collections::HashSet;

use serde::Serialize;

use crate::bytes::le_u32;
use crate::finding::Finding;
use crate::limits::MAX_EBR_CHAIN;
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

/// A logical partition found along the EBR chain, with its absolute start.
#[derive(Debug, Clone, Serialize)]
pub struct Logical {
    /// LBA of the EBR that describes it.
    pub ebr_lba: u64,
    pub kind: u8,
    pub status: u8,
    pub start_lba: u64,
    pub sectors: u64,
}

/// Follows the EBR chain of the extended partition `ext` (loop-safe, bounded by
/// [`MAX_EBR_CHAIN`]). Returns the logical partitions and the defects met.
pub fn read_ebr_chain(disk: &dyn ReadAt, ext: &MbrEntry) -> (Vec<Logical>, Vec<Finding>) {
    let mut logicals = Vec::new();
    let mut findings = Vec::new();
    let ext_start = u64::from(ext.start_lba);
    let ext_end = ext_start + u64::from(ext.sectors);
    let mut seen = HashSet::new();
    let mut ebr = ext_start;
    for hop in 0.. {
        if hop >= MAX_EBR_CHAIN {
            findings.push(Finding::fail(
                ebr * SECTOR,
                format!("EBR chain longer than {MAX_EBR_CHAIN} links; the rest is not followed"),
            ));
            break;
        }
        if !seen.insert(ebr) {
            findings.push(Finding::fail(
                ebr * SECTOR,
                format!("EBR chain loops: the EBR at LBA {ebr} is linked to again"),
            ));
            break;
        }
        if ebr < ext_start || ebr >= ext_end {
            findings.push(Finding::fail(
                ebr * SECTOR,
                format!("EBR link to LBA {ebr} lies outside the extended partition (LBA {ext_start}..{ext_end})"),
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
        let data = m.entries[0];
        if !data.is_empty() {
            let start = ebr + u64::from(data.start_lba);
            let sectors = u64::from(data.sectors);
            if start + sectors > ext_end || data.start_lba == 0 {
                findings.push(Finding::fail(
                    ebr * SECTOR + TABLE_AT as u64,
                    format!(
                        "logical partition of the EBR at LBA {ebr} (LBA {start}, {sectors} sectors) does not fit inside the extended partition (LBA {ext_start}..{ext_end})"
                    ),
                ));
            }
            logicals.push(Logical {
                ebr_lba: ebr,
                kind: data.kind,
                status: data.status,
                start_lba: start,
                sectors,
            });
        }
        for e in &m.entries[2..] {
            if !e.is_empty() {
                findings.push(Finding::warning(
                    ebr * SECTOR + TABLE_AT as u64 + 16 * e.slot as u64,
                    format!(
                        "EBR at LBA {ebr} uses entry {} (only the first two are defined)",
                        e.slot + 1
                    ),
                ));
            }
        }
        let link = m.entries[1];
        if link.is_empty() {
            break;
        }
        if !link.is_extended() {
            findings.push(Finding::fail(
                ebr * SECTOR + TABLE_AT as u64 + 16,
                format!(
                    "EBR at LBA {ebr} links with type {:#04x}, not an extended type",
                    link.kind
                ),
            ));
            break;
        }
        ebr = ext_start + u64::from(link.start_lba);
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
        put(&mut d, 20, 1, 0x05, 0, 10); // back to the first EBR
        let mbr = Mbr::parse(&d[..512]);
        let (l, f) = read_ebr_chain(&MemSource::new(d), &mbr.entries[0]);
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].start_lba, l[1].start_lba), (11, 21));
        assert!(f.iter().any(|f| f.message.contains("loops")), "{f:?}");
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
