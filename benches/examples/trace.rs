//! The reads a lint makes of an image, one line each on standard error: `R OFFSET LEN THREAD`.
//! What the remote source's block size, read-ahead and coalescing are tuned against: replay the
//! trace through a model of the cache to count requests and bytes.
//!
//! `cargo run --release -p vhdlint-benches --example trace -- IMAGE [IGNORED-CHECK…]
//! 2> trace.txt` (disk/sparse is always left out; `RAYON_NUM_THREADS=1` for one order).

use std::sync::Arc;

use vhdlint_disk::source::FileSource;
use vhdlint_disk::ReadAt;
use vhdlint_rules::{run, Image, Policy, ProfileChoice, RunOptions, Selection};

/// A file whose every read is printed.
struct Logged(FileSource);

impl ReadAt for Logged {
    fn size(&self) -> u64 {
        self.0.size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> vhdlint_disk::Result<()> {
        eprintln!("R {offset} {} {:?}", buf.len(), std::thread::current().id());
        self.0.read_at(offset, buf)
    }
    fn name(&self) -> String {
        self.0.name()
    }
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: trace IMAGE [IGNORED-CHECK…]");
        return std::process::ExitCode::from(2);
    };
    let mut ignore = vec!["disk/sparse".to_string()];
    ignore.extend(args);
    let file = match FileSource::open(std::path::Path::new(&path)) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("trace: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let img = Image::from_source(&path, Arc::new(Logged(file)));
    let opts = RunOptions {
        policy: Policy::guide(),
        profile: ProfileChoice::Auto,
        selection: Selection {
            select: vec![],
            ignore,
        },
        progress: None,
        generation: Default::default(),
    };
    let r = run(&img, &opts);
    println!(
        "{} checks: {} failed, {} errors",
        r.checks.len(),
        r.summary.fail,
        r.summary.error
    );
    std::process::ExitCode::SUCCESS
}
