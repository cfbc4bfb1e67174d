//! What the Unix filesystems read by vhdlint's own readers (ext2/3/4, XFS) share: the file
//! type bits of an inode's mode, and walking a normalised path one directory at a time.

use crate::{FileKind, FsError};

/// The file type bits of a mode.
pub const S_IFMT: u16 = 0o170000;
pub const S_IFREG: u16 = 0o100000;
pub const S_IFDIR: u16 = 0o040000;
pub const S_IFLNK: u16 = 0o120000;

/// The kind of file a mode says.
pub fn kind_of_mode(mode: u16) -> FileKind {
    match mode & S_IFMT {
        S_IFREG => FileKind::File,
        S_IFDIR => FileKind::Dir,
        S_IFLNK => FileKind::Symlink,
        _ => FileKind::Other,
    }
}

/// Whether `path`, of file type `file_type` (`mode & S_IFMT`), can be read as a regular file:
/// the error `Filesystem::read` gives when it cannot.
pub fn readable_as_file(path: &str, file_type: u16) -> Result<(), FsError> {
    match file_type {
        S_IFREG => Ok(()),
        S_IFDIR => Err(FsError::IsADirectory(path.to_string())),
        S_IFLNK => Err(FsError::Unsupported(format!(
            "{path}: is a symlink, not a regular file"
        ))),
        _ => Err(FsError::Unsupported(format!(
            "{path}: is a device, FIFO or socket, not a regular file"
        ))),
    }
}

/// Walks normalised `path` from `root`: `is_dir` tells a directory, `lookup(dir, name)` finds
/// a name in it (`None`: not there) and reads the child. `.` is skipped; `..` is refused (the
/// callers normalise paths, so one here would be a path that escapes).
pub fn resolve<I>(
    path: &str,
    root: I,
    is_dir: impl Fn(&I) -> bool,
    mut lookup: impl FnMut(&I, &str) -> Result<Option<I>, FsError>,
) -> Result<I, FsError> {
    let mut cur = root;
    let mut walked = String::new();
    for comp in path.split('/').filter(|c| !c.is_empty() && *c != ".") {
        if !is_dir(&cur) {
            let parent = if walked.is_empty() { "/" } else { &walked };
            return Err(FsError::NotADirectory(parent.to_string()));
        }
        walked.push('/');
        walked.push_str(comp);
        if comp == ".." {
            return Err(FsError::NotFound(format!(
                "{path} (paths must be normalised)"
            )));
        }
        cur = lookup(&cur, comp)?.ok_or_else(|| FsError::NotFound(walked.clone()))?;
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_walked_one_directory_at_a_time() {
        // A tree of numbers: 0 is the root directory, holding "a" = 1 (a directory) holding
        // "b" = 2 (a file).
        let is_dir = |i: &u32| *i < 2;
        let lookup = |d: &u32, name: &str| {
            Ok(match (*d, name) {
                (0, "a") => Some(1),
                (1, "b") => Some(2),
                _ => None,
            })
        };
        assert_eq!(resolve("/", 0, is_dir, lookup).unwrap(), 0);
        assert_eq!(resolve("/a/./b", 0, is_dir, lookup).unwrap(), 2);
        assert!(
            matches!(resolve("/a/c", 0, is_dir, lookup), Err(FsError::NotFound(p)) if p == "/a/c")
        );
        assert!(
            matches!(resolve("/a/b/c", 0, is_dir, lookup), Err(FsError::NotADirectory(p)) if p == "/a/b")
        );
        assert!(
            matches!(resolve("/a/../a", 0, is_dir, lookup), Err(FsError::NotFound(p)) if p.contains("normalised"))
        );
    }

    #[test]
    fn only_regular_files_are_read_as_files() {
        assert!(readable_as_file("/f", S_IFREG).is_ok());
        assert!(matches!(
            readable_as_file("/d", S_IFDIR),
            Err(FsError::IsADirectory(_))
        ));
        for t in [S_IFLNK, 0o020000, 0o010000] {
            assert!(matches!(
                readable_as_file("/x", t),
                Err(FsError::Unsupported(_))
            ));
        }
        assert_eq!(kind_of_mode(0o100644), FileKind::File);
        assert_eq!(kind_of_mode(0o040755), FileKind::Dir);
        assert_eq!(kind_of_mode(0o120777), FileKind::Symlink);
        assert_eq!(kind_of_mode(0o060600), FileKind::Other);
    }
}
