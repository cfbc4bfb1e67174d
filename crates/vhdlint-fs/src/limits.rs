//! Bounds of the filesystem readers, named in one place. Reaching one is reported as
//! [`FsError::Limit`](crate::FsError::Limit) naming the bound, never followed and never silently
//! cut short.

// ---- Paths and directories (every filesystem)

/// Entries read from one directory (ext4, XFS, NTFS); the largest real directories (mail
/// spools, `/usr/share/man/*`) hold tens of thousands.
pub const MAX_DIR_ENTRIES: usize = 1_000_000;
/// Bytes of a path during resolution (as Linux's `PATH_MAX`: 4096).
pub const MAX_PATH_LEN: usize = 4096;

// ---- Caches of one open filesystem (ext4, XFS), kept for the run: see `cache.rs`

/// Resolved paths kept (path → inode number); when full it starts again empty. A lint resolves
/// a few thousand.
pub const MAX_CACHED_PATHS: usize = 16_384;
/// Bytes of inodes kept (about 100 to 600 bytes each); when full it starts again empty.
pub const MAX_CACHED_INODE_BYTES: usize = 2 << 20;
/// Bytes of directory listings kept (a name's bytes and 32 per entry: some 50,000 entries of
/// usual names), the least recently used dropped first; a larger directory is not kept.
pub const MAX_CACHED_DIR_BYTES: usize = 4 << 20;

// ---- FAT

/// Bytes of boot sector, FAT and directory entries one FAT operation may read (read by the
/// `fatfs` crate, which follows cluster chains without looking for loops: this is what ends
/// one). A directory of [`MAX_DIR_ENTRIES`] entries with long names takes some 100 MiB; a file
/// read is allowed the bytes asked for on top. On a volume of under a few dozen MiB an
/// operation may read less: the volume's size once for each directory it reads, which a chain
/// without a loop never exceeds.
pub const MAX_FAT_METADATA_BYTES: u64 = 256 << 20;

// ---- NTFS

/// Bytes of metadata (MFT records, index records, attribute lists) one NTFS operation may
/// read: a directory of 1,000,000 entries needs about 100 MiB of index records.
pub const MAX_NTFS_METADATA_BYTES: u64 = 512 << 20;
/// Attributes of one NTFS file walked, attribute-list entries included (a file record holds
/// a few dozen; hard links and fragmented files add some thousand through a list).
pub const MAX_NTFS_ATTRIBUTES: usize = 65_536;
/// Bytes of one NTFS `$ATTRIBUTE_LIST` read to check it before the `ntfs` crate walks it
/// (Windows keeps them under 256 KiB; 4 MiB is 65,536 entries of 64 bytes).
pub const MAX_NTFS_ATTRIBUTE_LIST_BYTES: u64 = 4 << 20;
/// Index records one NTFS directory operation may load (1 GiB of 4 KiB records: more than
/// the metadata budget allows, so smaller records are what it bounds).
pub const MAX_NTFS_INDEX_RECORDS: usize = 262_144;
/// Bytes of a reparse point's data: Windows caps it at 16 KiB
/// (`MAXIMUM_REPARSE_DATA_BUFFER_SIZE`), plus its 8-byte header.
pub const MAX_NTFS_REPARSE_BYTES: usize = 16 * 1024 + 8;

// ---- XFS

/// Levels of an XFS block-map btree, the root in the inode counting as one (XFS itself
/// needs at most 5 with 4 KiB blocks).
pub const MAX_XFS_BTREE_DEPTH: u16 = 8;
/// Extents collected for one XFS inode (2^21: a 64 GiB file fragmented into 32 KiB pieces).
pub const MAX_XFS_EXTENTS: usize = 1 << 21;
/// Block-map btree blocks visited for one XFS inode: XFS keeps its btree blocks at least half
/// full, so [`MAX_XFS_EXTENTS`] extents take at most about 75,000 blocks (1 KiB blocks, 29
/// records each); this bounds a btree of nearly empty blocks.
pub const MAX_XFS_BTREE_BLOCKS: usize = 1 << 18;
/// Bytes of directory data blocks read for one XFS directory (1,000,000 entries with long
/// names take well under 1 GiB).
pub const MAX_XFS_DIR_BYTES: u64 = 1 << 30;
/// Bytes of an XFS symlink target (`XFS_SYMLINK_MAXLEN`: XFS stores no longer one).
pub const MAX_XFS_SYMLINK_LEN: u64 = 1024;

// ---- ext2/3/4

/// Block groups of one ext4 filesystem (2^20 groups is a 128 TiB filesystem at 4 KiB blocks,
/// far beyond any Azure disk); a corrupt block count or blocks-per-group is refused before
/// any group is looked at.
pub const MAX_EXT4_BLOCK_GROUPS: u64 = 1 << 20;
/// Depth of an ext4 extent tree below the root in the inode (ext4 itself allows 5).
pub const MAX_EXT4_EXTENT_DEPTH: u16 = 5;
/// Extents (or runs of an indirect block map) collected for one ext4 inode (2^21: a 64 GiB
/// file fragmented into 32 KiB pieces).
pub const MAX_EXT4_EXTENTS: usize = 1 << 21;
/// Extent-tree index/leaf blocks and indirect blocks read for one ext4 inode: a file of
/// [`MAX_EXT4_EXTENTS`] extents needs about 6,000 leaf blocks at 4 KiB, a fully mapped 64 GiB
/// file of 1 KiB blocks some 260,000 indirect blocks.
pub const MAX_EXT4_MAP_BLOCKS: usize = 1 << 19;
/// Block groups whose inode-table location one ext4 filesystem keeps (16 bytes each); when
/// full it starts again empty.
pub const MAX_EXT4_CACHED_GROUPS: usize = 65_536;
/// Bytes of one ext4 directory (1,000,000 entries with long names take well under 1 GiB).
pub const MAX_EXT4_DIR_BYTES: u64 = 1 << 30;
/// Bytes of an ext4 symlink target (Linux's `PATH_MAX`: 4096 with its NUL).
pub const MAX_EXT4_SYMLINK_LEN: u64 = 4096;
/// Blocks of an ext4 journal replayed in memory (mke2fs makes at most 10,240,000).
pub const MAX_EXT4_JOURNAL_BLOCKS: u64 = 1 << 24;
/// Logged blocks (and revoke records) a journal replay keeps: each is a few dozen bytes of
/// memory pointing into the journal, never the block's contents.
pub const MAX_EXT4_JOURNAL_OVERLAY_BLOCKS: usize = 1 << 22;

// ---- btrfs (read by the `lambutter` crate, which bounds its own tree descents at 16 levels
// and one decompressed extent at 16 MiB; these are vhdlint's bounds on top)

/// Bytes of a btrfs symlink target (`PATH_MAX - 1`: the kernel stores no longer one, and keeps
/// it inline in the FS tree).
pub const MAX_BTRFS_SYMLINK_LEN: u64 = 4095;
/// Reads of at most this many bytes (tree blocks: btrfs nodes are 4 to 64 KiB) are kept in a
/// btrfs filesystem's cache.
pub const MAX_BTRFS_CACHED_READ: usize = 64 << 10;
/// Reads kept in one btrfs filesystem's cache (16 MiB of 16 KiB nodes); when it is full it
/// starts again empty.
pub const MAX_BTRFS_CACHED_BLOCKS: usize = 1024;
