//! `Ext4Fs` against ext2/3/4 images made at test time by the real `mke2fs -d` from a generated
//! tree, over a matrix of feature sets: every image's full walk (names, kinds, sizes, modes,
//! owners, symlink targets, file contents) must equal the tree it was made from, its htree
//! directory must be one `debugfs` calls indexed, and `e2fsck -fn` must call the image clean.
//! Journal replay is checked against `e2fsck -fy` on a copy: transactions written by
//! `debugfs`'s `journal_write` (committed, revoked, uncommitted), and a filesystem copied
//! while mounted (needs root and a loop device).
//!
//! Without `mke2fs`, `debugfs` and `e2fsck` every test says SKIP and passes, or fails under
//! `VHDLINT_REQUIRE_PREREQS=1`.

mod common;
#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;
use common::*;

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use vhdlint_disk::{FileSource, SharedSource};
use vhdlint_fs::ext4::Ext4Fs;
use vhdlint_fs::{FileKind, Filesystem};

const BIG_LEN: usize = (3 << 20) / 2 + 77;
/// Entries of the directory that `e2fsck -D` turns into an htree.
const MANY: usize = 3000;

fn have_tools(test: &str) -> bool {
    for t in ["mke2fs", "debugfs", "e2fsck"] {
        if find_tool(t).is_none() {
            prereq::skip(test, &format!("{t} not found (e2fsprogs)"));
            return false;
        }
    }
    true
}

fn run(c: &mut Command) -> String {
    let out = c.output().unwrap_or_else(|e| panic!("run {c:?}: {e}"));
    assert!(
        out.status.success(),
        "{c:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn debugfs(img: &Path, req: &str) -> String {
    let out = Command::new(find_tool("debugfs").unwrap())
        .args(["-R", req])
        .arg(img)
        .output()
        .expect("run debugfs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("ext4-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The source tree every image is made from (built once).
fn tree() -> &'static Path {
    static TREE: OnceLock<PathBuf> = OnceLock::new();
    TREE.get_or_init(|| {
        let root = scratch("tree").join("root");
        let w = |p: &str, data: &[u8]| {
            let p = root.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, data).unwrap();
        };
        for (i, n) in [0usize, 1, 59, 60, 61, 100, 4095, 4096, 4097, 65536, BIG_LEN]
            .into_iter()
            .enumerate()
        {
            w(&format!("sizes/f{n}"), &noise(n, i as u64 + 1));
        }
        // A sparse file: holes before, between and after data.
        {
            let p = root.join("sizes/sparse");
            let f = std::fs::File::create(&p).unwrap();
            use std::os::unix::fs::FileExt;
            f.write_all_at(&noise(5000, 9), 300_000).unwrap();
            f.write_all_at(&noise(10, 10), 2_000_000).unwrap();
            f.set_len(3_000_000).unwrap();
        }
        let mut deep = String::from("deep");
        for i in 0..24 {
            deep.push_str(&format!("/level{i}"));
        }
        w(&format!("{deep}/leaf.txt"), b"at the bottom\n");
        for i in 0..MANY {
            w(&format!("many/entry-{i:05}-{}", "x".repeat(i % 40)), &[]);
        }
        w("etc/hostname", b"vm\n");
        w("etc/fstab", b"UUID=1 / ext4 defaults 0 1\n");
        w("odd/sp ace", b"1");
        w("odd/\u{fc}n\u{ef}c\u{f6}d\u{e9}", b"2");
        w("odd/new\nline", b"3");
        w(&"n".repeat(255), b"long name");
        {
            let bad = root
                .join("odd")
                .join(std::ffi::OsStr::from_bytes(b"latin1-\xe9"));
            std::fs::write(bad, b"4").unwrap();
        }
        std::fs::create_dir_all(root.join("empty")).unwrap();
        let links = root.join("links");
        std::fs::create_dir_all(&links).unwrap();
        for (name, target) in [
            ("short", "etc/hostname".to_string()),
            ("len59", "a".repeat(59)),
            ("len60", "b".repeat(60)),
            ("long", format!("/{}", "c/".repeat(150))),
            ("dangling", "/nowhere/at/all".to_string()),
            ("dir", "../deep".to_string()),
        ] {
            std::os::unix::fs::symlink(target, links.join(name)).unwrap();
        }
        std::fs::hard_link(root.join("etc/hostname"), root.join("links/hard")).unwrap();
        let modes = root.join("modes");
        std::fs::create_dir_all(&modes).unwrap();
        for (name, mode) in [("setuid", 0o4755), ("private", 0o600), ("sticky", 0o1777)] {
            let p = modes.join(name);
            std::fs::write(&p, name).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let fifo = root.join("modes/fifo");
        let _ = Command::new("mkfifo").arg(&fifo).status();
        root
    })
}

/// What a walk sees of one path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir {
        mode: u32,
        uid: u32,
        gid: u32,
    },
    File {
        mode: u32,
        uid: u32,
        gid: u32,
        len: u64,
        hash: u64,
    },
    Link {
        target: String,
    },
    Other,
}

fn hash(b: &[u8]) -> u64 {
    // FNV-1a: enough to tell contents apart.
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &c| {
        (h ^ u64::from(c)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The host tree's view.
fn walk_host(root: &Path) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let name = String::from_utf8_lossy(e.file_name().as_bytes()).into_owned();
            let p = format!("{rel}/{name}");
            if name.contains('\u{fffd}') {
                out.insert(p, Node::Other);
                continue;
            }
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            let (mode, uid, gid) = (m.mode() & 0o7777, m.uid(), m.gid());
            let node = if m.is_dir() {
                stack.push((e.path(), p.clone()));
                Node::Dir { mode, uid, gid }
            } else if m.is_file() {
                let d = std::fs::read(e.path()).unwrap();
                Node::File {
                    mode,
                    uid,
                    gid,
                    len: d.len() as u64,
                    hash: hash(&d),
                }
            } else if m.file_type().is_symlink() {
                let t = std::fs::read_link(e.path()).unwrap();
                Node::Link {
                    target: String::from_utf8_lossy(t.as_os_str().as_bytes()).into_owned(),
                }
            } else {
                Node::Other
            };
            out.insert(p, node);
        }
    }
    out
}

/// The reader's view, every entry's kind checked against its metadata.
fn walk_fs(fs: &dyn Filesystem) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    let mut stack = vec![String::new()];
    while let Some(dir) = stack.pop() {
        let path = if dir.is_empty() { "/" } else { &dir };
        for e in fs
            .read_dir(path)
            .unwrap_or_else(|e| panic!("read_dir {path}: {e}"))
        {
            let p = format!("{dir}/{}", e.name);
            if e.name.contains('\u{fffd}') {
                // A name that is not UTF-8 is listed (lossily) but cannot be looked up.
                out.insert(p, Node::Other);
                continue;
            }
            let m = fs
                .symlink_metadata(&p)
                .unwrap_or_else(|e| panic!("stat {p}: {e}"));
            assert_eq!(m.kind, e.kind, "{p}: the entry's kind and the inode's");
            let (mode, uid, gid) = (m.mode, m.uid, m.gid);
            let node = match m.kind {
                FileKind::Dir => {
                    stack.push(p.clone());
                    Node::Dir { mode, uid, gid }
                }
                FileKind::File => {
                    let d = fs
                        .read(&p, u64::MAX)
                        .unwrap_or_else(|e| panic!("read {p}: {e}"));
                    assert_eq!(d.len() as u64, m.len, "{p}: bytes read and size");
                    let part = fs.read(&p, 100).unwrap();
                    assert_eq!(part[..], d[..d.len().min(100)], "{p}: a bounded read");
                    Node::File {
                        mode,
                        uid,
                        gid,
                        len: m.len,
                        hash: hash(&d),
                    }
                }
                FileKind::Symlink => {
                    let target = fs
                        .read_link(&p)
                        .unwrap_or_else(|e| panic!("readlink {p}: {e}"));
                    assert_eq!(target.len() as u64, m.len, "{p}: target and size");
                    Node::Link { target }
                }
                FileKind::Other => Node::Other,
            };
            out.insert(p, node);
        }
    }
    out
}

fn open(img: &Path) -> Ext4Fs {
    let src: SharedSource = Arc::new(FileSource::open(img).unwrap());
    Ext4Fs::open(src, "ext4").unwrap_or_else(|e| panic!("open {}: {e}", img.display()))
}

/// Makes an image of the tree with `mke2fs ARGS -d`, indexes its directories with
/// `e2fsck -fyD`, and checks that e2fsck then calls it clean.
fn make(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let img = dir.join(format!("{name}.img"));
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(96 << 20).unwrap();
    drop(f);
    run(Command::new(find_tool("mke2fs").unwrap())
        .env("MKE2FS_CONFIG", "/etc/mke2fs.conf")
        .env("E2FSPROGS_FAKE_TIME", "1700000000")
        .args(["-F", "-q"])
        .args(args)
        .arg("-d")
        .arg(tree())
        .arg(&img));
    let _ = Command::new(find_tool("e2fsck").unwrap())
        .args(["-fyD"])
        .arg(&img)
        .output();
    run(Command::new(find_tool("e2fsck").unwrap())
        .args(["-fn"])
        .arg(&img));
    img
}

/// Builds each image of `family`, and compares the reader's walk with the tree.
fn family(test: &str, images: &[(&str, &[&str])]) {
    if !have_tools(test) {
        return;
    }
    let want = walk_host(tree());
    let dir = scratch(test);
    for &(name, args) in images {
        let img = make(&dir, name, args);
        let fs = open(&img);
        let got = walk_fs(&fs);
        let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
        let extra: Vec<_> = got
            .keys()
            .filter(|k| !want.contains_key(*k) && *k != "/lost+found")
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name}: missing {missing:?}, extra {extra:?}"
        );
        for (p, w) in &want {
            if &got[p] != w && matches!(w, Node::File { .. }) {
                // mke2fs may store a file other than it is on the host (its inline_data copy
                // of a sparse file): then the reader must read what debugfs dumps.
                let out = dir.join("dumped");
                debugfs(&img, &format!("dump {p} {}", out.display()));
                let d = std::fs::read(&out).unwrap();
                let Node::File { len, hash: h, .. } = got[p] else {
                    panic!("{name}: {p}")
                };
                assert_eq!(
                    (len, h),
                    (d.len() as u64, hash(&d)),
                    "{name}: {p}: neither the source nor debugfs"
                );
                eprintln!("{name}: {p}: mke2fs stored it differently from the source; read as debugfs dumps it");
                continue;
            }
            assert_eq!(&got[p], w, "{name}: {p}");
        }
        // The big directory: an htree (as debugfs says), read in full.
        let stat = debugfs(&img, "stat /many");
        assert!(
            stat.contains("Flags: 0x1000")
                || stat.contains("Flags: 0x81000")
                || stat.contains("Flags: 0x11000")
                || stat.contains("Flags: 0x91000"),
            "{name}: /many is not indexed: {stat}"
        );
        assert_eq!(fs.read_dir("/many").unwrap().len(), MANY, "{name}");
        assert!(fs.notes().is_empty(), "{name}: {:?}", fs.notes());
        eprintln!("{name}: {} paths match", got.len());
        let _ = std::fs::remove_file(&img);
    }
}

#[test]
fn ext4_ext2_and_ext3() {
    family(
        "ext2-ext3",
        &[
            ("ext2", &["-t", "ext2"]),
            (
                "ext2-128-nofiletype",
                &["-t", "ext2", "-I", "128", "-O", "^filetype"],
            ),
            ("ext3", &["-t", "ext3"]),
            ("ext3-1k", &["-t", "ext3", "-b", "1024"]),
        ],
    );
}

#[test]
fn ext4_inodes_and_entries() {
    family(
        "inodes",
        &[
            ("ext4", &["-t", "ext4"]),
            ("i128", &["-t", "ext4", "-I", "128"]),
            ("nofiletype", &["-t", "ext4", "-O", "^filetype"]),
            ("i1024", &["-t", "ext4", "-I", "1024"]),
            ("inline", &["-t", "ext4", "-O", "inline_data"]),
            (
                "inline-i128-nofiletype",
                &["-t", "ext4", "-O", "inline_data,^filetype", "-I", "512"],
            ),
            ("ea-inode", &["-t", "ext4", "-O", "ea_inode,large_dir"]),
        ],
    );
}

#[test]
fn ext4_layouts() {
    family(
        "layouts",
        &[
            ("32bit", &["-t", "ext4", "-O", "^64bit"]),
            ("meta-bg", &["-t", "ext4", "-O", "meta_bg,^resize_inode"]),
            ("no-flex-bg", &["-t", "ext4", "-O", "^flex_bg"]),
            ("mmp", &["-t", "ext4", "-O", "mmp"]),
            ("sparse-super2", &["-t", "ext4", "-O", "sparse_super2"]),
            ("bigalloc", &["-t", "ext4", "-O", "bigalloc", "-C", "16384"]),
            (
                "1k-meta-bg",
                &["-t", "ext4", "-b", "1024", "-O", "meta_bg,^resize_inode"],
            ),
            ("2k", &["-t", "ext4", "-b", "2048"]),
        ],
    );
}

#[test]
fn ext4_block_maps() {
    family(
        "maps",
        &[
            ("no-extent", &["-t", "ext4", "-O", "^extent,^64bit"]),
            ("no-csum", &["-t", "ext4", "-O", "^metadata_csum"]),
            (
                "no-extent-1k",
                &[
                    "-t",
                    "ext4",
                    "-b",
                    "1024",
                    "-O",
                    "^extent,^64bit,^metadata_csum",
                ],
            ),
            ("huge-file", &["-t", "ext4", "-O", "huge_file,^dir_nlink"]),
        ],
    );
}

/// `read_range` of every file under /sizes (extents, block maps, inline data, clusters,
/// holes) against the bytes `debugfs -R 'cat …'` gives, over ranges at the edges and at
/// random.
#[test]
fn ext4_read_range_reads_what_debugfs_cats() {
    if !have_tools("ext4_read_range_reads_what_debugfs_cats") {
        return;
    }
    let dir = scratch("read-range");
    let images: [(&str, &[&str]); 5] = [
        ("ext4", &["-t", "ext4"]),
        (
            "no-extent-1k",
            &["-t", "ext4", "-b", "1024", "-O", "^extent,^64bit"],
        ),
        ("inline", &["-t", "ext4", "-O", "inline_data"]),
        ("bigalloc", &["-t", "ext4", "-O", "bigalloc", "-C", "16384"]),
        ("ext2", &["-t", "ext2"]),
    ];
    for (i, (name, args)) in images.into_iter().enumerate() {
        let img = make(&dir, name, args);
        let fs = open(&img);
        let mut files = 0;
        for e in std::fs::read_dir(tree().join("sizes")).unwrap() {
            let p = format!("/sizes/{}", e.unwrap().file_name().to_string_lossy());
            let out = Command::new(find_tool("debugfs").unwrap())
                .args(["-R", &format!("cat {p}")])
                .arg(&img)
                .output()
                .expect("run debugfs");
            assert!(out.status.success(), "{name}: debugfs cat {p}");
            let mut want = out.stdout;
            // debugfs cats an inline file's whole 60-byte i_block, past its size.
            let size = fs.symlink_metadata(&p).unwrap().len;
            assert!(
                want.len() as u64 == size || (name == "inline" && want.len() as u64 > size),
                "{name}: {p}: debugfs cat gives {} bytes, the size is {size}",
                want.len()
            );
            want.truncate(size as usize);
            check_ranges(&fs, &p, &want, i as u64 * 1000 + want.len() as u64);
            files += 1;
        }
        assert!(files >= 12, "{name}: {files} files");
        // Not a regular file: the errors `read` gives.
        let mut b = [0u8; 4];
        assert!(matches!(
            fs.read_range("/sizes", 0, &mut b),
            Err(vhdlint_fs::FsError::IsADirectory(_))
        ));
        assert!(matches!(
            fs.read_range("/sizes/none", 0, &mut b),
            Err(vhdlint_fs::FsError::NotFound(_))
        ));
        let _ = std::fs::remove_file(&img);
    }
}

/// An fs block of file `path` (its first), from debugfs's `bmap`.
fn bmap(img: &Path, path: &str, lblk: u64) -> u64 {
    let out = debugfs(img, &format!("bmap {path} {lblk}"));
    out.trim()
        .parse()
        .unwrap_or_else(|_| panic!("bmap {path}: {out}"))
}

/// The paths whose views differ, at most a few.
fn diff(a: &BTreeMap<String, Node>, b: &BTreeMap<String, Node>) -> Vec<String> {
    let keys: std::collections::BTreeSet<_> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .take(10)
        .map(|k| format!("{k}: {:?} / {:?}", a.get(k), b.get(k)))
        .collect()
}

fn copy(from: &Path, to: &Path) {
    run(Command::new("cp").arg("--sparse=always").arg(from).arg(to));
}

/// The view `e2fsck -fy` leaves on a copy of `img` (recovery included).
fn recovered(img: &Path) -> (PathBuf, BTreeMap<String, Node>) {
    let fixed = img.with_extension("fixed");
    copy(img, &fixed);
    let out = Command::new(find_tool("e2fsck").unwrap())
        .arg("-fy")
        .arg(&fixed)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "e2fsck -fy: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let fs = open(&fixed);
    assert!(fs.notes().is_empty(), "recovered copy still needs recovery");
    (fixed.clone(), walk_fs(&fs))
}

#[test]
fn ext4_journal_transactions_written_by_debugfs_are_replayed_as_e2fsck_replays_them() {
    if !have_tools("journal_write") {
        return;
    }
    let dir = scratch("journal-debugfs");
    // Journal formats: csum v3 with 64-bit tags (ext4's default), plain 32-bit tags, ext3.
    // With v1 commit checksums (`jo -c` without metadata_csum), debugfs's revoke-only
    // transaction fails its checksum: e2fsck stops there ("transaction 2 was corrupt"), and
    // so must the reader.
    for (name, args, open_args, transactions) in [
        ("v3", &["-t", "ext4"][..], "jo", 3),
        (
            "plain",
            &["-t", "ext4", "-O", "^metadata_csum,^64bit"][..],
            "jo",
            3,
        ),
        (
            "v1-checksum",
            &["-t", "ext4", "-O", "^metadata_csum"][..],
            "jo -c",
            1,
        ),
        ("ext3", &["-t", "ext3"][..], "jo", 3),
    ] {
        let img = make(&dir, name, args);
        let before = walk_fs(&open(&img));
        let b1 = bmap(&img, "/sizes/f4096", 0);
        let b2 = bmap(&img, "/sizes/f4097", 0);
        let b3 = bmap(&img, "/etc/hostname", 0);
        let bs = open(&img).superblock().block_size as usize;
        let data = |tag: u8| {
            let mut d = vec![tag; bs];
            // A block beginning with the jbd2 magic is logged escaped.
            if tag == b'B' {
                d[..4].copy_from_slice(&0xc03b_3998u32.to_be_bytes());
            }
            d
        };
        let fa = dir.join("a.bin");
        let fb = dir.join("b.bin");
        let fc = dir.join("c.bin");
        let two: Vec<u8> = [data(b'A'), data(b'B')].concat();
        std::fs::write(&fa, &two).unwrap();
        std::fs::write(&fb, data(b'C')).unwrap();
        std::fs::write(&fc, data(b'Z')).unwrap();
        // T1 writes b1 and b2; T2 revokes b2 (T1's copy of b2 is not replayed); T3 writes b3;
        // T4 is not committed (never replayed).
        let script = dir.join("script");
        std::fs::write(
            &script,
            format!(
                "{open_args}\njw -b {b1},{b2} {}\njw -r {b2} {}\njw -b {b3} {}\njw -b {b1} -c {}\njc\n",
                fa.display(),
                fb.display(),
                fb.display(),
                fc.display()
            ),
        )
        .unwrap();
        run(Command::new(find_tool("debugfs").unwrap())
            .arg("-w")
            .arg("-f")
            .arg(&script)
            .arg(&img));
        let dump = run(Command::new(
            find_tool("dumpe2fs").unwrap_or_else(|| PathBuf::from("dumpe2fs")),
        )
        .arg("-h")
        .arg(&img));
        assert!(dump.contains("needs_recovery"), "{name}: {dump}");
        let fs = open(&img);
        let note = fs.notes().join("; ");
        let said = format!(
            "journal replayed in memory: {transactions} transaction{}",
            if transactions == 1 { "," } else { "s," }
        );
        assert!(note.contains(&said), "{name}: {note}");
        let got = walk_fs(&fs);
        let (_, truth) = recovered(&img);
        assert!(
            got == truth,
            "{name}: replayed view and e2fsck's: {:?}",
            diff(&got, &truth)
        );
        assert_ne!(got, before, "{name}: the replay changed nothing");
        if transactions == 1 {
            eprintln!("{name}: {note}");
            continue;
        }
        let first = |p: &str| fs.read(p, bs as u64).unwrap();
        assert!(first("/sizes/f4096") == data(b'A'), "{name}: T1's block");
        let source = std::fs::read(tree().join("sizes/f4097")).unwrap();
        assert!(
            first("/sizes/f4097") == source[..bs],
            "{name}: T1's block revoked by T2"
        );
        assert_eq!(first("/etc/hostname"), vec![b'C'; 3], "{name}: T3's block");
        eprintln!("{name}: {note}");
    }
}

#[test]
fn ext4_journal_of_a_filesystem_copied_while_mounted_is_replayed() {
    let test = "mounted copy";
    if !have_tools(test) {
        return;
    }
    if find_tool("losetup").is_none() || find_tool("mount").is_none() {
        prereq::skip(test, "losetup or mount not found");
        return;
    }
    if unsafe_free_euid() != 0 {
        prereq::skip(test, "needs root for a loop mount");
        return;
    }
    let dir = scratch("journal-mounted");
    let img = dir.join("live.img");
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(64 << 20).unwrap();
    drop(f);
    run(Command::new(find_tool("mke2fs").unwrap())
        .args(["-F", "-q", "-t", "ext4"])
        .arg(&img));
    let mnt = dir.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let m = Command::new(find_tool("mount").unwrap())
        .args(["-o", "loop,commit=600"])
        .arg(&img)
        .arg(&mnt)
        .output()
        .unwrap();
    if !m.status.success() {
        prereq::skip(
            test,
            &format!("loop mount failed: {}", String::from_utf8_lossy(&m.stderr)),
        );
        return;
    }
    let copy_at = dir.join("copy.img");
    let written = (|| {
        std::fs::create_dir_all(mnt.join("new/dir"))?;
        for i in 0..50 {
            std::fs::write(
                mnt.join(format!("new/dir/file{i}")),
                noise(i * 1000, i as u64 + 3),
            )?;
        }
        std::os::unix::fs::symlink("dir/file7", mnt.join("new/link"))?;
        std::fs::write(mnt.join("new/inline"), b"small")?;
        std::fs::remove_dir_all(mnt.join("lost+found"))?;
        run(&mut Command::new("sync"));
        copy(&img, &copy_at);
        Ok::<_, std::io::Error>(())
    })();
    let _ = Command::new(find_tool("umount").unwrap_or_else(|| PathBuf::from("umount")))
        .arg(&mnt)
        .status();
    written.unwrap();
    let dump = run(Command::new(find_tool("dumpe2fs").unwrap())
        .arg("-h")
        .arg(&copy_at));
    assert!(
        dump.contains("needs_recovery"),
        "the copy does not need recovery: {dump}"
    );
    let unreplayed = debugfs(&copy_at, "ls -l /new/dir");
    let fs = open(&copy_at);
    let note = fs.notes().join("; ");
    assert!(note.contains("journal replayed in memory"), "{note}");
    let got = walk_fs(&fs);
    let (fixed, mut truth) = recovered(&copy_at);
    // e2fsck makes the lost+found that was removed; nothing else may differ.
    truth.remove("/lost+found");
    assert!(
        got == truth,
        "replayed view and e2fsck's: {:?}",
        diff(&got, &truth)
    );
    assert!(got.contains_key("/new/dir/file49") && !got.contains_key("/lost+found"));
    for i in 0..50 {
        assert_eq!(
            fs.read(&format!("/new/dir/file{i}"), u64::MAX).unwrap(),
            noise(i * 1000, i as u64 + 3)
        );
    }
    assert_eq!(fs.read_link("/new/link").unwrap(), "dir/file7");
    // debugfs on the recovered copy lists what the reader lists.
    let ls = debugfs(&fixed, "ls /new/dir");
    for i in 0..50 {
        assert!(
            ls.contains(&format!("file{i} ")) || ls.contains(&format!("file{i}\n")),
            "{ls}"
        );
    }
    eprintln!(
        "{note}; before recovery debugfs listed /new/dir as: {}",
        unreplayed.lines().count()
    );
}

/// The effective user id, from /proc (no unsafe call).
fn unsafe_free_euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(u32::MAX)
}

/// The byte offset of the inode of `path`, from debugfs's `imap`.
fn inode_offset(img: &Path, path: &str, bs: u64) -> u64 {
    let out = debugfs(img, &format!("imap {path}"));
    let at = out.split("located at block ").nth(1).expect("imap output");
    let (block, rest) = at.split_once(", offset ").expect("imap offset");
    let off = u64::from_str_radix(rest.trim().trim_start_matches("0x"), 16).unwrap();
    block.trim().parse::<u64>().unwrap() * bs + off
}

fn poke_at(img: &Path, at: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().write(true).open(img).unwrap();
    f.write_all_at(bytes, at).unwrap();
}

#[test]
fn ext4_bounds_are_reported_by_name_and_damage_is_never_followed() {
    if !have_tools("bounds") {
        return;
    }
    let dir = scratch("bounds");
    let img = dir.join("small.img");
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(8 << 20).unwrap();
    drop(f);
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("d")).unwrap();
    std::fs::write(src.join("d/file"), noise(50_000, 5)).unwrap();
    std::os::unix::fs::symlink("x".repeat(300), src.join("link")).unwrap();
    run(Command::new(find_tool("mke2fs").unwrap())
        .args([
            "-F",
            "-q",
            "-t",
            "ext4",
            "-b",
            "1024",
            "-O",
            "^metadata_csum",
            "-d",
        ])
        .arg(&src)
        .arg(&img));
    let bs = open(&img).superblock().block_size;
    let case = |name: &str,
                path: &str,
                at: u64,
                bytes: &[u8],
                want: &str,
                op: &dyn Fn(&Ext4Fs) -> String| {
        let copy_at = dir.join(format!("{name}.img"));
        copy(&img, &copy_at);
        poke_at(&copy_at, at, bytes);
        let fs = open(&copy_at);
        let e = op(&fs);
        assert!(e.contains(want), "{name} ({path}): {e}");
    };
    let file = inode_offset(&img, "/d/file", bs);
    let d = inode_offset(&img, "/d", bs);
    let link = inode_offset(&img, "/link", bs);
    // i_block starts at 0x28: the extent header's depth is at +6.
    case(
        "extent-depth",
        "/d/file",
        file + 0x28 + 6,
        &6u16.to_le_bytes(),
        "MAX_EXT4_EXTENT_DEPTH",
        &|fs| fs.read("/d/file", u64::MAX).unwrap_err().to_string(),
    );
    // A directory of 4 GiB (i_size_lo) is over MAX_EXT4_DIR_BYTES.
    case(
        "dir-bytes",
        "/d",
        d + 4,
        &u32::MAX.to_le_bytes(),
        "MAX_EXT4_DIR_BYTES",
        &|fs| fs.read_dir("/d").unwrap_err().to_string(),
    );
    // A symlink of 5000 bytes is over MAX_EXT4_SYMLINK_LEN.
    case(
        "symlink-len",
        "/link",
        link + 4,
        &5000u32.to_le_bytes(),
        "MAX_EXT4_SYMLINK_LEN",
        &|fs| fs.read_link("/link").unwrap_err().to_string(),
    );
    // An extent pointing past the end of the filesystem is damage, named with its inode.
    case(
        "extent-outside",
        "/d/file",
        file + 0x28 + 12 + 8,
        &u32::MAX.to_le_bytes(),
        "lies outside the filesystem",
        &|fs| fs.read("/d/file", u64::MAX).unwrap_err().to_string(),
    );
    // A file that declares exabytes is read up to what the caller asks.
    case(
        "huge-size",
        "/d/file",
        file + 0x6c,
        &u32::MAX.to_le_bytes(),
        "",
        &|fs| {
            assert_eq!(fs.read("/d/file", 1000).unwrap().len(), 1000);
            String::new()
        },
    );
}

/// Lookups in a large indexed directory by a reader that has listed nothing yet (each name
/// looked up as the checks look names up, the directory's listing kept after the first) give
/// what `debugfs -R 'ls -l'` lists for every entry, twice (the second time from what the
/// reader kept); names that are not there are not found, before and after.
#[test]
fn ext4_lookups_in_a_large_directory_match_debugfs() {
    if !have_tools("ext4_lookups_in_a_large_directory_match_debugfs") {
        return;
    }
    let dir = scratch("lookups");
    for (name, args) in [
        ("4k", &["-t", "ext4"][..]),
        ("1k", &["-t", "ext4", "-b", "1024"][..]),
    ] {
        let img = make(&dir, name, args);
        // inode, mode (octal), (type), uid, gid, size, date, time, name.
        let listed: Vec<(String, u32, u32, u32, u64)> = debugfs(&img, "ls -l /many")
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let n = f.get(8)?.to_string();
                (n != "." && n != "..").then(|| {
                    let num = |i: usize| f[i].parse::<u64>().unwrap();
                    let mode = u32::from_str_radix(f[1], 8).unwrap();
                    (n, mode, num(3) as u32, num(4) as u32, num(5))
                })
            })
            .collect();
        assert_eq!(
            listed.len(),
            MANY,
            "{name}: debugfs listed {}",
            listed.len()
        );
        let fs = open(&img);
        for round in 0..2 {
            for miss in ["/many/entry-99999-", "/many/entry-00001-x/sub", "/many/zz"] {
                assert!(fs.symlink_metadata(miss).is_err(), "{name}: {miss} found");
            }
            // Backwards, so that the first lookups are of names late in the directory.
            for (n, mode, uid, gid, size) in listed.iter().rev() {
                let p = format!("/many/{n}");
                let m = fs
                    .symlink_metadata(&p)
                    .unwrap_or_else(|e| panic!("{name} round {round}: {p}: {e}"));
                assert_eq!(
                    (m.kind, m.mode, m.uid, m.gid, m.len),
                    (FileKind::File, mode & 0o7777, *uid, *gid, *size),
                    "{name} round {round}: {p}"
                );
            }
        }
        let _ = std::fs::remove_file(&img);
    }
}

/// The seed of the index hashes of the images made by `ext4_htree_lookups_match_debugfs`.
const SEED: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

fn seed_words() -> [u32; 4] {
    let hex: String = SEED.chars().filter(|c| *c != '-').collect();
    let b: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap())
        .collect();
    std::array::from_fn(|i| u32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().unwrap()))
}

/// Every hash of the index (legacy, half-MD4, TEA; signed and unsigned chars) gives what
/// `debugfs -R 'dx_hash'` gives, for names of every length class and with high-bit bytes;
/// and lookups through the index of large directories (1 KiB blocks: two levels of index
/// nodes; names that share a hash) find what `debugfs -R 'ls -l'` lists, and nothing for
/// names that are not there.
#[test]
fn ext4_htree_lookups_match_debugfs() {
    use vhdlint_fs::ext4::htree::{name_hash, Hash};
    if !have_tools("ext4_htree_lookups_match_debugfs") {
        return;
    }
    let names = [
        "a".to_string(),
        "hello".into(),
        "libc.so.6".into(),
        "x".repeat(15),
        "y".repeat(16),
        "z".repeat(17),
        "w".repeat(31),
        "v".repeat(32),
        "u".repeat(33),
        "n".repeat(255),
        "h\u{e9}llo-\u{fc}\u{df}".into(),
    ];
    // debugfs takes the hash by number (0–2 signed, 3–5 unsigned: its names of the
    // unsigned ones are not recognised).
    for (alg, version, unsigned) in [
        ("0", 0, false),
        ("1", 1, false),
        ("2", 2, false),
        ("3", 0, true),
        ("4", 1, true),
        ("5", 2, true),
    ] {
        let h = Hash::of(version, unsigned).unwrap();
        for n in &names {
            let out = run(Command::new(find_tool("debugfs").unwrap())
                .args(["-R", &format!("dx_hash -h {alg} -s {SEED} {n}")]));
            let want = out
                .split("is 0x")
                .nth(1)
                .and_then(|r| {
                    let end = r.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(r.len());
                    u32::from_str_radix(&r[..end], 16).ok()
                })
                .unwrap_or_else(|| panic!("debugfs dx_hash: {out}"));
            assert_eq!(name_hash(h, seed_words(), n.as_bytes()), want, "{alg} {n}");
        }
    }

    // Names that share a half-MD4 hash under the seed, found among many.
    let h = Hash::of(1, false).unwrap();
    let mut by_hash = std::collections::HashMap::new();
    let mut shared = Vec::new();
    for i in 0..400_000u32 {
        let n = format!("c{i:x}");
        if let Some(other) = by_hash.insert(name_hash(h, seed_words(), n.as_bytes()), n.clone()) {
            shared.push(other);
            shared.push(n);
        }
    }
    assert!(shared.len() >= 4, "{} names share a hash", shared.len());
    let root = scratch("htree").join("root");
    let dir = root.join("big");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..6000 {
        std::fs::write(dir.join(format!("file-{i:05}-{}", "q".repeat(i % 60))), []).unwrap();
    }
    for n in &shared {
        std::fs::write(dir.join(n), []).unwrap();
    }
    let img = root.parent().unwrap().join("htree.img");
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(64 << 20).unwrap();
    drop(f);
    run(Command::new(find_tool("mke2fs").unwrap())
        .env("MKE2FS_CONFIG", "/etc/mke2fs.conf")
        .args(["-F", "-q", "-t", "ext4", "-b", "1024", "-E"])
        .arg(format!("hash_seed={SEED}"))
        .arg("-d")
        .arg(&root)
        .arg(&img));
    let _ = Command::new(find_tool("e2fsck").unwrap())
        .args(["-fyD"])
        .arg(&img)
        .output();
    run(Command::new(find_tool("e2fsck").unwrap())
        .args(["-fn"])
        .arg(&img));
    let htree = debugfs(&img, "htree /big");
    assert!(
        htree.contains("Indirect levels: 1") || htree.contains("Indirect levels: 2"),
        "not a multi-level index: {}",
        &htree[..htree.len().min(400)]
    );
    let listed: Vec<(String, u32)> = debugfs(&img, "ls -l /big")
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let n = f.get(8)?.to_string();
            (n != "." && n != "..").then(|| (n, f[0].parse().unwrap()))
        })
        .collect();
    assert_eq!(listed.len(), 6000 + shared.len());
    let fs = open(&img);
    let mut by_index = 0;
    for (n, ino) in &listed {
        match fs.lookup_by_index("/big", n).unwrap() {
            Some(found) => {
                assert_eq!(found, Some(*ino), "{n}");
                by_index += 1;
            }
            // Only a name whose hash goes on past its block is left to a scan.
            None => assert!(shared.contains(n), "{n}: the index could not answer"),
        }
        assert_eq!(
            fs.symlink_metadata(&format!("/big/{n}")).unwrap().kind,
            FileKind::File
        );
    }
    assert!(by_index >= 6000, "{by_index} found through the index");
    for n in ["file-99999-", "c", "zzz", &"n".repeat(255)] {
        assert_ne!(fs.lookup_by_index("/big", n).unwrap(), Some(Some(0)));
        assert!(
            !matches!(fs.lookup_by_index("/big", n).unwrap(), Some(Some(_))),
            "{n}"
        );
        assert!(fs.symlink_metadata(&format!("/big/{n}")).is_err(), "{n}");
    }
    let _ = std::fs::remove_file(&img);
}
