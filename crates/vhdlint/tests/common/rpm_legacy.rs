//! rpm databases of the older forms, made at test time with real tools: packages built by
//! `rpmbuild`, installed by `rpm -i --justdb` into an SQLite database, whose header blobs are
//! then written as a Berkeley DB hash `Packages` by `db_load` (Debian's `db5.3-util`, in
//! either byte order and any page size) or as an ndb `Packages.db` by `fixtures/mkndb.py`.
//! What rpm itself reads from a `Packages` is `rpm --define '_db_backend bdb_ro' -qa`.
//! Shared by path (`#[path = ".../vhdlint/tests/common/rpm_legacy.rs"] mod rpm_legacy;`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One package as rpm reports it: header number, name, epoch, version, release, arch
/// (`None` for rpm's `(none)`).
pub type Row = (i64, String, Option<u32>, String, String, Option<String>);

pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `db_load` under either of its Debian names.
pub fn db_load() -> Option<&'static str> {
    ["db_load", "db5.3_load"].into_iter().find(|t| {
        Command::new(t)
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A spec file of one package (`head`: Name, Version…), `body`: %install/%files.
pub fn spec(head: &str, body: &str) -> String {
    format!("{head}\nSummary: test\nLicense: MIT\n%description\ntest\n{body}")
}

/// Builds `spec` in `dir`; the binary packages made.
pub fn rpmbuild(dir: &Path, name: &str, spec: &str) -> Vec<PathBuf> {
    let spec_path = dir.join(format!("{name}.spec"));
    std::fs::write(&spec_path, spec).unwrap();
    let top = dir.join(format!("top-{name}"));
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

/// Installs `rpms` (`--justdb`) into a new SQLite database in `dbpath`; its header blobs
/// by header number, as `sqlite3` reads them.
pub fn install(dbpath: &Path, rpms: &[PathBuf]) -> Vec<(u32, Vec<u8>)> {
    std::fs::create_dir_all(dbpath).unwrap();
    let rpm = |c: &mut Command| {
        c.arg("--dbpath")
            .arg(dbpath)
            .args(["--define", "_db_backend sqlite"]);
    };
    let mut c = Command::new("rpm");
    rpm(&mut c);
    run(c.arg("--initdb"));
    let mut c = Command::new("rpm");
    rpm(&mut c);
    run(c
        .args(["-i", "--justdb", "--nodeps", "--noscripts", "--ignorearch"])
        .args(rpms));
    let out = run(Command::new("sqlite3")
        .arg(dbpath.join("rpmdb.sqlite"))
        .arg("select hnum, hex(blob) from Packages order by hnum"));
    out.lines()
        .map(|l| {
            let (h, hex) = l.split_once('|').unwrap();
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            (h.parse().unwrap(), bytes)
        })
        .collect()
}

/// Writes `blobs` as rpm's Berkeley DB hash `Packages` at `out` with `db_load`: keys the
/// header numbers in the database's byte order, key 0 the counter rpm keeps there.
pub fn write_bdb(out: &Path, blobs: &[(u32, Vec<u8>)], page_size: u32, big_endian: bool) {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let key = |n: u32| {
        if big_endian {
            hex(&n.to_be_bytes())
        } else {
            hex(&n.to_le_bytes())
        }
    };
    let mut dump =
        format!("VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize={page_size}\nHEADER=END\n");
    let next = blobs.iter().map(|b| b.0).max().unwrap_or(0) + 1;
    dump += &format!(" {}\n {}\n", key(0), key(next));
    for (n, blob) in blobs {
        dump += &format!(" {}\n {}\n", key(*n), hex(blob));
    }
    dump += "DATA=END\n";
    let dump_path = out.with_extension("dump");
    std::fs::write(&dump_path, dump).unwrap();
    let _ = std::fs::remove_file(out);
    run(Command::new(db_load().expect("db_load"))
        .arg("-c")
        .arg(format!(
            "db_lorder={}",
            if big_endian { 4321 } else { 1234 }
        ))
        .arg("-f")
        .arg(&dump_path)
        .arg(out));
}

/// Writes `blobs` as rpm's ndb `Packages.db` at `out` with `fixtures/mkndb.py`.
pub fn write_ndb(repo: &Path, out: &Path, blobs: &[(u32, Vec<u8>)]) {
    let input: String = blobs
        .iter()
        .map(|(n, b)| {
            format!(
                "{n}|{}\n",
                b.iter().map(|x| format!("{x:02X}")).collect::<String>()
            )
        })
        .collect();
    let input_path = out.with_extension("blobs");
    std::fs::write(&input_path, input).unwrap();
    run(Command::new("python3")
        .arg(repo.join("fixtures/mkndb.py"))
        .arg(out)
        .stdin(std::fs::File::open(&input_path).unwrap()));
}

/// What `rpm -qa` lists from the database in `dbpath` with `backend` (`sqlite`, `bdb_ro`), by
/// header number.
pub fn rpm_qa(dbpath: &Path, backend: &str) -> Vec<Row> {
    let out = run(Command::new("rpm")
        .arg("--dbpath")
        .arg(dbpath)
        .arg("--define")
        .arg(format!("_db_backend {backend}"))
        .args([
            "-qa",
            "--qf",
            "%{DBINSTANCE}\\t%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n",
        ]));
    let opt = |s: &str| (s != "(none)").then(|| s.to_string());
    let mut v: Vec<Row> = out
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 6, "{l}");
            (
                f[0].parse().unwrap(),
                f[1].into(),
                opt(f[2]).map(|e| e.parse().unwrap()),
                f[3].into(),
                f[4].into(),
                opt(f[5]),
            )
        })
        .collect();
    v.sort_by_key(|r| r.0);
    v
}

const MIB: u64 = 1 << 20;

/// An MBR disk of 64 MiB with one ext4 partition at 1 MiB made from `tree`, as a fixed VHD.
pub fn ext4_vhd(dir: &Path, tree: &Path) -> PathBuf {
    let part = dir.join("part.img");
    let raw = dir.join("disk.raw");
    let vhd = dir.join("disk.vhd");
    for f in [&part, &raw, &vhd] {
        let _ = std::fs::remove_file(f);
    }
    run(Command::new("truncate")
        .arg("-s")
        .arg((63 * MIB).to_string())
        .arg(&part));
    run(Command::new("mke2fs")
        .env("E2FSPROGS_FAKE_TIME", "1700000000")
        .args([
            "-F",
            "-q",
            "-t",
            "ext4",
            "-b",
            "4096",
            "-E",
            "root_owner=0:0",
            "-d",
        ])
        .arg(tree)
        .arg(&part));
    run(Command::new("truncate")
        .arg("-s")
        .arg((64 * MIB).to_string())
        .arg(&raw));
    let mut sfdisk = Command::new("sfdisk")
        .args(["--quiet", "--no-reread", "--no-tell-kernel"])
        .arg(&raw)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    sfdisk
        .stdin
        .take()
        .unwrap()
        .write_all(b"start=2048, type=83\n")
        .unwrap();
    assert!(sfdisk.wait().unwrap().success());
    run(Command::new("dd")
        .arg(format!("if={}", part.display()))
        .arg(format!("of={}", raw.display()))
        .args(["bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"]));
    run(Command::new("qemu-img")
        .args([
            "convert",
            "-f",
            "raw",
            "-O",
            "vpc",
            "-o",
            "subformat=fixed,force_size",
        ])
        .arg(&raw)
        .arg(&vhd));
    vhd
}
