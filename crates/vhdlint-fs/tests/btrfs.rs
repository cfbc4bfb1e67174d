//! `BtrfsFs` against btrfs images the kernel writes at test time: `mkfs.btrfs`, a loop mount
//! (uncompressed, and with `compress=zlib`, `compress=lzo`, `compress=zstd`), SUSE's
//! subvolume layout (`@`, `@/home`, `@/var`, `@/.snapshots`, `@` the default), files of many
//! shapes written through the mount. The mounted tree is walked while it is mounted and is
//! the truth vhdlint's walk must match: names, kinds, sizes, symlink targets and contents.
//!
//! Needs root, `mkfs.btrfs`, `btrfs` and loop mounts; without them every test says SKIP and
//! passes, or fails under `VHDLINT_REQUIRE_PREREQS=1`.

mod common;
#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;
use common::*;

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use vhdlint_disk::{FileSource, ReadAt, SharedSource};
use vhdlint_fs::btrfs::{BtrfsFs, Subvolume};
use vhdlint_fs::{FileKind, Filesystem, FsError};

const IMG_BYTES: u64 = 300 << 20;
/// Entries of the large directory.
const BIG_DIR: usize = 3000;

/// Why the images cannot be built here, if they cannot.
fn missing() -> Option<String> {
    for t in ["mkfs.btrfs", "btrfs", "mount", "umount"] {
        if find_tool(t).is_none() {
            return Some(format!("{t} not found (install btrfs-progs)"));
        }
    }
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("loop mounts need root".into());
    }
    None
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(find_tool(cmd).unwrap_or_else(|| cmd.into()))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tmp_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("btrfs-{}", std::process::id()));
    std::fs::create_dir_all(&base).unwrap();
    base
}

/// What a walk saw at one path: kind, size, and the symlink target or a hash of the contents.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    kind: FileKind,
    len: u64,
    data: String,
}

fn hash(b: &[u8]) -> String {
    let mut h = DefaultHasher::new();
    b.hash(&mut h);
    format!("{:016x}/{}", h.finish(), b.len())
}

/// The mounted tree under `dir`, as the kernel shows it.
fn walk_host(dir: &Path, rel: &str, out: &mut BTreeMap<String, Seen>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        let p = format!("{rel}/{name}");
        let m = std::fs::symlink_metadata(e.path()).unwrap();
        let ft = m.file_type();
        let seen = if ft.is_symlink() {
            let t = std::fs::read_link(e.path()).unwrap();
            Seen {
                kind: FileKind::Symlink,
                len: m.len(),
                data: t.into_os_string().into_string().unwrap(),
            }
        } else if ft.is_dir() {
            walk_host(&e.path(), &p, out);
            Seen {
                kind: FileKind::Dir,
                len: 0,
                data: String::new(),
            }
        } else if ft.is_file() {
            Seen {
                kind: FileKind::File,
                len: m.len(),
                data: hash(&std::fs::read(e.path()).unwrap()),
            }
        } else {
            Seen {
                kind: FileKind::Other,
                len: 0,
                data: String::new(),
            }
        };
        out.insert(p, seen);
    }
}

/// The same tree as vhdlint reads it.
fn walk_fs(fs: &dyn Filesystem, dir: &str, out: &mut BTreeMap<String, Seen>) {
    let list = fs
        .read_dir(if dir.is_empty() { "/" } else { dir })
        .unwrap_or_else(|e| panic!("read_dir {dir}: {e}"));
    for e in list {
        let p = format!("{dir}/{}", e.name);
        let m = fs
            .symlink_metadata(&p)
            .unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(m.kind, e.kind, "{p}: the entry's kind and the inode's");
        let seen = match m.kind {
            FileKind::Symlink => Seen {
                kind: m.kind,
                len: m.len,
                data: fs.read_link(&p).unwrap_or_else(|e| panic!("{p}: {e}")),
            },
            FileKind::Dir => {
                walk_fs(fs, &p, out);
                Seen {
                    kind: m.kind,
                    len: 0,
                    data: String::new(),
                }
            }
            FileKind::File => Seen {
                kind: m.kind,
                len: m.len,
                data: hash(&fs.read(&p, u64::MAX).unwrap_or_else(|e| panic!("{p}: {e}"))),
            },
            FileKind::Other => Seen {
                kind: m.kind,
                len: 0,
                data: String::new(),
            },
        };
        out.insert(p, seen);
    }
}

/// Files of every shape the reader must handle, written under `dir` through the mount.
fn populate(dir: &Path, seed: u64, big: usize) {
    let w = |p: &str, b: &[u8]| {
        let p = dir.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b).unwrap();
    };
    w("empty", b"");
    w("small", b"inline data, a few bytes\n");
    w("etc/hostname", b"localhost\n");
    w("four-k", &noise(4096, seed));
    let text: Vec<u8> = (0..(1 << 20))
        .map(|i| b"the quick brown fox jumps over the lazy dog\n"[i % 44])
        .collect();
    w("text-1m", &text);
    w("noise-1m", &noise(1 << 20, seed + 1));
    w("odd", &noise(200_001, seed + 2));
    // Sparse: data, a hole, data, and a hole up to the size.
    let mut f = std::fs::File::create(dir.join("sparse")).unwrap();
    f.write_all(&noise(10_000, seed + 3)).unwrap();
    f.seek(SeekFrom::Start(5 << 20)).unwrap();
    f.write_all(b"after the hole").unwrap();
    f.set_len(9 << 20).unwrap();
    drop(f);
    // Preallocated: unwritten extents read as zeros, then one block written in the middle.
    let p = dir.join("falloc");
    run("fallocate", &["-l", "1M", p.to_str().unwrap()]);
    let mut f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.seek(SeekFrom::Start(300_000)).unwrap();
    f.write_all(&noise(4096, seed + 4)).unwrap();
    drop(f);
    std::os::unix::fs::symlink("small", dir.join("link-rel")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", dir.join("etc/link-abs")).unwrap();
    std::os::unix::fs::symlink("x".repeat(1500), dir.join("link-long")).unwrap();
    std::fs::hard_link(dir.join("small"), dir.join("etc/hard")).unwrap();
    std::fs::create_dir_all(dir.join("big")).unwrap();
    for i in 0..big {
        std::fs::write(
            dir.join(format!("big/file_with_a_long_name_{i}")),
            i.to_string(),
        )
        .unwrap();
    }
}

/// One image, built once per test binary: its file, and the walks of the mounted tree (the
/// default subvolume `@`, `@/home` mounted by `subvol=`, and the top level).
struct Image {
    path: PathBuf,
    root: BTreeMap<String, Seen>,
    home: BTreeMap<String, Seen>,
    top: BTreeMap<String, Seen>,
}

/// Builds the image with the kernel mounting it with `compress` (`""`: none).
fn build(compress: &str) -> Image {
    let t = Instant::now();
    let dir = tmp_dir().join(if compress.is_empty() {
        "none"
    } else {
        compress
    });
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("fs.img");
    let mnt = dir.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(IMG_BYTES).unwrap();
    drop(f);
    run(
        "mkfs.btrfs",
        &["-q", "-L", "testroot", img.to_str().unwrap()],
    );
    let mut opts = "loop".to_string();
    if !compress.is_empty() {
        opts.push_str(&format!(",compress={compress}"));
    }
    let m = mnt.to_str().unwrap();
    run("mount", &["-o", &opts, img.to_str().unwrap(), m]);
    let walked = std::panic::catch_unwind(|| {
        let sub = |p: &str| run("btrfs", &["-q", "subvolume", "create", &format!("{m}/{p}")]);
        sub("@");
        for s in ["@/home", "@/var", "@/.snapshots", "@/opt"] {
            sub(s);
        }
        run("btrfs", &["subvolume", "set-default", &format!("{m}/@")]);
        populate(&mnt.join("@"), 1, BIG_DIR);
        populate(&mnt.join("@/home/user"), 2, 20);
        std::fs::write(mnt.join("@/var/log.txt"), noise(70_000, 3)).unwrap();
        std::fs::write(mnt.join("top-level-file"), b"only at the top level\n").unwrap();
        run("sync", &[]);
        let mut root = BTreeMap::new();
        walk_host(&mnt.join("@"), "", &mut root);
        let mut home = BTreeMap::new();
        walk_host(&mnt.join("@/home"), "", &mut home);
        let mut top = BTreeMap::new();
        walk_host(&mnt, "", &mut top);
        (root, home, top)
    });
    run("umount", &[m]);
    eprintln!("{compress}: image built in {:?}", t.elapsed());
    let (root, home, top) = walked.unwrap_or_else(|p| std::panic::resume_unwind(p));
    Image {
        path: img,
        root,
        home,
        top,
    }
}

fn image(compress: &'static str) -> Option<&'static Image> {
    static IMAGES: OnceLock<Mutex<BTreeMap<&'static str, &'static Image>>> = OnceLock::new();
    if let Some(why) = missing() {
        prereq::skip("btrfs images", &why);
        return None;
    }
    let mut m = IMAGES.get_or_init(Default::default).lock().unwrap();
    Some(
        m.entry(compress)
            .or_insert_with(|| Box::leak(Box::new(build(compress)))),
    )
}

fn source(p: &Path) -> SharedSource {
    Arc::new(FileSource::open(p).unwrap())
}

fn compare(want: &BTreeMap<String, Seen>, got: &BTreeMap<String, Seen>, what: &str) {
    for (p, w) in want {
        assert_eq!(got.get(p), Some(w), "{what}: {p}");
    }
    for p in got.keys() {
        assert!(
            want.contains_key(p),
            "{what}: {p} is not in the mounted tree"
        );
    }
}

fn check_walks(compress: &'static str) {
    let Some(img) = image(compress) else { return };
    let t = Instant::now();
    // The default subvolume (@), as the kernel mounts it without subvol=.
    let fs = BtrfsFs::open(source(&img.path)).unwrap();
    assert_eq!(fs.notice(), None);
    assert_ne!(
        fs.subvolume(),
        5,
        "the default subvolume is @, not the top level"
    );
    let mut got = BTreeMap::new();
    walk_fs(&fs, "", &mut got);
    compare(&img.root, &got, &format!("{compress}: default subvolume"));
    assert!(got.len() > BIG_DIR, "{} paths", got.len());
    // The nested subvolume shows as a directory, its files inside.
    assert_eq!(
        fs.symlink_metadata("/home/user/small").unwrap().len,
        b"inline data, a few bytes\n".len() as u64
    );
    // subvol=/@/home, as fstab mounts /home.
    let home = BtrfsFs::open_subvolume(source(&img.path), Subvolume::Path("/@/home")).unwrap();
    let mut got = BTreeMap::new();
    walk_fs(&home, "", &mut got);
    compare(&img.home, &got, &format!("{compress}: subvol=/@/home"));
    // The same subvolume by the other spellings of its path, and by its id (subvolid=).
    for p in ["@/home", "/@/home/", "//@/./home"] {
        let other = BtrfsFs::open_subvolume(source(&img.path), Subvolume::Path(p)).unwrap();
        assert_eq!(other.subvolume(), home.subvolume(), "subvol={p}");
    }
    let by_id =
        BtrfsFs::open_subvolume(source(&img.path), Subvolume::Id(home.subvolume())).unwrap();
    assert_eq!(by_id.read_dir("/"), home.read_dir("/"));
    assert_eq!(
        by_id.read("/user/noise-1m", u64::MAX),
        home.read("/user/noise-1m", u64::MAX)
    );
    // subvolid=5: the top level, with @ and its nested subvolumes as directories (walked
    // whole once, uncompressed; the other images share its trees' code).
    let top = BtrfsFs::open_subvolume(source(&img.path), Subvolume::Id(5)).unwrap();
    if compress.is_empty() {
        let mut got = BTreeMap::new();
        walk_fs(&top, "", &mut got);
        compare(&img.top, &got, &format!("{compress}: subvolid=5"));
    } else {
        let mut got = BTreeMap::new();
        walk_fs(&top, "/@/var", &mut got);
        let want = img
            .top
            .iter()
            .filter(|(p, _)| p.starts_with("/@/var/"))
            .map(|(p, s)| (p.clone(), s.clone()))
            .collect();
        compare(&want, &got, &format!("{compress}: subvolid=5, /@/var"));
        assert_eq!(
            top.read("/top-level-file", 100).unwrap(),
            b"only at the top level\n"
        );
    }
    // Ranges of files of every shape (inline, one block, compressed, a hole) read what the
    // whole read gives, which the walk compared with the kernel's.
    for (i, p) in [
        "/small",
        "/four-k",
        "/text-1m",
        "/noise-1m",
        "/sparse",
        "/empty",
    ]
    .into_iter()
    .enumerate()
    {
        let whole = fs.read(p, u64::MAX).unwrap_or_else(|e| panic!("{p}: {e}"));
        check_ranges(&fs, p, &whole, i as u64 + 17);
    }
    // Reads stop at max.
    assert_eq!(fs.read("/text-1m", 10).unwrap(), b"the quick ");
    assert_eq!(fs.read("/sparse", 0).unwrap(), b"");
    eprintln!("{compress}: walks took {:?}", t.elapsed());
}

#[test]
fn walk_matches_the_kernel_uncompressed() {
    check_walks("");
}

#[test]
fn walk_matches_the_kernel_zlib() {
    check_walks("zlib");
}

#[test]
fn walk_matches_the_kernel_lzo() {
    check_walks("lzo");
}

#[test]
fn walk_matches_the_kernel_zstd() {
    check_walks("zstd");
}

#[test]
fn errors_name_the_path_and_kind() {
    let Some(img) = image("zstd") else { return };
    let fs = BtrfsFs::open(source(&img.path)).unwrap();
    assert_eq!(
        fs.symlink_metadata("/nope"),
        Err(FsError::NotFound("/nope".into()))
    );
    assert_eq!(
        fs.symlink_metadata("/small/x"),
        Err(FsError::NotADirectory("/small".into()))
    );
    assert_eq!(
        fs.read_dir("/small"),
        Err(FsError::NotADirectory("/small".into()))
    );
    assert_eq!(
        fs.read("/etc", 10),
        Err(FsError::IsADirectory("/etc".into()))
    );
    assert_eq!(
        fs.read_link("/small"),
        Err(FsError::NotASymlink("/small".into()))
    );
    assert!(matches!(
        fs.read("/link-rel", 10),
        Err(FsError::Unsupported(_))
    ));
    let e = BtrfsFs::open_subvolume(source(&img.path), Subvolume::Path("/@/nothing"))
        .err()
        .unwrap();
    assert!(matches!(e, FsError::NotFound(_)), "{e}");
    let e = BtrfsFs::open_subvolume(source(&img.path), Subvolume::Path("/@/home/user"))
        .err()
        .unwrap();
    assert!(e.to_string().contains("not a btrfs subvolume"), "{e}");
    assert!(BtrfsFs::open_subvolume(source(&img.path), Subvolume::Id(99_999)).is_err());
}

/// A byte source that reads `base` with some bytes replaced.
struct Patched {
    base: SharedSource,
    patches: Vec<(u64, Vec<u8>)>,
    len: u64,
}

impl ReadAt for Patched {
    fn size(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> vhdlint_disk::Result<()> {
        vhdlint_disk::source::check_bounds(&|| "patched".into(), offset, buf.len(), self.len)?;
        self.base.read_at(offset, buf)?;
        let end = offset + buf.len() as u64;
        for (at, bytes) in &self.patches {
            for (i, b) in bytes.iter().enumerate() {
                let p = at + i as u64;
                if p >= offset && p < end {
                    buf[(p - offset) as usize] = *b;
                }
            }
        }
        Ok(())
    }
    fn name(&self) -> String {
        "patched image".into()
    }
}

#[test]
fn a_damaged_primary_superblock_is_read_through_its_mirror_and_said() {
    let Some(img) = image("") else { return };
    let src: SharedSource = Arc::new(Patched {
        base: source(&img.path),
        patches: vec![(65536 + 300, vec![0xAA; 8])],
        len: IMG_BYTES,
    });
    let fs = BtrfsFs::open(src.clone()).unwrap();
    let n = fs.notice().expect("a notice");
    assert!(
        n.contains("primary superblock at 64 KiB") && n.contains("64 MiB"),
        "{n}"
    );
    assert!(n.contains("checksum"), "{n}");
    let mut got = BTreeMap::new();
    walk_fs(&fs, "", &mut got);
    compare(&img.root, &got, "through the mirror");
    // All copies gone: corrupt, naming each.
    let src: SharedSource = Arc::new(Patched {
        base: source(&img.path),
        patches: vec![(65536 + 64, vec![0; 8]), ((64 << 20) + 64, vec![0; 8])],
        len: IMG_BYTES,
    });
    let e = BtrfsFs::open(src).err().unwrap();
    assert!(
        matches!(&e, FsError::Corrupt(m) if m.contains("64 KiB") && m.contains("64 MiB")),
        "{e}"
    );
}

#[test]
fn striped_profiles_are_refused_clearly() {
    if let Some(why) = missing() {
        prereq::skip("btrfs RAID0 image", &why);
        return;
    }
    let dir = tmp_dir().join("raid0");
    std::fs::create_dir_all(&dir).unwrap();
    let devs: Vec<PathBuf> = (0..2).map(|i| dir.join(format!("dev{i}.img"))).collect();
    for d in &devs {
        std::fs::File::create(d)
            .unwrap()
            .set_len(256 << 20)
            .unwrap();
    }
    run(
        "mkfs.btrfs",
        &[
            "-q",
            "-d",
            "raid0",
            "-m",
            "raid0",
            devs[0].to_str().unwrap(),
            devs[1].to_str().unwrap(),
        ],
    );
    let e = BtrfsFs::open(source(&devs[0])).err().unwrap();
    assert!(
        matches!(&e, FsError::Unsupported(m) if m.contains("RAID0")),
        "{e}"
    );
}

/// The metadata blocks of an image: the byte ranges a walk reads.
struct Recording {
    base: SharedSource,
    reads: Mutex<Vec<(u64, usize)>>,
}

impl ReadAt for Recording {
    fn size(&self) -> u64 {
        self.base.size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> vhdlint_disk::Result<()> {
        if buf.len() <= 65536 {
            self.reads.lock().unwrap().push((offset, buf.len()));
        }
        self.base.read_at(offset, buf)
    }
    fn name(&self) -> String {
        "recording".into()
    }
}

/// An image and the byte ranges (offset, length) a walk of it reads.
type Ranges = (PathBuf, Vec<(u64, usize)>);

fn metadata_ranges() -> Option<&'static Ranges> {
    static R: OnceLock<Option<Ranges>> = OnceLock::new();
    R.get_or_init(|| {
        let img = image("zstd")?;
        let rec = Arc::new(Recording {
            base: source(&img.path),
            reads: Mutex::default(),
        });
        let fs = BtrfsFs::open(rec.clone()).unwrap();
        let mut got = BTreeMap::new();
        walk_fs(&fs, "", &mut got);
        let mut r = rec.reads.lock().unwrap().clone();
        r.sort();
        r.dedup();
        Some((img.path.clone(), r))
    })
    .as_ref()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Damaged metadata (bytes of the blocks a walk reads, overwritten) never panics or
    /// hangs: every operation ends in a value or an error.
    #[test]
    fn damaged_metadata_never_panics(picks in prop::collection::vec((any::<prop::sample::Index>(), 0usize..65536, any::<u8>()), 1..12)) {
        let Some((path, ranges)) = metadata_ranges() else { return Ok(()) };
        let patches = picks
            .iter()
            .map(|(i, off, b)| {
                let (start, len) = ranges[i.index(ranges.len())];
                (start + (*off % len) as u64, vec![*b])
            })
            .collect();
        let src: SharedSource = Arc::new(Patched { base: source(path), patches, len: IMG_BYTES });
        let t = Instant::now();
        if let Ok(fs) = BtrfsFs::open(src) {
            for p in ["/", "/etc", "/big", "/home", "/home/user/big"] {
                let _ = fs.read_dir(p);
            }
            for p in ["/small", "/text-1m", "/noise-1m", "/sparse", "/falloc", "/etc/hard", "/big/file_with_a_long_name_2999"] {
                let _ = fs.symlink_metadata(p);
                let _ = fs.read(p, 2 << 20);
            }
            let _ = fs.read_link("/link-rel");
        }
        prop_assert!(t.elapsed() < Duration::from_secs(30));
    }
}
