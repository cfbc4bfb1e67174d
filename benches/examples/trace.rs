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
        if std::env::var_os("TRACE_WHO").is_some() {
            let bt = std::backtrace::Backtrace::force_capture().to_string();
            if std::env::var_os("TRACE_BT").is_some() {
                eprintln!("{bt}");
            }
            eprintln!(
                "R {offset} {} {:?} {}",
                buf.len(),
                std::thread::current().id(),
                who(&bt)
            );
        } else {
            eprintln!("R {offset} {} {:?}", buf.len(), std::thread::current().id());
        }
        self.0.read_at(offset, buf)
    }
    fn name(&self) -> String {
        self.0.name()
    }
}

/// Which reader made a read, from the frames of its backtrace (inlined frames keep their
/// name and file): the kind of read (the innermost ext4 or initramfs function that names
/// one) and who asked (the outermost check, else the innermost guest function).
fn who(bt: &str) -> String {
    const KINDS: [(&str, &str); 10] = [
        ("read_inode_table", "gdt"),
        ("read_inode", "inode"),
        ("walk_extents", "extent"),
        ("walk_indirect", "extent"),
        ("indexed_lookup", "dir"),
        ("for_each_entry", "dir"),
        ("read_data_range", "range"),
        ("read_data", "file"),
        ("replay_journal", "journal"),
        ("open", "super"),
    ];
    // (function, file) per frame, innermost first.
    let mut frames: Vec<(String, String)> = Vec::new();
    for l in bt.lines() {
        let t = l.trim();
        if let Some(at) = t.strip_prefix("at ") {
            if let Some(f) = frames.last_mut() {
                f.1 = at.to_owned();
            }
        } else if let Some((_, f)) = t.split_once(": ") {
            frames.push((f.to_owned(), String::new()));
        }
    }
    let short = |f: &str| f.split('<').next().unwrap_or(f).to_owned();
    let kind = if frames.iter().any(|(_, at)| at.contains("initramfs")) {
        "initramfs".to_owned()
    } else {
        frames
            .iter()
            .filter(|(_, at)| at.contains("vhdlint-fs/src/ext4/mod.rs"))
            .find_map(|(f, _)| {
                let f = short(f);
                KINDS
                    .iter()
                    .find(|(k, _)| f == *k)
                    .map(|(_, v)| v.to_string())
            })
            .unwrap_or_else(|| "disk".into())
    };
    let by = frames
        .iter()
        .rev()
        .find_map(|(_, at)| {
            let rest = at.split("vhdlint-rules/src/checks/").nth(1)?;
            Some(rest.split('.').next()?.to_owned())
        })
        .or_else(|| {
            frames
                .iter()
                .filter(|(_, at)| at.contains("vhdlint-guest/src/") && !at.contains("view.rs"))
                .map(|(f, _)| short(f))
                .find(|f| !f.starts_with('{'))
        })
        .unwrap_or_else(|| "-".into());
    format!("{kind} {by}")
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
