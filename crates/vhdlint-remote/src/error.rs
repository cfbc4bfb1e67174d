//! Errors of the remote source. Every `url` field holds a [`redact`](crate::redact)ed URL.

/// What went wrong while opening or reading a remote image.
///
/// Every variant names the URL with its query string replaced by `?…`; none quotes the HTTP
/// client's own error text, which may contain the full URL. `Clone` so that a thread waiting for
/// a block another thread was fetching gets the same error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The URL cannot be used (not http or https, no host, not parseable).
    #[error("{url}: {reason}")]
    BadUrl { url: String, reason: String },
    /// The server refused access (401 or 403).
    #[error("{url}: access denied — check the SAS token's permissions and expiry (HTTP {status})")]
    AccessDenied { url: String, status: u16 },
    /// The server answered 200 with the whole body where 206 Partial Content was asked, or
    /// declared `Accept-Ranges: none`.
    #[error(
        "{url}: the server ignores HTTP Range requests ({detail}); an image can only be read \
         remotely from a server that honours Range"
    )]
    RangeIgnored { url: String, detail: String },
    /// The server answered with an error status (after retrying those that may pass).
    #[error("{url}: {request}: HTTP {status} {reason}{}", attempts_note(*attempts))]
    Status {
        url: String,
        request: String,
        status: u16,
        reason: String,
        attempts: u32,
    },
    /// The request did not complete (connection, timeout, TLS, DNS), after any retries.
    #[error("{url}: {request}: {detail}{}", attempts_note(*attempts))]
    Transport {
        url: String,
        request: String,
        detail: String,
        attempts: u32,
    },
    /// The server's answer does not make sense (a missing size, another range than asked, a
    /// short body).
    #[error("{url}: {detail}")]
    Protocol { url: String, detail: String },
    /// Fetching more would exceed [`RemoteOptions::max_fetch_bytes`](crate::RemoteOptions).
    #[error(
        "{url}: fetching {wanted} more bytes would exceed the fetch budget of {limit} bytes \
         ({fetched} fetched so far over the network); raise the budget (--max-fetch, \
         max_fetch_bytes) to lint this image"
    )]
    FetchLimit {
        url: String,
        limit: u64,
        fetched: u64,
        wanted: u64,
    },
    /// The blob changed since it was opened, and the server said so (412 Precondition Failed on
    /// `If-Match`), so the bytes asked for are of another version of it.
    #[error("{url}: the blob was modified during the lint: {detail}")]
    Modified { url: String, detail: String },
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}
