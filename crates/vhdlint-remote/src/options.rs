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
    /// Size of the cached, aligned blocks: the unit the cache keeps and requests are made of;
    /// how many are fetched around a read is [`RemoteOptions::fetch`]. Default 128 KiB: with
    /// it every kind of read fetches its aligned 128 KiB, which is what keeps a lint of the
    /// Debian image within 60 requests (docs/architecture.md); 4 KiB lets the
    /// [`FetchPolicy`] windows be exact.
    pub block_size: u64,
    /// How much is fetched around a read that misses the cache, by what the read is for
    /// ([`vhdlint_disk::access::Access`]). See [`FetchPolicy`].
    pub fetch: FetchPolicy,
    /// Most bytes the block cache keeps; least recently used blocks go first, and blocks of
    /// sequential or long reads (read once, like an initramfs) before any other. Default 32 MiB.
    pub cache_bytes: u64,
    /// Most bytes one ranged request asks for; a longer read is split. Default 8 MiB.
    pub max_request_bytes: u64,
    /// Largest read-ahead: a read of file data (or of unknown kind) shorter than 512 KiB that
    /// continues the previous one where it ended and misses the cache also fetches the bytes
    /// after it, twice as many each time the run goes on (512 KiB, 1 MiB…), up to this many
    /// bytes. A reader that already asks for large pieces gets what it asks for. 0 turns
    /// read-ahead off. Default 2 MiB.
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
            fetch: FetchPolicy::default(),
            cache_bytes: 32 << 20,
            max_request_bytes: 8 << 20,
            readahead_bytes: 2 << 20,
            parallel_requests: 4,
            max_fetch_bytes: 1 << 30,
            ms_version: Some("2021-08-06".into()),
        }
    }
}

/// A fetch window: the read rounded out to `align` bytes after `after` more bytes are added
/// past its end. `{ align: 128 KiB, after: 0 }` fetches the aligned 128 KiB around a small
/// read; `{ align: 4 KiB, after: 32 KiB }` the read and the 32 KiB that follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub align: u64,
    pub after: u64,
}

/// How much is fetched around a read that misses the cache, by what the read is for. A window
/// stops short at the first block already cached or being fetched, so it never splits a
/// request in two, and at the fetch budget.
///
/// The defaults come from replaying the reads of a whole lint of a real Debian image
/// (`benches/examples/replay.rs`, docs/architecture.md): inodes are dense (a directory's
/// entries have neighbouring inodes), so an inode's aligned 128 KiB serves the lookups that
/// follow; directory blocks and small files are scattered, so a larger block mostly brings
/// bytes nobody reads, yet the next block often holds the next directory or file of the same
/// directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Reads no reader described (partition tables, superblocks, filesystems that give no
    /// hints). Default: the aligned 128 KiB.
    pub unknown: Window,
    /// An inode. Default: the aligned 128 KiB.
    pub inode: Window,
    /// A directory or extent-tree block. Default: the aligned 128 KiB.
    pub directory: Window,
    /// File data. Default: the aligned 128 KiB (exact reads cost 7 more requests for 1 MiB
    /// less on the Debian image, past the 60 requests a lint should take).
    pub file: Window,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            unknown: Window {
                align: 128 << 10,
                after: 0,
            },
            inode: Window {
                align: 128 << 10,
                after: 0,
            },
            directory: Window {
                align: 128 << 10,
                after: 0,
            },
            file: Window {
                align: 128 << 10,
                after: 0,
            },
        }
    }
}

impl FetchPolicy {
    /// The same window for every kind of read.
    pub fn uniform(w: Window) -> Self {
        Self {
            unknown: w,
            inode: w,
            directory: w,
            file: w,
        }
    }

    /// The window for a read of kind `access`.
    pub fn window(&self, access: vhdlint_disk::access::Access) -> Window {
        use vhdlint_disk::access::Access;
        match access {
            Access::Unknown => self.unknown,
            Access::Inode => self.inode,
            Access::Directory => self.directory,
            Access::File => self.file,
        }
    }
}
