//! ext2/3/4 through the `ext4-view` crate.
//!
//! `ext4_view::Ext4` is not `Send` (it shares its state through `Rc`), while checks run on
//! several threads. Each thread therefore loads its own instance over the same byte source on
//! first use (the superblock, group descriptors and journal: a few KiB) and keeps it in a small
//! thread-local cache.

mod raw;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use ext4_view::{Ext4, Ext4Error, Ext4Read};
use vhdlint_disk::SharedSource;

use crate::limits::MAX_DIR_ENTRIES;
use crate::{DirEntry, FileKind, FsError, Metadata};

/// An ext2/3/4 filesystem.
pub struct Ext4Fs {
    id: u64,
    source: SharedSource,
    kind: &'static str,
}

struct Reader(SharedSource);

impl Ext4Read for Reader {
    fn read(
        &mut self,
        start: u64,
        dst: &mut [u8],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
        self.0.read_at(start, dst).map_err(|e| Box::new(e) as _)
    }
}

const CACHE_PER_THREAD: usize = 16;

thread_local! {
    static CACHE: RefCell<HashMap<u64, Ext4>> = RefCell::new(HashMap::new());
}

/// ext4-view reserves room for every block group descriptor the superblock implies before it
/// reads one: a corrupt block count or blocks-per-group asks for tens of gigabytes (found by
/// fuzzing fs_ext4). The count is computed here first, as the crate does, and bounded.
fn check_block_groups(vol: &dyn vhdlint_disk::ReadAt) -> Result<(), FsError> {
    use crate::limits::MAX_EXT4_BLOCK_GROUPS;
    let mut sb = [0u8; raw::SB_LEN];
    if vol.read_at(raw::SB_OFFSET, &mut sb).is_err() {
        return Ok(()); // too small: the crate reports it
    }
    let Some(raw::BlockGroups {
        groups,
        blocks,
        per_group,
    }) = raw::block_groups(&sb)
    else {
        return Ok(());
    };
    if groups > MAX_EXT4_BLOCK_GROUPS {
        return Err(FsError::limit("MAX_EXT4_BLOCK_GROUPS", format!(
            "the superblock implies {groups} block groups ({blocks} blocks, {per_group} per group), more than the limit of {MAX_EXT4_BLOCK_GROUPS} (MAX_EXT4_BLOCK_GROUPS)"
        )));
    }
    Ok(())
}

fn map_err(path: &str, e: Ext4Error) -> FsError {
    match e {
        Ext4Error::NotFound => FsError::NotFound(path.into()),
        Ext4Error::NotADirectory => FsError::NotADirectory(path.into()),
        Ext4Error::IsADirectory => FsError::IsADirectory(path.into()),
        Ext4Error::NotASymlink => FsError::NotASymlink(path.into()),
        Ext4Error::Encrypted => FsError::Unsupported(format!("{path} is encrypted")),
        Ext4Error::Incompatible(i) => {
            FsError::Unsupported(format!("ext4 feature not supported by the reader: {i}"))
        }
        Ext4Error::Corrupt(c) => FsError::Corrupt(format!("{path}: {c}")),
        // The reader's own bounds (1000 components, 40 symlinks), not damage.
        e @ Ext4Error::PathTooLong => {
            FsError::limit("ext4-view path length", format!("{path}: {e}"))
        }
        e @ Ext4Error::TooManySymlinks => {
            FsError::limit("ext4-view symlink hops", format!("{path}: {e}"))
        }
        Ext4Error::Io(e) => FsError::Io(format!("{path}: {e}")),
        other => FsError::Corrupt(format!("{path}: {other}")),
    }
}

fn kind_of(t: ext4_view::FileType) -> FileKind {
    if t.is_regular_file() {
        FileKind::File
    } else if t.is_dir() {
        FileKind::Dir
    } else if t.is_symlink() {
        FileKind::Symlink
    } else {
        FileKind::Other
    }
}

impl Ext4Fs {
    /// Opens the filesystem on `source`; `kind` is `ext2`, `ext3` or `ext4` as probed.
    pub fn open(source: SharedSource, kind: &'static str) -> Result<Ext4Fs, FsError> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        check_block_groups(source.as_ref())?;
        let fs = Ext4Fs {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            source,
            kind,
        };
        fs.with("/", |_| Ok(()))?;
        Ok(fs)
    }

    fn with<R>(
        &self,
        path: &str,
        f: impl FnOnce(&Ext4) -> Result<R, Ext4Error>,
    ) -> Result<R, FsError> {
        let fs = CACHE.with(|c| {
            if let Some(fs) = c.borrow().get(&self.id) {
                return Ok(fs.clone());
            }
            let fs = Ext4::load(Box::new(Reader(self.source.clone())))
                .map_err(|e| map_err("superblock", e))?;
            let mut c = c.borrow_mut();
            if c.len() >= CACHE_PER_THREAD {
                let old = *c.keys().min().expect("not empty");
                c.remove(&old);
            }
            c.insert(self.id, fs.clone());
            Ok(fs)
        })?;
        f(&fs).map_err(|e| map_err(path, e))
    }
}

impl crate::Filesystem for Ext4Fs {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn symlink_metadata(&self, path: &str) -> Result<Metadata, FsError> {
        self.with(path, |fs| {
            let m = fs.symlink_metadata(path)?;
            Ok(Metadata {
                kind: kind_of(m.file_type()),
                len: m.len(),
                mode: u32::from(m.mode()) & 0o7777,
                uid: m.uid(),
                gid: m.gid(),
            })
        })
    }

    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        let entries = self.with(path, |fs| {
            let mut out = Vec::new();
            for e in fs.read_dir(path)? {
                let e = e?;
                let name = e.file_name();
                let name = String::from_utf8_lossy(name.as_ref()).into_owned();
                if name == "." || name == ".." {
                    continue;
                }
                out.push(DirEntry {
                    name,
                    kind: kind_of(e.file_type()?),
                });
                if out.len() > MAX_DIR_ENTRIES {
                    break;
                }
            }
            Ok(out)
        })?;
        if entries.len() > MAX_DIR_ENTRIES {
            return Err(FsError::limit(
                "MAX_DIR_ENTRIES",
                format!("{path} has more than {MAX_DIR_ENTRIES} entries"),
            ));
        }
        Ok(entries)
    }

    fn read_link(&self, path: &str) -> Result<String, FsError> {
        // ext4-view allocates the inode's whole declared size for the target before it reads
        // it: a corrupt size of exabytes would abort the process. A target is at most a path
        // long (and a block, on a sane volume).
        let len = self.with(path, |fs| Ok(fs.symlink_metadata(path)?.len()))?;
        if len > crate::limits::MAX_PATH_LEN as u64 {
            return Err(FsError::limit("MAX_PATH_LEN", format!(
                "{path}: a symlink target of {len} bytes exceeds the limit of {} bytes (MAX_PATH_LEN)",
                crate::limits::MAX_PATH_LEN
            )));
        }
        self.with(path, |fs| {
            let t = fs.read_link(path)?;
            Ok(String::from_utf8_lossy(t.as_ref()).into_owned())
        })
    }

    fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, FsError> {
        self.with(path, |fs| {
            let mut f = fs.open(path)?;
            let want = f.metadata().len().min(max);
            let mut out = vec![0u8; want as usize];
            let mut done = 0;
            while done < out.len() {
                let n = f.read_bytes(&mut out[done..])?;
                if n == 0 {
                    break;
                }
                done += n;
            }
            out.truncate(done);
            Ok(out)
        })
    }
}
