//! The Berkeley DB and ndb readers against databases made at test time: packages built by
//! `rpmbuild` and installed by `rpm -i --justdb`, their header blobs written as a Berkeley DB
//! hash `Packages` by `db_load` (Berkeley DB's own loader) and as an ndb `Packages.db` by
//! `fixtures/mkndb.py`.
//!
//! Berkeley DB: every database is read by rpm itself (`rpm --define '_db_backend bdb_ro' -qa`,
//! rpm's own read-only reader of the format) and the reader must list exactly what rpm lists,
//! header numbers included: few and many packages, page sizes 512, 4096 and 65536 (headers of
//! tens of KiB spill to overflow chains at the small sizes), little- and big-endian databases
//! (`db_load -c db_lorder=4321`, as an s390x or ppc64 host writes them).
//!
//! ndb: no independent reader was at hand (Debian's rpm is built without ndb), so the
//! reader's answer on the written `Packages.db` is compared with what rpm lists from the SQLite
//! database holding the same header blobs.
//!
//! Without `rpm`, `rpmbuild`, `sqlite3`, `db_load` (Debian packages `rpm`, `sqlite3`,
//! `db5.3-util`) or `python3` every test says SKIP and passes, or fails under
//! `VHDLINT_REQUIRE_PREREQS=1`.

#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;
#[path = "../../vhdlint/tests/common/rpm_legacy.rs"]
mod rpm_legacy;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rpm_legacy::{have, install, rpm_qa, rpmbuild, spec, write_bdb, write_ndb, Row};
use vhdlint_guest::packages::rpmdb::RpmPackage;
use vhdlint_guest::packages::{rpmdb_bdb, rpmdb_ndb};

/// Packages of `many` besides those of `small`.
const MANY: usize = 150;

struct Fixture {
    dir: PathBuf,
    /// Header blobs: 3 packages (epochs, the host's arch, a header of tens of KiB).
    small: Vec<(u32, Vec<u8>)>,
    /// `small` and 150 more: many buckets.
    many: Vec<(u32, Vec<u8>)>,
    small_truth: Vec<Row>,
    many_truth: Vec<Row>,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn build() -> Fixture {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("rpmdb-legacy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut small = Vec::new();
    small.extend(rpmbuild(
        &dir,
        "a",
        &spec(
            "Name: tiny-a\nEpoch: 2\nVersion: 1.2.3\nRelease: 4.el8\nBuildArch: noarch",
            "%files\n",
        ),
    ));
    small.extend(rpmbuild(
        &dir,
        "b",
        &spec(
            "Name: tiny-b\nEpoch: 0\nVersion: 0.9~rc1\nRelease: 1.el7",
            "%files\n",
        ),
    ));
    small.extend(rpmbuild(
        &dir,
        "big",
        &spec(
            "Name: big-one\nVersion: 7\nRelease: 1\nBuildArch: noarch",
            "%install\nmkdir -p %{buildroot}/opt/big\nfor i in $(seq 1 600); do \
             echo $i > %{buildroot}/opt/big/a-file-with-a-long-name-to-grow-the-header-$i; \
             done\n%files\n/opt/big\n",
        ),
    ));
    let mut many_spec = spec("Name: many\nVersion: 1\nRelease: 1\nBuildArch: noarch", "");
    for i in 0..MANY {
        many_spec += &format!(
            "%package -n many-pkg-{i:03}\nVersion: {i}.0\nSummary: s\n\
             %description -n many-pkg-{i:03}\nd\n%files -n many-pkg-{i:03}\n\n"
        );
    }
    let many: Vec<PathBuf> = rpmbuild(&dir, "many", &many_spec)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("many-pkg-"))
        .collect();
    assert_eq!(many.len(), MANY);
    let small_db = dir.join("small-sqlite");
    let many_db = dir.join("many-sqlite");
    Fixture {
        small: install(&small_db, &small),
        many: install(&many_db, &[small, many].concat()),
        small_truth: rpm_qa(&small_db, "sqlite"),
        many_truth: rpm_qa(&many_db, "sqlite"),
        dir,
    }
}

fn fixture() -> Option<&'static Fixture> {
    static F: OnceLock<Option<Fixture>> = OnceLock::new();
    let f = F
        .get_or_init(|| {
            (have("rpm") && have("rpmbuild") && have("sqlite3") && have("python3")).then(build)
        })
        .as_ref();
    if f.is_none() {
        prereq::skip(
            "the rpm Berkeley DB and ndb tests",
            "rpm, rpmbuild, sqlite3 or python3 not installed (Debian packages rpm, sqlite3, python3)",
        );
    }
    f
}

fn rows(got: &[RpmPackage]) -> Vec<Row> {
    got.iter()
        .map(|p| {
            (
                p.hnum,
                p.name.clone(),
                p.epoch,
                p.version.clone(),
                p.release.clone(),
                p.arch.clone(),
            )
        })
        .collect()
}

#[test]
fn bdb_matches_rpm_bdb_ro_for_every_page_size_and_byte_order() {
    let Some(f) = fixture() else { return };
    if rpm_legacy::db_load().is_none() {
        prereq::skip(
            "the Berkeley DB databases",
            "db_load not installed (Debian package db5.3-util)",
        );
        return;
    }
    let mut compared = 0;
    for (set, blobs, truth) in [
        ("small", &f.small, &f.small_truth),
        ("many", &f.many, &f.many_truth),
    ] {
        for page_size in [512, 4096, 65536] {
            for big_endian in [false, true] {
                let name = format!("{set}-{page_size}-{}", if big_endian { "be" } else { "le" });
                let dbpath = f.dir.join(&name);
                std::fs::create_dir_all(&dbpath).unwrap();
                let file = dbpath.join("Packages");
                write_bdb(&file, blobs, page_size, big_endian);
                let bytes = std::fs::read(&file).unwrap();
                // The byte order and page size are those asked for.
                let magic = &bytes[12..16];
                assert_eq!(
                    magic,
                    if big_endian {
                        [0, 6, 0x15, 0x61]
                    } else {
                        [0x61, 0x15, 6, 0]
                    },
                    "{name}"
                );
                let rpm_says = rpm_qa(&dbpath, "bdb_ro");
                assert_eq!(
                    &rpm_says, truth,
                    "{name}: rpm's bdb_ro and its SQLite disagree"
                );
                let got =
                    rpmdb_bdb::read_packages(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(rows(&got), rpm_says, "{name}");
                compared += got.len();
            }
        }
    }
    // 6 databases of 3 and 6 of 153 packages.
    assert_eq!(compared, 6 * 3 + 6 * (3 + MANY));
}

#[test]
fn bdb_overflow_and_many_buckets_are_really_there() {
    let Some(f) = fixture() else { return };
    if rpm_legacy::db_load().is_none() {
        prereq::skip("the Berkeley DB databases", "db_load not installed");
        return;
    }
    let file = f.dir.join("shape").join("Packages");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    write_bdb(&file, &f.many, 512, false);
    let bytes = std::fs::read(&file).unwrap();
    let max_bucket = u32::from_le_bytes(bytes[72..76].try_into().unwrap());
    assert!(max_bucket >= 4, "max_bucket {max_bucket}");
    // Some bucket's chain runs over more than one page.
    let chained = bytes
        .chunks(512)
        .filter(|p| p[25] == 13 && p[16..20] != [0; 4])
        .count();
    assert!(chained > 0, "no hash page links to another");
    let overflow_pages = bytes.chunks(512).filter(|p| p[25] == 7).count();
    assert!(overflow_pages > 100, "{overflow_pages} overflow pages");
    let big = f.small.iter().map(|b| b.1.len()).max().unwrap();
    assert!(big > 20_000, "the big header has {big} bytes");
}

#[test]
fn bdb_damage_is_an_error_naming_the_page() {
    let Some(f) = fixture() else { return };
    if rpm_legacy::db_load().is_none() {
        prereq::skip("the Berkeley DB databases", "db_load not installed");
        return;
    }
    let file = f.dir.join("damage").join("Packages");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    write_bdb(&file, &f.small, 512, false);
    let good = std::fs::read(&file).unwrap();
    // Every overflow page's next link pointed at itself: a loop, found.
    for (no, page) in good.chunks(512).enumerate().filter(|(_, p)| p[25] == 7) {
        let mut bad = good.clone();
        let next = u32::from_le_bytes(page[16..20].try_into().unwrap());
        if next == 0 {
            continue;
        }
        bad[no * 512 + 16..no * 512 + 20].copy_from_slice(&(no as u32).to_le_bytes());
        let e = rpmdb_bdb::read_packages(&bad).unwrap_err().to_string();
        assert!(
            e.contains(&format!("page {no}, already visited: a loop")),
            "{e}"
        );
    }
    // Cut at every page boundary: never a panic, an error or a shorter list never.
    for pages in 0..good.len() / 512 {
        let r = rpmdb_bdb::read_packages(&good[..pages * 512]);
        assert!(r.is_err(), "{pages} pages: {r:?}");
    }
}

#[test]
fn ndb_written_from_rpm_headers_lists_what_rpm_lists() {
    let Some(f) = fixture() else { return };
    for (set, blobs, truth) in [
        ("small", &f.small, &f.small_truth),
        ("many", &f.many, &f.many_truth),
    ] {
        let file = f.dir.join(format!("{set}-Packages.db"));
        write_ndb(&repo(), &file, blobs);
        let bytes = std::fs::read(&file).unwrap();
        let got = rpmdb_ndb::read_packages(&bytes).unwrap_or_else(|e| panic!("{set}: {e}"));
        assert_eq!(&rows(&got), truth, "{set}");
    }
    // 153 packages fit the first slot page (254 slots); a second is tested in the unit tests.
    let bytes = std::fs::read(f.dir.join("many-Packages.db")).unwrap();
    assert_eq!(u32::from_le_bytes(bytes[12..16].try_into().unwrap()), 1);
}

#[test]
fn ndb_damage_is_an_error_naming_the_offset() {
    let Some(f) = fixture() else { return };
    let file = f.dir.join("damage-Packages.db");
    write_ndb(&repo(), &file, &f.small);
    let good = std::fs::read(&file).unwrap();
    // One flipped byte anywhere in a blob: its checksum or a field disagrees.
    for at in (4096..good.len()).step_by(97) {
        let mut bad = good.clone();
        bad[at] ^= 0x40;
        let e = rpmdb_ndb::read_packages(&bad).unwrap_err().to_string();
        assert!(e.starts_with("ndb Packages.db"), "{at}: {e}");
    }
    // Truncated.
    for len in [0, 31, 4096, good.len() - 16] {
        assert!(rpmdb_ndb::read_packages(&good[..len]).is_err(), "{len}");
    }
}
