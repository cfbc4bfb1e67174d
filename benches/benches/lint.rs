//! Benchmarks on a 30 GiB fixed VHD holding a populated ext4 partition: the full lint (every
//! check but the surface scan), and the surface scan alone.
//!
//! `cargo bench -p vhdlint-benches` (the image is built on first use, sparse: ~260 MiB on disk).

use criterion::{criterion_group, criterion_main, Criterion};
use vhdlint_disk::scan;
use vhdlint_rules::{run, Image, Policy, ProfileChoice, RunOptions, Selection};

fn lint(c: &mut Criterion) {
    let path = vhdlint_benches::fixture("ext4-30g-populated");
    let opts = RunOptions {
        policy: Policy::guide(),
        profile: ProfileChoice::Auto,
        selection: Selection {
            select: vec![],
            ignore: vec!["disk/sparse".into()],
        },
        progress: None,
        generation: Default::default(),
    };
    let mut g = c.benchmark_group("30g-populated");
    g.sample_size(20);
    g.bench_function("lint without surface scan", |b| {
        b.iter(|| {
            let img = Image::open(&path).expect("opens");
            let r = run(&img, &opts);
            assert_eq!(r.summary.fail, 0);
            r
        })
    });
    g.bench_function("surface scan", |b| {
        let img = Image::open(&path).expect("opens");
        b.iter(|| scan::scan(img.local.as_ref().expect("a local file"), &|_| {}).expect("scans"))
    });
    // A fixed VHD copied without holes: every zero block is allocated and must be read whole.
    let dense = path.with_file_name("small-fixed-dense.vhd");
    let small = vhdlint_benches::fixture("small-fixed");
    let status = std::process::Command::new("cp")
        .args(["--sparse=never"])
        .arg(&small)
        .arg(&dense)
        .status()
        .expect("cp runs");
    assert!(status.success());
    g.bench_function("surface scan, 64 MiB allocated, mostly zeros", |b| {
        let img = Image::open(&dense).expect("opens");
        b.iter(|| scan::scan(img.local.as_ref().expect("a local file"), &|_| {}).expect("scans"))
    });
    g.finish();
}

criterion_group!(benches, lint);
criterion_main!(benches);
