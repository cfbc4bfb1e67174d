//! `read_packages` against real `rpmdb.sqlite` files made at test time by Debian's `rpm`
//! (`rpmbuild -bb` of tiny specs, then `rpm -i --justdb`), checked against
//! `rpm -qa --qf '%{DBINSTANCE} %{NAME} %{EPOCH} %{VERSION} %{RELEASE} %{ARCH}'`.
//!
//! The databases cover payloads spilling to overflow chains (a package of 600 files has a
//! header of tens of KiB, far over a 4 KiB page) and a multi-level table b-tree (300 packages
//! of ~1.2 KiB headers). When the `sqlite3` shell is there too, the same rows are rewritten with
//! other page sizes (512, 65536), reserved bytes and UTF-16 text encodings.
//!
//! Without `rpm` and `rpmbuild` (Debian package `rpm`) every test says SKIP and passes, or
//! fails under `VHDLINT_REQUIRE_PREREQS=1`.

#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use proptest::prelude::*;
use vhdlint_guest::packages::rpmdb::{read_packages, RpmPackage, RpmdbError};

/// Packages of the `many` database besides the three of `small`.
const MANY: usize = 300;
/// Files of the `big` package.
const BIG_FILES: usize = 600;

struct Fixture {
    dir: PathBuf,
    /// 3 packages, one with a header spilling to overflow pages.
    small: Vec<u8>,
    /// `small` plus 300 packages: a table b-tree of more than one level.
    many: Vec<u8>,
    small_truth: Vec<RpmPackage>,
    many_truth: Vec<RpmPackage>,
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn rpm(dbpath: &Path) -> Command {
    let mut c = Command::new("rpm");
    c.arg("--dbpath")
        .arg(dbpath)
        .args(["--define", "_db_backend sqlite"]);
    c
}

fn rpmbuild(dir: &Path, spec_name: &str, spec: &str) -> Vec<PathBuf> {
    let spec_path = dir.join(spec_name);
    std::fs::write(&spec_path, spec).unwrap();
    let top = dir.join(format!("top-{spec_name}"));
    run(Command::new("rpmbuild")
        .arg("-bb")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .args(["--define", "_build_id_links none"])
        .args(["--define", "debug_package %{nil}"])
        .arg(&spec_path));
    let mut rpms = Vec::new();
    for arch in std::fs::read_dir(top.join("RPMS")).unwrap() {
        for f in std::fs::read_dir(arch.unwrap().path()).unwrap() {
            rpms.push(f.unwrap().path());
        }
    }
    rpms.sort();
    rpms
}

/// What `rpm -qa` says is in the database at `dbpath`, in hnum order.
fn truth(dbpath: &Path) -> Vec<RpmPackage> {
    let out = run(rpm(dbpath).args([
        "-qa",
        "--qf",
        "%{DBINSTANCE}\\t%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n",
    ]));
    let opt = |s: &str| (s != "(none)").then(|| s.to_string());
    let mut v: Vec<RpmPackage> = out
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 6, "{l}");
            RpmPackage {
                hnum: f[0].parse().unwrap(),
                name: f[1].into(),
                epoch: opt(f[2]).map(|e| e.parse().unwrap()),
                version: f[3].into(),
                release: f[4].into(),
                arch: opt(f[5]),
            }
        })
        .collect();
    v.sort_by_key(|p| p.hnum);
    v
}

fn install(dbpath: &Path, rpms: &[PathBuf]) -> Vec<u8> {
    std::fs::create_dir_all(dbpath).unwrap();
    run(rpm(dbpath).arg("--initdb"));
    run(rpm(dbpath)
        .args(["-i", "--justdb", "--nodeps", "--noscripts", "--ignorearch"])
        .args(rpms));
    // rpm checkpoints its write-ahead log on close: the main file holds every row.
    let wal = dbpath.join("rpmdb.sqlite-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "{} is not empty",
        wal.display()
    );
    std::fs::read(dbpath.join("rpmdb.sqlite")).unwrap()
}

fn spec(head: &str, body: &str) -> String {
    format!("{head}\nSummary: test\nLicense: MIT\n%description\ntest\n{body}")
}

fn build() -> Fixture {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("rpmdb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let mut small_rpms = Vec::new();
    small_rpms.extend(rpmbuild(
        &dir,
        "a.spec",
        &spec(
            "Name: tiny-a\nEpoch: 2\nVersion: 1.2.3\nRelease: 4.el9\nBuildArch: noarch",
            "%files\n",
        ),
    ));
    // No BuildArch: the host's architecture; an explicit epoch 0.
    small_rpms.extend(rpmbuild(
        &dir,
        "b.spec",
        &spec(
            "Name: tiny-b\nEpoch: 0\nVersion: 0.9~rc1+git\nRelease: 1.fc40",
            "%files\n",
        ),
    ));
    small_rpms.extend(rpmbuild(
        &dir,
        "big.spec",
        &spec(
            "Name: big-one\nVersion: 7\nRelease: 1\nBuildArch: noarch",
            &format!(
                "%install\nmkdir -p %{{buildroot}}/opt/big\nfor i in $(seq 1 {BIG_FILES}); do \
                 echo $i > %{{buildroot}}/opt/big/a-file-with-a-long-name-to-grow-the-header-$i; \
                 done\n%files\n/opt/big\n"
            ),
        ),
    ));
    let mut many_spec = spec("Name: many\nVersion: 1\nRelease: 1\nBuildArch: noarch", "");
    for i in 0..MANY {
        many_spec += &format!(
            "%package -n many-pkg-{i:03}\nVersion: {i}.0\nSummary: s\n\
             %description -n many-pkg-{i:03}\nd\n%files -n many-pkg-{i:03}\n\n"
        );
    }
    let many_rpms: Vec<PathBuf> = rpmbuild(&dir, "many.spec", &many_spec)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("many-pkg-"))
        .collect();
    assert_eq!(many_rpms.len(), MANY);

    let small_db = dir.join("small");
    let many_db = dir.join("many");
    let small = install(&small_db, &small_rpms);
    let many = install(&many_db, &[small_rpms.clone(), many_rpms].concat());
    Fixture {
        small_truth: truth(&small_db),
        many_truth: truth(&many_db),
        dir,
        small,
        many,
    }
}

/// The databases, built on first use; `None` without rpm, after `prereq::skip` has said so (or
/// failed the test, under `VHDLINT_REQUIRE_PREREQS=1`).
fn fixture() -> Option<&'static Fixture> {
    static F: OnceLock<Option<Fixture>> = OnceLock::new();
    let f = F
        .get_or_init(|| (have("rpm") && have("rpmbuild")).then(build))
        .as_ref();
    if f.is_none() {
        prereq::skip(
            "the rpmdb tests",
            "rpm or rpmbuild not installed (Debian package `rpm`)",
        );
    }
    f
}

/// Runs `sqlite3 db sql...` if the shell is installed; `false` (after `prereq::skip`) if not.
fn sqlite3(db: &Path, sql: &[&str]) -> bool {
    if !have("sqlite3") {
        prereq::skip(
            "the databases rewritten by SQLite",
            "sqlite3 not installed (Debian package `sqlite3`)",
        );
        return false;
    }
    run(Command::new("sqlite3").arg(db).args(sql));
    true
}

#[test]
fn rpmdb_small_db_matches_rpm() {
    let Some(f) = fixture() else { return };
    let got = read_packages(&f.small).unwrap();
    assert_eq!(got, f.small_truth);
    assert_eq!(got.len(), 3);
    let a = got.iter().find(|p| p.name == "tiny-a").unwrap();
    assert_eq!(a.epoch, Some(2));
    assert_eq!(a.evr(), "2:1.2.3-4.el9");
    assert_eq!(a.arch.as_deref(), Some("noarch"));
    let b = got.iter().find(|p| p.name == "tiny-b").unwrap();
    assert_eq!(b.epoch, Some(0));
    assert_eq!(b.evr(), "0:0.9~rc1+git-1.fc40");
    assert_ne!(b.arch.as_deref(), Some("noarch"));
    let big = got.iter().find(|p| p.name == "big-one").unwrap();
    assert_eq!((big.epoch, big.evr().as_str()), (None, "7-1"));
    assert_eq!(big.to_string(), "big-one-7-1.noarch");
}

#[test]
fn rpmdb_big_header_spills_to_overflow_pages() {
    let Some(f) = fixture() else { return };
    // 600 file names alone are over 25 KiB of header, far over what a 4 KiB page holds
    // locally: the row can only be read through its overflow chain.
    let page_size = u16::from_be_bytes([f.small[16], f.small[17]]);
    assert_eq!(page_size, 4096);
    let files = run(rpm(&f.dir.join("small")).args(["-ql", "big-one"]));
    assert_eq!(files.lines().count(), BIG_FILES + 1);
    let got = read_packages(&f.small).unwrap();
    assert!(got.iter().any(|p| p.name == "big-one"));
    if have("sqlite3") {
        let max = run(Command::new("sqlite3")
            .arg(f.dir.join("small/rpmdb.sqlite"))
            .arg("SELECT max(length(blob)) FROM Packages"));
        assert!(max.trim().parse::<usize>().unwrap() > 16384, "{max}");
    }
}

#[test]
fn rpmdb_many_packages_multi_level_btree_matches_rpm() {
    let Some(f) = fixture() else { return };
    let got = read_packages(&f.many).unwrap();
    assert_eq!(got.len(), MANY + 3);
    assert_eq!(got, f.many_truth);
    // Rows come in hnum order.
    assert!(got.windows(2).all(|w| w[0].hnum < w[1].hnum));
    let p = got.iter().find(|p| p.name == "many-pkg-123").unwrap();
    assert_eq!(p.evr(), "123.0-1");
    // 300 headers of over 1 KiB cannot share one 4 KiB leaf: the root is an interior page.
    let min = f.many_truth.len() * 1024 / 4096;
    assert!(f.many.len() / 4096 > min);
    if have("sqlite3") {
        let root = run(Command::new("sqlite3")
            .arg(f.dir.join("many/rpmdb.sqlite"))
            .arg("SELECT rootpage FROM sqlite_schema WHERE name = 'Packages'"));
        let root: usize = root.trim().parse().unwrap();
        let hdr = if root == 1 { 100 } else { 0 };
        assert_eq!(f.many[(root - 1) * 4096 + hdr], 0x05, "interior table page");
    }
}

/// The same rows rewritten by SQLite with other page sizes, reserved bytes and encodings.
#[test]
fn rpmdb_other_page_sizes_reserved_bytes_and_encodings() {
    let Some(f) = fixture() else { return };
    let src = f.dir.join("many/rpmdb.sqlite");
    let variants: &[(&str, &[&str])] = &[
        (
            "p512",
            &[
                "PRAGMA journal_mode=DELETE;",
                "PRAGMA page_size=512;",
                "VACUUM;",
            ],
        ),
        (
            "p65536r40",
            &[
                "PRAGMA journal_mode=DELETE;",
                "PRAGMA page_size=65536;",
                "VACUUM;",
                ".filectrl reserve_bytes 40",
                "VACUUM;",
            ],
        ),
        (
            "p1024r200",
            &[
                "PRAGMA journal_mode=DELETE;",
                "PRAGMA page_size=1024;",
                "VACUUM;",
                ".filectrl reserve_bytes 200",
                "VACUUM;",
            ],
        ),
    ];
    for (name, sql) in variants {
        let db = f.dir.join(format!("{name}.sqlite"));
        std::fs::copy(&src, &db).unwrap();
        if !sqlite3(&db, sql) {
            return;
        }
        let bytes = std::fs::read(&db).unwrap();
        assert_eq!(read_packages(&bytes).unwrap(), f.many_truth, "{name}");
    }
    // The rows copied as SQL literals (an attached database must share the encoding).
    let inserts = run(Command::new("sqlite3").arg(&src).arg(
        "SELECT 'INSERT INTO Packages VALUES(' || hnum || ',X''' || hex(blob) || ''');' \
         FROM Packages ORDER BY hnum",
    ));
    let sql = f.dir.join("inserts.sql");
    std::fs::write(&sql, inserts).unwrap();
    let read = format!(".read {}", sql.display());
    for enc in ["UTF-16le", "UTF-16be"] {
        let db = f.dir.join(format!("{enc}.sqlite"));
        let _ = std::fs::remove_file(&db);
        let pragma = format!("PRAGMA encoding='{enc}';");
        sqlite3(
            &db,
            &[
                &pragma,
                "PRAGMA page_size=1024;",
                "CREATE TABLE t(x);",
                "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, \
                 blob BLOB NOT NULL);",
                "BEGIN;",
                &read,
                "COMMIT;",
            ],
        );
        let bytes = std::fs::read(&db).unwrap();
        let want = if enc == "UTF-16le" { 2 } else { 3 };
        assert_eq!(u32::from_be_bytes(bytes[56..60].try_into().unwrap()), want);
        assert_eq!(read_packages(&bytes).unwrap(), f.many_truth, "{enc}");
    }
}

#[test]
fn rpmdb_bad_inputs_are_errors() {
    assert!(matches!(read_packages(b""), Err(RpmdbError::NotSqlite(_))));
    assert!(matches!(
        read_packages(&[0u8; 4096]),
        Err(RpmdbError::NotSqlite(_))
    ));
    let Some(f) = fixture() else { return };
    for db in [&f.small, &f.many] {
        let mut wrong = db.clone();
        wrong[0] = b's';
        assert!(matches!(
            read_packages(&wrong),
            Err(RpmdbError::NotSqlite(_))
        ));
        for len in [
            0,
            15,
            99,
            100,
            4096,
            db.len() / 2,
            db.len() - 4096,
            db.len() - 1,
        ] {
            let e = read_packages(&db[..len]).unwrap_err();
            assert!(!e.to_string().is_empty(), "{len}");
        }
        let mut bad_size = db.clone();
        bad_size[16..18].copy_from_slice(&1000u16.to_be_bytes());
        let e = read_packages(&bad_size).unwrap_err();
        assert!(e.to_string().contains("page 1, offset 16"), "{e}");
    }
}

/// Every interior table page of `many` made to point to itself: the walk must stop.
#[test]
fn rpmdb_btree_cycle_is_an_error() {
    let Some(f) = fixture() else { return };
    let mut db = f.many.clone();
    let ps = 4096;
    let mut n = 0;
    for (i, page) in db.chunks_mut(ps).enumerate() {
        let hdr = if i == 0 { 100 } else { 0 };
        if page[hdr] == 0x05 {
            let no = i as u32 + 1;
            page[hdr + 8..hdr + 12].copy_from_slice(&no.to_be_bytes());
            n += 1;
        }
    }
    assert!(n > 0, "no interior table page");
    let e = read_packages(&db).unwrap_err();
    assert!(e.to_string().contains("reached twice"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The cases of `rpmdb_mutated_dbs_never_panic`.
    fn rpmdb_mutated_dbs_cases(
        many in any::<bool>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..40),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let f = fixture().expect("the databases, checked by the test");
        let mut db = if many { f.many.clone() } else { f.small.clone() };
        for (at, v) in &edits {
            let i = at.index(db.len());
            db[i] = *v;
        }
        if truncate {
            db.truncate(cut.index(db.len()));
        }
        let _ = read_packages(&db);
    }

    /// The cases of `rpmdb_mutated_structures_never_panic`.
    fn rpmdb_mutated_structures_cases(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..64, any::<u8>()), 1..20),
    ) {
        let f = fixture().expect("the databases, checked by the test");
        let mut db = f.many.clone();
        let pages = db.len() / 4096;
        for (page, off, v) in &edits {
            let p = page.index(pages);
            let base = p * 4096 + if p == 0 { 100 } else { 0 };
            db[base + off] = *v;
        }
        let _ = read_packages(&db);
    }
}

/// Random byte changes to real databases: any result but a panic (or a hang).
#[test]
fn rpmdb_mutated_dbs_never_panic() {
    if fixture().is_none() {
        return;
    }
    rpmdb_mutated_dbs_cases();
}

/// Changes targeted at the structures: page headers, cell pointers, the first bytes of cells,
/// the database header.
#[test]
fn rpmdb_mutated_structures_never_panic() {
    if fixture().is_none() {
        return;
    }
    rpmdb_mutated_structures_cases();
}
