//! A loopback HTTP/1.1 range server for the remote benchmark: serves one file (opened
//! read-only) at any path, answers every request after an injected delay (a network round
//! trip), keeps connections alive, and counts requests, body bytes and TCP connections.
//!
//! `GET /__stats` answers the counters as JSON (`{"requests":…,"bytes":…,"connections":…}`)
//! and `GET /__reset` zeroes them; neither is delayed or counted.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// What the server has answered since it started (or since the last reset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests answered (HEAD and GET).
    pub requests: u64,
    /// Body bytes sent.
    pub bytes: u64,
    /// TCP connections accepted.
    pub connections: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    bytes: AtomicU64,
    connections: AtomicU64,
}

struct Shared {
    file: File,
    len: u64,
    delay: Duration,
    counters: Counters,
    stop: AtomicBool,
    log: AtomicBool,
}

/// The running server; stops when dropped.
pub struct RangeServer {
    port: u16,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl RangeServer {
    /// Serves `path` on 127.0.0.1 (`port` 0: any free port), answering each request after
    /// `delay`.
    pub fn start(path: &Path, port: u16, delay: Duration) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            file,
            len,
            delay,
            counters: Counters::default(),
            stop: AtomicBool::new(false),
            log: AtomicBool::new(false),
        });
        let s = shared.clone();
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                s.counters.connections.fetch_add(1, Ordering::Relaxed);
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &s);
                });
            }
        });
        Ok(Self {
            port,
            shared,
            accept: Some(accept),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT/name`.
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }

    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        Stats {
            requests: c.requests.load(Ordering::SeqCst),
            bytes: c.bytes.load(Ordering::SeqCst),
            connections: c.connections.load(Ordering::SeqCst),
        }
    }

    /// Prints every request (method, range, connection) on standard error when `on`.
    pub fn set_log(&self, on: bool) {
        self.shared.log.store(on, Ordering::SeqCst);
    }

    /// Zeroes the counters.
    pub fn reset(&self) {
        let c = &self.shared.counters;
        c.requests.store(0, Ordering::SeqCst);
        c.bytes.store(0, Ordering::SeqCst);
        c.connections.store(0, Ordering::SeqCst);
    }
}

impl Drop for RangeServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, s: &Shared) -> std::io::Result<()> {
    let peer = conn.peer_addr().map(|a| a.port()).unwrap_or(0);
    conn.set_read_timeout(Some(Duration::from_secs(60)))?;
    conn.set_nodelay(true)?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || s.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let path = parts.next().unwrap_or("").to_owned();
        let mut range = None;
        let mut close = false;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                let n = n.trim().to_ascii_lowercase();
                if n == "range" {
                    range = parse_range(v.trim());
                } else if n == "connection" && v.trim().eq_ignore_ascii_case("close") {
                    close = true;
                }
            }
        }
        if path == "/__stats" || path == "/__reset" {
            let body = if path == "/__stats" {
                let c = &s.counters;
                format!(
                    "{{\"requests\":{},\"bytes\":{},\"connections\":{}}}\n",
                    c.requests.load(Ordering::SeqCst),
                    c.bytes.load(Ordering::SeqCst),
                    c.connections.load(Ordering::SeqCst)
                )
            } else {
                let c = &s.counters;
                c.requests.store(0, Ordering::SeqCst);
                c.bytes.store(0, Ordering::SeqCst);
                // This connection is the one asking: it is not counted.
                c.connections.store(0, Ordering::SeqCst);
                String::new()
            };
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            )?;
            out.flush()?;
            return Ok(());
        }
        s.counters.requests.fetch_add(1, Ordering::Relaxed);
        if s.log.load(Ordering::Relaxed) {
            let len = range.map_or(0, |(a, b)| b.unwrap_or(s.len.saturating_sub(1)) + 1 - a);
            eprintln!("{method} {range:?} {len} (connection :{peer})");
        }
        std::thread::sleep(s.delay);
        respond(&mut out, s, &method, range)?;
        out.flush()?;
        if close {
            return Ok(());
        }
    }
}

const VALIDATORS: &str = "ETag: \"bench\"\r\nLast-Modified: Tue, 01 Jul 2025 10:00:00 GMT\r\n";

fn respond(
    out: &mut TcpStream,
    s: &Shared,
    method: &str,
    range: Option<(u64, Option<u64>)>,
) -> std::io::Result<()> {
    let len = s.len;
    if method == "HEAD" {
        return write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n{VALIDATORS}Accept-Ranges: bytes\r\n\r\n"
        );
    }
    if method != "GET" {
        return write!(
            out,
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"
        );
    }
    // The benchmark only asks for ranges; a whole-body GET is refused rather than sending GiBs.
    let Some((start, end)) = range else {
        return write!(out, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    };
    if start >= len {
        return write!(
            out,
            "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\n\
             Content-Length: 0\r\n\r\n"
        );
    }
    let end = end.unwrap_or(len - 1).min(len - 1);
    let n = end - start + 1;
    write!(
        out,
        "HTTP/1.1 206 Partial Content\r\nContent-Length: {n}\r\n\
         Content-Range: bytes {start}-{end}/{len}\r\n{VALIDATORS}\r\n"
    )?;
    let mut buf = vec![0u8; n.min(1 << 20) as usize];
    let mut at = start;
    while at <= end {
        let k = (end - at + 1).min(buf.len() as u64) as usize;
        s.file.read_exact_at(&mut buf[..k], at)?;
        out.write_all(&buf[..k])?;
        s.counters.bytes.fetch_add(k as u64, Ordering::Relaxed);
        at += k as u64;
    }
    Ok(())
}

/// `bytes=A-B` or `bytes=A-` (one range only).
fn parse_range(v: &str) -> Option<(u64, Option<u64>)> {
    let (a, b) = v.strip_prefix("bytes=")?.split_once('-')?;
    let a = a.trim().parse().ok()?;
    let b = match b.trim() {
        "" => None,
        b => Some(b.parse().ok()?),
    };
    if b.is_some_and(|b| b < a) {
        return None;
    }
    Some((a, b))
}
