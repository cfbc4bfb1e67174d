//! XFS (v5 as made by current xfsprogs), read-only, by reading bytes.
//!
//! Two layers: [`raw`] decodes on-disk structures from byte slices (big-endian, bounds-checked,
//! no I/O); [`XfsFs`] reads blocks through the byte source and does the lookups (inode by
//! number, extent maps, directories, symlinks, file contents).
//!
//! Supported: v5 (CRC) filesystems with the features current `mkfs.xfs` sets (ftype, sparse
//! inodes, finobt, reflink, bigtime, inobtcount, nrext64, meta_uuid, parent pointers,
//! exchange-range, metadir without realtime); directories in every format (shortform, block,
//! leaf, node, with an extent-list or a btree data fork); regular files with an extent-list or
//! btree data fork (holes and unwritten extents read as zeros); inline and remote symlinks.
//! Not supported (reported as [`FsError::Unsupported`]): v4 filesystems, a realtime device,
//! realtime files, unknown incompatible features, a filesystem mkfs did not finish or that is
//! flagged as needing repair. The log is not replayed: a filesystem that was not unmounted
//! cleanly is read as its metadata blocks stand. CRCs are not verified; the self-describing
//! fields (owner, block number, magic, level) of every v5 block are.

pub mod raw;

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::Arc;

use vhdlint_disk::SharedSource;

use crate::limits::{
    MAX_DIR_ENTRIES, MAX_XFS_BTREE_BLOCKS, MAX_XFS_BTREE_DEPTH, MAX_XFS_DIR_BYTES, MAX_XFS_EXTENTS,
    MAX_XFS_SYMLINK_LEN,
};
use crate::{DirEntry, FileKind, Filesystem, FsError, Metadata};

use crate::cache::{Listing, ListingBuilder, LookupCache};
use raw::{Extent, Inode, DIR_LEAF_OFFSET};

/// The state of one block-map btree walk: the blocks visited, the extents found, and a
/// buffer for the block being read (each block is decoded before its children are read).
struct Walk {
    visited: HashSet<u64>,
    out: Vec<Extent>,
    block: Vec<u8>,
}

/// A read-only XFS filesystem over a byte source.
pub struct XfsFs {
    src: SharedSource,
    sb: raw::Superblock,
    /// Paths resolved, inodes and directory listings read, kept for the run.
    cache: LookupCache<Inode>,
}

fn corrupt_ino(ino: u64, why: impl std::fmt::Display) -> FsError {
    FsError::Corrupt(format!("XFS inode {ino}: {why}"))
}

fn corrupt_blk(ino: u64, fsb: u64, why: impl std::fmt::Display) -> FsError {
    FsError::Corrupt(format!("XFS inode {ino}, block {fsb}: {why}"))
}

use crate::unix::kind_of_mode;

impl XfsFs {
    /// Reads and checks the superblock and the root directory's inode.
    pub fn open(source: SharedSource) -> Result<XfsFs, FsError> {
        let mut b = vec![0; raw::SB_LEN];
        source
            .read_at(0, &mut b)
            .map_err(|e| FsError::Io(format!("XFS superblock: {e}")))?;
        let sb = raw::parse_superblock(&b)?;
        let fs = XfsFs {
            src: source,
            sb,
            cache: LookupCache::default(),
        };
        let root = fs.inode(fs.sb.rootino)?;
        if root.file_type() != raw::S_IFDIR {
            return Err(corrupt_ino(root.ino, "the root inode is not a directory"));
        }
        Ok(fs)
    }

    /// The validated superblock.
    pub fn superblock(&self) -> &raw::Superblock {
        &self.sb
    }

    /// The volume label, if one is set.
    pub fn label(&self) -> Option<String> {
        let end = self.sb.label.iter().position(|&c| c == 0).unwrap_or(12);
        (end > 0).then(|| String::from_utf8_lossy(&self.sb.label[..end]).into_owned())
    }

    /// Whether the log is on an external device (its state cannot be checked here).
    pub fn has_external_log(&self) -> bool {
        self.sb.logstart == 0
    }

    fn read_bytes(
        &self,
        offset: u64,
        buf: &mut [u8],
        what: impl Fn() -> String,
    ) -> Result<(), FsError> {
        self.src
            .read_at(offset, buf)
            .map_err(|e| FsError::Io(format!("{}: {e}", what())))
    }

    /// Byte offset of filesystem block `fsb`, checking that `count` blocks from it stay in
    /// one allocation group.
    fn fsb_offset(&self, fsb: u64, count: u64) -> Option<u64> {
        let agno = fsb >> self.sb.agblklog;
        let agbno = fsb & ((1u64 << self.sb.agblklog) - 1);
        if agno >= u64::from(self.sb.agcount)
            || agbno.checked_add(count)? > u64::from(self.sb.agblocks)
        {
            return None;
        }
        let linear = agno * u64::from(self.sb.agblocks) + agbno;
        linear.checked_mul(u64::from(self.sb.blocksize))
    }

    /// Reads `buf.len()` bytes from filesystem block `fsb` (for inode `ino`'s `what`).
    fn read_fsb(&self, ino: u64, fsb: u64, buf: &mut [u8], what: &str) -> Result<u64, FsError> {
        let blocks = (buf.len() as u64).div_ceil(u64::from(self.sb.blocksize));
        let off = self.fsb_offset(fsb, blocks).ok_or_else(|| {
            corrupt_blk(
                ino,
                fsb,
                format!("{what} block lies outside the filesystem"),
            )
        })?;
        self.read_bytes(off, buf, || format!("XFS inode {ino}, {what} block {fsb}"))?;
        Ok(off)
    }

    /// Inode `ino`, read once.
    fn inode(&self, ino: u64) -> Result<Inode, FsError> {
        self.cache
            .inode(ino, || self.read_inode(ino), |i| i.fork.len())
    }

    /// Reads inode `ino`, located from its number (AG, block in AG, slot in block).
    fn read_inode(&self, ino: u64) -> Result<Inode, FsError> {
        let sb = &self.sb;
        let agino_bits = u32::from(sb.agblklog) + u32::from(sb.inopblog);
        let agno = ino >> agino_bits;
        let agino = ino & ((1u64 << agino_bits) - 1);
        let agbno = agino >> sb.inopblog;
        let slot = agino & (u64::from(sb.inopblock) - 1);
        if ino == 0 || agno >= u64::from(sb.agcount) || agbno >= u64::from(sb.agblocks) {
            return Err(corrupt_ino(ino, "inode number lies outside the filesystem"));
        }
        let block = self
            .fsb_offset((agno << sb.agblklog) | agbno, 1)
            .ok_or_else(|| corrupt_ino(ino, "inode number lies outside the filesystem"))?;
        let off = block + slot * u64::from(sb.inodesize);
        let mut b = vec![0; usize::from(sb.inodesize)];
        self.read_bytes(off, &mut b, || format!("XFS inode {ino}"))?;
        raw::parse_inode(&b, ino, sb.nrext64).map_err(|why| corrupt_ino(ino, why))
    }

    /// The data-fork extents of `inode` that start below file block `limit`, in file order,
    /// checked to be non-empty, sorted and non-overlapping.
    fn extents(&self, inode: &Inode, limit: u64) -> Result<Vec<Extent>, FsError> {
        let ino = inode.ino;
        let mut out = match inode.format {
            raw::FMT_EXTENTS => {
                let mut v = raw::fork_extents(&inode.fork, inode.nextents)
                    .map_err(|why| corrupt_ino(ino, why))?;
                v.retain(|e| e.startoff < limit);
                v
            }
            raw::FMT_BTREE => {
                let (level, recs) =
                    raw::bmbt_root(&inode.fork).map_err(|why| corrupt_ino(ino, why))?;
                if level == 0 {
                    return Err(corrupt_ino(ino, "btree root at level 0"));
                }
                if level >= MAX_XFS_BTREE_DEPTH {
                    return Err(FsError::limit("MAX_XFS_BTREE_DEPTH", format!(
                        "XFS inode {ino}: block-map btree of {} levels, over the limit of {MAX_XFS_BTREE_DEPTH}",
                        u32::from(level) + 1
                    )));
                }
                let mut walk = Walk {
                    visited: HashSet::new(),
                    out: Vec::new(),
                    block: vec![0; self.sb.blocksize as usize],
                };
                for (key, child) in recs {
                    if key >= limit {
                        break;
                    }
                    self.walk_bmbt(ino, child, level - 1, limit, &mut walk)?;
                }
                walk.out
            }
            f => {
                return Err(corrupt_ino(
                    ino,
                    format!("data fork format {f} has no extents"),
                ))
            }
        };
        out.retain(|e| e.startoff < limit);
        let mut next = 0u64;
        for e in &out {
            if e.blockcount == 0 {
                return Err(corrupt_ino(
                    ino,
                    format!("empty extent at file block {}", e.startoff),
                ));
            }
            if e.startoff < next {
                return Err(corrupt_ino(
                    ino,
                    format!(
                        "extents out of order or overlapping at file block {}",
                        e.startoff
                    ),
                ));
            }
            next = e.startoff + e.blockcount;
        }
        Ok(out)
    }

    fn walk_bmbt(
        &self,
        ino: u64,
        fsb: u64,
        level: u16,
        limit: u64,
        walk: &mut Walk,
    ) -> Result<(), FsError> {
        if !walk.visited.insert(fsb) {
            return Err(corrupt_blk(
                ino,
                fsb,
                "block-map btree visits this block twice",
            ));
        }
        if walk.visited.len() > MAX_XFS_BTREE_BLOCKS {
            return Err(FsError::limit("MAX_XFS_BTREE_BLOCKS", format!(
                "XFS inode {ino}: more than {MAX_XFS_BTREE_BLOCKS} block-map btree blocks, the limit"
            )));
        }
        let off = self.read_fsb(ino, fsb, &mut walk.block, "block-map btree")?;
        let node = raw::bmbt_block(&walk.block, ino, off / 512, level)
            .map_err(|why| corrupt_blk(ino, fsb, why))?;
        match node {
            raw::BmbtNode::Leaf(recs) => {
                for e in recs {
                    if e.startoff >= limit {
                        break;
                    }
                    walk.out.push(e);
                    if walk.out.len() > MAX_XFS_EXTENTS {
                        return Err(FsError::limit(
                            "MAX_XFS_EXTENTS",
                            format!(
                                "XFS inode {ino}: more than {MAX_XFS_EXTENTS} extents, the limit"
                            ),
                        ));
                    }
                }
            }
            raw::BmbtNode::Interior(recs) => {
                for (key, child) in recs {
                    if key >= limit {
                        break;
                    }
                    self.walk_bmbt(ino, child, level - 1, limit, walk)?;
                }
            }
        }
        Ok(())
    }

    /// Calls `f(name, inode, ftype)` for each entry of directory `dir` but `.` and `..`.
    fn for_each_entry(&self, dir: &Inode, f: &mut raw::EntryFn<'_>) -> Result<(), FsError> {
        let ino = dir.ino;
        let mut count = 0usize;
        let mut over = false;
        let mut each = |name: &[u8], child: u64, ft: u8| {
            if name == b"." || name == b".." {
                return ControlFlow::Continue(());
            }
            count += 1;
            if count > MAX_DIR_ENTRIES {
                over = true;
                return ControlFlow::Break(());
            }
            f(name, child, ft)
        };
        match dir.format {
            raw::FMT_LOCAL => {
                // Stopping early (a lookup found its name) is not an error.
                let _flow = raw::shortform_entries(&dir.fork, dir.size, self.sb.ftype, &mut each)
                    .map_err(|why| corrupt_ino(ino, why))?;
            }
            raw::FMT_EXTENTS | raw::FMT_BTREE => self.data_blocks(dir, &mut each)?,
            f => {
                return Err(corrupt_ino(
                    ino,
                    format!("directory with data fork format {f}"),
                ))
            }
        }
        if over {
            return Err(FsError::limit(
                "MAX_DIR_ENTRIES",
                format!(
                    "XFS directory inode {ino}: more than {MAX_DIR_ENTRIES} entries, the limit"
                ),
            ));
        }
        Ok(())
    }

    /// Walks the data blocks (below the leaf offset) of a block, leaf or node directory.
    fn data_blocks(&self, dir: &Inode, each: &mut raw::EntryFn<'_>) -> Result<(), FsError> {
        let ino = dir.ino;
        let bs = u64::from(self.sb.blocksize);
        let leaf_first = DIR_LEAF_OFFSET >> self.sb.blocklog;
        let exts = self.extents(dir, leaf_first)?;
        let per = 1u64 << self.sb.dirblklog;
        let mut buf = vec![0u8; (bs * per) as usize];
        let mut read = 0u64;
        let mut next = 0u64;
        for e in &exts {
            let end = (e.startoff + e.blockcount).min(leaf_first);
            let mut d = e.startoff.max(next) / per * per;
            while d < end {
                read += bs * per;
                if read > MAX_XFS_DIR_BYTES {
                    return Err(FsError::limit("MAX_XFS_DIR_BYTES", format!(
                        "XFS directory inode {ino}: more than {MAX_XFS_DIR_BYTES} bytes of data blocks, the limit"
                    )));
                }
                let mut first = None;
                for i in 0..per {
                    let lblk = d + i;
                    let idx = exts.partition_point(|x| x.startoff + x.blockcount <= lblk);
                    let m = exts
                        .get(idx)
                        .filter(|x| x.startoff <= lblk)
                        .ok_or_else(|| {
                            corrupt_ino(ino, format!("directory block {d} is partly unmapped"))
                        })?;
                    let fsb = m.startblock + (lblk - m.startoff);
                    let chunk = &mut buf[(i * bs) as usize..((i + 1) * bs) as usize];
                    let off = self.read_fsb(ino, fsb, chunk, "directory")?;
                    first.get_or_insert((fsb, off));
                }
                let (fsb, off) = first.unwrap_or_default();
                raw::dir3_header(&buf, ino, off / 512).map_err(|why| corrupt_blk(ino, fsb, why))?;
                let flow = raw::data_block_entries(&buf, self.sb.ftype, each)
                    .map_err(|why| corrupt_blk(ino, fsb, why))?;
                if flow.is_break() {
                    return Ok(());
                }
                d += per;
                next = d;
            }
        }
        Ok(())
    }

    /// The listing of directory `dir`: the one kept, else read whole and kept if it fits
    /// (see [`crate::cache`]).
    fn listing(&self, dir: &Inode) -> Result<Arc<Listing>, FsError> {
        if let Some(l) = self.cache.listing(dir.ino) {
            return Ok(l);
        }
        let mut all = Vec::new();
        self.for_each_entry(dir, &mut |name, ino, ft| {
            all.push((name.into(), ino, ft));
            ControlFlow::Continue(())
        })?;
        let l = Arc::new(Listing::new(all));
        self.cache.keep_listing(dir.ino, l.clone());
        Ok(l)
    }

    /// The inode number of `comp` in directory `dir`, if it is there: from the listing kept,
    /// else from one pass over the directory that keeps its listing if it fits, or stops at
    /// the name once it does not. A name found before damage further on is found, as a scan
    /// that stops at it finds it.
    fn lookup(&self, dir: &Inode, comp: &str) -> Result<Option<u64>, FsError> {
        if let Some(l) = self.cache.listing(dir.ino) {
            return Ok(l.get(comp.as_bytes()).map(|(n, _)| n));
        }
        let mut b = ListingBuilder::default();
        let mut keeping = true;
        let mut found = None;
        let walked = self.for_each_entry(dir, &mut |name, child, ft| {
            if found.is_none() && name == comp.as_bytes() {
                found = Some(child);
            }
            keeping = keeping && b.push(name, child, ft);
            if !keeping && found.is_some() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        match walked {
            Err(e) if found.is_none() => return Err(e),
            Err(_) => {}
            Ok(()) => {
                if let Some(l) = b.finish().filter(|_| keeping) {
                    self.cache.keep_listing(dir.ino, Arc::new(l));
                }
            }
        }
        Ok(found)
    }

    /// The inode at `path` (absolute, normalised), not following a final symlink.
    fn resolve(&self, path: &str) -> Result<Inode, FsError> {
        self.cache.resolve(
            path,
            self.sb.rootino,
            |n| self.inode(n),
            |i| i.file_type() == raw::S_IFDIR,
            |dir, comp| self.lookup(dir, comp),
        )
    }

    /// At most `max` bytes from the start of regular file `inode`.
    fn read_file(&self, inode: &Inode, max: u64) -> Result<Vec<u8>, FsError> {
        let ino = inode.ino;
        if inode.flags & raw::DIFLAG_REALTIME != 0 {
            return Err(FsError::Unsupported(format!(
                "XFS inode {ino}: file on the realtime device"
            )));
        }
        let want = inode.size.min(max);
        let len = usize::try_from(want).map_err(|_| {
            FsError::limit("address space", format!("XFS inode {ino}: {want} bytes"))
        })?;
        if len == 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        out.try_reserve_exact(len).map_err(|_| {
            FsError::limit(
                "memory",
                format!("XFS inode {ino}: cannot hold {want} bytes"),
            )
        })?;
        out.resize(len, 0);
        let bs = u64::from(self.sb.blocksize);
        for e in self.extents(inode, want.div_ceil(bs))? {
            if e.unwritten {
                continue;
            }
            let lo = e.startoff.saturating_mul(bs);
            let hi = (e.startoff + e.blockcount).saturating_mul(bs).min(want);
            if lo >= hi {
                continue;
            }
            let base = self.fsb_offset(e.startblock, e.blockcount).ok_or_else(|| {
                corrupt_blk(ino, e.startblock, "file extent lies outside the filesystem")
            })?;
            self.read_bytes(base, &mut out[lo as usize..hi as usize], || {
                format!("XFS inode {ino}, file block {}", e.startoff)
            })?;
        }
        Ok(out)
    }

    /// Bytes of regular file `inode` from byte `offset` into `buf`, up to its size: the bytes
    /// [`XfsFs::read_file`] gives there, reading only the extents that hold them.
    fn read_file_range(
        &self,
        inode: &Inode,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, FsError> {
        let ino = inode.ino;
        if inode.flags & raw::DIFLAG_REALTIME != 0 {
            return Err(FsError::Unsupported(format!(
                "XFS inode {ino}: file on the realtime device"
            )));
        }
        let n = crate::range_len(inode.size, offset, buf.len());
        if n == 0 {
            return Ok(0);
        }
        let end = offset + n as u64;
        let out = &mut buf[..n];
        out.fill(0);
        let bs = u64::from(self.sb.blocksize);
        for e in self.extents(inode, end.div_ceil(bs))? {
            if e.unwritten {
                continue;
            }
            let start = e.startoff.saturating_mul(bs);
            let lo = start.max(offset);
            let hi = (e.startoff + e.blockcount).saturating_mul(bs).min(end);
            if lo >= hi {
                continue;
            }
            let base = self.fsb_offset(e.startblock, e.blockcount).ok_or_else(|| {
                corrupt_blk(ino, e.startblock, "file extent lies outside the filesystem")
            })?;
            self.read_bytes(
                base + (lo - start),
                &mut out[(lo - offset) as usize..(hi - offset) as usize],
                || format!("XFS inode {ino}, file block {}", lo / bs),
            )?;
        }
        Ok(n)
    }

    /// The target of symlink `inode`.
    fn symlink_target(&self, inode: &Inode) -> Result<Vec<u8>, FsError> {
        let ino = inode.ino;
        if inode.size == 0 {
            return Err(corrupt_ino(ino, "symlink of 0 bytes"));
        }
        if inode.size > MAX_XFS_SYMLINK_LEN {
            return Err(corrupt_ino(
                ino,
                format!(
                    "symlink of {} bytes, over the limit of {MAX_XFS_SYMLINK_LEN} (XFS stores no longer one)",
                    inode.size
                ),
            ));
        }
        let size = inode.size as usize;
        match inode.format {
            raw::FMT_LOCAL => inode
                .fork
                .get(..size)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| corrupt_ino(ino, format!("inline symlink of {size} bytes"))),
            raw::FMT_EXTENTS | raw::FMT_BTREE => {
                let bs = u64::from(self.sb.blocksize);
                let mut out = Vec::with_capacity(size);
                let mut b = vec![0; bs as usize];
                let limit = (size as u64).div_ceil(bs - raw::SYMLINK_HDR as u64);
                for e in self.extents(inode, limit)? {
                    for i in 0..e.blockcount {
                        if out.len() >= size || e.startoff + i >= limit {
                            break;
                        }
                        let fsb = e.startblock + i;
                        let off = self.read_fsb(ino, fsb, &mut b, "symlink")?;
                        let part = raw::symlink_block(&b, ino, off / 512, out.len() as u64)
                            .map_err(|why| corrupt_blk(ino, fsb, why))?;
                        out.extend_from_slice(&part[..part.len().min(size - out.len())]);
                    }
                }
                if out.len() != size {
                    return Err(corrupt_ino(
                        ino,
                        format!("symlink blocks hold {} of its {size} bytes", out.len()),
                    ));
                }
                Ok(out)
            }
            f => Err(corrupt_ino(
                ino,
                format!("symlink with data fork format {f}"),
            )),
        }
    }
}

impl Filesystem for XfsFs {
    fn kind(&self) -> &'static str {
        "xfs"
    }

    fn symlink_metadata(&self, path: &str) -> Result<Metadata, FsError> {
        let i = self.resolve(path)?;
        Ok(Metadata {
            kind: kind_of_mode(i.mode),
            len: i.size,
            mode: u32::from(i.mode & 0o7777),
            uid: i.uid,
            gid: i.gid,
        })
    }

    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        let dir = self.resolve(path)?;
        if dir.file_type() != raw::S_IFDIR {
            return Err(FsError::NotADirectory(path.to_string()));
        }
        let l = self.listing(&dir)?;
        Ok(l.entries
            .iter()
            .map(|&(ref name, ino, ft)| {
                let kind = match ft {
                    1 => FileKind::File,
                    2 => FileKind::Dir,
                    3..=6 => FileKind::Other,
                    7 => FileKind::Symlink,
                    // No (valid) file type in the entry: ask the inode.
                    _ => self
                        .inode(ino)
                        .map_or(FileKind::Other, |i| kind_of_mode(i.mode)),
                };
                DirEntry {
                    name: String::from_utf8_lossy(name).into_owned(),
                    kind,
                }
            })
            .collect())
    }

    fn read_link(&self, path: &str) -> Result<String, FsError> {
        let i = self.resolve(path)?;
        if i.file_type() != raw::S_IFLNK {
            return Err(FsError::NotASymlink(path.to_string()));
        }
        Ok(String::from_utf8_lossy(&self.symlink_target(&i)?).into_owned())
    }

    fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, FsError> {
        let i = self.resolve(path)?;
        crate::unix::readable_as_file(path, i.file_type())?;
        self.read_file(&i, max)
    }

    fn read_range(&self, path: &str, offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let i = self.resolve(path)?;
        crate::unix::readable_as_file(path, i.file_type())?;
        self.read_file_range(&i, offset, buf)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;
    use vhdlint_disk::MemSource;

    use super::*;

    const BS: usize = 1024;
    const ISIZE: usize = 512;
    const AGBLOCKS: usize = 64;

    fn put(b: &mut [u8], at: usize, v: &[u8]) {
        b[at..at + v.len()].copy_from_slice(v);
    }

    /// Inode `ino` (slot in the 2-per-block layout below) with a data fork.
    fn inode(
        img: &mut [u8],
        ino: u64,
        mode: u16,
        format: u8,
        size: u64,
        nextents: u32,
        fork: &[u8],
    ) {
        let at = ino as usize * ISIZE; // agno 0: inode number = agino = block * 2 + slot
        let b = &mut img[at..at + ISIZE];
        put(b, 0, &raw::INODE_MAGIC.to_be_bytes());
        put(b, 2, &mode.to_be_bytes());
        b[4] = 3;
        b[5] = format;
        put(b, 8, &1000u32.to_be_bytes());
        put(b, 12, &100u32.to_be_bytes());
        put(b, 56, &size.to_be_bytes());
        put(b, 76, &nextents.to_be_bytes());
        put(b, 152, &ino.to_be_bytes());
        put(b, raw::INODE_CORE, fork);
    }

    fn rec(startoff: u64, startblock: u64, count: u64, unwritten: bool) -> [u8; 16] {
        let hi = (u64::from(unwritten) << 63) | (startoff << 9) | (startblock >> 43);
        let lo = (startblock << 21) | count;
        let mut r = [0; 16];
        r[..8].copy_from_slice(&hi.to_be_bytes());
        r[8..].copy_from_slice(&lo.to_be_bytes());
        r
    }

    /// Btree root in an inode fork: `(key, child)` pairs at `level`.
    fn root(level: u16, recs: &[(u64, u64)]) -> Vec<u8> {
        let mut f = vec![0; ISIZE - raw::INODE_CORE];
        let maxrecs = (f.len() - 4) / 16;
        put(&mut f, 0, &level.to_be_bytes());
        put(&mut f, 2, &(recs.len() as u16).to_be_bytes());
        for (i, (k, p)) in recs.iter().enumerate() {
            put(&mut f, 4 + i * 8, &k.to_be_bytes());
            put(&mut f, 4 + maxrecs * 8 + i * 8, &p.to_be_bytes());
        }
        f
    }

    fn bmbt_hdr(img: &mut [u8], fsb: usize, owner: u64, level: u16, n: usize) -> usize {
        let at = fsb * BS;
        put(img, at, &raw::BMBT_V5_MAGIC.to_be_bytes());
        put(img, at + 4, &level.to_be_bytes());
        put(img, at + 6, &(n as u16).to_be_bytes());
        put(img, at + 24, &(at as u64 / 512).to_be_bytes());
        put(img, at + 56, &owner.to_be_bytes());
        at + raw::BMBT_HDR
    }

    fn bmbt_leaf(img: &mut [u8], fsb: usize, owner: u64, recs: &[[u8; 16]]) {
        let at = bmbt_hdr(img, fsb, owner, 0, recs.len());
        for (i, r) in recs.iter().enumerate() {
            put(img, at + i * 16, r);
        }
    }

    fn bmbt_node(img: &mut [u8], fsb: usize, owner: u64, level: u16, recs: &[(u64, u64)]) {
        let at = bmbt_hdr(img, fsb, owner, level, recs.len());
        let maxrecs = (BS - raw::BMBT_HDR) / 16;
        for (i, (k, p)) in recs.iter().enumerate() {
            put(img, at + i * 8, &k.to_be_bytes());
            put(img, at + maxrecs * 8 + i * 8, &p.to_be_bytes());
        }
    }

    fn superblock() -> Vec<u8> {
        let mut b = vec![0; BS];
        put(&mut b, 0, &raw::SB_MAGIC.to_be_bytes());
        put(&mut b, 4, &(BS as u32).to_be_bytes());
        put(&mut b, 8, &(AGBLOCKS as u64).to_be_bytes());
        put(&mut b, 48, &8u64.to_be_bytes()); // logstart
        put(&mut b, 56, &8u64.to_be_bytes()); // rootino
        put(&mut b, 84, &(AGBLOCKS as u32).to_be_bytes());
        put(&mut b, 88, &1u32.to_be_bytes());
        put(&mut b, 100, &0xb4a5u16.to_be_bytes());
        put(&mut b, 102, &512u16.to_be_bytes());
        put(&mut b, 104, &(ISIZE as u16).to_be_bytes());
        put(&mut b, 106, &((BS / ISIZE) as u16).to_be_bytes());
        b[120..125].copy_from_slice(&[10, 9, 9, 1, 6]);
        put(&mut b, 216, &1u32.to_be_bytes()); // ftype
        b
    }

    /// A 64 KiB filesystem: root directory (inode 8, shortform) naming a one-level btree
    /// file, a two-level one, one whose btree reaches a leaf twice and one too deep.
    fn image() -> Vec<u8> {
        let mut img = vec![0u8; AGBLOCKS * BS];
        put(&mut img, 0, &superblock());
        let names: [(&[u8], u64); 4] = [(b"bt", 9), (b"bt2", 10), (b"loop", 11), (b"deep", 12)];
        let mut sf = vec![names.len() as u8, 0];
        sf.extend_from_slice(&8u32.to_be_bytes());
        for (name, ino) in names {
            sf.push(name.len() as u8);
            sf.extend_from_slice(&[0, 0]);
            sf.extend_from_slice(name);
            sf.push(1);
            sf.extend_from_slice(&(ino as u32).to_be_bytes());
        }
        inode(
            &mut img,
            8,
            0o040755,
            raw::FMT_LOCAL,
            sf.len() as u64,
            0,
            &sf,
        );
        // bt: file blocks 0 (A), 1 (hole), 2-3 (B, C), 4 (unwritten), 5 (past the map).
        inode(
            &mut img,
            9,
            0o100644,
            raw::FMT_BTREE,
            6 * BS as u64 - 10,
            3,
            &root(1, &[(0, 20)]),
        );
        bmbt_leaf(
            &mut img,
            20,
            9,
            &[
                rec(0, 40, 1, false),
                rec(2, 30, 2, false),
                rec(4, 50, 1, true),
            ],
        );
        img[40 * BS..41 * BS].fill(b'A');
        img[30 * BS..31 * BS].fill(b'B');
        img[31 * BS..32 * BS].fill(b'C');
        img[50 * BS..51 * BS].fill(b'U');
        // bt2: root (level 2) -> node 21 (level 1) -> leaves 22 and 23.
        inode(
            &mut img,
            10,
            0o100600,
            raw::FMT_BTREE,
            2 * BS as u64,
            2,
            &root(2, &[(0, 21)]),
        );
        bmbt_node(&mut img, 21, 10, 1, &[(0, 22), (1, 23)]);
        bmbt_leaf(&mut img, 22, 10, &[rec(0, 45, 1, false)]);
        bmbt_leaf(&mut img, 23, 10, &[rec(1, 44, 1, false)]);
        img[45 * BS..46 * BS].fill(b'E');
        img[44 * BS..45 * BS].fill(b'F');
        // loop: node 24 points at leaf 25 twice.
        inode(
            &mut img,
            11,
            0o100644,
            raw::FMT_BTREE,
            4 * BS as u64,
            2,
            &root(2, &[(0, 24)]),
        );
        bmbt_node(&mut img, 24, 11, 1, &[(0, 25), (1, 25)]);
        bmbt_leaf(&mut img, 25, 11, &[rec(0, 46, 1, false)]);
        // deep: a root claiming 9 levels.
        inode(
            &mut img,
            12,
            0o100644,
            raw::FMT_BTREE,
            BS as u64,
            1,
            &root(MAX_XFS_BTREE_DEPTH, &[(0, 26)]),
        );
        img
    }

    fn open(img: Vec<u8>) -> Result<XfsFs, FsError> {
        XfsFs::open(Arc::new(MemSource::new(img)))
    }

    #[test]
    fn btree_file_with_hole_and_unwritten_extent() {
        let fs = open(image()).unwrap();
        let got = fs.read("/bt", u64::MAX).unwrap();
        let mut want = vec![b'A'; BS];
        want.extend(vec![0; BS]);
        want.extend(vec![b'B'; BS]);
        want.extend(vec![b'C'; BS]);
        want.extend(vec![0; 2 * BS - 10]);
        assert_eq!(got, want);
        assert_eq!(fs.read("/bt", 1500).unwrap(), want[..1500]);
        let m = fs.symlink_metadata("/bt").unwrap();
        assert_eq!(
            (m.kind, m.len, m.mode, m.uid, m.gid),
            (FileKind::File, 6 * BS as u64 - 10, 0o644, 1000, 100)
        );
    }

    #[test]
    fn two_level_btree_file() {
        let fs = open(image()).unwrap();
        let got = fs.read("/bt2", u64::MAX).unwrap();
        assert_eq!(&got[..BS], &[b'E'; BS][..]);
        assert_eq!(&got[BS..], &[b'F'; BS][..]);
        // Reading the first block only does not need the second leaf: break it.
        let mut img = image();
        img[23 * BS] = 0;
        let fs = open(img).unwrap();
        assert_eq!(fs.read("/bt2", 10).unwrap(), vec![b'E'; 10]);
        assert!(matches!(
            fs.read("/bt2", BS as u64 + 1),
            Err(FsError::Corrupt(_))
        ));
    }

    #[test]
    fn btree_loop_and_depth_are_refused() {
        let fs = open(image()).unwrap();
        let e = fs.read("/loop", u64::MAX).unwrap_err();
        assert!(
            matches!(e, FsError::Corrupt(ref m) if m.contains("inode 11") && m.contains("twice")),
            "{e}"
        );
        let e = fs.read("/deep", u64::MAX).unwrap_err();
        assert!(
            matches!(e, FsError::Limit(ref m) if m.what.contains("inode 12")),
            "{e}"
        );
    }

    #[test]
    fn bad_owner_and_level_are_corrupt() {
        let mut img = image();
        put(&mut img, 20 * BS + 56, &99u64.to_be_bytes());
        let e = open(img).unwrap().read("/bt", 10).unwrap_err();
        assert!(
            matches!(e, FsError::Corrupt(ref m) if m.contains("block 20") && m.contains("inode 99")),
            "{e}"
        );
        let mut img = image();
        put(&mut img, 22 * BS + 4, &1u16.to_be_bytes());
        assert!(matches!(
            open(img).unwrap().read("/bt2", 10),
            Err(FsError::Corrupt(_))
        ));
    }

    #[test]
    fn superblock_sanity() {
        let check = |patch: &dyn Fn(&mut Vec<u8>)| {
            let mut img = image();
            patch(&mut img);
            open(img).err()
        };
        assert!(check(&|_| ()).is_none());
        assert!(matches!(check(&|b| b[0] = 0), Some(FsError::Corrupt(_))));
        assert!(matches!(
            check(&|b| put(b, 4, &1000u32.to_be_bytes())),
            Some(FsError::Corrupt(_))
        ));
        assert!(matches!(
            check(&|b| put(b, 102, &768u16.to_be_bytes())),
            Some(FsError::Corrupt(_))
        ));
        assert!(matches!(
            check(&|b| put(b, 104, &4096u16.to_be_bytes())),
            Some(FsError::Corrupt(_))
        ));
        assert!(matches!(
            check(&|b| put(b, 88, &0u32.to_be_bytes())),
            Some(FsError::Corrupt(_))
        ));
        assert!(matches!(check(&|b| b[124] = 9), Some(FsError::Corrupt(_))));
        assert!(matches!(
            check(&|b| put(b, 100, &0x34a4u16.to_be_bytes())),
            Some(FsError::Unsupported(_))
        ));
        assert!(matches!(
            check(&|b| put(b, 16, &8u64.to_be_bytes())),
            Some(FsError::Unsupported(_))
        ));
        assert!(matches!(
            check(&|b| put(b, 216, &0x201u32.to_be_bytes())),
            Some(FsError::Unsupported(_))
        ));
        assert!(matches!(
            check(&|b| b[126] = 1),
            Some(FsError::Unsupported(_))
        ));
        // The root inode must be a directory.
        assert!(matches!(
            check(&|b| put(b, 8 * ISIZE + 2, &0o100644u16.to_be_bytes())),
            Some(FsError::Corrupt(_))
        ));
        assert!(matches!(open(vec![0; 100]), Err(FsError::Io(_))));
    }

    #[test]
    fn fsxfs_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<XfsFs>();
    }

    proptest! {
        #[test]
        fn raw_parsers_never_panic(b in proptest::collection::vec(any::<u8>(), 0..4200), n in any::<u64>()) {
            let _ = raw::parse_superblock(&b);
            let _ = raw::parse_inode(&b, n, true);
            let _ = raw::fork_extents(&b, n);
            let _ = raw::bmbt_root(&b);
            let _ = raw::bmbt_block(&b, n, n, (n % 3) as u16);
            let _ = raw::symlink_block(&b, n, n, 0);
            let mut count = 0usize;
            let mut f = |_: &[u8], _: u64, _: u8| { count += 1; ControlFlow::Continue(()) };
            let _ = raw::shortform_entries(&b, n % 5000, n % 2 == 0, &mut f);
            let _ = raw::data_block_entries(&b, n % 2 == 0, &mut f);
        }

        #[test]
        fn mutated_handmade_image_never_panics(muts in proptest::collection::vec((0usize..AGBLOCKS * BS, any::<u8>()), 1..16)) {
            let mut img = image();
            for (at, v) in muts {
                img[at] = v;
            }
            if let Ok(fs) = open(img) {
                for p in ["/bt", "/bt2", "/loop", "/deep"] {
                    let _ = fs.read(p, u64::MAX);
                    let _ = fs.symlink_metadata(p);
                }
                let _ = fs.read_dir("/");
            }
        }
    }

    // -------------------------------------------------------------- bounds (crate::limits)

    thread_local! {
        /// Bytes a synthetic volume has given this thread's test.
        static SYNTH_READ: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// Runs `f` over a synthetic volume, asserting that it stops within `max` bytes read: a
    /// bound is work done, counted, not time, which depends on the machine's load.
    fn bounded<T>(what: &str, max: u64, f: impl FnOnce() -> T) -> T {
        SYNTH_READ.with(|r| r.set(0));
        let out = f();
        let read = SYNTH_READ.with(|r| r.get());
        assert!(read <= max, "{what}: read {read} bytes, over {max}");
        out
    }

    /// Makes block `fsb` in a zeroed buffer.
    type Gen = Box<dyn Fn(u64, &mut [u8]) + Send + Sync>;

    /// A volume whose first blocks are `base` and whose other blocks are made on demand by
    /// `gen(block number, block)` (given zeroed): far larger than memory, read in no time.
    struct Synth {
        base: Vec<u8>,
        bs: usize,
        size: u64,
        gen: Gen,
    }

    impl vhdlint_disk::ReadAt for Synth {
        fn size(&self) -> u64 {
            self.size
        }
        fn read_at(&self, offset: u64, buf: &mut [u8]) -> vhdlint_disk::Result<()> {
            SYNTH_READ.with(|r| r.set(r.get() + buf.len() as u64));
            let bs = self.bs as u64;
            let mut done = 0;
            while done < buf.len() {
                let pos = offset + done as u64;
                let within = (pos % bs) as usize;
                let n = (self.bs - within).min(buf.len() - done);
                let out = &mut buf[done..done + n];
                if pos < self.base.len() as u64 {
                    let p = pos as usize;
                    out.copy_from_slice(&self.base[p..p + n]);
                } else if n == self.bs {
                    out.fill(0);
                    (self.gen)(pos / bs, out);
                } else {
                    let mut block = vec![0; self.bs];
                    (self.gen)(pos / bs, &mut block);
                    out.copy_from_slice(&block[within..within + n]);
                }
                done += n;
            }
            Ok(())
        }
        fn name(&self) -> String {
            "synthetic XFS volume".into()
        }
    }

    /// A filesystem of one allocation group of `2^agblklog` blocks of `bs` bytes whose root
    /// directory (inode `bs / 512`, at block 1) is given by `root(image, ino)`, its other
    /// blocks made by `gen`.
    fn synthetic(
        bs: usize,
        agblklog: u8,
        root: impl FnOnce(&mut [u8], u64),
        gen: impl Fn(u64, &mut [u8]) + Send + Sync + 'static,
    ) -> XfsFs {
        let agblocks = 1u64 << agblklog;
        let inopblock = bs / ISIZE;
        let mut base = vec![0u8; 2 * bs];
        let mut sb = superblock();
        put(&mut sb, 4, &(bs as u32).to_be_bytes());
        put(&mut sb, 8, &agblocks.to_be_bytes());
        put(&mut sb, 56, &(inopblock as u64).to_be_bytes());
        put(&mut sb, 84, &(agblocks as u32).to_be_bytes());
        put(&mut sb, 106, &(inopblock as u16).to_be_bytes());
        sb[120] = bs.trailing_zeros() as u8;
        sb[123] = inopblock.trailing_zeros() as u8;
        sb[124] = agblklog;
        put(&mut base, 0, &sb[..raw::SB_LEN]);
        root(&mut base, inopblock as u64);
        let src = Synth {
            base,
            bs,
            size: agblocks * bs as u64,
            gen: Box::new(gen),
        };
        XfsFs::open(Arc::new(src)).unwrap()
    }

    /// A root directory whose data fork is a block-map btree: 20 level-3 nodes, each with 59
    /// children down to leaves (1 KiB blocks) of `per_leaf` extents each, numbered level by
    /// level from block 16.
    fn btree_root_dir(per_leaf: u16) -> XfsFs {
        const FAN: u64 = 59;
        let counts = [20, 20 * FAN, 20 * FAN * FAN, 20 * FAN * FAN * FAN];
        // First block of levels 3, 2, 1 and 0 (the leaves).
        let mut first = [16u64; 4];
        for l in 1..4 {
            first[l] = first[l - 1] + counts[l - 1];
        }
        let ino = 2;
        let root = move |img: &mut [u8], ino: u64| {
            let recs: Vec<(u64, u64)> = (0..20).map(|i| (0, first[0] + i)).collect();
            inode(
                img,
                ino,
                0o040755,
                raw::FMT_BTREE,
                1 << 40,
                1,
                &root(4, &recs),
            );
        };
        let gen = move |fsb: u64, b: &mut [u8]| {
            let Some(d) = (0..4).rev().find(|&d| fsb >= first[d]) else {
                return;
            };
            let j = fsb - first[d];
            if j >= counts[d] {
                return;
            }
            let level = 3 - d as u16;
            let n = if level == 0 { per_leaf } else { FAN as u16 };
            put(b, 0, &raw::BMBT_V5_MAGIC.to_be_bytes());
            put(b, 4, &level.to_be_bytes());
            put(b, 6, &n.to_be_bytes());
            put(b, 24, &(fsb * 2).to_be_bytes());
            put(b, 56, &(ino as u64).to_be_bytes());
            let at = raw::BMBT_HDR;
            if level == 0 {
                for i in 0..u64::from(n) {
                    let r = rec(j * u64::from(n) + i, 8, 1, false);
                    put(b, at + i as usize * 16, &r);
                }
            } else {
                let maxrecs = (b.len() - at) / 16;
                for i in 0..FAN {
                    put(
                        b,
                        at + maxrecs * 8 + i as usize * 8,
                        &(first[d + 1] + j * FAN + i).to_be_bytes(),
                    );
                }
            }
        };
        synthetic(1024, 23, root, gen)
    }

    #[test]
    fn btree_blocks_past_the_limit() {
        let fs = btree_root_dir(1);
        let e = bounded(
            "262,145 btree blocks",
            (MAX_XFS_BTREE_BLOCKS as u64 + 1) * 1024 + (64 << 10),
            || fs.read_dir("/"),
        )
        .unwrap_err();
        assert!(
            matches!(e, FsError::Limit(ref m) if m.what.contains(&format!("more than {MAX_XFS_BTREE_BLOCKS} block-map btree blocks"))),
            "{e}"
        );
    }

    #[test]
    fn extents_past_the_limit() {
        let fs = btree_root_dir(59);
        let e = bounded(
            "2,097,153 extents",
            (MAX_XFS_EXTENTS as u64 / 59 + 2) * 1024 * 11 / 10,
            || fs.read_dir("/"),
        )
        .unwrap_err();
        assert!(
            matches!(e, FsError::Limit(ref m) if m.what.contains(&format!("more than {MAX_XFS_EXTENTS} extents"))),
            "{e}"
        );
    }

    /// A root directory of 64 KiB blocks whose one extent maps `blocks` data blocks from
    /// block 16, each made by `fill(block, header length)`.
    fn extent_root_dir(
        blocks: u64,
        fill: impl Fn(&mut [u8], usize) + Send + Sync + 'static,
    ) -> XfsFs {
        const BIG: usize = 64 << 10;
        let root = move |img: &mut [u8], ino: u64| {
            inode(
                img,
                ino,
                0o040755,
                raw::FMT_EXTENTS,
                BIG as u64,
                1,
                &rec(0, 16, blocks, false),
            );
        };
        let gen = move |fsb: u64, b: &mut [u8]| {
            if fsb < 16 || fsb >= 16 + blocks {
                return;
            }
            put(b, 0, &raw::DIR3_DATA_MAGIC.to_be_bytes());
            put(b, 8, &(fsb * (BIG as u64 / 512)).to_be_bytes());
            put(b, 40, &128u64.to_be_bytes());
            fill(b, raw::DIR3_DATA_HDR);
        };
        synthetic(BIG, 15, root, gen)
    }

    #[test]
    fn directory_bytes_past_the_limit() {
        // 20,000 empty data blocks of 64 KiB: 1.25 GiB.
        let fs = extent_root_dir(20_000, |b, at| {
            put(b, at, &0xffffu16.to_be_bytes());
            put(b, at + 2, &((b.len() - at) as u16).to_be_bytes());
        });
        let e = bounded(
            "1.25 GiB of directory blocks",
            MAX_XFS_DIR_BYTES + (128 << 10),
            || fs.read_dir("/"),
        )
        .unwrap_err();
        assert!(
            matches!(e, FsError::Limit(ref m) if m.what.contains(&format!("more than {MAX_XFS_DIR_BYTES} bytes of data blocks"))),
            "{e}"
        );
    }

    #[test]
    fn directory_entries_past_the_limit() {
        // 250 data blocks of 4092 entries: 1,023,000 entries.
        let fs = extent_root_dir(250, |b, mut at| {
            while at + 16 <= b.len() {
                put(b, at, &129u64.to_be_bytes());
                b[at + 8] = 1;
                b[at + 9] = b'f';
                b[at + 10] = 1;
                at += 16;
            }
        });
        let e = bounded(
            "1,023,000 directory entries",
            (MAX_DIR_ENTRIES as u64 / 4092 + 2) * (64 << 10),
            || fs.read_dir("/"),
        )
        .unwrap_err();
        assert!(
            matches!(e, FsError::Limit(ref m) if m.what.contains(&format!("more than {MAX_DIR_ENTRIES} entries"))),
            "{e}"
        );
    }

    #[test]
    fn symlink_past_the_limit_and_btree_too_deep() {
        // /bt made a symlink of 1025 bytes.
        let mut img = image();
        put(&mut img, 9 * ISIZE + 2, &0o120777u16.to_be_bytes());
        put(
            &mut img,
            9 * ISIZE + 56,
            &(MAX_XFS_SYMLINK_LEN + 1).to_be_bytes(),
        );
        let fs = open(img).unwrap();
        let e = fs.read_link("/bt").unwrap_err();
        assert!(
            matches!(e, FsError::Corrupt(ref m) if m.contains(&format!("symlink of 1025 bytes, over the limit of {MAX_XFS_SYMLINK_LEN}"))),
            "{e}"
        );
        let fs = open(image()).unwrap();
        let e = fs.read("/deep", u64::MAX).unwrap_err();
        assert!(
            matches!(e, FsError::Limit(ref m) if m.what.contains(&format!("block-map btree of 9 levels, over the limit of {MAX_XFS_BTREE_DEPTH}"))),
            "{e}"
        );
    }
}
