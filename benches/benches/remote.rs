//! A blob linted in place: the debootstrapped Debian 12 image (30 GiB, real initramfs) served
//! by a loopback range server that answers each request after 20 ms, linted by the release
//! `vhdlint check --format json --ignore disk/sparse URL` N times. Prints the median wall time,
//! the requests, bytes and TCP connections the server counted, the client's peak RSS, and
//! compares every run's verdicts with a local run's; then checks the targets (≤ 2 s, ≤ 60
//! requests, ≤ 8 MiB, ≤ 64 MiB RSS, same verdicts) and prints whether each is met; exits 1
//! only when the verdicts differ. Also measured, not judged: the same without
//! linux/hyperv-drivers (which reads the initramfs).
//!
//! `cargo bench -p vhdlint-benches --bench remote -- [--runs N] [--delay-ms MS]
//! [--image PATH] [--bin PATH] [-- EXTRA vhdlint ARGS]`
//!
//! Without `--image` the image is built by `fixtures/debian12.sh` (see
//! [`vhdlint_benches::debian12`]); without `--bin`, the release linter is built first
//! ([`vhdlint_benches::release_binary`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use vhdlint_benches::range_server::{RangeServer, Stats};

const MAX_WALL: Duration = Duration::from_secs(2);
const MAX_REQUESTS: u64 = 60;
const MAX_BYTES: u64 = 8 << 20;

struct Args {
    runs: usize,
    delay_ms: u64,
    image: Option<PathBuf>,
    bin: Option<PathBuf>,
    extra: Vec<String>,
}

fn args() -> Args {
    let mut a = Args {
        runs: 10,
        delay_ms: 20,
        image: None,
        bin: None,
        extra: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--runs" => a.runs = it.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--delay-ms" => {
                a.delay_ms = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--delay-ms MS")
            }
            "--image" => a.image = it.next().map(PathBuf::from),
            "--bin" => a.bin = it.next().map(PathBuf::from),
            "--" => a.extra.extend(it.by_ref()),
            // cargo bench passes --bench; filters are not used here.
            _ => {}
        }
    }
    a.runs = a.runs.max(1);
    a
}

/// One lint's outcome.
struct Run {
    wall: Duration,
    verdicts: BTreeMap<String, String>,
    /// Peak RSS in KiB (from /usr/bin/time, when installed).
    rss_kib: Option<u64>,
    exit: Option<i32>,
}

fn lint(bin: &Path, target: &str, extra: &[String], ignore: &[&str]) -> Run {
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.is_file() {
        let mut c = Command::new(time);
        c.args(["-f", "RSS %M"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(["check", "-q", "--format", "json", "--ignore", "disk/sparse"]);
    for i in ignore {
        cmd.args(["--ignore", i]);
    }
    cmd.args(extra).arg(target);
    let start = Instant::now();
    let out = cmd.output().expect("vhdlint runs");
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rss_kib = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("RSS ").and_then(|v| v.trim().parse().ok()));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("vhdlint check {target}: no JSON report ({e}); stderr: {stderr}")
    });
    let mut verdicts = BTreeMap::new();
    for c in json["images"][0]["checks"].as_array().into_iter().flatten() {
        verdicts.insert(
            c["id"].as_str().unwrap_or("?").to_owned(),
            c["status"].as_str().unwrap_or("?").to_owned(),
        );
    }
    Run {
        wall,
        verdicts,
        rss_kib,
        exit: out.status.code(),
    }
}

fn median<T: Ord + Copy>(mut v: Vec<T>) -> T {
    v.sort();
    v[v.len() / 2]
}

fn mib(b: u64) -> f64 {
    b as f64 / (1u64 << 20) as f64
}

/// Lints `url` `runs` times; prints the medians; returns (wall, stats, rss, verdicts equal).
fn measure(
    a: &Args,
    bin: &Path,
    srv: &RangeServer,
    url: &str,
    image: &Path,
    ignore: &[&str],
) -> (Duration, Stats, Option<u64>, bool) {
    let local = lint(bin, &image.to_string_lossy(), &a.extra, ignore);
    println!(
        "  local: {:.1} ms, {} checks, exit {:?}",
        local.wall.as_secs_f64() * 1e3,
        local.verdicts.len(),
        local.exit
    );
    let mut walls = Vec::new();
    let mut stats = Vec::new();
    let mut rss = Vec::new();
    let mut same = true;
    let local_verdicts: BTreeMap<_, _> = local.verdicts.iter().collect();
    for _ in 0..a.runs {
        srv.reset();
        let r = lint(bin, url, &a.extra, ignore);
        let s = srv.stats();
        walls.push(r.wall);
        stats.push(s);
        rss.extend(r.rss_kib);
        let remote: BTreeMap<_, _> = r.verdicts.iter().collect();
        if remote != local_verdicts || r.exit != local.exit {
            same = false;
            for (id, v) in &local_verdicts {
                let got = remote.get(id).map_or("(missing)", |s| s.as_str());
                if got != v.as_str() {
                    eprintln!("  {id}: local {v}, remote {got}");
                }
            }
            eprintln!("  exit: local {:?}, remote {:?}", local.exit, r.exit);
        }
    }
    let m = Stats {
        requests: median(stats.iter().map(|s| s.requests).collect()),
        bytes: median(stats.iter().map(|s| s.bytes).collect()),
        connections: median(stats.iter().map(|s| s.connections).collect()),
    };
    let wall = median(walls);
    let rss = (!rss.is_empty()).then(|| median(rss));
    println!(
        "  wall {:>8.1} ms   requests {:>4}   bytes {:>10} ({:.2} MiB)   connections {:>3}   \
         peak RSS {}   verdicts {}",
        wall.as_secs_f64() * 1e3,
        m.requests,
        m.bytes,
        mib(m.bytes),
        m.connections,
        rss.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
        if same { "same as local" } else { "DIFFER" }
    );
    (wall, m, rss, same)
}

fn main() -> ExitCode {
    let a = args();
    let bin = a
        .bin
        .clone()
        .unwrap_or_else(vhdlint_benches::release_binary);
    let image = a
        .image
        .clone()
        .unwrap_or_else(|| vhdlint_benches::debian12("plain-ext4"));
    let srv = RangeServer::start(&image, 0, Duration::from_millis(a.delay_ms)).expect("serves");
    let name = image.file_name().expect("a file name").to_string_lossy();
    let url = srv.url(&name);

    println!(
        "image: {} ({} bytes); {} runs each, {} ms per request",
        image.display(),
        std::fs::metadata(&image).map(|m| m.len()).unwrap_or(0),
        a.runs,
        a.delay_ms
    );
    println!("remote, every check but disk/sparse:");
    let (wall, s, rss, same) = measure(&a, &bin, &srv, &url, &image, &[]);
    println!("remote, also without linux/hyperv-drivers (the initramfs):");
    measure(&a, &bin, &srv, &url, &image, &["linux/hyperv-drivers"]);

    let mut ok = true;
    let mut target = |what: &str, met: bool, got: String| {
        println!(
            "target {what:<28} {got:>14}  {}",
            if met { "met" } else { "NOT met" }
        );
        ok &= met;
    };
    target(
        "wall ≤ 2 s",
        wall <= MAX_WALL,
        format!("{:.0} ms", wall.as_secs_f64() * 1e3),
    );
    target(
        "requests ≤ 60",
        s.requests <= MAX_REQUESTS,
        s.requests.to_string(),
    );
    target(
        "bytes ≤ 8 MiB",
        s.bytes <= MAX_BYTES,
        format!("{:.2} MiB", mib(s.bytes)),
    );
    target(
        "peak RSS ≤ 64 MiB",
        rss.is_none_or(|k| k <= 64 << 10),
        rss.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
    );
    target("verdicts same as local", same, String::new());
    println!("targets: {}", if ok { "all met" } else { "NOT all met" });
    // The figures are the result, whatever they are; verdicts that differ are a bug.
    if same {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
