//! Replays every seed (`fuzz/seeds/TARGET/*`) and every input that once crashed a target
//! (`fuzz/regressions/TARGET/*`) through the harnesses, under plain `cargo test`: CI guards
//! the fixed crashes without nightly or libFuzzer.
//!
//! Each input must finish without a panic, within a second of wall time (ten in a debug
//! build), a generous bound for inputs of at most a few MiB. Each runs on a thread of its own,
//! so an input that never ends fails the test at the bound rather than leaving CI stuck.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join(target);
    let mut v: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd.map(|e| e.expect("directory entry").path()).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn replay(kind: &str) -> usize {
    // Debug builds are ~10x slower than the fuzzers' release builds.
    let limit = Duration::from_secs(if cfg!(debug_assertions) { 10 } else { 1 });
    let mut n = 0;
    for (target, harness) in vhdlint_fuzz::TARGETS {
        for path in inputs(kind, target) {
            let data = std::fs::read(&path).expect("read input");
            // On a thread of its own, so that an input that never ends fails this test when
            // the limit is reached (the process ends with the test run, and the thread with it).
            let (done, finished) = mpsc::channel();
            std::thread::spawn(move || {
                let r = std::panic::catch_unwind(|| harness(&data));
                let _ = done.send(r.is_ok());
            });
            match finished.recv_timeout(limit) {
                Ok(ok) => assert!(ok, "{target}: {} panics", path.display()),
                Err(_) => panic!(
                    "{target}: {} did not finish within {limit:?}",
                    path.display()
                ),
            }
            n += 1;
        }
    }
    n
}

#[test]
fn every_target_has_a_harness_file_and_seeds() {
    for (target, _) in vhdlint_fuzz::TARGETS {
        let src = fuzz_dir().join("fuzz_targets").join(format!("{target}.rs"));
        let text =
            std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        assert!(
            text.contains(&format!("vhdlint_fuzz::{target}(data)")),
            "{} does not call vhdlint_fuzz::{target}",
            src.display()
        );
        assert!(
            !inputs("seeds", target).is_empty(),
            "{target} has no seed in fuzz/seeds/{target}"
        );
    }
    let files = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .expect("fuzz/fuzz_targets")
        .count();
    assert_eq!(
        files,
        vhdlint_fuzz::TARGETS.len(),
        "a fuzz target without a harness entry"
    );
}

#[test]
fn seeds_replay_cleanly() {
    assert!(replay("seeds") > vhdlint_fuzz::TARGETS.len());
}

#[test]
fn crash_regressions_replay_cleanly() {
    replay("regressions");
}

/// The seeds are worth starting from: each reaches deep into the parser it feeds (a seed the
/// parser rejects at once would leave the fuzzer to find the format by itself).
#[test]
fn seeds_reach_their_parsers() {
    use std::sync::Arc;
    use vhdlint_disk::{Container, MemSource, SharedSource};
    use vhdlint_fs::Filesystem;
    let src = |p: &Path| -> SharedSource { Arc::new(MemSource::new(std::fs::read(p).unwrap())) };
    let root_entries = |fs: &dyn Filesystem| fs.read_dir("/").map(|v| v.len()).unwrap_or(0);
    for p in inputs("seeds", "fs_ext4") {
        let opened = vhdlint_fs::ext4::Ext4Fs::open(src(&p), "ext4");
        let fs = opened.unwrap();
        let name = p.file_name().unwrap().to_string_lossy();
        if ["ext4-128-blockmap", "ext4-meta-bg", "ext4-needs-recovery"].contains(&name.as_ref()) {
            // Made from a reduced tree (see fuzz/seed.sh): read, without the fixture's files.
            assert!(fs.read_dir("/").is_ok(), "{}", p.display());
            continue;
        }
        assert!(root_entries(&fs) >= 5, "{}", p.display());
        assert!(
            fs.read("/etc/ssh/sshd_config", 1 << 20).is_ok(),
            "{}",
            p.display()
        );
    }
    for p in inputs("seeds", "exe_authenticode") {
        let a = vhdlint_guest::authenticode::read(&std::fs::read(&p).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let unsigned = p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .ends_with("-unsigned");
        assert_eq!(a.signatures.is_empty(), unsigned, "{}", p.display());
    }
    for p in inputs("seeds", "report_json") {
        let r: vhdlint_report::Report = serde_json::from_slice(&std::fs::read(&p).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(!r.images.is_empty(), "{}", p.display());
    }
    for p in inputs("seeds", "exe_version") {
        let v = vhdlint_guest::pe_version::version_info(&std::fs::read(&p).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(v.fixed.is_some() && v.strings.len() >= 5, "{}", p.display());
    }
    for p in inputs("seeds", "fs_xfs") {
        let fs = vhdlint_fs::xfs::XfsFs::open(src(&p)).unwrap();
        assert!(root_entries(&fs) >= 40, "{}", p.display());
        assert!(fs.read("/os-release", 1 << 20).is_ok(), "{}", p.display());
    }
    for p in inputs("seeds", "fs_fat") {
        let fs = vhdlint_fs::fat::FatFs::open(src(&p)).unwrap();
        let name = p.file_name().unwrap().to_string_lossy();
        if ["fat12", "fat16", "fat32"].contains(&name.as_ref()) {
            assert_eq!(fs.read_dir("/many").unwrap().len(), 40, "{}", p.display());
        } else {
            // The small volumes (fuzz/seed.sh's fat_small): a file of three clusters.
            let boot = fs.read("/EFI/BOOT/BOOTX64.EFI", 1 << 20);
            assert_eq!(boot.map(|b| b.len()).ok(), Some(1500), "{}", p.display());
        }
        assert!(
            fs.read("/efi/debian/a long name.EFI", 1 << 20).is_ok(),
            "{}",
            p.display()
        );
    }
    for p in inputs("seeds", "fs_btrfs") {
        let data = std::fs::read(&p).unwrap();
        let pieces = vhdlint_fuzz::btrfs_volume(&data);
        let mut vol = vec![0u8; vhdlint_fuzz::BTRFS_VOLUME_BYTES as usize];
        for (at, b) in pieces {
            vol[at as usize..at as usize + b.len()].copy_from_slice(&b);
        }
        let v: vhdlint_disk::SharedSource = std::sync::Arc::new(vhdlint_disk::MemSource::new(vol));
        let fs = vhdlint_fs::btrfs::BtrfsFs::open(v).unwrap();
        assert!(root_entries(&fs) >= 5, "{}", p.display());
        assert!(
            fs.read("/usr/lib/os-release", 1 << 20).is_ok(),
            "{}",
            p.display()
        );
        assert_eq!(
            fs.read_link("/etc/os-release").as_deref(),
            Ok("../usr/lib/os-release"),
            "{}",
            p.display()
        );
    }
    for p in inputs("seeds", "fs_ntfs") {
        let fs = vhdlint_fs::ntfs::NtfsFs::open(src(&p)).unwrap();
        assert!(fs.read("/State.ini", 1 << 20).is_ok(), "{}", p.display());
    }
    for p in inputs("seeds", "vhd_dynamic") {
        let c = Container::open(src(&p));
        assert!(c.dynamic.is_some(), "{}", p.display());
        assert!(c.virtual_disk().is_ok(), "{}", p.display());
    }
    for p in inputs("seeds", "lvm_pv") {
        let v = src(&p);
        let at = vhdlint_disk::lvm::find_label(v.as_ref()).expect("PV label");
        let pv = vhdlint_disk::lvm::read_pv(v.as_ref(), at);
        assert!(pv.metadata.is_some(), "{}: {:?}", p.display(), pv.findings);
    }
    for p in inputs("seeds", "lvm_metadata") {
        let t = std::fs::read_to_string(&p).unwrap();
        assert!(
            vhdlint_disk::lvm::volume_group(&t, 0).is_ok(),
            "{}",
            p.display()
        );
    }
    for p in inputs("seeds", "registry") {
        let h = vhdlint_guest::registry::Hive::parse(std::fs::read(&p).unwrap()).unwrap();
        assert!(h.root().is_ok(), "{}", p.display());
    }
    for p in inputs("seeds", "initramfs") {
        let i = vhdlint_guest::initramfs::list(&std::fs::read(&p).unwrap(), Default::default())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(i.members().len() >= 3, "{}", p.display());
    }
    for p in inputs("seeds", "rpmdb") {
        assert!(
            vhdlint_guest::packages::rpmdb::read_packages(&std::fs::read(&p).unwrap()).is_ok(),
            "{}",
            p.display()
        );
    }
    for p in inputs("seeds", "rpmdb_bdb") {
        let got = vhdlint_guest::packages::rpmdb_bdb::read_packages(&std::fs::read(&p).unwrap());
        assert_eq!(got.map(|v| v.len()), Ok(2), "{}", p.display());
    }
    for p in inputs("seeds", "rpmdb_ndb") {
        let got = vhdlint_guest::packages::rpmdb_ndb::read_packages(&std::fs::read(&p).unwrap());
        assert_eq!(got.map(|v| v.len()), Ok(2), "{}", p.display());
    }
}
