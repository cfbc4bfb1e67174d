//! Errors of the reading layer. Each says what was being read and where.

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong while reading an image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The image could not be opened at all.
    #[error("cannot open {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The path exists but is not a regular file.
    #[error("{path} is not a regular file (it is a {kind})")]
    NotAFile { path: PathBuf, kind: &'static str },
    /// A read reached past the end of what was being read.
    #[error("{what}: {len} bytes at offset {offset:#x} lie past its end ({size} bytes)")]
    OutOfBounds {
        what: String,
        offset: u64,
        len: u64,
        size: u64,
    },
    /// The operating system refused a read.
    #[error("{what}: I/O error at offset {offset:#x}: {source}")]
    Io {
        what: String,
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    /// The image file became shorter than it was when it was opened (another process truncated
    /// or replaced it during the lint).
    #[error("{path}: the file ended at offset {offset:#x}, but it was {size} bytes when opened: it was truncated or rewritten while being read")]
    Truncated {
        path: PathBuf,
        offset: u64,
        size: u64,
    },
    /// A structure was read but does not make sense.
    #[error("{what} at offset {offset:#x}: {reason}")]
    Malformed {
        what: &'static str,
        offset: u64,
        reason: String,
    },
    /// A structure asked for more than a bound in [`crate::limits`] allows.
    #[error("{what}: {found} exceeds the limit of {limit}")]
    Limit {
        what: &'static str,
        found: u64,
        limit: u64,
    },
    /// The container holds guest data this crate cannot read.
    #[error("the guest's sectors of a {0} image cannot be read")]
    Unreadable(String),
}
