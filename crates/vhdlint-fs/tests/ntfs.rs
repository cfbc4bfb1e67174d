//! `NtfsFs` against real NTFS volumes made at test time with ntfs-3g, without mounting:
//! `mkntfs` on a sparse file, `ntfscp` for a 5 MiB file, and libntfs-3g through python ctypes
//! (the approach of `fixtures/lib.sh` `mkntfs_at`) for directories, 2,000-entry directories,
//! hard links (an `$ATTRIBUTE_LIST`), a sparse file of ~1,600 runs whose `$DATA` spans several MFT
//! records (another `$ATTRIBUTE_LIST`), an NTFS-compressed file and reparse points (symlink,
//! junction, WOF). An EFS-encrypted file is simulated by setting the flag on a copy.
//!
//! Independent truth: contents against `ntfscat`, listings against `ntfsls`, attribute flags
//! against `ntfsinfo`. A proptest mutates a small real volume (boot sector, MFT records, index
//! records) and walks it: no panic, every call ends.
//!
//! Without the ntfs-3g tools (or python3 with libntfs-3g) every test says SKIP and passes, or
//! fails under `VHDLINT_REQUIRE_PREREQS=1`.

mod common;
#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;
use common::*;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use vhdlint_disk::{FileSource, MemSource, SharedSource};
use vhdlint_fs::ntfs::NtfsFs;
use vhdlint_fs::{FileKind, Filesystem, FsError};

/// Builds the tree in a volume file with libntfs-3g: `python3 - IMAGE [small]`.
const BUILD_PY: &str = r####"
import ctypes, ctypes.util, os, stat, sys, struct
name = ctypes.util.find_library("ntfs-3g") or "libntfs-3g.so.89"
lib = ctypes.CDLL(name, use_errno=True)
vp = ctypes.c_void_p
lib.ntfs_mount.restype = vp; lib.ntfs_mount.argtypes = [ctypes.c_char_p, ctypes.c_ulong]
lib.ntfs_pathname_to_inode.restype = vp
lib.ntfs_pathname_to_inode.argtypes = [vp, vp, ctypes.c_char_p]
lib.ntfs_mbstoucs.restype = ctypes.c_int
lib.ntfs_mbstoucs.argtypes = [ctypes.c_char_p, ctypes.POINTER(vp)]
lib.ntfs_create.restype = vp
lib.ntfs_create.argtypes = [vp, ctypes.c_uint32, vp, ctypes.c_uint8, ctypes.c_uint]
lib.ntfs_link.restype = ctypes.c_int
lib.ntfs_link.argtypes = [vp, vp, vp, ctypes.c_uint8]
lib.ntfs_attr_open.restype = vp
lib.ntfs_attr_open.argtypes = [vp, ctypes.c_uint32, vp, ctypes.c_uint32]
lib.ntfs_attr_pwrite.restype = ctypes.c_int64
lib.ntfs_attr_pwrite.argtypes = [vp, ctypes.c_int64, ctypes.c_int64, ctypes.c_char_p]
lib.ntfs_attr_close.argtypes = [vp]
lib.ntfs_set_ntfs_reparse_data.restype = ctypes.c_int
lib.ntfs_set_ntfs_reparse_data.argtypes = [vp, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
lib.ntfs_set_ntfs_attrib.restype = ctypes.c_int
lib.ntfs_set_ntfs_attrib.argtypes = [vp, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
lib.ntfs_inode_close.argtypes = [vp]
lib.ntfs_umount.argtypes = [vp, ctypes.c_int]
AT_UNNAMED = ctypes.addressof(ctypes.c_uint16.in_dll(lib, "AT_UNNAMED"))
AT_DATA = 0x80

SMALL = len(sys.argv) > 2 and sys.argv[2] == "small"
vol = lib.ntfs_mount(sys.argv[1].encode(), 0)
if not vol:
    sys.exit("ntfs_mount failed: errno %d" % ctypes.get_errno())

def uc(s):
    u = vp(); n = lib.ntfs_mbstoucs(s.encode(), ctypes.byref(u))
    if n <= 0: sys.exit("bad name %r" % s)
    return u, n

def inode(path):
    ni = lib.ntfs_pathname_to_inode(vol, None, path.encode())
    if not ni: sys.exit("not found: %s" % path)
    return ni

def create(path, mode):
    parent, base = os.path.split(path)
    dni = inode(parent or "/")
    u, n = uc(base)
    ni = lib.ntfs_create(dni, 0, u, n, mode)
    if not ni: sys.exit("ntfs_create %s failed: errno %d" % (path, ctypes.get_errno()))
    lib.ntfs_inode_close(dni)
    return ni

def write(ni, data, chunk=1 << 20):
    na = lib.ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0)
    if not na: sys.exit("attr_open failed")
    pos = 0
    while pos < len(data):
        part = data[pos:pos + chunk]
        w = lib.ntfs_attr_pwrite(na, pos, len(part), part)
        if w != len(part): raise Exception("pwrite failed %d errno %d at %d" % (w, ctypes.get_errno(), pos))
        pos += len(part)
    lib.ntfs_attr_close(na)

def pattern(seed, n):
    out = bytearray(); x = seed
    while len(out) < n:
        x = (x * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        out += struct.pack("<Q", x)
    return bytes(out[:n])

def mkfile(path, data):
    ni = create(path, stat.S_IFREG); write(ni, data); lib.ntfs_inode_close(ni)

def mkdir(path):
    lib.ntfs_inode_close(create(path, stat.S_IFDIR))

def reparse(ni, tag, body):
    buf = struct.pack("<IHH", tag, len(body), 0) + body
    if lib.ntfs_set_ntfs_reparse_data(ni, buf, len(buf), 0) != 0:
        sys.exit("set reparse failed errno %d" % ctypes.get_errno())

def link_body(tag, sub, prt, flags):
    s = sub.encode("utf-16-le"); p = prt.encode("utf-16-le")
    hdr = struct.pack("<HHHH", 0, len(s), len(s), len(p))
    if tag == 0xA000000C: hdr += struct.pack("<I", flags)
    return hdr + s + p

for d in ["/Windows", "/Windows/System32", "/Windows/System32/config", "/System Volume Information", "/many", "/links", "/Program Files"]:
    mkdir(d)
mkfile("/tiny.txt", b"hello ntfs\n" * 9)
mkfile("/Windows/System32/config/SYSTEM", pattern(7, 40000 if SMALL else 300000))
for i in range(150 if SMALL else 2000):
    mkfile("/many/file-%04d.txt" % i, ("entry %d\n" % i).encode())
# hard links with long names: FILE_NAME attributes overflow the base record
t = create("/links/target.txt", stat.S_IFREG); write(t, b"linked\n" * 10)
dl = inode("/links")
for i in range(6 if SMALL else 40):
    u, n = uc("hard-link-%03d-" % i + "x" * 200)
    if lib.ntfs_link(t, dl, u, n) != 0: sys.exit("ntfs_link failed errno %d" % ctypes.get_errno())
lib.ntfs_inode_close(dl); lib.ntfs_inode_close(t)
# compressed
# ntfs_volume.state (after the device pointer and vol_name) gets NV_Compression (bit 6), as the
# FUSE driver's "compression" option sets it; the test checks with ntfsinfo that it worked
state = ctypes.c_ulong.from_address(vol + 16)
state.value |= 1 << 6
mkdir("/cdir")
cd = inode("/cdir")
if lib.ntfs_set_ntfs_attrib(cd, struct.pack("<I", 0x800), 4, 0) != 0: sys.exit("set attrib errno %d" % ctypes.get_errno())
lib.ntfs_inode_close(cd)
c = create("/cdir/compressed.txt", stat.S_IFREG)
if lib.ntfs_set_ntfs_attrib(c, struct.pack("<I", 0x800), 4, 0) != 0: sys.exit("set attrib errno %d" % ctypes.get_errno())
write(c, b"compress me please " * (500 if SMALL else 5000)); lib.ntfs_inode_close(c)
# reparse points
s = create("/sys-link", stat.S_IFREG)
reparse(s, 0xA000000C, link_body(0xA000000C, "\\??\\C:\\Windows\\System32\\config\\SYSTEM", "C:\\Windows\\System32\\config\\SYSTEM", 0))
lib.ntfs_inode_close(s)
s = create("/rel-link", stat.S_IFREG)
reparse(s, 0xA000000C, link_body(0xA000000C, "Windows\\System32", "Windows\\System32", 1))
lib.ntfs_inode_close(s)
j = create("/Documents and Settings", stat.S_IFDIR)
reparse(j, 0xA0000003, link_body(0xA0000003, "\\??\\C:\\Users", "C:\\Users", 0))
lib.ntfs_inode_close(j)
w = create("/Windows/System32/wof.dll", stat.S_IFREG)
write(w, b"")
reparse(w, 0x80000017, struct.pack("<IIII", 1, 1, 1, 0))
lib.ntfs_inode_close(w)
# a sparse file written every other 4 KiB: ~1,600 runs, so its $DATA spans several MFT
# records tied together by an $ATTRIBUTE_LIST
ni = create("/sparse.bin", stat.S_IFREG)
na = lib.ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0)
for i in range(200 if SMALL else 800):
    if lib.ntfs_attr_pwrite(na, i * 8192, 4096, pattern(1000 + i, 4096)) != 4096:
        sys.exit("sparse pwrite failed errno %d" % ctypes.get_errno())
lib.ntfs_attr_close(na); lib.ntfs_inode_close(ni)
if lib.ntfs_umount(vol, 0) != 0:
    sys.exit("ntfs_umount failed")
"####;

const BIG_LEN: usize = 5 << 20;

struct Tools {
    mkntfs: PathBuf,
    ntfscp: PathBuf,
    ntfscat: PathBuf,
    ntfsls: PathBuf,
    ntfsinfo: PathBuf,
}

/// The ntfs-3g tools, or what is missing: a tool, or python3 able to load libntfs-3g.
fn tools() -> Result<&'static Tools, &'static str> {
    static TOOLS: OnceLock<Result<Tools, String>> = OnceLock::new();
    TOOLS
        .get_or_init(|| {
            let names = ["mkntfs", "ntfscp", "ntfscat", "ntfsls", "ntfsinfo"];
            let missing: Vec<&str> = names
                .into_iter()
                .filter(|t| find_tool(t).is_none())
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "{} not found (Debian: ntfs-3g)",
                    missing.join(", ")
                ));
            }
            let found = |name| find_tool(name).unwrap();
            let t = Tools {
                mkntfs: found("mkntfs"),
                ntfscp: found("ntfscp"),
                ntfscat: found("ntfscat"),
                ntfsls: found("ntfsls"),
                ntfsinfo: found("ntfsinfo"),
            };
            let py = Command::new("python3")
                .args([
                    "-c",
                    "import ctypes, ctypes.util; \
                     ctypes.CDLL(ctypes.util.find_library('ntfs-3g') or 'libntfs-3g.so.89')",
                ])
                .output()
                .map_err(|e| format!("python3 cannot run: {e}"))?;
            if !py.status.success() {
                return Err(format!(
                    "python3 cannot load libntfs-3g (Debian: python3 ntfs-3g): {}",
                    String::from_utf8_lossy(&py.stderr).trim()
                ));
            }
            Ok(t)
        })
        .as_ref()
        .map_err(String::as_str)
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().expect("run tool");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Makes a volume of `size` bytes at `img` holding the tree (`small`: the proptest's).
fn make_volume(dir: &Path, img: &Path, size: u64, label: &str, small: bool) {
    let t = tools().expect("tools");
    let f = std::fs::File::create(img).unwrap();
    f.set_len(size).unwrap();
    drop(f);
    run(Command::new(&t.mkntfs)
        .args([
            "-F", "-Q", "-q", "-s", "512", "-p", "0", "-H", "0", "-S", "0", "-L", label,
        ])
        .arg(img));
    if !small {
        let big = dir.join("big.bin");
        std::fs::write(&big, noise(BIG_LEN, 0x1234_5678_9abc_def1)).unwrap();
        run(Command::new(&t.ntfscp)
            .arg("-f")
            .arg(img)
            .arg(&big)
            .arg("/big.bin"));
        let tiny = dir.join("cp-tiny");
        std::fs::write(&tiny, b"copied by ntfscp\n").unwrap();
        run(Command::new(&t.ntfscp)
            .arg("-f")
            .arg(img)
            .arg(&tiny)
            .arg("/CopyTiny.TXT"));
    }
    let mut child = Command::new("python3")
        .arg("-")
        .arg(img)
        .arg(if small { "small" } else { "full" })
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(BUILD_PY.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "building the NTFS tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Fixture {
    img: PathBuf,
    fs: NtfsFs,
    small: Vec<u8>,
}

/// The volumes, built on first use; `None` without the tools, after `prereq::skip` has said
/// so (or failed the test, under `VHDLINT_REQUIRE_PREREQS=1`).
fn fixture() -> Option<&'static Fixture> {
    static FIX: OnceLock<Option<Fixture>> = OnceLock::new();
    let f = FIX.get_or_init(|| tools().ok().map(|_| build())).as_ref();
    if f.is_none() {
        prereq::skip("the NTFS tests", tools().err().unwrap_or_default());
    }
    f
}

fn build() -> Fixture {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    for e in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("ntfs-") {
            if !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = tmp.join(format!("ntfs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("vol.img");
    make_volume(&dir, &img, 64 << 20, "TestVol", false);
    let small_img = dir.join("small.img");
    make_volume(&dir, &small_img, 8 << 20, "Small", true);
    let small = std::fs::read(&small_img).unwrap();
    let src: SharedSource = Arc::new(FileSource::open(&img).unwrap());
    let fs = NtfsFs::open(src).expect("open NTFS");
    Fixture { img, fs, small }
}

fn ntfscat(img: &Path, path: &str) -> Vec<u8> {
    run(Command::new(&tools().unwrap().ntfscat).arg(img).arg(path))
}

/// Names in `path` according to `ntfsls -F` (directories end in `/`).
fn ntfsls(img: &Path, path: &str) -> BTreeSet<String> {
    let out = run(Command::new(&tools().unwrap().ntfsls)
        .args(["-F", "-p", path])
        .arg(img));
    String::from_utf8(out)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !matches!(*l, "./" | "../"))
        .map(str::to_string)
        .collect()
}

fn ntfsinfo(img: &Path, path: &str) -> String {
    let out = run(Command::new(&tools().unwrap().ntfsinfo)
        .args(["-F", path])
        .arg(img));
    String::from_utf8_lossy(&out).into_owned()
}

const FILES: &[&str] = &[
    "/tiny.txt",
    "/CopyTiny.TXT",
    "/big.bin",
    "/Windows/System32/config/SYSTEM",
    "/sparse.bin",
    "/links/target.txt",
    "/many/file-0000.txt",
    "/many/file-1999.txt",
];

#[test]
fn contents_match_ntfscat() {
    let Some(f) = fixture() else { return };
    for path in FILES {
        let want = ntfscat(&f.img, path);
        let got =
            f.fs.read(path, u64::MAX)
                .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(got.len(), want.len(), "{path}: length");
        assert!(got == want, "{path}: contents differ from ntfscat");
        let head = f.fs.read(path, 1000).unwrap();
        assert_eq!(
            head,
            want[..want.len().min(1000)],
            "{path}: first 1000 bytes"
        );
        let m = f.fs.symlink_metadata(path).unwrap();
        assert_eq!(
            (m.kind, m.len),
            (FileKind::File, want.len() as u64),
            "{path}"
        );
        assert_eq!((m.mode, m.uid, m.gid), (0o644, 0, 0), "{path}");
    }
    // ntfscp copied the host bytes.
    let big = f.fs.read("/big.bin", u64::MAX).unwrap();
    assert!(big == noise(BIG_LEN, 0x1234_5678_9abc_def1));
    assert_eq!(f.fs.read("/big.bin", 0).unwrap(), b"");
}

#[test]
fn structures_are_the_intended_ones() {
    let Some(f) = fixture() else { return };
    // The sparse file's $DATA (~1,600 runs) is spread over several MFT records.
    let sparse = ntfsinfo(&f.img, "/sparse.bin");
    assert!(
        sparse.contains("$ATTRIBUTE_LIST"),
        "sparse.bin has no attribute list"
    );
    let data_records: BTreeSet<&str> = sparse
        .lines()
        .filter(|l| l.starts_with("Dumping attribute $DATA"))
        .collect();
    assert!(
        data_records.len() > 1,
        "sparse.bin's $DATA is in one record"
    );
    assert!(
        sparse.contains("Attribute flags:\t 0x8000"),
        "sparse.bin is not sparse"
    );
    let links = ntfsinfo(&f.img, "/links/target.txt");
    assert!(
        links.contains("$ATTRIBUTE_LIST"),
        "hard links made no attribute list"
    );
    let data = f.fs.read("/sparse.bin", u64::MAX).unwrap();
    assert_eq!(data.len(), 799 * 8192 + 4096);
    assert!(
        data[4096..8192].iter().all(|&b| b == 0),
        "a hole reads as zeros"
    );
    assert_eq!(f.fs.read("/sparse.bin", 9000).unwrap(), data[..9000]);
}

#[test]
fn listings_match_ntfsls() {
    let Some(f) = fixture() else { return };
    for dir in [
        "/",
        "/many",
        "/links",
        "/Windows",
        "/Windows/System32",
        "/Windows/System32/config",
        "/cdir",
    ] {
        let want = ntfsls(&f.img, dir);
        let entries = f.fs.read_dir(dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
        let got: BTreeSet<String> = entries
            .iter()
            .map(|e| match e.kind {
                FileKind::Dir => format!("{}/", e.name),
                _ => e.name.clone(),
            })
            .collect();
        assert_eq!(got.len(), entries.len(), "{dir}: duplicate names");
        // ntfs-3g lists a junction as a plain entry; we list it as a symlink.
        assert_eq!(got, want, "{dir}");
    }
    assert_eq!(f.fs.read_dir("/many").unwrap().len(), 2000);
    assert_eq!(f.fs.read_dir("/links").unwrap().len(), 41);
    let root = f.fs.read_dir("/").unwrap();
    assert!(root.iter().any(|e| e.name == "System Volume Information"));
    assert!(!root
        .iter()
        .any(|e| e.name.starts_with('$') || e.name == "."));
}

#[test]
fn case_insensitive_lookups() {
    let Some(f) = fixture() else { return };
    let want = ntfscat(&f.img, "/Windows/System32/config/SYSTEM");
    for p in [
        "/windows/system32/CONFIG/system",
        "/WINDOWS/SYSTEM32/CONFIG/SYSTEM",
        "/Windows/system32/Config/System",
    ] {
        assert!(f.fs.read(p, u64::MAX).unwrap() == want, "{p}");
        assert_eq!(f.fs.symlink_metadata(p).unwrap().len, want.len() as u64);
    }
    assert_eq!(
        f.fs.read("/copytiny.txt", 100).unwrap(),
        b"copied by ntfscp\n"
    );
    assert_eq!(
        f.fs.symlink_metadata("/WINDOWS").unwrap().kind,
        FileKind::Dir
    );
    assert_eq!(f.fs.symlink_metadata("/windows").unwrap().mode, 0o755);
    assert!(f.fs.read_dir("/many/FILE-0042.TXT").is_err());
    assert!(matches!(
        f.fs.read_dir("/MANY/file-0042.txt"),
        Err(FsError::NotADirectory(_))
    ));
    assert!(matches!(
        f.fs.symlink_metadata("/nope"),
        Err(FsError::NotFound(_))
    ));
    assert!(matches!(
        f.fs.symlink_metadata("/tiny.txt/x"),
        Err(FsError::NotADirectory(_))
    ));
    assert!(matches!(
        f.fs.read("/Windows", 10),
        Err(FsError::IsADirectory(_))
    ));
    assert_eq!(f.fs.symlink_metadata("/").unwrap().kind, FileKind::Dir);
}

#[test]
fn unsupported_and_reparse_points() {
    let Some(f) = fixture() else { return };
    let info = ntfsinfo(&f.img, "/cdir/compressed.txt");
    if info.contains("Attribute flags:\t 0x0001") {
        match f.fs.read("/cdir/compressed.txt", u64::MAX) {
            Err(FsError::Unsupported(m)) => assert!(m.contains("NTFS-compressed"), "{m}"),
            other => panic!("compressed file: {other:?}"),
        }
        // The file is a real compressed file: ntfs-3g decompresses it.
        assert!(ntfscat(&f.img, "/cdir/compressed.txt").starts_with(b"compress me please"));
    } else {
        prereq::skip(
            "the NTFS-compressed file",
            "libntfs-3g wrote /cdir/compressed.txt uncompressed",
        );
    }
    let m = f.fs.symlink_metadata("/sys-link").unwrap();
    assert_eq!(m.kind, FileKind::Symlink);
    assert_eq!(
        f.fs.read_link("/SYS-LINK").unwrap(),
        "/Windows/System32/config/SYSTEM"
    );
    assert_eq!(m.len, "/Windows/System32/config/SYSTEM".len() as u64);
    assert_eq!(f.fs.read_link("/rel-link").unwrap(), "Windows/System32");
    let j = f.fs.symlink_metadata("/Documents and Settings").unwrap();
    assert_eq!(j.kind, FileKind::Symlink);
    assert_eq!(f.fs.read_link("/Documents and Settings").unwrap(), "/Users");
    assert!(matches!(
        f.fs.read_dir("/Documents and Settings"),
        Err(FsError::NotADirectory(_))
    ));
    assert!(matches!(
        f.fs.read_link("/tiny.txt"),
        Err(FsError::NotASymlink(_))
    ));
    match f.fs.read("/Windows/System32/WOF.dll", 100) {
        Err(FsError::Unsupported(m)) => assert!(m.contains("WOF-compressed (CompactOS)"), "{m}"),
        other => panic!("WOF file: {other:?}"),
    }
    assert_eq!(
        f.fs.symlink_metadata("/Windows/System32/wof.dll")
            .unwrap()
            .kind,
        FileKind::File
    );
    let root = f.fs.read_dir("/").unwrap();
    let kind = |n: &str| root.iter().find(|e| e.name == n).map(|e| e.kind);
    assert_eq!(kind("sys-link"), Some(FileKind::Symlink));
    assert_eq!(kind("Documents and Settings"), Some(FileKind::Symlink));
    assert_eq!(kind("Windows"), Some(FileKind::Dir));
    assert_eq!(kind("tiny.txt"), Some(FileKind::File));
}

/// Finds the MFT record of `name` (an in-use record naming it) by scanning the image.
fn find_record(img: &[u8], name: &str) -> usize {
    let needle: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    (0..img.len() / 1024)
        .map(|i| i * 1024)
        .find(|&o| {
            let r = &img[o..o + 1024];
            r.starts_with(b"FILE")
                && r[0x16] & 1 != 0
                && r.windows(needle.len()).any(|w| w == needle)
        })
        .expect("record found")
}

/// Sets `flags` on the unnamed $DATA attribute of the record at `rec`.
fn set_data_flags(img: &mut [u8], rec: usize, flags: u16) {
    let mut off = rec + u16::from_le_bytes([img[rec + 0x14], img[rec + 0x15]]) as usize;
    loop {
        let ty = u32::from_le_bytes(img[off..off + 4].try_into().unwrap());
        assert_ne!(ty, 0xFFFF_FFFF, "no $DATA");
        let len = u32::from_le_bytes(img[off + 4..off + 8].try_into().unwrap()) as usize;
        if ty == 0x80 && img[off + 9] == 0 {
            let at = off + 12;
            assert!(at % 512 < 510, "flags under a fixup");
            let old = u16::from_le_bytes([img[at], img[at + 1]]);
            img[at..at + 2].copy_from_slice(&(old | flags).to_le_bytes());
            return;
        }
        off += len;
    }
}

#[test]
fn encrypted_is_unsupported() {
    let Some(f) = fixture() else { return };
    let mut img = std::fs::read(&f.img).unwrap();
    let rec = find_record(&img, "CopyTiny.TXT");
    set_data_flags(&mut img, rec, 0x4000);
    let fs = NtfsFs::open(Arc::new(MemSource::new(img))).unwrap();
    match fs.read("/CopyTiny.TXT", 100) {
        Err(FsError::Unsupported(m)) => assert!(m.contains("NTFS-encrypted"), "{m}"),
        other => panic!("encrypted file: {other:?}"),
    }
    assert_eq!(fs.read("/tiny.txt", 5).unwrap(), b"hello");
}

#[test]
fn volume_fields() {
    let Some(f) = fixture() else { return };
    assert_eq!(f.fs.label().as_deref(), Some("TestVol"));
    assert_eq!(f.fs.volume_flags_dirty(), Some(false));
    assert_eq!(f.fs.kind(), "ntfs");
    let mut img = f.small.clone();
    img[3] = b'X';
    assert!(NtfsFs::open(Arc::new(MemSource::new(img))).is_err());
    assert!(NtfsFs::open(Arc::new(MemSource::new(vec![0; 4096]))).is_err());
}

/// Inputs on which the `ntfs` crate itself would index out of bounds: our pre-checks must turn
/// them into errors.
#[test]
fn crate_panics_are_prevented() {
    let Some(f) = fixture() else { return };
    // A non-resident attribute of 16 bytes at the very end of an MFT record (the crate reads
    // its data size 48 bytes in).
    let mut img = f.small.clone();
    let rec = find_record(&img, "tiny.txt");
    let first = u16::from_le_bytes([img[rec + 0x14], img[rec + 0x15]]) as usize;
    img[rec + first + 4..rec + first + 8].copy_from_slice(&(1008 - first as u32).to_le_bytes());
    let at = rec + 1008;
    img[at..at + 14].copy_from_slice(&[0x80, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    let fs = NtfsFs::open(Arc::new(MemSource::new(img))).unwrap();
    match fs.read("/tiny.txt", 100) {
        Err(FsError::Corrupt(m)) => assert!(m.contains("shorter than its header"), "{m}"),
        other => panic!("short attribute: {other:?}"),
    }
    // An index entry of 8 bytes in every index record (the crate slices it to 8 bytes and
    // reads its flags at byte 12).
    let mut img = f.small.clone();
    let mut patched = 0;
    for o in (0..img.len()).step_by(4096) {
        if img[o..].starts_with(b"INDX") {
            let e =
                o + 0x18 + u32::from_le_bytes(img[o + 0x18..o + 0x1c].try_into().unwrap()) as usize;
            img[e + 8..e + 10].copy_from_slice(&8u16.to_le_bytes());
            patched += 1;
        }
    }
    assert!(patched > 0, "no index record in the small volume");
    if let Ok(fs) = NtfsFs::open(Arc::new(MemSource::new(img))) {
        match fs.read_dir("/many") {
            Err(FsError::Corrupt(m)) => assert!(m.contains("index entry"), "{m}"),
            other => panic!("short index entry: {other:?}"),
        }
        walk(&fs);
    }
}

/// Reads everything reachable, bounded; returns how many calls were made.
fn walk(fs: &NtfsFs) -> usize {
    let mut calls = 0;
    let mut todo = vec!["/".to_string()];
    let _ = fs.label();
    while let Some(dir) = todo.pop() {
        calls += 1;
        let Ok(entries) = fs.read_dir(&dir) else {
            continue;
        };
        for e in entries.into_iter().take(300) {
            if e.name.contains('/') || e.name.is_empty() {
                continue;
            }
            let p = format!("{}/{}", dir.trim_end_matches('/'), e.name);
            calls += 1;
            let _ = fs.symlink_metadata(&p);
            let _ = fs.symlink_metadata(&p.to_uppercase());
            match e.kind {
                FileKind::Dir if todo.len() < 50 && p.len() < 200 => todo.push(p),
                FileKind::Symlink => {
                    let _ = fs.read_link(&p);
                }
                _ => {
                    if let Ok(d) = fs.read(&p, 1 << 20) {
                        assert!(d.len() <= 1 << 20);
                    }
                }
            }
        }
    }
    calls
}

#[test]
fn small_volume_walks() {
    let Some(f) = fixture() else { return };
    let fs = NtfsFs::open(Arc::new(MemSource::new(f.small.clone()))).unwrap();
    assert!(walk(&fs) > 150);
    assert_eq!(fs.read_dir("/many").unwrap().len(), 150);
}

/// Byte ranges worth mutating: the boot sector, the first MFT records, index records.
fn hot_ranges(img: &[u8]) -> Vec<(usize, usize)> {
    let mut r = vec![(0, 512)];
    let cluster = u64::from(u16::from_le_bytes([img[11], img[12]])) * u64::from(img[13]);
    let mft = u64::from_le_bytes(img[0x30..0x38].try_into().unwrap()) * cluster;
    let mft = mft as usize;
    r.push((mft, (mft + 64 * 1024).min(img.len())));
    for o in (0..img.len()).step_by(512) {
        if img[o..].starts_with(b"INDX") || img[o..].starts_with(b"FILE") {
            r.push((o, (o + 4096).min(img.len())));
        }
    }
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// The cases of `mutated_volumes_do_not_panic`.
    fn mutated_volumes_cases(
        muts in prop::collection::vec((any::<prop::sample::Index>(), any::<u16>(), any::<u8>()), 1..24)
    ) {
        let f = fixture().expect("the volumes, checked by the test");
        static RANGES: OnceLock<Vec<(usize, usize)>> = OnceLock::new();
        let ranges = RANGES.get_or_init(|| hot_ranges(&f.small));
        let mut img = f.small.clone();
        for (which, off, val) in muts {
            let (a, b) = ranges[which.index(ranges.len())];
            let at = a + usize::from(off) % (b - a);
            img[at] = val;
        }
        if let Ok(fs) = NtfsFs::open(Arc::new(MemSource::new(img))) {
            walk(&fs);
            let _ = fs.volume_flags_dirty();
        }
    }
}

/// Random byte changes to the small volume's boot sector, MFT and index records (see
/// `hot_ranges`): opening it and walking its tree never panic.
#[test]
fn mutated_volumes_do_not_panic() {
    if fixture().is_none() {
        return;
    }
    mutated_volumes_cases();
}
