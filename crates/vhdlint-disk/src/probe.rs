//! Filesystem and volume signatures at the start of a volume (libblkid's magic table).

use serde::Serialize;

use crate::bytes::le_u32;
use crate::guid::Guid;
use crate::lvm;
use crate::source::ReadAt;

/// What a volume holds, by its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FsKind {
    Ext2,
    Ext3,
    Ext4,
    Xfs,
    Btrfs,
    Ntfs,
    /// A BitLocker-encrypted volume (`-FVE-FS-`).
    Bitlocker,
    Fat,
    /// Linux swap (`SWAPSPACE2` or `SWAP-SPACE`).
    Swap,
    /// An LVM2 physical volume (`LABELONE`).
    LvmPv,
    /// Every probed byte is zero.
    Empty,
    Unknown,
}

impl FsKind {
    pub fn name(&self) -> &'static str {
        match self {
            FsKind::Ext2 => "ext2",
            FsKind::Ext3 => "ext3",
            FsKind::Ext4 => "ext4",
            FsKind::Xfs => "xfs",
            FsKind::Btrfs => "btrfs",
            FsKind::Ntfs => "ntfs",
            FsKind::Bitlocker => "bitlocker",
            FsKind::Fat => "vfat",
            FsKind::Swap => "swap",
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    pub features: Vec<&'static str>,
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

/// Identifies what `vol` holds from its first 68 KiB.
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
    if at(1080, &[0x53, 0xEF]) {
        let sb = &b[1024..];
        let compat = le_u32(sb, 0x5C);
        let incompat = le_u32(sb, 0x60);
        let ro = le_u32(sb, 0x64);
        let kind = if incompat & !0x0006 != 0 || ro & !0x0007 != 0 {
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
    for ps in [4096usize, 8192, 16384, 32768, 65536] {
        if at(ps - 10, b"SWAPSPACE2") || at(ps - 10, b"SWAP-SPACE") {
            return mk(
                FsKind::Swap,
                b.get(1024 + 28..1024 + 44).and_then(text),
                None,
                ps - 10,
            );
        }
    }
    if let Some(s) = lvm::find_label(vol) {
        let uuid = b
            .get(s as usize * 512 + 32..s as usize * 512 + 64)
            .and_then(text);
        return mk(FsKind::LvmPv, None, uuid, s as usize * 512);
    }
    if b.get(510..512) == Some(&[0x55, 0xAA])
        && (at(0x52, b"FAT32   ") || at(0x36, b"FAT1") || at(0x36, b"FAT     "))
        && matches!(b[0], 0xEB | 0xE9)
    {
        let off = if at(0x52, b"FAT32   ") { 0x52 } else { 0x36 };
        let label_at = if off == 0x52 { 0x47 } else { 0x2B };
        return mk(
            FsKind::Fat,
            b.get(label_at..label_at + 11)
                .and_then(text)
                .filter(|l| l != "NO NAME"),
            None,
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

#[cfg(test)]
mod tests {
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

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            let _ = probe(&MemSource::new(bytes));
        }
    }
}
