//! Test support, self-contained (std only, plus `tempfile`): a minimal HTTP/1.1 Range server on
//! 127.0.0.1 whose misbehaviours are chosen per test, and a throwaway nginx serving a directory.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift64*), for test data and offsets.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A value in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// What the test server does wrong, if anything.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// Answers GET with 200 and the whole body, whatever the Range.
    pub ignore_range: bool,
    /// Answers HEAD without Content-Length (the size must come from a ranged GET).
    pub head_without_length: bool,
    /// Answers HEAD with 405 Method Not Allowed.
    pub head_not_allowed: bool,
    /// Answers the first N requests (of any method) with 503.
    pub fail_first: usize,
    /// `Retry-After` seconds sent with those 503s.
    pub retry_after: Option<u64>,
    /// Answers every request with this status and no body (e.g. 403).
    pub status: Option<u16>,
    /// From this request on (0-based, counting every request), the ETag is `"v2"`, not `"v1"`.
    pub etag_changes_at: Option<usize>,
    /// Answers 412 when an `If-Match` does not match the current ETag.
    pub honour_if_match: bool,
    /// Sends no ETag at all.
    pub no_etag: bool,
}

/// A request the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Shared {
    data: Vec<u8>,
    behaviour: Behaviour,
    count: AtomicUsize,
    connections: AtomicUsize,
    seen: Mutex<Vec<Seen>>,
    stop: AtomicBool,
}

/// A Range-capable HTTP/1.1 server on 127.0.0.1 serving one byte buffer at any path, with
/// keep-alive. Stops when dropped.
pub struct RangeServer {
    port: u16,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl RangeServer {
    pub fn start(data: Vec<u8>, behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            data,
            behaviour,
            count: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                s.connections.fetch_add(1, Ordering::SeqCst);
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &s);
                });
            }
        });
        Self {
            port,
            shared,
            accept: Some(accept),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT{path_and_query}`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://127.0.0.1:{}{path_and_query}", self.port)
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.shared.count.load(Ordering::SeqCst)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }
}

impl Drop for RangeServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, s: &Shared) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
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
        let mut headers = Vec::new();
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
                headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let req = Seen {
            method,
            path,
            headers,
        };
        let index = s.count.fetch_add(1, Ordering::SeqCst);
        s.seen.lock().unwrap().push(req.clone());
        let keep_alive = respond(&mut out, s, &req, index)?;
        out.flush()?;
        if !keep_alive {
            return Ok(());
        }
    }
}

/// Writes the answer to `req`; returns whether the connection stays open.
fn respond(out: &mut TcpStream, s: &Shared, req: &Seen, index: usize) -> std::io::Result<bool> {
    let b = &s.behaviour;
    let head = req.method == "HEAD";
    let len = s.data.len() as u64;
    let simple = |out: &mut TcpStream, status: &str, extra: &str| -> std::io::Result<bool> {
        write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Length: 0\r\n{extra}Connection: keep-alive\r\n\r\n"
        )?;
        Ok(true)
    };
    if let Some(status) = b.status {
        return simple(out, &format!("{status} Refused"), "");
    }
    if index < b.fail_first {
        let extra = b
            .retry_after
            .map(|r| format!("Retry-After: {r}\r\n"))
            .unwrap_or_default();
        return simple(out, "503 Service Unavailable", &extra);
    }
    let etag = match b.etag_changes_at {
        Some(at) if index >= at => "\"v2\"",
        _ => "\"v1\"",
    };
    let validators = if b.no_etag {
        String::new()
    } else {
        format!("ETag: {etag}\r\nLast-Modified: Tue, 01 Jul 2025 10:00:00 GMT\r\n")
    };
    if b.honour_if_match && req.header("if-match").is_some_and(|m| m != etag) {
        return simple(out, "412 Precondition Failed", "");
    }
    if head {
        if b.head_not_allowed {
            return simple(out, "405 Method Not Allowed", "");
        }
        let length = if b.head_without_length {
            String::new()
        } else {
            format!("Content-Length: {len}\r\n")
        };
        write!(
            out,
            "HTTP/1.1 200 OK\r\n{length}{validators}Accept-Ranges: bytes\r\n\
             Connection: keep-alive\r\n\r\n"
        )?;
        return Ok(true);
    }
    let range = req.header("range").and_then(parse_range);
    if b.ignore_range || range.is_none() {
        write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n{validators}Connection: close\r\n\r\n"
        )?;
        // The client may hang up after the headers: that is what it should do.
        let _ = out.write_all(&s.data);
        return Ok(false);
    }
    let (start, end) = range.unwrap();
    if start >= len {
        return simple(
            out,
            "416 Range Not Satisfiable",
            &format!("Content-Range: bytes */{len}\r\n"),
        );
    }
    let end = end.unwrap_or(len - 1).min(len - 1);
    write!(
        out,
        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\n\
         Content-Range: bytes {start}-{end}/{len}\r\n{validators}Connection: keep-alive\r\n\r\n",
        end - start + 1
    )?;
    out.write_all(&s.data[start as usize..=end as usize])?;
    Ok(true)
}

/// `bytes=A-B` or `bytes=A-` (one range only).
fn parse_range(v: &str) -> Option<(u64, Option<u64>)> {
    let (a, b) = v.strip_prefix("bytes=")?.split_once('-')?;
    let a = a.trim().parse().ok()?;
    let b = match b.trim() {
        "" => None,
        b => Some(b.parse().ok()?),
    };
    Some((a, b))
}

/// A free TCP port on 127.0.0.1 (bound then released: another process could take it, which
/// is unlikely within a test).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The nginx binary, if installed (Debian's `nginx` package puts it in /usr/sbin).
pub fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// An nginx serving `root` on 127.0.0.1, in the foreground as a child of the test, with its
/// config, pid, logs and temp paths in a temporary directory. Killed when dropped.
pub struct Nginx {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx and waits until it accepts connections. Panics with nginx's error log if
    /// it does not come up.
    pub fn start(binary: &Path, root: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let port = free_port();
        let conf = format!(
            "daemon off;\n\
             master_process off;\n\
             worker_processes 1;\n\
             pid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n\
             \x20 access_log off;\n\
             \x20 client_body_temp_path {d}/client_body;\n\
             \x20 proxy_temp_path {d}/proxy;\n\
             \x20 fastcgi_temp_path {d}/fastcgi;\n\
             \x20 uwsgi_temp_path {d}/uwsgi;\n\
             \x20 scgi_temp_path {d}/scgi;\n\
             \x20 default_type application/octet-stream;\n\
             \x20 server {{\n\
             \x20   listen 127.0.0.1:{port};\n\
             \x20   root {root};\n\
             \x20 }}\n\
             }}\n",
            root = root.display()
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        // -p: the prefix, so nothing is looked up or written under /var or /etc; -e: the
        // error log before the config is read (else the compiled-in path is opened).
        let child = Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut nginx = Self { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return nginx;
            }
            if let Ok(Some(status)) = nginx.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut e) = nginx.child.stderr.take() {
                    let _ = e.read_to_string(&mut stderr);
                }
                panic!(
                    "nginx exited ({status}) before listening: {stderr}\n{}",
                    nginx.error_log()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "nginx did not listen on {port} in 20 s:\n{}",
                    nginx.error_log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT{path_and_query}`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://127.0.0.1:{}{path_and_query}", self.port)
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
