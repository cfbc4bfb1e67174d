//! A byte source over HTTP(S): reads a remote image (an Azure blob SAS URL, any static file
//! server) with `Range` requests and implements [`vhdlint_disk::ReadAt`], so the linter reads a
//! multi-gigabyte image by fetching only the few megabytes its checks look at.
//!
//! - The size comes from `HEAD` (`Content-Length`), or from a `Range: bytes=0-0` GET and its
//!   `Content-Range` total when `HEAD` does not give it.
//! - Every request carries `x-ms-version`, without which Azure Blob Storage may ignore `Range`.
//!   A server that answers `200` where `206 Partial Content` was asked is refused
//!   ([`RemoteError::RangeIgnored`]): it would send the whole image for every read.
//! - Reads go through a cache of aligned blocks ([`RemoteOptions::block_size`], bounded in total
//!   by [`RemoteOptions::cache_bytes`], least recently used first out, blocks of long or
//!   sequential reads before the others). A read spanning several missing blocks costs one
//!   ranged request; a long one is fetched in up to [`RemoteOptions::parallel_requests`] pieces
//!   at once. A read that continues the previous one and misses reads ahead, more each time the
//!   run goes on ([`RemoteOptions::readahead_bytes`]). Reads from different threads proceed in
//!   parallel: no lock is held across a network request, and a block another thread is
//!   already fetching is waited for rather than fetched twice. Connections are kept alive.
//! - Transient failures (connection errors, timeouts, 429, 500, 502, 503, 504) are retried with
//!   exponential backoff that honours `Retry-After` up to a cap.
//! - The ETag and Last-Modified seen when opening are checked on every response (and a strong
//!   ETag is sent as `If-Match`): a blob modified during the lint is reported by
//!   [`ReadAt::changed`](vhdlint_disk::ReadAt::changed).
//! - The total fetched is bounded by [`RemoteOptions::max_fetch_bytes`].
//! - The URL's query string (an Azure SAS carries its signature, `sig=`, there) never appears in
//!   a name or an error: everything shows [`redact`]ed URLs, and the HTTP client's own errors are
//!   rebuilt from their kind, never passed through.

mod cache;
mod error;
mod options;
mod redact;
mod source;

pub use error::RemoteError;
pub use options::{FetchPolicy, RemoteOptions, Window};
pub use redact::redact;
pub use source::HttpSource;
