//! Bounds of the guest view, named in one place. Reaching one is reported, never followed.

/// Entries read from one directory.
pub const MAX_DIR_ENTRIES: usize = 1_000_000;
/// Symlinks followed while resolving one path (as Linux: 40).
pub const MAX_SYMLINK_HOPS: usize = 40;
/// Bytes of a path during resolution.
pub const MAX_PATH_LEN: usize = 4096;
/// Directory levels walked while resolving one path. The filesystems look each component up
/// from their root, so a path of n components costs n²/2 lookups: without this bound a deep
/// tree with a chain of absolute symlinks through it (1000 levels, 40 hops) costs tens of
/// millions of lookups. 8192 is a canonical path 127 components deep, or 40 hops to paths
/// 13 deep.
pub const MAX_RESOLVE_STEPS: usize = 8192;
/// Bytes read from one configuration file.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
