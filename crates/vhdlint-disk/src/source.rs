//! The byte source: one small trait, `read_at`, implemented for a local file (positioned reads),
//! for bytes in memory and for a window (a partition, a volume) over another source.
//!
//! The local file is read with `pread`, not a memory map. A map of a file that another
//! process truncates raises SIGBUS on the next access to a lost page, which would kill the
//! linter; a positioned read of a shrunken file returns short instead, and that becomes an
//! [`Error::Truncated`] result. The cost is one copy per read, which is nothing next to the
//! few megabytes a lint reads.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

/// Reads bytes at absolute offsets. Reads are exact: a read that does not fit is an error.
pub trait ReadAt: Send + Sync {
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Fills `buf` from `offset`.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()>;
    /// What this source is, for messages ("image file", "partition 2", …).
    fn name(&self) -> String;
    /// Bytes this source has read from where it reads (a file, a server), when it counts them.
    fn bytes_read(&self) -> Option<u64> {
        None
    }
    /// Why results drawn from this source are void, when they are: the bytes changed since it
    /// was opened (a file truncated or rewritten by another process, a blob replaced), or
    /// reading them failed for good (an I/O error, a server that stopped answering).
    fn changed(&self) -> Option<String> {
        None
    }

    /// Reads `len` bytes at `offset` into a new vector.
    fn read_vec(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let mut v = vec![0; len];
        self.read_at(offset, &mut v)?;
        Ok(v)
    }
    /// Reads up to `len` bytes at `offset`, fewer when the source ends first.
    fn read_upto(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let avail = self.size().saturating_sub(offset).min(len as u64) as usize;
        self.read_vec(offset, avail)
    }
}

/// A shared, thread-safe source.
pub type SharedSource = Arc<dyn ReadAt>;

/// Checks that `[offset, offset+len)` lies inside `size`.
pub fn check_bounds(what: &dyn Fn() -> String, offset: u64, len: usize, size: u64) -> Result<()> {
    let len = len as u64;
    match offset.checked_add(len) {
        Some(end) if end <= size => Ok(()),
        _ => Err(Error::OutOfBounds {
            what: what(),
            offset,
            len,
            size,
        }),
    }
}

/// A local image file, opened read-only and read with positioned reads.
pub struct FileSource {
    path: PathBuf,
    file: File,
    size: u64,
    /// Modification time when opened, (seconds, nanoseconds).
    mtime: (i64, i64),
    bytes_read: AtomicU64,
    /// 1 + the offset of the first read that found the file shorter than when opened.
    truncated_at: AtomicU64,
    /// The first read the system refused.
    io_error: std::sync::OnceLock<String>,
}

impl FileSource {
    /// Opens `path` read-only. Anything but a regular file is refused with a clear error.
    pub fn open(path: &Path) -> Result<Self> {
        let open_err = |source| Error::Open {
            path: path.to_owned(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(open_err)?;
        let ft = meta.file_type();
        if !ft.is_file() {
            use std::os::unix::fs::FileTypeExt;
            let kind = if ft.is_dir() {
                "directory"
            } else if ft.is_fifo() {
                "FIFO"
            } else if ft.is_block_device() {
                "block device"
            } else if ft.is_char_device() {
                "character device"
            } else if ft.is_socket() {
                "socket"
            } else {
                "special file"
            };
            return Err(Error::NotAFile {
                path: path.to_owned(),
                kind,
            });
        }
        // Read-only, and O_NOFOLLOW is not wanted: the user names the image, a symlink to it is
        // fine. The type is checked again on the opened descriptor: the path may have been
        // replaced between the two calls.
        let file = File::open(path).map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        if !meta.file_type().is_file() {
            return Err(Error::NotAFile {
                path: path.to_owned(),
                kind: "special file",
            });
        }
        use std::os::unix::fs::MetadataExt;
        Ok(Self {
            path: path.to_owned(),
            file,
            size: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            bytes_read: AtomicU64::new(0),
            truncated_at: AtomicU64::new(0),
            io_error: std::sync::OnceLock::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn file(&self) -> &File {
        &self.file
    }
}

impl ReadAt for FileSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        use std::os::unix::fs::FileExt;
        check_bounds(&|| self.name(), offset, buf.len(), self.size)?;
        let mut done = 0;
        while done < buf.len() {
            match self.file.read_at(&mut buf[done..], offset + done as u64) {
                // The file ended before the size it had when it was opened.
                Ok(0) => {
                    let _ = self.truncated_at.compare_exchange(
                        0,
                        offset + done as u64 + 1,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                    return Err(Error::Truncated {
                        path: self.path.clone(),
                        offset: offset + done as u64,
                        size: self.size,
                    });
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    let _ = self.io_error.set(format!(
                        "{}: I/O error at offset {:#x}: {source}",
                        self.path.display(),
                        offset + done as u64
                    ));
                    return Err(Error::Io {
                        what: self.name(),
                        offset: offset + done as u64,
                        source,
                    });
                }
            }
        }
        self.bytes_read
            .fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(())
    }
    fn name(&self) -> String {
        "image file".into()
    }
    fn bytes_read(&self) -> Option<u64> {
        Some(self.bytes_read.load(Ordering::Relaxed))
    }
    fn changed(&self) -> Option<String> {
        use std::os::unix::fs::MetadataExt;
        if let Some(e) = self.io_error.get() {
            return Some(e.clone());
        }
        let at = self.truncated_at.load(Ordering::Relaxed);
        if at != 0 {
            return Some(format!(
                "{} was truncated while being read: it was {} bytes when opened and ended \
                 before offset {:#x}",
                self.path.display(),
                self.size,
                at - 1
            ));
        }
        let now = match self.file.metadata() {
            Ok(m) => m,
            Err(e) => {
                return Some(format!(
                    "{}: cannot stat it again: {e}",
                    self.path.display()
                ))
            }
        };
        if now.len() != self.size {
            return Some(format!(
                "{} changed size while being read: {} bytes when opened, {} now",
                self.path.display(),
                self.size,
                now.len()
            ));
        }
        if (now.mtime(), now.mtime_nsec()) != self.mtime {
            return Some(format!(
                "{} was modified while being read (its modification time changed)",
                self.path.display()
            ));
        }
        None
    }
}

/// Bytes in memory (tests, small images, fuzzing).
pub struct MemSource {
    data: Vec<u8>,
    name: String,
}

impl MemSource {
    pub fn new(data: Vec<u8>) -> Self {
        Self {
            data,
            name: "image file".into(),
        }
    }
    pub fn named(data: Vec<u8>, name: &str) -> Self {
        Self {
            data,
            name: name.into(),
        }
    }
}

impl ReadAt for MemSource {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_bounds(&|| self.name(), offset, buf.len(), self.size())?;
        let start = offset as usize;
        buf.copy_from_slice(&self.data[start..start + buf.len()]);
        Ok(())
    }
    fn name(&self) -> String {
        self.name.clone()
    }
}

/// A window `[start, start+len)` of another source: a partition, a volume.
pub struct Slice {
    inner: SharedSource,
    start: u64,
    len: u64,
    name: String,
}

impl Slice {
    pub fn new(inner: SharedSource, start: u64, len: u64, name: impl Into<String>) -> Self {
        Self {
            inner,
            start,
            len,
            name: name.into(),
        }
    }
    pub fn start(&self) -> u64 {
        self.start
    }
}

impl ReadAt for Slice {
    fn size(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_bounds(&|| self.name(), offset, buf.len(), self.len)?;
        let abs = self
            .start
            .checked_add(offset)
            .ok_or_else(|| Error::OutOfBounds {
                what: self.name(),
                offset,
                len: buf.len() as u64,
                size: self.len,
            })?;
        self.inner.read_at(abs, buf)
    }
    fn name(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_bounds() {
        let m: SharedSource = Arc::new(MemSource::new((0..100u8).collect()));
        let s = Slice::new(m, 10, 20, "part");
        let mut b = [0u8; 5];
        s.read_at(15, &mut b).unwrap();
        assert_eq!(b, [25, 26, 27, 28, 29]);
        assert!(s.read_at(16, &mut b).is_err());
        assert!(s.read_at(u64::MAX, &mut b).is_err());
        assert_eq!(s.read_upto(18, 10).unwrap(), vec![28, 29]);
    }
}
