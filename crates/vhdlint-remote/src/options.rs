//! Settings of the remote source.

use std::time::Duration;

/// How [`HttpSource`](crate::HttpSource) talks to the server, caches and bounds what it fetches.
///
/// Build it from [`Default`] and change the fields that matter:
///
/// ```
/// let opts = vhdlint_remote::RemoteOptions {
///     max_fetch_bytes: 256 << 20,
///     ..Default::default()
/// };
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOptions {
    /// Time to establish a connection (TCP and TLS). Default 30 s.
    pub connect_timeout: Duration,
    /// Time for one whole request, from connecting to the end of its body. Default 30 s.
    pub request_timeout: Duration,
    /// Retries after a transient failure (connection error, timeout, 429, 500, 502, 503, 504).
    /// Default 3, so up to 4 attempts.
    pub retries: u32,
    /// Delay before the first retry; it doubles for each further one. Default 200 ms.
    pub retry_base_delay: Duration,
    /// Longest delay between two attempts, including one asked by `Retry-After`. Default 10 s.
    pub retry_max_delay: Duration,
    /// Size of the cached, aligned blocks; reads are rounded out to them. Default 64 KiB.
    pub block_size: u64,
    /// Most bytes the block cache keeps; least recently used blocks go first. Default 256 MiB.
    pub cache_bytes: u64,
    /// Most bytes one ranged request asks for; a longer read is split. Default 8 MiB.
    pub max_request_bytes: u64,
    /// Most bytes fetched over the network in all; reaching it is an error. Default 1 GiB.
    pub max_fetch_bytes: u64,
    /// Value of the `x-ms-version` header (Azure Blob Storage honours Range only with a recent
    /// enough version); `None` sends no such header. Default `"2021-08-06"`.
    pub ms_version: Option<String>,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            retries: 3,
            retry_base_delay: Duration::from_millis(200),
            retry_max_delay: Duration::from_secs(10),
            block_size: 64 << 10,
            cache_bytes: 256 << 20,
            max_request_bytes: 8 << 20,
            max_fetch_bytes: 1 << 30,
            ms_version: Some("2021-08-06".into()),
        }
    }
}
