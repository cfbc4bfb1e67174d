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
    /// Size of the cached, aligned blocks; reads are rounded out to them. Default 128 KiB: the
    /// metadata a lint reads (inodes, directories, extent trees) lies in clusters, and a block of
    /// that size takes most of a cluster in one round trip.
    pub block_size: u64,
    /// Most bytes the block cache keeps; least recently used blocks go first, and blocks of
    /// sequential or long reads (read once, like an initramfs) before any other. Default 32 MiB.
    pub cache_bytes: u64,
    /// Most bytes one ranged request asks for; a longer read is split. Default 8 MiB.
    pub max_request_bytes: u64,
    /// Largest read-ahead: a read that continues the previous one where it ended and misses
    /// the cache also fetches the blocks after it, twice as many each time the run goes on (4
    /// blocks, 8, 16…), up to this many bytes. 0 turns read-ahead off. Default 2 MiB.
    pub readahead_bytes: u64,
    /// Most requests one read sends at a time: a long read is fetched in that many pieces of at
    /// least 2 MiB in parallel. Default 4.
    pub parallel_requests: usize,
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
            block_size: 128 << 10,
            cache_bytes: 32 << 20,
            max_request_bytes: 8 << 20,
            readahead_bytes: 2 << 20,
            parallel_requests: 4,
            max_fetch_bytes: 1 << 30,
            ms_version: Some("2021-08-06".into()),
        }
    }
}
