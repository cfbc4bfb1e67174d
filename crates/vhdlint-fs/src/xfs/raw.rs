//! XFS on-disk structures: magic numbers, formats, flags, layouts and field offsets, and the
//! raw decoding of fixed structures (big-endian, bounds-checked). Every function takes bytes and
//! returns values or a reason; none reads from the source.

use std::ops::ControlFlow;

use vhdlint_disk::bytes::{be_u16, be_u32, be_u64};

use crate::FsError;

/// Called with `(name, inode number, ftype)` for each directory entry; `Break` stops.
pub type EntryFn<'a> = dyn FnMut(&[u8], u64, u8) -> ControlFlow<()> + 'a;

/// First logical byte of a directory's leaf (hash index) space: data blocks lie below it.
pub const DIR_LEAF_OFFSET: u64 = 32 << 30;

pub const SB_MAGIC: u32 = 0x5846_5342; // XFSB
pub const INODE_MAGIC: u16 = 0x494e; // IN
pub const BMBT_V5_MAGIC: u32 = 0x424d_4133; // BMA3
pub const DIR3_BLOCK_MAGIC: u32 = 0x5844_4233; // XDB3
pub const DIR3_DATA_MAGIC: u32 = 0x5844_4433; // XDD3
pub const SYMLINK_MAGIC: u32 = 0x5853_4c4d; // XSLM
/// v5 inode core (`xfs_dinode` up to the data fork).
pub const INODE_CORE: usize = 176;
/// v5 long-format btree block header.
pub const BMBT_HDR: usize = 72;
/// v5 directory data/block header (`xfs_dir3_data_hdr`).
pub const DIR3_DATA_HDR: usize = 64;
/// v5 remote symlink block header.
pub const SYMLINK_HDR: usize = 56;
/// Bytes of the superblock fields decoded here.
pub const SB_LEN: usize = 264;

pub const FMT_DEV: u8 = 0;
pub const FMT_LOCAL: u8 = 1;
pub const FMT_EXTENTS: u8 = 2;
pub const FMT_BTREE: u8 = 3;

pub use crate::unix::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};

pub const DIFLAG_REALTIME: u16 = 1;
pub const DIFLAG2_NREXT64: u64 = 1 << 4;

const INCOMPAT_FTYPE: u32 = 1 << 0;
const INCOMPAT_SPINODES: u32 = 1 << 1;
const INCOMPAT_META_UUID: u32 = 1 << 2;
const INCOMPAT_BIGTIME: u32 = 1 << 3;
const INCOMPAT_NEEDSREPAIR: u32 = 1 << 4;
const INCOMPAT_NREXT64: u32 = 1 << 5;
const INCOMPAT_EXCHRANGE: u32 = 1 << 6;
const INCOMPAT_PARENT: u32 = 1 << 7;
const INCOMPAT_METADIR: u32 = 1 << 8;
/// Incompatible features this reader knows to be harmless for reading the data device.
const INCOMPAT_KNOWN: u32 = INCOMPAT_FTYPE
    | INCOMPAT_SPINODES
    | INCOMPAT_META_UUID
    | INCOMPAT_BIGTIME
    | INCOMPAT_NREXT64
    | INCOMPAT_EXCHRANGE
    | INCOMPAT_PARENT
    | INCOMPAT_METADIR;

/// The superblock fields the reader uses, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superblock {
    pub blocksize: u32,
    pub blocklog: u8,
    pub sectsize: u16,
    pub inodesize: u16,
    pub inopblock: u16,
    pub inopblog: u8,
    pub agblocks: u32,
    pub agblklog: u8,
    pub agcount: u32,
    pub dblocks: u64,
    pub rootino: u64,
    pub dirblklog: u8,
    /// 0: the log is on an external device.
    pub logstart: u64,
    pub ftype: bool,
    pub nrext64: bool,
    pub label: [u8; 12],
    pub uuid: [u8; 16],
}

fn sb_corrupt(why: String) -> FsError {
    FsError::Corrupt(format!("XFS superblock: {why}"))
}

fn log2_exact(v: u64, log: u8, what: &str, min: u64, max: u64) -> Result<(), FsError> {
    if !v.is_power_of_two() || v < min || v > max {
        return Err(sb_corrupt(format!(
            "{what} {v} is not a power of two in {min}..={max}"
        )));
    }
    if u32::from(log) != v.trailing_zeros() {
        return Err(sb_corrupt(format!(
            "{what} {v} does not match its log2 field {log}"
        )));
    }
    Ok(())
}

/// Decodes and checks the primary superblock (the first sector).
pub fn parse_superblock(b: &[u8]) -> Result<Superblock, FsError> {
    if b.len() < SB_LEN {
        return Err(sb_corrupt(format!("only {} bytes", b.len())));
    }
    let magic = be_u32(b, 0);
    if magic != SB_MAGIC {
        return Err(sb_corrupt(format!("bad magic {magic:#010x} (want XFSB)")));
    }
    let version = be_u16(b, 100) & 0xf;
    match version {
        5 => {}
        1..=4 => {
            return Err(FsError::Unsupported(format!(
                "XFS v{version} (no metadata CRCs) filesystem: only v5 is read"
            )))
        }
        _ => return Err(sb_corrupt(format!("unknown version {version}"))),
    }
    let blocksize = be_u32(b, 4);
    let blocklog = b[120];
    log2_exact(blocksize.into(), blocklog, "block size", 1024, 65536)?;
    let sectsize = be_u16(b, 102);
    log2_exact(sectsize.into(), b[121], "sector size", 512, 32768)?;
    let inodesize = be_u16(b, 104);
    log2_exact(inodesize.into(), b[122], "inode size", 512, 2048)?;
    if u32::from(inodesize) > blocksize {
        return Err(sb_corrupt(format!(
            "inode size {inodesize} exceeds block size {blocksize}"
        )));
    }
    let inopblock = be_u16(b, 106);
    let inopblog = b[123];
    if u32::from(inopblock) != blocksize / u32::from(inodesize) {
        return Err(sb_corrupt(format!(
            "{inopblock} inodes per block with {blocksize}-byte blocks and {inodesize}-byte inodes"
        )));
    }
    log2_exact(inopblock.into(), inopblog, "inodes per block", 1, 128)?;
    let agcount = be_u32(b, 88);
    let agblocks = be_u32(b, 84);
    let agblklog = b[124];
    if agcount == 0 {
        return Err(sb_corrupt("agcount is 0".into()));
    }
    if agblocks < 16 || agblklog > 31 {
        return Err(sb_corrupt(format!(
            "allocation group of {agblocks} blocks (log2 {agblklog})"
        )));
    }
    let ag_max = 1u64 << agblklog;
    if u64::from(agblocks) > ag_max || u64::from(agblocks) <= ag_max / 2 {
        return Err(sb_corrupt(format!(
            "agblklog {agblklog} does not fit {agblocks} blocks per group"
        )));
    }
    let dblocks = be_u64(b, 8);
    let full = u64::from(agcount) * u64::from(agblocks);
    let but_last = u64::from(agcount - 1) * u64::from(agblocks);
    if dblocks > full || dblocks <= but_last {
        return Err(sb_corrupt(format!(
            "{dblocks} data blocks do not match {agcount} groups of {agblocks} blocks"
        )));
    }
    let rblocks = be_u64(b, 16);
    let rextents = be_u64(b, 24);
    if rblocks != 0 || rextents != 0 {
        return Err(FsError::Unsupported(format!(
            "XFS realtime device ({rblocks} realtime blocks)"
        )));
    }
    if b[126] != 0 {
        return Err(FsError::Unsupported(
            "XFS filesystem whose creation did not finish (sb_inprogress)".into(),
        ));
    }
    let dirblklog = b[192];
    if u32::from(blocklog) + u32::from(dirblklog) > 16 {
        return Err(sb_corrupt(format!(
            "directory blocks of 2^{} bytes",
            u32::from(blocklog) + u32::from(dirblklog)
        )));
    }
    let incompat = be_u32(b, 216);
    if incompat & INCOMPAT_NEEDSREPAIR != 0 {
        return Err(FsError::Unsupported(
            "XFS filesystem flagged as needing xfs_repair".into(),
        ));
    }
    let unknown = incompat & !INCOMPAT_KNOWN;
    if unknown != 0 {
        return Err(FsError::Unsupported(format!(
            "XFS incompatible features {unknown:#x}"
        )));
    }
    let mut label = [0; 12];
    label.copy_from_slice(&b[108..120]);
    let mut uuid = [0; 16];
    uuid.copy_from_slice(&b[32..48]);
    Ok(Superblock {
        blocksize,
        blocklog,
        sectsize,
        inodesize,
        inopblock,
        inopblog,
        agblocks,
        agblklog,
        agcount,
        dblocks,
        rootino: be_u64(b, 56),
        dirblklog,
        logstart: be_u64(b, 48),
        ftype: incompat & INCOMPAT_FTYPE != 0,
        nrext64: incompat & INCOMPAT_NREXT64 != 0,
        label,
        uuid,
    })
}

/// The inode fields the reader uses, and a copy of the data fork.
#[derive(Debug, Clone)]
pub struct Inode {
    pub ino: u64,
    pub mode: u16,
    pub format: u8,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub nextents: u64,
    pub flags: u16,
    pub fork: Vec<u8>,
}

impl Inode {
    pub fn file_type(&self) -> u16 {
        self.mode & S_IFMT
    }
}

/// Decodes inode `ino` from its `inodesize` bytes.
pub fn parse_inode(b: &[u8], ino: u64, nrext64: bool) -> Result<Inode, String> {
    if b.len() < INODE_CORE + 8 {
        return Err(format!("inode record of {} bytes", b.len()));
    }
    let magic = be_u16(b, 0);
    if magic != INODE_MAGIC {
        return Err(format!("bad inode magic {magic:#06x}"));
    }
    let version = b[4];
    if version != 3 {
        return Err(format!("inode version {version} (v5 uses 3)"));
    }
    let recorded = be_u64(b, 152);
    if recorded != ino {
        return Err(format!("inode records its number as {recorded}"));
    }
    let mode = be_u16(b, 2);
    if mode & S_IFMT == 0 {
        return Err("inode is free (mode 0)".into());
    }
    let size = be_u64(b, 56);
    if size > i64::MAX as u64 {
        return Err(format!("negative size {size:#x}"));
    }
    let flags2 = be_u64(b, 120);
    let nextents = if flags2 & DIFLAG2_NREXT64 != 0 {
        if !nrext64 {
            return Err("large extent counts without the nrext64 feature".into());
        }
        be_u64(b, 24)
    } else {
        u64::from(be_u32(b, 76))
    };
    let literal = b.len() - INODE_CORE;
    let forkoff = usize::from(b[82]) * 8;
    let dsize = if forkoff == 0 { literal } else { forkoff };
    if dsize > literal {
        return Err(format!(
            "fork offset {forkoff} beyond the {literal}-byte literal area"
        ));
    }
    Ok(Inode {
        ino,
        mode,
        format: b[5],
        uid: be_u32(b, 8),
        gid: be_u32(b, 12),
        size,
        nextents,
        flags: be_u16(b, 90),
        fork: b[INODE_CORE..INODE_CORE + dsize].to_vec(),
    })
}

/// One mapping of the block map: file blocks `[startoff, startoff+blockcount)` are at
/// filesystem block `startblock` (AG-encoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub startoff: u64,
    pub startblock: u64,
    pub blockcount: u64,
    pub unwritten: bool,
}

/// Decodes a packed 16-byte extent record (flag:1, startoff:54, startblock:52, count:21).
pub fn extent(rec: &[u8]) -> Extent {
    let hi = be_u64(rec, 0);
    let lo = be_u64(rec, 8);
    Extent {
        unwritten: hi >> 63 != 0,
        startoff: (hi >> 9) & ((1 << 54) - 1),
        startblock: ((hi & 0x1ff) << 43) | (lo >> 21),
        blockcount: lo & ((1 << 21) - 1),
    }
}

/// The extent records of an extent-list data fork.
pub fn fork_extents(fork: &[u8], nextents: u64) -> Result<Vec<Extent>, String> {
    let room = (fork.len() / 16) as u64;
    if nextents > room {
        return Err(format!(
            "{nextents} extents do not fit the {}-byte fork",
            fork.len()
        ));
    }
    Ok(fork
        .chunks_exact(16)
        .take(nextents as usize)
        .map(extent)
        .collect())
}

/// The btree root in the inode fork (`xfs_bmdr_block`): its level and `(key, child)` pairs.
pub fn bmbt_root(fork: &[u8]) -> Result<(u16, Vec<(u64, u64)>), String> {
    if fork.len() < 4 + 16 {
        return Err(format!("btree root in a {}-byte fork", fork.len()));
    }
    let level = be_u16(fork, 0);
    let numrecs = usize::from(be_u16(fork, 2));
    let maxrecs = (fork.len() - 4) / 16;
    if numrecs == 0 || numrecs > maxrecs {
        return Err(format!(
            "btree root with {numrecs} records (room for {maxrecs})"
        ));
    }
    let ptrs = 4 + maxrecs * 8;
    let recs = (0..numrecs)
        .map(|i| (be_u64(fork, 4 + i * 8), be_u64(fork, ptrs + i * 8)))
        .collect();
    Ok((level, recs))
}

/// A decoded block-map btree block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BmbtNode {
    Leaf(Vec<Extent>),
    /// `(first file block of the child, child block)` pairs.
    Interior(Vec<(u64, u64)>),
}

/// Decodes a v5 block-map btree block that must be at `level`, belong to inode `owner` and
/// record its own disk address `daddr` (512-byte units).
pub fn bmbt_block(b: &[u8], owner: u64, daddr: u64, level: u16) -> Result<BmbtNode, String> {
    if b.len() < BMBT_HDR + 16 {
        return Err(format!("btree block of {} bytes", b.len()));
    }
    let magic = be_u32(b, 0);
    if magic != BMBT_V5_MAGIC {
        return Err(format!(
            "bad block-map btree magic {magic:#010x} (want BMA3)"
        ));
    }
    let got = be_u16(b, 4);
    if got != level {
        return Err(format!("btree block at level {got}, expected {level}"));
    }
    let blkno = be_u64(b, 24);
    if blkno != daddr {
        return Err(format!("btree block records its address as {blkno}"));
    }
    let own = be_u64(b, 56);
    if own != owner {
        return Err(format!("btree block belongs to inode {own}"));
    }
    let numrecs = usize::from(be_u16(b, 6));
    let maxrecs = (b.len() - BMBT_HDR) / 16;
    if numrecs == 0 || numrecs > maxrecs {
        return Err(format!(
            "btree block with {numrecs} records (room for {maxrecs})"
        ));
    }
    if level == 0 {
        Ok(BmbtNode::Leaf(
            b[BMBT_HDR..BMBT_HDR + numrecs * 16]
                .chunks_exact(16)
                .map(extent)
                .collect(),
        ))
    } else {
        let ptrs = BMBT_HDR + maxrecs * 8;
        Ok(BmbtNode::Interior(
            (0..numrecs)
                .map(|i| (be_u64(b, BMBT_HDR + i * 8), be_u64(b, ptrs + i * 8)))
                .collect(),
        ))
    }
}

/// Calls `f(name, inode, ftype)` for each entry of a shortform directory of `size` bytes.
pub fn shortform_entries(
    fork: &[u8],
    size: u64,
    ftype: bool,
    f: &mut EntryFn<'_>,
) -> Result<ControlFlow<()>, String> {
    let d = usize::try_from(size)
        .ok()
        .and_then(|n| fork.get(..n))
        .ok_or_else(|| {
            format!(
                "shortform directory of {size} bytes in a {}-byte fork",
                fork.len()
            )
        })?;
    if d.len() < 6 {
        return Err(format!("shortform directory of {} bytes", d.len()));
    }
    let count = d[0];
    let inolen = if d[1] != 0 { 8 } else { 4 };
    let ft = usize::from(ftype);
    let mut pos = 2 + inolen;
    for i in 0..count {
        let namelen = usize::from(
            *d.get(pos)
                .ok_or_else(|| format!("shortform entry {i} past the end"))?,
        );
        let entlen = 3 + namelen + ft + inolen;
        let ent = d
            .get(pos..pos + entlen)
            .ok_or_else(|| format!("shortform entry {i} past the end"))?;
        if namelen == 0 {
            return Err(format!("shortform entry {i} has an empty name"));
        }
        let name = &ent[3..3 + namelen];
        let ftv = if ftype { ent[3 + namelen] } else { 0 };
        let at = 3 + namelen + ft;
        let ino = if inolen == 8 {
            be_u64(ent, at)
        } else {
            u64::from(be_u32(ent, at))
        };
        pos += entlen;
        if f(name, ino, ftv).is_break() {
            return Ok(ControlFlow::Break(()));
        }
    }
    Ok(ControlFlow::Continue(()))
}

/// Checks the v5 header of a directory data block: owner inode and own disk address.
pub fn dir3_header(b: &[u8], owner: u64, daddr: u64) -> Result<(), String> {
    if b.len() < DIR3_DATA_HDR {
        return Err(format!("directory block of {} bytes", b.len()));
    }
    let blkno = be_u64(b, 8);
    if blkno != daddr {
        return Err(format!("directory block records its address as {blkno}"));
    }
    let own = be_u64(b, 40);
    if own != owner {
        return Err(format!("directory block belongs to inode {own}"));
    }
    Ok(())
}

/// Calls `f(name, inode, ftype)` for each entry of a directory data block (`XDB3`, with
/// its hash index and tail, or `XDD3`). `.` and `..` are passed on too.
pub fn data_block_entries(
    b: &[u8],
    ftype: bool,
    f: &mut EntryFn<'_>,
) -> Result<ControlFlow<()>, String> {
    let len = b.len();
    if len < DIR3_DATA_HDR + 16 {
        return Err(format!("directory block of {len} bytes"));
    }
    let magic = be_u32(b, 0);
    let end = match magic {
        DIR3_BLOCK_MAGIC => {
            let count = u64::from(be_u32(b, len - 8));
            let index = 8 + count * 8;
            if index > (len - DIR3_DATA_HDR) as u64 {
                return Err(format!("block directory with {count} hash entries"));
            }
            len - index as usize
        }
        DIR3_DATA_MAGIC => len,
        _ => return Err(format!("bad directory data magic {magic:#010x}")),
    };
    let ft = usize::from(ftype);
    let mut pos = DIR3_DATA_HDR;
    while pos < end {
        if end - pos < 8 {
            return Err(format!("truncated entry at byte {pos}"));
        }
        if be_u16(b, pos) == 0xffff {
            let free = usize::from(be_u16(b, pos + 2));
            if free < 8 || free % 8 != 0 || free > end - pos {
                return Err(format!("free region of {free} bytes at byte {pos}"));
            }
            pos += free;
            continue;
        }
        let namelen = usize::from(b[pos + 8]);
        let entlen = (8 + 1 + namelen + ft + 2).div_ceil(8) * 8;
        if namelen == 0 || entlen > end - pos {
            return Err(format!(
                "entry at byte {pos} with a {namelen}-byte name does not fit"
            ));
        }
        let ino = be_u64(b, pos);
        let name = &b[pos + 9..pos + 9 + namelen];
        let ftv = if ftype { b[pos + 9 + namelen] } else { 0 };
        pos += entlen;
        if f(name, ino, ftv).is_break() {
            return Ok(ControlFlow::Break(()));
        }
    }
    Ok(ControlFlow::Continue(()))
}

/// The target bytes held by one remote symlink block, checked against its owner, its
/// disk address and the offset of these bytes in the target.
pub fn symlink_block(b: &[u8], owner: u64, daddr: u64, offset: u64) -> Result<&[u8], String> {
    if b.len() < SYMLINK_HDR {
        return Err(format!("symlink block of {} bytes", b.len()));
    }
    let magic = be_u32(b, 0);
    if magic != SYMLINK_MAGIC {
        return Err(format!("bad symlink block magic {magic:#010x} (want XSLM)"));
    }
    let off = u64::from(be_u32(b, 4));
    if off != offset {
        return Err(format!(
            "symlink block holds offset {off}, expected {offset}"
        ));
    }
    let own = be_u64(b, 32);
    if own != owner {
        return Err(format!("symlink block belongs to inode {own}"));
    }
    let blkno = be_u64(b, 40);
    if blkno != daddr {
        return Err(format!("symlink block records its address as {blkno}"));
    }
    let bytes = be_u32(b, 8) as usize;
    b.get(SYMLINK_HDR..SYMLINK_HDR + bytes)
        .ok_or_else(|| format!("symlink block claims {bytes} bytes"))
}
