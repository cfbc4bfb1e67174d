//! Bounds of the guest view, named in one place. Reaching one is reported, never followed.

/// Entries read from one directory.
pub const MAX_DIR_ENTRIES: usize = 1_000_000;
/// Symlinks followed while resolving one path (as Linux: 40).
pub const MAX_SYMLINK_HOPS: usize = 40;
/// Bytes of a path during resolution.
pub const MAX_PATH_LEN: usize = 4096;
/// Bytes read from one configuration file.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
