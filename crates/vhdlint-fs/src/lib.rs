//! Read-only filesystems of a disk image, behind one small trait ([`Filesystem`]): ext2/3/4 by
//! its own reader, with in-memory journal replay ([`ext4`]), NTFS through the `ntfs` crate
//! ([`ntfs`], with the structures that crate would trust checked first), XFS by its own reader
//! ([`xfs`]), btrfs through the `lambutter` crate with its superblocks checked first
//! ([`btrfs`]), FAT12/16/32 (an EFI system partition) through the `fatfs` crate ([`fat`]),
//! and a filesystem built in memory for tests ([`mem`]).
//!
//! Every reader is bounded: what an image can ask of it (directory entries, metadata bytes,
//! btree depth, extents…) is capped by a named constant of [`limits`], and reaching one is an
//! [`FsError::Limit`] that names it, never followed and never silently cut short. Damage is an
//! [`FsError::Corrupt`], a feature the reader does not support an [`FsError::Unsupported`].
//!
//! Paths given to a [`Filesystem`] are absolute inside that filesystem (`/etc/fstab`),
//! normalised (no `.`, `..` or empty components) and contain no symlink in their directory
//! components: the guest view resolves symlinks itself, component by component, so that they
//! resolve against the image's root and its mounts, never inside one filesystem alone and never
//! on the host.

use std::fmt;

pub mod btrfs;
mod cache;
pub mod ext4;
pub mod fat;
pub mod limits;
pub mod mem;
pub mod ntfs;
mod unix;
pub mod xfs;

/// What a directory entry or inode is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    Other,
}

/// Metadata of one inode (`lstat`: a symlink is described, not followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub kind: FileKind,
    /// Size in bytes (for a symlink: the length of its target).
    pub len: u64,
    /// Permission bits (the low 12 bits of `st_mode`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// One entry of a directory (`.` and `..` are never listed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub kind: FileKind,
}

/// Why a filesystem operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FsError {
    #[error("{0}: no such file or directory")]
    NotFound(String),
    #[error("{0}: not a directory")]
    NotADirectory(String),
    #[error("{0}: is a directory")]
    IsADirectory(String),
    #[error("{0}: not a symlink")]
    NotASymlink(String),
    /// The filesystem (or this file) uses a feature the reader does not support, e.g. an
    /// unknown ext4 incompatible feature, an encrypted file: contents cannot be inspected.
    #[error("cannot inspect contents: {0}")]
    Unsupported(String),
    /// The structures on disk do not make sense.
    #[error("corrupt filesystem: {0}")]
    Corrupt(String),
    /// The bytes could not be read.
    #[error("I/O error: {0}")]
    Io(String),
    /// A bound in the reader was hit (directory entries, symlink hops, …).
    #[error("limit reached: {0}")]
    Limit(Bound),
}

impl FsError {
    /// Bound `limit` (the name of its constant in `limits.rs`) was reached; `what` says where.
    pub fn limit(limit: &'static str, what: impl Into<String>) -> Self {
        FsError::Limit(Bound {
            limit,
            what: what.into(),
        })
    }
}

/// A bound of the readers that was reached: the constant's name and what reached it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub limit: &'static str,
    pub what: String,
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

/// A read-only filesystem.
pub trait Filesystem: Send + Sync {
    /// `ext4`, `xfs`, …
    fn kind(&self) -> &'static str;
    /// Metadata of `path`, not following a final symlink.
    fn symlink_metadata(&self, path: &str) -> Result<Metadata, FsError>;
    /// The entries of directory `path`.
    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError>;
    /// The target of symlink `path`, as stored.
    fn read_link(&self, path: &str) -> Result<String, FsError>;
    /// At most `max` bytes from the start of regular file `path`.
    fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, FsError>;
    /// Up to `buf.len()` bytes of regular file `path` from byte `offset` into `buf`; returns
    /// how many: `buf.len()`, or fewer where the file ends (0 at or past its end). The bytes
    /// are those [`Filesystem::read`] gives at that place (holes read as zeros), and the
    /// errors those it gives for the file.
    ///
    /// The default reads the file from its start up to the end of the range with
    /// [`Filesystem::read`] (correct for every filesystem, bounded by the range's end, but
    /// reading more than the range); ext4, XFS and btrfs read only the extents covering it.
    fn read_range(&self, path: &str, offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let end = offset.saturating_add(buf.len() as u64);
        let data = self.read(path, end)?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let n = (data.len() - start).min(buf.len());
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }
    /// What the reader did to the filesystem as it stands on disk that a reader of its
    /// contents should know (an ext4 journal replayed in memory); none by default.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// How many of `buf_len` bytes from `offset` a file of `size` bytes holds (0 at or past its
/// end): what a ranged read of it can give.
pub fn range_len(size: u64, offset: u64, buf_len: usize) -> usize {
    usize::try_from(size.saturating_sub(offset))
        .unwrap_or(usize::MAX)
        .min(buf_len)
}

impl fmt::Debug for dyn Filesystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Filesystem({})", self.kind())
    }
}
