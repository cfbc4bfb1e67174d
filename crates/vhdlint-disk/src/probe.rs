//! Filesystem and volume signatures at the start of a volume (libblkid's magic table).

use serde::Serialize;

use crate::bytes::{le_u16, le_u32};
use crate::guid::Guid;
use crate::lvm;
use crate::source::ReadAt;

/// What a volume holds, by its signature. Each kind is named as blkid names it (its `TYPE`),
/// in every output: the JSON reports serialize the same name [`FsKind::name`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsKind {
    Ext2,
    Ext3,
    Ext4,
    /// An ext3/4 external journal device (`mke2fs -O journal_dev`: incompat `journal_dev`).
    Jbd,
    Xfs,
    Btrfs,
    Ntfs,
    /// A BitLocker-encrypted volume (`-FVE-FS-`).
    Bitlocker,
    Fat,
    Exfat,
    /// Linux swap (`SWAPSPACE2` or `SWAP-SPACE`).
    Swap,
    /// A hibernation image in a swap area (`S1SUSPEND`, `S2SUSPEND`, `ULSUSPEND`, `LINHIB0001`
    /// where swap keeps its signature, or TuxOnIce's header at byte 0).
    Swsuspend,
    /// An LVM2 physical volume (`LABELONE`).
    LvmPv,
    /// Every probed byte is zero.
    Empty,
    Unknown,
}

impl Serialize for FsKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl FsKind {
    /// blkid's `TYPE` for the kind (`empty` and `unknown` are vhdlint's: blkid says nothing).
    pub fn name(&self) -> &'static str {
        match self {
            FsKind::Ext2 => "ext2",
            FsKind::Ext3 => "ext3",
            FsKind::Ext4 => "ext4",
            FsKind::Jbd => "jbd",
            FsKind::Xfs => "xfs",
            FsKind::Btrfs => "btrfs",
            FsKind::Ntfs => "ntfs",
            FsKind::Bitlocker => "BitLocker",
            FsKind::Fat => "vfat",
            FsKind::Exfat => "exfat",
            FsKind::Swap => "swap",
            FsKind::Swsuspend => "swsuspend",
            FsKind::LvmPv => "LVM2_member",
            FsKind::Empty => "empty",
            FsKind::Unknown => "unknown",
        }
    }
    /// Filesystems a Linux root can live on.
    pub fn is_linux_fs(&self) -> bool {
        matches!(
            self,
            FsKind::Ext2 | FsKind::Ext3 | FsKind::Ext4 | FsKind::Xfs | FsKind::Btrfs
        )
    }
    /// A swap area: swap itself, or one that holds a hibernation image.
    pub fn is_swap(&self) -> bool {
        matches!(self, FsKind::Swap | FsKind::Swsuspend)
    }
    /// A signature was recognised (not `empty`, not `unknown`).
    pub fn is_signature(&self) -> bool {
        !matches!(self, FsKind::Empty | FsKind::Unknown)
    }
}

/// The probe of one volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub kind: FsKind,
    pub label: Option<String>,
    pub uuid: Option<String>,
    /// Byte offset of the signature inside the volume.
    pub magic_offset: Option<u64>,
    /// ext2/3/4 superblock facts the filesystem reader does not expose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext: Option<ExtState>,
}

/// State and features from an ext2/3/4 superblock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ExtState {
    /// `s_state` has the "cleanly unmounted" bit.
    pub clean: bool,
    /// `s_state` has the "errors detected" bit.
    pub errors: bool,
    /// The journal needs recovery (incompat `needs_recovery`): not cleanly unmounted.
    pub needs_recovery: bool,
    pub mount_count: u16,
    /// Seconds since the Unix epoch of the last mount (0: never mounted).
    pub last_mount_time: u32,
    /// Feature names, as `dumpe2fs` prints them.
    #[serde(deserialize_with = "crate::static_str::deserialize_vec")]
    pub features: Vec<crate::static_str::Interned>,
}

const EXT_FEATURES: &[(u8, u32, &str)] = &[
    (0, 0x0004, "has_journal"),
    (0, 0x0008, "ext_attr"),
    (0, 0x0010, "resize_inode"),
    (0, 0x0020, "dir_index"),
    (0, 0x0200, "sparse_super2"),
    (0, 0x1000, "orphan_file"),
    (1, 0x0002, "filetype"),
    (1, 0x0004, "needs_recovery"),
    (1, 0x0008, "journal_dev"),
    (1, 0x0010, "meta_bg"),
    (1, 0x0040, "extent"),
    (1, 0x0080, "64bit"),
    (1, 0x0100, "mmp"),
    (1, 0x0200, "flex_bg"),
    (1, 0x0400, "ea_inode"),
    (1, 0x1000, "dirdata"),
    (1, 0x2000, "metadata_csum_seed"),
    (1, 0x4000, "large_dir"),
    (1, 0x8000, "inline_data"),
    (1, 0x10000, "encrypt"),
    (1, 0x20000, "casefold"),
    (2, 0x0001, "sparse_super"),
    (2, 0x0002, "large_file"),
    (2, 0x0008, "huge_file"),
    (2, 0x0010, "uninit_bg"),
    (2, 0x0020, "dir_nlink"),
    (2, 0x0040, "extra_isize"),
    (2, 0x0100, "quota"),
    (2, 0x0200, "bigalloc"),
    (2, 0x0400, "metadata_csum"),
    (2, 0x1000, "read-only"),
    (2, 0x2000, "project"),
    (2, 0x8000, "verity"),
    (2, 0x10000, "orphan_present"),
];

const PROBE_BYTES: usize = 68 * 1024;

fn text(b: &[u8]) -> Option<String> {
    let s: String = String::from_utf8_lossy(b)
        .trim_end_matches(['\0', ' '])
        .to_string();
    (!s.is_empty()).then_some(s)
}

/// Bytes of swap's first page and of the hibernation signatures kept where swap keeps its own:
/// 10 bytes before the end of a 4, 8, 16, 32 or 64 KiB page.
const PAGE_SIZES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// libblkid's smallest swap (and suspend) area: ten 4 KiB pages.
const MIN_SWAP_BYTES: u64 = 10 * 4096;
/// TuxOnIce's hibernation header at byte 0 (it leaves swap's signature in place).
const TOI_MAGIC: &[u8; 8] = b"\xed\xc3\x02\xe9\x98\x56\xe5\x0c";
const SUSPEND_MAGICS: [&[u8]; 4] = [b"S1SUSPEND", b"S2SUSPEND", b"ULSUSPEND", b"LINHIB0001"];
/// ext's incompat `journal_dev`: an external journal, not a filesystem.
const EXT_INCOMPAT_JOURNAL_DEV: u32 = 0x0008;

/// A FAT boot sector, by libblkid's rules (`superblocks/vfat.c`, the test that
/// `partitions/dos.c` also applies before it takes sector 0 for a partition table): one of
/// vfat's magics (a FAT name at 0x52 or 0x36, a jump at byte 0, or 55AA at 510 with no name),
/// then a BIOS parameter block that describes a FAT (at least one FAT and one reserved sector,
/// a media byte of 0xF0 or 0xF8..=0xFF, power-of-two sectors per cluster and a sector size of
/// 512..=4096, a cluster count within FAT12/16/32's), and not BitLocker. `b` is the volume's
/// first bytes (at least its first sector).
pub fn is_vfat(b: &[u8]) -> bool {
    let at = |o: usize, m: &[u8]| b.get(o..o + m.len()) == Some(m);
    let named = [
        (0x52, &b"MSWIN"[..]),
        (0x52, b"FAT32   "),
        (0x36, b"MSDOS"),
        (0x36, b"FAT16   "),
        (0x36, b"FAT12   "),
        (0x36, b"FAT     "),
    ]
    .iter()
    .any(|(o, m)| at(*o, m));
    if !named {
        // Only the jump at byte 0 or the 55AA at 510 matched: old floppies carry the 55AA, and
        // OS/2 writes a FAT-like header on JFS and HPFS.
        if !at(510, &[0x55, 0xAA]) || at(0x36, b"JFS     ") || at(0x36, b"HPFS    ") {
            return false;
        }
    }
    let byte = |o: usize| b.get(o).copied().unwrap_or(0);
    let (fats, media, cluster) = (byte(0x10), byte(0x15), byte(0x0D));
    let reserved = le_u16(b, 0x0E);
    if fats == 0 || reserved == 0 || !(media >= 0xF8 || media == 0xF0) {
        return false;
    }
    if !cluster.is_power_of_two() {
        return false;
    }
    let sector = le_u16(b, 0x0B);
    if !sector.is_power_of_two() || !(512..=4096).contains(&sector) {
        return false;
    }
    let dir_entries = u32::from(le_u16(b, 0x11));
    let mut sectors = u32::from(le_u16(b, 0x13));
    if sectors == 0 {
        sectors = le_u32(b, 0x20);
    }
    let fat16_length = u32::from(le_u16(b, 0x16));
    let fat32_length = le_u32(b, 0x24);
    let fat_length = if fat16_length == 0 {
        fat32_length
    } else {
        fat16_length
    };
    let fat_size = fat_length.wrapping_mul(u32::from(fats));
    let dir_size = (dir_entries * 32).div_ceil(u32::from(sector));
    // Unsigned arithmetic as libblkid does it: a count that underflows is far too large.
    let clusters = sectors.wrapping_sub(
        u32::from(reserved)
            .wrapping_add(fat_size)
            .wrapping_add(dir_size),
    ) / u32::from(cluster);
    const FAT12_MAX: u32 = 0xFF4;
    const FAT16_MAX: u32 = 0xFFF4;
    const FAT32_MAX: u32 = 0x0FFF_FFF6;
    let max = if fat16_length == 0 && fat32_length != 0 {
        FAT32_MAX
    } else if clusters > FAT12_MAX {
        FAT16_MAX
    } else {
        FAT12_MAX
    };
    clusters <= max && !at(3, b"-FVE-FS-")
}

/// An exFAT boot region, by libblkid's rules (`superblocks/exfat.c`, which `partitions/dos.c`
/// asks too since util-linux 2.39): the jump and name exFAT writes, the 53 bytes that must be
/// zero, the boot signature, one or two FATs, a sector size of 512..=4096 and a cluster of at
/// most 32 MiB, FAT and cluster heap offsets that fit each other, a root directory cluster
/// inside the heap, and the boot checksum (over the first 11 sectors, volume flags and use
/// percentage left out) in every word of the 12th sector. `b` is the volume's first bytes (12
/// sectors are needed for the checksum; fewer make it no exFAT).
pub fn is_exfat(b: &[u8]) -> bool {
    let byte = |o: usize| b.get(o).copied().unwrap_or(0);
    if b.get(0..3) != Some(&[0xEB, 0x76, 0x90])
        || b.get(3..11) != Some(b"EXFAT   ")
        || b.get(510..512) != Some(&[0x55, 0xAA])
        || !b.get(11..64).is_some_and(|z| z.iter().all(|&x| x == 0))
    {
        return false;
    }
    let (sector_shift, cluster_shift, fats) = (byte(0x6C), byte(0x6D), byte(0x6E));
    if !(1..=2).contains(&fats)
        || !(9..=12).contains(&sector_shift)
        || cluster_shift > 25 - sector_shift
    {
        return false;
    }
    // 32-bit arithmetic, wrapping, as libblkid's checks compute it.
    let (fat_offset, fat_length) = (le_u32(b, 0x50), le_u32(b, 0x54));
    let (heap, clusters, root) = (le_u32(b, 0x58), le_u32(b, 0x5C), le_u32(b, 0x60));
    let fats_length = fat_length.wrapping_mul(u32::from(fats));
    if !(24..=heap.wrapping_sub(fats_length)).contains(&fat_offset)
        || !(fat_offset.wrapping_add(fats_length)..=1 << 31).contains(&heap)
        || !(2..=clusters.wrapping_add(1)).contains(&root)
    {
        return false;
    }
    let sector = 1usize << sector_shift;
    let Some(region) = b.get(..12 * sector) else {
        return false;
    };
    let sum = region[..11 * sector]
        .iter()
        .enumerate()
        .filter(|(i, _)| !matches!(i, 106 | 107 | 112))
        .fold(0u32, |sum, (_, &x)| {
            sum.rotate_right(1).wrapping_add(u32::from(x))
        });
    region[11 * sector..]
        .chunks_exact(4)
        .all(|w| le_u32(w, 0) == sum)
}

/// An NTFS boot sector: its name at 3 and a BIOS parameter block NTFS writes (sector size,
/// sectors per cluster, the FAT fields that must be zero, the MFT record size), as libblkid's
/// `superblocks/ntfs.c` checks them (without reading the MFT record it points to).
pub fn is_ntfs(b: &[u8]) -> bool {
    if b.get(3..11) != Some(b"NTFS    ") {
        return false;
    }
    let sector = le_u16(b, 0x0B);
    if !(256..=4096).contains(&sector) || !sector.is_power_of_two() {
        return false;
    }
    let spc = b.get(0x0D).copied().unwrap_or(0);
    let per_cluster: u32 = match spc {
        1 | 2 | 4 | 8 | 16 | 32 | 64 | 128 => u32::from(spc),
        240..=249 => 1 << (256 - u32::from(spc)),
        _ => return false,
    };
    if u32::from(sector) * per_cluster > 2 << 20 {
        return false;
    }
    let unused_zero = le_u16(b, 0x0E) == 0
        && le_u16(b, 0x11) == 0
        && le_u16(b, 0x13) == 0
        && le_u16(b, 0x16) == 0
        && le_u32(b, 0x20) == 0
        && b.get(0x10) == Some(&0);
    let mft = b.get(0x40).copied().unwrap_or(0);
    unused_zero && (matches!(mft, 1 | 2 | 4 | 8 | 16 | 32 | 64) || (0xE1..=0xF7).contains(&mft))
}

/// Whether an ext superblock (`sb`, from byte 1024) describes a filesystem at all: inodes and
/// blocks, per-group counts, a block size of at most 64 KiB. Asked only when the same volume
/// also starts with a valid FAT boot sector: mke2fs clears sector 0, so a FAT boot sector
/// beside 0xEF53 at 1080 is a FAT whose data happens to hold those two bytes there.
fn ext_superblock_plausible(sb: &[u8]) -> bool {
    le_u32(sb, 0x00) != 0
        && le_u32(sb, 0x04) != 0
        && le_u32(sb, 0x18) <= 6
        && le_u32(sb, 0x20) != 0
        && le_u32(sb, 0x28) != 0
}

/// Identifies what `vol` holds from its first 68 KiB, by libblkid's signatures and the checks
/// its probers make on them.
pub fn probe(vol: &dyn ReadAt) -> Probe {
    let b = vol.read_upto(0, PROBE_BYTES).unwrap_or_default();
    let at = |o: usize, m: &[u8]| b.get(o..o + m.len()) == Some(m);
    let mk = |kind, label, uuid, off: usize| Probe {
        kind,
        label,
        uuid,
        magic_offset: Some(off as u64),
        ext: None,
    };
    if at(3, b"-FVE-FS-") {
        return mk(FsKind::Bitlocker, None, None, 3);
    }
    if at(3, b"NTFS    ") {
        let serial = b.get(0x48..0x50).map(|s| {
            format!(
                "{:016X}",
                u64::from_le_bytes(s.try_into().unwrap_or_default())
            )
        });
        return mk(FsKind::Ntfs, None, serial, 3);
    }
    if at(0, b"XFSB") {
        let uuid = b.get(32..48).map(|u| {
            Guid(u.try_into().unwrap_or_default())
                .to_string()
                .to_lowercase()
        });
        return mk(FsKind::Xfs, b.get(108..120).and_then(text), uuid, 0);
    }
    let fat = is_vfat(&b);
    if at(1080, &[0x53, 0xEF]) && (!fat || ext_superblock_plausible(&b[1024..])) {
        let sb = &b[1024..];
        let compat = le_u32(sb, 0x5C);
        let incompat = le_u32(sb, 0x60);
        let ro = le_u32(sb, 0x64);
        let kind = if incompat & EXT_INCOMPAT_JOURNAL_DEV != 0 {
            FsKind::Jbd
        } else if incompat & !0x0006 != 0 || ro & !0x0007 != 0 {
            FsKind::Ext4
        } else if compat & 0x4 != 0 {
            FsKind::Ext3
        } else {
            FsKind::Ext2
        };
        let uuid = sb.get(0x68..0x78).map(|u| {
            Guid(u.try_into().unwrap_or_default())
                .to_string()
                .to_lowercase()
        });
        let words = [compat, incompat, ro];
        let state = crate::bytes::le_u16(sb, 0x3A);
        let ext = ExtState {
            clean: state & 1 != 0,
            errors: state & 2 != 0,
            needs_recovery: incompat & 0x4 != 0,
            mount_count: crate::bytes::le_u16(sb, 0x34),
            last_mount_time: le_u32(sb, 0x2C),
            features: EXT_FEATURES
                .iter()
                .filter(|(w, bit, _)| words[*w as usize] & bit != 0)
                .map(|f| f.2)
                .collect(),
        };
        return Probe {
            ext: Some(ext),
            ..mk(kind, sb.get(0x78..0x88).and_then(text), uuid, 1080)
        };
    }
    if at(0x10040, b"_BHRfS_M") {
        // The filesystem's fsid (what blkid calls UUID and fstab's UUID= names) at byte 32.
        let uuid = b.get(0x10020..0x10030).map(|u| {
            Guid(u.try_into().unwrap_or_default())
                .to_string()
                .to_lowercase()
        });
        return mk(
            FsKind::Btrfs,
            b.get(0x1012B..0x1022B).and_then(text),
            uuid,
            0x10040,
        );
    }
    if vol.size() >= MIN_SWAP_BYTES {
        let label = || b.get(1024 + 28..1024 + 44).and_then(text);
        // libblkid tries the hibernation signatures (swsuspend) before swap's, and swap's
        // prober steps aside when TuxOnIce's header is at byte 0.
        if at(0, TOI_MAGIC) {
            return mk(FsKind::Swsuspend, label(), None, 0);
        }
        for ps in PAGE_SIZES {
            if SUSPEND_MAGICS.iter().any(|m| at(ps - 10, m)) {
                return mk(FsKind::Swsuspend, label(), None, ps - 10);
            }
        }
        for ps in PAGE_SIZES {
            if at(ps - 10, b"SWAP-SPACE") {
                return mk(FsKind::Swap, label(), None, ps - 10);
            }
            if at(ps - 10, b"SWAPSPACE2") {
                // The version 1 header (mkswap) has the UUID after version, last page and the
                // bad-page count, as blkid reports it (an all-zero UUID is none).
                let uuid = b
                    .get(1024 + 12..1024 + 28)
                    .filter(|u| u.iter().any(|&x| x != 0))
                    .map(|u| {
                        Guid(u.try_into().unwrap_or_default())
                            .to_string()
                            .to_lowercase()
                    });
                return mk(FsKind::Swap, label(), uuid, ps - 10);
            }
        }
    }
    if let Some(s) = lvm::find_label(vol) {
        let uuid = b
            .get(s as usize * 512 + 32..s as usize * 512 + 64)
            .and_then(text);
        return mk(FsKind::LvmPv, None, uuid, s as usize * 512);
    }
    if is_exfat(&b) {
        // The volume serial number at 0x64, as blkid prints it (and fstab's UUID= names it).
        return mk(FsKind::Exfat, None, fat_serial(&b, 0x64), 3);
    }
    if fat {
        let fat32 = le_u16(&b, 0x16) == 0 && le_u32(&b, 0x24) != 0;
        let (off, label_at) = if fat32 { (0x52, 0x47) } else { (0x36, 0x2B) };
        // The serial number follows the extended boot signature (0x28 or 0x29), which comes
        // just before it; without one there is none, as vfat.c reads it.
        let serial_at = label_at - 4;
        let uuid = matches!(b.get(serial_at - 1), Some(0x28 | 0x29))
            .then(|| fat_serial(&b, serial_at))
            .flatten();
        return mk(
            FsKind::Fat,
            b.get(label_at..label_at + 11)
                .and_then(text)
                .filter(|l| l != "NO NAME"),
            uuid,
            off,
        );
    }
    // Compared as a slice (memcmp): a table may list tens of thousands of partitions to probe.
    static ZEROS: [u8; PROBE_BYTES] = [0; PROBE_BYTES];
    let kind = if b[..] == ZEROS[..b.len().min(PROBE_BYTES)] {
        FsKind::Empty
    } else {
        FsKind::Unknown
    };
    Probe {
        kind,
        label: None,
        uuid: None,
        magic_offset: None,
        ext: None,
    }
}

/// A FAT or exFAT volume serial number at `at`, as blkid prints it: `XXXX-XXXX`, most
/// significant byte first.
fn fat_serial(b: &[u8], at: usize) -> Option<String> {
    let v = b.get(at..at + 4)?;
    Some(format!("{:02X}{:02X}-{:02X}{:02X}", v[3], v[2], v[1], v[0]))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::source::MemSource;

    #[test]
    fn signatures() {
        let mut b = vec![0u8; 70 * 1024];
        assert_eq!(probe(&MemSource::new(b.clone())).kind, FsKind::Empty);
        b[4086..4096].copy_from_slice(b"SWAPSPACE2");
        assert_eq!(probe(&MemSource::new(b.clone())).kind, FsKind::Swap);
        b[3..11].copy_from_slice(b"-FVE-FS-");
        assert_eq!(probe(&MemSource::new(b)).kind, FsKind::Bitlocker);
    }

    #[test]
    fn swap_v1_has_the_uuid_and_label_mkswap_writes() {
        let mut b = vec![0u8; 70 * 1024];
        b[4086..4096].copy_from_slice(b"SWAPSPACE2");
        // No UUID: all zeros.
        assert_eq!(probe(&MemSource::new(b.clone())).uuid, None);
        b[1024 + 12..1024 + 28].copy_from_slice(&[
            0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x49, 0x68, 0x87, 0x76, 0x65, 0x54, 0x43, 0x32,
            0x21, 0x64,
        ]);
        b[1024 + 28..1024 + 32].copy_from_slice(b"swap");
        let p = probe(&MemSource::new(b.clone()));
        assert_eq!(
            p.uuid.as_deref(),
            Some("0f1e2d3c-4b5a-4968-8776-655443322164")
        );
        assert_eq!(p.label.as_deref(), Some("swap"));
        // The old SWAP-SPACE header has none.
        b[4086..4096].copy_from_slice(b"SWAP-SPACE");
        assert_eq!(probe(&MemSource::new(b)).uuid, None);
    }

    /// A FAT16 boot sector as mkfs.vfat writes one for an 8 MiB volume.
    pub(crate) fn fat16_boot_sector(b: &mut [u8]) {
        b[0..3].copy_from_slice(&[0xEB, 0x3C, 0x90]);
        b[3..11].copy_from_slice(b"mkfs.fat");
        b[0x0B..0x0D].copy_from_slice(&512u16.to_le_bytes());
        b[0x0D] = 4;
        b[0x0E..0x10].copy_from_slice(&4u16.to_le_bytes());
        b[0x10] = 2;
        b[0x11..0x13].copy_from_slice(&512u16.to_le_bytes());
        b[0x13..0x15].copy_from_slice(&16384u16.to_le_bytes());
        b[0x15] = 0xF8;
        b[0x16..0x18].copy_from_slice(&16u16.to_le_bytes());
        b[0x36..0x3E].copy_from_slice(b"FAT16   ");
        b[510] = 0x55;
        b[511] = 0xAA;
    }

    #[test]
    fn blkid_names_and_rules() {
        let mut b = vec![0u8; 70 * 1024];
        fat16_boot_sector(&mut b);
        assert_eq!(probe(&MemSource::new(b.clone())).kind.name(), "vfat");
        // 0xEF53 in the FAT at ext's magic offset: no ext superblock around it.
        b[1080..1082].copy_from_slice(&[0x53, 0xEF]);
        assert_eq!(probe(&MemSource::new(b.clone())).kind, FsKind::Fat);
        assert!(!is_vfat(&b[..0x36]), "a short sector is no FAT");
        // An ext superblock with journal_dev set is a journal device.
        let mut j = vec![0u8; 70 * 1024];
        j[1024..1028].copy_from_slice(&1024u32.to_le_bytes());
        j[1080..1082].copy_from_slice(&[0x53, 0xEF]);
        j[1024 + 0x60] = 0x08;
        assert_eq!(probe(&MemSource::new(j.clone())).kind.name(), "jbd");
        j[1024 + 0x60] = 0x42;
        assert_eq!(probe(&MemSource::new(j)).kind.name(), "ext4");
        // Hibernation signatures where swap keeps its own, and TuxOnIce's header before swap's.
        for (page, magic) in [
            (4096, &b"S1SUSPEND"[..]),
            (8192, b"LINHIB0001"),
            (65536, b"ULSUSPEND"),
        ] {
            let mut s = vec![0u8; 70 * 1024];
            s[page - 10..page - 10 + magic.len()].copy_from_slice(magic);
            assert_eq!(probe(&MemSource::new(s)).kind.name(), "swsuspend");
        }
        let mut t = vec![0u8; 70 * 1024];
        t[4086..4096].copy_from_slice(b"SWAPSPACE2");
        assert_eq!(probe(&MemSource::new(t.clone())).kind.name(), "swap");
        t[..8].copy_from_slice(TOI_MAGIC);
        assert_eq!(probe(&MemSource::new(t.clone())).kind.name(), "swsuspend");
        // Smaller than ten pages: no swap to libblkid.
        t.truncate(36 * 1024);
        assert_eq!(probe(&MemSource::new(t)).kind, FsKind::Unknown);
        // The JSON names are blkid's.
        assert_eq!(serde_json_name(FsKind::Fat), "\"vfat\"");
        assert_eq!(serde_json_name(FsKind::LvmPv), "\"LVM2_member\"");
        assert_eq!(serde_json_name(FsKind::Bitlocker), "\"BitLocker\"");
    }

    fn serde_json_name(k: FsKind) -> String {
        serde_json::to_string(&k).unwrap()
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            let _ = probe(&MemSource::new(bytes));
        }
    }
}
