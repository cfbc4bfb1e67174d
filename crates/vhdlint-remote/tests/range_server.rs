//! HttpSource against the in-test Range server: exact bytes, bounds, the cache, coalescing,
//! concurrency, retries, refusals, modification detection and URL redaction.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Behaviour, RangeServer, Rng};
use vhdlint_disk::access::{self, Access};
use vhdlint_disk::{Error, ReadAt};
use vhdlint_remote::{redact, FetchPolicy, HttpSource, RemoteError, RemoteOptions, Window};

const BLOCK: u64 = 64 << 10;
/// Sixteen whole blocks and a partial one.
const SIZE: usize = 16 * BLOCK as usize + 12_345;
const PATH: &str = "/images/os.vhd?sv=2021-08-06&sp=r&sig=SECRET";

fn data() -> Vec<u8> {
    Rng::new(42).bytes(SIZE)
}

/// Quick retries, so the failure tests take milliseconds.
fn fast() -> RemoteOptions {
    RemoteOptions {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(20),
        retry_base_delay: Duration::from_millis(5),
        retry_max_delay: Duration::from_millis(200),
        block_size: BLOCK,
        fetch: FetchPolicy::uniform(Window {
            align: BLOCK,
            after: 0,
        }),
        ..Default::default()
    }
}

fn serve(b: Behaviour) -> (RangeServer, Vec<u8>) {
    let d = data();
    (RangeServer::start(d.clone(), b), d)
}

/// Every text an error can show: its Display, its Debug, and those of its sources.
fn all_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = format!("{e}\n{e:?}\n");
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(&format!("{s}\n{s:?}\n"));
        src = s.source();
    }
    out
}

fn assert_no_secret(e: &(dyn std::error::Error + 'static)) {
    let text = all_text(e);
    assert!(!text.contains("SECRET"), "the secret leaks: {text}");
}

#[test]
fn reads_equal_the_buffer() {
    let (srv, d) = serve(Behaviour::default());
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    assert_eq!(src.size(), SIZE as u64);
    let size = SIZE as u64;
    let mut fixed = vec![
        (0, 512),
        (BLOCK - 6, 20),                // across one boundary
        (3 * BLOCK - 1, 2 * BLOCK + 2), // across several
        (size - 100, 100),              // in the last, partial block
        (16 * BLOCK - 10, 10 + 12_345), // ending exactly at the end
        (size - 1, 1),
        (0, SIZE as u64), // everything
    ];
    let mut rng = Rng::new(7);
    for _ in 0..300 {
        let off = rng.below(size);
        let len = rng.below((size - off).min(300_000)) + 1;
        fixed.push((off, len));
    }
    for (off, len) in fixed {
        let got = src.read_vec(off, len as usize).unwrap();
        assert!(
            got == d[off as usize..(off + len) as usize],
            "bytes differ at {off} (+{len})"
        );
    }
    // Everything was fetched at most once: the cache holds the whole image.
    let fetched = src.bytes_read().unwrap();
    assert!(fetched <= size, "{fetched} > {size}");
    assert_eq!(src.fetched(), fetched);
    assert!(src.changed().is_none());
    // Every request carried x-ms-version; every GET a single Range.
    for r in srv.seen() {
        assert_eq!(r.header("x-ms-version"), Some("2021-08-06"), "{r:?}");
        if r.method == "GET" {
            assert!(r.header("range").unwrap().starts_with("bytes="), "{r:?}");
            assert_eq!(r.header("if-match"), Some("\"v1\""), "{r:?}");
        }
    }
}

#[test]
fn reads_past_the_end_are_out_of_bounds() {
    let (srv, _) = serve(Behaviour::default());
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    let size = SIZE as u64;
    let mut b = [0u8; 20];
    for off in [size - 10, size, size + 1, u64::MAX - 5, u64::MAX] {
        match src.read_at(off, &mut b) {
            Err(Error::OutOfBounds {
                offset, size: s, ..
            }) => {
                assert_eq!((offset, s), (off, size));
            }
            other => panic!("read at {off}: {other:?}"),
        }
    }
    let e = src.read_at(size, &mut b).unwrap_err();
    assert_no_secret(&e);
    // Empty reads are fine, even at the end.
    src.read_at(size, &mut []).unwrap();
    assert_eq!(src.read_upto(size - 3, 10).unwrap().len(), 3);
}

#[test]
fn the_cache_makes_repeated_reads_free() {
    let (srv, d) = serve(Behaviour::default());
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    let after_open = src.requests();
    assert_eq!(after_open, 1, "HEAD only");
    for _ in 0..100 {
        assert_eq!(src.read_vec(1000, 512).unwrap(), d[1000..1512]);
    }
    assert_eq!(src.requests(), after_open + 1);
    assert_eq!(srv.requests() as u64, src.requests());
    assert_eq!(src.bytes_read(), Some(BLOCK));

    // A read over five missing blocks (2..=6) costs one request, of exactly those blocks.
    let off = 2 * BLOCK + 100;
    let len = 4 * BLOCK + 50;
    assert_eq!(
        src.read_vec(off, len as usize).unwrap(),
        d[off as usize..(off + len) as usize]
    );
    assert_eq!(src.requests(), after_open + 2);
    let last = srv.seen().pop().unwrap();
    assert_eq!(
        last.header("range"),
        Some(format!("bytes={}-{}", 2 * BLOCK, 7 * BLOCK - 1).as_str())
    );

    // Blocks 1 and 7 are missing, 2..=6 cached: two requests, one per missing block.
    src.read_vec(BLOCK, 7 * BLOCK as usize).unwrap();
    assert_eq!(src.requests(), after_open + 4);
    // And the last block is short: its request stops at the end of the image.
    src.read_vec(SIZE as u64 - 1, 1).unwrap();
    let last = srv.seen().pop().unwrap();
    assert_eq!(
        last.header("range"),
        Some(format!("bytes={}-{}", 16 * BLOCK, SIZE - 1).as_str())
    );
}

#[test]
fn the_cache_is_bounded() {
    let (srv, d) = serve(Behaviour::default());
    let opts = RemoteOptions {
        cache_bytes: 2 * BLOCK,
        ..fast()
    };
    let src = HttpSource::open(&srv.url(PATH), opts).unwrap();
    for b in [0, 1, 2] {
        src.read_vec(b * BLOCK, 10).unwrap();
    }
    let before = src.requests();
    // Block 0 was evicted (least recently used); 2 was not.
    assert_eq!(
        src.read_vec(2 * BLOCK, 10).unwrap(),
        d[2 * BLOCK as usize..][..10]
    );
    assert_eq!(src.requests(), before);
    assert_eq!(src.read_vec(0, 10).unwrap(), d[..10]);
    assert_eq!(src.requests(), before + 1);
    // A read larger than the whole cache still comes back whole and right.
    assert_eq!(src.read_vec(0, SIZE).unwrap(), d);
}

#[test]
fn long_reads_are_split_by_max_request_bytes() {
    let (srv, d) = serve(Behaviour::default());
    let opts = RemoteOptions {
        max_request_bytes: 4 * BLOCK,
        ..fast()
    };
    let src = HttpSource::open(&srv.url(PATH), opts).unwrap();
    assert_eq!(src.read_vec(0, SIZE).unwrap(), d);
    // 17 blocks in requests of at most 4: 5 requests after the HEAD.
    assert_eq!(src.requests(), 1 + 5);
}

#[test]
fn concurrent_reads_are_correct_and_deduplicated() {
    let (srv, d) = serve(Behaviour::default());
    let src = Arc::new(HttpSource::open(&srv.url(PATH), fast()).unwrap());
    let d = Arc::new(d);
    // Many threads at once on the same block: one request.
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (src, d) = (src.clone(), d.clone());
            std::thread::spawn(move || {
                assert_eq!(
                    src.read_vec(5 * BLOCK + 7, 512).unwrap(),
                    d[5 * BLOCK as usize + 7..][..512]
                );
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(src.requests(), 2);

    // Random overlapping reads from many threads.
    let threads: Vec<_> = (0..8u64)
        .map(|i| {
            let (src, d) = (src.clone(), d.clone());
            std::thread::spawn(move || {
                let mut rng = Rng::new(100 + i);
                for _ in 0..200 {
                    let off = rng.below(SIZE as u64);
                    let len = rng.below((SIZE as u64 - off).min(200_000)) + 1;
                    let got = src.read_vec(off, len as usize).unwrap();
                    assert!(
                        got == d[off as usize..(off + len) as usize],
                        "at {off} (+{len})"
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // No block was fetched twice.
    assert!(src.fetched() <= SIZE as u64 + 1, "{}", src.fetched());
}

#[test]
fn size_from_a_ranged_get_when_head_has_no_length() {
    for b in [
        Behaviour {
            head_without_length: true,
            ..Default::default()
        },
        Behaviour {
            head_not_allowed: true,
            ..Default::default()
        },
    ] {
        let (srv, d) = serve(b.clone());
        let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
        assert_eq!(src.size(), SIZE as u64, "{b:?}");
        let seen = srv.seen();
        assert_eq!(seen[1].method, "GET");
        assert_eq!(seen[1].header("range"), Some("bytes=0-0"));
        assert_eq!(src.read_vec(SIZE as u64 - 5, 5).unwrap(), d[SIZE - 5..]);
    }
}

#[test]
fn a_server_that_ignores_range_is_refused() {
    // HEAD gives the size: opening works, the first read fails.
    let (srv, _) = serve(Behaviour {
        ignore_range: true,
        ..Default::default()
    });
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    let e = src.read_vec(0, 512).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("ignores HTTP Range"), "{text}");
    assert!(text.contains("200 OK") && text.contains("206"), "{text}");
    assert_no_secret(&e);
    // Not retried: one GET.
    assert_eq!(srv.requests(), 2);

    // HEAD without a size: opening itself fails.
    let (srv, _) = serve(Behaviour {
        ignore_range: true,
        head_without_length: true,
        ..Default::default()
    });
    let e = HttpSource::open(&srv.url(PATH), fast()).unwrap_err();
    assert!(matches!(e, RemoteError::RangeIgnored { .. }), "{e:?}");
    assert!(e.to_string().contains("ignores HTTP Range"), "{e}");
    assert_no_secret(&e);
}

#[test]
fn transient_failures_are_retried() {
    let (srv, d) = serve(Behaviour {
        fail_first: 2,
        ..Default::default()
    });
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    assert_eq!(src.requests(), 3);
    assert_eq!(src.read_vec(100, 100).unwrap(), d[100..200]);

    // Too many failures: the last status is reported, with the number of attempts.
    let (srv, _) = serve(Behaviour {
        fail_first: 100,
        ..Default::default()
    });
    let e = HttpSource::open(&srv.url(PATH), fast()).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("HTTP 503") && text.contains("after 4 attempts"),
        "{text}"
    );
    assert_eq!(srv.requests(), 4);
    assert_no_secret(&e);
}

#[test]
fn retry_after_is_honoured_up_to_the_cap() {
    let (srv, _) = serve(Behaviour {
        fail_first: 1,
        retry_after: Some(1),
        ..Default::default()
    });
    let opts = RemoteOptions {
        retry_max_delay: Duration::from_secs(5),
        ..fast()
    };
    let t = Instant::now();
    HttpSource::open(&srv.url(PATH), opts).unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "{:?}",
        t.elapsed()
    );

    let (srv, _) = serve(Behaviour {
        fail_first: 2,
        retry_after: Some(3600),
        ..Default::default()
    });
    let t = Instant::now();
    HttpSource::open(&srv.url(PATH), fast()).unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[test]
fn access_denied_is_explained() {
    let (srv, _) = serve(Behaviour {
        status: Some(403),
        ..Default::default()
    });
    let e = HttpSource::open(&srv.url(PATH), fast()).unwrap_err();
    assert!(
        matches!(e, RemoteError::AccessDenied { status: 403, .. }),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains("access denied — check the SAS token's permissions and expiry"),
        "{text}"
    );
    assert!(text.starts_with(&redact(&srv.url(PATH))), "{text}");
    assert_no_secret(&e);
}

#[test]
fn other_client_errors_are_not_retried() {
    let (srv, _) = serve(Behaviour {
        status: Some(404),
        ..Default::default()
    });
    let e = HttpSource::open(&srv.url(PATH), fast()).unwrap_err();
    assert!(
        matches!(e, RemoteError::Status { status: 404, .. }),
        "{e:?}"
    );
    // HEAD, then the ranged GET that would give the size; neither retried.
    assert_eq!(srv.requests(), 2);
    assert_no_secret(&e);
}

#[test]
fn a_modified_blob_is_reported() {
    // The server ignores If-Match: the read succeeds, changed() says what happened.
    let (srv, _) = serve(Behaviour {
        etag_changes_at: Some(2),
        ..Default::default()
    });
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    assert_eq!(src.etag(), Some("\"v1\""));
    src.read_vec(0, 10).unwrap();
    assert!(src.changed().is_none());
    src.read_vec(5 * BLOCK, 10).unwrap();
    let c = src.changed().expect("changed");
    assert!(c.contains("modified") && c.contains("ETag"), "{c}");
    assert!(!c.contains("SECRET"), "{c}");

    // The server honours If-Match: the read fails, and changed() says so too.
    let (srv, _) = serve(Behaviour {
        etag_changes_at: Some(2),
        honour_if_match: true,
        ..Default::default()
    });
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    src.read_vec(0, 10).unwrap();
    let e = src.read_vec(5 * BLOCK, 10).unwrap_err();
    assert!(all_text(&e).contains("modified during the lint"), "{e}");
    assert_no_secret(&e);
    assert!(src.changed().is_some());
    // Cached bytes are still served.
    src.read_vec(0, 10).unwrap();
}

#[test]
fn no_etag_no_if_match() {
    let (srv, d) = serve(Behaviour {
        no_etag: true,
        ..Default::default()
    });
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    assert_eq!(src.read_vec(0, 10).unwrap(), d[..10]);
    assert!(srv.seen().iter().all(|r| r.header("if-match").is_none()));
    assert!(src.changed().is_none());
}

#[test]
fn the_fetch_budget_is_enforced() {
    let (srv, d) = serve(Behaviour::default());
    let opts = RemoteOptions {
        max_fetch_bytes: 3 * BLOCK,
        ..fast()
    };
    let src = HttpSource::open(&srv.url(PATH), opts).unwrap();
    assert_eq!(
        src.read_vec(0, 2 * BLOCK as usize).unwrap(),
        d[..2 * BLOCK as usize]
    );
    let e = src.read_vec(4 * BLOCK, 2 * BLOCK as usize).unwrap_err();
    let text = all_text(&e);
    assert!(
        text.contains("max_fetch_bytes")
            && text.contains("--max-fetch")
            && text.contains(&format!("fetch budget of {} bytes", 3 * BLOCK)),
        "{text}"
    );
    assert_no_secret(&e);
    // What fits still reads, and cached bytes cost nothing.
    assert_eq!(
        src.read_vec(2 * BLOCK, 10).unwrap(),
        d[2 * BLOCK as usize..][..10]
    );
    assert_eq!(src.read_vec(0, 10).unwrap(), d[..10]);
    assert_eq!(src.fetched(), 3 * BLOCK);
}

#[test]
fn an_empty_image() {
    let srv = RangeServer::start(Vec::new(), Behaviour::default());
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    assert_eq!(src.size(), 0);
    src.read_at(0, &mut []).unwrap();
    assert!(matches!(src.read_vec(0, 1), Err(Error::OutOfBounds { .. })));

    // Size from the probe's 416 `bytes */0`.
    let srv = RangeServer::start(
        Vec::new(),
        Behaviour {
            head_without_length: true,
            ..Default::default()
        },
    );
    assert_eq!(HttpSource::open(&srv.url(PATH), fast()).unwrap().size(), 0);
}

#[test]
fn the_secret_never_shows() {
    let (srv, _) = serve(Behaviour::default());
    let url = srv.url(PATH);
    let src = HttpSource::open(&url, fast()).unwrap();
    let shown = format!("http://127.0.0.1:{}/images/os.vhd?…", srv.port());
    assert_eq!(src.name(), shown);
    assert_eq!(src.url(), shown);
    assert_eq!(redact(&url), shown);
    assert!(!format!("{src:?}").contains("SECRET"));

    // A server that is not there: connection errors, retried, then reported.
    let port = common::free_port();
    let dead = format!("http://127.0.0.1:{port}{PATH}");
    let e = HttpSource::open(&dead, fast()).unwrap_err();
    assert!(
        matches!(e, RemoteError::Transport { attempts: 4, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("HEAD"), "{e}");
    assert_no_secret(&e);

    // A host that does not resolve.
    let e = HttpSource::open("http://no-such-host.invalid/x.vhd?sig=SECRET", fast()).unwrap_err();
    assert_no_secret(&e);

    // https to something that does not speak TLS: the TLS layer's error, redacted too.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in listener.incoming().flatten() {
            use std::io::Write;
            let mut c = c;
            let _ = c.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let e = HttpSource::open(&format!("https://127.0.0.1:{port}{PATH}"), fast()).unwrap_err();
    assert!(matches!(e, RemoteError::Transport { .. }), "{e:?}");
    assert_no_secret(&e);

    // Bad URLs.
    for bad in [
        "ftp://h/x?sig=SECRET",
        "https://?sig=SECRET",
        "h/x?sig=SECRET",
    ] {
        let e = HttpSource::open(bad, fast()).unwrap_err();
        assert!(matches!(e, RemoteError::BadUrl { .. }), "{e:?}");
        assert_no_secret(&e);
    }

    // Errors from reads go through vhdlint_disk::Error: check the whole chain there too.
    let (srv, _) = serve(Behaviour {
        ignore_range: true,
        ..Default::default()
    });
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    let e = src.read_vec(0, 1).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("remote image: I/O error at offset 0x0: "),
        "{e}"
    );
    assert!(e.to_string().contains(&redact(&srv.url(PATH))), "{e}");
    assert_no_secret(&e);
}

/// Eight MiB of test data, for the read-ahead and parallel fetches.
fn serve_big() -> (RangeServer, Vec<u8>) {
    let d = Rng::new(99).bytes(8 << 20);
    (RangeServer::start(d.clone(), Behaviour::default()), d)
}

/// Reads `[0, len)` in `chunk`-byte reads, one after the other, checking every byte.
fn read_sequentially(src: &HttpSource, d: &[u8], len: usize, chunk: usize) {
    let mut at = 0;
    while at < len {
        let n = chunk.min(len - at);
        assert!(
            src.read_vec(at as u64, n).unwrap() == d[at..at + n],
            "bytes differ at {at}"
        );
        at += n;
    }
}

#[test]
fn a_sequential_read_takes_few_requests() {
    let (srv, d) = serve_big();
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    // 4 MiB in 32 KiB reads, as a streaming reader (an initramfs, a package database) does:
    // 128 blocks of 64 KiB, fetched 1, then 4, 8, 16, 32 (the 2 MiB read-ahead) at a time.
    read_sequentially(&src, &d, 4 << 20, 32 << 10);
    let requests = src.requests() - 1;
    assert!(requests <= 8, "{requests} requests");
    // The read-ahead fetches at most its window past the end of the run.
    assert!(src.fetched() <= (4 << 20) + (2 << 20), "{}", src.fetched());
    // Connections are kept alive: no more than the pieces fetched at once.
    assert!(srv.connections() <= 4, "{}", srv.connections());

    // Without read-ahead, one request per block.
    let (srv, d) = serve_big();
    let opts = RemoteOptions {
        readahead_bytes: 0,
        ..fast()
    };
    let src = HttpSource::open(&srv.url(PATH), opts).unwrap();
    read_sequentially(&src, &d, 1 << 20, 32 << 10);
    assert_eq!(src.requests(), 1 + 16);
    assert_eq!(src.fetched(), 1 << 20);
}

#[test]
fn random_reads_do_not_read_ahead() {
    let (srv, d) = serve_big();
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    let mut rng = Rng::new(3);
    let mut blocks = std::collections::BTreeSet::new();
    for _ in 0..40 {
        // Far apart: never where a previous read ended.
        let off = rng.below(d.len() as u64 / BLOCK) * BLOCK + 1000;
        assert_eq!(src.read_vec(off, 100).unwrap(), d[off as usize..][..100]);
        blocks.insert(off / BLOCK);
    }
    assert_eq!(src.fetched(), blocks.len() as u64 * BLOCK);
    assert_eq!(src.requests(), 1 + blocks.len() as u64);
    // One thread, one request at a time: one connection, kept alive.
    assert_eq!(srv.connections(), 1);
}

#[test]
fn a_long_read_is_fetched_in_parallel_pieces() {
    let (srv, d) = serve_big();
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    // 8 MiB at once: four pieces of 2 MiB, at the same time.
    let off = 1000u64;
    let len = (8 << 20) - 1000;
    assert!(src.read_vec(off, len).unwrap() == d[off as usize..][..len]);
    assert_eq!(src.requests(), 1 + 4);
    let mut ranges: Vec<String> = srv
        .seen()
        .iter()
        .filter_map(|s| s.header("range").map(str::to_owned))
        .collect();
    ranges.sort();
    assert_eq!(ranges.len(), 4, "{ranges:?}");
    // The pieces are contiguous and cover the blocks of the read exactly.
    let mut bounds: Vec<(u64, u64)> = ranges
        .iter()
        .map(|r| {
            let (a, b) = r.strip_prefix("bytes=").unwrap().split_once('-').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    bounds.sort();
    assert_eq!(bounds[0].0, 0);
    for w in bounds.windows(2) {
        assert_eq!(w[0].1 + 1, w[1].0);
    }
    assert_eq!(bounds[3].1 + 1, (off + len as u64).div_ceil(BLOCK) * BLOCK);
    // Several connections for the pieces, no more than the pieces.
    assert!(srv.connections() <= 4, "{}", srv.connections());
}

#[test]
fn read_ahead_stays_within_the_budget() {
    let (srv, d) = serve_big();
    let opts = RemoteOptions {
        max_fetch_bytes: 10 * BLOCK,
        ..fast()
    };
    let src = HttpSource::open(&srv.url(PATH), opts).unwrap();
    // A run of ten blocks fits the budget, whatever the read-ahead would have liked.
    read_sequentially(&src, &d, 10 * BLOCK as usize, 16 << 10);
    assert_eq!(src.fetched(), 10 * BLOCK);
    let e = src.read_vec(10 * BLOCK, 10).unwrap_err();
    assert!(all_text(&e).contains("fetch budget"), "{e}");
}

/// The ranges the server was asked for, in order.
fn ranges(srv: &RangeServer) -> Vec<(u64, u64)> {
    srv.seen()
        .iter()
        .filter_map(|s| s.header("range").map(str::to_owned))
        .filter_map(|r| {
            let (a, b) = r.strip_prefix("bytes=")?.split_once('-')?;
            Some((a.parse().ok()?, b.parse::<u64>().ok()? + 1))
        })
        .collect()
}

#[test]
fn the_kind_of_a_read_chooses_its_window() {
    const PAGE: u64 = 4 << 10;
    let (srv, d) = serve_big();
    let opts = RemoteOptions {
        block_size: PAGE,
        fetch: FetchPolicy {
            unknown: Window {
                align: 64 << 10,
                after: 0,
            },
            inode: Window {
                align: 32 << 10,
                after: 0,
            },
            directory: Window {
                align: PAGE,
                after: 16 << 10,
            },
            file: Window {
                align: PAGE,
                after: 0,
            },
        },
        ..fast()
    };
    let src = HttpSource::open(&srv.url(PATH), opts).unwrap();
    let read = |kind, off: u64, len: usize| {
        let got = access::with(kind, || src.read_vec(off, len)).unwrap();
        assert!(got == d[off as usize..][..len], "bytes differ at {off}");
    };
    // An inode: its aligned 32 KiB.
    read(Access::Inode, 40_000, 256);
    // A directory block: the block and the 16 KiB after it, stopped short at the pages the
    // inode's window brought (from 32 KiB on): one request, never two.
    read(Access::Directory, 5 * PAGE, 4096);
    // File data: the pages asked for.
    read(Access::File, 400_000, 5000);
    // No hint: the aligned 64 KiB.
    read(Access::Unknown, 1 << 20, 10);
    assert_eq!(
        ranges(&srv),
        vec![
            (32 << 10, 64 << 10),
            (5 * PAGE, 8 * PAGE),
            (97 * PAGE, 99 * PAGE),
            (1 << 20, (1 << 20) + (64 << 10)),
        ]
    );
    // Everything fetched is cached: the same reads again cost nothing.
    read(Access::Inode, 40_000, 256);
    read(Access::Directory, 6 * PAGE, 4096);
    assert_eq!(src.requests(), 1 + 4);
}

#[test]
fn large_pieces_and_metadata_are_not_read_ahead() {
    let (srv, d) = serve_big();
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    // A reader that pulls 512 KiB at a time gets what it asks for, nothing more.
    access::with(Access::File, || {
        read_sequentially(&src, &d, 2 << 20, 512 << 10)
    });
    assert_eq!(src.fetched(), 2 << 20);
    assert_eq!(src.requests(), 1 + 4);
    // Directory blocks one after the other are not a stream either.
    let (srv, d) = serve_big();
    let src = HttpSource::open(&srv.url(PATH), fast()).unwrap();
    access::with(Access::Directory, || {
        read_sequentially(&src, &d, 4 * BLOCK as usize, 4096)
    });
    assert_eq!(src.fetched(), 4 * BLOCK);
    assert_eq!(src.requests(), 1 + 4);
    drop(srv);
}
