//! What the Unix filesystems read by vhdlint's own readers (ext2/3/4, XFS) share: the file
//! type bits of an inode's mode. (Walking a path: [`crate::cache::LookupCache::resolve`].)

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

#[cfg(test)]
mod tests {
    use super::*;

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
