//! btrfs, read-only, through the `lambutter` crate (pinned), behind [`Filesystem`].
//!
//! vhdlint checks the superblock copies itself first ([`raw`]): a primary superblock (at
//! 64 KiB) that is damaged is reported by [`BtrfsFs::notice`], naming the mirror (64 MiB or
//! 256 GiB) that was read instead. `lambutter` then reads the system chunk array, the chunk
//! tree (logical to physical mapping: SINGLE and DUP, and mirrored profiles when a copy is on
//! this device; RAID0/10/5/6 are refused), the root tree, the default subvolume (the root
//! tree's `default` entry, as `btrfs subvolume set-default` sets it) or one chosen by path
//! or id (as `subvol=` and `subvolid=` mount it), the FS trees (inode items, DIR_ITEM and
//! DIR_INDEX, nested subvolumes shown as directories the way a mount shows them), and file
//! extents (inline and regular, holes, prealloc as zeros, zlib, LZO and zstd compression).
//!
//! The bounds: `lambutter` caps a B-tree descent at 16 levels (btrfs itself stops at 8),
//! validates every tree block's header, item offsets against the node size and key order,
//! verifies crc32c tree-block checksums, and caps one decompressed extent at 16 MiB. On top
//! vhdlint bounds directory listings ([`MAX_DIR_ENTRIES`]), the bytes read from a file (the
//! caller's `max`), symlink targets ([`MAX_BTRFS_SYMLINK_LEN`]) and path lengths
//! ([`MAX_PATH_LEN`]).

pub mod raw;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use lambutter::{BlockRead, Btrfs, Error as BtError, Path};
use vhdlint_disk::SharedSource;

use crate::limits::{
    MAX_BTRFS_CACHED_BLOCKS, MAX_BTRFS_CACHED_READ, MAX_BTRFS_SYMLINK_LEN, MAX_DIR_ENTRIES,
    MAX_PATH_LEN,
};
use crate::{DirEntry, FileKind, Filesystem, FsError, Metadata};

/// Which subvolume a [`BtrfsFs`] shows as its root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subvolume<'a> {
    /// The default subvolume: what a mount without `subvol=` shows (`btrfs subvolume
    /// set-default`; the top level, id 5, when none was set).
    Default,
    /// By id, as `subvolid=` names it (5 is the top level).
    Id(u64),
    /// By path from the top level, as `subvol=` names it (`/@/home`, `@/home`, `/`).
    Path(&'a str),
}

/// The last error of the byte source, kept because `lambutter` reduces an I/O error to a
/// token and an offset.
type LastIo = Arc<Mutex<Option<String>>>;

/// The byte source as `lambutter` reads it, with the small reads (tree blocks) kept: every
/// lookup descends from a tree's root, so the upper levels are read again and again.
struct Src {
    src: SharedSource,
    last: LastIo,
    cache: HashMap<(u64, usize), Vec<u8>>,
}

impl BlockRead for Src {
    type Error = ();

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), ()> {
        let key = (offset, buf.len());
        if let Some(b) = self.cache.get(&key) {
            buf.copy_from_slice(b);
            return Ok(());
        }
        self.src.read_at(offset, buf).map_err(|e| {
            *lock(&self.last) = Some(e.to_string());
        })?;
        if buf.len() <= MAX_BTRFS_CACHED_READ {
            if self.cache.len() >= MAX_BTRFS_CACHED_BLOCKS {
                self.cache.clear();
            }
            self.cache.insert(key, buf.to_vec());
        }
        Ok(())
    }
}

/// Locks `m`; a poisoned lock still holds a usable value (the reader keeps no state that a
/// panic could leave half-written, and nothing in it panics by design).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A read-only btrfs filesystem over a byte source, seen from one subvolume.
pub struct BtrfsFs {
    fs: Mutex<Btrfs<Src>>,
    last_io: LastIo,
    subvolume: u64,
    notice: Option<String>,
}

/// The superblock copies of `source`: the first usable one (from the primary on), and a
/// sentence about the primary when it is not usable.
fn check_superblocks(source: &SharedSource) -> Result<Option<String>, FsError> {
    let size = source.size();
    let mut defects = Vec::new();
    let mut best: Option<raw::Superblock> = None;
    for off in raw::SUPERBLOCK_OFFSETS {
        let r = if off.saturating_add(raw::SB_LEN as u64) > size {
            Err(raw::SbDefect::PastEnd)
        } else {
            let mut b = vec![0u8; raw::SB_LEN];
            match source.read_at(off, &mut b) {
                Ok(()) => raw::parse_superblock(&b, off),
                Err(e) => Err(raw::SbDefect::Io(e.to_string())),
            }
        };
        match r {
            Ok(sb) => {
                if best.as_ref().is_none_or(|b| sb.generation > b.generation) {
                    best = Some(sb);
                }
            }
            Err(raw::SbDefect::PastEnd) if off != raw::SUPERBLOCK_OFFSETS[0] => {}
            Err(d) => defects.push((off, d)),
        }
    }
    let Some(sb) = best else {
        let what = defects
            .iter()
            .map(|(o, d)| format!("at {}: {d}", raw::human_offset(*o)))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(FsError::Corrupt(format!(
            "btrfs: no usable superblock ({what})"
        )));
    };
    if sb.csum_type != raw::CSUM_CRC32C {
        let name = match sb.csum_type {
            raw::CSUM_XXHASH => "xxhash64",
            raw::CSUM_SHA256 => "sha256",
            _ => "blake2b",
        };
        return Err(FsError::Unsupported(format!(
            "btrfs: metadata checksummed with {name} (mkfs.btrfs --csum {name}); only crc32c \
             filesystems are read"
        )));
    }
    Ok(defects
        .iter()
        .find(|(o, _)| *o == raw::SUPERBLOCK_OFFSETS[0])
        .map(|(_, d)| {
            format!(
                "btrfs: the primary superblock at 64 KiB is unusable ({d}); read through the \
                 copy at {} (generation {})",
                raw::human_offset(sb.offset),
                sb.generation
            )
        }))
}

impl BtrfsFs {
    /// Opens the filesystem at its default subvolume, as the kernel mounts it without
    /// `subvol=` (what a root filesystem is).
    pub fn open(source: SharedSource) -> Result<BtrfsFs, FsError> {
        Self::open_subvolume(source, Subvolume::Default)
    }

    /// Opens the filesystem at the subvolume `which`.
    pub fn open_subvolume(source: SharedSource, which: Subvolume<'_>) -> Result<BtrfsFs, FsError> {
        let notice = check_superblocks(&source)?;
        let last_io = LastIo::default();
        let size = source.size();
        let src = Src {
            src: source,
            last: last_io.clone(),
            cache: HashMap::new(),
        };
        let what = match which {
            Subvolume::Default => "default subvolume".to_string(),
            Subvolume::Id(id) => format!("subvolume id {id}"),
            Subvolume::Path(p) => format!("subvolume {p}"),
        };
        let opened = match which {
            Subvolume::Default => Btrfs::open(src, size),
            Subvolume::Id(id) => Btrfs::open_subvol_id(src, size, id),
            Subvolume::Path(p) => {
                let p = normalise_subvol_path(p)?;
                let path = Path::new(p.as_bytes())
                    .ok_or_else(|| FsError::NotFound(format!("btrfs subvolume {p}")))?;
                Btrfs::open_subvol_path(src, size, path)
            }
        };
        let fs = opened.map_err(|e| map_err(e, &what, &last_io))?;
        let subvolume = fs.subvolume();
        Ok(BtrfsFs {
            fs: Mutex::new(fs),
            last_io,
            subvolume,
            notice,
        })
    }

    /// The id of the subvolume this view shows as its root (5 is the top level).
    pub fn subvolume(&self) -> u64 {
        self.subvolume
    }

    /// What was noticed on opening that a report should say: a damaged primary superblock
    /// and the copy read instead.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    fn err(&self, e: BtError, path: &str) -> FsError {
        map_err(e, path, &self.last_io)
    }

    fn resolve(
        &self,
        fs: &mut Btrfs<Src>,
        path: &str,
    ) -> Result<(lambutter::Inode, lambutter::Metadata), FsError> {
        if path.len() > MAX_PATH_LEN {
            return Err(FsError::limit(
                "MAX_PATH_LEN",
                format!("btrfs path of {} bytes", path.len()),
            ));
        }
        let p = Path::new(path.as_bytes()).ok_or_else(|| FsError::NotFound(path.to_string()))?;
        match fs.resolve(p) {
            Ok(i) => {
                let m = metadata_of(fs, &i).map_err(|e| self.err(e, path))?;
                Ok((i, m))
            }
            Err(BtError::NotFound) => Err(self.not_found(fs, path)),
            Err(e) => Err(self.err(e, path)),
        }
    }

    /// `NotFound` for `path`, or `NotADirectory` when one of its directory components is
    /// something else (as `lstat` says `ENOTDIR`).
    fn not_found(&self, fs: &mut Btrfs<Src>, path: &str) -> FsError {
        let mut at = 0;
        while let Some(i) = path[at + 1..].find('/') {
            let prefix = &path[..at + 1 + i];
            at += 1 + i;
            let Some(p) = Path::new(prefix.as_bytes()) else {
                break;
            };
            match fs.resolve(p).and_then(|i| metadata_of(fs, &i)) {
                Ok(m) if !m.is_dir() => return FsError::NotADirectory(prefix.to_string()),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        FsError::NotFound(path.to_string())
    }
}

/// An inode's metadata; the placeholder directory Linux shows for a subvolume that is not
/// linked where its entry is (inode 2, with no inode item) reads as an empty directory.
fn metadata_of(fs: &mut Btrfs<Src>, i: &lambutter::Inode) -> Result<lambutter::Metadata, BtError> {
    match fs.metadata(i) {
        Err(BtError::NotFound) if i.objectid() == 2 => Ok(lambutter::Metadata {
            size: 0,
            nbytes: 0,
            nlink: 1,
            mode: 0o040_755,
            uid: 0,
            gid: 0,
            generation: 0,
        }),
        r => r,
    }
}

/// A `subvol=` path as the kernel takes it: from the top level, with or without a leading
/// `/`, `.` and empty components ignored; `..` is refused.
fn normalise_subvol_path(p: &str) -> Result<String, FsError> {
    let mut out = String::new();
    for c in p.split('/').filter(|c| !c.is_empty() && *c != ".") {
        if c == ".." {
            return Err(FsError::NotFound(format!(
                "btrfs subvolume {p} (`..` in a subvolume path)"
            )));
        }
        out.push('/');
        out.push_str(c);
    }
    if out.is_empty() {
        out.push('/');
    }
    if out.len() > MAX_PATH_LEN {
        return Err(FsError::limit(
            "MAX_PATH_LEN",
            format!("btrfs subvolume path of {} bytes", out.len()),
        ));
    }
    Ok(out)
}

/// `lambutter`'s error for `what` (a path, a subvolume) as an [`FsError`].
fn map_err(e: BtError, what: &str, last_io: &LastIo) -> FsError {
    match e {
        BtError::Io { token, offset } => {
            let why = lock(last_io).take().unwrap_or_else(|| token.to_string());
            FsError::Io(format!(
                "btrfs {what}: the read at byte {offset} of the volume failed: {why}"
            ))
        }
        BtError::BadSuperblock(r) => FsError::Corrupt(format!("btrfs superblock: {r:?}")),
        BtError::UnsupportedFeature(t) => FsError::Unsupported(format!(
            "btrfs {what}: {}",
            match t {
                "feat_encryption" => "encrypted (fscrypt) names or contents".to_string(),
                "feat_zoned" => "a zoned filesystem".to_string(),
                "feat_remap_tree" => "the remap tree feature".to_string(),
                "feat_unknown_incompat" =>
                    "an incompatible feature this reader does not know".to_string(),
                "symlink_long" => "a symlink target stored outside its inode".to_string(),
                t => format!("unsupported feature {t}"),
            }
        )),
        BtError::UnsupportedProfile(t) => FsError::Unsupported(format!(
            "btrfs {what}: {}",
            match t {
                "prof_raid0" | "prof_raid10" | "prof_raid5" | "prof_raid6" => format!(
                    "data striped across devices ({}): only SINGLE, DUP and mirrored chunks \
                     with a copy on this device are read",
                    t.trim_start_matches("prof_").to_uppercase()
                ),
                "prof_other_device" => "a chunk with no copy on this device (the filesystem \
                                        spans several devices)"
                    .to_string(),
                t => format!("chunk profile {t} is not supported"),
            }
        )),
        BtError::UnsupportedChecksum(t) => FsError::Unsupported(format!(
            "btrfs: metadata checksum {t}; only crc32c filesystems are read"
        )),
        BtError::CsumMismatch { logical } => FsError::Corrupt(format!(
            "btrfs {what}: the tree block at logical address {logical:#x} fails its checksum"
        )),
        BtError::CorruptBtree { token, logical } => FsError::Corrupt(format!(
            "btrfs {what}: damaged B-tree ({token}) at logical address {logical:#x}"
        )),
        BtError::NotFound => FsError::NotFound(format!("btrfs {what}")),
        BtError::NotARegularFile => FsError::Unsupported(format!("{what}: not a regular file")),
        BtError::NotASymlink => FsError::NotASymlink(what.to_string()),
        BtError::NotASubvolume => {
            FsError::NotFound(format!("{what} (not a btrfs subvolume's root directory)"))
        }
        BtError::BadCompression { algorithm } => FsError::Corrupt(format!(
            "btrfs {what}: a compressed extent does not decompress ({algorithm})"
        )),
        BtError::OutOfMemory { token } => FsError::Corrupt(format!(
            "btrfs {what}: a size that cannot be allocated ({token})"
        )),
    }
}

fn kind_of_mode(mode: u32) -> FileKind {
    match mode & 0o170_000 {
        0o100_000 => FileKind::File,
        0o040_000 => FileKind::Dir,
        0o120_000 => FileKind::Symlink,
        _ => FileKind::Other,
    }
}

impl Filesystem for BtrfsFs {
    fn kind(&self) -> &'static str {
        "btrfs"
    }

    fn symlink_metadata(&self, path: &str) -> Result<Metadata, FsError> {
        let mut fs = lock(&self.fs);
        let (_, m) = self.resolve(&mut fs, path)?;
        Ok(Metadata {
            kind: kind_of_mode(m.mode),
            len: m.size,
            mode: m.mode & 0o7777,
            uid: m.uid,
            gid: m.gid,
        })
    }

    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        let mut fs = lock(&self.fs);
        let (i, m) = self.resolve(&mut fs, path)?;
        if !m.is_dir() {
            return Err(FsError::NotADirectory(path.to_string()));
        }
        if i.objectid() == 2 {
            // The placeholder of a subvolume not linked here: empty, as Linux shows it.
            return Ok(Vec::new());
        }
        let p = Path::new(path.as_bytes()).ok_or_else(|| FsError::NotFound(path.to_string()))?;
        let entries = fs.read_dir(p).map_err(|e| self.err(e, path))?;
        if entries.len() > MAX_DIR_ENTRIES {
            return Err(FsError::limit(
                "MAX_DIR_ENTRIES",
                format!("btrfs directory {path} has more than {MAX_DIR_ENTRIES} entries"),
            ));
        }
        Ok(entries
            .into_iter()
            .map(|e| {
                // The entry's type byte (BTRFS_FT_*: 1 file, 2 dir, 7 symlink).
                let kind = match e.kind_byte & 0x0f {
                    1 => FileKind::File,
                    2 => FileKind::Dir,
                    7 => FileKind::Symlink,
                    _ => FileKind::Other,
                };
                DirEntry {
                    name: String::from_utf8_lossy(&e.name).into_owned(),
                    kind,
                }
            })
            .collect())
    }

    fn read_link(&self, path: &str) -> Result<String, FsError> {
        let mut fs = lock(&self.fs);
        let (_, m) = self.resolve(&mut fs, path)?;
        if !m.is_symlink() {
            return Err(FsError::NotASymlink(path.to_string()));
        }
        if m.size > MAX_BTRFS_SYMLINK_LEN {
            return Err(FsError::limit(
                "MAX_BTRFS_SYMLINK_LEN",
                format!("btrfs symlink {path} has a target of {} bytes", m.size),
            ));
        }
        let p = Path::new(path.as_bytes()).ok_or_else(|| FsError::NotFound(path.to_string()))?;
        let t = fs.read_link(p).map_err(|e| self.err(e, path))?;
        Ok(String::from_utf8_lossy(&t).into_owned())
    }

    fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, FsError> {
        let mut fs = lock(&self.fs);
        let (i, m) = self.resolve(&mut fs, path)?;
        regular_file(path, m.mode)?;
        let want = usize::try_from(m.size.min(max))
            .map_err(|_| FsError::limit("max", format!("btrfs file {path}: {} bytes", m.size)))?;
        let mut out = vec![0u8; want];
        let mut done = 0;
        while done < want {
            let n = fs
                .read_file_at(&i, done as u64, &mut out[done..])
                .map_err(|e| self.err(e, path))?;
            if n == 0 {
                // The inode's size promised more than its extents hold: the rest reads as
                // a hole (zeros), as it does under Linux.
                break;
            }
            done += n;
        }
        Ok(out)
    }

    fn read_range(&self, path: &str, offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let mut fs = lock(&self.fs);
        let (i, m) = self.resolve(&mut fs, path)?;
        regular_file(path, m.mode)?;
        let n = crate::range_len(m.size, offset, buf.len());
        let out = &mut buf[..n];
        out.fill(0);
        let mut done = 0;
        while done < n {
            let got = fs
                .read_file_at(&i, offset + done as u64, &mut out[done..])
                .map_err(|e| self.err(e, path))?;
            if got == 0 {
                // Past what the extents hold: zeros, as `read` gives.
                break;
            }
            done += got;
        }
        Ok(n)
    }
}

/// The error reading gives for a path of `mode` that is no regular file.
fn regular_file(path: &str, mode: u32) -> Result<(), FsError> {
    match kind_of_mode(mode) {
        FileKind::File => {}
        FileKind::Dir => return Err(FsError::IsADirectory(path.to_string())),
        FileKind::Symlink => {
            return Err(FsError::Unsupported(format!(
                "{path}: is a symlink, not a regular file"
            )))
        }
        FileKind::Other => {
            return Err(FsError::Unsupported(format!(
                "{path}: is a device, FIFO or socket, not a regular file"
            )))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subvolume_paths_are_taken_from_the_top_level() {
        assert_eq!(normalise_subvol_path("/@/home").unwrap(), "/@/home");
        assert_eq!(normalise_subvol_path("@/home/").unwrap(), "/@/home");
        assert_eq!(normalise_subvol_path("//@/./var").unwrap(), "/@/var");
        assert_eq!(normalise_subvol_path("/").unwrap(), "/");
        assert_eq!(normalise_subvol_path("").unwrap(), "/");
        assert!(matches!(
            normalise_subvol_path("/@/../x"),
            Err(FsError::NotFound(_))
        ));
    }

    #[test]
    fn kinds_come_from_the_mode() {
        assert_eq!(kind_of_mode(0o100_644), FileKind::File);
        assert_eq!(kind_of_mode(0o040_755), FileKind::Dir);
        assert_eq!(kind_of_mode(0o120_777), FileKind::Symlink);
        assert_eq!(kind_of_mode(0o020_644), FileKind::Other);
    }

    #[test]
    fn no_superblock_is_corrupt_and_says_where_it_looked() {
        let src: SharedSource = Arc::new(vhdlint_disk::MemSource::new(vec![0u8; 1 << 20]));
        let e = BtrfsFs::open(src).err().unwrap();
        let FsError::Corrupt(m) = e else {
            panic!("{e:?}")
        };
        assert!(m.contains("at 64 KiB: no btrfs magic"), "{m}");
    }
}
