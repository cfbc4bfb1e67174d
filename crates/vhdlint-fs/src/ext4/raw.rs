//! ext2/3/4 and jbd2 on-disk structures: magic numbers, feature flags, field offsets and the
//! decoding of fixed structures (ext4 little-endian, jbd2 big-endian, bounds-checked). Every
//! function takes bytes and returns values or a reason; none reads from the source.

use vhdlint_disk::bytes::{be_u32, le_u16, le_u32};

use crate::limits::MAX_EXT4_BLOCK_GROUPS;
use crate::FsError;

/// Byte offset of the primary superblock on the volume.
pub const SB_OFFSET: u64 = 1024;
/// Bytes of the superblock.
pub const SB_LEN: usize = 1024;
pub const SB_MAGIC: u16 = 0xef53;

pub const ROOT_INO: u32 = 2;
/// Bytes of `i_block`: 15 block pointers, an extent root, a fast symlink or inline data.
pub const I_BLOCK_LEN: usize = 60;
/// Bytes of the inode fields every revision has.
pub const GOOD_OLD_INODE_SIZE: usize = 128;

pub use crate::unix::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};

// s_feature_compat
pub const COMPAT_HAS_JOURNAL: u32 = 0x4;
pub const COMPAT_DIR_INDEX: u32 = 0x20;
pub const COMPAT_SPARSE_SUPER2: u32 = 0x200;
// s_feature_ro_compat
pub const RO_COMPAT_SPARSE_SUPER: u32 = 0x1;
pub const RO_COMPAT_HUGE_FILE: u32 = 0x8;
pub const RO_COMPAT_BIGALLOC: u32 = 0x200;
// s_feature_incompat
pub const INCOMPAT_COMPRESSION: u32 = 0x1;
pub const INCOMPAT_FILETYPE: u32 = 0x2;
pub const INCOMPAT_RECOVER: u32 = 0x4;
pub const INCOMPAT_JOURNAL_DEV: u32 = 0x8;
pub const INCOMPAT_META_BG: u32 = 0x10;
pub const INCOMPAT_EXTENTS: u32 = 0x40;
pub const INCOMPAT_64BIT: u32 = 0x80;
pub const INCOMPAT_MMP: u32 = 0x100;
pub const INCOMPAT_FLEX_BG: u32 = 0x200;
pub const INCOMPAT_EA_INODE: u32 = 0x400;
pub const INCOMPAT_DIRDATA: u32 = 0x1000;
pub const INCOMPAT_CSUM_SEED: u32 = 0x2000;
pub const INCOMPAT_LARGEDIR: u32 = 0x4000;
pub const INCOMPAT_INLINE_DATA: u32 = 0x8000;
pub const INCOMPAT_ENCRYPT: u32 = 0x10000;
pub const INCOMPAT_CASEFOLD: u32 = 0x20000;
/// Incompatible features this reader understands (encrypted files themselves are refused one
/// by one; casefolded directories are read as they are stored).
pub const INCOMPAT_KNOWN: u32 = INCOMPAT_FILETYPE
    | INCOMPAT_RECOVER
    | INCOMPAT_META_BG
    | INCOMPAT_EXTENTS
    | INCOMPAT_64BIT
    | INCOMPAT_MMP
    | INCOMPAT_FLEX_BG
    | INCOMPAT_EA_INODE
    | INCOMPAT_CSUM_SEED
    | INCOMPAT_LARGEDIR
    | INCOMPAT_INLINE_DATA
    | INCOMPAT_ENCRYPT
    | INCOMPAT_CASEFOLD;

/// The name of an incompatible feature bit, as mke2fs spells it.
pub fn incompat_name(bit: u32) -> String {
    match bit {
        INCOMPAT_COMPRESSION => "compression".into(),
        INCOMPAT_JOURNAL_DEV => "journal_dev".into(),
        INCOMPAT_DIRDATA => "dirdata".into(),
        0x40000 => "encoding?".into(),
        b => format!("{b:#x}"),
    }
}

// i_flags
pub const FL_ENCRYPT: u32 = 0x800;
/// A directory with a hashed index (htree).
pub const FL_INDEX: u32 = 0x1000;
/// A directory whose names are looked up case-insensitively (hashed by siphash).
pub const FL_CASEFOLD: u32 = 0x4000_0000;
pub const FL_HUGE_FILE: u32 = 0x40000;
pub const FL_EXTENTS: u32 = 0x80000;
pub const FL_INLINE_DATA: u32 = 0x1000_0000;

pub const EXTENT_MAGIC: u16 = 0xf30a;
/// Largest initialized extent; longer lengths mark an uninitialized (unwritten) extent.
pub const EXT_INIT_MAX_LEN: u16 = 32768;

/// In-inode extended attribute area magic.
pub const XATTR_MAGIC: u32 = 0xea02_0000;
/// `system.` attribute name index (`system.data` holds inline data).
pub const XATTR_INDEX_SYSTEM: u8 = 7;

fn u32_at(b: &[u8], o: usize) -> u32 {
    le_u32(b, o)
}

/// The superblock fields the reader uses, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superblock {
    pub block_size: u64,
    pub blocks: u64,
    pub first_data_block: u64,
    pub blocks_per_group: u64,
    pub inodes_per_group: u32,
    pub inodes_count: u32,
    pub inode_size: u16,
    pub first_ino: u32,
    pub desc_size: u64,
    pub groups: u64,
    pub first_meta_bg: u64,
    pub compat: u32,
    pub incompat: u32,
    pub ro_compat: u32,
    pub journal_inum: u32,
    pub journal_dev: u32,
    pub journal_uuid: [u8; 16],
    pub backup_bgs: [u32; 2],
    pub cluster_size: u64,
    /// `s_hash_seed`, the seed of the directory index hashes.
    pub hash_seed: [u32; 4],
    /// `s_flags & EXT2_FLAGS_UNSIGNED_HASH`: the index hashes read chars as unsigned.
    pub unsigned_hash: bool,
}

impl Superblock {
    pub fn has_incompat(&self, f: u32) -> bool {
        self.incompat & f != 0
    }

    /// Whether block group `g` holds a superblock backup (and so, without meta_bg, a copy of
    /// the group descriptors).
    pub fn group_has_super(&self, g: u64) -> bool {
        if g == 0 {
            return true;
        }
        if self.compat & COMPAT_SPARSE_SUPER2 != 0 {
            return g == u64::from(self.backup_bgs[0]) || g == u64::from(self.backup_bgs[1]);
        }
        if self.ro_compat & RO_COMPAT_SPARSE_SUPER == 0 || g == 1 {
            return true;
        }
        if g % 2 == 0 {
            return false;
        }
        [3u64, 5, 7].iter().any(|&p| {
            let mut x = g;
            while x % p == 0 {
                x /= p;
            }
            x == 1
        })
    }

    /// The block holding group descriptor block `i` (the primary copy).
    pub fn desc_block(&self, i: u64) -> u64 {
        // The block holding the superblock (block 1 with 1 KiB blocks, else block 0).
        let sb_block = SB_OFFSET / self.block_size;
        if !self.has_incompat(INCOMPAT_META_BG) || i < self.first_meta_bg {
            return sb_block + 1 + i;
        }
        // meta_bg: the descriptors of a meta group live in its first group, after that
        // group's superblock backup if it has one.
        let per_block = self.block_size / self.desc_size;
        let g = i * per_block;
        let mut b = self.first_data_block + g * self.blocks_per_group;
        if self.group_has_super(g) {
            b += 1;
        }
        if g == 0 && self.first_data_block == 0 && sb_block == 1 {
            b += 1; // 1 KiB blocks starting at 0 (bigalloc): block 0 is not the superblock's
        }
        b
    }
}

fn sb_corrupt(why: String) -> FsError {
    FsError::Corrupt(format!("ext4 superblock: {why}"))
}

/// Decodes and checks the superblock (the 1024 bytes at byte 1024 of the volume).
pub fn parse_superblock(b: &[u8]) -> Result<Superblock, FsError> {
    if b.len() < SB_LEN {
        return Err(sb_corrupt(format!("only {} bytes", b.len())));
    }
    let magic = le_u16(b, 0x38);
    if magic != SB_MAGIC {
        return Err(sb_corrupt(format!("bad magic {magic:#06x} (want 0xef53)")));
    }
    let log_bs = u32_at(b, 0x18);
    if log_bs > 6 {
        return Err(sb_corrupt(format!(
            "block size 2^(10+{log_bs}) outside 1 KiB..64 KiB"
        )));
    }
    let block_size = 1024u64 << log_bs;
    let rev = u32_at(b, 0x4c);
    let (inode_size, first_ino) = if rev == 0 {
        (GOOD_OLD_INODE_SIZE as u16, 11)
    } else {
        (le_u16(b, 0x58), u32_at(b, 0x54))
    };
    if !inode_size.is_power_of_two()
        || usize::from(inode_size) < GOOD_OLD_INODE_SIZE
        || u64::from(inode_size) > block_size
    {
        return Err(sb_corrupt(format!(
            "inode size {inode_size} is not a power of two in 128..={block_size}"
        )));
    }
    let (compat, incompat, ro_compat) = if rev == 0 {
        (0, 0, 0)
    } else {
        (u32_at(b, 0x5c), u32_at(b, 0x60), u32_at(b, 0x64))
    };
    let unknown = incompat & !INCOMPAT_KNOWN;
    if unknown != 0 {
        let names: Vec<String> = (0..32)
            .map(|i| 1u32 << i)
            .filter(|bit| unknown & bit != 0)
            .map(incompat_name)
            .collect();
        return Err(FsError::Unsupported(format!(
            "ext4 feature not supported by the reader: incompatible feature {} (s_feature_incompat {incompat:#x})",
            names.join(", ")
        )));
    }
    let is64 = incompat & INCOMPAT_64BIT != 0;
    let mut blocks = u64::from(u32_at(b, 0x04));
    if is64 {
        blocks |= u64::from(u32_at(b, 0x150)) << 32;
    }
    let first_data_block = u64::from(u32_at(b, 0x14));
    let blocks_per_group = u64::from(u32_at(b, 0x20));
    let inodes_per_group = u32_at(b, 0x28);
    let inodes_count = u32_at(b, 0x00);
    let log_cluster = u32_at(b, 0x1c);
    let cluster_size = if ro_compat & RO_COMPAT_BIGALLOC != 0 {
        if log_cluster > 20 || log_cluster < log_bs {
            return Err(sb_corrupt(format!("cluster size 2^(10+{log_cluster})")));
        }
        1024u64 << log_cluster
    } else {
        block_size
    };
    if blocks_per_group == 0 || blocks_per_group > block_size * 8 * (cluster_size / block_size) {
        return Err(sb_corrupt(format!("{blocks_per_group} blocks per group")));
    }
    if inodes_per_group == 0 || u64::from(inodes_per_group) > block_size * 8 {
        return Err(sb_corrupt(format!("{inodes_per_group} inodes per group")));
    }
    if first_data_block >= blocks {
        return Err(sb_corrupt(format!(
            "first data block {first_data_block} not below the block count {blocks}"
        )));
    }
    let groups = (blocks - first_data_block).div_ceil(blocks_per_group);
    if groups > MAX_EXT4_BLOCK_GROUPS {
        return Err(FsError::limit("MAX_EXT4_BLOCK_GROUPS", format!(
            "the ext4 superblock implies {groups} block groups ({blocks} blocks, {blocks_per_group} per group), more than the limit of {MAX_EXT4_BLOCK_GROUPS} (MAX_EXT4_BLOCK_GROUPS)"
        )));
    }
    if u64::from(inodes_count) > groups * u64::from(inodes_per_group) {
        return Err(sb_corrupt(format!(
            "{inodes_count} inodes in {groups} groups of {inodes_per_group}"
        )));
    }
    let desc_size = if is64 { u64::from(le_u16(b, 0xfe)) } else { 32 };
    if desc_size < 32 || !desc_size.is_power_of_two() || desc_size > block_size {
        return Err(sb_corrupt(format!("group descriptor size {desc_size}")));
    }
    if is64 && desc_size < 64 {
        return Err(sb_corrupt(format!(
            "group descriptor size {desc_size} with the 64bit feature"
        )));
    }
    // As the kernel and e2fsprogs refuse it: meta_bg cannot start after the last descriptor
    // block there is.
    let first_meta_bg = u64::from(u32_at(b, 0x104));
    let desc_blocks = groups.div_ceil(block_size / desc_size);
    if incompat & INCOMPAT_META_BG != 0 && first_meta_bg > desc_blocks {
        return Err(sb_corrupt(format!(
            "first meta_bg {first_meta_bg} after the {desc_blocks} group descriptor blocks"
        )));
    }
    let mut journal_uuid = [0u8; 16];
    journal_uuid.copy_from_slice(&b[0xd0..0xe0]);
    Ok(Superblock {
        block_size,
        blocks,
        first_data_block,
        blocks_per_group,
        inodes_per_group,
        inodes_count,
        inode_size,
        first_ino,
        desc_size,
        groups,
        first_meta_bg,
        compat,
        incompat,
        ro_compat,
        journal_inum: u32_at(b, 0xe0),
        journal_dev: u32_at(b, 0xe4),
        journal_uuid,
        backup_bgs: [u32_at(b, 0x24c), u32_at(b, 0x250)],
        cluster_size,
        hash_seed: [
            u32_at(b, 0xec),
            u32_at(b, 0xf0),
            u32_at(b, 0xf4),
            u32_at(b, 0xf8),
        ],
        unsigned_hash: u32_at(b, 0x160) & 0x2 != 0,
    })
}

/// The inode table's first block, from a group descriptor of `desc_size` bytes.
pub fn desc_inode_table(d: &[u8], is64: bool) -> u64 {
    let lo = u64::from(u32_at(d, 0x08));
    if is64 && d.len() >= 64 {
        lo | u64::from(u32_at(d, 0x28)) << 32
    } else {
        lo
    }
}

/// The inode fields the reader uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inode {
    pub ino: u32,
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub flags: u32,
    /// `i_blocks`, in 512-byte sectors, or fs blocks with huge_file and the inode's flag.
    pub blocks: u64,
    pub file_acl: u64,
    pub i_block: [u8; I_BLOCK_LEN],
    /// The in-inode extended attribute area (after `i_extra_isize`), empty if none.
    pub xattrs: Vec<u8>,
}

impl Inode {
    pub fn file_type(&self) -> u16 {
        self.mode & S_IFMT
    }
}

/// Decodes inode `ino` from its `inode_size` bytes.
pub fn parse_inode(b: &[u8], ino: u32) -> Result<Inode, String> {
    if b.len() < GOOD_OLD_INODE_SIZE {
        return Err(format!("only {} bytes", b.len()));
    }
    let mode = le_u16(b, 0x00);
    let uid = u32::from(le_u16(b, 0x02)) | u32::from(le_u16(b, 0x78)) << 16;
    let gid = u32::from(le_u16(b, 0x18)) | u32::from(le_u16(b, 0x7a)) << 16;
    let size = u64::from(u32_at(b, 0x04)) | u64::from(u32_at(b, 0x6c)) << 32;
    let flags = u32_at(b, 0x20);
    let blocks = u64::from(u32_at(b, 0x1c)) | u64::from(le_u16(b, 0x74)) << 32;
    let file_acl = u64::from(u32_at(b, 0x68)) | u64::from(le_u16(b, 0x76)) << 32;
    let mut i_block = [0u8; I_BLOCK_LEN];
    i_block.copy_from_slice(&b[0x28..0x28 + I_BLOCK_LEN]);
    let mut xattrs = Vec::new();
    if b.len() > GOOD_OLD_INODE_SIZE + 4 {
        let extra = usize::from(le_u16(b, 0x80));
        let start = GOOD_OLD_INODE_SIZE + extra;
        if extra % 4 != 0 || start > b.len() {
            return Err(format!("i_extra_isize {extra} does not fit the inode"));
        }
        if start + 4 <= b.len() && u32_at(b, start) == XATTR_MAGIC {
            xattrs = b[start + 4..].to_vec();
        }
    }
    Ok(Inode {
        ino,
        mode,
        uid,
        gid,
        size,
        flags,
        blocks,
        file_acl,
        i_block,
        xattrs,
    })
}

/// The value of in-inode attribute `system.data` (inline data past `i_block`), if present.
/// `area` is the attribute area after its magic; values are at offsets from its start.
pub fn inline_data_xattr(area: &[u8]) -> Result<Option<&[u8]>, String> {
    let mut at = 0usize;
    while at + 16 <= area.len() {
        if u32_at(area, at) == 0 {
            break;
        }
        let name_len = usize::from(area[at]);
        let index = area[at + 1];
        let value_offs = usize::from(le_u16(area, at + 2));
        let value_inum = u32_at(area, at + 4);
        let value_size = u32_at(area, at + 8) as usize;
        let name_end = at + 16 + name_len;
        let name = area
            .get(at + 16..name_end)
            .ok_or_else(|| format!("attribute name at {at} runs past the inode"))?;
        if index == XATTR_INDEX_SYSTEM && name == b"data" {
            if value_inum != 0 {
                return Err("inline data kept in an attribute inode".into());
            }
            return area
                .get(value_offs..value_offs.saturating_add(value_size))
                .map(Some)
                .ok_or_else(|| {
                    format!("system.data value of {value_size} bytes at {value_offs} runs past the inode")
                });
        }
        at = (name_end + 3) & !3;
    }
    Ok(None)
}

/// One mapped run of a file: `len` blocks from file block `lblk` at fs block `pblk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub lblk: u64,
    pub pblk: u64,
    pub len: u64,
    /// An uninitialized (unwritten) extent: reads as zeros.
    pub uninit: bool,
}

/// An extent-tree node: its depth and either leaf runs or `(first file block, child block)`.
pub enum ExtentNode {
    Leaf(Vec<Run>),
    Index(u16, Vec<(u64, u64)>),
}

/// Decodes an extent node (the root in `i_block` or a tree block).
pub fn extent_node(b: &[u8]) -> Result<ExtentNode, String> {
    if b.len() < 12 {
        return Err("extent node shorter than its header".into());
    }
    let magic = le_u16(b, 0);
    if magic != EXTENT_MAGIC {
        return Err(format!("bad extent magic {magic:#06x}"));
    }
    let entries = usize::from(le_u16(b, 2));
    let max = usize::from(le_u16(b, 4));
    let depth = le_u16(b, 6);
    if entries > max || 12 + max * 12 > b.len() {
        return Err(format!(
            "extent node of {entries} entries (max {max}) does not fit {} bytes",
            b.len()
        ));
    }
    let e = |i: usize| &b[12 + i * 12..24 + i * 12];
    if depth == 0 {
        let mut runs = Vec::with_capacity(entries);
        for i in 0..entries {
            let x = e(i);
            let raw_len = le_u16(x, 4);
            let (len, uninit) = if raw_len > EXT_INIT_MAX_LEN {
                (raw_len - EXT_INIT_MAX_LEN, true)
            } else {
                (raw_len, false)
            };
            runs.push(Run {
                lblk: u64::from(u32_at(x, 0)),
                pblk: u64::from(le_u16(x, 6)) << 32 | u64::from(u32_at(x, 8)),
                len: u64::from(len),
                uninit,
            });
        }
        Ok(ExtentNode::Leaf(runs))
    } else {
        let kids = (0..entries)
            .map(|i| {
                let x = e(i);
                (
                    u64::from(u32_at(x, 0)),
                    u64::from(le_u16(x, 8)) << 32 | u64::from(u32_at(x, 4)),
                )
            })
            .collect();
        Ok(ExtentNode::Index(depth, kids))
    }
}

/// One linear directory entry.
pub struct RawEntry<'a> {
    pub inode: u32,
    pub name: &'a [u8],
    /// `file_type` (0 when the filesystem has no `filetype` feature).
    pub file_type: u8,
}

/// Walks the linear entries of one directory block (or an inline data region), calling `f`
/// for each live one; `f` returns `false` to stop. Returns whether it was stopped.
pub fn dir_entries(
    b: &[u8],
    filetype: bool,
    f: &mut dyn FnMut(RawEntry<'_>) -> bool,
) -> Result<bool, String> {
    let mut at = 0usize;
    while at < b.len() {
        if b.len() - at < 8 {
            return Err(format!("directory entry at {at} shorter than its header"));
        }
        let inode = u32_at(b, at);
        let mut rec_len = usize::from(le_u16(b, at + 4));
        if b.len() == 65536 && (rec_len == 65535 || rec_len == 0) {
            rec_len = 65536;
        }
        let (name_len, file_type) = if filetype {
            (usize::from(b[at + 6]), b[at + 7])
        } else {
            (usize::from(le_u16(b, at + 6)), 0)
        };
        if rec_len < 8 || rec_len % 4 != 0 || rec_len > b.len() - at {
            return Err(format!(
                "directory entry at {at}: record length {rec_len} (block of {})",
                b.len()
            ));
        }
        if inode != 0 {
            if 8 + name_len > rec_len || name_len == 0 {
                return Err(format!(
                    "directory entry at {at}: name of {name_len} bytes in a record of {rec_len}"
                ));
            }
            let name = &b[at + 8..at + 8 + name_len];
            if !f(RawEntry {
                inode,
                name,
                file_type,
            }) {
                return Ok(true);
            }
        }
        at += rec_len;
    }
    Ok(false)
}

// ---- jbd2 (big-endian)

pub const JBD2_MAGIC: u32 = 0xc03b_3998;
pub const JBD2_DESCRIPTOR: u32 = 1;
pub const JBD2_COMMIT: u32 = 2;
pub const JBD2_SB_V1: u32 = 3;
pub const JBD2_SB_V2: u32 = 4;
pub const JBD2_REVOKE: u32 = 5;

pub const JBD2_INCOMPAT_REVOKE: u32 = 0x1;
pub const JBD2_INCOMPAT_64BIT: u32 = 0x2;
pub const JBD2_INCOMPAT_ASYNC_COMMIT: u32 = 0x4;
pub const JBD2_INCOMPAT_CSUM_V2: u32 = 0x8;
pub const JBD2_INCOMPAT_CSUM_V3: u32 = 0x10;
pub const JBD2_INCOMPAT_FAST_COMMIT: u32 = 0x20;
pub const JBD2_INCOMPAT_KNOWN: u32 = JBD2_INCOMPAT_REVOKE
    | JBD2_INCOMPAT_64BIT
    | JBD2_INCOMPAT_ASYNC_COMMIT
    | JBD2_INCOMPAT_CSUM_V2
    | JBD2_INCOMPAT_CSUM_V3
    | JBD2_INCOMPAT_FAST_COMMIT;

/// Compatible feature: v1 commit checksums (CRC-32 of each transaction's descriptor and data
/// blocks, in its commit block).
pub const JBD2_COMPAT_CHECKSUM: u32 = 0x1;

pub const TAG_ESCAPE: u32 = 1;
pub const TAG_SAME_UUID: u32 = 2;
pub const TAG_LAST: u32 = 8;

/// A jbd2 block header: magic, block type, sequence.
pub fn jbd2_header(b: &[u8]) -> Option<(u32, u32)> {
    (b.len() >= 12 && be_u32(b, 0) == JBD2_MAGIC).then(|| (be_u32(b, 4), be_u32(b, 8)))
}

/// The journal superblock fields replay uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalSb {
    pub block_size: u32,
    pub maxlen: u32,
    pub first: u32,
    pub sequence: u32,
    pub start: u32,
    pub compat: u32,
    pub incompat: u32,
    pub uuid: [u8; 16],
}

impl JournalSb {
    pub fn has(&self, f: u32) -> bool {
        self.incompat & f != 0
    }
    pub fn csum(&self) -> bool {
        self.has(JBD2_INCOMPAT_CSUM_V2 | JBD2_INCOMPAT_CSUM_V3)
    }
    /// Bytes of one block tag in a descriptor block.
    pub fn tag_bytes(&self) -> usize {
        if self.has(JBD2_INCOMPAT_CSUM_V3) {
            return 16;
        }
        let mut sz = 12;
        if self.has(JBD2_INCOMPAT_CSUM_V2) {
            sz += 2;
        }
        if self.has(JBD2_INCOMPAT_64BIT) {
            sz
        } else {
            sz - 4
        }
    }
}

fn jsb_corrupt(why: String) -> FsError {
    FsError::Corrupt(format!("ext4 journal superblock: {why}"))
}

/// Decodes and checks the journal superblock (journal block 0).
pub fn parse_journal_sb(b: &[u8]) -> Result<JournalSb, FsError> {
    let Some((btype, _)) = jbd2_header(b) else {
        return Err(jsb_corrupt("bad magic (want 0xc03b3998)".into()));
    };
    if b.len() < 0x100 {
        return Err(jsb_corrupt(format!("only {} bytes", b.len())));
    }
    let incompat = match btype {
        JBD2_SB_V1 => 0,
        JBD2_SB_V2 => be_u32(b, 0x28),
        t => return Err(jsb_corrupt(format!("block type {t} is not a superblock"))),
    };
    let unknown = incompat & !JBD2_INCOMPAT_KNOWN;
    if unknown != 0 {
        return Err(FsError::Unsupported(format!(
            "ext4 journal with incompatible features {unknown:#x} the reader does not know: it cannot be replayed"
        )));
    }
    if incompat & (JBD2_INCOMPAT_CSUM_V2 | JBD2_INCOMPAT_CSUM_V3) != 0 && b.len() >= 1024 {
        // Over the 1024-byte superblock with its checksum field zeroed. A journal whose
        // superblock fails it is not loaded by the kernel nor replayed by e2fsck.
        let want = be_u32(b, 0xfc);
        let c = crc32c(!0, &b[..0xfc]);
        let c = crc32c(c, &[0; 4]);
        let got = crc32c(c, &b[0x100..1024]);
        if got != want {
            return Err(jsb_corrupt(format!(
                "checksum {got:#010x} does not match the stored {want:#010x}: the journal cannot be replayed"
            )));
        }
    }
    let mut uuid = [0u8; 16];
    uuid.copy_from_slice(&b[0x30..0x40]);
    Ok(JournalSb {
        block_size: be_u32(b, 0x0c),
        maxlen: be_u32(b, 0x10),
        first: be_u32(b, 0x14),
        sequence: be_u32(b, 0x18),
        start: be_u32(b, 0x1c),
        compat: if btype == JBD2_SB_V2 {
            be_u32(b, 0x24)
        } else {
            0
        },
        incompat,
        uuid,
    })
}

/// One tag of a descriptor block: the fs block its data block goes to, its flags and its
/// checksum (0 without checksums).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    pub block: u64,
    pub flags: u32,
    pub csum: u32,
}

/// The tags of a descriptor block.
pub fn descriptor_tags(b: &[u8], jsb: &JournalSb) -> Result<Vec<Tag>, String> {
    let tb = jsb.tag_bytes();
    let end = if jsb.csum() { b.len() - 4 } else { b.len() };
    let mut at = 12usize;
    let mut tags = Vec::new();
    while at + tb <= end {
        let block_lo = u64::from(be_u32(b, at));
        let (flags, csum, hi) = if jsb.has(JBD2_INCOMPAT_CSUM_V3) {
            (be_u32(b, at + 4), be_u32(b, at + 12), be_u32(b, at + 8))
        } else {
            let hi = if jsb.has(JBD2_INCOMPAT_64BIT) {
                be_u32(b, at + 8)
            } else {
                0
            };
            let csum = if jsb.has(JBD2_INCOMPAT_CSUM_V2) {
                u32::from(vhdlint_disk::bytes::be_u16(b, at + 4))
            } else {
                0
            };
            (u32::from(vhdlint_disk::bytes::be_u16(b, at + 6)), csum, hi)
        };
        let block = if jsb.has(JBD2_INCOMPAT_64BIT) {
            block_lo | u64::from(hi) << 32
        } else {
            block_lo
        };
        tags.push(Tag { block, flags, csum });
        at += tb;
        if flags & TAG_SAME_UUID == 0 {
            at += 16;
        }
        if flags & TAG_LAST != 0 {
            return Ok(tags);
        }
    }
    if tags.is_empty() {
        return Err("descriptor block without tags".into());
    }
    Ok(tags)
}

/// The fs blocks a revoke block revokes.
pub fn revoke_records(b: &[u8], jsb: &JournalSb) -> Result<Vec<u64>, String> {
    if b.len() < 16 {
        return Err("revoke block shorter than its header".into());
    }
    let count = be_u32(b, 12) as usize;
    let limit = if jsb.csum() { b.len() - 4 } else { b.len() };
    if !(16..=limit).contains(&count) {
        return Err(format!("revoke block of {count} bytes"));
    }
    let rs = if jsb.has(JBD2_INCOMPAT_64BIT) { 8 } else { 4 };
    let mut out = Vec::new();
    let mut at = 16;
    while at + rs <= count {
        out.push(if rs == 8 {
            vhdlint_disk::bytes::be_u64(b, at)
        } else {
            u64::from(be_u32(b, at))
        });
        at += rs;
    }
    Ok(out)
}

const fn crc32c_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82f6_3b78
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC32C: [u32; 256] = crc32c_table();

const fn crc32_be_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04c1_1db7
            } else {
                c << 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC32_BE: [u32; 256] = crc32_be_table();

/// CRC-32 (polynomial 0x04c11db7, most significant bit first, no inversions) continuing from
/// `crc`: jbd2's v1 commit checksum.
pub fn crc32_be(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = CRC32_BE[((crc >> 24) ^ u32::from(b)) as usize] ^ (crc << 8);
    }
    crc
}

/// CRC-32C (Castagnoli) continuing from `crc`, without the final inversion, as jbd2 chains it.
pub fn crc32c(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = CRC32C[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        // The check value of CRC-32C over "123456789" (with the usual init and final xor).
        assert_eq!(!crc32c(!0, b"123456789"), 0xe306_9283);
        // CRC-32/BZIP2 (MSB first, init and final xor !0).
        assert_eq!(!crc32_be(!0, b"123456789"), 0xfc89_1918);
    }

    #[test]
    fn a_journal_superblock_must_match_its_checksum() {
        let mut b = vec![0u8; 1024];
        b[0..4].copy_from_slice(&JBD2_MAGIC.to_be_bytes());
        b[4..8].copy_from_slice(&JBD2_SB_V2.to_be_bytes());
        b[0x0c..0x10].copy_from_slice(&1024u32.to_be_bytes());
        b[0x28..0x2c].copy_from_slice(&JBD2_INCOMPAT_CSUM_V3.to_be_bytes());
        let c = crc32c(!0, &b);
        b[0xfc..0x100].copy_from_slice(&c.to_be_bytes());
        assert_eq!(parse_journal_sb(&b).unwrap().block_size, 1024);
        b[0x40] ^= 1;
        let e = parse_journal_sb(&b).unwrap_err().to_string();
        assert!(e.contains("cannot be replayed"), "{e}");
        // Without checksums the same bytes are read.
        b[0x28..0x2c].copy_from_slice(&0u32.to_be_bytes());
        assert!(parse_journal_sb(&b).is_ok());
    }

    #[test]
    fn sparse_super_backups() {
        let mut sb = parse_superblock(&{
            let mut b = vec![0u8; SB_LEN];
            b[0x38..0x3a].copy_from_slice(&SB_MAGIC.to_le_bytes());
            b[0x04..0x08].copy_from_slice(&100_000u32.to_le_bytes());
            b[0x20..0x24].copy_from_slice(&8192u32.to_le_bytes());
            b[0x28..0x2c].copy_from_slice(&1024u32.to_le_bytes());
            b[0x14..0x18].copy_from_slice(&1u32.to_le_bytes());
            b
        })
        .unwrap();
        sb.ro_compat = RO_COMPAT_SPARSE_SUPER;
        let with: Vec<u64> = (0..60).filter(|&g| sb.group_has_super(g)).collect();
        assert_eq!(with, [0, 1, 3, 5, 7, 9, 25, 27, 49]);
        sb.compat = COMPAT_SPARSE_SUPER2;
        sb.backup_bgs = [1, 40];
        let with: Vec<u64> = (0..60).filter(|&g| sb.group_has_super(g)).collect();
        assert_eq!(with, [0, 1, 40]);
    }

    #[test]
    fn meta_bg_starting_after_the_last_descriptor_block_is_refused() {
        // 100,000 1 KiB blocks in groups of 8192: 13 groups, one descriptor block of 32.
        let sb = |first_meta_bg: u32| {
            let mut b = vec![0u8; SB_LEN];
            b[0x38..0x3a].copy_from_slice(&SB_MAGIC.to_le_bytes());
            b[0x04..0x08].copy_from_slice(&100_000u32.to_le_bytes());
            b[0x20..0x24].copy_from_slice(&8192u32.to_le_bytes());
            b[0x28..0x2c].copy_from_slice(&1024u32.to_le_bytes());
            b[0x14..0x18].copy_from_slice(&1u32.to_le_bytes());
            b[0x4c] = 1;
            b[0x54..0x58].copy_from_slice(&11u32.to_le_bytes());
            b[0x58..0x5a].copy_from_slice(&128u16.to_le_bytes());
            b[0x60..0x64].copy_from_slice(&INCOMPAT_META_BG.to_le_bytes());
            b[0x104..0x108].copy_from_slice(&first_meta_bg.to_le_bytes());
            parse_superblock(&b)
        };
        assert!(sb(0).is_ok());
        assert!(sb(1).is_ok());
        let e = sb(2).unwrap_err().to_string();
        assert!(
            e.contains("first meta_bg 2 after the 1 group descriptor blocks"),
            "{e}"
        );
    }

    #[test]
    fn unknown_incompatible_features_are_named() {
        let mut b = vec![0u8; SB_LEN];
        b[0x38..0x3a].copy_from_slice(&SB_MAGIC.to_le_bytes());
        b[0x4c] = 1;
        b[0x58..0x5a].copy_from_slice(&256u16.to_le_bytes());
        b[0x60..0x64].copy_from_slice(&(INCOMPAT_JOURNAL_DEV | INCOMPAT_FILETYPE).to_le_bytes());
        let e = parse_superblock(&b).unwrap_err().to_string();
        assert!(e.contains("journal_dev"), "{e}");
    }
}
