//! FAT12/16/32 through the `fatfs` crate (0.3.6, pinned), read-only.
//!
//! The crate reads the boot sector, the FAT and directories, long file names (VFAT LFN entries)
//! and the Windows NT lower-case flags of short names, as Linux's vfat shows them. It wants a
//! `Read + Write + Seek` device: [`Cursor`] is one over the volume's byte range whose writes
//! always fail, so nothing is ever written (the crate only writes when asked to change the
//! volume, or on unmount when it changed something itself; both fail harmlessly here).
//!
//! # Threads
//!
//! `fatfs::FileSystem` keeps its device in a `RefCell` and is not `Sync`; opening one costs a
//! boot sector (and on FAT32 the FSInfo sector), so each operation opens its own over its own
//! [`Cursor`]: no lock, and threads never wait on each other.
//!
//! # Hostile images
//!
//! The crate follows cluster chains without looking for cycles, so a directory whose chain
//! loops would be read forever: every operation has a read budget ([`MAX_FAT_METADATA_BYTES`],
//! or on a small volume as many bytes as the volume holds for each directory the operation
//! reads, plus what a file read asks for), counted on the bytes handed to the crate (also when
//! they come from the cursor's cache of two blocks), and a directory lists at most
//! [`MAX_DIR_ENTRIES`] entries. Reaching either is an [`FsError::Limit`] naming it.
//!
//! # What Linux shows that FAT does not store
//!
//! FAT has no owners, permissions or symlinks. As Linux's vfat with its default options
//! (`uid=0`, `gid=0`, umask 022) shows them: every file and directory is owned by root with mode
//! 0755, less the write bits for an entry with the read-only attribute. Names are looked up
//! without regard to case, by long name or by short (8.3) name, as Windows and Linux's vfat do.

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom, Write};

use vhdlint_disk::SharedSource;

use crate::limits::{MAX_DIR_ENTRIES, MAX_FAT_METADATA_BYTES};
use crate::{DirEntry, FileKind, FsError, Metadata};

/// Bytes of metadata one operation on `path` may read from a volume of `size` bytes: the
/// boot and FSInfo sectors, and each directory it reads (those the path goes through, and the
/// one it names) once. Without a loop in its cluster chain no directory holds more than the
/// volume, and following the chain reads one FAT entry (at most 4 bytes) per cluster of at
/// least 512 bytes; one directory's worth more covers the FAT entries of a file read. Never
/// more than [`MAX_FAT_METADATA_BYTES`], which this only lowers on volumes of under a few
/// dozen MiB, so that a loop there ends after about as many bytes as the volume holds.
fn metadata_budget(size: u64, path: &str) -> (u64, u64) {
    let dirs = path.split('/').filter(|c| !c.is_empty()).count() as u64 + 1;
    let per_dir = size.saturating_add(size / 128);
    let budget = (dirs + 1)
        .saturating_mul(per_dir)
        .saturating_add(64 << 10)
        .min(MAX_FAT_METADATA_BYTES);
    (budget, dirs)
}

/// Bytes the cursor reads from the source at once (and keeps, two blocks: following a chain
/// goes back and forth between the FAT and the data).
const BLOCK: u64 = 4096;
/// Chunk of a file read at once.
const READ_CHUNK: usize = 64 << 10;

type Fs<'a> = fatfs::FileSystem<Cursor<'a>>;
type Dir<'f, 'a> = fatfs::Dir<'f, Cursor<'a>>;
type Entry<'f, 'a> = fatfs::DirEntry<'f, Cursor<'a>>;

/// A FAT volume.
pub struct FatFs {
    source: SharedSource,
    fat_type: &'static str,
    volume_id: u32,
    label: String,
}

impl fmt::Debug for FatFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FatFs")
            .field("fat_type", &self.fat_type)
            .field("volume_id", &format_args!("{:08X}", self.volume_id))
            .field("label", &self.label)
            .finish()
    }
}

/// Why our cursor refused a read: carried inside an `io::Error` through the crate.
#[derive(Debug)]
enum Refused {
    Io(String),
    Limit(&'static str, String),
    ReadOnly,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Io(m) | Refused::Limit(_, m) => f.write_str(m),
            Refused::ReadOnly => f.write_str("the FAT reader is read-only"),
        }
    }
}

impl std::error::Error for Refused {}

fn refuse(r: Refused) -> io::Error {
    io::Error::other(r)
}

/// `Read + Write + Seek` over the volume for one operation: reads within a budget, writes
/// refused.
struct Cursor<'a> {
    source: &'a SharedSource,
    size: u64,
    pos: u64,
    budget: u64,
    /// What the budget was and why, for the message.
    allowed: String,
    /// The block last read from the source: its offset and bytes.
    block: Option<(u64, Vec<u8>)>,
    /// The one read before it.
    previous: Option<(u64, Vec<u8>)>,
}

impl<'a> Cursor<'a> {
    /// A cursor for one operation on `path` ([`metadata_budget`]), allowed `extra_budget`
    /// bytes more (the bytes of a file read).
    fn new(source: &'a SharedSource, path: &str, extra_budget: u64) -> Self {
        let size = source.size();
        let (metadata, dirs) = metadata_budget(size, path);
        let budget = metadata.saturating_add(extra_budget);
        let why = if metadata < MAX_FAT_METADATA_BYTES {
            format!("{dirs} directories' worth of this {size}-byte volume")
        } else {
            "MAX_FAT_METADATA_BYTES".to_string()
        };
        let allowed = if extra_budget > 0 {
            format!(
                "{budget} bytes ({metadata} of metadata, {why}, and {extra_budget} of file data)"
            )
        } else {
            format!("{budget} bytes, {why}")
        };
        Cursor {
            source,
            size,
            pos: 0,
            budget,
            allowed,
            block: None,
            previous: None,
        }
    }

    /// The cached block holding `pos`, read when it is not the one kept.
    fn block_at(&mut self, pos: u64) -> io::Result<&[u8]> {
        let start = pos - pos % BLOCK;
        if self.block.as_ref().map(|b| b.0) != Some(start) {
            std::mem::swap(&mut self.block, &mut self.previous);
        }
        if self.block.as_ref().map(|b| b.0) != Some(start) {
            let len = BLOCK.min(self.size - start) as usize;
            let mut bytes = self.block.take().map(|b| b.1).unwrap_or_default();
            bytes.resize(len, 0);
            self.source
                .read_at(start, &mut bytes)
                .map_err(|e| refuse(Refused::Io(e.to_string())))?;
            self.block = Some((start, bytes));
        }
        Ok(self.block.as_ref().map(|b| b.1.as_slice()).unwrap_or(&[]))
    }
}

impl Read for Cursor<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(self.size - self.pos);
        if want > self.budget {
            return Err(refuse(Refused::Limit(
                "MAX_FAT_METADATA_BYTES",
                format!(
                    "a read of {want} bytes at byte {} of the volume goes past what one FAT operation may read, {}: a cluster chain that loops, or a directory too large",
                    self.pos, self.allowed
                ),
            )));
        }
        let n = if want >= BLOCK && self.pos % BLOCK == 0 {
            // Whole blocks (file contents): straight from the source.
            let n = (want - want % BLOCK) as usize;
            self.source
                .read_at(self.pos, &mut buf[..n])
                .map_err(|e| refuse(Refused::Io(e.to_string())))?;
            n
        } else {
            let pos = self.pos;
            let block = self.block_at(pos)?;
            let off = (pos % BLOCK) as usize;
            let n = (want as usize).min(block.len() - off);
            buf[..n].copy_from_slice(&block[off..off + n]);
            n
        };
        self.budget -= n as u64;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Write for Cursor<'_> {
    fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
        Err(refuse(Refused::ReadOnly))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Cursor<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let new = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
        };
        match new {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start or past 2^64",
            )),
        }
    }
}

/// An error of the crate (or of our cursor, carried through it) on `what`.
fn map_err(what: &str, e: io::Error) -> FsError {
    if let Some(r) = e.get_ref().and_then(|r| r.downcast_ref::<Refused>()) {
        return match r {
            Refused::Io(m) => FsError::Io(format!("{what}: {m}")),
            Refused::Limit(limit, m) => FsError::limit(limit, format!("{what}: {m}")),
            Refused::ReadOnly => FsError::Unsupported(format!("{what}: {r}")),
        };
    }
    FsError::Corrupt(format!("FAT: {what}: {e}"))
}

/// What a path names inside the volume.
enum Found<'f, 'a> {
    Root,
    Entry(Box<Entry<'f, 'a>>),
}

/// Whether directory entry `e` is called `name`, by its long or its short name, without
/// regard to case.
fn named(e: &Entry<'_, '_>, name: &str) -> bool {
    let same = |a: &str| {
        a.chars()
            .flat_map(char::to_uppercase)
            .eq(name.chars().flat_map(char::to_uppercase))
    };
    same(&e.file_name()) || same(&e.short_file_name())
}

/// The entries of `dir` ( `.` and `..`, volume labels and deleted entries left out), at most
/// [`MAX_DIR_ENTRIES`]; stops at the first for which `stop` says so.
fn entries<'f, 'a>(
    dir: &Dir<'f, 'a>,
    path: &str,
    mut stop: impl FnMut(&Entry<'f, 'a>) -> bool,
) -> Result<Vec<Entry<'f, 'a>>, FsError> {
    let mut out = Vec::new();
    for e in dir.iter() {
        let e = e.map_err(|e| map_err(path, e))?;
        let name = e.file_name();
        if name.is_empty() || name == "." || name == ".." || !(e.is_dir() || e.is_file()) {
            continue;
        }
        if out.len() >= MAX_DIR_ENTRIES {
            return Err(FsError::limit(
                "MAX_DIR_ENTRIES",
                format!("{path}: more than {MAX_DIR_ENTRIES} directory entries, the limit"),
            ));
        }
        let last = stop(&e);
        out.push(e);
        if last {
            break;
        }
    }
    Ok(out)
}

fn kind_of(e: &Entry<'_, '_>) -> FileKind {
    if e.is_dir() {
        FileKind::Dir
    } else {
        FileKind::File
    }
}

fn fat_type_name(t: fatfs::FatType) -> &'static str {
    match t {
        fatfs::FatType::Fat12 => "FAT12",
        fatfs::FatType::Fat16 => "FAT16",
        fatfs::FatType::Fat32 => "FAT32",
    }
}

impl FatFs {
    /// Opens the FAT volume held by `source` (its boot sector, and on FAT32 its FSInfo sector,
    /// must make sense to the crate).
    pub fn open(source: SharedSource) -> Result<Self, FsError> {
        let (fat_type, volume_id, label) = {
            let fs = fatfs::FileSystem::new(Cursor::new(&source, "/", 0), options())
                .map_err(|e| map_err("boot sector", e))?;
            (
                fat_type_name(fs.fat_type()),
                fs.volume_id(),
                fs.volume_label().trim_end().to_string(),
            )
        };
        Ok(FatFs {
            source,
            fat_type,
            volume_id,
            label,
        })
    }

    /// `FAT12`, `FAT16` or `FAT32` (from the count of clusters, as the specification says).
    pub fn fat_type(&self) -> &'static str {
        self.fat_type
    }

    /// The volume serial number (blkid's `UUID`, `XXXX-XXXX`).
    pub fn volume_id(&self) -> u32 {
        self.volume_id
    }

    /// The label in the boot sector, without its padding (`NO NAME` when none was given).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Runs `f` on a filesystem opened for this one operation on `path`, its cursor allowed
    /// `extra_budget` bytes more than the operation's metadata ([`metadata_budget`]).
    fn with<R>(
        &self,
        path: &str,
        extra_budget: u64,
        f: impl for<'a> FnOnce(&Fs<'a>) -> Result<R, FsError>,
    ) -> Result<R, FsError> {
        let fs = fatfs::FileSystem::new(Cursor::new(&self.source, path, extra_budget), options())
            .map_err(|e| map_err("boot sector", e))?;
        f(&fs)
    }
}

fn options() -> fatfs::FsOptions {
    fatfs::FsOptions::new().update_accessed_date(false)
}

/// Looks `path` up from the root, each component without regard to case.
fn lookup<'f, 'a>(fs: &'f Fs<'a>, path: &str) -> Result<Found<'f, 'a>, FsError> {
    let mut dir = fs.root_dir();
    let mut found = Found::Root;
    let mut walked = String::new();
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    for (i, c) in comps.iter().enumerate() {
        let here = if walked.is_empty() { "/" } else { &walked };
        let hit = entries(&dir, here, |e| named(e, c))?
            .pop()
            .filter(|e| named(e, c));
        walked.push('/');
        walked.push_str(c);
        let Some(e) = hit else {
            return Err(FsError::NotFound(walked));
        };
        if i + 1 < comps.len() {
            if !e.is_dir() {
                return Err(FsError::NotADirectory(walked));
            }
            dir = e.to_dir();
        }
        found = Found::Entry(Box::new(e));
    }
    Ok(found)
}

fn metadata_of(e: &Entry<'_, '_>) -> Metadata {
    let ro = e.attributes().contains(fatfs::FileAttributes::READ_ONLY);
    Metadata {
        kind: kind_of(e),
        len: if e.is_dir() { 0 } else { e.len() },
        mode: if ro { 0o555 } else { 0o755 },
        uid: 0,
        gid: 0,
    }
}

impl crate::Filesystem for FatFs {
    fn kind(&self) -> &'static str {
        "vfat"
    }

    fn symlink_metadata(&self, path: &str) -> Result<Metadata, FsError> {
        self.with(path, 0, |fs| {
            Ok(match lookup(fs, path)? {
                Found::Root => Metadata {
                    kind: FileKind::Dir,
                    len: 0,
                    mode: 0o755,
                    uid: 0,
                    gid: 0,
                },
                Found::Entry(e) => metadata_of(&e),
            })
        })
    }

    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        self.with(path, 0, |fs| {
            let dir = match lookup(fs, path)? {
                Found::Root => fs.root_dir(),
                Found::Entry(e) if e.is_dir() => e.to_dir(),
                Found::Entry(_) => return Err(FsError::NotADirectory(path.to_string())),
            };
            Ok(entries(&dir, path, |_| false)?
                .iter()
                .map(|e| DirEntry {
                    name: e.file_name(),
                    kind: kind_of(e),
                })
                .collect())
        })
    }

    fn read_link(&self, path: &str) -> Result<String, FsError> {
        // Looked up first, so that a missing path is NotFound, as elsewhere.
        self.symlink_metadata(path)?;
        Err(FsError::NotASymlink(path.to_string()))
    }

    fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, FsError> {
        self.with(path, max, |fs| {
            let e = match lookup(fs, path)? {
                Found::Root => return Err(FsError::IsADirectory(path.to_string())),
                Found::Entry(e) if e.is_dir() => {
                    return Err(FsError::IsADirectory(path.to_string()))
                }
                Found::Entry(e) => e,
            };
            let want = e.len().min(max);
            let mut file = e.to_file();
            let mut out = Vec::new();
            let mut chunk =
                vec![0u8; usize::try_from(want).map_or(READ_CHUNK, |w| w.min(READ_CHUNK))];
            while (out.len() as u64) < want {
                let ask = ((want - out.len() as u64) as usize).min(READ_CHUNK);
                let n = file
                    .read(&mut chunk[..ask])
                    .map_err(|err| map_err(path, err))?;
                if n == 0 {
                    return Err(FsError::Corrupt(format!(
                        "FAT: {path}: {} bytes long, but its cluster chain ends after {}",
                        e.len(),
                        out.len()
                    )));
                }
                out.extend_from_slice(&chunk[..n]);
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;
    use vhdlint_disk::source::MemSource;

    use crate::Filesystem;

    fn src(bytes: Vec<u8>) -> SharedSource {
        Arc::new(MemSource::new(bytes))
    }

    #[test]
    fn zeros_are_not_fat() {
        let e = FatFs::open(src(vec![0; 1 << 20])).unwrap_err();
        assert!(matches!(e, FsError::Corrupt(_)), "{e:?}");
    }

    #[test]
    fn short_source_is_refused() {
        assert!(FatFs::open(src(vec![0; 100])).is_err());
    }

    #[test]
    fn cursor_refuses_writes() {
        let s = src(vec![7; 8192]);
        let mut c = Cursor::new(&s, "/", 0);
        assert!(c.write(b"x").is_err());
        let mut b = [0u8; 3];
        c.seek(SeekFrom::Start(4095)).unwrap();
        assert_eq!(
            c.read(&mut b).unwrap(),
            1,
            "a read stops at the block's end"
        );
        assert_eq!(c.read(&mut b).unwrap(), 3);
        c.seek(SeekFrom::Start(8192)).unwrap();
        assert_eq!(c.read(&mut b).unwrap(), 0);
    }

    #[test]
    fn small_volumes_have_small_budgets() {
        assert_eq!(metadata_budget(1 << 30, "/").0, MAX_FAT_METADATA_BYTES);
        let (budget, dirs) = metadata_budget(64 << 10, "/EFI/BOOT");
        assert_eq!(dirs, 3);
        assert!(budget < 1 << 20, "{budget}");
        let s = src(vec![0; 8192]);
        let mut c = Cursor::new(&s, "/a", 0);
        c.budget = 0;
        let e = map_err("/a", c.read(&mut [0u8; 32]).unwrap_err()).to_string();
        assert!(
            e.contains("at byte 0") && e.contains("8192-byte volume"),
            "{e}"
        );
    }

    #[test]
    fn cursor_budget_is_named() {
        let s = src(vec![0; 8192]);
        let mut c = Cursor::new(&s, "/", 0);
        c.budget = 2;
        let mut b = [0u8; 3];
        let e = map_err("x", c.read(&mut b).unwrap_err());
        assert!(
            matches!(&e, FsError::Limit(b) if b.limit == "MAX_FAT_METADATA_BYTES"),
            "{e:?}"
        );
        let _ = FatFs::open(s).map(|f| f.read_dir("/"));
    }
}
