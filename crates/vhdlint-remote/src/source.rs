//! [`HttpSource`]: the image behind a URL, read with ranged GETs through a block cache.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ureq::http::{HeaderMap, Response, StatusCode};
use ureq::{Agent, Body};
use vhdlint_disk::source::check_bounds;
use vhdlint_disk::{Error, ReadAt};

use vhdlint_disk::access::Access;

use crate::cache::{lock, Block, Lru, Pending, State};
use crate::redact::scrub;
use crate::{redact, RemoteError, RemoteOptions};

/// Sequential runs remembered at once (reads from several threads interleave).
const RUNS: usize = 8;
/// A read of at least this many bytes is long: its blocks leave the cache first.
const COLD_READ_BYTES: u64 = 1 << 20;
/// A sequential read shorter than this reads ahead; this is also the first read-ahead.
const READAHEAD_FIRST: u64 = 512 << 10;
/// The smallest piece a long read is cut into to be fetched in parallel (as large as the
/// read-ahead's window, so that a window is one request).
const PARALLEL_PIECE: u64 = 2 << 20;

/// A run of sequential reads: where the next read would start, and its read-ahead in blocks.
struct Run {
    id: u64,
    next: u64,
    window: u64,
    used: u64,
}

/// The recent sequential runs, least recently used replaced first.
#[derive(Default)]
struct Runs {
    list: Vec<Run>,
    tick: u64,
}

/// A remote image read with HTTP Range requests. See the [crate] documentation.
///
/// `name()` and every error show the URL [`redact`]ed; the full URL is kept only to send it.
pub struct HttpSource {
    /// The URL as given, secret parts included: only ever sent, never shown.
    full_url: String,
    /// The URL as shown.
    shown: String,
    agent: Agent,
    opts: RemoteOptions,
    size: u64,
    /// Validators seen when opening, checked on every later response.
    etag: Option<String>,
    last_modified: Option<String>,
    state: Mutex<State>,
    /// Recent sequential runs of reads, for read-ahead.
    runs: Mutex<Runs>,
    /// Body bytes received over the network.
    fetched: AtomicU64,
    /// Bytes asked for by ranged requests that succeeded or are under way (the fetch budget).
    reserved: AtomicU64,
    /// HTTP requests sent, retries included.
    requests: AtomicU64,
    /// The first sign that the blob changed since it was opened.
    changed: Mutex<Option<String>>,
}

impl std::fmt::Debug for HttpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSource")
            .field("url", &self.shown)
            .field("size", &self.size)
            .field("etag", &self.etag)
            .field("last_modified", &self.last_modified)
            .field("requests", &self.requests())
            .field("fetched", &self.fetched())
            .finish_non_exhaustive()
    }
}

/// The outcome of one attempt of a request.
enum Step<T> {
    Done(T),
    /// A failure that may pass: try again after the delay the server asked for, if any.
    Retry(RemoteError, Option<Duration>),
    Fail(RemoteError),
}

/// What identifies the version of the blob a response came from.
struct Validators {
    etag: Option<String>,
    last_modified: Option<String>,
}

impl Validators {
    fn of(h: &HeaderMap) -> Self {
        Self {
            etag: header(h, "etag").map(str::to_owned),
            last_modified: header(h, "last-modified").map(str::to_owned),
        }
    }
}

/// A ranged GET's answer.
struct Ranged {
    body: Vec<u8>,
    /// The complete length from `Content-Range`, when the server gave it.
    total: Option<u64>,
    validators: Validators,
}

impl HttpSource {
    /// Opens the image at `url` (http or https): learns its size from the server (`HEAD`, or a
    /// `Range: bytes=0-0` GET when `HEAD` does not give a `Content-Length`) and the validators
    /// (ETag, Last-Modified) later responses are checked against.
    pub fn open(url: &str, opts: RemoteOptions) -> Result<Self, RemoteError> {
        let shown = redact(url);
        check_url(url, &shown)?;
        let mut opts = opts;
        opts.block_size = opts.block_size.max(1);
        opts.max_request_bytes = opts.max_request_bytes.max(opts.block_size);
        let agent = Agent::config_builder()
            // Statuses are answers to examine here (206, 200-instead-of-206, 416, 503…).
            .http_status_as_error(false)
            .timeout_connect(Some(opts.connect_timeout))
            .timeout_global(Some(opts.request_timeout))
            .user_agent(concat!("vhdlint/", env!("CARGO_PKG_VERSION")))
            .max_idle_connections_per_host(16)
            .build()
            .new_agent();
        let mut src = Self {
            full_url: url.to_owned(),
            shown,
            agent,
            state: Mutex::new(State {
                cache: Lru::new(opts.cache_bytes),
                in_flight: HashMap::new(),
            }),
            runs: Mutex::new(Runs::default()),
            opts,
            size: 0,
            etag: None,
            last_modified: None,
            fetched: AtomicU64::new(0),
            reserved: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            changed: Mutex::new(None),
        };
        let (size, v) = src.learn_size()?;
        src.size = size;
        src.etag = v.etag;
        src.last_modified = v.last_modified;
        Ok(src)
    }

    /// The URL as shown: with its query string replaced by `?…`.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// HTTP requests sent so far, opening and retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Body bytes received over the network so far.
    pub fn fetched(&self) -> u64 {
        self.fetched.load(Ordering::Relaxed)
    }

    /// The options in force (block and request sizes rounded up to at least one byte / block).
    pub fn options(&self) -> &RemoteOptions {
        &self.opts
    }

    /// The ETag the server gave when the image was opened, if any.
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    fn learn_size(&self) -> Result<(u64, Validators), RemoteError> {
        let head = self.retrying(|attempt| {
            let resp = match self.send(true, None) {
                Ok(r) => r,
                Err(e) => return self.transport_step(&e, "HEAD", attempt),
            };
            let status = resp.status().as_u16();
            if is_transient(status) {
                return Step::Retry(
                    self.status_error("HEAD", status, attempt),
                    retry_after(resp.headers()),
                );
            }
            Step::Done(resp)
        })?;
        let h = head.headers();
        if (200..300).contains(&head.status().as_u16()) {
            if header(h, "accept-ranges").is_some_and(|v| v.eq_ignore_ascii_case("none")) {
                return Err(RemoteError::RangeIgnored {
                    url: self.shown.clone(),
                    detail: "it declares Accept-Ranges: none".into(),
                });
            }
            if let Some(len) = header(h, "content-length").and_then(|v| v.parse::<u64>().ok()) {
                return Ok((len, Validators::of(h)));
            }
        }
        // No size from HEAD (or HEAD refused, as it is for URLs signed for GET only): ask for
        // the first byte and read the total from Content-Range.
        drop(head);
        let r = self.get_range(0, 0)?;
        let total = r.total.ok_or_else(|| RemoteError::Protocol {
            url: self.shown.clone(),
            detail: "the server gave the image's size neither in HEAD's Content-Length nor in \
                     the Content-Range total of a ranged GET"
                .into(),
        })?;
        Ok((total, r.validators))
    }

    /// Sends one request: HEAD, or GET of the inclusive byte range.
    fn send(&self, head: bool, range: Option<(u64, u64)>) -> Result<Response<Body>, ureq::Error> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut req = if head {
            self.agent.head(self.full_url.as_str())
        } else {
            self.agent.get(self.full_url.as_str())
        };
        if let Some(v) = &self.opts.ms_version {
            req = req.header("x-ms-version", v.as_str());
        }
        if let Some((a, b)) = range {
            req = req.header("Range", format!("bytes={a}-{b}"));
        }
        // A strong ETag makes the server refuse (412) bytes of another version of the blob.
        if let Some(tag) = self.etag.as_deref().filter(|t| !t.starts_with("W/")) {
            req = req.header("If-Match", tag);
        }
        req.call()
    }

    /// GETs the inclusive byte range `[start, end]`, retrying transient failures.
    fn get_range(&self, start: u64, end: u64) -> Result<Ranged, RemoteError> {
        let request = format!("GET bytes={start}-{end}");
        let want = end - start + 1;
        self.retrying(|attempt| {
            let mut resp = match self.send(false, Some((start, end))) {
                Ok(r) => r,
                Err(e) => return self.transport_step(&e, &request, attempt),
            };
            let status = resp.status().as_u16();
            let h = resp.headers();
            match status {
                206 => {}
                200 => {
                    return Step::Fail(RemoteError::RangeIgnored {
                        url: self.shown.clone(),
                        detail: "it answered 200 OK with the whole body where 206 Partial \
                                 Content was asked"
                            .into(),
                    })
                }
                412 => {
                    let detail = "the server answered 412 Precondition Failed: the ETag it \
                                  gave when the image was opened no longer matches";
                    self.note_changed(detail);
                    return Step::Fail(RemoteError::Modified {
                        url: self.shown.clone(),
                        detail: detail.into(),
                    });
                }
                416 => {
                    // An empty blob cannot serve byte 0: only the probe at open asks for it.
                    let total = header(h, "content-range").and_then(unsatisfied_total);
                    if start == 0 && total == Some(0) {
                        return Step::Done(Ranged {
                            body: Vec::new(),
                            total: Some(0),
                            validators: Validators::of(h),
                        });
                    }
                    if total.is_some_and(|t| t != self.size) && self.size != 0 {
                        self.note_changed(&format!(
                            "its size changed from {} to {} bytes",
                            self.size,
                            total.unwrap_or_default()
                        ));
                    }
                    return Step::Fail(self.status_error(&request, status, attempt));
                }
                401 | 403 => {
                    return Step::Fail(RemoteError::AccessDenied {
                        url: self.shown.clone(),
                        status,
                    })
                }
                s if is_transient(s) => {
                    return Step::Retry(self.status_error(&request, s, attempt), retry_after(h))
                }
                s => return Step::Fail(self.status_error(&request, s, attempt)),
            }
            let Some((a, b, total)) = header(h, "content-range").and_then(parse_content_range)
            else {
                return Step::Fail(RemoteError::Protocol {
                    url: self.shown.clone(),
                    detail: format!(
                        "{request}: the 206 answer has no valid Content-Range ({:?})",
                        header(h, "content-range").unwrap_or("")
                    ),
                });
            };
            if (a, b) != (start, end) {
                return Step::Fail(RemoteError::Protocol {
                    url: self.shown.clone(),
                    detail: format!("{request}: the server sent bytes {a}-{b} instead"),
                });
            }
            let validators = Validators::of(h);
            let mut body = Vec::with_capacity(want as usize);
            let read = resp
                .body_mut()
                .with_config()
                .limit(want)
                .reader()
                .read_to_end(&mut body);
            self.fetched.fetch_add(body.len() as u64, Ordering::Relaxed);
            match read {
                Ok(_) if body.len() as u64 == want => Step::Done(Ranged {
                    body,
                    total,
                    validators,
                }),
                Ok(_) => Step::Retry(
                    RemoteError::Protocol {
                        url: self.shown.clone(),
                        detail: format!(
                            "{request}: the answer ended after {} of {want} bytes",
                            body.len()
                        ),
                    },
                    None,
                ),
                Err(e) => match ureq::Error::from(e) {
                    ureq::Error::BodyExceedsLimit(_) => Step::Fail(RemoteError::Protocol {
                        url: self.shown.clone(),
                        detail: format!("{request}: the server sent more than {want} bytes"),
                    }),
                    e => self.transport_step(&e, &request, attempt),
                },
            }
        })
    }

    /// Runs `attempt` (given its 1-based number) until it is done, fails, or has been retried
    /// [`RemoteOptions::retries`] times, sleeping with exponential backoff between attempts.
    fn retrying<T>(&self, mut attempt: impl FnMut(u32) -> Step<T>) -> Result<T, RemoteError> {
        let mut retried = 0u32;
        loop {
            match attempt(retried + 1) {
                Step::Done(v) => return Ok(v),
                Step::Fail(e) => return Err(e),
                Step::Retry(e, _) if retried >= self.opts.retries => return Err(e),
                Step::Retry(_, after) => {
                    let backoff = self
                        .opts
                        .retry_base_delay
                        .saturating_mul(1u32 << retried.min(20));
                    std::thread::sleep(after.unwrap_or(backoff).min(self.opts.retry_max_delay));
                    retried += 1;
                }
            }
        }
    }

    /// Maps the HTTP client's error to a step, with a message built here: the client's own text
    /// may quote the URL.
    fn transport_step<T>(&self, e: &ureq::Error, request: &str, attempts: u32) -> Step<T> {
        let (detail, transient) = match e {
            // TLS failures come as InvalidData: trying again would not help.
            ureq::Error::Io(io) => (
                format!("network I/O error: {}", self.io_detail(io)),
                io.kind() != std::io::ErrorKind::InvalidData,
            ),
            ureq::Error::Timeout(t) => (format!("timed out ({t} timeout)"), true),
            ureq::Error::ConnectionFailed => ("connection failed".into(), true),
            ureq::Error::Protocol(_) => ("the server sent malformed HTTP".into(), true),
            ureq::Error::HostNotFound => ("host not found (DNS lookup failed)".into(), false),
            ureq::Error::Rustls(r) => (
                format!("TLS error: {}", scrub(&r.to_string(), &self.full_url)),
                false,
            ),
            ureq::Error::Tls(s) => (format!("TLS error: {}", scrub(s, &self.full_url)), false),
            ureq::Error::Pem(_) => ("TLS error: bad PEM data".into(), false),
            ureq::Error::TooManyRedirects => ("too many redirects".into(), false),
            ureq::Error::RedirectFailed => ("a redirect failed".into(), false),
            ureq::Error::BadUri(_) | ureq::Error::Http(_) => (
                "the URL or a request header is not valid for HTTP".into(),
                false,
            ),
            ureq::Error::InvalidProxyUrl => (
                "the proxy URL in the environment (HTTP(S)_PROXY, ALL_PROXY) is not valid".into(),
                false,
            ),
            ureq::Error::ConnectProxyFailed(_) => ("the proxy refused to connect".into(), true),
            ureq::Error::LargeResponseHeader(got, max) => (
                format!("the response header is too large ({got} > {max} bytes)"),
                false,
            ),
            ureq::Error::RequireHttpsOnly(_) => ("https is required".into(), false),
            _ => ("the HTTP client failed".into(), false),
        };
        let err = RemoteError::Transport {
            url: self.shown.clone(),
            request: request.into(),
            detail,
            attempts,
        };
        if transient {
            Step::Retry(err, None)
        } else {
            Step::Fail(err)
        }
    }

    /// An I/O error as shown: its message, with the URL's secret parts scrubbed in case a
    /// library quotes the URL.
    fn io_detail(&self, io: &std::io::Error) -> String {
        scrub(&io.to_string(), &self.full_url)
    }

    fn status_error(&self, request: &str, status: u16, attempts: u32) -> RemoteError {
        let reason = match status {
            404 => "Not Found — check the URL and that the blob exists".into(),
            416 => "Range Not Satisfiable".into(),
            429 => "Too Many Requests (the server is throttling)".into(),
            s => StatusCode::from_u16(s)
                .ok()
                .and_then(|c| c.canonical_reason())
                .unwrap_or("")
                .into(),
        };
        RemoteError::Status {
            url: self.shown.clone(),
            request: request.into(),
            status,
            reason,
            attempts,
        }
    }

    fn note_changed(&self, what: &str) {
        let mut c = lock(&self.changed);
        if c.is_none() {
            *c = Some(format!(
                "{} was modified while being read: {what}",
                self.shown
            ));
        }
    }

    fn check_validators(&self, v: &Validators) {
        if let (Some(a), Some(b)) = (&self.etag, &v.etag) {
            if a != b {
                self.note_changed(&format!("its ETag changed from {a} to {b}"));
            }
        }
        if let (Some(a), Some(b)) = (&self.last_modified, &v.last_modified) {
            if a != b {
                self.note_changed(&format!("its Last-Modified changed from {a} to {b}"));
            }
        }
    }

    /// Fetches `count` blocks from block `first` in one ranged request (the last block of the
    /// image may be short), within the fetch budget.
    fn fetch_blocks(&self, first: u64, count: u64) -> Result<Vec<u8>, RemoteError> {
        let bs = self.opts.block_size;
        let start = first * bs;
        let end = first
            .saturating_add(count)
            .saturating_mul(bs)
            .min(self.size);
        let len = end - start;
        let max = self.opts.max_fetch_bytes;
        self.reserved
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| {
                r.checked_add(len).filter(|n| *n <= max)
            })
            .map_err(|_| RemoteError::FetchLimit {
                url: self.shown.clone(),
                limit: max,
                fetched: self.fetched(),
                wanted: len,
            })?;
        let r = match self.get_range(start, end - 1) {
            Ok(r) => r,
            Err(e) => {
                self.reserved.fetch_sub(len, Ordering::Relaxed);
                return Err(e);
            }
        };
        if let Some(total) = r.total.filter(|t| *t != self.size) {
            self.note_changed(&format!(
                "its size changed from {} to {total} bytes",
                self.size
            ));
        }
        self.check_validators(&r.validators);
        Ok(r.body)
    }

    /// Notes the read `[offset, end)` in the table of sequential runs. Returns the run's number
    /// when the read continues one (it starts where a recent read ended, or within a block
    /// before, and goes further).
    fn note_run(&self, offset: u64, end: u64) -> Option<u64> {
        let bs = self.opts.block_size;
        let mut runs = lock(&self.runs);
        runs.tick += 1;
        let tick = runs.tick;
        if let Some(r) = runs
            .list
            .iter_mut()
            .find(|r| offset <= r.next && offset.saturating_add(bs) >= r.next && end > r.next)
        {
            r.next = end;
            r.used = tick;
            return Some(r.id);
        }
        let id = tick;
        let run = Run {
            id,
            next: end,
            window: 0,
            used: tick,
        };
        if runs.list.len() < RUNS {
            runs.list.push(run);
        } else if let Some(oldest) = runs.list.iter_mut().min_by_key(|r| r.used) {
            *oldest = run;
        }
        None
    }

    /// The read-ahead, in blocks, of sequential run `id` that missed the cache:
    /// [`READAHEAD_FIRST`] bytes the first time, twice as many each further time, up to
    /// [`RemoteOptions::readahead_bytes`].
    fn grow_window(&self, id: u64) -> u64 {
        let bs = self.opts.block_size;
        let max = self.opts.readahead_bytes / bs;
        let mut runs = lock(&self.runs);
        match runs.list.iter_mut().find(|r| r.id == id) {
            Some(r) => {
                r.window = if r.window == 0 {
                    (READAHEAD_FIRST / bs).max(1)
                } else {
                    r.window * 2
                }
                .min(max);
                r.window
            }
            None => 0,
        }
    }

    /// Fills `buf` from `offset` (in bounds, not empty) through the block cache.
    fn read_blocks(&self, offset: u64, buf: &mut [u8]) -> Result<(), RemoteError> {
        enum Slot {
            Ready(Block),
            Wait(Arc<Pending>),
            Mine,
        }
        let bs = self.opts.block_size;
        let end = offset + buf.len() as u64;
        let first = offset / bs;
        let last = (end - 1) / bs;
        let access = vhdlint_disk::access::current();
        let run = self.note_run(offset, end);
        // Blocks of a long or sequential read are likely read once: they leave the cache first.
        let cold = run.is_some() || end - offset >= COLD_READ_BYTES;
        // Only file data (or reads nobody described) is read ahead, and only for a reader that
        // reads in small pieces: one that asks for large pieces is given what it asks for.
        let run = run.filter(|_| {
            matches!(access, Access::File | Access::Unknown) && end - offset < READAHEAD_FIRST
        });
        let last_block = (self.size - 1) / bs;
        // The fetch window around the read, in blocks.
        let w = self.opts.fetch.window(access);
        let align = (w.align / bs).max(1);
        let win_first = first / align * align;
        let win_last = (last + 1 + w.after.div_ceil(bs))
            .div_ceil(align)
            .saturating_mul(align)
            .saturating_sub(1)
            .clamp(last, last_block.max(last));

        // One pass under the lock: take cached blocks, note those in flight, claim the rest.
        let mut slots = Vec::with_capacity((last - first + 1) as usize);
        let mut claims = Claims {
            src: self,
            items: BTreeMap::new(),
        };
        {
            let mut st = lock(&self.state);
            for n in first..=last {
                if let Some(b) = st.cache.get(n) {
                    slots.push(Slot::Ready(b));
                } else if let Some(p) = st.in_flight.get(&n) {
                    slots.push(Slot::Wait(p.clone()));
                } else {
                    let p = Pending::new();
                    st.in_flight.insert(n, p.clone());
                    claims.items.insert(n, p);
                    slots.push(Slot::Mine);
                }
            }
            // A miss also fetches the blocks of its window around the read (and a sequential
            // run's read-ahead after it), each way up to the first block cached or in flight,
            // so that they join a request this read makes anyway; within the image and what
            // the budget leaves.
            if !claims.items.is_empty() {
                let ahead = match run {
                    Some(id) => last.saturating_add(self.grow_window(id)).min(last_block),
                    None => last,
                };
                let needed = claims.items.len() as u64 * bs;
                let mut left = self
                    .opts
                    .max_fetch_bytes
                    .saturating_sub(self.reserved.load(Ordering::Relaxed))
                    .saturating_sub(needed)
                    / bs;
                let free =
                    |st: &State, n: u64| !st.cache.contains(n) && !st.in_flight.contains_key(&n);
                let mut claim = |st: &mut State, n: u64| {
                    let p = Pending::new();
                    st.in_flight.insert(n, p.clone());
                    claims.items.insert(n, p);
                };
                // After the read first: the window and the read-ahead.
                let mut n = last + 1;
                while n <= win_last.max(ahead) && left > 0 && free(&st, n) {
                    claim(&mut st, n);
                    left -= 1;
                    n += 1;
                }
                let mut n = first;
                while n > win_first && left > 0 && free(&st, n - 1) {
                    claim(&mut st, n - 1);
                    left -= 1;
                    n -= 1;
                }
            }
        }

        // Fetch the claimed blocks, one request per run of consecutive ones (a long one in
        // pieces, in parallel), before waiting for any other reader's: so every claim is
        // settled without waiting, and none deadlock. Each piece's blocks are copied into
        // `buf` as it arrives.
        let pieces = self.pieces(&claims.items.keys().copied().collect::<Vec<_>>());
        let mut copied = 0u64;
        let mut outcome: Result<(), RemoteError> = Ok(());
        self.fetch_pieces(&pieces, |piece, data| {
            if outcome.is_err() {
                return;
            }
            match data {
                Err(e) => {
                    claims.fail(&e);
                    outcome = Err(e);
                }
                Ok(data) => {
                    let blocks: Vec<(u64, Block)> = data
                        .chunks(bs as usize)
                        .zip(piece.0..)
                        .map(|(c, n)| (n, Block::from(c)))
                        .collect();
                    drop(data);
                    let ahead = blocks.iter().any(|(n, _)| *n > last) && run.is_some();
                    claims.complete(&blocks, cold || ahead);
                    for (n, block) in blocks.iter().filter(|(n, _)| (first..=last).contains(n)) {
                        if let Err(e) = self.copy_block(*n, block, offset, buf) {
                            outcome = Err(e);
                            return;
                        }
                        copied += 1;
                    }
                }
            }
        });
        outcome?;

        let mut mine = 0u64;
        for (n, slot) in (first..).zip(slots) {
            let block = match slot {
                Slot::Ready(b) => b,
                Slot::Wait(p) => p.wait()?,
                Slot::Mine => {
                    mine += 1;
                    continue;
                }
            };
            self.copy_block(n, &block, offset, buf)?;
        }
        if mine != copied {
            return Err(RemoteError::Protocol {
                url: self.shown.clone(),
                detail: format!(
                    "{} of the {mine} blocks fetched for the read at {offset} came back",
                    copied
                ),
            });
        }
        Ok(())
    }

    /// Copies the part of block `n` that falls in `[offset, offset + buf.len())` into `buf`,
    /// after checking the block's length.
    fn copy_block(
        &self,
        n: u64,
        block: &[u8],
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(), RemoteError> {
        let bs = self.opts.block_size;
        let end = offset + buf.len() as u64;
        let b_start = n * bs;
        if block.len() as u64 != bs.min(self.size - b_start) {
            return Err(self.short_block(n));
        }
        let lo = offset.max(b_start);
        let hi = end.min(b_start + block.len() as u64);
        if lo < hi {
            buf[(lo - offset) as usize..(hi - offset) as usize]
                .copy_from_slice(&block[(lo - b_start) as usize..(hi - b_start) as usize]);
        }
        Ok(())
    }

    /// The requests that fetch the sorted block numbers `blocks`: (first block, count), one
    /// per run of consecutive blocks, a run longer than [`RemoteOptions::max_request_bytes`]
    /// split, and one of several MiB cut in up to [`RemoteOptions::parallel_requests`] pieces
    /// of at least [`PARALLEL_PIECE`] bytes.
    fn pieces(&self, blocks: &[u64]) -> Vec<(u64, u64)> {
        let bs = self.opts.block_size;
        let max_blocks = (self.opts.max_request_bytes / bs).max(1);
        let min_piece = (PARALLEL_PIECE / bs).max(1);
        let parallel = self.opts.parallel_requests.max(1) as u64;
        let mut out = Vec::new();
        let mut i = 0;
        while i < blocks.len() {
            let mut j = i + 1;
            while j < blocks.len() && blocks[j] == blocks[j - 1] + 1 {
                j += 1;
            }
            let count = (j - i) as u64;
            let ways = (count / min_piece).clamp(1, parallel);
            let per = count.div_ceil(ways).clamp(1, max_blocks);
            let mut at = blocks[i];
            let stop = blocks[i] + count;
            while at < stop {
                let k = per.min(stop - at);
                out.push((at, k));
                at += k;
            }
            i = j;
        }
        out
    }

    /// Fetches `pieces`, up to [`RemoteOptions::parallel_requests`] at a time, and hands each
    /// outcome to `done` on this thread as it arrives (in any order). After a failure the
    /// pieces not yet started are not fetched; they are reported failed with the same error.
    fn fetch_pieces(
        &self,
        pieces: &[(u64, u64)],
        mut done: impl FnMut((u64, u64), Result<Vec<u8>, RemoteError>),
    ) {
        let parallel = self.opts.parallel_requests.clamp(1, pieces.len().max(1));
        if parallel <= 1 {
            let mut failed: Option<RemoteError> = None;
            for &p in pieces {
                let r = match &failed {
                    Some(e) => Err(e.clone()),
                    None => self.fetch_blocks(p.0, p.1),
                };
                if let Err(e) = &r {
                    failed.get_or_insert_with(|| e.clone());
                }
                done(p, r);
            }
            return;
        }
        let next = AtomicUsize::new(0);
        let failed = Mutex::new(None::<RemoteError>);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            for _ in 0..parallel {
                let tx = tx.clone();
                let (next, failed) = (&next, &failed);
                scope.spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&p) = pieces.get(i) else { break };
                    let stop = lock(failed).clone();
                    let r = match stop {
                        Some(e) => Err(e),
                        None => self.fetch_blocks(p.0, p.1),
                    };
                    if let Err(e) = &r {
                        lock(failed).get_or_insert_with(|| e.clone());
                    }
                    if tx.send((p, r)).is_err() {
                        break;
                    }
                });
            }
            drop(tx);
            for (p, r) in rx {
                done(p, r);
            }
        });
    }

    fn short_block(&self, n: u64) -> RemoteError {
        RemoteError::Protocol {
            url: self.shown.clone(),
            detail: format!("block {n} came back shorter than asked"),
        }
    }
}

/// Blocks this reader claimed and has not settled yet. Dropping it (on an error or a panic)
/// settles the rest as failed, so no waiter waits forever.
struct Claims<'a> {
    src: &'a HttpSource,
    items: BTreeMap<u64, Arc<Pending>>,
}

impl Claims<'_> {
    /// Caches fetched blocks and hands them to their waiters.
    fn complete(&mut self, blocks: &[(u64, Block)], cold: bool) {
        let mut settled = Vec::with_capacity(blocks.len());
        {
            let mut st = lock(&self.src.state);
            for (n, b) in blocks {
                st.cache.insert(*n, b.clone(), cold);
                st.in_flight.remove(n);
                if let Some(p) = self.items.remove(n) {
                    settled.push((p, b.clone()));
                }
            }
        }
        for (p, b) in settled {
            p.resolve(Ok(b));
        }
    }

    /// Settles every remaining claim with `e`.
    fn fail(&mut self, e: &RemoteError) {
        let items = std::mem::take(&mut self.items);
        {
            let mut st = lock(&self.src.state);
            for n in items.keys() {
                st.in_flight.remove(n);
            }
        }
        for p in items.values() {
            p.resolve(Err(e.clone()));
        }
    }
}

impl Drop for Claims<'_> {
    fn drop(&mut self) {
        if !self.items.is_empty() {
            let e = RemoteError::Protocol {
                url: self.src.shown.clone(),
                detail: "the fetch of a block was abandoned".into(),
            };
            self.fail(&e);
        }
    }
}

impl ReadAt for HttpSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> vhdlint_disk::Result<()> {
        check_bounds(&|| self.name(), offset, buf.len(), self.size)?;
        if buf.is_empty() {
            return Ok(());
        }
        // The remote error names the (redacted) URL already. A read that fails for good
        // (after its retries) voids the run: checks would otherwise draw verdicts from bytes
        // they never saw.
        self.read_blocks(offset, buf).map_err(|e| {
            let mut c = lock(&self.changed);
            if c.is_none() {
                *c = Some(format!("reading the blob failed: {e}"));
            }
            Error::Io {
                what: "remote image".into(),
                offset,
                source: std::io::Error::other(e),
            }
        })
    }
    fn name(&self) -> String {
        self.shown.clone()
    }
    fn bytes_read(&self) -> Option<u64> {
        Some(self.fetched())
    }
    fn changed(&self) -> Option<String> {
        lock(&self.changed).clone()
    }
}

/// Refuses what is not an http(s) URL with a host, before anything is sent.
fn check_url(url: &str, shown: &str) -> Result<(), RemoteError> {
    let bad = |reason: &str| RemoteError::BadUrl {
        url: shown.to_owned(),
        reason: reason.into(),
    };
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return Err(bad("not an http:// or https:// URL"));
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host = &authority[authority.rfind('@').map_or(0, |i| i + 1)..];
    if host.is_empty() {
        return Err(bad("the URL has no host"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("the URL contains spaces or control characters"));
    }
    Ok(())
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// Statuses worth another attempt.
fn is_transient(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// `Retry-After` in seconds (the HTTP-date form is left to the backoff).
fn retry_after(h: &HeaderMap) -> Option<Duration> {
    header(h, "retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// `bytes A-B/T` or `bytes A-B/*` → (A, B, T).
fn parse_content_range(v: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = v.strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.trim().split_once('-')?;
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    (a <= b && total.is_none_or(|t| b < t)).then_some((a, b, total))
}

/// `bytes */T` (a 416's Content-Range) → T.
fn unsatisfied_total(v: &str) -> Option<u64> {
    v.strip_prefix("bytes")?
        .trim_start()
        .strip_prefix("*/")?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range() {
        assert_eq!(
            parse_content_range("bytes 0-0/1234"),
            Some((0, 0, Some(1234)))
        );
        assert_eq!(parse_content_range("bytes 10-19/*"), Some((10, 19, None)));
        assert_eq!(parse_content_range("bytes 10-19/15"), None);
        assert_eq!(parse_content_range("bytes 19-10/100"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
        assert_eq!(parse_content_range("bytes */100"), None);
        assert_eq!(unsatisfied_total("bytes */0"), Some(0));
        assert_eq!(unsatisfied_total("bytes 0-1/2"), None);
    }

    #[test]
    fn urls_checked() {
        for bad in [
            "ftp://h/x",
            "https://",
            "https:///x",
            "https://u@/x?sig=SECRET",
            "/tmp/x.vhd",
            "https://h/a b",
        ] {
            let e = check_url(bad, &redact(bad)).unwrap_err();
            assert!(!e.to_string().contains("SECRET"), "{e}");
        }
        check_url("HTTPS://h/x?sig=1", "").unwrap();
        check_url("http://127.0.0.1:9/x", "").unwrap();
    }

    #[test]
    fn bad_url_does_not_leak() {
        let e = HttpSource::open("ftp://h/x?sig=SECRET", RemoteOptions::default()).unwrap_err();
        assert!(matches!(e, RemoteError::BadUrl { .. }));
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }
}
