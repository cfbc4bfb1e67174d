//! The disk labels of other Unix systems, read as libblkid and the Linux kernel read them: the
//! BSD disklabel (on the whole disk, or nested in an MBR FreeBSD/OpenBSD/NetBSD slice), the SGI
//! volume header (IRIX `dvh`) and the Sun VTOC label. Azure boots MBR and GPT disks only; these
//! are read so that such a disk is named for what it is and its partitions are probed, never
//! taken for an empty or whole-disk volume.
//!
//! Each label is one sector (the BSD one may start 64 or 128 bytes into sector 0, so 1 KiB is
//! read); every field is read with bounds-checked accessors and the entry counts are capped by
//! the formats' own maxima, so hostile bytes cost nothing more.

use serde::Serialize;

use crate::bytes::{be_u16, be_u32, le_u16, le_u32};
use crate::source::ReadAt;
use crate::SECTOR;

/// One entry of a label, in 512-byte sectors of the disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelEntry {
    /// Index of the entry in the label (0-based).
    pub slot: usize,
    pub start_lba: u64,
    pub sectors: u64,
    /// BSD `p_fstype`, SGI partition type, Sun VTOC tag.
    pub kind: u32,
    /// Byte offset of the entry on the disk.
    pub entry_offset: u64,
}

/// A BSD disklabel's magic, in `d_magic` and `d_magic2` (0x82564557, little-endian).
pub const BSD_MAGIC: u32 = 0x8256_4557;
/// Partitions a BSD label lists at most, as libblkid and the kernel read it.
pub const BSD_MAX_PARTITIONS: usize = 16;
/// `p_fstype` of an entry that is not in use.
pub const BSD_FS_UNUSED: u32 = 0;
const BSD_NPARTITIONS: usize = 138;
const BSD_PARTITIONS: usize = 148;

/// A BSD disklabel found at `base_lba` (the whole disk: 0; a slice: its first sector): the byte
/// offset of the label and its entries whose `p_fstype` is not unused, in label order.
/// Offsets in the label are sectors from the start of the disk, as FreeBSD before 10, OpenBSD
/// and NetBSD write them (and as libblkid reads them). The label is looked for where libblkid
/// looks: 512 bytes in (i386, amd64 and most others), then 64 and 128 bytes into the first
/// sector (alpha, sparc).
pub fn read_bsd(disk: &dyn ReadAt, base_lba: u64) -> Option<(u64, Vec<LabelEntry>)> {
    let base = base_lba.checked_mul(SECTOR)?;
    let head = disk.read_upto(base, 2 * SECTOR as usize).ok()?;
    let at = [512usize, 64, 128]
        .into_iter()
        .find(|&o| le_u32(&head, o) == BSD_MAGIC)?;
    let l = &head[at..];
    let declared = usize::from(le_u16(l, BSD_NPARTITIONS));
    let n = declared.min(BSD_MAX_PARTITIONS);
    let entries = (0..n)
        .filter_map(|i| {
            let e = BSD_PARTITIONS + 16 * i;
            let kind = u32::from(*l.get(e + 12)?);
            (kind != BSD_FS_UNUSED).then(|| LabelEntry {
                slot: i,
                start_lba: u64::from(le_u32(l, e + 4)),
                sectors: u64::from(le_u32(l, e)),
                kind,
                entry_offset: base + (at + e) as u64,
            })
        })
        .collect();
    Some((base + at as u64, entries))
}

/// The name of a BSD `p_fstype`.
pub fn bsd_type_name(t: u32) -> &'static str {
    match t {
        1 => "BSD swap",
        7 => "4.2BSD (UFS)",
        8 => "MS-DOS",
        9 => "4.4LFS",
        11 => "HPFS",
        12 => "ISO-9660",
        13 => "boot",
        _ => "other BSD",
    }
}

/// The SGI volume header's magic at byte 0 (big-endian 0x0BE5A941).
pub const SGI_MAGIC: u32 = 0x0BE5_A941;
/// Partitions an SGI volume header lists.
pub const SGI_MAX_PARTITIONS: usize = 16;
const SGI_PARTITIONS: usize = 312;

/// The SGI volume header in sector 0, when its magic is there and the 32-bit big-endian sum of
/// the sector is 0 (its checksum): every entry with sectors, the volume header (type 0) and the
/// whole volume (type 6) included, as libblkid and the kernel list them (numbered by slot).
pub fn read_sgi(sector0: &[u8]) -> Option<Vec<LabelEntry>> {
    if sector0.len() < SECTOR as usize || be_u32(sector0, 0) != SGI_MAGIC {
        return None;
    }
    let sum = (0..SECTOR as usize / 4).fold(0u32, |s, i| s.wrapping_add(be_u32(sector0, 4 * i)));
    if sum != 0 {
        return None;
    }
    Some(
        (0..SGI_MAX_PARTITIONS)
            .filter_map(|i| {
                let e = SGI_PARTITIONS + 12 * i;
                let sectors = u64::from(be_u32(sector0, e));
                (sectors != 0).then(|| LabelEntry {
                    slot: i,
                    start_lba: u64::from(be_u32(sector0, e + 4)),
                    sectors,
                    kind: be_u32(sector0, e + 8),
                    entry_offset: e as u64,
                })
            })
            .collect(),
    )
}

/// The name of an SGI partition type.
pub fn sgi_type_name(t: u32) -> &'static str {
    match t {
        0 => "SGI volume header",
        3 => "SGI raw",
        4 => "SGI BSD",
        5 => "SGI SysV",
        6 => "SGI whole volume",
        7 => "SGI EFS",
        10 => "SGI XFS",
        11 => "SGI XFS log",
        12 => "SGI XLV",
        13 => "SGI XVM",
        0x82 => "Linux swap",
        0x83 => "Linux",
        0x8e => "Linux LVM",
        0xfd => "Linux RAID autodetect",
        _ => "other SGI",
    }
}

/// The Sun label's magic at byte 508 (big-endian 0xDABE).
pub const SUN_MAGIC: u16 = 0xDABE;
/// Partitions a Sun label lists.
pub const SUN_MAX_PARTITIONS: usize = 8;
/// VTOC tag of the slice that covers the whole disk.
pub const SUN_TAG_WHOLE_DISK: u32 = 5;
const SUN_VTOC_VERSION: usize = 128;
const SUN_VTOC_NPARTS: usize = 140;
const SUN_VTOC_TAGS: usize = 142;
const SUN_VTOC_SANITY: usize = 188;
const SUN_NHEAD: usize = 436;
const SUN_NSECT: usize = 438;
const SUN_PARTITIONS: usize = 444;

/// The Sun label in sector 0, when its magic is there and the XOR of its 16-bit words is 0:
/// entries with sectors other than the whole-disk slice (tag 5), numbered by slot. Starts are
/// in cylinders of `nhead × nsect` sectors; tags come from the VTOC when it is valid (sanity
/// 0x600DDEEE, version 1, at most 8 partitions) or all zero (old Linux labels).
pub fn read_sun(sector0: &[u8]) -> Option<Vec<LabelEntry>> {
    if sector0.len() < SECTOR as usize || be_u16(sector0, 508) != SUN_MAGIC {
        return None;
    }
    let xor = (0..SECTOR as usize / 2).fold(0u16, |x, i| x ^ be_u16(sector0, 2 * i));
    if xor != 0 {
        return None;
    }
    let version = be_u32(sector0, SUN_VTOC_VERSION);
    let nparts = usize::from(be_u16(sector0, SUN_VTOC_NPARTS));
    let sanity = be_u32(sector0, SUN_VTOC_SANITY);
    let valid_vtoc = sanity == 0x600D_DEEE && version == 1 && nparts <= SUN_MAX_PARTITIONS;
    let n = if valid_vtoc {
        nparts
    } else {
        SUN_MAX_PARTITIONS
    };
    let use_tags = valid_vtoc || (sanity == 0 && version == 0 && nparts == 0);
    let per_cylinder =
        u64::from(be_u16(sector0, SUN_NHEAD)) * u64::from(be_u16(sector0, SUN_NSECT));
    Some(
        (0..n)
            .filter_map(|i| {
                let e = SUN_PARTITIONS + 8 * i;
                let sectors = u64::from(be_u32(sector0, e + 4));
                let kind = if use_tags {
                    u32::from(be_u16(sector0, SUN_VTOC_TAGS + 4 * i))
                } else {
                    0
                };
                (sectors != 0 && kind != SUN_TAG_WHOLE_DISK).then(|| LabelEntry {
                    slot: i,
                    start_lba: u64::from(be_u32(sector0, e)).saturating_mul(per_cylinder),
                    sectors,
                    kind,
                    entry_offset: e as u64,
                })
            })
            .collect(),
    )
}

/// The name of a Sun VTOC tag.
pub fn sun_type_name(t: u32) -> &'static str {
    match t {
        0 => "Sun unassigned",
        1 => "Sun boot",
        2 => "Sun root",
        3 => "Sun swap",
        4 => "Sun /usr",
        5 => "Sun whole disk",
        6 => "Sun stand",
        7 => "Sun /var",
        8 => "Sun /home",
        9 => "Sun alt sector",
        10 => "Sun cachefs",
        11 => "Sun reserved",
        0x82 => "Linux swap",
        0x83 => "Linux",
        0x8e => "Linux LVM",
        0xfd => "Linux RAID autodetect",
        _ => "other Sun",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    fn sun(parts: &[(u32, u32, u16)], heads: u16, sects: u16, vtoc: bool) -> Vec<u8> {
        let mut s = vec![0u8; 512];
        if vtoc {
            s[128..132].copy_from_slice(&1u32.to_be_bytes());
            s[140..142].copy_from_slice(&8u16.to_be_bytes());
            s[188..192].copy_from_slice(&0x600D_DEEEu32.to_be_bytes());
        }
        s[436..438].copy_from_slice(&heads.to_be_bytes());
        s[438..440].copy_from_slice(&sects.to_be_bytes());
        for (i, (cyl, n, tag)) in parts.iter().enumerate() {
            s[444 + 8 * i..448 + 8 * i].copy_from_slice(&cyl.to_be_bytes());
            s[448 + 8 * i..452 + 8 * i].copy_from_slice(&n.to_be_bytes());
            if vtoc {
                s[142 + 4 * i..144 + 4 * i].copy_from_slice(&tag.to_be_bytes());
            }
        }
        s[508..510].copy_from_slice(&SUN_MAGIC.to_be_bytes());
        let x = (0..255).fold(0u16, |x, i| x ^ be_u16(&s, 2 * i));
        s[510..512].copy_from_slice(&x.to_be_bytes());
        s
    }

    #[test]
    fn sun_entries_skip_the_whole_disk_slice_and_count_cylinders() {
        let s = sun(&[(0, 100, 0x83), (10, 50, 0x82), (0, 1000, 5)], 4, 8, true);
        let e = read_sun(&s).unwrap();
        assert_eq!(
            e.iter()
                .map(|e| (e.slot, e.start_lba, e.sectors, e.kind))
                .collect::<Vec<_>>(),
            [(0, 0, 100, 0x83), (1, 320, 50, 0x82)]
        );
        // Without a VTOC (all zero) tags are zero and the whole-disk slice is listed too.
        let s = sun(&[(0, 100, 0), (0, 1000, 0)], 4, 8, false);
        assert_eq!(read_sun(&s).unwrap().len(), 2);
        // A broken checksum is no label.
        let mut s = sun(&[(0, 100, 0x83)], 4, 8, true);
        s[0] ^= 1;
        assert!(read_sun(&s).is_none());
    }

    #[test]
    fn sgi_needs_its_checksum_and_lists_every_sized_entry() {
        let mut s = vec![0u8; 512];
        s[0..4].copy_from_slice(&SGI_MAGIC.to_be_bytes());
        for (i, (n, start, t)) in [(4096u32, 0u32, 0u32), (0, 0, 0), (1000, 4096, 0x83)]
            .iter()
            .enumerate()
        {
            let e = 312 + 12 * i;
            s[e..e + 4].copy_from_slice(&n.to_be_bytes());
            s[e + 4..e + 8].copy_from_slice(&start.to_be_bytes());
            s[e + 8..e + 12].copy_from_slice(&t.to_be_bytes());
        }
        assert!(read_sgi(&s).is_none(), "checksum not set");
        let sum = (0..128).fold(0u32, |a, i| a.wrapping_add(be_u32(&s, 4 * i)));
        s[504..508].copy_from_slice(&0u32.wrapping_sub(sum).to_be_bytes());
        let e = read_sgi(&s).unwrap();
        assert_eq!(
            e.iter()
                .map(|e| (e.slot, e.start_lba, e.sectors, e.kind))
                .collect::<Vec<_>>(),
            [(0, 0, 4096, 0), (2, 4096, 1000, 0x83)]
        );
    }

    #[test]
    fn bsd_label_in_sector_one_skips_unused_entries_and_caps_the_count() {
        let mut d = vec![0u8; 4096];
        let l = 512;
        d[l..l + 4].copy_from_slice(&BSD_MAGIC.to_le_bytes());
        d[l + 138..l + 140].copy_from_slice(&u16::MAX.to_le_bytes());
        for i in 0..BSD_MAX_PARTITIONS {
            let e = l + 148 + 16 * i;
            d[e..e + 4].copy_from_slice(&(10 + i as u32).to_le_bytes());
            d[e + 4..e + 8].copy_from_slice(&(100 * i as u32).to_le_bytes());
            d[e + 12] = if i == 2 { 0 } else { 7 };
        }
        let (at, e) = read_bsd(&MemSource::new(d), 0).unwrap();
        assert_eq!(at, 512);
        assert_eq!(e.len(), BSD_MAX_PARTITIONS - 1);
        assert!(e.iter().all(|e| e.slot != 2));
        assert!(read_bsd(&MemSource::new(vec![0u8; 100]), 0).is_none());
    }

    #[test]
    fn hostile_sectors_never_panic() {
        let mut x: u64 = 0x1234_5678;
        for _ in 0..2000 {
            let mut s = vec![0u8; 1024];
            for b in s.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            s[0..4].copy_from_slice(&SGI_MAGIC.to_be_bytes());
            s[508..510].copy_from_slice(&SUN_MAGIC.to_be_bytes());
            s[512..516].copy_from_slice(&BSD_MAGIC.to_le_bytes());
            let _ = read_sgi(&s);
            let _ = read_sun(&s);
            let _ = read_bsd(&MemSource::new(s.clone()), 0);
            let _ = read_bsd(&MemSource::new(s), u64::MAX / 2);
        }
    }
}
