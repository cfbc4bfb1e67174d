//! A filesystem built in memory, path by path: directories, symlinks, files, and large files of
//! one repeated byte that are only made when read (a multi-gigabyte file costs nothing until a
//! reader asks for it, and then only as many bytes as it asks for).
//!
//! It serves the tests of the guest view, of the parsers' bounds and of the checks, where a
//! crafted tree is clearer than an image built for one case (vhdlint-guest's `GuestView::of`
//! mounts one as a guest's root).

use std::collections::BTreeMap;

use crate::{DirEntry, FileKind, Filesystem, FsError, Metadata};

/// What one path holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir,
    /// A symlink and its target, as stored (relative or absolute).
    Link(String),
    File(Vec<u8>),
    /// A regular file of `len` copies of `byte`.
    Repeat {
        byte: u8,
        len: u64,
    },
    /// A directory (or file, by `kind`) whose contents cannot be read: listing or reading it
    /// fails with this error, as a corrupt inode or an unsupported feature does.
    Broken {
        kind: FileKind,
        error: FsError,
    },
    /// An entry listed in its directory (as a `kind`) whose inode cannot be read: looking it
    /// up fails with this error, as it does for a corrupt inode.
    Lost {
        kind: FileKind,
        error: FsError,
    },
}

impl Node {
    fn kind(&self) -> FileKind {
        match self {
            Node::Dir => FileKind::Dir,
            Node::Link(_) => FileKind::Symlink,
            Node::File(_) | Node::Repeat { .. } => FileKind::File,
            Node::Broken { kind, .. } | Node::Lost { kind, .. } => *kind,
        }
    }
}

/// A filesystem in memory. Every node has mode 0644 and owner root; the root directory always
/// exists, and adding a path adds the directories above it that are missing.
#[derive(Debug, Clone)]
pub struct MemFs(BTreeMap<String, Node>);

impl Default for MemFs {
    fn default() -> Self {
        Self::new()
    }
}

impl MemFs {
    /// An empty filesystem: only `/`.
    pub fn new() -> Self {
        MemFs(BTreeMap::from([("/".to_string(), Node::Dir)]))
    }

    /// Adds (or replaces) `path`, which must be absolute and normalised, as `node`, and the
    /// missing directories above it.
    pub fn add(&mut self, path: &str, node: Node) -> &mut Self {
        for (i, _) in path.match_indices('/').skip(1) {
            self.0.entry(path[..i].to_string()).or_insert(Node::Dir);
        }
        self.0.insert(path.to_string(), node);
        self
    }

    /// Adds a directory.
    pub fn dir(&mut self, path: &str) -> &mut Self {
        self.add(path, Node::Dir)
    }

    /// Adds a file with these contents.
    pub fn file(&mut self, path: &str, contents: impl AsRef<[u8]>) -> &mut Self {
        self.add(path, Node::File(contents.as_ref().to_vec()))
    }

    /// Adds a symlink to `target`.
    pub fn link(&mut self, path: &str, target: &str) -> &mut Self {
        self.add(path, Node::Link(target.to_string()))
    }

    /// Adds a file of `len` copies of `byte`, made only when read.
    pub fn repeat(&mut self, path: &str, byte: u8, len: u64) -> &mut Self {
        self.add(path, Node::Repeat { byte, len })
    }

    /// Adds a directory that cannot be listed: listing it fails with `error`.
    pub fn broken_dir(&mut self, path: &str, error: FsError) -> &mut Self {
        self.add(
            path,
            Node::Broken {
                kind: FileKind::Dir,
                error,
            },
        )
    }

    /// Adds an entry listed as a `kind` whose lookup fails with `error`.
    pub fn lost(&mut self, path: &str, kind: FileKind, error: FsError) -> &mut Self {
        self.add(path, Node::Lost { kind, error })
    }

    /// Adds a file that cannot be read: reading it fails with `error`.
    pub fn broken_file(&mut self, path: &str, error: FsError) -> &mut Self {
        self.add(
            path,
            Node::Broken {
                kind: FileKind::File,
                error,
            },
        )
    }

    fn get(&self, path: &str) -> Result<&Node, FsError> {
        // Looking a name up reads its directory: under a directory that cannot be listed,
        // nothing can be looked up, listed, read or followed (as on a real filesystem).
        let mut at = path;
        while let Some(i) = at.rfind('/').filter(|&i| i > 0) {
            at = &at[..i];
            if let Some(Node::Broken {
                kind: FileKind::Dir,
                error,
            }) = self.0.get(at)
            {
                return Err(error.clone());
            }
        }
        self.0
            .get(path)
            .ok_or_else(|| FsError::NotFound(path.into()))
    }
}

impl Filesystem for MemFs {
    fn kind(&self) -> &'static str {
        "mem"
    }

    fn symlink_metadata(&self, path: &str) -> Result<Metadata, FsError> {
        let node = self.get(path)?;
        if let Node::Lost { error, .. } = node {
            return Err(error.clone());
        }
        let len = match node {
            Node::Dir => 0,
            Node::Link(t) => t.len() as u64,
            Node::File(c) => c.len() as u64,
            Node::Repeat { len, .. } => *len,
            Node::Broken { .. } | Node::Lost { .. } => 0,
        };
        Ok(Metadata {
            kind: node.kind(),
            len,
            mode: 0o644,
            uid: 0,
            gid: 0,
        })
    }

    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        if let Node::Broken { error, .. } | Node::Lost { error, .. } = self.get(path)? {
            return Err(error.clone());
        }
        if !matches!(self.get(path)?, Node::Dir) {
            return Err(FsError::NotADirectory(path.into()));
        }
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        Ok(self
            .0
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter_map(|(p, n)| {
                let name = &p[prefix.len()..];
                (!name.is_empty() && !name.contains('/')).then(|| DirEntry {
                    name: name.into(),
                    kind: n.kind(),
                })
            })
            .collect())
    }

    fn read_link(&self, path: &str) -> Result<String, FsError> {
        match self.get(path)? {
            Node::Link(t) => Ok(t.clone()),
            Node::Lost { error, .. } => Err(error.clone()),
            _ => Err(FsError::NotASymlink(path.into())),
        }
    }

    fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, FsError> {
        match self.get(path)? {
            Node::File(c) => {
                Ok(c[..c.len().min(usize::try_from(max).unwrap_or(usize::MAX))].to_vec())
            }
            Node::Repeat { byte, len } => Ok(vec![
                *byte;
                usize::try_from((*len).min(max))
                    .unwrap_or(usize::MAX)
            ]),
            Node::Dir => Err(FsError::IsADirectory(path.into())),
            Node::Broken { error, .. } | Node::Lost { error, .. } => Err(error.clone()),
            Node::Link(_) => Err(FsError::Unsupported(format!(
                "{path} is a symlink: it is read through the guest view, which resolves it"
            ))),
        }
    }

    fn read_range(&self, path: &str, offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let len = match self.get(path)? {
            Node::File(c) => c.len() as u64,
            Node::Repeat { len, .. } => *len,
            // Not a regular file: the error `read` gives.
            _ => return self.read(path, 0).map(|_| 0),
        };
        let n = crate::range_len(len, offset, buf.len());
        match self.get(path)? {
            Node::File(c) => {
                let at = offset as usize;
                buf[..n].copy_from_slice(&c[at..at + n]);
            }
            Node::Repeat { byte, .. } => buf[..n].fill(*byte),
            _ => {}
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_are_made_and_listed() {
        let mut fs = MemFs::new();
        fs.file("/etc/ssh/sshd_config", "Port 22\n")
            .link("/etc/mtab", "../proc/self/mounts")
            .repeat("/var/big", b'#', 1 << 40);
        let names = |fs: &MemFs, p| -> Vec<(String, FileKind)> {
            fs.read_dir(p)
                .unwrap()
                .into_iter()
                .map(|e| (e.name, e.kind))
                .collect()
        };
        assert_eq!(
            names(&fs, "/"),
            [("etc".into(), FileKind::Dir), ("var".into(), FileKind::Dir)]
        );
        assert_eq!(
            names(&fs, "/etc"),
            [
                ("mtab".into(), FileKind::Symlink),
                ("ssh".into(), FileKind::Dir)
            ]
        );
        assert_eq!(fs.read("/etc/ssh/sshd_config", 4).unwrap(), b"Port");
        assert_eq!(fs.read_link("/etc/mtab").unwrap(), "../proc/self/mounts");
        assert_eq!(fs.symlink_metadata("/var/big").unwrap().len, 1 << 40);
        assert_eq!(fs.read("/var/big", 3).unwrap(), b"###");
        assert!(matches!(
            fs.read_dir("/etc/mtab"),
            Err(FsError::NotADirectory(_))
        ));
        assert!(matches!(fs.read("/etc", 1), Err(FsError::IsADirectory(_))));
        assert!(matches!(fs.read("/nope", 1), Err(FsError::NotFound(_))));
        // A name sharing a prefix with a directory is not inside it.
        fs.file("/etcetera", "");
        assert_eq!(names(&fs, "/etc").len(), 2);
    }

    #[test]
    fn nothing_under_a_broken_directory_can_be_reached() {
        let mut fs = MemFs::new();
        fs.broken_dir("/etc/ssh", FsError::Corrupt("bad block".into()));
        fs.0.insert("/etc/ssh/k".into(), Node::Link("x".into()));
        fs.0.insert("/etc/ssh/d".into(), Node::Dir);
        fs.0.insert("/etc/ssh/d/f".into(), Node::File(b"x".to_vec()));
        let corrupt = |r: Result<(), FsError>| matches!(r, Err(FsError::Corrupt(_)));
        assert!(corrupt(fs.read_dir("/etc/ssh").map(drop)));
        assert!(corrupt(fs.read_dir("/etc/ssh/d").map(drop)));
        assert!(corrupt(fs.symlink_metadata("/etc/ssh/k").map(drop)));
        assert!(corrupt(fs.read_link("/etc/ssh/k").map(drop)));
        assert!(corrupt(fs.read("/etc/ssh/d/f", 1).map(drop)));
        // An entry that is listed but cannot be looked up.
        fs.lost("/etc/x", FileKind::File, FsError::Io("inode 12".into()));
        assert!(fs.read_dir("/etc").unwrap().iter().any(|e| e.name == "x"));
        assert!(matches!(fs.symlink_metadata("/etc/x"), Err(FsError::Io(_))));
        assert!(matches!(fs.read("/etc/x", 1), Err(FsError::Io(_))));
        // The broken directory itself can be looked up.
        assert_eq!(fs.symlink_metadata("/etc/ssh").unwrap().kind, FileKind::Dir);
    }
}
