//! Partition tables and signatures against util-linux on the same bytes: disks made at test
//! time by the real tools (mke2fs, mkfs.vfat, mkfs.exfat, mkswap, sfdisk), some patched the way
//! disks go wrong (a table written over a whole-disk filesystem, a hibernation signature where
//! swap keeps its own, 0xEF53 in a FAT's data at ext's magic offset, boot code where the status
//! bytes are), each read by vhdlint's layout and by `blkid -p -o export` (the whole disk's TYPE
//! and PTTYPE, each partition's TYPE), `partx` (libblkid's partition list) and `sfdisk --json`
//! (fdisk's).

#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use vhdlint_disk::layout::{Layout, Scheme};
use vhdlint_disk::probe::{probe, FsKind, Probe};
use vhdlint_disk::{FileSource, SharedSource, Slice};

const MIB: u64 = 1 << 20;

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("{cmd:?} cannot run: {e}"))
}

fn ok(cmd: &mut Command) {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `blkid -p -o export` on `len` bytes at `off` of `img`: its values, and whether it found the
/// result ambivalent (more than one signature).
fn blkid(img: &Path, off: u64, len: u64) -> (BTreeMap<String, String>, bool) {
    let out = run(Command::new("blkid").args([
        "-p",
        "-o",
        "export",
        "-O",
        &off.to_string(),
        "-S",
        &len.to_string(),
        img.to_str().unwrap(),
    ]));
    let vals = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (
        vals,
        String::from_utf8_lossy(&out.stderr).contains("ambivalent"),
    )
}

/// The signatures `wipefs` finds on the whole image (every one libblkid's probers accept).
fn wipefs_types(img: &Path) -> Vec<String> {
    let out = run(Command::new("wipefs").args([
        "--no-act",
        "--noheadings",
        "--output",
        "TYPE",
        img.to_str().unwrap(),
    ]));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .collect()
}

/// libblkid's partition list: (number, start, sectors, type byte).
fn partx(img: &Path) -> Vec<(u64, u64, u64, u8)> {
    let out = run(Command::new("partx").args([
        "--raw",
        "--noheadings",
        "--output",
        "NR,START,SECTORS,TYPE",
        img.to_str().unwrap(),
    ]));
    assert!(
        out.status.success() || out.stdout.is_empty(),
        "partx: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let t = u8::from_str_radix(f[3].trim_start_matches("0x"), 16).unwrap();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                t,
            )
        })
        .collect()
}

/// fdisk's partition list from `sfdisk --json`: (number, start, sectors, type byte).
fn sfdisk(img: &Path) -> Option<Vec<(u64, u64, u64, u8)>> {
    let out = run(Command::new("sfdisk").args(["--json", img.to_str().unwrap()]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let t = &v["partitiontable"];
    (t["label"] == "dos").then(|| {
        t["partitions"]
            .as_array()
            .map_or(&[][..], |a| a.as_slice())
            .iter()
            .map(|p| {
                let node = p["node"].as_str().unwrap();
                let nr = node
                    .rsplit(|c: char| !c.is_ascii_digit())
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                let ty = u8::from_str_radix(p["type"].as_str().unwrap(), 16).unwrap();
                (
                    nr,
                    p["start"].as_u64().unwrap(),
                    p["size"].as_u64().unwrap(),
                    ty,
                )
            })
            .collect()
    })
}

/// blkid's version as (major, minor).
fn blkid_version() -> (u32, u32) {
    let out = run(Command::new("blkid").arg("--version"));
    let s = String::from_utf8_lossy(&out.stdout).to_string();
    let v = s
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap_or("0.0");
    let mut it = v.split('.').map(|n| n.parse().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// A small deterministic generator (xorshift64), so that a failure names a reproducible case.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the whole disk holds before any table is written over it.
#[derive(Debug, Clone, Copy)]
enum Base {
    Zeros,
    Ext4,
    Ext2,
    Jbd,
    Fat(u8),
    Exfat,
    Swap,
    Suspend(&'static str),
}

fn write_at(img: &Path, off: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().write(true).open(img).unwrap();
    f.write_all_at(bytes, off).unwrap();
}

/// Makes `base` on the whole of `img` (`size` bytes). Returns false when its tool is missing.
fn make_base(img: &Path, size: u64, base: Base) -> bool {
    let _ = std::fs::remove_file(img);
    std::fs::File::create(img).unwrap().set_len(size).unwrap();
    let p = img.to_str().unwrap();
    match base {
        Base::Zeros => {}
        Base::Ext4 => ok(Command::new("mke2fs").args(["-q", "-F", "-t", "ext4", p])),
        Base::Ext2 => ok(Command::new("mke2fs").args(["-q", "-F", "-t", "ext2", p])),
        Base::Jbd => ok(Command::new("mke2fs").args(["-q", "-F", "-O", "journal_dev", p])),
        Base::Fat(bits) => ok(Command::new("mkfs.vfat").args(["-F", &bits.to_string(), p])),
        Base::Exfat => {
            if !have("mkfs.exfat") {
                prereq::skip("exFAT disks", "mkfs.exfat (Debian package exfatprogs)");
                return false;
            }
            ok(Command::new("mkfs.exfat").arg(p))
        }
        Base::Swap => ok(Command::new("mkswap").args(["-q", p])),
        Base::Suspend(magic) => {
            ok(Command::new("mkswap").args(["-q", p]));
            let mut m = magic.as_bytes().to_vec();
            m.resize(10, 0);
            write_at(img, 4096 - 10, &m);
        }
    }
    true
}

/// Writes a random MBR with sfdisk over whatever `img` holds (sfdisk keeps the first 440 bytes
/// and, outside an interactive session, every other signature): one to three primary
/// partitions of random types (0x00 among them), sometimes an extended one with logicals.
fn write_table(img: &Path, size: u64, rng: &mut Rng) {
    let sectors = size / 512;
    let dev = img.to_str().unwrap();
    let mut script = String::from("label: dos\n");
    let types = ["83", "82", "0", "7", "c", "ef", "8e"];
    let mut at = 2048;
    let primaries = 1 + rng.below(3);
    for n in 1..=primaries {
        let len = 2048 * (1 + rng.below(4));
        let t = types[rng.below(types.len() as u64) as usize];
        let boot = if rng.below(4) == 0 { ", bootable" } else { "" };
        script += &format!("{dev}{n} : start={at}, size={len}, type={t}{boot}\n");
        at += len;
    }
    if rng.below(2) == 0 && at + 16384 < sectors {
        let ext = primaries + 1;
        script += &format!("{dev}{ext} : start={at}, size={}, type=5\n", sectors - at);
        // Each logical partition after its EBR, 1 MiB apart.
        let mut l = at + 2048;
        for n in 5..5 + 1 + rng.below(3) {
            let len = 2048 * (1 + rng.below(2));
            if l + len > sectors {
                break;
            }
            let t = ["83", "82", "7"][rng.below(3) as usize];
            script += &format!("{dev}{n} : start={l}, size={len}, type={t}\n");
            l += len + 2048;
        }
    }
    let mut child = Command::new("sfdisk")
        .args([
            "-q",
            "--no-reread",
            "--no-tell-kernel",
            img.to_str().unwrap(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sfdisk runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "sfdisk:\n{script}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn name(kind: FsKind) -> &'static str {
    if kind.is_signature() {
        kind.name()
    } else {
        ""
    }
}

/// vhdlint's view of one signature against blkid's at the same place; `what` names the case.
fn same_signature(img: &Path, off: u64, len: u64, probed: &Probe, what: &str) {
    let (theirs, ambivalent) = blkid(img, off, len);
    let ours = name(probed.kind);
    if ambivalent {
        // blkid saw more than one signature and names none: vhdlint's must be one of them,
        // and when it puts a FAT before an ext magic, e2fsprogs must refuse that superblock.
        assert_eq!(off, 0, "{what}: ambivalent inside a partition");
        let all = wipefs_types(img);
        assert!(
            all.iter().any(|t| t == ours),
            "{what}: blkid is ambivalent between {all:?}; vhdlint says {ours:?}"
        );
        if ours == "vfat" && all.iter().any(|t| t.starts_with("ext")) {
            let out = run(Command::new("dumpe2fs").args(["-h", img.to_str().unwrap()]));
            assert!(
                !out.status.success(),
                "{what}: vhdlint reads a FAT where dumpe2fs opens an ext superblock"
            );
        }
        return;
    }
    let t = theirs.get("TYPE").map_or("", String::as_str);
    assert_eq!(ours, t, "{what}: whole TYPE at {off}: blkid {theirs:?}");
    // The UUID fstab's UUID= names, where vhdlint reads one (ext, FAT and exFAT always).
    let uuid = theirs.get("UUID").map(String::as_str);
    if probed.uuid.is_some() || matches!(ours, "ext2" | "ext3" | "ext4" | "vfat" | "exfat") {
        assert_eq!(
            probed.uuid.as_deref(),
            uuid,
            "{what}: UUID at {off}: blkid {theirs:?}"
        );
    }
}

#[test]
fn tables_and_signatures_agree_with_blkid_partx_and_sfdisk() {
    for tool in [
        "blkid",
        "partx",
        "sfdisk",
        "wipefs",
        "mke2fs",
        "dumpe2fs",
        "mkfs.vfat",
        "mkswap",
    ] {
        if !have(tool) {
            prereq::skip(
                "the blkid differential test",
                &format!("{tool} (util-linux, e2fsprogs, dosfstools)"),
            );
            return;
        }
    }
    let dir: PathBuf =
        std::env::temp_dir().join(format!("vhdlint-blkid-differential-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("disk.img");
    // libblkid ignores exFAT boot sectors as MBRs since 2.39 (partitions/dos.c, "ignore exfat
    // superblocks"); an older blkid reports such a sector as an empty dos table.
    let exfat_rule = blkid_version() >= (2, 39);
    let bases = [
        Base::Zeros,
        Base::Ext4,
        Base::Ext2,
        Base::Jbd,
        Base::Fat(12),
        Base::Fat(16),
        Base::Fat(32),
        Base::Exfat,
        Base::Swap,
        Base::Suspend("S1SUSPEND"),
        Base::Suspend("S2SUSPEND"),
        Base::Suspend("ULSUSPEND"),
        Base::Suspend("LINHIB0001"),
    ];
    let mut rng = Rng(0x5eed_b1d1);
    let mut counts = BTreeMap::<&str, usize>::new();
    for (i, base) in bases.iter().enumerate() {
        // 0: the base alone; 1..=3: a table over it; 4: the same with boot code at entry 1's
        // status byte; 5 (FAT only): 0xEF53 in the FAT at ext's magic offset.
        for variant in 0..6 {
            if variant == 5 && !matches!(base, Base::Fat(_)) {
                continue;
            }
            let size = if matches!(base, Base::Fat(32)) {
                48
            } else {
                16
            } * MIB;
            if !make_base(&img, size, *base) {
                break;
            }
            if (1..=4).contains(&variant) {
                write_table(&img, size, &mut rng);
            }
            if variant == 4 {
                write_at(&img, 446, &[0x01 + rng.below(0x7f) as u8]);
            }
            if variant == 5 {
                write_at(&img, 0x438, &[0x53, 0xEF]);
            }
            let what = format!("case {i}.{variant} ({base:?})");
            let src: SharedSource = Arc::new(FileSource::open(&img).unwrap());
            let layout = Layout::read(src.clone());
            let t = &layout.table;
            let (whole, _) = blkid(&img, 0, size);
            let pttype = whole.get("PTTYPE").map(String::as_str);
            // Before 2.39, stand in for its rule: an exFAT boot region exfatprogs finds intact.
            let exfat_sector = !exfat_rule
                && whole.get("TYPE").map(String::as_str) == Some("exfat")
                && run(Command::new("fsck.exfat").args(["-n", img.to_str().unwrap()]))
                    .status
                    .success();
            let want_mbr = pttype == Some("dos") && !exfat_sector;
            assert_eq!(
                t.scheme == Scheme::Mbr,
                want_mbr,
                "{what}: PTTYPE {pttype:?}; vhdlint {:?} ({:?})",
                t.scheme,
                t.not_mbr
            );
            // The whole disk's own signature, whether or not a table is on it. Before 2.39 blkid
            // took any sector named EXFAT for one; vhdlint checks the boot region as 2.39 does.
            let whole_probe = probe(src.as_ref());
            let whole_kind = whole_probe.kind;
            if !exfat_rule && whole.get("TYPE").map(String::as_str) == Some("exfat") {
                assert_eq!(whole_kind == FsKind::Exfat, exfat_sector, "{what}: exFAT");
            } else {
                same_signature(&img, 0, size, &whole_probe, &what);
            }
            *counts
                .entry(if want_mbr { "mbr" } else { "no table" })
                .or_default() += 1;
            if !want_mbr {
                continue;
            }
            let ours: Vec<(u64, u64, u64, u8)> = t
                .partitions
                .iter()
                .map(|p| {
                    let ty = match p.part_type {
                        vhdlint_disk::layout::PartType::Mbr(b) => b,
                        other => panic!("{what}: {other:?} in an MBR"),
                    };
                    (u64::from(p.number), p.start_lba, p.sectors, ty)
                })
                .collect();
            let by_blkid = partx(&img);
            assert_eq!(ours, by_blkid, "{what}: vhdlint vs partx (libblkid)");
            if pttype == Some("dos") {
                assert_eq!(
                    Some(ours.clone()),
                    sfdisk(&img),
                    "{what}: vhdlint vs sfdisk"
                );
            }
            if ours.iter().any(|p| p.3 == 0) {
                *counts.entry("type 0x00 entry with sectors").or_default() += 1;
            }
            if probe(src.as_ref()).kind.is_signature() {
                *counts
                    .entry("table over a whole-disk signature")
                    .or_default() += 1;
            }
            for p in t.partitions.iter().filter(|p| !p.container) {
                let v = layout
                    .volumes
                    .iter()
                    .find(|v| v.id == format!("p{}", p.number))
                    .unwrap();
                let slice = Slice::new(src.clone(), p.start(), p.size(), "partition");
                assert_eq!(probe(&slice).kind, v.probe.kind);
                same_signature(
                    &img,
                    p.start(),
                    p.size().min(src.size() - p.start()),
                    &v.probe,
                    &format!("{what} p{}", p.number),
                );
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    eprintln!("blkid differential: {counts:?}");
    // The cases the test is for were made.
    assert!(
        counts
            .get("type 0x00 entry with sectors")
            .is_some_and(|&n| n > 0),
        "{counts:?}"
    );
    assert!(
        counts
            .get("table over a whole-disk signature")
            .is_some_and(|&n| n > 5),
        "{counts:?}"
    );
    assert!(
        counts.get("no table").is_some_and(|&n| n > 10),
        "{counts:?}"
    );
}
