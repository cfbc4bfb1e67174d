//! The guest's file tree: filesystems mounted where the image's own fstab puts them, with
//! every path resolved inside the image. Absolute symlinks resolve against the image's root,
//! `..` never climbs above it, and at most [`MAX_SYMLINK_HOPS`] symlinks are followed per path.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::config::glob_match;
use crate::fs::{DirEntry, FileKind, Filesystem, FsError, Metadata};
use crate::limits::{
    MAX_CACHED_FILE_BYTES, MAX_CONFIG_BYTES, MAX_GLOB_PATHS, MAX_PATH_LEN, MAX_RESOLVE_STEPS,
    MAX_SYMLINK_HOPS,
};
use crate::note::Note;

/// A filesystem mounted into the view.
#[derive(Clone)]
pub struct Mount {
    /// Where it is mounted: `/`, `/boot`, …
    pub point: String,
    /// The volume that holds it (`p1`, `vg0/root`).
    pub volume: String,
    /// Why it is mounted there (`root filesystem`, `/etc/fstab line 3: UUID=…`).
    pub reason: String,
    pub fs: Arc<dyn Filesystem>,
}

/// What a mount looks like in reports.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct MountInfo {
    pub point: String,
    pub volume: String,
    #[serde(deserialize_with = "vhdlint_disk::static_str::deserialize")]
    pub filesystem: vhdlint_disk::static_str::Interned,
    pub reason: String,
    /// What the filesystem's reader did that a reader of its contents should know (an ext4
    /// journal replayed in memory).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The guest's tree.
#[derive(Clone, Default)]
pub struct GuestView {
    mounts: Vec<Mount>,
    /// Files read whole, kept for the run: several checks read the same ones
    /// (`/boot/config-VERSION`, `modules.dep`). Shared by the clones of a view.
    files: Arc<Mutex<Files>>,
}

/// The bytes of files [`GuestView::read_upto`] read whole, by the path asked for, at most
/// [`MAX_CACHED_FILE_BYTES`] of them (when full it starts again empty). The image is
/// read-only and the mounts do not change once the checks run ([`GuestView::mount`] starts
/// a new cache), so what is kept is never stale.
#[derive(Default)]
struct Files {
    whole: HashMap<String, Arc<[u8]>>,
    bytes: usize,
}

/// Splits an absolute or relative path into its components, dropping empty ones and `.`.
fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty() && *c != ".")
}

fn join(parts: &[String]) -> String {
    if parts.is_empty() {
        "/".to_string()
    } else {
        format!("/{}", parts.join("/"))
    }
}

impl GuestView {
    /// A view with `root` mounted at `/`.
    pub fn new(root: Mount) -> Self {
        GuestView {
            mounts: vec![Mount {
                point: "/".into(),
                ..root
            }],
            files: Arc::default(),
        }
    }

    /// A view of `fs` alone, mounted at `/` from volume `p1` (the reason given is `in memory`):
    /// a guest built for a test, typically over a [`MemFs`](crate::fs::mem::MemFs).
    pub fn of(fs: impl Filesystem + 'static) -> Self {
        GuestView::new(Mount {
            point: "/".into(),
            volume: "p1".into(),
            reason: "in memory".into(),
            fs: Arc::new(fs),
        })
    }

    /// Mounts another filesystem (replacing one at the same point).
    pub fn mount(&mut self, m: Mount) {
        self.files = Arc::default();
        self.mounts.retain(|x| x.point != m.point);
        self.mounts.push(m);
        self.mounts
            .sort_by_key(|m| std::cmp::Reverse(m.point.len()));
    }

    pub fn mounts(&self) -> Vec<MountInfo> {
        let mut v: Vec<MountInfo> = self
            .mounts
            .iter()
            .map(|m| MountInfo {
                point: m.point.clone(),
                volume: m.volume.clone(),
                filesystem: m.fs.kind(),
                reason: m.reason.clone(),
                notes: m.fs.notes(),
            })
            .collect();
        v.sort_by(|a, b| a.point.cmp(&b.point));
        v
    }

    /// The mount holding canonical path `path`, and the path inside it.
    fn locate(&self, path: &str) -> (&Mount, String) {
        for m in &self.mounts {
            if m.point == "/" {
                return (m, path.to_string());
            }
            if path == m.point {
                return (m, "/".into());
            }
            if let Some(rest) = path.strip_prefix(&m.point) {
                if rest.starts_with('/') {
                    return (m, rest.to_string());
                }
            }
        }
        unreachable!("the root mount matches every path")
    }

    /// Resolves `path` to a canonical path with no symlinks, following a final symlink when
    /// `follow` is set. Relative paths are taken from the root.
    pub fn resolve(&self, path: &str, follow: bool) -> Result<String, FsError> {
        let mut pending: VecDeque<String> = components(path).map(str::to_string).collect();
        let mut done: Vec<String> = Vec::new();
        let mut hops = 0;
        let mut steps = 0;
        while let Some(c) = pending.pop_front() {
            if c == ".." {
                done.pop();
                continue;
            }
            done.push(c);
            let last = pending.is_empty();
            if last && !follow {
                break;
            }
            steps += done.len();
            if steps > MAX_RESOLVE_STEPS {
                return Err(FsError::limit(
                    "MAX_RESOLVE_STEPS",
                    format!(
                        "{path}: resolving it walks more than {MAX_RESOLVE_STEPS} directory levels"
                    ),
                ));
            }
            let here = join(&done);
            let (m, inner) = self.locate(&here);
            let md = m.fs.symlink_metadata(&inner)?;
            match md.kind {
                FileKind::Symlink => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(FsError::limit(
                            "MAX_SYMLINK_HOPS",
                            format!("{path}: more than {MAX_SYMLINK_HOPS} symlinks"),
                        ));
                    }
                    let target = m.fs.read_link(&inner)?;
                    done.pop();
                    if target.starts_with('/') {
                        done.clear();
                    }
                    for c in components(&target).collect::<Vec<_>>().into_iter().rev() {
                        pending.push_front(c.to_string());
                    }
                    let len: usize = pending.iter().chain(&done).map(|c| c.len() + 1).sum();
                    if len > MAX_PATH_LEN {
                        return Err(FsError::limit(
                            "MAX_PATH_LEN",
                            format!("{path}: resolves to more than {MAX_PATH_LEN} bytes"),
                        ));
                    }
                }
                FileKind::Dir => {}
                _ if !last => return Err(FsError::NotADirectory(here)),
                _ => {}
            }
        }
        Ok(join(&done))
    }

    /// Metadata of `path`, following symlinks.
    pub fn metadata(&self, path: &str) -> Result<Metadata, FsError> {
        let p = self.resolve(path, true)?;
        let (m, inner) = self.locate(&p);
        m.fs.symlink_metadata(&inner)
    }

    /// Metadata of `path` itself (a final symlink is not followed).
    pub fn symlink_metadata(&self, path: &str) -> Result<Metadata, FsError> {
        let p = self.resolve(path, false)?;
        let (m, inner) = self.locate(&p);
        m.fs.symlink_metadata(&inner)
    }

    /// The target of symlink `path`, as stored.
    pub fn read_link(&self, path: &str) -> Result<String, FsError> {
        let p = self.resolve(path, false)?;
        let (m, inner) = self.locate(&p);
        m.fs.read_link(&inner)
    }

    /// Whether `path` exists (following symlinks).
    pub fn exists(&self, path: &str) -> bool {
        self.metadata(path).is_ok()
    }

    /// Whether `path` exists; a path that could not be looked up for another reason than not
    /// being there (a corrupt or unsupported directory on the way, a bound) is not taken for
    /// absent: it gives `false` and a note in `notes`, as [`GuestView::read_noted`] does.
    pub fn exists_noted(&self, path: &str, notes: &mut Vec<Note>) -> bool {
        self.metadata(path)
            .map_err(|e| notes.extend(Note::from_fs_error(path, &e)))
            .is_ok()
    }

    /// The entries of directory `path`, sorted by name.
    pub fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        let p = self.resolve(path, true)?;
        let (m, inner) = self.locate(&p);
        let mut v = m.fs.read_dir(&inner)?;
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    /// At most `max` bytes of file `path`. A file read whole (fewer than `max` bytes) is
    /// kept for the run (see [`Files`]).
    pub fn read_upto(&self, path: &str, max: u64) -> Result<Vec<u8>, FsError> {
        let lock = || self.files.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = lock().whole.get(path) {
            return Ok(b[..b.len().min(usize::try_from(max).unwrap_or(usize::MAX))].to_vec());
        }
        let p = self.resolve(path, true)?;
        let (m, inner) = self.locate(&p);
        let b = m.fs.read(&inner, max)?;
        if (b.len() as u64) < max && b.len() <= MAX_CACHED_FILE_BYTES {
            let mut c = lock();
            if c.bytes + b.len() > MAX_CACHED_FILE_BYTES {
                c.whole.clear();
                c.bytes = 0;
            }
            if c.whole
                .insert(path.to_string(), b.as_slice().into())
                .is_none()
            {
                c.bytes += b.len();
            }
        }
        Ok(b)
    }

    /// Up to `buf.len()` bytes of file `path` from byte `offset` (see
    /// [`Filesystem::read_range`]); symlinks are resolved as [`GuestView::read_upto`] resolves
    /// them, inside the image.
    pub fn read_range(&self, path: &str, offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let p = self.resolve(path, true)?;
        let (m, inner) = self.locate(&p);
        m.fs.read_range(&inner, offset, buf)
    }

    /// Regular file `path` (symlinks resolved inside the image), to be read piece by piece
    /// with [`GuestFile::read_at`] or as an [`std::io::Read`].
    pub fn open(&self, path: &str) -> Result<GuestFile, FsError> {
        let p = self.resolve(path, true)?;
        let (m, inner) = self.locate(&p);
        let md = m.fs.symlink_metadata(&inner)?;
        match md.kind {
            FileKind::File => {}
            FileKind::Dir => return Err(FsError::IsADirectory(path.to_string())),
            _ => {
                return Err(FsError::Unsupported(format!(
                    "{path}: is a device, FIFO or socket, not a regular file"
                )))
            }
        }
        Ok(GuestFile {
            fs: m.fs.clone(),
            path: inner,
            len: md.len,
            pos: 0,
        })
    }

    /// A configuration file as text (lossy UTF-8), at most [`MAX_CONFIG_BYTES`]; a larger
    /// file is an error rather than silently cut.
    pub fn read_config(&self, path: &str) -> Result<String, FsError> {
        let b = self.read_upto(path, MAX_CONFIG_BYTES + 1)?;
        if b.len() as u64 > MAX_CONFIG_BYTES {
            return Err(FsError::limit(
                "MAX_CONFIG_BYTES",
                format!("{path} is larger than {MAX_CONFIG_BYTES} bytes"),
            ));
        }
        Ok(String::from_utf8_lossy(&b).into_owned())
    }

    /// Paths matching a glob pattern (`*`, `?`, `[…]` in any component), in lexical order.
    /// Once the paths gathered for one component pass [`MAX_GLOB_PATHS`], the remaining
    /// directories of that component are not listed: [`GuestView::glob_noted`] reports it.
    pub fn glob(&self, pattern: &str) -> Vec<String> {
        self.glob_bounded(pattern).0
    }

    /// Like [`GuestView::glob`], but an error when [`MAX_GLOB_PATHS`] cut the walk short.
    pub fn glob_checked(&self, pattern: &str) -> Result<Vec<String>, FsError> {
        match self.glob_bounded(pattern) {
            (found, false, _) => Ok(found),
            (_, true, _) => Err(Self::glob_cut(pattern)),
        }
    }

    fn glob_cut(pattern: &str) -> FsError {
        FsError::limit(
            "MAX_GLOB_PATHS",
            format!("{pattern}: the glob gathers more than {MAX_GLOB_PATHS} paths, the limit"),
        )
    }

    /// Like [`GuestView::glob`]; a walk that [`MAX_GLOB_PATHS`] cut short, and directories on
    /// the way (or matches) that could not be listed or looked up, are noted in `notes`. The
    /// paths gathered are returned.
    pub fn glob_noted(&self, pattern: &str, notes: &mut Vec<Note>) -> Vec<String> {
        let (found, cut, unread) = self.glob_bounded(pattern);
        if cut {
            let e = Self::glob_cut(pattern);
            notes.push(
                Note::bound(
                    "MAX_GLOB_PATHS",
                    format!("{e}: only the paths gathered before it are looked at"),
                )
                .at(pattern),
            );
        }
        notes.extend(unread);
        found
    }

    /// [`GuestView::read_config`]. A file that could not be read for another reason than not
    /// being there (a bound, a corrupt or unsupported inode) gives `None` and a note in
    /// `notes`; a missing file gives `None` alone.
    pub fn read_noted(&self, path: &str, notes: &mut Vec<Note>) -> Option<String> {
        self.read_config(path)
            .map_err(|e| notes.extend(Note::from_fs_error(path, &e)))
            .ok()
    }

    /// [`GuestView::read_dir`], noting a directory that could not be listed as
    /// [`GuestView::read_noted`] does.
    pub fn read_dir_noted(&self, path: &str, notes: &mut Vec<Note>) -> Option<Vec<DirEntry>> {
        self.read_dir(path)
            .map_err(|e| notes.extend(Note::from_fs_error(path, &e)))
            .ok()
    }

    /// The matches, whether directories were left unlisted because of [`MAX_GLOB_PATHS`], and
    /// the directories that could not be listed.
    fn glob_bounded(&self, pattern: &str) -> (Vec<String>, bool, Vec<Note>) {
        let mut found = vec![String::new()];
        let mut cut = false;
        let mut unread = Vec::new();
        let parts: Vec<&str> = components(pattern).collect();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let mut next = Vec::new();
            for (b, base) in found.iter().enumerate() {
                if part.contains(['*', '?', '[']) {
                    let dir = if base.is_empty() {
                        "/".to_string()
                    } else {
                        base.clone()
                    };
                    if let Some(entries) = self.read_dir_noted(&dir, &mut unread) {
                        for e in entries {
                            if (!e.name.starts_with('.') || part.starts_with('.'))
                                && glob_match(part, &e.name)
                            {
                                next.push(format!("{base}/{}", e.name));
                            }
                        }
                    }
                } else {
                    let p = format!("{base}/{part}");
                    // A directory on the way that could not be looked up is noted, not taken
                    // for absent.
                    let dir = last
                        || match self.metadata(&p) {
                            Ok(m) => m.kind == FileKind::Dir,
                            Err(e) => {
                                unread.extend(Note::from_fs_error(&p, &e));
                                false
                            }
                        };
                    if dir {
                        next.push(p);
                    }
                }
                if next.len() > MAX_GLOB_PATHS {
                    cut |= b + 1 < found.len();
                    break;
                }
            }
            found = next;
        }
        found.retain(|p| {
            !p.is_empty()
                && self
                    .symlink_metadata(p)
                    .map_err(|e| unread.extend(Note::from_fs_error(p, &e)))
                    .is_ok()
        });
        found.sort();
        (found, cut, unread)
    }
}

/// A regular file of the guest, opened by [`GuestView::open`]: its path resolved once, read
/// in ranges ([`Filesystem::read_range`]). As an [`std::io::Read`] it reads from its start
/// up to the size it had when opened; a filesystem error is an [`std::io::Error`] holding the
/// [`FsError`] (see [`GuestFile::fs_error`]).
pub struct GuestFile {
    fs: Arc<dyn Filesystem>,
    path: String,
    len: u64,
    pos: u64,
}

impl GuestFile {
    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Up to `buf.len()` bytes from byte `offset`; fewer at the end of the file.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let n = vhdlint_fs::range_len(self.len, offset, buf.len());
        self.fs.read_range(&self.path, offset, &mut buf[..n])
    }

    /// The filesystem error an [`std::io::Error`] of [`std::io::Read::read`] holds, if it
    /// holds one.
    pub fn fs_error(e: &std::io::Error) -> Option<&FsError> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<FsError>())
    }
}

impl std::io::Read for GuestFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.read_at(self.pos, buf).map_err(std::io::Error::other)?;
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::mem::MemFs;

    /// A filesystem of these entries: path, kind, and contents or link target.
    fn mem(entries: &[(&str, FileKind, &str)]) -> MemFs {
        let mut fs = MemFs::new();
        for &(path, kind, c) in entries {
            match kind {
                FileKind::Dir => fs.dir(path),
                FileKind::Symlink => fs.link(path, c),
                _ => fs.file(path, c),
            };
        }
        fs
    }

    fn view(entries: &[(&str, FileKind, &str)]) -> GuestView {
        GuestView::of(mem(entries))
    }

    use FileKind::*;

    #[test]
    fn symlinks_resolve_inside_the_image() {
        let v = view(&[
            ("/etc", Dir, ""),
            ("/etc/hostname", File, "vm"),
            (
                "/etc/resolv.conf",
                Symlink,
                "../run/systemd/resolve/stub-resolv.conf",
            ),
            ("/run", Dir, ""),
            ("/abs", Symlink, "/etc/hostname"),
            ("/escape", Symlink, "../../../../etc/hostname"),
            ("/loop", Symlink, "/loop"),
            ("/passwd", Symlink, "/etc/passwd"),
        ]);
        assert_eq!(v.read_config("/abs").unwrap(), "vm");
        // `..` stops at the image's root.
        assert_eq!(v.read_config("/escape").unwrap(), "vm");
        assert_eq!(
            v.resolve("/etc/resolv.conf", false).unwrap(),
            "/etc/resolv.conf"
        );
        assert!(matches!(
            v.read_config("/etc/resolv.conf"),
            Err(FsError::NotFound(_))
        ));
        assert!(matches!(v.read_config("/loop"), Err(FsError::Limit(_))));
        // /etc/passwd exists on the host, not in this image.
        assert!(matches!(
            v.read_config("/passwd"),
            Err(FsError::NotFound(_))
        ));
        assert!(matches!(
            v.read_config("/etc/hostname/x"),
            Err(FsError::NotADirectory(_))
        ));
    }

    #[test]
    fn resolution_work_is_bounded() {
        // 200 levels deep: walking down costs 200²/2 directory levels.
        let dirs: Vec<String> = (1..=200).map(|n| "/d".repeat(n)).collect();
        let mut entries: Vec<(&str, FileKind, &str)> =
            dirs.iter().map(|d| (d.as_str(), Dir, "")).collect();
        let shallow = format!("{}/f", "/d".repeat(100));
        let up = format!("{}/up", "/d".repeat(100));
        let target = "/d".repeat(100);
        entries.push((&shallow, File, "x"));
        entries.push((&up, Symlink, &target));
        let v = view(&entries);
        assert_eq!(v.read_config(&shallow).unwrap(), "x");
        let deep = format!("{}/f", "/d".repeat(200));
        assert!(matches!(v.read_config(&deep), Err(FsError::Limit(_))));
        // Each hop walks the 100 levels again: one walk is within the bound, two are not.
        let hops = format!("{up}/up/f");
        assert!(matches!(v.read_config(&hops), Err(FsError::Limit(_))));
    }

    #[test]
    fn mounts_take_their_subtree() {
        let mut v = view(&[("/boot", Dir, ""), ("/boot/old", File, "root's")]);
        v.mount(Mount {
            point: "/boot".into(),
            volume: "p2".into(),
            reason: "fstab".into(),
            fs: Arc::new(mem(&[
                ("/grub", Dir, ""),
                ("/grub/grub.cfg", File, "menuentry"),
                ("/up", Symlink, "../../../boot/grub/grub.cfg"),
            ])),
        });
        assert_eq!(v.read_config("/boot/grub/grub.cfg").unwrap(), "menuentry");
        assert!(v.read_config("/boot/old").is_err());
        assert_eq!(v.read_config("/boot/up").unwrap(), "menuentry");
        assert_eq!(v.read_dir("/boot").unwrap().len(), 2);
    }

    #[test]
    fn globbing() {
        let v = view(&[
            ("/etc", Dir, ""),
            ("/etc/ssh", Dir, ""),
            ("/etc/ssh/sshd_config.d", Dir, ""),
            ("/etc/ssh/sshd_config.d/b.conf", File, ""),
            ("/etc/ssh/sshd_config.d/a.conf", File, ""),
            ("/etc/ssh/sshd_config.d/c.txt", File, ""),
        ]);
        assert_eq!(
            v.glob("/etc/ssh/sshd_config.d/*.conf"),
            [
                "/etc/ssh/sshd_config.d/a.conf",
                "/etc/ssh/sshd_config.d/b.conf"
            ]
        );
        assert_eq!(v.glob("/etc/ssh/sshd_config.d/[ab].conf").len(), 2);
        assert!(v.glob("/nope/*").is_empty());
        assert_eq!(v.glob("/etc/ssh/*/*.txt"), ["/etc/ssh/sshd_config.d/c.txt"]);
    }

    #[test]
    fn globbing_notes_what_could_not_be_looked_up() {
        let mut fs = MemFs::new();
        fs.broken_dir("/usr/lib", FsError::Corrupt("/usr/lib: bad block".into()))
            .file("/etc/a.conf", "");
        let v = GuestView::of(fs);
        // A literal directory on the way, a literal last component, and a wildcard one.
        for pattern in [
            "/usr/lib/python3/dist-packages/*.py",
            "/usr/lib/python3",
            "/usr/lib/*/x",
        ] {
            let mut notes = Vec::new();
            assert!(v.glob_noted(pattern, &mut notes).is_empty(), "{pattern}");
            assert!(
                notes.iter().any(|n| n.is_unreadable()),
                "{pattern}: {notes:?}"
            );
        }
        // What is absent is no note.
        let mut notes = Vec::new();
        assert!(v.glob_noted("/etc/b/*.conf", &mut notes).is_empty());
        assert!(v.glob_noted("/etc/b.conf", &mut notes).is_empty());
        assert_eq!(v.glob_noted("/etc/*.conf", &mut notes), ["/etc/a.conf"]);
        assert!(notes.is_empty(), "{notes:?}");
    }
}
