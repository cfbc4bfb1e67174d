//! The speed figures of the README, measured in one run (medians, warm page cache), with the
//! targets of issue "Speed" beside them:
//!
//! 1. a full lint but the surface scan (`check --ignore disk/sparse`) of the 30 GiB
//!    debootstrapped Debian 12 image (`fixtures/debian12.sh image plain-ext4`: its real
//!    kernel and gzip initramfs) against `qemu-img info -f vpc` on the same image, run
//!    alternately: the ratio of the medians (target ≤ 3×);
//! 2. peak RSS of a whole lint (surface scan included) of that image and of a 1 TiB sparse
//!    data disk (`fixtures/build.sh data-1t-ext4`): target ≤ 64 MiB;
//! 3. the surface scan alone (`--select disk/sparse`) of the 1 TiB data disk: target < 1 s.
//!
//! `cargo bench -p vhdlint-benches --bench speed` (root, and a Debian mirror the first time, to
//! debootstrap the root; runs: `VHDLINT_BENCH_RUNS`, default 30). Prints the figures and
//! whether each target is met; exits 0 either way (the numbers are the result).

use std::process::Command;

use vhdlint_benches::{debian12, fixture, median, peak_rss_kib, release_binary, time_ms};

const RATIO_TARGET: f64 = 3.0;
const RSS_TARGET_KIB: u64 = 64 << 10;
const SCAN_TARGET_MS: f64 = 1000.0;

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

fn main() {
    // `cargo bench` passes `--bench` (and any filter): this benchmark has no options.
    let runs: usize = std::env::var("VHDLINT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(30);
    let bin = release_binary();
    let debian = debian12("plain-ext4");
    let big = fixture("data-1t-ext4");
    let deb = debian.to_str().expect("a UTF-8 path");
    let big_s = big.to_str().expect("a UTF-8 path");

    // Warm the page cache (and check both commands work) before timing.
    time_ms(Command::new("qemu-img").args(["info", "-f", "vpc", deb]));
    time_ms(Command::new(&bin).args(["check", "-q", "--ignore", "disk/sparse", deb]));

    let mut qemu = Vec::with_capacity(runs);
    let mut lint = Vec::with_capacity(runs);
    for _ in 0..runs {
        qemu.push(time_ms(
            Command::new("qemu-img").args(["info", "-f", "vpc", deb]),
        ));
        lint.push(time_ms(Command::new(&bin).args([
            "check",
            "-q",
            "--ignore",
            "disk/sparse",
            deb,
        ])));
    }
    let (q, l) = (median(&qemu), median(&lint));
    let ratio = l / q;

    let mut scan = Vec::with_capacity(runs);
    for _ in 0..runs {
        scan.push(time_ms(Command::new(&bin).args([
            "check",
            "-q",
            "--select",
            "disk/sparse",
            big_s,
        ])));
    }
    let scan_ms = median(&scan);

    let rss_deb = peak_rss_kib(&bin, &["check", "-q", deb]);
    let rss_big = peak_rss_kib(&bin, &["check", "-q", big_s]);

    println!("image: {} ({} bytes)", debian.display(), file_len(&debian));
    println!("runs: {runs} of each, alternating, warm page cache");
    println!("qemu-img info -f vpc                          {q:9.2} ms (median)");
    println!("vhdlint check --ignore disk/sparse            {l:9.2} ms (median)");
    println!(
        "ratio                                          {ratio:8.2}×   target ≤ {RATIO_TARGET}×: {}",
        verdict(ratio <= RATIO_TARGET)
    );
    println!("image: {} ({} bytes)", big.display(), file_len(&big));
    println!(
        "surface scan of the 1 TiB sparse data disk    {scan_ms:9.2} ms (median)   target < {SCAN_TARGET_MS} ms: {}",
        verdict(scan_ms < SCAN_TARGET_MS)
    );
    for (what, rss) in [
        ("peak RSS, whole lint of the Debian image", rss_deb),
        ("peak RSS, whole lint of the 1 TiB data disk", rss_big),
    ] {
        match rss {
            Some(kib) => println!(
                "{what:<46} {:6.1} MiB   target ≤ 64 MiB: {}",
                kib as f64 / 1024.0,
                verdict(kib <= RSS_TARGET_KIB)
            ),
            None => println!("{what:<46} not measured (GNU time, /usr/bin/time, is missing)"),
        }
    }
}

fn file_len(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}
