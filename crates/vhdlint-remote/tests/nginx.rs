//! HttpSource against a real server: Debian's nginx serving a file from a temporary directory
//! (nginx answers Range on static files natively, with keep-alive and strong ETags).

mod common;
#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;

use std::sync::Arc;
use std::time::Duration;

use common::{Nginx, Rng};
use vhdlint_disk::{Error, ReadAt};
use vhdlint_remote::{HttpSource, RemoteOptions};

/// nginx, or `None` when it is not installed, after `prereq::skip` has said so (or failed the
/// test, under `VHDLINT_REQUIRE_PREREQS=1`). CI installs it and must not skip.
fn nginx() -> Option<std::path::PathBuf> {
    let bin = common::nginx_binary();
    if bin.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "nginx is not installed (apt-get install -y nginx)"
        );
        prereq::skip(
            "the tests against nginx",
            "nginx is not installed (apt-get install -y nginx)",
        );
    }
    bin
}

#[test]
fn reads_a_file_served_by_nginx() {
    let Some(bin) = nginx() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    // Not a multiple of the block size, so the last block is partial.
    let size = 3 * (1 << 20) + 4321;
    let data = Rng::new(2024).bytes(size);
    std::fs::write(root.path().join("disk.vhd"), &data).unwrap();
    let server = Nginx::start(&bin, root.path());

    let opts = RemoteOptions {
        retry_base_delay: Duration::from_millis(10),
        ..Default::default()
    };
    let src = Arc::new(HttpSource::open(&server.url("/disk.vhd?sig=SECRET"), opts).unwrap());
    assert_eq!(src.size(), size as u64);
    assert!(src.etag().is_some(), "nginx gives an ETag");
    assert!(!src.name().contains("SECRET"));

    let size = size as u64;
    let mut reads = vec![
        (0, 512),
        (65_530, 20),
        (size - 512, 512),
        (size - 1, 1),
        (1 << 20, 3 << 16),
    ];
    let mut rng = Rng::new(9);
    for _ in 0..400 {
        let off = rng.below(size);
        let len = rng.below((size - off).min(150_000)) + 1;
        reads.push((off, len));
    }
    for &(off, len) in &reads {
        let got = src.read_vec(off, len as usize).unwrap();
        assert!(
            got == data[off as usize..(off + len) as usize],
            "bytes differ at {off} (+{len})"
        );
    }

    // From several threads at once, on a fresh source (nothing cached).
    let src2 =
        Arc::new(HttpSource::open(&server.url("/disk.vhd"), RemoteOptions::default()).unwrap());
    let data = Arc::new(data);
    let threads: Vec<_> = (0..4u64)
        .map(|i| {
            let (src2, data) = (src2.clone(), data.clone());
            std::thread::spawn(move || {
                let mut rng = Rng::new(i + 1);
                for _ in 0..100 {
                    let off = rng.below(size);
                    let len = rng.below((size - off).min(100_000)) + 1;
                    let got = src2.read_vec(off, len as usize).unwrap();
                    assert!(got == data[off as usize..(off + len) as usize], "at {off}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }

    assert!(matches!(
        src.read_vec(size - 1, 2),
        Err(Error::OutOfBounds { .. })
    ));
    assert!(src.changed().is_none(), "{:?}", src.changed());
    assert!(src.fetched() <= size + 1);

    // The file replaced on the server: its ETag changes, and nginx answers the If-Match of a
    // source opened before with 412.
    let before = HttpSource::open(&server.url("/disk.vhd"), RemoteOptions::default()).unwrap();
    assert_eq!(before.read_vec(0, 10).unwrap(), data[..10]);
    let newer = Rng::new(77).bytes(size as usize);
    let tmp = root.path().join("disk.vhd.new");
    std::fs::write(&tmp, &newer).unwrap();
    // A distinct modification time, so the ETag (mtime-length) differs.
    std::fs::File::options()
        .write(true)
        .open(&tmp)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + Duration::from_secs(10))
        .unwrap();
    std::fs::rename(&tmp, root.path().join("disk.vhd")).unwrap();
    let after = HttpSource::open(&server.url("/disk.vhd"), RemoteOptions::default()).unwrap();
    assert_ne!(after.etag(), before.etag());
    assert_eq!(
        after.read_vec(size - 10, 10).unwrap(),
        newer[size as usize - 10..]
    );
    let e = before.read_vec(size - 10, 10).unwrap_err();
    assert!(e.to_string().contains("modified during the lint"), "{e}");
    let changed = before.changed().expect("the change is reported");
    assert!(changed.contains("412"), "{changed}");
    // What was cached before the change still reads.
    assert_eq!(before.read_vec(0, 10).unwrap(), data[..10]);

    let log = server.error_log();
    assert!(!log.contains("[emerg]"), "{log}");
}
