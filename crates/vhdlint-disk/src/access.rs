//! What a read is for, as the reader that makes it knows: a hint a source that fetches over a
//! network uses to choose how much to fetch around a read (see `vhdlint-remote`). A local file
//! ignores it.
//!
//! The hint is per thread: a filesystem reader sets it around its own reads with [`with`], and
//! the source, called on the same thread through the partition and container layers, reads it
//! with [`current`]. Reads made outside any [`with`] are [`Access::Unknown`].

use std::cell::Cell;

/// The kind of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// No reader said (partition tables, superblocks, filesystems that give no hints).
    #[default]
    Unknown,
    /// An inode in an inode table: its neighbours are the inodes of the same directory's
    /// other entries, the ones most likely looked up next.
    Inode,
    /// Filesystem metadata located by an inode: a directory block, an extent-tree block.
    Directory,
    /// A file's bytes, as many as the reader asked for.
    File,
}

thread_local! {
    static CURRENT: Cell<Access> = const { Cell::new(Access::Unknown) };
}

/// Runs `f` with reads on this thread hinted as `access`; the previous hint is restored after
/// (also when `f` panics).
pub fn with<T>(access: Access, f: impl FnOnce() -> T) -> T {
    struct Restore(Access);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CURRENT.with(|c| c.replace(access)));
    f()
}

/// The hint of reads on this thread now.
pub fn current() -> Access {
    CURRENT.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_hints_are_restored() {
        assert_eq!(current(), Access::Unknown);
        with(Access::Inode, || {
            assert_eq!(current(), Access::Inode);
            with(Access::File, || assert_eq!(current(), Access::File));
            assert_eq!(current(), Access::Inode);
        });
        assert_eq!(current(), Access::Unknown);
        let r = std::panic::catch_unwind(|| with(Access::Directory, || panic!("in a read")));
        assert!(r.is_err());
        assert_eq!(current(), Access::Unknown);
        // Another thread starts without a hint.
        with(Access::File, || {
            std::thread::spawn(|| assert_eq!(current(), Access::Unknown))
                .join()
                .unwrap()
        });
    }
}
