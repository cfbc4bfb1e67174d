//! Replays a lint's reads (the `trace` example's output, made with `TRACE_WHO=1`) through a
//! model of the remote source's cache, to count the requests and bytes fetch policies cost:
//! the bound no policy can beat (every needed page known in advance, the closest runs merged
//! first), and each policy of a grid of per-kind fetch windows, of which the best ones (no
//! other with as few requests and fewer bytes) are printed.
//!
//! `cargo run --release -p vhdlint-benches --example replay -- TRACE [--without CHECK…]`
//!
//! The model: a cache of 4 KiB pages; a read that misses fetches its window (by the kind of
//! the read) in one request, trimmed at both ends to the pages not cached; the initramfs
//! pieces are fetched as asked; one more request opens the image (HEAD). `--without CHECK`
//! leaves out the reads a check (or fact) made, to price reads a check could avoid.

use std::collections::HashSet;

const PAGE: u64 = 4 << 10;
const K: u64 = 1 << 10;

#[derive(Clone)]
struct Read {
    offset: u64,
    len: u64,
    kind: String,
}

/// A window: `Aligned(n)` rounds the read out to `n` bytes; `Ahead(b, a)` adds `b` bytes
/// before and `a` after.
#[derive(Clone, Copy, Debug)]
enum Win {
    Aligned(u64),
    Ahead(u64, u64),
}

impl Win {
    fn range(self, o: u64, n: u64) -> (u64, u64) {
        match self {
            Win::Aligned(b) => (o / b * b, (o + n).div_ceil(b) * b),
            Win::Ahead(b, a) => (o.saturating_sub(b), o + n + a),
        }
    }
}

impl std::fmt::Display for Win {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Win::Aligned(b) => write!(f, "aligned {}K", b / K),
            Win::Ahead(b, a) => write!(f, "-{}K +{}K", b / K, a / K),
        }
    }
}

#[derive(Clone, Copy)]
struct Policy {
    inode: Win,
    dir: Win,
    file: Win,
    other: Win,
}

/// (requests, bytes) of `reads` under `p`.
fn replay(reads: &[Read], p: &Policy) -> (u64, u64) {
    let mut cached: HashSet<u64> = HashSet::new();
    let (mut requests, mut bytes) = (1u64, 0u64);
    for r in reads {
        let pages = r.offset / PAGE..=(r.offset + r.len - 1) / PAGE;
        if pages.clone().all(|p| cached.contains(&p)) {
            continue;
        }
        let (a, e) = match r.kind.as_str() {
            "initramfs" => (r.offset, r.offset + r.len),
            "inode" | "gdt" => p.inode.range(r.offset, r.len),
            "dir" => p.dir.range(r.offset, r.len),
            "file" | "range" => p.file.range(r.offset, r.len),
            _ => p.other.range(r.offset, r.len),
        };
        let (mut a, mut e) = (a / PAGE, e.div_ceil(PAGE));
        while a < e && cached.contains(&a) {
            a += 1;
        }
        while e > a && cached.contains(&(e - 1)) {
            e -= 1;
        }
        requests += 1;
        bytes += (e - a) * PAGE;
        cached.extend(a..e);
    }
    (requests, bytes)
}

/// The bound: every page needed known in advance, runs merged closest first; returns
/// (requests, bytes) for each number of requests.
fn clairvoyant(reads: &[Read]) -> Vec<(u64, u64)> {
    let mut pages: Vec<u64> = reads
        .iter()
        .flat_map(|r| r.offset / PAGE..=(r.offset + r.len - 1) / PAGE)
        .collect();
    pages.sort_unstable();
    pages.dedup();
    let mut gaps: Vec<u64> = pages
        .windows(2)
        .filter(|w| w[1] > w[0] + 1)
        .map(|w| w[1] - w[0] - 1)
        .collect();
    gaps.sort_unstable();
    let mut requests = 1 + gaps.len() as u64 + 1;
    let mut bytes = pages.len() as u64 * PAGE;
    let mut out = vec![(requests, bytes)];
    for g in gaps {
        requests -= 1;
        bytes += g * PAGE;
        out.push((requests, bytes));
    }
    out
}

fn mib(b: u64) -> f64 {
    b as f64 / (1u64 << 20) as f64
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: replay TRACE [--without CHECK…]");
        return std::process::ExitCode::from(2);
    };
    let mut without = Vec::new();
    while let Some(a) = args.next() {
        if a == "--without" {
            without.extend(args.next());
        }
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("replay: {path}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let reads: Vec<Read> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.first() != Some(&"R") || f.len() < 6 || without.iter().any(|w| w == f[5]) {
                return None;
            }
            let len: u64 = f[2].parse().ok()?;
            (len > 0).then_some(Read {
                offset: f[1].parse().ok()?,
                len,
                kind: f[4].to_owned(),
            })
        })
        .collect();
    println!("{} reads", reads.len());
    let bound = clairvoyant(&reads);
    for want in [80, 70, 60, 50, 40] {
        if let Some((r, b)) = bound.iter().find(|(r, _)| *r <= want) {
            println!("bound: {r} requests need at least {:.2} MiB", mib(*b));
        }
    }
    if let Some((r, _)) = bound.iter().rev().find(|(_, b)| mib(*b) <= 8.0) {
        println!("bound: within 8 MiB, no fewer than {r} requests");
    }

    let al = |k: u64| Win::Aligned(k * K);
    let ah = |b: u64, a: u64| Win::Ahead(b * K, a * K);
    let inode = [
        al(32),
        al(64),
        al(128),
        al(256),
        ah(0, 64),
        ah(16, 48),
        ah(32, 96),
    ];
    let dir = [
        ah(0, 16),
        ah(0, 32),
        ah(0, 48),
        ah(0, 64),
        ah(16, 48),
        al(64),
        al(128),
    ];
    let file = [ah(0, 0), ah(0, 4), ah(0, 16), ah(0, 64), al(64), al(128)];
    let mut results = Vec::new();
    for &i in &inode {
        for &d in &dir {
            for &f in &file {
                for o in [al(64), al(128)] {
                    let p = Policy {
                        inode: i,
                        dir: d,
                        file: f,
                        other: o,
                    };
                    let (r, b) = replay(&reads, &p);
                    results.push((r, b, p));
                }
            }
        }
    }
    let today = Policy {
        inode: al(128),
        dir: al(128),
        file: al(128),
        other: al(128),
    };
    let (r, b) = replay(&reads, &today);
    println!(
        "128 KiB blocks for every read: {r} requests, {:.2} MiB",
        mib(b)
    );
    results.sort_by_key(|(r, b, _)| (*r, *b));
    println!("best policies (requests, MiB: inode, directory, file, other):");
    let mut least = u64::MAX;
    for (r, b, p) in results {
        if b < least {
            least = b;
            println!(
                "  {r:>4} {:>6.2}  {} | {} | {} | {}",
                mib(b),
                p.inode,
                p.dir,
                p.file,
                p.other
            );
        }
    }
    std::process::ExitCode::SUCCESS
}
